"""Stop selected… on the evaluation-job list: the checkboxes (Operators, InProgress filter),
the confirmation page, and stopping each job on the local Bedrock (jobs/stopping.py)."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client

from jobs import sync
from jobs.bedrock import client as bedrock
from jobs.models import AuditEntry, EvaluationJob
from jobs.stopping import STOP_BATCH_LIMIT
from tests.jobs.views.factories import make_job

pytestmark = pytest.mark.django_db

STOP_URL = "/evaluation-jobs/stop/"
STOP_BOX = re.compile(r'<input type="checkbox" class="stop-job" form="stop-select" name="job"')


@pytest.fixture
def running(local_bedrock):
    """Three jobs held InProgress and one Completed on the local Bedrock, mirrored by a sweep."""
    local_bedrock.seed(12, random_seed=3)
    sync.evaluation_jobs_sync(raise_errors=True)
    jobs = list(EvaluationJob.objects.order_by("name"))
    three, done = jobs[:3], jobs[3]
    for job in three:
        local_bedrock.force_status(job.arn, "InProgress")
    local_bedrock.force_status(done.arn, "Completed")
    EvaluationJob.objects.filter(pk__in=[j.pk for j in three]).update(status="InProgress")
    EvaluationJob.objects.filter(pk=done.pk).update(status="Completed")
    return [EvaluationJob.objects.get(pk=j.pk) for j in three], done


def picked(jobs) -> dict:
    return {"job": [j.resource_id for j in jobs]}


def test_an_operator_stops_three_running_jobs_and_the_completed_one_is_skipped(
    operator_client, operator, running, local_bedrock
):
    three, done = running
    page = operator_client.get(STOP_URL, picked([*three, done]))
    html = page.content.decode()
    assert page.status_code == 200 and "Stop 3 evaluation jobs?" in html
    assert done.name in html and "it is Completed; only a job in progress can stop" in html
    assert html.count('type="hidden" name="job"') == 3 and done.resource_id not in re.findall(
        r'name="job" value="([a-z0-9]+)"', html
    )
    local_bedrock.reset_call_counts()

    response = operator_client.post(STOP_URL, picked([*three, done]), follow=True)
    assert response.redirect_chain[-1][0] == "/evaluation-jobs/"
    html = response.content.decode()
    assert html.count("Stopping “") == 3 and f"“{done.name}” was not stopped" in html
    assert local_bedrock.call_counts()["StopEvaluationJob"] == 3  # the Completed one: no call
    for job in three:
        job.refresh_from_db()
        assert job.status == "Stopping"
        assert bedrock.get_evaluation_job(identifier=job.arn)["status"] == "Stopping"
        entry = AuditEntry.objects.get(target_arn=job.arn)
        assert (entry.user, entry.action, entry.outcome) == (
            operator,
            "evaluation_job.stop",
            "requested",
        )
    assert not AuditEntry.objects.filter(target_arn=done.arn).exists()
    assert EvaluationJob.objects.get(pk=done.pk).status == "Completed"

    # The local Bedrock's clock winds them down: Stopping, then Stopped.
    local_bedrock.set_faults(time_scale=0.001)
    deadline = time.monotonic() + 10
    statuses: set[str] = set()
    while time.monotonic() < deadline:
        statuses = {bedrock.get_evaluation_job(identifier=j.arn)["status"] for j in three}
        if statuses == {"Stopped"}:
            break
        time.sleep(0.05)
    assert statuses == {"Stopped"}


def test_a_bedrock_refusal_is_reported_per_job_and_the_others_still_stop(
    operator_client, running, local_bedrock
):
    three, _ = running
    local_bedrock.force_status(three[0].arn, "Completed")  # Bedrock knows better than the mirror
    html = operator_client.post(STOP_URL, picked(three), follow=True).content.decode()
    assert f"Bedrock refused to stop “{three[0].name}”" in html
    assert html.count("Stopping “") == 2
    assert EvaluationJob.objects.get(pk=three[0].pk).status == "InProgress"
    assert AuditEntry.objects.get(target_arn=three[0].arn).outcome == "failed"
    assert {EvaluationJob.objects.get(pk=j.pk).status for j in three[1:]} == {"Stopping"}


def test_more_than_the_cap_is_refused_with_a_message(operator_client, monkeypatch):
    monkeypatch.setattr(
        "jobs.bedrock.client.stop_evaluation_job", lambda **kw: pytest.fail("called Bedrock")
    )
    ids = {"job": [f"job{n:04d}" for n in range(STOP_BATCH_LIMIT + 1)]}
    for response in (operator_client.get(STOP_URL, ids), operator_client.post(STOP_URL, ids)):
        assert response.status_code == 400
        assert f"stop at most {STOP_BATCH_LIMIT} at a time" in response.content.decode()


def test_nothing_picked_says_so(operator_client):
    html = operator_client.get(STOP_URL).content.decode()
    assert "Nothing to stop" in html and "confirm-form" not in html


def test_a_viewer_cannot_see_or_use_stop_selection(viewer_client):
    job = make_job(status="InProgress")
    assert viewer_client.get(STOP_URL, picked([job])).status_code == 403
    assert viewer_client.post(STOP_URL, picked([job])).status_code == 403
    html = viewer_client.get("/evaluation-jobs/?status=InProgress").content.decode()
    assert not STOP_BOX.search(html) and "Stop selected" not in html
    assert "Filter to running jobs to stop several at once" not in html
    assert EvaluationJob.objects.get(pk=job.pk).status == "InProgress"


def test_stop_selection_needs_csrf(operator, monkeypatch):
    monkeypatch.setattr(
        "jobs.bedrock.client.stop_evaluation_job", lambda **kw: pytest.fail("called Bedrock")
    )
    job = make_job(status="InProgress")
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    assert client.post(STOP_URL, picked([job])).status_code == 403
    assert EvaluationJob.objects.get(pk=job.pk).status == "InProgress"


def test_the_checkboxes_appear_only_for_operators_on_the_in_progress_filter(operator_client):
    running = [make_job(status="InProgress") for _ in range(2)]
    make_job(status="Completed")
    html = operator_client.get("/evaluation-jobs/?status=InProgress").content.decode()
    assert len(STOP_BOX.findall(html)) == 2 and "Stop selected…" in html
    assert 'id="stop-select"' in html and f'action="{STOP_URL}"' in html
    for job in running:
        assert f'form="stop-select" name="job" value="{job.resource_id}"' in html
    assert "Filter to running jobs" not in html

    for query in ("", "?status=Completed", "?status=InProgress&status=Stopping"):
        html = operator_client.get(f"/evaluation-jobs/{query}").content.decode()
        assert not STOP_BOX.search(html) and 'id="stop-select"' not in html, query
        assert "Filter to running jobs to stop several at once" in html, query
        assert 'href="/evaluation-jobs/?status=InProgress"' in html, query
