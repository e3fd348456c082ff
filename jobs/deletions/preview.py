"""The confirmation page's numbers: what deleting a selection would do."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count

from jobs.deletions.selection import (
    Selection,
    _deletable,
    _evaluation_job_skip,
    _selection_queryset,
)
from jobs.models import EvaluationJob

# Above this many jobs the Admin types the number to confirm: a stray click cannot wipe an
# account.
CONFIRM_TYPED_ABOVE = 100
SAMPLE_SIZE = 10


# --- The confirmation page ------------------------------------------------------------------


@dataclass
class DeletionPreview:
    """What confirming a selection would do, for the confirmation page."""

    selection: Selection
    by_status: list[tuple[str, int]] = field(default_factory=list)
    sample: list[str] = field(default_factory=list)
    not_terminal: int = 0
    not_terminal_statuses: list[str] = field(default_factory=list)
    deleting: int = 0
    vanished: int = 0
    not_found: int = 0

    @property
    def to_delete(self) -> int:
        return sum(n for _, n in self.by_status)

    @property
    def skipped(self) -> int:
        return self.not_terminal + self.deleting + self.vanished + self.not_found

    @property
    def needs_typed_count(self) -> bool:
        return self.to_delete > CONFIRM_TYPED_ABOVE

    @property
    def more_than_sample(self) -> int:
        return max(0, self.to_delete - len(self.sample))

    @property
    def skip_reasons(self) -> list[tuple[int, str]]:
        """(count, why) for each kind of skip, worded for the count."""

        def verb(n: int, one: str, many: str) -> str:
            return one if n == 1 else many

        reasons = []
        if n := self.not_terminal:
            statuses = ", ".join(self.not_terminal_statuses)
            reasons.append((n, f"{verb(n, 'is', 'are')} not terminal any more ({statuses})"))
        if n := self.deleting:
            reasons.append((n, f"{verb(n, 'is', 'are')} already being deleted"))
        if n := self.vanished:
            reasons.append((n, f"{verb(n, 'has', 'have')} vanished from Bedrock"))
        if n := self.not_found:
            reasons.append((n, f"{verb(n, 'is', 'are')} not in the dashboard's mirror at all"))
        return reasons


def evaluation_job_deletion_preview(*, selection: Selection) -> DeletionPreview:
    """Counts by status of what would be deleted, a sample of names, and what would be skipped
    and why. A few queries whatever the selection's size."""
    preview = DeletionPreview(selection=selection)
    qs = _selection_queryset(selection)
    by_status: Counter[str] = Counter()
    not_terminal: Counter[str] = Counter()
    rows = qs.order_by().values_list("status", "listed").annotate(n=Count("pk"))
    for status, listed, n in rows:
        skip = _evaluation_job_skip(status, listed)
        if skip is None:
            by_status[status] += n
        elif skip.code == "Vanished":
            preview.vanished += n
        elif skip.code == "AlreadyDeleting":
            preview.deleting += n
        else:
            not_terminal[status] += n
    order = ["Completed", "Failed", "Stopped"]
    preview.by_status = sorted(by_status.items(), key=lambda kv: order.index(kv[0]))
    preview.not_terminal = sum(not_terminal.values())
    preview.not_terminal_statuses = sorted(not_terminal)
    preview.sample = list(
        _deletable(qs).order_by("-created_at", "-arn").values_list("name", flat=True)[:SAMPLE_SIZE]
    )
    if selection.ids:
        known = (
            EvaluationJob.objects.filter(resource_id__in=selection.ids)
            .values("resource_id")
            .distinct()
            .count()
        )
        preview.not_found = len(selection.ids) - known
    return preview
