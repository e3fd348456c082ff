"""Evaluation results in a real browser, from factory data (the end-to-end journey with the
real pipeline is the lead's): a job's results appear on its page without a reload once they
are read, the prompts table sorts to the lowest scores, two jobs are compared and the
regression is flagged, the CSV downloads; the prompts page fits a phone. Under the strict CSP
(any console error fails the test).

Set SCREENSHOT_DIR to keep screenshots at 1440×900 and 390×844.
"""

from __future__ import annotations

import random

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from jobs.models import EvaluationResultSet
from tests.e2e.screens import shot
from tests.jobs.views.factories import description_for, make_job
from tests.jobs.views.results_factories import add_records, make_result_set

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def scores(mean: float, n: int, seed: int) -> list[float | None]:
    rng = random.Random(seed)
    values: list[float | None] = [
        round(min(1.0, max(0.0, rng.gauss(mean, 0.12))), 3) for _ in range(n)
    ]
    for i in range(0, n, 17):
        values[i] = None  # the judge's answer could not be parsed
    return values


def described_job(name: str, **values):
    job = make_job(status="Completed", name=name, **values)
    job.description = description_for(job)
    job.described_at = timezone.now()
    job.needs_description = False
    job.save()
    return job


def fill(job, mean: float, seed: int) -> None:
    result_set = EvaluationResultSet.objects.get_or_create(job=job)[0]
    long_prompt = [
        f"Question {i}: summarise the attached support ticket about order #{1000 + i} "
        + "and say whether a refund is due under the 30-day policy. " * 3
        for i in range(120)
    ]
    add_records(
        result_set,
        dataset="support-tickets",
        prompts=long_prompt,
        scores={
            "Builtin.Correctness": scores(mean, 120, seed),
            "Builtin.Helpfulness": scores(0.7, 120, seed + 100),
            "Builtin.Harmfulness": scores(0.05, 120, seed + 200),
        },
    )
    add_records(
        result_set,
        dataset="Builtin.BoolQ",
        scores={"Builtin.Correctness": scores(0.6, 60, seed + 300)},
    )
    EvaluationResultSet.objects.filter(pk=result_set.pk).update(
        state="ready", files=2, fetched_at=timezone.now(), bad_lines=2
    )


@pytest.fixture
def jobs(local_bedrock):
    """Two jobs with results (the second regressed on Correctness) and one whose results are
    still being read. The local Bedrock answers the job page's tag lookups."""
    baseline = described_job("support-baseline")
    fill(baseline, 0.82, seed=1)
    regressed = described_job("support-candidate")
    fill(regressed, 0.62, seed=2)
    reading = described_job("support-reading")
    make_result_set(reading, state="fetching")
    return baseline, regressed, reading


def test_results_prompts_compare_and_csv(page, live_server, viewer, login, jobs, tmp_path):
    baseline, regressed, reading = jobs
    page.set_viewport_size(DESKTOP)
    login(page, viewer, "pw-vera-viewer")

    # The results of a job being read appear on its page, without a reload, once they are.
    page.goto(f"{live_server.url}/evaluation-jobs/{reading.resource_id}/")
    expect(page.locator("#job-results")).to_contain_text("Reading the results from S3")
    fill(reading, 0.8, seed=3)
    expect(page.locator("#job-results .score-card").first).to_be_visible(timeout=15_000)
    expect(page.locator("#job-results")).to_contain_text("2 lines of the output could not be read")
    expect(page.locator("#job-results svg.histogram").first).to_be_visible()
    shot(page, "results-section")

    # The CSV downloads, with exactly its header.
    with page.expect_download() as download:
        page.click("#job-results a:has-text('CSV')")
    path = tmp_path / "results.csv"
    download.value.save_as(path)
    lines = path.read_text().splitlines()
    assert lines[0] == "dataset,model,metric,prompts,scored,mean"
    assert len(lines) == 1 + 4

    # Prompts: lowest scores first, through the filter form (htmx swaps the table).
    page.click("#job-results a:has-text('Browse prompts')")
    page.wait_for_url(f"{live_server.url}/evaluation-jobs/{reading.resource_id}/results/")
    expect(page.locator("#id_metric")).to_have_value("Builtin.Correctness")  # the first
    page.select_option("#id_sort", "score")
    page.wait_for_url("**/results/?sort=score")
    first_score = page.locator("#record-table td.score").first
    all_scores = [
        float(s) for s in page.locator("#record-table td.score").all_inner_texts() if s != "null"
    ]
    assert all_scores == sorted(all_scores)
    lowest = min(
        v
        for v in reading.results.score_rows.filter(metric="Builtin.Correctness").values_list(
            "value", flat=True
        )
        if v is not None
    )
    expect(first_score).to_have_text(f"{lowest:.3f}")
    page.locator("#record-table details summary").first.click()
    expect(page.locator("#record-table details[open] .response")).to_be_visible()
    shot(page, "results-prompts")
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(200)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "results-prompts-phone")
    page.set_viewport_size(DESKTOP)

    # Compare: tick the two rows in the list, then Compare selected.
    page.goto(f"{live_server.url}/evaluation-jobs/")
    page.wait_for_selector("#status-counts a.chip")  # its request done before we leave
    page.check(f"input.compare-job[value='{baseline.resource_id}']")
    page.check(f"input.compare-job[value='{regressed.resource_id}']")
    shot(page, "results-list-compare")
    page.click("#compare-select button[type=submit]")
    page.wait_for_url("**/evaluation-jobs/compare/?job=*")
    table = page.locator("table.compare")
    correctness = table.locator("tr:has(.row-metric:text-is('Correctness'))").filter(
        has_text="support-tickets"
    )
    expect(correctness.locator(".flag[data-flag='worse']")).to_have_count(1)
    expect(page.locator(".how")).to_contain_text("95% interval of the difference of means")
    expect(page.locator("#drops article.drop").first).to_be_visible()
    shot(page, "results-compare")

    # Another drops metric through its picker (htmx swaps the section only).
    page.select_option("#drop-metric", "Builtin.Helpfulness")
    expect(page.locator("#drop-metric")).to_have_value("Builtin.Helpfulness")
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(200)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "results-compare-phone")

    # The compare CSV downloads too.
    with page.expect_download() as download:
        page.click("a:has-text('CSV')")
    path = tmp_path / "compare.csv"
    download.value.save_as(path)
    assert path.read_text().splitlines()[0].startswith("dataset,model,metric,job,baseline,")

    # And from a job page: Compare with…
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/evaluation-jobs/{baseline.resource_id}/")
    page.click("#job-results details.compare-with summary")
    page.check(f"#job-results input[name=job][value='{regressed.resource_id}']")
    page.click("#job-results details.compare-with button[type=submit]")
    page.wait_for_url("**/evaluation-jobs/compare/?job=*")
    expect(page.locator("h1")).to_have_text("Compare 2 evaluation jobs")
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/evaluation-jobs/{baseline.resource_id}/")
    expect(page.locator("#job-results .score-card").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "results-section-phone")


def test_ticking_compare_boxes_never_selects_jobs_for_deletion(
    page, live_server, admin_user, login, jobs
):
    """Admins see both checkbox columns; the Compare boxes belong to their own form, so a tick
    there changes nothing in the deletion selection (which posts each change of its form)."""
    baseline, regressed, _ = jobs
    login(page, admin_user, "pw-ada-admin")
    page.goto(f"{live_server.url}/evaluation-jobs/")
    page.wait_for_selector("#status-counts a.chip")
    summary = page.locator("#selection-bar .selection-summary").inner_text()
    page.check(f"input.compare-job[value='{baseline.resource_id}']")
    page.check(f"input.compare-job[value='{regressed.resource_id}']")
    page.wait_for_timeout(500)  # any selection request has come back
    expect(page.locator("#selection-bar .selection-summary")).to_have_text(summary)
    expect(page.locator("#job-table input[name=job]:not(.compare-job):checked")).to_have_count(0)
    page.click("#compare-select button[type=submit]")
    page.wait_for_url("**/evaluation-jobs/compare/?job=*")
    expect(page.locator("h1")).to_have_text("Compare 2 evaluation jobs")
    shot(page, "results-compare-admin")
