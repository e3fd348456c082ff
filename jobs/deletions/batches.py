"""Recording a batch: the intent first (one item per resource, skips with their reason),
then its task published after commit; retrying a batch's failures."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from jobs import publishing
from jobs.deletions.kinds import KIND_EVALUATION_JOBS, KINDS
from jobs.deletions.selection import Selection
from jobs.models import AuditEntry, DeletionBatch, DeletionItem

logger = logging.getLogger(__name__)

BATCH_AUDIT = "deletion_batch"
WRITE_CHUNK = 1000


# --- Recording a batch ----------------------------------------------------------------------


def deletion_batch_create(
    *,
    selection: Selection,
    user: Any,
    idempotency_key: str,
    retry_of: DeletionBatch | None = None,
    description: str = "",
    kind: str = KIND_EVALUATION_JOBS,
) -> tuple[DeletionBatch, bool]:
    """Record a batch deleting every job in `selection`, once per `idempotency_key`, and
    enqueue its task after commit. Returns (batch, created); a key seen before returns its
    batch untouched. Jobs the mirror already rules out are recorded as skipped, with why.
    `kind`: what the selection's ids are (KINDS; imported models take ids only)."""
    existing = DeletionBatch.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    now = timezone.now()
    username = user.get_username() if user is not None else ""
    try:
        with transaction.atomic():
            batch = DeletionBatch.objects.create(
                kind=kind,
                idempotency_key=idempotency_key,
                created_by=user if getattr(user, "pk", None) else None,
                created_by_username=username,
                description=(description or selection.describe())[:500],
                selection=selection.as_record(),
                retry_of=retry_of,
                resume_after=now + dt.timedelta(seconds=settings.DELETION_RESUME_GRACE_SECONDS),
            )
            counts = _record_items(batch, selection, now=now)
            if not counts[DeletionItem.PENDING]:
                batch.finished_at = now
                batch.save(update_fields=["finished_at"])
            _audit_batch(batch, outcome="requested", detail=dict(counts))
            if counts[DeletionItem.PENDING]:
                publishing.publish(publishing.DELETION_BATCH_RUN, batch.pk)
    except IntegrityError:
        # Another request recorded the same key a moment before.
        return DeletionBatch.objects.get(idempotency_key=idempotency_key), False
    logger.info("deletion batch %s recorded by %s: %s", batch.pk, username, dict(counts))
    return batch, True


def _record_items(batch: DeletionBatch, selection: Selection, *, now: dt.datetime) -> Counter:
    counts: Counter[str] = Counter({DeletionItem.PENDING: 0})
    spec = KINDS[batch.kind]
    rows = (
        spec.selected(selection)
        .order_by("-created_at", "-arn")
        .values_list("arn", "resource_id", "name", "status", "listed")
    )
    chunk: list[DeletionItem] = []
    for arn, resource_id, name, status, listed in rows.iterator(chunk_size=WRITE_CHUNK):
        skip = spec.skip(status, listed)
        item = DeletionItem(
            batch=batch,
            arn=arn,
            resource_id=resource_id,
            name=name,
            status_at_selection=status,
        )
        if skip is not None:
            item.outcome, item.code, item.reason, item.settled_at = (
                DeletionItem.SKIPPED,
                skip.code,
                skip.reason,
                now,
            )
        counts[item.outcome] += 1
        chunk.append(item)
        if len(chunk) >= WRITE_CHUNK:
            DeletionItem.objects.bulk_create(chunk)
            chunk = []
    if chunk:
        DeletionItem.objects.bulk_create(chunk)
    return counts


def deletion_batch_retry_failed(*, batch: DeletionBatch, user: Any) -> DeletionBatch | None:
    """A new batch for the failed items of `batch` (None if none failed). Retrying the same
    batch twice (a double click) gives the one retry batch."""
    failed = list(
        batch.items.filter(outcome=DeletionItem.FAILED).values_list("resource_id", flat=True)
    )
    if not failed:
        return None
    retry, _ = deletion_batch_create(
        selection=Selection(ids=frozenset(failed)),
        user=user,
        idempotency_key=f"retry-of-{batch.pk}",
        retry_of=batch,
        kind=batch.kind,
        description=f"The {len(failed):,} failed item{'s' if len(failed) != 1 else ''} "
        f"of deletion #{batch.pk}",
    )
    return retry


def _audit_batch(batch: DeletionBatch, *, outcome: str, detail: dict[str, Any]) -> None:
    AuditEntry.objects.create(
        user_id=batch.created_by_id,
        username=batch.created_by_username,
        action=f"{BATCH_AUDIT}.{'create' if outcome == 'requested' else 'finish'}",
        target_arn="",
        outcome=outcome,
        detail={
            "batch": batch.pk,
            "kind": batch.kind,
            "description": batch.description,
            **({"retry_of": batch.retry_of_id} if batch.retry_of_id else {}),
            **detail,
        },
    )
