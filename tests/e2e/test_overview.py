"""The overview as a person sees it: full of data (long names and messages) at 1440x900 and
390x844, with no sideways scroll, no CSP refusal and every link going to its filtered list."""

import datetime as dt

import pytest
from django.utils import timezone

from jobs import deletions
from jobs.models import SyncRun
from jobs.sync.apply import count_statuses
from jobs.sync.kinds import KINDS
from tests.jobs.views.factories import make_import_job, make_job, make_jobs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def busy(admin_user, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    make_jobs(12, status="Completed")
    make_job(status="InProgress", name="nightly-regression-eval-with-a-very-long-name-2026")
    make_job(status="Stopping", name="stop-me")
    make_job(
        status="Failed",
        name="a" * 63,
        description={"failureMessages": ["AccessDenied: s3://" + "very-long-bucket-" * 8]},
    )
    make_import_job(status="Failed", name="llama-import", description={"failureMessage": "x" * 300})
    make_import_job(status="InProgress", name="mistral-import")
    now = timezone.now()
    for kind in ("evaluation_jobs", "import_jobs"):
        count_statuses(KINDS[kind])
    for kind, error in (
        ("evaluation_jobs", ""),
        ("import_jobs", ""),
        ("imported_models", "x" * 200),
    ):
        SyncRun.objects.create(
            kind=kind,
            started_at=now - dt.timedelta(minutes=3),
            finished_at=now,
            seen=14,
            error=error,
        )
    deletions.deletion_batch_create(
        selection=deletions.Selection(ids=frozenset(j.resource_id for j in make_jobs(3))),
        user=admin_user,
        idempotency_key="e" * 32,
    )


@pytest.mark.parametrize("width,height", [(1440, 900), (390, 844)])
def test_the_overview_fits_and_links_to_filtered_lists(
    browser, live_server, admin_user, login, busy, shot, width, height
):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, admin_user, "pw-ada-admin")
    assert page.locator("#overview-evaluation_jobs .overview-total").inner_text().startswith("15")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shot(page, f"overview-{width}")
    page.click("#overview-evaluation_jobs a.badge[data-status=Failed]")
    page.wait_for_url(f"{live_server.url}/evaluation-jobs/?status=Failed")
    assert page.locator("text=" + "a" * 63).first.is_visible()
    context.close()
    assert errors == []
