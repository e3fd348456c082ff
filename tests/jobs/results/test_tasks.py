"""What starts a fetch: the sync seeing a job become Completed, the periodic catch-up, the Retry
request; the task's retries and lock; `manage.py results_fetch`; and a real worker and beat
taking a job from Completed in the local Bedrock to ready results."""

from __future__ import annotations

import datetime as dt
import io
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from jobs import locks, publishing, sync, tasks
from jobs.bedrock import client as bedrock
from jobs.bedrock import errors
from jobs.forms.evaluation import FORMS
from jobs.models import AuditEntry, EvaluationJob, EvaluationResultSet
from jobs.results import ingest
from tests.conftest import free_port
from tests.jobs.forms import factories as f
from tests.jobs.results import outputs
from tests.jobs.results.conftest import aggregates, put_outputs
from tests.jobs.views.factories import make_job

pytest_plugins = ["tests.worker"]

BOOLQ_ACCURACY = {
    "prompts": 4,
    "scored": 4,
    "mean": 0.55,
    "stddev": 0.3416,
    "counts": [0, 0, 1, 0, 1, 0, 1, 0, 0, 1],
    "method": "",
    "distribution": {},
}


@pytest.fixture(autouse=True)
def nobody_listens(settings):
    """A broker nobody listens on: a publish a test did not capture fails instead of reaching
    someone's worker."""
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"


def create_in_bedrock(name: str) -> str:
    """A programmatic job in the local Bedrock writing to s3://eval-out/runs/; its ARN."""
    request = FORMS["programmatic"](f.post("programmatic")).build_request()
    request["jobName"] = name
    request["outputDataConfig"] = {"s3Uri": f"s3://{outputs.BUCKET}/{outputs.BASE}/"}
    return bedrock.create_evaluation_job(**request)


def published(callbacks) -> list[tuple[list[int], bool]]:
    """(job ids, force) of each captured publish of result fetches."""
    found = []
    for cb in callbacks:
        if getattr(cb, "func", None) is publishing.publish_many_now:
            name, calls = cb.args
            if name == publishing.RESULTS_FETCH:
                found.append(([pk for pk, _ in calls], calls[0][1]))
    return found


# --- configuration ----------------------------------------------------------------------------


def test_beat_runs_the_catch_up_often_and_the_fetch_task_retries_only_transient_errors():
    entry = django_settings.CELERY_BEAT_SCHEDULE["evaluation_results_pending"]
    assert (
        entry["task"]
        == "jobs.tasks.evaluation_results_pending"
        == tasks.evaluation_results_pending.name
    )
    assert entry["schedule"] == timedelta(seconds=django_settings.RESULTS_PENDING_INTERVAL_SECONDS)
    assert tasks.evaluation_results_fetch.name == "jobs.tasks.evaluation_results_fetch"
    assert tasks.evaluation_results_fetch.acks_late is True
    assert tasks.evaluation_results_fetch.autoretry_for == (errors.RetryableError,)
    assert tasks.evaluation_results_fetch.retry_backoff


# --- the trigger from a sweep -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_sweep_that_sees_a_job_complete_asks_for_its_results(
    local_bedrock, output_bucket, django_capture_on_commit_callbacks
):
    local_bedrock.set_faults(time_scale=1e9)  # statuses change only when forced
    arn = create_in_bedrock("trigger-eval")
    sync.evaluation_jobs_sync()  # the first sweep: InProgress
    job = EvaluationJob.objects.get(arn=arn)
    assert job.status == "InProgress" and not EvaluationResultSet.objects.exists()
    local_bedrock.force_status(arn, "Completed")
    job.description = {**(job.description or {}), "jobName": "trigger-eval"}
    put_outputs(job, outputs.automatic())

    with django_capture_on_commit_callbacks() as callbacks:
        sync.evaluation_jobs_sync()

    result_set = EvaluationResultSet.objects.get(job__arn=arn)
    assert result_set.state == "pending" and result_set.requested_at is not None
    assert published(callbacks) == [([job.pk], False)]
    # What the worker then runs:
    tasks.evaluation_results_fetch(job.pk)
    result_set.refresh_from_db()
    assert result_set.state == "ready", result_set.error_message
    got = aggregates(result_set)
    assert got[("Builtin.BoolQ", outputs.CLAUDE, "Accuracy")] == BOOLQ_ACCURACY
    # A later sweep with nothing new asks for nothing.
    with django_capture_on_commit_callbacks() as callbacks:
        sync.evaluation_jobs_sync()
    assert published(callbacks) == []

    # Deleted from Bedrock: the mirror keeps a tombstone, and the tombstone its results.
    assert bedrock.batch_delete_evaluation_jobs(identifiers=[arn])[1] == []
    local_bedrock.set_faults(time_scale=0.001)
    deadline = time.monotonic() + 10
    while any(s["jobArn"] == arn for p in bedrock.iter_evaluation_job_pages() for s in p):
        assert time.monotonic() < deadline, "the deleted job never disappeared"
        time.sleep(0.05)
    local_bedrock.set_faults(time_scale=1e9)
    with django_capture_on_commit_callbacks() as callbacks:
        assert sync.evaluation_jobs_sync().vanished == 1
        assert ingest.evaluation_results_pending() == 0
    assert published(callbacks) == []
    tombstone = EvaluationResultSet.objects.get(job__arn=arn)
    assert tombstone.job.listed is False and tombstone.state == "ready"
    assert aggregates(tombstone) == got


@pytest.mark.django_db
def test_a_first_sweep_leaves_results_to_the_catch_up(
    local_bedrock, django_capture_on_commit_callbacks
):
    local_bedrock.set_faults(time_scale=1e9)
    local_bedrock.force_status(create_in_bedrock("first-eval"), "Completed")

    with django_capture_on_commit_callbacks() as callbacks:
        sync.evaluation_jobs_sync()

    assert published(callbacks) == [] and not EvaluationResultSet.objects.exists()
    with django_capture_on_commit_callbacks() as callbacks:
        assert ingest.evaluation_results_pending() == 1
    assert published(callbacks) == [([EvaluationJob.objects.get().pk], False)]


# --- the periodic catch-up --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_catch_up_enqueues_completed_jobs_without_results_and_lost_fetches(
    settings, django_capture_on_commit_callbacks
):
    base = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    fresh = [make_job(created_at=base + timedelta(hours=h)) for h in range(3)]
    make_job(status="InProgress", created_at=base + timedelta(hours=9))
    long_ago = timezone.now() - timedelta(seconds=settings.RESULTS_PENDING_GRACE_SECONDS + 5)
    lost = make_job()
    EvaluationResultSet.objects.create(job=lost, requested_at=long_ago)
    waiting = make_job()
    EvaluationResultSet.objects.create(job=waiting, requested_at=timezone.now())
    for state in ("ready", "failed"):
        EvaluationResultSet.objects.create(job=make_job(), state=state, requested_at=long_ago)

    with django_capture_on_commit_callbacks() as callbacks:
        assert ingest.evaluation_results_pending() == 4

    [(ids, force)] = published(callbacks)
    assert ids == [fresh[2].pk, fresh[1].pk, fresh[0].pk, lost.pk] and force is False
    assert EvaluationResultSet.objects.filter(state="pending").count() == 5
    assert EvaluationResultSet.objects.get(job=lost).requested_at > long_ago

    # Bounded per run; another run holding the lock: nothing.
    settings.RESULTS_PENDING_BATCH = 1
    EvaluationResultSet.objects.filter(job__in=fresh).delete()
    with django_capture_on_commit_callbacks() as callbacks:
        assert ingest.evaluation_results_pending() == 1
    assert published(callbacks) == [([fresh[2].pk], False)]
    lease = locks.acquire("results:pending", ttl=60)
    assert ingest.evaluation_results_pending() == 0
    lease.release()


# --- the task: retries and its lock -----------------------------------------------------------


@pytest.mark.django_db
def test_a_transient_failure_is_raised_for_a_retry_then_fails_the_set_after_the_attempts(
    settings, job_with_outputs
):
    job = job_with_outputs("auto-eval", outputs.automatic())
    settings.S3_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens: no answer at all
    settings.BEDROCK_MAX_ATTEMPTS = 1
    settings.RESULTS_MAX_ATTEMPTS = 2

    # Called in-process, Celery's retry re-raises the error rather than queueing a retry.
    with pytest.raises(errors.EndpointUnreachableError):
        tasks.evaluation_results_fetch(job.pk)
    result_set = EvaluationResultSet.objects.get(job=job)
    assert (result_set.state, result_set.attempts) == ("pending", 1)
    assert result_set.error_code == "EndpointConnectionError"

    tasks.evaluation_results_fetch(job.pk)  # the last attempt: no raise, failed
    result_set.refresh_from_db()
    assert (result_set.state, result_set.error_code) == ("failed", "EndpointConnectionError")
    assert "gave up after 2 tries" in result_set.error_message


@pytest.mark.django_db
def test_a_fetch_while_another_runs_for_the_same_job_does_nothing(job_with_outputs):
    job = job_with_outputs("auto-eval", outputs.automatic())
    lease = locks.acquire(f"results:{job.pk}", ttl=60)

    assert ingest.evaluation_results_fetch(job_id=job.pk) is None
    assert not EvaluationResultSet.objects.exists()
    lease.release()
    assert ingest.evaluation_results_fetch(job_id=job.pk).state == "ready"


def test_publishing_with_the_broker_down_fails_fast_and_quietly():
    started = time.monotonic()
    calls = [(pk, False) for pk in range(12345, 12365)]
    assert publishing.publish_many_now(publishing.RESULTS_FETCH, calls) is False
    assert time.monotonic() - started < publishing.PUBLISH_TIMEOUT + 0.5


# --- Retry ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_retry_asks_for_a_forced_fetch_and_is_audited(
    operator, job_with_outputs, django_capture_on_commit_callbacks
):
    job = job_with_outputs("auto-eval", outputs.automatic())
    EvaluationResultSet.objects.create(
        job=job,
        state="failed",
        error_code="AccessDenied",
        error_message="AccessDenied on x",
        attempts=3,
    )

    with django_capture_on_commit_callbacks() as callbacks:
        result_set = ingest.evaluation_results_request(job_id=job.pk, user=operator)

    assert (result_set.state, result_set.error_code, result_set.attempts) == ("pending", "", 0)
    assert published(callbacks) == [([job.pk], True)]
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.username, entry.target_arn) == (
        "evaluation_results.request",
        "otto-operator",
        job.arn,
    )
    tasks.evaluation_results_fetch(job.pk, True)
    result_set.refresh_from_db()
    assert result_set.state == "ready"

    # A ready set stays ready (its results on show) until the new ones replace them.
    with django_capture_on_commit_callbacks() as callbacks:
        again = ingest.evaluation_results_request(job_id=job.pk, user=operator)
    assert again.state == "ready" and published(callbacks) == [([job.pk], True)]


@pytest.mark.django_db
def test_retry_of_a_job_that_is_not_completed_asks_nothing(
    operator, django_capture_on_commit_callbacks
):
    job = make_job(status="Failed")
    with django_capture_on_commit_callbacks() as callbacks:
        assert ingest.evaluation_results_request(job_id=job.pk, user=operator) is None
    assert callbacks == [] and not AuditEntry.objects.exists()
    with pytest.raises(EvaluationJob.DoesNotExist):
        ingest.evaluation_results_request(job_id=987654, user=operator)


# --- manage.py results_fetch ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_fetches_in_the_foreground_and_prints_the_aggregates(job_with_outputs):
    job = job_with_outputs("auto-eval", outputs.automatic())
    job_with_outputs("judge-eval", outputs.judge(), nested=True)
    out = io.StringIO()

    call_command("results_fetch", "--job", job.arn, stdout=out)

    text = out.getvalue()
    assert "ready: 3 files, 8 lines (3 could not be read), 6 records" in text
    row = next(line for line in text.splitlines() if "Builtin.BoolQ" in line and "Accuracy" in line)
    assert row.split() == [
        "Builtin.BoolQ",
        outputs.CLAUDE,
        "Accuracy",
        "4",
        "4",
        "0.5500",
        "0.3416",
    ]
    assert EvaluationResultSet.objects.count() == 1

    out = io.StringIO()
    call_command("results_fetch", stdout=out)  # every completed job without results
    assert "judge-eval" in out.getvalue() and "auto-eval" not in out.getvalue()
    assert EvaluationResultSet.objects.filter(state="ready").count() == 2

    with pytest.raises(CommandError, match="not in the mirror"):
        call_command("results_fetch", "--job", "arn:aws:bedrock:us-east-1:1:evaluation-job/nope")


# --- a real worker and beat -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_worker_reads_the_results_of_a_job_that_completes(
    local_bedrock, output_bucket, local_s3, celery_processes
):
    local_bedrock.set_faults(time_scale=1e9)
    arn = create_in_bedrock("worker-eval")
    procs = celery_processes(
        S3_ENDPOINT_URL=local_s3.url,
        SYNC_INTERVAL_SECONDS="1",
        # The catch-up stays out of the way: the sweep's own trigger must do it.
        RESULTS_PENDING_INTERVAL_SECONDS="3600",
        DASHBOARD_HEARTBEAT_SECONDS="60",
    )
    job = procs.wait_for(lambda: EvaluationJob.objects.filter(arn=arn).first())
    put_outputs(
        EvaluationJob(resource_id=job.resource_id, description={"jobName": "worker-eval"}),
        outputs.automatic(),
    )
    local_bedrock.force_status(arn, "Completed")

    result_set = procs.wait_for(
        lambda: EvaluationResultSet.objects.filter(job__arn=arn, state="ready").first()
    )
    assert aggregates(result_set)[("Builtin.BoolQ", outputs.CLAUDE, "Accuracy")] == BOOLQ_ACCURACY
    assert "evaluation_results_fetch" in procs.output
