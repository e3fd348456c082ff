"""Celery tasks. Each delegates to the service of the same name (jobs.sync, jobs.submissions,
jobs.deletions), takes ids, never objects, acknowledges late, and retries only on Bedrock's
retryable errors. Beat schedules the periodic ones (settings.CELERY_BEAT_SCHEDULE); the
sweep's lock makes a second beat, a Refresh or a retry during a sweep harmless.

Services import nothing from here: they publish these tasks by name through jobs.publishing,
and a new task published that way gets its name there."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import shared_task
from django.utils import timezone

from jobs import deletions, locks, publishing, submissions, sync
from jobs.bedrock.errors import BedrockError, RetryableError
from jobs.connections import configured_connections
from jobs.models import Heartbeat

logger = logging.getLogger(__name__)

RETRYING = {
    "acks_late": True,
    "ignore_result": True,
    "autoretry_for": (RetryableError,),
    "retry_backoff": 5,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 3,
}


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Scheduled by beat, run by a worker: /healthz reads when it last ran."""
    Heartbeat.objects.update_or_create(name="heartbeat", defaults={"at": timezone.now()})


def _sync(kind: str, connection: str) -> None:
    try:
        run = sync.sweep(kind=kind, connection=connection, raise_errors=True)
    except sync.SyncAlreadyRunning:
        logger.info("%s sweep of %s skipped: another one is running", kind, connection)
        return
    logger.info("%s", sync.describe_run(run))
    spec = sync.KINDS[kind]
    # A first sweep leaves every description to the fill: start it now rather than at its
    # next beat.
    if sync.missing_descriptions(kind=kind, connection=connection) and not locks.is_held(
        spec.fill_lock_name(connection)
    ):
        publishing.publish(publishing.SYNC_DESCRIBE_MISSING, kind, connection)


def _describe_missing(kind: str, connection: str) -> None:
    described = sync.describe_missing(kind=kind, connection=connection)
    if described:
        logger.info("%s of %s: described %d", kind, connection, described)


def _each_connection(
    kind: str, work: Callable[[str, str], None], task: str, lock_name: Callable[[str], str]
) -> None:
    """Beat's per-kind task: with one connection, do the work here (as before connections);
    with several, publish one task per connection (whose lock is free), so the workers run
    them in parallel and a connection that fails fails alone."""
    connections = configured_connections()
    if len(connections) == 1:
        work(kind, connections[0].name)
        return
    calls = [(kind, c.name) for c in connections if not locks.is_held(lock_name(c.name))]
    publishing.publish_many_now(task, calls)


def _sync_each(kind: str) -> None:
    _each_connection(kind, _sync, publishing.SYNC_SWEEP, sync.KINDS[kind].lock_name)


def _describe_missing_each(kind: str) -> None:
    spec = sync.KINDS[kind]
    _each_connection(kind, _describe_missing, publishing.SYNC_DESCRIBE_MISSING, spec.fill_lock_name)


@shared_task(**RETRYING)
def sync_sweep(kind: str, connection: str) -> None:
    """One sweep of one kind of one connection (by name), under its own lock."""
    _sync(kind, connection)


@shared_task(**RETRYING)
def sync_describe_missing(kind: str, connection: str) -> None:
    """One description fill of one kind of one connection, under its own lock."""
    _describe_missing(kind, connection)


@shared_task(**RETRYING)
def evaluation_jobs_sync() -> None:
    _sync_each("evaluation_jobs")


@shared_task(**RETRYING)
def evaluation_jobs_describe_missing() -> None:
    _describe_missing_each("evaluation_jobs")


@shared_task(**RETRYING)
def import_jobs_sync() -> None:
    _sync_each("import_jobs")


@shared_task(**RETRYING)
def import_jobs_describe_missing() -> None:
    _describe_missing_each("import_jobs")


@shared_task(**RETRYING)
def imported_models_sync() -> None:
    _sync_each("imported_models")


@shared_task(**RETRYING)
def imported_models_describe_missing() -> None:
    _describe_missing_each("imported_models")


# --- Submissions (jobs/submissions.py) -------------------------------------------------------


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def submission_attempt(self, submission_id: int) -> None:
    """Another attempt at a submission (an evaluation job's CreateEvaluationJob or a model
    import's CreateModelImportJob) that a transient error left Submitting, with its same client
    token. The service counts attempts and gives up at SUBMISSION_MAX_ATTEMPTS (so Celery's own
    retry count is unlimited here); each transient failure schedules the next attempt after the
    backoff the service chose."""
    _, retry_in = submissions.submission_attempt(submission_id=submission_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(acks_late=True, ignore_result=True)
def submissions_resume() -> None:
    """Beat: restart submissions whose retry task was lost (broker or worker down)."""
    submissions.submissions_resume()


# --- Deletions (jobs/deletions/) -----------------------------------------------------------


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def deletion_batch_run(self, batch_id: int) -> None:
    """Work one deletion batch. The service retries throttling and 5xx itself, then asks for
    a later run (Celery's retry count is unlimited here: items give up on their own after
    DELETION_MAX_ATTEMPTS); a second delivery while a runner holds the batch returns at once."""
    retry_in = deletions.deletion_batch_run(batch_id=batch_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(acks_late=True, ignore_result=True)
def deletion_batches_resume() -> None:
    """Beat: re-enqueue deletion batches whose task was lost (broker or worker down)."""
    deletions.deletion_batches_resume()


# --- Evaluation results (jobs/results/ingest.py) ---------------------------------------------


@shared_task(**RETRYING)
def evaluation_results_fetch(job_id: int, force: bool = False) -> None:
    """Read one completed job's S3 output into the mirror. The service holds a per-job lease
    (a second delivery while one runs returns at once) and raises RetryableError only for
    throttling, 5xx and broken reads."""
    from jobs.results import ingest

    ingest.evaluation_results_fetch(job_id=job_id, force=force)


@shared_task(acks_late=True, ignore_result=True)
def evaluation_results_pending() -> None:
    """Beat: enqueue fetches for Completed jobs without results and for lost ones (locked)."""
    from jobs.results import ingest

    enqueued = ingest.evaluation_results_pending()
    if enqueued:
        logger.info("results: enqueued %d fetches", enqueued)


@shared_task(**RETRYING)
def mirror_tags_refresh(kind: str, arn: str) -> None:
    """One resource's tags read into the mirror (its page asked: none yet, or old). Harmless
    to lose: the next page view or describe asks again."""
    from jobs import tags

    spec = sync.KINDS[kind]
    row = spec.model.objects.filter(arn=arn).values("region", "account").first()
    if row is None:
        return
    try:
        connection = sync.connection_for(**row)
    except BedrockError as exc:  # no connection reaches it (any more): nothing to read
        logger.info("tags of %s not read: %s", arn, exc)
        return
    tags.tags_store(model=spec.model, arn=arn, connection=connection)
