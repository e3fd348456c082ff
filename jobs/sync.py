"""Keeps the mirror in step with Bedrock: sweeps, descriptions, and the record of each run.

A *kind* (evaluation jobs, model import jobs, imported models) is a `Kind`: its mirror model,
the gateway's page iterator and Get function, and how a summary maps to columns. Everything
else is generic.

A sweep lists every resource of a kind (1000 a page), then applies what changed in one
transaction: new rows, changed rows (their summary digest differs), vanished rows (no longer
listed: flagged, kept as tombstones) and reappeared ones. It then calls Get only for rows that
are new or changed, so N resources of which k are new or changed cost ceil(N/1000) list calls
plus k get calls. The first sweep into an empty mirror makes only the list calls; the
rate-limited fill (`describe_missing`) gets the descriptions afterwards, and a detail page
gets its own at once (`describe`).

Sweeps of one kind never overlap (a lease in jobs/locks.py). Call these services outside any
transaction: they commit as they go, and their lease must be visible to other processes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from jobs import locks, publishing
from jobs.bedrock import client as bedrock
from jobs.bedrock.errors import BedrockError, NotFoundError, RetryableError
from jobs.models import (
    EvaluationJob,
    ImportedModel,
    MirroredResource,
    ModelImportJob,
    StatusCount,
    SyncRun,
)
from jobs.results import track

logger = logging.getLogger(__name__)

PAGE_SIZE = 1000  # ListEvaluationJobs' maximum maxResults
# Rows per INSERT / UPDATE statement: big enough to be fast, small enough for any backend's
# parameter limit (Django lowers it further where the backend needs).
WRITE_BATCH = 1000
# Columns every mirror model has that a summary sets.
COMMON_COLUMNS = ("resource_id", "region", "account", "name", "created_at", "summary")


class SyncAlreadyRunning(Exception):
    """Another sweep of this kind holds the lock; this one did nothing."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"a {kind} sweep is already running")
        self.kind = kind


@dataclass(frozen=True, kw_only=True)
class Kind:
    """How one kind of Bedrock resource is listed, described and mirrored."""

    name: str
    model: type[MirroredResource]
    # The gateway's page iterator (one API call a page) and Get function.
    list_pages: Callable[..., Iterator[list[dict[str, Any]]]]
    get: Callable[..., dict[str, Any]]
    arn_key: str
    name_key: str
    # JSON-safe summary -> this kind's own columns.
    columns: Callable[[dict[str, Any]], dict[str, Any]]
    column_names: tuple[str, ...]
    # Summary members a Get answer also carries and that change over time: a description
    # copies them into the stored summary, so the next sweep does not see a change already
    # fetched.
    patch_keys: tuple[str, ...] = ()
    # Statuses the status chips count (StatusCount rows); empty for kinds without a status.
    statuses: tuple[str, ...] = ()

    @property
    def lock_name(self) -> str:
        return f"sync:{self.name}"

    @property
    def fill_lock_name(self) -> str:
        return f"describe:{self.name}"


# --- summaries to columns -------------------------------------------------------------------


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _canonical(data: dict[str, Any]) -> str:
    """One JSON text per value (sorted keys, datetimes as ISO 8601): what digests are of."""
    return json.dumps(data, default=_iso, sort_keys=True, separators=(",", ":"))


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _when(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _bars(values: list[str]) -> str:
    """["A", "B"] -> "|A|B|" (see EvaluationJob.task_types); no values -> ""."""
    values = list(dict.fromkeys(v for v in values if v))
    return f"|{'|'.join(values)}|" if values else ""


def _row(kind: Kind, summary: dict[str, Any]) -> dict[str, Any]:
    arn = summary[kind.arn_key]
    parts = arn.split(":", 5)
    return {
        "arn": arn,
        "resource_id": arn.rsplit("/", 1)[-1],
        "region": parts[3] if len(parts) > 3 else "",
        "account": parts[4] if len(parts) > 4 else "",
        "name": summary.get(kind.name_key, ""),
        "created_at": _when(summary.get("creationTime")),
        "summary": summary,
        **kind.columns(summary),
    }


def _evaluation_columns(s: dict[str, Any]) -> dict[str, Any]:
    config = (s.get("inferenceConfigSummary") or {}).get("modelConfigSummary") or {}
    models = [
        *(s.get("modelIdentifiers") or []),
        *config.get("bedrockModelIdentifiers", []),
        *config.get("precomputedInferenceSourceIdentifiers", []),
    ]
    return {
        "status": s.get("status", ""),
        "job_type": s.get("jobType", ""),
        "application_type": s.get("applicationType") or "",
        "task_types": _bars(s.get("evaluationTaskTypes") or []),
        "model_identifiers": _bars(models),
    }


def _import_job_columns(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": s.get("status", ""),
        "imported_model_arn": s.get("importedModelArn") or "",
        "imported_model_name": s.get("importedModelName") or "",
        "last_modified_at": _when(s.get("lastModifiedTime")),
        "ended_at": _when(s.get("endTime")),
    }


def _imported_model_columns(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "model_architecture": s.get("modelArchitecture") or "",
        "instruct_supported": s.get("instructSupported"),
    }


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            name="evaluation_jobs",
            model=EvaluationJob,
            list_pages=bedrock.iter_evaluation_job_pages,
            get=bedrock.get_evaluation_job,
            arn_key="jobArn",
            name_key="jobName",
            columns=_evaluation_columns,
            column_names=(
                "status",
                "job_type",
                "application_type",
                "task_types",
                "model_identifiers",
            ),
            patch_keys=("status",),
            statuses=("InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting"),
        ),
        Kind(
            name="import_jobs",
            model=ModelImportJob,
            list_pages=bedrock.iter_model_import_job_pages,
            get=bedrock.get_model_import_job,
            arn_key="jobArn",
            name_key="jobName",
            columns=_import_job_columns,
            column_names=(
                "status",
                "imported_model_arn",
                "imported_model_name",
                "last_modified_at",
                "ended_at",
            ),
            patch_keys=("status", "lastModifiedTime", "endTime", "importedModelArn"),
            statuses=("InProgress", "Completed", "Failed"),
        ),
        Kind(
            name="imported_models",
            model=ImportedModel,
            list_pages=bedrock.iter_imported_model_pages,
            get=bedrock.get_imported_model,
            arn_key="modelArn",
            name_key="modelName",
            columns=_imported_model_columns,
            column_names=("model_architecture", "instruct_supported"),
        ),
    )
}


def _kind(kind: str | Kind) -> Kind:
    if isinstance(kind, Kind):
        return kind
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}") from None


# --- the sweep ------------------------------------------------------------------------------


class _Listing:
    """What a sweep keeps of a listing while it lists, in bounded memory: it compares each
    page with the mirror as the page arrives (one indexed read per page of ARNs, digests only,
    no model instances) and keeps only what differs. Unchanged rows cost a primary key in
    `seen`; new and changed summaries go to a spool (a temporary file past a few MiB) that the
    apply reads back a chunk at a time."""

    SPOOL_IN_MEMORY = 8 * 1024 * 1024

    def __init__(self, spec: Kind) -> None:
        self.spec = spec
        model = spec.model
        # Rows created after this (by this sweep, or a submission meanwhile) are never
        # vanished by it: only rows that existed when the listing began can have gone.
        self.max_pk = model.objects.aggregate(top=Max("pk"))["top"] or 0
        self.first = self.max_pk == 0  # an empty mirror: nothing to compare with
        self.seen: set[int] = set()  # pks of listed rows already in the mirror
        self.reappeared: list[int] = []
        self.new = self.changed = self.count = 0
        self.spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by close()
            max_size=self.SPOOL_IN_MEMORY, mode="w+", encoding="utf-8"
        )

    def close(self) -> None:
        self.spool.close()

    def take(self, page: list[dict[str, Any]]) -> None:
        arn_key = self.spec.arn_key
        texts = {summary[arn_key]: _canonical(summary) for summary in page}
        self.count += len(page)
        known: dict[str, tuple[int, str, bool]] = {}
        if not self.first and texts:
            rows = self.spec.model.objects.filter(arn__in=list(texts)).values_list(
                "arn", "pk", "summary_digest", "listed"
            )
            known = {arn: (pk, digest, listed) for arn, pk, digest, listed in rows}
        write = self.spool.write
        for arn, text in texts.items():
            digest = _digest(text)
            old = known.get(arn)
            if old is None:
                self.new += 1
            else:
                pk, old_digest, listed = old
                if pk in self.seen:
                    continue  # listed twice (pages shifted): the first answer stands
                self.seen.add(pk)
                if old_digest == digest:
                    if not listed:
                        self.reappeared.append(pk)
                    continue
                self.changed += 1
            write(f"{arn}\t{digest}\t{text}\n")

    def spooled(self, size: int) -> Iterator[list[tuple[str, str, str]]]:
        """The new and changed rows, `size` at a time: (arn, digest, canonical text)."""
        self.spool.seek(0)
        chunk: list[tuple[str, str, str]] = []
        for line in self.spool:
            arn, digest, text = line.rstrip("\n").split("\t", 2)
            chunk.append((arn, digest, text))
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def sweep(*, kind: str | Kind, raise_errors: bool = False) -> SyncRun:
    """Sweep one kind now, in this process, under its lock; see the module docstring.

    Returns the run's record. A sweep that fails on Bedrock records the error on it and
    leaves the mirror as it was; with `raise_errors` the BedrockError is raised after being
    recorded (tasks retry on it). Anything else (a bug, the database) is recorded and raised.
    Raises SyncAlreadyRunning, having done nothing, if another sweep of the kind is running.
    """
    spec = _kind(kind)
    lease = locks.acquire(spec.lock_name, ttl=settings.SYNC_LOCK_TTL_SECONDS)
    if lease is None:
        raise SyncAlreadyRunning(spec.name)
    try:
        return _sweep(spec, lease, raise_errors=raise_errors)
    finally:
        lease.release()


def _sweep(spec: Kind, lease: locks.Lease, *, raise_errors: bool) -> SyncRun:
    run = SyncRun.objects.create(kind=spec.name, started_at=timezone.now())
    try:
        listing = _list_all(spec, run, lease)
        try:
            lease.renew()  # never apply under a lease that may have passed to someone else
            to_describe = _apply(spec, run, listing)
        finally:
            listing.close()
        for arn, digest in to_describe:
            lease.keep_alive()
            run.get_calls += 1
            _describe_quietly(spec, arn, digest)
        _count_statuses(spec)
        if spec.name == "evaluation_jobs" and run.added < run.seen:  # not a first sweep
            track.evaluation_results_track(since=run.started_at)  # newly Completed: results
    except (BedrockError, locks.LockLost) as exc:
        _finish(run, error=str(exc))
        logger.warning("%s sweep failed: %s", spec.name, exc)
        if raise_errors and isinstance(exc, BedrockError):
            raise
        return run
    except Exception as exc:
        _finish(run, error=f"{type(exc).__name__}: {exc}")
        raise
    _finish(run)
    return run


def _finish(run: SyncRun, *, error: str = "") -> None:
    run.finished_at = timezone.now()
    run.error = error
    run.save()
    retention = dt.timedelta(days=settings.SYNC_RUN_RETENTION_DAYS)
    SyncRun.objects.filter(kind=run.kind, started_at__lt=run.started_at - retention).delete()


def _list_all(spec: Kind, run: SyncRun, lease: locks.Lease) -> _Listing:
    """Every summary of the kind, compared with the mirror page by page, or raise. Throttling
    and 5xx that outlast botocore's own retries restart the listing after a backoff, a bounded
    number of times (the gateway's iterator cannot resume from a page token)."""
    attempts = max(1, settings.SYNC_LIST_ATTEMPTS)
    for attempt in range(1, attempts + 1):
        listing = _Listing(spec)
        try:
            for page in spec.list_pages(max_results=PAGE_SIZE):
                run.list_calls += 1
                listing.take(page)
                lease.keep_alive()
            return listing
        except RetryableError as exc:
            listing.close()
            run.list_calls += 1  # the call that failed
            if attempt == attempts:
                raise
            delay = settings.SYNC_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
            delay *= random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography
            logger.info("%s listing failed (%s); retrying in %.1f s", spec.name, exc, delay)
            time.sleep(delay)
        except BaseException:
            listing.close()
            raise
    raise AssertionError("unreachable")


def _apply(spec: Kind, run: SyncRun, listing: _Listing) -> list[tuple[str, str]]:
    """Write what the listing found to the mirror in one transaction, a chunk at a time: new
    and changed rows (read back from the spool), reappeared and vanished ones. Return (arn,
    digest) of the rows to describe now (none on the first sweep into an empty mirror)."""
    model = spec.model
    now = timezone.now()
    # What a changed row gets; description and described_at stay until the new Get.
    fields = [*COMMON_COLUMNS, *spec.column_names, "summary_digest", "needs_description"]
    fields += ["last_synced_at", "listed", "vanished_at"]
    limit = settings.SYNC_SWEEP_DESCRIBE_MAX
    to_describe: list[tuple[str, str]] = []
    vanished = 0
    with transaction.atomic():
        for chunk in listing.spooled(WRITE_BATCH):
            # An ARN listed twice (pages shifted while listing) is written once per statement.
            chunk = list({arn: (arn, digest, text) for arn, digest, text in chunk}.values())
            rows = [
                model(
                    **_row(spec, json.loads(text)),
                    summary_digest=digest,
                    needs_description=True,
                    last_synced_at=now,
                    listed=True,
                    vanished_at=None,
                )
                for arn, digest, text in chunk
            ]
            # One upsert (INSERT ... ON CONFLICT (arn) DO UPDATE) for new and changed rows
            # alike: as fast as a plain insert, where bulk_update's CASE per column took 3 ms
            # a row. A chunk's instances are dropped before the next is built.
            model.objects.bulk_create(
                rows,
                batch_size=WRITE_BATCH,
                update_conflicts=True,
                unique_fields=["arn"],
                update_fields=fields,
            )
            if not listing.first and len(to_describe) < limit:
                to_describe += [(arn, digest) for arn, digest, _ in chunk]
        _update_in_batches(model, listing.reappeared, now, listed=True, vanished_at=None)
        gone: list[int] = []
        candidates = (
            model.objects.filter(listed=True, pk__lte=listing.max_pk)
            .values_list("pk", flat=True)
            .iterator(chunk_size=10_000)
        )
        for pk in candidates:
            if pk not in listing.seen:
                gone.append(pk)
        vanished = len(gone)
        _update_in_batches(model, gone, now, listed=False, vanished_at=now)
    run.seen = listing.count
    run.added = listing.new
    run.changed = listing.changed + len(listing.reappeared)
    run.vanished = vanished
    changes = listing.new + listing.changed
    if not listing.first and changes > limit:
        logger.warning(
            "%s: %d rows changed; describing %d now, the fill gets the rest",
            spec.name,
            changes,
            limit,
        )
    return to_describe[:limit]


def _update_in_batches(
    model: type[MirroredResource], pks: list[int], now: dt.datetime, **values: Any
) -> None:
    for i in range(0, len(pks), WRITE_BATCH):
        model.objects.filter(pk__in=pks[i : i + WRITE_BATCH]).update(last_synced_at=now, **values)


def _count_statuses(spec: Kind) -> None:
    """StatusCount rows for the kind, counted from the mirror's listed rows."""
    if not spec.statuses:
        return
    counts = dict.fromkeys(spec.statuses, 0)
    rows = spec.model.objects.filter(listed=True).values_list("status").annotate(n=Count("pk"))
    counts.update(dict(rows))
    now = timezone.now()
    StatusCount.objects.bulk_create(
        [StatusCount(kind=spec.name, status=s, count=n, updated_at=now) for s, n in counts.items()],
        update_conflicts=True,
        unique_fields=["kind", "status"],
        update_fields=["count", "updated_at"],
    )


# --- descriptions ---------------------------------------------------------------------------


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
        del values["arn"]
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


def _describe_quietly(spec: Kind, arn: str, digest: str) -> str:
    """Describe one row for a background run: "described", "skipped" (changed meanwhile),
    "vanished", or "failed" (left needing a description; a later run tries again)."""
    try:
        description = spec.get(identifier=arn)
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
    return "described" if stored else "skipped"


def describe(*, kind: str, obj: MirroredResource) -> MirroredResource:
    """Get one resource now (a detail page was opened): store its description, refresh its
    columns, return it reloaded. Raises the gateway's BedrockError subclasses; on NotFoundError
    the row is first flagged as vanished."""
    spec = _kind(kind)
    try:
        description = spec.get(identifier=obj.arn)
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
    *, kind: str | Kind, rate: float | None = None, budget_seconds: float | None = None
) -> int:
    """Describe listed rows still without a current description, newest first, at most `rate`
    Get calls a second (settings.SYNC_DESCRIBE_RATE) and for at most `budget_seconds`
    (settings.SYNC_DESCRIBE_BUDGET_SECONDS). Returns how many were described; 0 at once if
    another fill of the kind is running. Stops early when Bedrock keeps failing."""
    spec = _kind(kind)
    rate = float(rate or settings.SYNC_DESCRIBE_RATE)
    budget = float(budget_seconds or settings.SYNC_DESCRIBE_BUDGET_SECONDS)
    lease = locks.acquire(spec.fill_lock_name, ttl=budget + settings.SYNC_LOCK_TTL_SECONDS)
    if lease is None:
        return 0
    try:
        return _describe_missing(spec, rate=rate, budget=budget, lease=lease)
    finally:
        lease.release()


def _describe_missing(spec: Kind, *, rate: float, budget: float, lease: locks.Lease) -> int:
    interval = 1.0 / rate
    started = time.monotonic()
    next_call = started
    described = failures_in_a_row = 0
    after: tuple[dt.datetime, int] | None = None
    while True:
        rows = spec.model.objects.filter(needs_description=True, listed=True)
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
            outcome = _describe_quietly(spec, arn, digest)
            if outcome == "failed":
                failures_in_a_row += 1
                if failures_in_a_row >= settings.SYNC_DESCRIBE_MAX_FAILURES:
                    logger.warning("%s: describing keeps failing; stopping this run", spec.name)
                    return described
                continue
            failures_in_a_row = 0
            described += outcome == "described"


def missing_descriptions(*, kind: str) -> bool:
    """Whether any listed row of the kind still waits for its description."""
    return _kind(kind).model.objects.filter(needs_description=True, listed=True).exists()


# --- state and requests ---------------------------------------------------------------------


def sync_state(*, kind: str) -> SyncRun | None:
    """The latest finished sweep of the kind (succeeded or failed), or None if none finished:
    the page header shows "synced N s ago" from its finished_at, or its error."""
    spec = _kind(kind)
    return (
        SyncRun.objects.filter(kind=spec.name, finished_at__isnull=False)
        .order_by("-started_at")
        .first()
    )


def sync_running(*, kind: str) -> bool:
    return locks.is_held(_kind(kind).lock_name)


def sync_request(*, kind: str) -> bool:
    """Ask a worker for a sweep of the kind as soon as the current transaction commits (the
    "Refresh" button). False, asking nothing, if a sweep of the kind is running already."""
    spec = _kind(kind)
    if locks.is_held(spec.lock_name):
        return False
    # After commit; a broker that is down is logged, not turned into an error page.
    publishing.publish(publishing.SYNC[spec.name])
    return True


def sweep_seconds(run: SyncRun) -> float | None:
    if run.finished_at is None:
        return None
    return (run.finished_at - run.started_at).total_seconds()


def describe_run(run: SyncRun) -> str:
    """One line for logs and `manage.py sync_bedrock`."""
    took = sweep_seconds(run)
    duration = "still running" if took is None else f"{took:.2f} s"
    outcome = f"FAILED: {run.error}" if run.error else "ok"
    return (
        f"{run.kind}: {outcome} ({duration}); {run.list_calls} list calls, "
        f"{run.get_calls} get calls; seen {run.seen}, added {run.added}, "
        f"changed {run.changed}, vanished {run.vanished}"
    )


# --- per-kind names (what views, tasks and commands call) -----------------------------------


def evaluation_jobs_sync(*, raise_errors: bool = False) -> SyncRun:
    """A full sweep of evaluation jobs now; raises SyncAlreadyRunning if one is running."""
    return sweep(kind="evaluation_jobs", raise_errors=raise_errors)


def evaluation_jobs_sync_request() -> bool:
    return sync_request(kind="evaluation_jobs")


def evaluation_job_describe(*, job: EvaluationJob) -> EvaluationJob:
    return describe(kind="evaluation_jobs", obj=job)


def evaluation_jobs_describe_missing(
    *, rate: float | None = None, budget_seconds: float | None = None
) -> int:
    return describe_missing(kind="evaluation_jobs", rate=rate, budget_seconds=budget_seconds)


def import_jobs_sync(*, raise_errors: bool = False) -> SyncRun:
    return sweep(kind="import_jobs", raise_errors=raise_errors)


def import_job_describe(*, job: ModelImportJob) -> ModelImportJob:
    return describe(kind="import_jobs", obj=job)


def imported_models_sync(*, raise_errors: bool = False) -> SyncRun:
    return sweep(kind="imported_models", raise_errors=raise_errors)


def imported_model_describe(*, model: ImportedModel) -> ImportedModel:
    return describe(kind="imported_models", obj=model)
