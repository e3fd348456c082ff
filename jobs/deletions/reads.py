"""Reads for the deletion pages: a batch, its counts and items, recent batches."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from jobs.deletions.kinds import KINDS
from jobs.models import DeletionBatch, DeletionItem
from jobs.pagination import KeysetPage, keyset_page, page_scope

# --- Reads for the pages --------------------------------------------------------------------


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
