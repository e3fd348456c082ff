"""Bulk deletion in a real browser with a real worker: filter to Failed jobs, select every
matching job across pages, confirm, and watch the progress page reach 100%; and the same
selection without JavaScript. Under the strict CSP (any console error fails the test).

Set SCREENSHOT_DIR to keep screenshots of the list, confirmation and progress pages.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from jobs import sync
from jobs.models import DeletionBatch, EvaluationJob
from tests.e2e.screens import shot

pytest_plugins = ["tests.worker"]
pytestmark = pytest.mark.django_db(transaction=True)

FAILED = 60


@pytest.fixture
def mirrored(local_bedrock):
    """90 jobs in Bedrock: 60 Failed, 20 Completed, 10 running; mirrored by one sweep."""
    local_bedrock.seed(90, random_seed=5)
    arns = sorted(local_bedrock.store.evaluation_jobs)
    for i, arn in enumerate(arns):
        status = "Failed" if i < FAILED else "Completed" if i < 80 else "InProgress"
        local_bedrock.force_status(arn, status)
    sync.evaluation_jobs_sync(raise_errors=True)
    return local_bedrock


def checked_rows(page):
    return page.locator("#job-table tbody input[name=job]:checked")


def test_select_all_failed_jobs_across_pages_confirm_and_watch_them_go(
    page, live_server, admin_user, login, mirrored, private_redis, celery_node, settings
):
    settings.CELERY_BROKER_URL = private_redis.url
    # Paced, so there is progress to watch; started first, as it takes a moment to boot.
    celery_node("worker", DELETION_CALLS_PER_SECOND="1")

    login(page, admin_user, "pw-ada-admin")
    page.goto(f"{live_server.url}/evaluation-jobs/?size=25")
    running = page.locator("#job-table tbody tr.running input[type=checkbox]").first
    expect(running).to_be_disabled()
    assert "cannot be deleted" in running.locator("xpath=..").get_attribute("title")

    page.click("#job-filters label.check:has(input[value='Failed'])")
    page.wait_for_url(f"{live_server.url}/evaluation-jobs/?status=Failed&size=25")
    select_all = page.locator("#selection-bar button[value=all]")
    expect(select_all).to_have_text(f"Select all {FAILED} matching jobs")
    shot(page, "bulk-delete-list")
    select_all.click()
    expect(checked_rows(page)).to_have_count(25)
    expect(page.locator("#selection-bar")).to_contain_text(
        f"{FAILED} selected: all deletable jobs matching status Failed"
    )
    assert page.url == f"{live_server.url}/evaluation-jobs/?status=Failed&size=25"

    # The selection is the filter's: the next pages are ticked too.
    page.click("#job-table a[rel=next]")
    page.wait_for_url(re.compile(r"page="))
    expect(checked_rows(page)).to_have_count(25)
    page.click("#job-table a[rel=next]")
    expect(checked_rows(page)).to_have_count(FAILED - 50)
    # Untick one and tick it again: each tick is posted as it happens.
    box = checked_rows(page).first
    box.uncheck()
    expect(page.locator("#selection-bar")).to_contain_text("except 1 unticked")
    page.locator("#job-table tbody input[name=job]:not(:checked)").first.check()
    expect(page.locator("#selection-bar")).to_contain_text(f"{FAILED} selected")
    expect(page.locator("#selection-bar")).not_to_contain_text("unticked")
    shot(page, "bulk-delete-list-selected")

    page.click("#selection-bar button[value=review]")
    page.wait_for_url(f"{live_server.url}/deletions/evaluation/confirm/")
    expect(page.locator("h1")).to_have_text(f"Delete {FAILED} evaluation jobs?")
    expect(page.locator("main")).to_contain_text("Results in S3 are not deleted.")
    assert page.locator("table.counts tbody tr").count() == 1  # all Failed
    shot(page, "bulk-delete-confirm")
    assert DeletionBatch.objects.count() == 0
    page.click("form.confirm-form button[type=submit]")

    page.wait_for_url(re.compile(r"/deletions/\d+/$"))
    batch = DeletionBatch.objects.get()
    assert page.url.endswith(f"/deletions/{batch.pk}/")
    expect(page.locator("#batch-live tbody tr")).to_have_count(FAILED)
    shot(page, "bulk-delete-progress-running")
    marker = page.evaluate("window.__same_document = Math.random()")
    expect(page.locator("#batch-live .progress-text")).to_contain_text("100%", timeout=45_000)
    expect(page.locator("#batch-live .badge[data-state]")).to_have_text("Finished")
    progress = page.locator("#batch-progress")
    assert progress.get_attribute("value") == progress.get_attribute("max") == str(FAILED)
    expect(page.locator("#batch-live tbody .outcome[data-outcome=deleted]")).to_have_count(FAILED)
    expect(page.locator("#batch-live [data-outcome=deleted] dd")).to_have_text(str(FAILED))
    assert page.evaluate("window.__same_document") == marker  # htmx did it, no reload
    shot(page, "bulk-delete-progress-done")
    # Polling stopped with the batch.
    assert page.locator("#batch-live").get_attribute("hx-trigger") is None

    assert set(
        EvaluationJob.objects.filter(status="Deleting").values_list("name", flat=True)
    ) == set(batch.items.values_list("name", flat=True))
    page.click("nav.nav >> text=Deletions")
    expect(page.locator("table.batches tbody tr")).to_have_count(1)
    expect(page.locator("table.batches")).to_contain_text("ada-admin")


def test_without_javascript_ticks_survive_paging_and_reach_the_confirmation(
    browser, live_server, admin_user, mirrored
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "pw-ada-admin")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/evaluation-jobs/?status=Failed&size=25")
    boxes = page.locator("#job-table tbody input[name=job]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("#selection-bar button[value=save]")  # "Remember the ticks on this page"
    page.click("#job-table a[rel=next]")
    page.locator("#job-table tbody input[name=job]").nth(0).check()
    page.click("#selection-bar button[value=review]")
    assert page.url == f"{live_server.url}/deletions/evaluation/confirm/"
    assert page.locator("h1").inner_text() == "Delete 3 evaluation jobs?"
    context.close()


@pytest.mark.parametrize("width, height", [(1440, 900), (390, 844)])
def test_a_batch_no_worker_picked_up_says_so_on_its_page(
    page, login, live_server, admin_user, width, height, settings
):
    """No worker runs here: the page says for how long nobody has picked the batch up."""
    import datetime as dt
    import uuid

    from django.utils import timezone

    from jobs import deletions
    from tests.conftest import free_port
    from tests.jobs.views.factories import make_job

    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # nobody listens
    job = make_job(status="Failed")
    batch, _ = deletions.deletion_batch_create(
        selection=deletions.Selection(ids=frozenset([job.resource_id])),
        user=admin_user,
        idempotency_key=uuid.uuid4().hex,
    )
    DeletionBatch.objects.filter(pk=batch.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=40)
    )
    page.set_viewport_size({"width": width, "height": height})
    login(page, admin_user, "pw-ada-admin")
    page.goto(f"{live_server.url}/deletions/{batch.pk}/")
    notice = page.locator(".batch-wait")
    expect(notice).to_contain_text("No worker has picked this up for 4")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"deletion-waiting-{width}")
