"""Live list pages in a real browser (issue 12): one request per interval however many rows
run, for every role, filtered or not; a changed row swapped in place and highlighted; chips and
the sync header updated without a reload; no polling on a page where nothing can change.

The interval is shortened to 1 s (LIVE_POLL_SECONDS) so that a few seconds count several polls.
"""

from __future__ import annotations

import re
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from jobs.models import EvaluationJob, StatusCount, SyncRun
from tests.e2e.screens import shot
from tests.jobs.views.factories import make_jobs

pytestmark = pytest.mark.django_db(transaction=True)

LIST = "/evaluation-jobs/"


@pytest.fixture
def fast_polls(settings):
    settings.LIVE_POLL_SECONDS = 1


def counts(**per_status: int) -> None:
    now = timezone.now()
    for status, n in per_status.items():
        StatusCount.objects.update_or_create(
            kind="evaluation_jobs", status=status, defaults={"count": n, "updated_at": now}
        )


@pytest.fixture
def forty_running(fast_polls):
    jobs = make_jobs(40, status="InProgress", summary_digest="a" * 32)
    make_jobs(20, status="Completed", summary_digest="b" * 32)
    counts(InProgress=40, Completed=20)
    return jobs


def watch_requests(page) -> list[str]:
    """The paths of the page's requests to the dashboard (not its static files)."""
    seen: list[str] = []

    def record(request) -> None:
        path = re.sub(r"^https?://[^/]+", "", request.url)
        if not path.startswith("/static/"):
            seen.append(path)

    page.on("request", record)
    return seen


def signed_in(page, login, user) -> None:
    login(page, user, f"pw-{user.username}")


@pytest.mark.parametrize(
    ("role", "query"),
    [
        ("viewer", ""),
        ("viewer", "?status=InProgress"),
        ("operator", "?status=InProgress"),  # Stop checkboxes on every row
        ("admin_user", ""),  # Delete checkboxes and the selection bar
        ("admin_user", "?status=InProgress&name=job"),
    ],
)
def test_forty_running_rows_make_one_request_per_interval(
    page, live_server, login, request, role, query, forty_running
):
    signed_in(page, login, request.getfixturevalue(role))
    page.goto(f"{live_server.url}{LIST}{query}")
    expect(page.locator("#job-table tbody tr.running")).to_have_count(40)
    if role == "operator":
        expect(page.locator("input.stop-job")).to_have_count(40)
    page.wait_for_timeout(1500)  # the page's own follow-up requests (chips, selection bar)
    seen = watch_requests(page)
    page.wait_for_timeout(5000)
    polls = [p for p in seen if p.startswith(f"{LIST}live/")]
    assert 4 <= len(polls) <= 6, seen  # one a second
    assert polls == seen, seen  # and nothing else: no request per row


def test_a_changed_row_is_swapped_and_highlighted_and_chips_and_header_follow(
    page, live_server, login, operator, forty_running
):
    signed_in(page, login, operator)
    page.goto(f"{live_server.url}{LIST}?status=InProgress")
    expect(page.locator("#status-counts a.chip[data-status='InProgress'] .count")).to_have_text(
        "40"
    )
    expect(page.locator("#sync-state .sync-text")).to_have_text("Not synced with Bedrock yet.")
    first, second = forty_running[0], forty_running[1]
    # Ticks for Stop survive the rows being swapped.
    page.check(f"#job-{second.resource_id} input.stop-job")
    page.check(f"#job-{first.resource_id} input.stop-job")
    marker = page.evaluate("window.__same_document = Math.random()")

    # A sweep: the first job completed.
    EvaluationJob.objects.filter(pk=first.pk).update(status="Completed", summary_digest="c" * 32)
    counts(InProgress=39, Completed=21)
    now = timezone.now()
    SyncRun.objects.create(kind="evaluation_jobs", started_at=now, finished_at=now)

    row = page.locator(f"#job-{first.resource_id}")
    expect(row.locator(".badge")).to_have_attribute("data-status", "Completed")
    expect(row).to_have_class(re.compile(r"\blive-changed\b"))
    expect(row.locator("input.stop-job")).to_have_count(0)  # no longer stoppable
    expect(page.locator(f"#job-{second.resource_id} input.stop-job")).to_be_checked()
    expect(page.locator(f"#job-{second.resource_id}")).not_to_have_class(re.compile("live-changed"))
    chips = page.locator("#status-counts")
    expect(chips.locator("a.chip[data-status='InProgress'] .count")).to_have_text("39")
    expect(chips.locator("a.chip[data-status='Completed'] .count")).to_have_text("21")
    header = page.locator("#sync-state .sync-text")
    expect(header).to_have_text(re.compile(r"^Synced \d+ s ago$"))
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        shot(page, f"live-list-changed-row-{width}", full_page=False)
    # "N s ago" moves on by itself between answers.
    time.sleep(2.2)
    expect(header).not_to_have_text("Synced 0 s ago")
    assert page.evaluate("window.__same_document") == marker  # no reload happened


def test_polling_stops_when_nothing_on_the_page_can_change(
    page, live_server, login, viewer, fast_polls
):
    running = make_jobs(1, status="InProgress", summary_digest="a" * 32)[0]
    make_jobs(10, status="Completed")
    signed_in(page, login, viewer)
    # Only finished jobs on the page: no polling at all.
    page.goto(f"{live_server.url}{LIST}?status=Completed")
    expect(page.locator("#job-table tbody tr")).to_have_count(10)
    page.wait_for_timeout(1500)
    seen = watch_requests(page)
    page.wait_for_timeout(3000)
    assert seen == []

    # One running job: it polls until that job ends, then stops.
    page.goto(f"{live_server.url}{LIST}")
    page.wait_for_timeout(1500)
    seen.clear()
    page.wait_for_timeout(2200)
    assert any(p.startswith(f"{LIST}live/") for p in seen), seen
    EvaluationJob.objects.filter(pk=running.pk).update(status="Failed", summary_digest="d" * 32)
    expect(page.locator(f"#job-{running.resource_id} .badge")).to_have_attribute(
        "data-status", "Failed"
    )
    page.wait_for_timeout(1200)
    seen.clear()
    page.wait_for_timeout(3000)
    assert seen == []


def test_a_hidden_tab_backs_off_and_asks_at_once_when_shown(
    page, live_server, login, viewer, forty_running
):
    signed_in(page, login, viewer)
    page.goto(f"{live_server.url}{LIST}")
    expect(page.locator("#job-table tbody tr.running")).to_have_count(40)
    page.wait_for_timeout(1500)

    def visibility(hidden: bool) -> None:
        page.evaluate(
            """hidden => {
                Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
                Object.defineProperty(document, "visibilityState",
                    {value: hidden ? "hidden" : "visible", configurable: true});
                document.dispatchEvent(new Event("visibilitychange"));
            }""",
            hidden,
        )

    seen = watch_requests(page)
    visibility(True)
    page.wait_for_timeout(4000)
    assert seen == []  # hidden: at most one a minute, and one just went out
    visibility(False)
    page.wait_for_timeout(300)
    assert 1 <= len(seen) <= 2 and seen[0].startswith(f"{LIST}live/")  # shown: at once
