"""The results section of a job's page: loaded by its own request, in every state (not
completed, waiting and polling, failed with Retry for Operators, ready with score cards and
histograms), and Retry asking a worker to read the output again."""

from __future__ import annotations

import re

import pytest
import redis

from jobs.models import AuditEntry, EvaluationResultSet
from tests.jobs.views.factories import make_job
from tests.jobs.views.results_factories import (
    add_aggregate,
    make_job_with_results,
    make_result_set,
)
from tests.worker import REDIS_URL

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def section_url(job) -> str:
    return f"/evaluation-jobs/{job.resource_id}/results/section/"


def section(client, job, **extra) -> str:
    response = client.get(section_url(job), **HTMX, **extra)
    assert response.status_code == 200
    return response.content.decode()


def polls(html: str) -> bool:
    return bool(re.search(r'id="job-results"[^>]*hx-trigger="every \d+s"', html))


def test_the_job_page_loads_the_section_with_its_own_request_and_a_plain_link(viewer_client):
    job = make_job_with_results()
    html = viewer_client.get(f"/evaluation-jobs/{job.resource_id}/").content.decode()
    assert f'hx-get="{section_url(job)}" hx-trigger="load"' in html
    assert f'<a href="{section_url(job)}">' in html
    # Without JavaScript the link is a page of its own with the same section.
    page = viewer_client.get(section_url(job)).content.decode()
    assert "<!doctype html>" in page and 'id="job-results"' in page and "Browse prompts" in page


def test_a_running_job_says_results_come_when_it_completes_and_polls(viewer_client):
    job = make_job(status="InProgress")
    html = section(viewer_client, job)
    assert "Results appear here when the job completes" in html
    assert polls(html)


def test_a_failed_job_has_no_results_and_no_poll(viewer_client):
    job = make_job(status="Failed")
    html = section(viewer_client, job)
    assert "ended Failed, not Completed" in html
    assert not polls(html)


@pytest.mark.parametrize("state", [None, "pending", "fetching"])
def test_a_completed_job_whose_results_are_being_read_polls(viewer_client, state):
    job = make_job(status="Completed")
    if state:
        make_result_set(job, state=state)
    html = section(viewer_client, job)
    assert "results from S3" in html
    assert polls(html)


def test_polling_stops_after_ten_minutes_with_a_way_to_look_again(viewer_client):
    job = make_job(status="Completed")
    html = section(viewer_client, job, QUERY_STRING="since=1000")
    assert not polls(html)
    assert "stopped checking after ten minutes" in html


@pytest.mark.parametrize("since", ["-5", "１２３", "9" * 40, "\x00", "abc"])
def test_a_hostile_since_is_ignored(viewer_client, since):
    job = make_job(status="Completed")
    response = viewer_client.get(section_url(job), {"since": since}, **HTMX)
    assert response.status_code == 200
    assert polls(response.content.decode())


def test_a_failed_read_says_why_and_offers_retry_to_operators_only(client, viewer, operator):
    job = make_job(status="Completed")
    make_result_set(
        job,
        state="failed",
        error_code="AccessDenied",
        error_message="Access Denied",
        s3_uri="s3://results/evaluations/x/abc/",
    )
    client.force_login(viewer)
    html = section(client, job)
    assert "<code>AccessDenied</code> on <span" in html
    assert "s3://results/evaluations/x/abc/" in html
    assert "Retry" not in html and not polls(html)
    client.force_login(operator)
    html = section(client, job)
    assert f'action="/evaluation-jobs/{job.resource_id}/results/retry/"' in html
    assert ">Retry</button>" in html and "csrfmiddlewaretoken" in html


def test_ready_results_show_score_cards_with_histograms_and_notes(viewer_client):
    job = make_job_with_results(
        {"Builtin.Correctness": [0.1, 0.3, 0.95, None], "Builtin.Harmfulness": [0, 0, 1, 0]}
    )
    job.results.bad_lines = 3
    job.results.records_truncated = True
    job.results.save()
    html = section(viewer_client, job)
    assert not polls(html)
    assert "Builtin.BoolQ" in html
    assert "3 lines of the output could not be read" in html
    assert "the prompts page shows the first 4 prompts" in html
    # Correctness: mean of 0.1, 0.3, 0.95 over 3 scored of 4 prompts.
    row = re.search(r'title="Builtin.Correctness">Correctness.*?</tr>', html, re.S).group(0)
    assert '<td class="num mean">0.450</td>' in row
    assert '<td class="num scored">3/4</td>' in row
    # The histogram: inline SVG with presentation attributes only, and its text alternatives.
    svg = re.search(r"<svg class=\"histogram\".*?</svg>", row, re.S).group(0)
    assert 'role="img"' in svg and "<title id=" in svg
    assert "prompts per range: 0–0.2: 1; 0.2–0.4: 1" in svg
    assert svg.count("<rect ") == 5 and "style" not in svg
    assert (
        '<div class="visually-hidden"><table><caption>Correctness: prompts per score range' in row
    )
    assert "↓ better" in html  # Harmfulness
    assert "style=" not in html


def test_human_two_model_jobs_show_distributions_and_who_won(viewer_client):
    job = make_job(status="Completed", job_type="Human", models=["model-a", "model-b"])
    result_set = make_result_set(job)
    common = {"dataset": "support", "metric": "Preference", "rating_method": "comparisonChoice"}
    add_aggregate(
        result_set, model="model-a", distribution={"wins": 30, "losses": 15, "ties": 5}, **common
    )
    add_aggregate(
        result_set, model="model-b", distribution={"wins": 15, "losses": 30, "ties": 5}, **common
    )
    add_aggregate(
        result_set,
        dataset="support",
        model="model-a",
        metric="Helpful",
        rating_method="thumbsUpDown",
        distribution={"up": 40, "down": 10},
    )
    html = section(viewer_client, job)
    h2h = re.search(r'<div class="head-to-head">.*?</div>', html, re.S).group(0)
    assert "<strong>Preference</strong>: which model won" in h2h
    assert '<meter min="0" max="50" value="30">60%</meter> <span class="num">30 (60%)' in h2h
    assert "15 (30%)" in h2h and "Tie" in h2h and "5 (10%)" in h2h
    assert '<span class="label">up</span> <meter min="0" max="50" value="40">80%</meter>' in html


def test_a_completed_tombstone_still_shows_its_results(viewer_client):
    job = make_job_with_results(listed=False)
    html = section(viewer_client, job)
    assert "Browse prompts" in html and "Correctness" in html


def test_compare_with_lists_other_completed_jobs_with_results_sharing_a_dataset_first(
    viewer_client,
):
    job = make_job_with_results(name="this-one")
    sharing = make_job_with_results(name="sharing")
    other = make_job_with_results(name="elsewhere", dataset="Builtin.TriviaQA")
    make_job(status="Completed", name="no-results")
    html = section(viewer_client, job)
    form = re.search(r'<details class="compare-with">.*?</details>', html, re.S).group(0)
    assert f'name="job" value="{job.resource_id}"' in form  # hidden: this job, the baseline
    assert form.index("sharing") < form.index("elsewhere")
    assert "shares a dataset" in form.split("elsewhere")[0]
    assert "no-results" not in form
    assert f'value="{sharing.resource_id}"' in form and f'value="{other.resource_id}"' in form


# --- Retry ---------------------------------------------------------------------------------------


def failed_job():
    job = make_job(status="Completed")
    make_result_set(job, state="failed", error_code="NoSuchKey", error_message="gone")
    return job


def test_retry_needs_an_operator(viewer_client):
    job = failed_job()
    response = viewer_client.post(f"/evaluation-jobs/{job.resource_id}/results/retry/")
    assert response.status_code == 403
    assert EvaluationResultSet.objects.get(job=job).state == "failed"


def test_retry_is_a_post(operator_client):
    job = failed_job()
    response = operator_client.get(f"/evaluation-jobs/{job.resource_id}/results/retry/")
    assert response.status_code == 405


def test_retry_refuses_a_post_without_csrf(operator):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    job = failed_job()
    response = client.post(f"/evaluation-jobs/{job.resource_id}/results/retry/")
    assert response.status_code == 403
    assert EvaluationResultSet.objects.get(job=job).state == "failed"


@pytest.fixture
def broker(settings):
    """A Redis database of this checkout's as the broker, emptied: what Retry enqueues lands
    in its `celery` list, where the test reads it."""
    settings.CELERY_BROKER_URL = REDIS_URL
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.mark.django_db(transaction=True)
def test_retry_sets_the_results_pending_enqueues_the_fetch_and_the_section_polls(
    client, operator, broker
):
    import json

    client.force_login(operator)
    job = failed_job()
    response = client.post(f"/evaluation-jobs/{job.resource_id}/results/retry/", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert polls(html) and "results from S3" in html
    result_set = EvaluationResultSet.objects.get(job=job)
    assert (result_set.state, result_set.error_code) == ("pending", "")
    messages = [json.loads(m) for m in broker.lrange("celery", 0, -1)]
    assert [m["headers"]["task"] for m in messages] == ["jobs.tasks.evaluation_results_fetch"]
    assert messages[0]["headers"]["argsrepr"] == f"[{job.pk}, True]"  # forced: read again
    assert AuditEntry.objects.get(target_arn=job.arn).action == "evaluation_results.request"


def test_retry_without_javascript_returns_to_the_job_page(operator_client, settings):
    from tests.conftest import free_port

    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    job = failed_job()
    response = operator_client.post(f"/evaluation-jobs/{job.resource_id}/results/retry/")
    assert response.status_code == 302
    assert response["Location"] == f"/evaluation-jobs/{job.resource_id}/"
    assert EvaluationResultSet.objects.get(job=job).state == "pending"


def test_the_section_of_an_unknown_job_is_a_404(viewer_client):
    assert viewer_client.get("/evaluation-jobs/zzzzzzzzzzzz/results/section/").status_code == 404


def test_the_section_needs_a_login(client):
    job = make_job_with_results()
    response = client.get(section_url(job))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_malformed_histograms_and_distributions_never_break_the_section(viewer_client):
    job = make_job(status="Completed")
    result_set = make_result_set(job)
    for i, (histogram, distribution) in enumerate(
        [
            ({"edges": "x", "counts": [1]}, {}),
            ({"edges": [0, 1], "counts": [1, 2, 3]}, {}),
            ({"edges": [0, "a"], "counts": [None]}, {}),
            ({}, {"up": "many", "down": True, "?": None}),
            ([], []),
        ]
    ):
        add_aggregate(
            result_set,
            dataset="d",
            metric=f"m{i}",
            prompts=3,
            scored=3,
            mean=0.5,
            histogram=histogram,
            distribution=distribution,
        )
    html = section(viewer_client, job)
    assert html.count('<td class="num mean">0.500</td>') == 5
    assert "<svg" not in html
