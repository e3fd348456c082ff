"""Kinds of mirrored resource (evaluation jobs, model import jobs, imported models): each a
`Kind` with its mirror model, the gateway's page iterator and Get function, and how a summary
maps to columns; and the canonical JSON and digest of a summary that tell changes apart."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from jobs.bedrock import client as bedrock
from jobs.models import EvaluationJob, ImportedModel, MirroredResource, ModelImportJob

PAGE_SIZE = 1000  # ListEvaluationJobs' maximum maxResults
# Rows per INSERT / UPDATE statement: big enough to be fast, small enough for any backend's
# parameter limit (Django lowers it further where the backend needs).
WRITE_BATCH = 1000
# Columns every mirror model has that a summary sets.
COMMON_COLUMNS = ("resource_id", "region", "account", "name", "created_at", "summary")


class SyncAlreadyRunning(Exception):
    """Another sweep of this kind and connection holds the lock; this one did nothing."""

    def __init__(self, kind: str, connection: str = "") -> None:
        of = f" of {connection}" if connection else ""
        super().__init__(f"a {kind} sweep{of} is already running")
        self.kind = kind
        self.connection = connection


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

    def lock_name(self, connection: str) -> str:
        """The lock of this kind's sweeps of one connection (by name): sweeps of other
        connections run beside it."""
        return f"sync:{self.name}:{connection}"

    def fill_lock_name(self, connection: str) -> str:
        return f"describe:{self.name}:{connection}"


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


def arn_account(arn: str) -> str:
    """arn:aws:bedrock:<region>:<account>:... -> the account ("" if there is none)."""
    parts = arn.split(":", 5)
    return parts[4] if len(parts) > 4 else ""


def _row(kind: Kind, summary: dict[str, Any], *, region: str | None = None) -> dict[str, Any]:
    """A summary's columns. `region`: the connection's (a sweep's rows); else the ARN's."""
    arn = summary[kind.arn_key]
    parts = arn.split(":", 5)
    return {
        "arn": arn,
        "resource_id": arn.rsplit("/", 1)[-1],
        "region": region or (parts[3] if len(parts) > 3 else ""),
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
