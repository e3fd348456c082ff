"""Descriptions: the Get answer of one resource stored on its mirror row (a detail page at
once, a sweep for what it found new or changed, the rate-limited fill for the rest), and the
row of a resource just created."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jobs import locks, tags
from jobs.bedrock.errors import BedrockError, NotFoundError, RetryableError
from jobs.connections import Connection
from jobs.models import MirroredResource
from jobs.sync import scope
from jobs.sync.kinds import Kind, _canonical, _digest, _kind, _row

logger = logging.getLogger(__name__)


def _store_description(
    spec: Kind, arn: str, description: dict[str, Any], *, expect_digest: str | None
) -> bool:
    """Store a Get answer and bring the row's columns up to it. With `expect_digest`, only if
    the row's summary is still the one we described (else a sweep changed it meanwhile and
    describes it itself): False if not written."""
    description = json.loads(_canonical(description))
    now = timezone.now()
    with transaction.atomic():
        row = (
            spec.model.objects.select_for_update()
            .filter(arn=arn)
            .values("summary", "summary_digest")
            .first()
        )
        if row is None or (expect_digest is not None and row["summary_digest"] != expect_digest):
            return False
        summary = dict(row["summary"])
        for key in spec.patch_keys:
            if description.get(key) is not None:
                summary[key] = description[key]
            else:
                summary.pop(key, None)
        text = _canonical(summary)
        values = _row(spec, summary)
        for where in ("arn", "region", "account"):  # where it is never changes
            del values[where]
        spec.model.objects.filter(arn=arn).update(
            **values,
            summary_digest=_digest(text),
            description=description,
            described_at=now,
            needs_description=False,
            last_synced_at=now,
        )
    return True


def _mark_vanished(spec: Kind, arn: str) -> None:
    now = timezone.now()
    spec.model.objects.filter(arn=arn, listed=True).update(
        listed=False, vanished_at=now, last_synced_at=now
    )


def describe_quietly(spec: Kind, arn: str, digest: str, *, connection: Connection) -> str:
    """Describe one row for a background run: "described", "skipped" (changed meanwhile),
    "vanished", or "failed" (left needing a description; a later run tries again)."""
    try:
        description = spec.get(identifier=arn, connection=connection)
    except NotFoundError:
        _mark_vanished(spec, arn)
        return "vanished"
    except RetryableError as exc:
        logger.info("%s: describing %s failed: %s", spec.name, arn, exc)
        return "failed"
    except BedrockError as exc:
        logger.warning("%s: describing %s failed: %s", spec.name, arn, exc)
        return "failed"
    stored = _store_description(spec, arn, description, expect_digest=digest)
    if stored:  # the page reads the tags from the mirror
        tags.tags_store(model=spec.model, arn=arn, connection=connection)
    return "described" if stored else "skipped"


def describe(*, kind: str, obj: MirroredResource) -> MirroredResource:
    """Get one resource now (a detail page was opened): store its description, refresh its
    columns, return it reloaded. Raises the gateway's BedrockError subclasses; on NotFoundError
    the row is first flagged as vanished. The Get goes to the connection of the row's region and
    account (CredentialsError if no connection reaches it)."""
    spec = _kind(kind)
    connection = scope.connection_for(region=obj.region, account=obj.account)
    try:
        description = spec.get(identifier=obj.arn, connection=connection)
    except NotFoundError:
        _mark_vanished(spec, obj.arn)
        obj.refresh_from_db()
        raise
    # A direct Get is the freshest word on the resource: store it whatever the summary is.
    _store_description(spec, obj.arn, description, expect_digest=None)
    obj.refresh_from_db()
    return obj


def mirror_created(
    *, kind: str, summary: dict[str, Any], description: dict[str, Any] | None = None
) -> MirroredResource:
    """The mirror row of a resource that has just come into being, from a summary (built
    from the request that created it, or from a Get answer), unless a sweep brought it
    already: its page and list show it at once. With `description` (the Get answer) it is
    stored too. An empty digest makes the next sweep rewrite the row with Bedrock's own
    listing; without a description, needs_description makes the next Get fill it."""
    spec = _kind(kind)
    values = _row(spec, json.loads(_canonical(summary)))
    arn = values.pop("arn")
    obj, created = spec.model.objects.get_or_create(
        arn=arn,
        defaults={**values, "last_synced_at": timezone.now(), "needs_description": True},
    )
    if created and description is not None:
        _store_description(spec, arn, description, expect_digest=None)
        obj.refresh_from_db()
    return obj


def describe_missing(
    *,
    kind: str | Kind,
    connection: Connection | str | None = None,
    rate: float | None = None,
    budget_seconds: float | None = None,
) -> int:
    """Describe one connection's (default: the first's) listed rows still without a current
    description, newest first, at most `rate` Get calls a second (settings.SYNC_DESCRIBE_RATE,
    per connection: each account has its own quota) and for at most `budget_seconds`
    (settings.SYNC_DESCRIBE_BUDGET_SECONDS). Returns how many were described; 0 at once if
    another fill of the kind and connection is running. Stops early when Bedrock keeps
    failing."""
    spec = _kind(kind)
    connection = scope.resolve(connection)
    rate = float(rate or settings.SYNC_DESCRIBE_RATE)
    budget = float(budget_seconds or settings.SYNC_DESCRIBE_BUDGET_SECONDS)
    lease = locks.acquire(
        spec.fill_lock_name(connection.name), ttl=budget + settings.SYNC_LOCK_TTL_SECONDS
    )
    if lease is None:
        return 0
    try:
        return _describe_missing(spec, connection, rate=rate, budget=budget, lease=lease)
    finally:
        lease.release()


def _describe_missing(
    spec: Kind, connection: Connection, *, rate: float, budget: float, lease: locks.Lease
) -> int:
    interval = 1.0 / rate
    started = time.monotonic()
    next_call = started
    described = failures_in_a_row = 0
    after: tuple[dt.datetime, int] | None = None
    while True:
        rows = scope.rows_of(spec.model, connection).filter(needs_description=True, listed=True)
        if after is not None:
            # Keyset past what this run already tried, so a row that keeps failing is tried
            # once per run rather than blocking the rest.
            rows = rows.filter(Q(created_at__lt=after[0]) | Q(created_at=after[0], pk__lt=after[1]))
        batch = list(
            rows.order_by("-created_at", "-pk").values_list(
                "pk", "created_at", "arn", "summary_digest"
            )[:200]
        )
        if not batch:
            return described
        for pk, created_at, arn, digest in batch:
            after = (created_at, pk)
            wait = max(0.0, next_call - time.monotonic())
            if time.monotonic() + wait - started > budget:
                return described
            time.sleep(wait)
            # Spaced from the start of the previous call: N calls take >= (N - 1) / rate.
            next_call = time.monotonic() + interval
            lease.keep_alive()
            outcome = describe_quietly(spec, arn, digest, connection=connection)
            if outcome == "failed":
                failures_in_a_row += 1
                if failures_in_a_row >= settings.SYNC_DESCRIBE_MAX_FAILURES:
                    logger.warning(
                        "%s of %s: describing keeps failing; stopping this run",
                        spec.name,
                        connection.name,
                    )
                    return described
                continue
            failures_in_a_row = 0
            described += outcome == "described"


def missing_descriptions(*, kind: str, connection: Connection | str | None = None) -> bool:
    """Whether any listed row of the kind (of one connection: default, the first) still waits
    for its description."""
    rows = scope.rows_of(_kind(kind).model, scope.resolve(connection))
    return rows.filter(needs_description=True, listed=True).exists()
