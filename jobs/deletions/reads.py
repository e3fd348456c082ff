"""Reads for the deletion pages: a batch, its counts and items, recent batches."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Max, Q

from jobs.deletions.kinds import KINDS
from jobs.models import DeletionBatch, DeletionItem
from jobs.pagination import KeysetPage, keyset_page, page_scope

# --- Reads for the pages --------------------------------------------------------------------


def batch_lock_name(batch_id: int) -> str:
    """The lease a batch's runner holds (jobs/locks.py) while it works the batch."""
    return f"deletion:{batch_id}"


# A batch nobody has worked for this long says so on its page.
WAIT_NOTICE_SECONDS = 10


@dataclass(frozen=True)
class BatchWait:
    """What an unfinished batch no runner holds is waiting for, for its page."""

    seconds: int  # since a worker last worked it (or since it was recorded)
    started: bool
    retrying: str = ""  # the error code a Celery retry is waiting out, if that is why

    @property
    def text(self) -> str:
        if self.retrying:
            return (
                f"Bedrock did not answer the last call ({self.retrying}); waiting to try "
                "again, as Bedrock asks."
            )
        if self.started:
            return (
                f"No worker has picked this up for {self.seconds} s: the worker working it "
                "stopped. It carries on within 30 s of a worker being available."
            )
        return (
            f"No worker has picked this up for {self.seconds} s. It starts as soon as a "
            "worker is available."
        )


def deletion_batch_wait(*, batch: DeletionBatch) -> BatchWait | None:
    """None while a runner holds the batch (or it is finished, or was touched moments ago);
    otherwise how long it has waited, and for what."""
    from django.utils import timezone

    from jobs import locks

    if batch.is_finished or locks.is_held(batch_lock_name(batch.pk)):
        return None
    items = DeletionItem.objects.filter(batch=batch)
    last = items.aggregate(claimed=Max("claimed_at"), settled=Max("settled_at"))
    seen = [t for t in (batch.created_at, batch.started_at, *last.values()) if t is not None]
    now = timezone.now()
    idle = int((now - max(seen)).total_seconds())
    if batch.resume_after > now:
        retrying = (
            items.filter(outcome=DeletionItem.PENDING, reason__startswith="Retrying:")
            .values_list("code", flat=True)
            .first()
        )
        if retrying is not None:
            return BatchWait(seconds=idle, started=True, retrying=retrying or "an error")
    if idle < WAIT_NOTICE_SECONDS:
        return None
    return BatchWait(seconds=idle, started=batch.started_at is not None)


@dataclass(frozen=True)
class BatchCounts:
    pending: int = 0
    deleted: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.deleted + self.failed + self.skipped

    @property
    def settled(self) -> int:
        return self.total - self.pending

    @property
    def percent(self) -> int:
        """Settled share, rounded down: 100 only when nothing is pending."""
        return 100 if not self.total else self.settled * 100 // self.total

    def as_dict(self) -> dict[str, int]:
        return {
            "pending": self.pending,
            "deleted": self.deleted,
            "failed": self.failed,
            "skipped": self.skipped,
        }


def deletion_batch_counts(*, batch: DeletionBatch) -> BatchCounts:
    rows = DeletionItem.objects.filter(batch=batch).values_list("outcome").annotate(n=Count("pk"))
    return BatchCounts(**{outcome: n for outcome, n in rows})


def deletion_batch_for_key(*, idempotency_key: str) -> DeletionBatch | None:
    """The batch a confirmation page (its idempotency key) already recorded, or None."""
    return DeletionBatch.objects.filter(idempotency_key=idempotency_key).first()


def deletion_batch_get(*, batch_id: int) -> DeletionBatch | None:
    return DeletionBatch.objects.select_related("retry_of").filter(pk=batch_id).first()


def deletion_batch_items(
    *, batch: DeletionBatch, outcome: str = "", token: str | None = None, size: int = 100
) -> KeysetPage[DeletionItem]:
    """One page of a batch's items in selection order, optionally of one outcome. Raises
    jobs.pagination.PageTokenError for a bad token."""
    qs = DeletionItem.objects.filter(batch=batch)
    if outcome:
        qs = qs.filter(outcome=outcome)
    scope = page_scope("deletion_items", {"batch": batch.pk, "outcome": outcome})
    return keyset_page(qs, size=size, token=token, scope=scope, descending=False, keys=("id",))


def deletion_batch_list(*, token: str | None = None, size: int = 25) -> KeysetPage[DeletionBatch]:
    """Recent batches, newest first, each with its item counts (pending, deleted, ...)."""

    def count(outcome: str) -> Count:
        return Count("items", filter=Q(items__outcome=outcome))

    qs = DeletionBatch.objects.annotate(
        pending=count(DeletionItem.PENDING),
        deleted=count(DeletionItem.DELETED),
        failed=count(DeletionItem.FAILED),
        skipped=count(DeletionItem.SKIPPED),
        total=Count("items"),
    )
    scope = page_scope("deletion_batches", {})
    return keyset_page(qs, size=size, token=token, scope=scope, keys=("created_at", "id"))


def deletion_item_url(*, batch: DeletionBatch, item: DeletionItem) -> str:
    return KINDS[batch.kind].detail_url(item.resource_id)
