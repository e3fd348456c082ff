"""Keeps the mirror in step with Bedrock: sweeps, descriptions, and the record of each run.

A *kind* (evaluation jobs, model import jobs, imported models) is a `Kind`: its mirror model,
the gateway's page iterator and Get function, and how a summary maps to columns. Everything
else is generic.

A sweep covers one kind of one connection (an account × region, jobs/connections/). It lists
every resource (1000 a page) and compares each page with the mirror as it arrives, by digest,
keeping only what changed (bounded memory: no model instances, unchanged rows cost a primary
key); then it applies that in one transaction, a chunk at a time: new rows, changed rows (their
summary digest differs), vanished rows (no longer listed: flagged, kept as tombstones) and
reappeared ones. It then calls Get only for rows that are new or changed, so N resources of
which k are new or changed cost ceil(N/1000) list calls plus k get calls. A connection's first
sweep makes only the list calls; the rate-limited fill (`describe_missing`, per connection too)
gets the descriptions afterwards, and a detail page gets its own at once (`describe`, from the
row's own connection).

Sweeps of one kind and connection never overlap (a lease in jobs/locks.py named
`sync:<kind>:<connection>`); sweeps of other connections run beside it, each with its own
SyncRun and error. Call these services outside any transaction: they commit as they go, and
their lease must be visible to other processes.

The package: kinds.py (what each kind is), sweeps.py (the sweep and its record), apply.py (a
listing to the mirror in bounded memory), describe.py (Get answers), scope.py (which rows and
which account are a connection's). Import from here.
"""

from __future__ import annotations

# The gateway, importable from here as it was from the single module (tests use it).
from jobs.bedrock import client as bedrock
from jobs.models import EvaluationJob, ImportedModel, ModelImportJob, SyncRun
from jobs.sync.describe import describe, describe_missing, mirror_created, missing_descriptions
from jobs.sync.kinds import KINDS, PAGE_SIZE, WRITE_BATCH, Kind, SyncAlreadyRunning
from jobs.sync.scope import AccountMismatch, connection_for
from jobs.sync.sweeps import (
    describe_run,
    sweep,
    sweep_seconds,
    sync_request,
    sync_running,
    sync_state,
    sync_states,
)

# --- per-kind names (what views, tasks and commands call) -----------------------------------


def evaluation_jobs_sync(*, connection: str | None = None, raise_errors: bool = False) -> SyncRun:
    """A full sweep of one connection's (default: the first's) evaluation jobs now; raises
    SyncAlreadyRunning if one is running."""
    return sweep(kind="evaluation_jobs", connection=connection, raise_errors=raise_errors)


def evaluation_jobs_sync_request() -> bool:
    return sync_request(kind="evaluation_jobs")


def evaluation_job_describe(*, job: EvaluationJob) -> EvaluationJob:
    return describe(kind="evaluation_jobs", obj=job)


def evaluation_jobs_describe_missing(
    *, connection: str | None = None, rate: float | None = None, budget_seconds: float | None = None
) -> int:
    return describe_missing(
        kind="evaluation_jobs", connection=connection, rate=rate, budget_seconds=budget_seconds
    )


def import_jobs_sync(*, connection: str | None = None, raise_errors: bool = False) -> SyncRun:
    return sweep(kind="import_jobs", connection=connection, raise_errors=raise_errors)


def import_job_describe(*, job: ModelImportJob) -> ModelImportJob:
    return describe(kind="import_jobs", obj=job)


def imported_models_sync(*, connection: str | None = None, raise_errors: bool = False) -> SyncRun:
    return sweep(kind="imported_models", connection=connection, raise_errors=raise_errors)


def imported_model_describe(*, model: ImportedModel) -> ImportedModel:
    return describe(kind="imported_models", obj=model)


__all__ = [
    "bedrock",
    "KINDS",
    "PAGE_SIZE",
    "WRITE_BATCH",
    "Kind",
    "SyncAlreadyRunning",
    "describe",
    "describe_missing",
    "describe_run",
    "evaluation_job_describe",
    "evaluation_jobs_describe_missing",
    "evaluation_jobs_sync",
    "evaluation_jobs_sync_request",
    "import_job_describe",
    "import_jobs_sync",
    "imported_model_describe",
    "imported_models_sync",
    "mirror_created",
    "missing_descriptions",
    "sweep",
    "sweep_seconds",
    "sync_request",
    "sync_running",
    "sync_state",
    "sync_states",
    "AccountMismatch",
    "connection_for",
]
