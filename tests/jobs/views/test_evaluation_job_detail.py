"""One job's page: the description laid out, fetched on demand, live status, tags, audit, and
the actions a role allows (Stop for Operators, against the local Bedrock)."""

from __future__ import annotations

import datetime as dt
import re
import socket
import time

import pytest
from django.utils import timezone

from jobs import publishing, sync, tasks
from jobs.bedrock.errors import ServiceError
from jobs.models import AuditEntry, EvaluationJob
from tests.jobs.views import live
from tests.jobs.views.factories import description_for, make_job

pytestmark = pytest.mark.django_db


def url(job, suffix: str = "") -> str:
    return f"/evaluation-jobs/{job.resource_id}/{suffix}"


@pytest.fixture
def no_bedrock(monkeypatch):
    """The page must not call Bedrock for these tests: fail loudly if it does."""

    def refuse(**kwargs):
        raise AssertionError(f"unexpected Bedrock call {kwargs}")

    monkeypatch.setattr(sync, "evaluation_job_describe", refuse)
    monkeypatch.setattr("jobs.bedrock.client.list_tags_for_resource", lambda arn: {"team": "qa"})


def described(**values) -> EvaluationJob:
    job = make_job(**values)
    job.description = description_for(job)
    job.described_at = timezone.now()
    job.needs_description = False
    job.tags, job.tags_synced_at = {"team": "qa"}, timezone.now()
    job.save()
    return job


@pytest.fixture
def mirrored(local_bedrock):
    """The local Bedrock seeded, and the mirror filled by one sweep (no descriptions yet)."""
    local_bedrock.seed(40, random_seed=7)
    sync.evaluation_jobs_sync(raise_errors=True)
    return local_bedrock


def test_an_unknown_job_is_a_404(viewer_client):
    response = viewer_client.get("/evaluation-jobs/abcdefabcdef/")
    assert response.status_code == 404
    assert "/evaluation-jobs/abcdefabcdef/" in response.content.decode()


def test_the_description_is_laid_out_for_a_person(viewer_client, no_bedrock):
    job = described(status="Completed")
    html = viewer_client.get(url(job)).content.decode()
    for text in (
        job.name,
        job.arn,
        "Automated evaluation of the support assistant",  # description
        "Builtin.Bold",  # dataset
        "Builtin.Toxicity",  # metric
        "anthropic.claude-3-haiku-20240307-v1:0",  # model
        "&quot;maxTokens&quot;: 512",  # inference params, pretty-printed
        "s3://results/evaluations/",  # output
        "AmazonBedrock-Evaluation",  # role
        "AWS owned key",  # no KMS key
        "team",  # tags
        "Raw GetEvaluationJob answer",
        "Last modified",
    ):
        assert text in html, text
    raw = re.search(r'<pre class="json" id="raw-json">(.*?)</pre>', html, re.S).group(1)
    assert raw.startswith("{\n") and "  &quot;jobName&quot;: &quot;" in raw
    assert 'data-copy-target="raw-json"' in html
    assert 'data-status="Completed"' in html
    assert 'hx-trigger="every' not in html  # terminal: nothing polls (results load once)


def test_a_failed_job_shows_why_prominently(viewer_client, no_bedrock):
    job = described(status="Failed")
    job.description["failureMessages"] = ["The role cannot read s3://datasets/prompts.jsonl"]
    job.save()
    html = viewer_client.get(url(job)).content.decode()
    callout = re.search(r'<div class="callout error" role="alert">(.*?)</div>', html, re.S).group(1)
    assert "Why it failed" in callout and "cannot read s3://datasets/prompts.jsonl" in callout


def test_html_in_names_and_descriptions_is_shown_as_text(viewer_client, no_bedrock):
    job = described(name="<img src=x onerror=alert(1)>")
    job.description["jobDescription"] = "<script>alert('d')</script>"
    job.save()
    html = viewer_client.get(url(job)).content.decode()
    assert "<img src=x" not in html and "<script>alert(" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(&#x27;d&#x27;)&lt;/script&gt;" in html


def test_a_missing_description_is_fetched_at_once(viewer_client, mirrored):
    job = EvaluationJob.objects.filter(description__isnull=True).first()
    before = mirrored.call_counts().get("GetEvaluationJob", 0)
    html = viewer_client.get(url(job)).content.decode()
    assert mirrored.call_counts()["GetEvaluationJob"] == before + 1
    job.refresh_from_db()
    assert job.description is not None and "Raw GetEvaluationJob answer" in html
    assert job.description["outputDataConfig"]["s3Uri"] in html
    # Terminal and described: the next view reads the mirror only.
    if job.is_terminal:
        viewer_client.get(url(job))
        assert mirrored.call_counts()["GetEvaluationJob"] == before + 1


def test_when_bedrock_fails_the_page_shows_the_summary_with_a_note(viewer_client, monkeypatch):
    job = make_job(name="summary-only", status="Completed")

    def fail(**kwargs):
        raise ServiceError("Service unavailable, try later", code="ServiceUnavailableException")

    monkeypatch.setattr(sync, "evaluation_job_describe", fail)
    monkeypatch.setattr("jobs.bedrock.client.list_tags_for_resource", fail)
    response = viewer_client.get(url(job))
    html = response.content.decode()
    assert response.status_code == 200
    assert "summary-only" in html and "Bedrock did not answer" in html
    assert "Service unavailable, try later" in html
    assert "Not read from Bedrock yet" in html  # tags: from the mirror, not read yet
    assert "has not been fetched from Bedrock yet" in html


def test_tags_come_from_the_mirror_and_a_worker_reads_them_never_the_page(
    viewer_client, mirrored, django_capture_on_commit_callbacks, monkeypatch
):
    published = []
    monkeypatch.setattr(
        "jobs.publishing.publish", lambda task, *args, **kw: published.append((task, args))
    )
    job = EvaluationJob.objects.first()
    for _ in range(20):
        html = viewer_client.get(url(job)).content.decode()
    assert mirrored.call_counts().get("ListTagsForResource", 0) == 0
    assert "Not read from Bedrock yet" in html
    # Twenty views asked a worker once.
    assert published == [(publishing.TAGS_REFRESH, ("evaluation_jobs", job.arn))]
    tasks.mirror_tags_refresh("evaluation_jobs", job.arn)  # what the worker runs
    assert mirrored.call_counts()["ListTagsForResource"] == 1
    html = viewer_client.get(url(job)).content.decode()
    tags = sync.bedrock.list_tags_for_resource(arn=job.arn)
    for key, value in tags.items():
        assert key in html and value in html
    if not tags:
        assert "No tags." in html
    assert mirrored.call_counts()["ListTagsForResource"] == 2  # only the line above


def test_the_sync_reads_tags_with_each_description(mirrored):
    assert sync.evaluation_jobs_describe_missing(rate=1000, budget_seconds=30) == 40
    counts = mirrored.call_counts()
    assert counts["ListTagsForResource"] == counts["GetEvaluationJob"] == 40
    assert not EvaluationJob.objects.filter(tags__isnull=True).exists()
    assert not EvaluationJob.objects.filter(tags_synced_at__isnull=True).exists()


def test_a_running_job_updates_live_from_bedrock(viewer_client, mirrored):
    job = EvaluationJob.objects.filter(status="InProgress").first()
    page = viewer_client.get(url(job)).content.decode()
    assert "hx-" not in re.search(r'<section id="job-status"[^>]*>', page).group(0)
    # One live channel: it names the revision the page shows.
    assert live.is_active(page) and 'hx-trigger="every 3s, live-now from:body"' in page
    assert live.live_url(page).startswith(url(job, "status/?rev="))

    mirrored.force_status(job.arn, "Completed")
    # A description younger than the threshold is not fetched again: nothing to send.
    answer = live.poll(viewer_client, page).content.decode()
    assert "job-status" not in answer and live.is_active(answer)
    # ...an older one is, and the block comes back terminal, highlighted; polling stops.
    EvaluationJob.objects.filter(pk=job.pk).update(
        described_at=timezone.now() - dt.timedelta(seconds=4)
    )
    answer = live.poll(viewer_client, answer).content.decode()
    block = re.search(r'<section id="job-status"[^>]*>', answer).group(0)
    assert 'hx-swap-oob="true"' in block and "live-changed" in block
    assert 'data-status="Completed"' in answer and not live.is_active(answer)
    assert "hx-trigger" not in answer
    assert EvaluationJob.objects.get(pk=job.pk).status == "Completed"
    # Without a revision (no JavaScript's Reload), the block alone.
    html = viewer_client.get(url(job, "status/")).content.decode()
    assert html.lstrip().startswith('<section id="job-status"') and "hx-" not in html


def test_a_viewer_sees_no_stop_and_cannot_stop(viewer_client, no_bedrock):
    job = described(status="InProgress")
    html = viewer_client.get(url(job)).content.decode()
    assert "Stop job" not in html and url(job, "stop/") not in html
    assert viewer_client.post(url(job, "stop/")).status_code == 403
    assert viewer_client.get(url(job, "stop/")).status_code == 403
    assert not AuditEntry.objects.exists()


def test_an_operator_sees_stop_only_while_in_progress(operator_client, no_bedrock):
    running = described(status="InProgress")
    html = operator_client.get(url(running)).content.decode()
    form = re.search(r'<form method="post" action="([^"]+)" data-confirm="[^"]*">', html)
    assert form and form.group(1) == url(running, "stop/")
    assert "csrfmiddlewaretoken" in html
    for status in ("Completed", "Failed", "Stopped", "Stopping"):
        job = described(status=status)
        assert "Stop job" not in operator_client.get(url(job)).content.decode(), status
    assert "Delete" not in operator_client.get(url(described(status="Completed"))).content.decode()


def test_an_operator_stops_a_running_job_on_bedrock(operator_client, operator, mirrored):
    job = EvaluationJob.objects.filter(status="InProgress").first()
    mirrored.force_status(job.arn, "InProgress")  # keep it running whatever the clock says
    response = operator_client.post(url(job, "stop/"))
    assert response.status_code == 302 and response["Location"] == url(job)
    assert mirrored.call_counts()["StopEvaluationJob"] == 1
    job.refresh_from_db()
    assert job.status == "Stopping"
    entry = AuditEntry.objects.get(target_arn=job.arn)
    assert (entry.user, entry.username, entry.action, entry.outcome) == (
        operator,
        "otto-operator",
        "evaluation_job.stop",
        "requested",
    )
    page = operator_client.get(response["Location"]).content.decode()
    assert "Stopping “" in page  # the flash message
    assert "evaluation_job.stop" in page and "otto-operator" in page  # the audit on the page


def test_a_bedrock_refusal_to_stop_becomes_a_message(operator_client, mirrored):
    job = EvaluationJob.objects.filter(status="InProgress").first()
    mirrored.force_status(job.arn, "Completed")  # Bedrock knows better than the mirror
    response = operator_client.post(url(job, "stop/"), follow=True)
    html = response.content.decode()
    assert "Bedrock refused to stop" in html and "only an InProgress job can be stopped" in html
    job.refresh_from_db()
    # Not marked Stopping; the page it returned to fetched the job and shows the truth.
    assert job.status == "Completed" and 'data-status="Completed"' in html
    entry = AuditEntry.objects.get(target_arn=job.arn)
    assert entry.outcome == "failed" and entry.detail["code"] == "ConflictException"


def test_stopping_a_job_that_is_not_running_is_refused_without_calling_bedrock(
    operator_client, no_bedrock, monkeypatch
):
    job = described(status="Completed")
    monkeypatch.setattr(
        "jobs.bedrock.client.stop_evaluation_job", lambda **kw: pytest.fail("called Bedrock")
    )
    html = operator_client.post(url(job, "stop/"), follow=True).content.decode()
    assert "only a job in progress can stop" in html


def test_stop_needs_csrf(operator, no_bedrock):
    from django.test import Client

    job = described(status="InProgress")
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    assert client.post(url(job, "stop/")).status_code == 403


def test_a_vanished_job_says_so_and_is_not_fetched(viewer_client, no_bedrock):
    job = described(status="Completed", listed=False, vanished_at=timezone.now())
    job.description = None
    job.save()
    html = viewer_client.get(url(job)).content.decode()
    assert "Vanished" in html and "Bedrock no longer lists this job" in html


def test_a_description_a_sweep_marked_outdated_is_fetched_again(viewer_client, monkeypatch):
    job = described(status="Completed")
    calls = []

    def describe(*, job):
        calls.append(job.arn)
        job.needs_description = False
        return job

    monkeypatch.setattr(sync, "evaluation_job_describe", describe)
    monkeypatch.setattr("jobs.bedrock.client.list_tags_for_resource", lambda arn: {})
    viewer_client.get(url(job))
    assert calls == []  # fresh and terminal: the mirror is enough
    EvaluationJob.objects.filter(pk=job.pk).update(needs_description=True)
    viewer_client.get(url(job))
    assert calls == [job.arn]


# --- Bedrock on the request path: bounded ------------------------------------------------------


def test_a_slow_bedrock_costs_the_page_seconds_not_a_workers_retry_budget(mirrored, settings):
    """The page's describe is a short call without retries (bedrock.client.on_request_path):
    a Get that takes 8 s is given up after about 4 s, and the mirror is left as it was."""
    from jobs.views.evaluation_jobs import DETAIL
    from jobs.views.mirror import describe_if_needed

    settings.BEDROCK_READ_TIMEOUT, settings.BEDROCK_MAX_ATTEMPTS = 30, 5  # a worker's budget
    job = EvaluationJob.objects.filter(description__isnull=True).first()
    mirrored.set_faults(latency_ms=8000)
    started = time.monotonic()
    obj, error = describe_if_needed(DETAIL, job)
    elapsed = time.monotonic() - started
    assert error is not None and error.code == "ReadTimeoutError"
    assert elapsed < 6, elapsed
    job.refresh_from_db()
    assert job.description is None


def test_an_unreachable_bedrock_leaves_a_readable_page(viewer_client, settings):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.BEDROCK_ENDPOINT_URL = f"http://127.0.0.1:{port}"
    job = make_job(name="summary-only", status="InProgress")
    response = viewer_client.get(url(job))
    html = response.content.decode()
    assert response.status_code == 200
    assert "summary-only" in html and "Bedrock did not answer" in html
    assert "has not been fetched from Bedrock yet" in html
