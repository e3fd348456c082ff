"""Reads for the overview (home) page: counts per kind and status, running jobs, recent
failures, the last sweep per kind (and connection), deletions in progress. A fixed number of
small queries however big the mirror is: counts come from the StatusCount rows the sync keeps
(imported models, which have no status, from the last sweeps' `seen`), lists are a few newest
rows read through the (status, created_at, arn) indexes. Never calls AWS."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone

from jobs.connections import configured_connections
from jobs.models import (
    DeletionBatch,
    DeletionItem,
    EvaluationJob,
    ModelImportJob,
    StatusCount,
    SyncRun,
)
from jobs.views.links import link

# How many running jobs, failures and deletions each block shows (newest first).
NEWEST = 5

# kind, label, list URL name, model (None: no status), statuses running, noun
_KINDS: tuple[tuple[str, str, str, Any, tuple[str, ...], str], ...] = (
    (
        "evaluation_jobs",
        "Evaluation jobs",
        "evaluation_job_list",
        EvaluationJob,
        ("InProgress", "Stopping"),
        "evaluation jobs",
    ),
    (
        "import_jobs",
        "Import jobs",
        "model_import_job_list",
        ModelImportJob,
        ("InProgress",),
        "import jobs",
    ),
    ("imported_models", "Imported models", "imported_model_list", None, (), "imported models"),
)
_ORDER = ("-created_at", "-arn")


@dataclass(frozen=True)
class StatusTally:
    status: str
    count: int
    url: str


@dataclass(frozen=True)
class JobLine:
    name: str
    status: str
    created_at: dt.datetime
    url: str
    # A failed job's message (Bedrock's failureMessage(s)); "" when not described yet.
    message: str = ""


@dataclass(frozen=True)
class SyncLine:
    connection: str
    run: SyncRun | None


@dataclass(frozen=True)
class KindOverview:
    kind: str
    label: str
    noun: str
    list_url: str
    # None: no sweep has counted this kind yet.
    total: int | None
    statuses: tuple[StatusTally, ...]
    running: tuple[JobLine, ...]
    running_url: str
    failures: tuple[JobLine, ...]
    failed_url: str
    syncs: tuple[SyncLine, ...]
    has_statuses: bool

    @property
    def synced(self) -> bool:
        return any(s.run is not None for s in self.syncs)


@dataclass(frozen=True)
class DeletionLine:
    batch: DeletionBatch
    total: int
    pending: int
    url: str


@dataclass(frozen=True)
class Overview:
    kinds: tuple[KindOverview, ...]
    # None: the user may not see deletions (the block is not shown).
    deletions: tuple[DeletionLine, ...] | None
    deletions_url: str
    several_connections: bool
    sync_interval: int
    now: dt.datetime


def _failure_message(kind: str, description: dict[str, Any] | None) -> str:
    if not isinstance(description, dict):
        return ""
    if kind == "evaluation_jobs":
        messages = description.get("failureMessages") or []
        if isinstance(messages, list):
            return "; ".join(str(m) for m in messages)
        return str(messages)
    return str(description.get("failureMessage") or "")


def _lines(model: Any, kind: str, statuses: tuple[str, ...], *, messages: bool) -> tuple:
    fields = ["name", "status", "created_at", "resource_id", "arn"]
    if messages:
        fields.append("description")
    rows = model.objects.filter(listed=True, status__in=statuses).order_by(*_ORDER)
    return tuple(
        JobLine(
            name=row.name,
            status=row.status,
            created_at=row.created_at,
            url=row.get_absolute_url(),
            message=_failure_message(kind, row.description) if messages else "",
        )
        for row in rows.only(*fields)[:NEWEST]
    )


def _last_runs(names: list[str]) -> dict[tuple[str, str], SyncRun]:
    """The latest sweep (by start: the highest pk) of each kind × connection. Two queries."""
    last = (
        SyncRun.objects.filter(connection__in=names)
        .values("kind", "connection")
        .annotate(last=Max("pk"))
        .values_list("last", flat=True)
    )
    return {(r.kind, r.connection): r for r in SyncRun.objects.filter(pk__in=list(last))}


def _deletions() -> tuple[DeletionLine, ...]:
    batches = (
        DeletionBatch.objects.filter(finished_at__isnull=True)
        .annotate(
            total=Count("items"),
            pending=Count("items", filter=Q(items__outcome=DeletionItem.PENDING)),
        )
        .order_by("-created_at", "-id")[:NEWEST]
    )
    return tuple(
        DeletionLine(batch=b, total=b.total, pending=b.pending, url=b.get_absolute_url())
        for b in batches
    )


def overview(*, with_deletions: bool) -> Overview:
    """Everything the overview shows; deletions only `with_deletions` (the user may delete)."""
    names = [c.name for c in configured_connections()]
    counts: dict[str, dict[str, int]] = {}
    for kind, status, count in StatusCount.objects.values_list("kind", "status", "count"):
        counts.setdefault(kind, {})[status] = count
    runs = _last_runs(names)
    kinds = []
    for kind, label, url_name, model, running, noun in _KINDS:
        base = reverse(url_name)
        syncs = tuple(SyncLine(connection=n, run=runs.get((kind, n))) for n in names)
        if model is None:
            # No status to count: what the last successful sweeps of each connection saw.
            seen = [s.run.seen for s in syncs if s.run is not None and s.run.ok]
            total = sum(seen) if seen else None
            tallies: tuple[StatusTally, ...] = ()
            running_lines: tuple[JobLine, ...] = ()
            failures: tuple[JobLine, ...] = ()
        else:
            by_status = counts.get(kind)
            total = sum(by_status.values()) if by_status else None
            tallies = tuple(
                StatusTally(status=s, count=n, url=link(base, {"status": s}))
                for s, n in (by_status or {}).items()
                if n
            )
            running_lines = _lines(model, kind, running, messages=False)
            failures = _lines(model, kind, ("Failed",), messages=True)
        kinds.append(
            KindOverview(
                kind=kind,
                label=label,
                noun=noun,
                list_url=base,
                total=total,
                statuses=tuple(sorted(tallies, key=lambda t: -t.count)),
                running=running_lines,
                running_url=link(base, {"status": list(running)}),
                failures=failures,
                failed_url=link(base, {"status": "Failed"}),
                syncs=syncs,
                has_statuses=model is not None,
            )
        )
    return Overview(
        kinds=tuple(kinds),
        deletions=_deletions() if with_deletions else None,
        deletions_url=reverse("deletion_batch_list"),
        several_connections=len(names) > 1,
        sync_interval=settings.SYNC_INTERVAL_SECONDS,
        now=timezone.now(),
    )
