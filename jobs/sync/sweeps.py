"""The sweep: list every resource of a kind under its lock, apply what changed (apply.py),
describe the new and changed rows, and record the run; and what pages ask about sweeps."""

from __future__ import annotations

import datetime as dt
import logging
import random
import time

from django.conf import settings
from django.utils import timezone

from jobs import locks, publishing
from jobs.bedrock.errors import BedrockError, RetryableError
from jobs.connections import Connection, configured_connections
from jobs.models import SyncRun
from jobs.results import track
from jobs.sync import scope
from jobs.sync.apply import Listing, apply_listing, count_statuses
from jobs.sync.describe import describe_quietly
from jobs.sync.kinds import PAGE_SIZE, Kind, SyncAlreadyRunning, _kind

logger = logging.getLogger(__name__)


def sweep(
    *, kind: str | Kind, connection: Connection | str | None = None, raise_errors: bool = False
) -> SyncRun:
    """Sweep one kind of one connection (default: the first) now, in this process, under the
    lock of that kind and connection; see the package docstring.

    Returns the run's record. A sweep that fails on Bedrock (or lists another account than
    the connection's) records the error on it and leaves the mirror as it was; with
    `raise_errors` a BedrockError is raised after being recorded (tasks retry on it). Anything
    else (a bug, the database) is recorded and raised. Raises SyncAlreadyRunning, having done
    nothing, if a sweep of the kind and connection is running; UnknownConnection for a name no
    connection has.
    """
    spec = _kind(kind)
    connection = scope.resolve(connection)
    lease = locks.acquire(spec.lock_name(connection.name), ttl=settings.SYNC_LOCK_TTL_SECONDS)
    if lease is None:
        raise SyncAlreadyRunning(spec.name, connection.name)
    try:
        return _sweep(spec, connection, lease, raise_errors=raise_errors)
    finally:
        lease.release()


def _sweep(
    spec: Kind, connection: Connection, lease: locks.Lease, *, raise_errors: bool
) -> SyncRun:
    run = SyncRun.objects.create(
        kind=spec.name, connection=connection.name, started_at=timezone.now()
    )
    try:
        listing = _list_all(spec, connection, run, lease)
        try:
            lease.renew()  # never apply under a lease that may have passed to someone else
            to_describe = apply_listing(spec, run, listing)
        finally:
            listing.close()
        for arn, digest in to_describe:
            lease.keep_alive()
            run.get_calls += 1
            describe_quietly(spec, arn, digest, connection=connection)
        count_statuses(spec)
        if spec.name == "evaluation_jobs" and run.added < run.seen:  # not a first sweep
            track.evaluation_results_track(since=run.started_at)  # newly Completed: results
    except (BedrockError, locks.LockLost, scope.AccountMismatch) as exc:
        _finish(run, error=str(exc))
        logger.warning("%s sweep of %s failed: %s", spec.name, connection.name, exc)
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
    SyncRun.objects.filter(
        kind=run.kind, connection=run.connection, started_at__lt=run.started_at - retention
    ).delete()


def _list_all(spec: Kind, connection: Connection, run: SyncRun, lease: locks.Lease) -> Listing:
    """Every summary of the kind, compared with the mirror page by page, or raise. Throttling
    and 5xx that outlast botocore's own retries restart the listing after a backoff, a bounded
    number of times (the gateway's iterator cannot resume from a page token)."""
    attempts = max(1, settings.SYNC_LIST_ATTEMPTS)
    for attempt in range(1, attempts + 1):
        listing = Listing(spec, connection)
        try:
            for page in spec.list_pages(max_results=PAGE_SIZE, connection=connection):
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
            logger.info(
                "%s listing of %s failed (%s); retrying in %.1f s",
                spec.name,
                connection.name,
                exc,
                delay,
            )
            time.sleep(delay)
        except BaseException:
            listing.close()
            raise
    raise AssertionError("unreachable")


# --- state and requests ---------------------------------------------------------------------


def sync_state(*, kind: str, connection: str | None = None) -> SyncRun | None:
    """The latest finished sweep of the kind (succeeded or failed) of one connection (by name),
    or of any connection without one; None if none finished: the page header shows "synced N s
    ago" from its finished_at, or its error."""
    spec = _kind(kind)
    runs = SyncRun.objects.filter(kind=spec.name, finished_at__isnull=False)
    if connection is not None:
        runs = runs.filter(connection=connection)
    return runs.order_by("-started_at").first()


def sync_states(*, kind: str) -> dict[str, SyncRun | None]:
    """The latest finished sweep of the kind per configured connection, by name."""
    return {c.name: sync_state(kind=kind, connection=c.name) for c in configured_connections()}


def sync_running(*, kind: str, connection: str | None = None) -> bool:
    """Whether a sweep of the kind is running for the connection (by name), or for any."""
    spec = _kind(kind)
    names = [connection] if connection else [c.name for c in configured_connections()]
    return any(locks.is_held(spec.lock_name(name)) for name in names)


def sync_request(*, kind: str, connection: str | None = None) -> bool:
    """Ask a worker for a sweep of the kind as soon as the current transaction commits (the
    "Refresh" button): of one connection (by name), or of every connection whose sweep is not
    running. False, asking nothing, if those sweeps are all running already."""
    spec = _kind(kind)
    if connection is not None:
        name = scope.resolve(connection).name
        if locks.is_held(spec.lock_name(name)):
            return False
        publishing.publish(publishing.SYNC_SWEEP, spec.name, name)
        return True
    names = [c.name for c in configured_connections()]
    if all(locks.is_held(spec.lock_name(name)) for name in names):
        return False
    # After commit; a broker that is down is logged, not turned into an error page. The
    # kind's task sweeps each connection (its own task each, when there are several).
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
        f"changed {run.changed}, vanished {run.vanished}; connection {run.connection}"
    )
