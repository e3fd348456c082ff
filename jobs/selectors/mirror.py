"""Reads of the mirror that every kind of resource shares: the list filter's common part, its
queryset and keyset pages, status chips, one row by id, its audit entries, and the helpers a
detail page's layout uses. Each kind's selectors (evaluation_jobs, model_imports) add only
their own filters and fields.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet

from jobs.bedrock.contract import enum_values
from jobs.connections import configured_connections
from jobs.models import AuditEntry, ConnectionStatus, MirroredResource, StatusCount
from jobs.pagination import KeysetPage, keyset_page, page_scope

# On PostgreSQL each bounded status count also gets this statement timeout (a filter matching
# few rows can still scan many); past it the chip says the count is unknown.
COUNT_TIMEOUT_MS = 500


def enum(shape: str) -> tuple[str, ...]:
    """An enum of Bedrock's service model, so a new status shows up by itself; with the values
    AWS is known to accept beyond it (contract.EXTRA_ENUM_VALUES: a General task type)."""
    return enum_values(shape)


@dataclass(frozen=True)
class MirrorFilters:
    """A list filter, normalised: equal filters compare (and hash) equal. Subclasses add their
    kind's own filters and name the kind (`KIND`, which page tokens are scoped to)."""

    KIND: ClassVar[str] = ""

    statuses: tuple[str, ...] = ()
    # Connections' regions and accounts (several at once; none: every one the user can see).
    regions: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    name: str = ""
    created_after: dt.date | None = None
    created_before: dt.date | None = None
    include_vanished: bool = False
    newest_first: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "statuses", tuple(sorted(set(self.statuses))))
        object.__setattr__(self, "regions", tuple(sorted(set(self.regions))))
        object.__setattr__(self, "accounts", tuple(sorted(set(self.accounts))))
        object.__setattr__(self, "name", self.name.strip().lower())

    def kind_params(self) -> dict[str, Any]:
        """The kind's own filters as URL parameters, in the order the URL shows them."""
        return {}

    def as_params(self) -> dict[str, Any]:
        params = {
            "status": list(self.statuses),
            "region": list(self.regions),
            "account": list(self.accounts),
            **self.kind_params(),
            "name": self.name,
            "created_after": self.created_after.isoformat() if self.created_after else "",
            "created_before": self.created_before.isoformat() if self.created_before else "",
            "vanished": "1" if self.include_vanished else "",
            "sort": "" if self.newest_first else "oldest",
        }
        return {key: value for key, value in params.items() if value}

    @property
    def narrows_beyond_status(self) -> bool:
        """Set filters other than status (sort does not filter)."""
        return any(key not in ("status", "sort") for key in self.as_params())

    @property
    def is_filtered(self) -> bool:
        return bool(self.statuses) or self.narrows_beyond_status

    def scope(self) -> str:
        """What page tokens are valid for: this filter and sort, on this list."""
        return page_scope(self.KIND, self.as_params())


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def mirror_queryset[M: MirroredResource](
    model: type[M], *, filters: MirrorFilters, columns: Sequence[str]
) -> QuerySet[M]:
    """The rows of `model` matching the common filters, unordered, with only `columns`."""
    qs = model.objects.only(*columns)
    if not filters.include_vanished:
        qs = qs.filter(listed=True)
    if filters.statuses:
        qs = qs.filter(status__in=filters.statuses)
    if filters.regions:
        qs = qs.filter(region__in=filters.regions)
    if filters.accounts:
        qs = qs.filter(account__in=filters.accounts)
    if filters.name:
        # Bedrock's names may mix cases; matching ignores case.
        qs = qs.filter(name__icontains=filters.name)
    if filters.created_after:
        qs = qs.filter(created_at__gte=_day_start(filters.created_after))
    if filters.created_before and filters.created_before < dt.date.max:
        # "On or before" a day: up to the start of the next one (on or before 9999-12-31 is
        # no bound at all, and has no next day).
        qs = qs.filter(created_at__lt=_day_start(filters.created_before + dt.timedelta(days=1)))
    return qs


def mirror_page(
    queryset: QuerySet, *, filters: MirrorFilters, size: int, token: str | None
) -> KeysetPage:
    """One page of the list. Raises jobs.pagination.PageTokenError for a bad token."""
    return keyset_page(
        queryset, size=size, token=token, scope=filters.scope(), descending=filters.newest_first
    )


def mirror_list[M: MirroredResource](
    model: type[M],
    columns: Sequence[str],
    *,
    filters: MirrorFilters,
    size: int,
    token: str | None,
) -> KeysetPage[M]:
    """One page of `model`'s rows matching the common filters, with only `columns`."""
    queryset = mirror_queryset(model, filters=filters, columns=columns)
    return mirror_page(queryset, filters=filters, size=size, token=token)


# The region and account pickers list at most this many values each; cached for PLACES_TTL s.
PLACES_LIMIT = 200
PLACES_TTL = 60


@dataclass(frozen=True)
class Places:
    """The regions and accounts a list's pickers offer: the configured connections' (and the
    accounts learned for them), and the distinct ones in the mirror."""

    regions: list[str]
    accounts: list[str]


# A loose index scan of the (region, account, created_at, arn) index: one probe per distinct
# pair, not a scan of the rows (PostgreSQL has no skip scan of its own for this).
_PLACES_SQL = """
WITH RECURSIVE p(region, account) AS (
    (SELECT region, account FROM {table} ORDER BY region, account LIMIT 1)
    UNION ALL
    SELECT n.region, n.account FROM p, LATERAL (
        SELECT region, account FROM {table}
        WHERE (region, account) > (p.region, p.account)
        ORDER BY region, account LIMIT 1
    ) n
)
SELECT region, account FROM p LIMIT %s
"""


def _places(model: type[MirroredResource]) -> list[tuple[str, str]]:
    if connection.vendor != "postgresql":
        pairs = model.objects.values_list("region", "account").distinct().order_by()
        return list(pairs[:PLACES_LIMIT])
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(_PLACES_SQL.format(table=table), [PLACES_LIMIT])
        return [(region, account) for region, account in cursor.fetchall()]


def mirror_places(model: type[MirroredResource]) -> Places:
    """Regions and accounts for `model`'s filter pickers, sorted. Two small queries (learned
    accounts; the distinct pairs, by a loose index scan on PostgreSQL); cached for a minute."""
    key = f"mirror-places:{model._meta.db_table}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    connections = configured_connections()
    regions = {c.region for c in connections}
    accounts = set(
        ConnectionStatus.objects.filter(name__in=[c.name for c in connections])
        .exclude(account="")
        .values_list("account", flat=True)
    )
    for region, account in _places(model):
        regions.add(region)
        accounts.add(account)
    places = Places(
        regions=sorted(r for r in regions if r)[:PLACES_LIMIT],
        accounts=sorted(a for a in accounts if a)[:PLACES_LIMIT],
    )
    cache.set(key, places, PLACES_TTL)
    return places


def mirror_get[M: MirroredResource](model: type[M], *, resource_id: str) -> M | None:
    """The row whose ARN ends in `resource_id` (listed rows first), or None."""
    return model.objects.filter(resource_id=resource_id).order_by("-listed", "-created_at").first()


def mirror_rows[M: MirroredResource](
    model: type[M], columns: Sequence[str], *, resource_ids: Sequence[str]
) -> list[M]:
    """The rows whose ids are in `resource_ids` (listed ones win over a vanished namesake),
    with only `columns`: one query however many."""
    rows = model.objects.only(*columns).filter(resource_id__in=list(resource_ids))
    found: dict[str, M] = {}
    for row in rows.order_by("listed", "created_at"):
        found[row.resource_id] = row  # the last one wins: listed, then newest
    return list(found.values())


def audit_entries(*, arn: str, limit: int = 50) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(target_arn=arn).order_by("-at")[:limit])


# --- Status chips -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusChip:
    status: str
    count: int | None  # None: counting took too long
    capped: bool = False  # True: at least `count`, not exactly
    selected: bool = False

    @property
    def label(self) -> str:
        if self.count is None:
            return "?"
        return f"{self.count:,}+" if self.capped else f"{self.count:,}"


def status_counts(
    *,
    kind: str,
    statuses: Sequence[str],
    filters: MirrorFilters,
    queryset: Callable[[MirrorFilters], QuerySet],
    limit: int,
) -> list[StatusChip]:
    """How many rows of each status match the filter's other criteria.

    With no other criteria the counts come from the per-status summary the sync keeps (one
    tiny query). Otherwise each status is counted up to `limit` + 1 rows of
    `queryset(filters without statuses)` (and, on PostgreSQL, within a statement timeout), so
    a chip says "1,000+" rather than make anyone wait.
    """
    selected = set(filters.statuses)
    if not filters.narrows_beyond_status:
        summary = dict(StatusCount.objects.filter(kind=kind).values_list("status", "count"))
        if summary:
            return [
                StatusChip(status=s, count=summary.get(s, 0), selected=s in selected)
                for s in statuses
            ]
    base = queryset(replace(filters, statuses=()))
    counts = _bounded_counts(base, statuses=statuses, limit=limit)
    return [
        StatusChip(
            status=s,
            count=None if counts[s] is None else min(counts[s], limit),
            capped=counts[s] is not None and counts[s] > limit,
            selected=s in selected,
        )
        for s in statuses
    ]


def _bounded_counts(
    base: QuerySet, *, statuses: Sequence[str], limit: int
) -> dict[str, int | None]:
    return {s: bounded_count(base.filter(status=s), limit=limit) for s in statuses}


def bounded_count(queryset: QuerySet, *, limit: int) -> int | None:
    """How many rows `queryset` has, counting at most `limit` + 1 (more than `limit` reads
    as "limit+"), and on PostgreSQL within COUNT_TIMEOUT_MS: None past it. Never a count of a
    whole table on a page."""
    # SELECT COUNT(*) FROM (SELECT ... LIMIT limit + 1): stops at the bound.
    bounded = queryset.values("pk")[: limit + 1]
    if connection.vendor != "postgresql":
        return bounded.count()
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {int(COUNT_TIMEOUT_MS)}")
            return bounded.count()
    except DatabaseError:
        return None  # cancelled by the timeout


# --- Helpers for the detail pages' layouts ----------------------------------------------------


def pretty(value: Any) -> str:
    # Sorted keys: PostgreSQL's jsonb does not keep Bedrock's order, so be stable everywhere.
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def pretty_text(text: str) -> str:
    """A JSON document in a string, shown indented if it parses."""
    try:
        return pretty(json.loads(text))
    except (TypeError, ValueError):
        return text


def timestamp(value: Any) -> dt.datetime | None:
    """A time as stored in a description (ISO 8601 text, epoch seconds) as a datetime."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    return None
