"""Which completed evaluation jobs need their results read, and asking a worker to read them.

Apart from jobs/results/ingest.py so that the sync (which calls `evaluation_results_track`
after each sweep) and the ingestion (which describes a job through the sync) do not import
each other. Publishing goes through jobs/publishing.py: after commit, time-bounded, never
raising; what a dead broker did not take stays pending for `evaluation_results_pending`.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from jobs import publishing
from jobs.models import EvaluationJob, EvaluationResultSet

State = EvaluationResultSet.State


def enqueue(job_ids: list[int], *, force: bool = False) -> None:
    """Ask a worker to fetch each job's results once the current transaction commits."""
    publishing.publish_many(publishing.RESULTS_FETCH, [(pk, force) for pk in job_ids])


def start(job_ids: list[int]) -> int:
    """Pending result sets for these Completed jobs (created if missing), enqueued."""
    if not job_ids:
        return 0
    now = timezone.now()
    EvaluationResultSet.objects.bulk_create(
        [EvaluationResultSet(job_id=pk, requested_at=now) for pk in job_ids],
        ignore_conflicts=True,
    )
    EvaluationResultSet.objects.filter(job_id__in=job_ids).exclude(
        state__in=(State.READY, State.FAILED)
    ).update(requested_at=now, updated_at=now)
    enqueue(job_ids)
    return len(job_ids)


def without_results():
    return EvaluationJob.objects.filter(status="Completed", results__isnull=True)


def evaluation_results_track(*, since) -> int:
    """The sync's hook: evaluation jobs that the sweep saw become Completed (their rows changed
    since `since`) and have no result set get a pending one and a fetch. Bounded by
    RESULTS_PENDING_BATCH; evaluation_results_pending takes the rest."""
    ids = list(
        without_results()
        .filter(last_synced_at__gte=since)
        .order_by("-created_at")
        .values_list("pk", flat=True)[: settings.RESULTS_PENDING_BATCH]
    )
    return start(ids)
