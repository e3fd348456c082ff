"""What a person selected for deletion (picked ids, a whole filter, exclusions) and
which evaluation jobs it holds; why a job cannot be deleted."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet

from jobs.models import EvaluationJob
from jobs.selectors.evaluation_jobs import EvaluationJobFilters, evaluation_job_queryset
from jobs.selectors.mirror import bounded_count

# --- Selections -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Which evaluation jobs a person picked: every deletable job a list filter matches (less
    the ones unticked since), plus jobs picked one by one (resource ids)."""

    filters: EvaluationJobFilters | None = None
    filter_label: str = ""
    filter_query: str = ""
    ids: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()

    @property
    def is_empty(self) -> bool:
        return self.filters is None and not self.ids

    def describe(self) -> str:
        parts = []
        if self.filters is not None:
            text = f"all deletable jobs matching {self.filter_label or 'the filter'}"
            if self.excluded:
                text += f" except {len(self.excluded):,} unticked"
            parts.append(text)
        if self.ids:
            n = len(self.ids)
            picked = f"{n:,} job{'s' if n != 1 else ''} picked one by one"
            parts.append(picked if not parts else f"{n:,} more picked one by one")
        text = ", plus ".join(parts) or "nothing"
        return text[0].upper() + text[1:]

    def as_record(self) -> dict[str, Any]:
        return {
            "query": self.filter_query,
            "ids": sorted(self.ids),
            "excluded": sorted(self.excluded),
        }


def _deletable(qs: QuerySet[EvaluationJob]) -> QuerySet[EvaluationJob]:
    return qs.filter(listed=True, status__in=EvaluationJob.TERMINAL)


def _filter_part(selection: Selection) -> QuerySet[EvaluationJob] | None:
    if selection.filters is None:
        return None
    qs = _deletable(evaluation_job_queryset(filters=selection.filters))
    if selection.excluded:
        qs = qs.exclude(resource_id__in=selection.excluded)
    return qs


def _selection_queryset(selection: Selection) -> QuerySet[EvaluationJob]:
    parts = []
    matching = _filter_part(selection)
    if matching is not None:
        parts.append(Q(pk__in=matching.values("pk")))
    if selection.ids:
        parts.append(Q(resource_id__in=selection.ids))
    if not parts:
        return EvaluationJob.objects.none()
    return EvaluationJob.objects.filter(reduce(or_, parts))


def evaluation_job_selection_count(*, selection: Selection, limit: int | None = None) -> int | None:
    """How many jobs the selection holds: the ids alone without a filter (no query), else a
    count of the filter's deletable jobs and the ids together. With `limit` (the list's
    selection bar), bounded: at most `limit` + 1, None past the time bound
    (jobs.selectors.mirror.bounded_count)."""
    if selection.filters is None:
        return len(selection.ids)
    if limit is not None:
        return bounded_count(_selection_queryset(selection), limit=limit)
    return _selection_queryset(selection).count()


def evaluation_job_deletable_count(
    *, filters: EvaluationJobFilters, limit: int | None = None
) -> int | None:
    """Deletable jobs (listed; Completed, Failed or Stopped) that `filters` matches; bounded
    with `limit` as evaluation_job_selection_count is."""
    queryset = _deletable(evaluation_job_queryset(filters=filters))
    if limit is not None:
        return bounded_count(queryset, limit=limit)
    return queryset.count()


def evaluation_job_filter_matches(
    *, filters: EvaluationJobFilters, resource_ids: Iterable[str]
) -> set[str]:
    """Which of `resource_ids` are deletable jobs `filters` matches: one small query."""
    resource_ids = list(resource_ids)
    if not resource_ids:
        return set()
    qs = _deletable(evaluation_job_queryset(filters=filters)).filter(resource_id__in=resource_ids)
    return set(qs.values_list("resource_id", flat=True))


def evaluation_job_selected_ids(*, selection: Selection, resource_ids: Iterable[str]) -> set[str]:
    """Which of `resource_ids` (one page's rows) the selection holds: at most one small query."""
    resource_ids = list(resource_ids)
    chosen = {r for r in resource_ids if r in selection.ids}
    matching = _filter_part(selection)
    rest = [r for r in resource_ids if r not in chosen and r not in selection.excluded]
    if matching is not None and rest:
        chosen |= set(matching.filter(resource_id__in=rest).values_list("resource_id", flat=True))
    return chosen


# --- Why a job cannot be deleted ------------------------------------------------------------


@dataclass(frozen=True)
class Skip:
    code: str
    reason: str


def _evaluation_job_skip(status: str, listed: bool) -> Skip | None:
    """The reason a job in this state is not sent to Bedrock, or None if it may be deleted."""
    if not listed:
        return Skip("Vanished", "Bedrock no longer lists this job: it vanished from the account.")
    if status == "Deleting":
        return Skip("AlreadyDeleting", "Bedrock is already deleting this job.")
    if status not in EvaluationJob.TERMINAL:
        return Skip(
            "NotTerminal",
            f"Not terminal any more: it is {status or 'unknown'}. Only Completed, Failed or "
            "Stopped jobs can be deleted.",
        )
    return None


def evaluation_job_delete_blocker(job: EvaluationJob) -> str:
    """Why `job` cannot be selected for deletion ("" if it can)."""
    skip = _evaluation_job_skip(job.status, job.listed)
    if skip is None:
        return ""
    if skip.code == "NotTerminal":
        return f"{job.status} jobs cannot be deleted: only Completed, Failed or Stopped ones."
    return skip.reason
