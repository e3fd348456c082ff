"""Celery tasks: called in-process for their contract, and run for real by a worker that beat
feeds on the schedule from settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings

from jobs import locks, sync, tasks
from jobs.bedrock import errors
from jobs.models import EvaluationJob, StatusCount, SyncRun

pytest_plugins = ["tests.worker"]


def test_beat_sweeps_every_kind_on_the_interval_from_settings():
    schedule = django_settings.CELERY_BEAT_SCHEDULE
    for kind in sync.KINDS:
        entry = schedule[f"{kind}_sync"]
        assert entry["task"] == f"jobs.tasks.{kind}_sync"
        assert entry["schedule"] == timedelta(seconds=django_settings.SYNC_INTERVAL_SECONDS)
        assert schedule[f"{kind}_describe_missing"]["task"] == f"jobs.tasks.{kind}_describe_missing"
        assert getattr(tasks, f"{kind}_sync").name == f"jobs.tasks.{kind}_sync"


def test_sync_tasks_ack_late_and_retry_only_on_retryable_errors():
    for kind in sync.KINDS:
        for task in (getattr(tasks, f"{kind}_sync"), getattr(tasks, f"{kind}_describe_missing")):
            assert task.acks_late is True
            assert task.autoretry_for == (errors.RetryableError,)


@pytest.mark.django_db
def test_the_sync_task_sweeps_and_skips_quietly_when_a_sweep_is_running(
    local_bedrock, django_capture_on_commit_callbacks
):
    local_bedrock.seed(count=12)
    lease = locks.acquire("sync:evaluation_jobs:default", ttl=60)

    tasks.evaluation_jobs_sync()  # skipped, no error

    assert not SyncRun.objects.exists()
    lease.release()
    with django_capture_on_commit_callbacks() as callbacks:
        tasks.evaluation_jobs_sync()
    assert EvaluationJob.objects.count() == 12
    # The first sweep left every description to the fill, which it asked for at once.
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_the_sync_task_raises_a_retryable_error_for_celery_to_retry(local_bedrock, settings):
    settings.BEDROCK_MAX_ATTEMPTS = 1
    settings.SYNC_LIST_ATTEMPTS = 1
    local_bedrock.set_faults(error_rate=1.0)

    # Called in-process, Celery's retry re-raises the error rather than queueing a retry.
    with pytest.raises(errors.ServiceError):
        tasks.evaluation_jobs_sync()

    assert "InternalServerException" in SyncRun.objects.get().error


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_and_beat_sweep_and_fill_the_mirror(local_bedrock, celery_processes):
    local_bedrock.set_faults(time_scale=1e9)
    local_bedrock.seed(count=60)
    procs = celery_processes(
        SYNC_INTERVAL_SECONDS="1",
        SYNC_DESCRIBE_INTERVAL_SECONDS="1",
        SYNC_DESCRIBE_RATE="100",
        DASHBOARD_HEARTBEAT_SECONDS="60",
    )

    run = procs.wait_for(
        lambda: SyncRun.objects.filter(kind="evaluation_jobs", finished_at__isnull=False).first()
    )
    assert run.error == "" and run.added == 60, procs.output
    procs.wait_for(lambda: not EvaluationJob.objects.filter(needs_description=True).exists())

    assert EvaluationJob.objects.count() == 60
    assert all(job.description["jobArn"] == job.arn for job in EvaluationJob.objects.all())
    total = sum(StatusCount.objects.filter(kind="evaluation_jobs").values_list("count", flat=True))
    assert total == 60
    # Beat keeps sweeping on the schedule; the lock keeps the sweeps from overlapping.
    procs.wait_for(lambda: SyncRun.objects.filter(kind="evaluation_jobs").count() >= 3)
    runs = list(SyncRun.objects.filter(kind="evaluation_jobs", finished_at__isnull=False))
    for a in runs:
        for b in runs:
            assert a == b or a.finished_at <= b.started_at or b.finished_at <= a.started_at
    assert local_bedrock.call_counts()["GetEvaluationJob"] == 60
    assert "Traceback" not in procs.output, procs.output
