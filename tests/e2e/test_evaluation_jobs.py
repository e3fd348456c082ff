"""Browsing evaluation jobs in a real browser: filter, page, open a job and watch it finish,
refresh the mirror, all under the strict CSP (any console error fails the test).

Set SCREENSHOT_DIR to keep screenshots of the list and detail pages (desktop and phone).
"""

from __future__ import annotations

import re
import threading
import time

import pytest
from django.db import connection
from playwright.sync_api import expect

from jobs import sync
from jobs.models import EvaluationJob
from tests.e2e.screens import shot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mirrored(local_bedrock):
    """A seeded local Bedrock and the mirror filled from it by one sweep, as beat would."""
    local_bedrock.seed(140, random_seed=11)
    sync.evaluation_jobs_sync(raise_errors=True)
    return local_bedrock


def row_names(page) -> list[str]:
    return page.locator("#job-table tbody td.name a").all_inner_texts()


def test_filter_page_and_watch_a_job_finish(page, live_server, viewer, login, mirrored):
    login(page, viewer, "pw-vera-viewer")
    page.click("nav.nav >> text=Evaluation jobs")
    page.wait_for_url(f"{live_server.url}/evaluation-jobs/")
    assert len(row_names(page)) == 50
    # The status chips arrive after the table, in their own request.
    page.wait_for_selector("#status-counts a.chip[data-status='Completed'] .count")
    shot(page, "evaluation-jobs-list")

    # Filter by status: the table alone is swapped and the URL pushed.
    rows = page.locator("#job-table tbody tr")
    first_name = page.locator("#job-table tbody td.name a").first
    page.click("#job-filters label.check:has(input[value='Failed'])")
    page.wait_for_url(f"{live_server.url}/evaluation-jobs/?status=Failed")
    failed = EvaluationJob.objects.filter(status="Failed", listed=True).count()
    expect(rows).to_have_count(min(failed, 50))
    expect(page.locator("#job-table tbody .badge:not([data-status='Failed'])")).to_have_count(0)
    expect(page.locator("#status-counts a.chip.selected")).to_contain_text("Failed")

    # Back to every status at 25 a page, then forward two pages and back again.
    page.click("#job-filters label.check:has(input[value='Failed'])")
    page.wait_for_url(f"{live_server.url}/evaluation-jobs/")
    page.select_option("#id_size", "25")
    page.wait_for_url(f"{live_server.url}/evaluation-jobs/?size=25")
    expect(rows).to_have_count(25)
    first = row_names(page)
    page.click("#job-table a[rel=next]")
    page.wait_for_url(re.compile(r"size=25&page="))
    expect(first_name).not_to_have_text(first[0])
    second = row_names(page)
    page.click("#job-table a[rel=next]")
    expect(first_name).not_to_have_text(second[0])
    third = row_names(page)
    assert len(set(first + second + third)) == 75
    expected = EvaluationJob.objects.filter(listed=True).order_by("-created_at", "-arn")[:75]
    assert first + second + third == [j.name for j in expected]
    page.click("#job-table a[rel=prev]")
    expect(first_name).to_have_text(second[0])
    assert row_names(page) == second
    page.go_back()  # the pushed URLs make the browser's Back work too
    expect(first_name).to_have_text(third[0])
    page.click("#job-table a[rel=prev]")
    expect(first_name).to_have_text(second[0])
    page.click("#job-table a[rel=prev]")
    expect(first_name).to_have_text(first[0])
    assert row_names(page) == first
    expect(page.locator("#job-table a[rel=prev]")).to_have_count(0)

    # Open a running job and watch it complete without reloading.
    job = EvaluationJob.objects.filter(status="InProgress", listed=True).first()
    mirrored.force_status(job.arn, "InProgress")  # stays running until we say otherwise
    page.goto(f"{live_server.url}/evaluation-jobs/?status=InProgress&name={job.name}")
    page.click(f"#job-table a:text-is('{job.name}')")
    page.wait_for_url(f"{live_server.url}/evaluation-jobs/{job.resource_id}/")
    status = page.locator("#job-status .badge").first
    assert status.get_attribute("data-status") == "InProgress"
    assert page.locator("text=Updating live").is_visible()
    marker = page.evaluate("window.__same_document = Math.random()")
    mirrored.force_status(job.arn, "Completed")
    expect(status).to_have_attribute("data-status", "Completed", timeout=15_000)
    assert page.evaluate("window.__same_document") == marker  # no reload happened
    assert not page.locator("text=Updating live").is_visible()
    shot(page, "evaluation-job-detail")


def test_refresh_updates_the_table_when_the_sweep_ends(
    page, live_server, viewer, login, mirrored, monkeypatch
):
    """Refresh asks for a sweep; the header polls until it ends, then the table reloads."""
    newest = EvaluationJob.objects.order_by("-created_at", "-arn").first()
    EvaluationJob.objects.filter(pk=newest.pk).delete()  # the mirror is behind Bedrock

    def request_sweep() -> bool:
        # Stands in for the worker: the sweep runs a moment later, in another thread.
        def sweep():
            time.sleep(1.5)
            try:
                sync.evaluation_jobs_sync()
            finally:
                connection.close()  # this thread's own connection: let the test DB go

        threading.Thread(target=sweep, daemon=True).start()
        return True

    monkeypatch.setattr(sync, "evaluation_jobs_sync_request", request_sweep)
    login(page, viewer, "pw-vera-viewer")
    page.goto(f"{live_server.url}/evaluation-jobs/")
    assert newest.name not in row_names(page)
    assert re.match(r"Synced \d+ s ago", page.locator("#sync-state .sync-text").inner_text())
    page.click("#sync-state button")
    expect(page.locator("#sync-state")).to_contain_text("Sync requested")
    expect(page.locator("#job-table tbody td.name a").first).to_have_text(
        newest.name, timeout=15_000
    )
    expect(page.locator("#sync-state .sync-text")).to_have_text(re.compile(r"^Synced"))
    assert page.url == f"{live_server.url}/evaluation-jobs/"


def test_without_javascript_the_list_works_through_links_and_a_button(
    browser, live_server, viewer, mirrored
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", viewer.username)
    page.fill("#id_password", "pw-vera-viewer")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/evaluation-jobs/")
    page.check("#job-filters input[value='Completed']")
    page.click("#job-filters button[type=submit]")
    assert "status=Completed" in page.url
    statuses = page.locator("#job-table tbody .badge").evaluate_all(
        "els => els.map(e => e.dataset.status)"
    )
    assert statuses and set(statuses) == {"Completed"}
    first = row_names(page)
    page.click("#job-table a[rel=next]")
    assert "page=" in page.url and row_names(page)[0] not in first
    context.close()


def test_the_list_and_a_job_are_usable_on_a_phone(browser, live_server, viewer, login, mirrored):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, viewer, "pw-vera-viewer")
    page.goto(f"{live_server.url}/evaluation-jobs/")
    page.wait_for_selector("#status-counts a.chip")
    # The table scrolls inside its own box; the page itself does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert page.locator("#job-table tbody td.name a").first.is_visible()
    shot(page, "evaluation-jobs-list-phone")
    page.locator("#job-table tbody td.name a").first.click()
    page.wait_for_selector("#job-status")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shot(page, "evaluation-job-detail-phone")
    context.close()
    assert errors == []
