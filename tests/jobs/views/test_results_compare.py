"""Comparing jobs: metric means side by side, differences to a baseline flagged only when the
95% Welch interval excludes zero, the prompts that dropped the most, the compare CSV, and
picking jobs from the list (every role) or from a job's page."""

from __future__ import annotations

import math
import random
import re
import statistics

import pytest

from jobs.models import EvaluationJob
from jobs.selectors.results import difference_interval
from tests.jobs.views import live
from tests.jobs.views.factories import make_job
from tests.jobs.views.results_factories import (
    add_aggregate,
    add_records,
    make_job_with_results,
    make_result_set,
)

pytestmark = pytest.mark.django_db

COMPARE = "/evaluation-jobs/compare/"


def scores(mean: float, *, n: int = 200, spread: float = 0.1, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [min(1.0, max(0.0, rng.gauss(mean, spread))) for _ in range(n)]


def compare(client, *jobs, **params):
    query = {"job": [j.resource_id for j in jobs], **params}
    return client.get(COMPARE, query)


def cells_of(html: str, metric: str) -> str:
    return re.search(rf'<span class="row-metric">{metric}</span>.*?</tr>', html, re.S).group(0)


def test_welch_interval_of_the_difference_of_means():
    diff, low, high = difference_interval(
        mean=0.77, stddev=0.1, n=100, base_mean=0.8, base_stddev=0.1, base_n=100
    )
    half = 1.96 * math.sqrt(0.01 / 100 + 0.01 / 100)
    assert diff == pytest.approx(-0.03)
    assert (low, high) == (pytest.approx(-0.03 - half), pytest.approx(-0.03 + half))
    assert (
        difference_interval(mean=0.5, stddev=0.1, n=1, base_mean=0.8, base_stddev=0.1, base_n=100)
        is None
    )


def test_a_constructed_regression_is_flagged_and_noise_is_not(viewer_client):
    base = make_job_with_results({"Builtin.Correctness": scores(0.80, seed=1)}, name="base")
    worse = make_job_with_results({"Builtin.Correctness": scores(0.70, seed=2)}, name="worse")
    # Noise: the baseline's scores in another order, each nudged by 0.005.
    nudged = [min(1.0, v + 0.005) for v in reversed(scores(0.80, seed=1))]
    noise = make_job_with_results({"Builtin.Correctness": nudged}, name="noise")
    # The noise job really is noise: its own interval includes zero.
    a, b = noise.results.aggregates.get(), base.results.aggregates.get()
    half = 1.96 * math.sqrt(a.stddev**2 / a.scored + b.stddev**2 / b.scored)
    assert abs(a.mean - b.mean) < half

    response = compare(viewer_client, base, worse, noise)
    assert response.status_code == 200
    html = response.content.decode()
    row = cells_of(html, "Correctness")
    cells = re.findall(r'<td class="num">(.*?)</td>', row, re.S)
    assert len(cells) == 3
    assert "baseline" in html and "flag" not in cells[0]
    assert '<span class="flag" data-flag="worse">worse</span>' in cells[1]
    assert "data-flag" not in cells[2]
    assert "95% interval of the difference of means" in html
    assert "1 difference is flagged, 1 of them worse" in html


def test_the_flag_follows_the_interval_at_its_edge(viewer_client):
    """Means 0.80 (baseline) vs 0.77 and 0.78, sd 0.1, n 100: ±0.0277 around the difference."""

    def job_with(mean: float, name: str):
        job = make_job(status="Completed", name=name)
        add_aggregate(
            make_result_set(job),
            dataset="qa",
            metric="Builtin.Correctness",
            prompts=100,
            scored=100,
            mean=mean,
            stddev=0.1,
        )
        return job

    base, flagged, unflagged = job_with(0.8, "b"), job_with(0.77, "f"), job_with(0.78, "u")
    html = compare(viewer_client, base, flagged, unflagged).content.decode()
    cells = re.findall(r'<td class="num">(.*?)</td>', cells_of(html, "Correctness"), re.S)
    assert "−0.030" in cells[1] and 'data-flag="worse"' in cells[1]
    assert "95% interval −0.058 to −0.002" in cells[1]
    assert "−0.020" in cells[2] and "data-flag" not in cells[2]

    csv = viewer_client.get(
        "/evaluation-jobs/compare.csv", {"job": [base.resource_id, flagged.resource_id]}
    ).content.decode()
    assert csv.splitlines() == [
        "dataset,model,metric,job,baseline,prompts,scored,mean,difference,ci_low,ci_high,flag",
        "qa,,Builtin.Correctness,b,yes,100,100,0.8000,,,,",
        "qa,,Builtin.Correctness,f,,100,100,0.7700,-0.0300,-0.0577,-0.0023,worse",
    ]


def test_lower_is_better_metrics_flag_a_rise_as_worse(viewer_client):
    base = make_job_with_results({"Builtin.Harmfulness": scores(0.1, seed=4)})
    rise = make_job_with_results({"Builtin.Harmfulness": scores(0.3, seed=5)})
    html = compare(viewer_client, base, rise).content.decode()
    assert 'data-flag="worse">worse' in cells_of(html, "Harmfulness")


def test_another_baseline_and_rows_per_model_for_two_model_jobs(viewer_client):
    one = make_job_with_results({"Builtin.Correctness": [0.5, 0.6]}, name="one")
    two = make_job(status="Completed", name="two", models=["model-a", "model-b"])
    result_set = make_result_set(two)
    for model in ("model-a", "model-b"):
        add_records(
            result_set,
            dataset="Builtin.BoolQ",
            model=model,
            scores={"Builtin.Correctness": [0.1, 0.2]},
        )
    response = compare(viewer_client, one, two, baseline=two.resource_id)
    html = response.content.decode()
    assert re.search(r"two <span class=\"tag baseline\">baseline</span>", html)
    assert "model-a" in html and "model-b" in html
    # The single-model job's row has no baseline value to differ from.
    assert len(re.findall(r'<tr(?: class="flagged")?>\s*<th scope="row">', html)) == 3


def test_drops_pair_the_same_prompt_and_show_the_worst_first(viewer_client):
    base_scores = [0.9] * 30
    new_scores = [0.9] * 30
    new_scores[7] = 0.1  # the worst drop
    new_scores[3] = 0.5
    new_scores[4] = 1.0  # a rise: not a drop
    base = make_job_with_results({"Builtin.Correctness": base_scores}, name="base")
    new = make_job_with_results({"Builtin.Correctness": new_scores}, name="new")
    other = make_job_with_results(
        {"Builtin.Correctness": [0.0] * 30}, name="other-dataset", dataset="Builtin.TriviaQA"
    )
    html = compare(viewer_client, base, new, other, drops="1").content.decode()
    drops = re.search(r'<section id="drops".*?</section>', html, re.S).group(0)
    articles = drops.split('<article class="drop">')[1:]
    assert len(articles) == 2
    assert "0.900 → 0.100" in articles[0] and "question 7:" in articles[0]
    assert "0.900 → 0.500" in articles[1] and "question 3:" in articles[1]
    # Side by side: the baseline's response and the other job's.
    assert "reply 7 of base." in articles[0] and "reply 7 of new." in articles[0]
    assert "The judge on prompt 7" in articles[0]
    assert "other-dataset" not in drops  # shares no dataset with the baseline


def test_drops_are_bounded(viewer_client):
    base = make_job_with_results({"Builtin.Correctness": [0.9] * 60})
    new = make_job_with_results({"Builtin.Correctness": [0.1] * 60})
    html = compare(viewer_client, base, new, drops="1").content.decode()
    assert html.count('<article class="drop">') == 20


def test_the_page_asks_for_the_drops_in_a_second_request_or_a_link_without_javascript(
    viewer_client,
):
    base = make_job_with_results({"Builtin.Correctness": [0.9, 0.9]})
    new = make_job_with_results({"Builtin.Correctness": [0.1, 0.9]})
    html = compare(viewer_client, base, new).content.decode()
    ids = f"job={base.resource_id}&amp;job={new.resource_id}&amp;metric=Builtin.Correctness"
    assert (
        f'<section id="drops" class="card drops" hx-get="/evaluation-jobs/compare/?{ids}"' in html
    )
    assert '<article class="drop">' not in html
    assert f'href="/evaluation-jobs/compare/?{ids}&amp;drops=1#drops">Show them</a>' in html
    response = viewer_client.get(
        COMPARE,
        {"job": [base.resource_id, new.resource_id], "metric": "Builtin.Correctness"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="drops",
    )
    assert response.content.decode().count('<article class="drop">') == 1


def test_the_drops_metric_picker_answers_htmx_with_the_section(viewer_client):
    base = make_job_with_results(
        {"Builtin.Correctness": [0.9, 0.9], "Builtin.Relevance": [0.9, 0.9]}
    )
    new = make_job_with_results(
        {"Builtin.Correctness": [0.9, 0.9], "Builtin.Relevance": [0.2, 0.9]}
    )
    response = viewer_client.get(
        COMPARE,
        {"job": [base.resource_id, new.resource_id], "metric": "Builtin.Relevance"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="drops",
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="drops"')
    assert "0.900 → 0.200" in html
    assert '<option value="Builtin.Relevance" selected>' in html


# --- What cannot be compared ---------------------------------------------------------------------


def test_one_job_is_not_enough(viewer_client):
    job = make_job_with_results()
    response = compare(viewer_client, job)
    assert response.status_code == 400
    assert "Pick at least two jobs to compare" in response.content.decode()


def test_eleven_jobs_are_too_many(viewer_client):
    jobs = [make_job_with_results() for _ in range(11)]
    response = compare(viewer_client, *jobs)
    assert response.status_code == 400
    assert "Pick at most 10 jobs" in response.content.decode()


def test_jobs_without_results_are_named_with_the_reason(viewer_client):
    ready = make_job_with_results()
    running = make_job(status="InProgress", name="still-running")
    waiting = make_job(status="Completed", name="not-read")
    failed = make_job(status="Completed", name="unreadable")
    make_result_set(failed, state="failed")
    response = compare(viewer_client, ready, running, waiting, failed)
    html = response.content.decode()
    assert response.status_code == 400
    assert "still-running: it is InProgress, not Completed" in html
    assert "not-read: its results have not been read yet" in html
    assert "unreadable: its results could not be read" in html


@pytest.mark.parametrize(
    "params",
    [
        {"job": ["abc", "BAD!"]},
        {"job": ["abc", "a" * 65]},
        {"job": ["abc", "x\x00"]},
        {"job": ["abc", "١٢"]},
        {"job": ["abc"] * 101},
        {"job": ["abc", "def"], "baseline": "zzz"},
        {"job": ["abc", "def"], "baseline": "../x"},
    ],
)
def test_hostile_parameters_are_a_400(viewer_client, params):
    make_job_with_results(resource_id="abc")
    make_job_with_results(resource_id="def")
    response = viewer_client.get(COMPARE, params)
    assert response.status_code == 400
    csv = viewer_client.get("/evaluation-jobs/compare.csv", params)
    assert csv.status_code == 400


def test_unknown_jobs_are_a_404(viewer_client):
    job = make_job_with_results()
    response = viewer_client.get(COMPARE, {"job": [job.resource_id, "zzzzzzzzzzzz"]})
    assert response.status_code == 404
    assert "zzzzzzzzzzzz" in response.content.decode()


def test_a_hostile_metric_is_ignored(viewer_client):
    a, b = make_job_with_results(), make_job_with_results()
    for metric in ("x" * 5000, "\x00", "Builtin.Unknown"):
        assert compare(viewer_client, a, b, metric=metric).status_code == 200


def test_compare_needs_a_login(client):
    a, b = make_job_with_results(), make_job_with_results()
    response = compare(client, a, b)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Picking jobs to compare ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "operator", "admin_user"])
def test_every_role_can_tick_rows_to_compare_on_the_list(client, request, role):
    client.force_login(request.getfixturevalue(role))
    ready = make_job_with_results(name="ready")
    make_job(status="Completed", name="unread")
    make_job(status="InProgress", name="running")
    html = client.get("/evaluation-jobs/").content.decode()
    form = '<form id="compare-select" class="compare-select" method="get" action="{}">'
    assert form.format("/evaluation-jobs/compare/") in html
    boxes = re.findall(
        r'class="compare-job" form="compare-select" name="job" value="([a-z0-9]+)"', html
    )
    assert boxes == [ready.resource_id]
    assert '<th scope="col" class="select compare">Compare</th>' in html
    # A running row the live channel sends again keeps the table's columns.
    running = EvaluationJob.objects.get(name="running")
    assert "cmp=1" in live.live_url(html)
    EvaluationJob.objects.filter(pk=running.pk).update(summary_digest="f" * 32)
    answer = live.poll(client, html).content.decode()
    assert '<td class="select compare"></td>' in answer


def test_no_compare_column_without_jobs_to_compare(viewer_client):
    running = make_job(status="InProgress")
    html = viewer_client.get("/evaluation-jobs/").content.decode()
    assert "compare-select" not in html and "cmp=1" not in live.live_url(html)
    EvaluationJob.objects.filter(pk=running.pk).update(summary_digest="f" * 32)
    answer = live.poll(viewer_client, html).content.decode()
    assert live.oob_row(answer, running.resource_id) and "compare" not in answer


def test_picked_rows_compare_statistics_as_ticked(viewer_client):
    a = make_job_with_results({"Builtin.Correctness": scores(0.8, n=50)}, name="first-pick")
    b = make_job_with_results({"Builtin.Correctness": scores(0.8, n=50, seed=9)}, name="second")
    response = viewer_client.get(COMPARE, {"job": [a.resource_id, b.resource_id]})
    html = response.content.decode()
    assert response.status_code == 200
    mean = statistics.fmean(scores(0.8, n=50))
    assert f"{mean:.3f}" in cells_of(html, "Correctness")
    assert 'first-pick <span class="tag baseline">baseline</span>' in html
