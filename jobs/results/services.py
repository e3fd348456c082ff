"""Writes on a job's results. MINIMAL STAND-IN written with the results pages (issue 11,
"Pages"): the ingestion's own service replaces it when the branches are merged. It keeps the
contract the pages use: `evaluation_results_request(*, job_id, user)` asks for the job's S3
output to be read (again), and the task `jobs.tasks.evaluation_results_fetch` does it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.models import AuditEntry, EvaluationJob, EvaluationResultSet

logger = logging.getLogger(__name__)

FETCH_TASK = "jobs.tasks.evaluation_results_fetch"
AUDIT_ACTION = "evaluation_results_request"
PUBLISH_TIMEOUT = 2.0


@dataclass(frozen=True)
class ResultsRequestOutcome:
    result_set: EvaluationResultSet | None
    requested: bool
    reason: str = ""


def evaluation_results_request(*, job_id: int, user) -> ResultsRequestOutcome:
    """Set the job's result set (made if missing) back to pending and have a worker read the
    output after commit. Only for Completed jobs; a read already waiting or under way is left
    alone (asking twice enqueues one task)."""
    with transaction.atomic():
        job = EvaluationJob.objects.filter(pk=job_id).first()
        if job is None or job.status != "Completed":
            return ResultsRequestOutcome(None, False, "the job has not completed")
        result_set, _ = EvaluationResultSet.objects.get_or_create(job=job)
        result_set = EvaluationResultSet.objects.select_for_update().get(pk=result_set.pk)
        if result_set.state == EvaluationResultSet.State.FETCHING:
            return ResultsRequestOutcome(result_set, False, "the results are being read")
        result_set.state = EvaluationResultSet.State.PENDING
        result_set.error_code = ""
        result_set.error_message = ""
        result_set.requested_at = timezone.now()
        result_set.save(
            update_fields=["state", "error_code", "error_message", "requested_at", "updated_at"]
        )
        AuditEntry.objects.create(
            user=user if getattr(user, "pk", None) else None,
            username=getattr(user, "username", "") or "",
            action=AUDIT_ACTION,
            target_arn=job.arn,
            outcome="requested",
            detail={"name": job.name},
        )

        def send() -> None:
            _publish(job.pk)

        transaction.on_commit(send, robust=True)
    return ResultsRequestOutcome(result_set, True)


def _publish(job_id: int) -> None:
    """Enqueue the fetch by name (the task lives with the ingestion), with short timeouts and
    no retries: with the broker down the request still answers at once, and the result set
    stays pending for the periodic sweep. The broker URL is read from settings on each
    publish (the app's own is fixed at its first use)."""
    url = getattr(settings, "CELERY_BROKER_WRITE_URL", None) or settings.CELERY_BROKER_URL
    options = {"socket_connect_timeout": PUBLISH_TIMEOUT, "socket_timeout": PUBLISH_TIMEOUT}
    with current_app.connection_for_write(
        url, connect_timeout=PUBLISH_TIMEOUT, transport_options=options
    ) as connection:
        current_app.send_task(FETCH_TASK, args=[job_id], connection=connection, retry=False)
