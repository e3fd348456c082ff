"""The evaluation-job list over several connections in a real browser (issue 15): region and
account columns, filtering to one region and one account with the multi-selects, and paging
that filter forward and back, under the strict CSP (a console error fails the test).

Set SCREENSHOT_DIR to keep screenshots at 1440x900 and 390x844.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jobs.models import EvaluationJob
from tests.e2e.screens import shot
from tests.jobs.views.factories import make_jobs

pytestmark = pytest.mark.django_db(transaction=True)

PLACES = [
    ("us-east-1", "111111111111"),
    ("us-east-1", "222222222222"),
    ("eu-west-1", "111111111111"),
    ("eu-west-1", "222222222222"),
]


def row_names(page) -> list[str]:
    return page.locator("#job-table tbody td.name a").all_inner_texts()


def test_filter_the_fleet_by_region_and_account_and_page_it(page, live_server, viewer, login):
    for i, (region, account) in enumerate(PLACES):
        make_jobs(15, region=region, account=account, status="Completed")
        make_jobs(2, region=region, account=account, status=("InProgress", "Failed")[i % 2])
    login(page, viewer, "pw-vera-viewer")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/evaluation-jobs/?size=25")
    page.wait_for_selector("#status-counts a.chip[data-status='Completed'] .count")
    expect(page.locator("#job-table thead th", has_text="Region")).to_be_visible()
    expect(page.locator("#job-table thead th", has_text="Account")).to_be_visible()
    shot(page, "fleet-list-1440")

    # One region, then one account too: the table alone is swapped and the URL pushed.
    page.select_option("#id_region", ["eu-west-1"])
    page.wait_for_url(f"{live_server.url}/evaluation-jobs/?region=eu-west-1&size=25")
    page.select_option("#id_account", ["222222222222"])
    page.wait_for_url(
        f"{live_server.url}/evaluation-jobs/?region=eu-west-1&account=222222222222&size=25"
    )
    expected = list(
        EvaluationJob.objects.filter(region="eu-west-1", account="222222222222")
        .order_by("-created_at", "-arn")
        .values_list("name", flat=True)
    )
    assert len(expected) == 17
    expect(page.locator("#job-table tbody tr")).to_have_count(17)
    assert row_names(page) == expected
    cells = page.locator("#job-table tbody td.place").all_inner_texts()
    assert set(cells) == {"eu-west-1", "222222222222"}
    # The chips count within the filter.
    expect(page.locator("#status-counts a.chip[data-status='Completed'] .count")).to_have_text("15")
    shot(page, "fleet-list-filtered-1440")

    # Both regions, one account, 25 a page: forward to the end and back.
    page.select_option("#id_region", ["eu-west-1", "us-east-1"])
    page.wait_for_url("**/evaluation-jobs/?region=eu-west-1&region=us-east-1*")
    expected = list(
        EvaluationJob.objects.filter(account="222222222222")
        .order_by("-created_at", "-arn")
        .values_list("name", flat=True)
    )
    assert len(expected) == 34
    expect(page.locator("#job-table tbody tr")).to_have_count(25)
    assert row_names(page) == expected[:25]
    page.click("#job-table a[rel=next]")
    expect(page.locator("#job-table tbody tr")).to_have_count(9)
    assert row_names(page) == expected[25:]
    page.click("#job-table a[rel=prev]")
    expect(page.locator("#job-table tbody tr")).to_have_count(25)
    assert row_names(page) == expected[:25]

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/evaluation-jobs/?region=eu-west-1&size=25")
    page.wait_for_selector("#status-counts a.chip[data-status='Completed'] .count")
    expect(page.locator("#job-table thead th", has_text="Region")).to_be_hidden()
    shot(page, "fleet-list-390")
    page.locator("#job-table").scroll_into_view_if_needed()
    shot(page, "fleet-list-390-table", full_page=False)
