"""Reads of the model-import-job and imported-model mirrors for their list and detail pages.
What all kinds share (filters, pages, status chips) is jobs.selectors.mirror."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, ClassVar

from jobs.models import ImportedModel, ModelImportJob
from jobs.pagination import KeysetPage
from jobs.selectors.mirror import (
    MirrorFilters,
    StatusChip,
    enum,
    mirror_get,
    mirror_list,
    mirror_queryset,
    mirror_rows,
    pretty,
    status_counts,
    timestamp,
)

IMPORT_JOBS = "import_jobs"
IMPORTED_MODELS = "imported_models"

STATUSES = enum("ModelImportJobStatus")

IMPORT_JOB_COLUMNS = (
    "arn",
    "resource_id",
    "region",
    "account",
    "name",
    "created_at",
    "status",
    "imported_model_arn",
    "imported_model_name",
    "last_modified_at",
    "ended_at",
    "listed",
    "summary_digest",  # the row's revision, for the live channel
)
IMPORTED_MODEL_COLUMNS = (
    "arn",
    "resource_id",
    "region",
    "account",
    "name",
    "created_at",
    "model_architecture",
    "instruct_supported",
    "listed",
)
# Import jobs are few (Bedrock runs one at a time): chips count exactly up to this many.
COUNT_LIMIT = 1000


def resource_id(arn: str) -> str:
    """An ARN's last segment: the id in our URLs."""
    return arn.rsplit("/", 1)[-1] if arn else ""


# --- Model import jobs ------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelImportJobFilters(MirrorFilters):
    KIND: ClassVar[str] = IMPORT_JOBS


def model_import_job_list(
    *, filters: MirrorFilters, size: int, token: str | None
) -> KeysetPage[ModelImportJob]:
    """One page of the list. Raises jobs.pagination.PageTokenError for a bad token."""
    return mirror_list(ModelImportJob, IMPORT_JOB_COLUMNS, filters=filters, size=size, token=token)


def model_import_job_status_counts(*, filters: MirrorFilters) -> list[StatusChip]:
    return status_counts(
        kind=IMPORT_JOBS,
        statuses=STATUSES,
        filters=filters,
        queryset=lambda f: mirror_queryset(ModelImportJob, filters=f, columns=IMPORT_JOB_COLUMNS),
        limit=COUNT_LIMIT,
    )


def model_import_job_rows(*, resource_ids: list[str]) -> list[ModelImportJob]:
    """The list rows among `resource_ids` (the live channel's running rows), one query."""
    return mirror_rows(ModelImportJob, IMPORT_JOB_COLUMNS, resource_ids=resource_ids)


def model_import_job_get(*, resource_id: str) -> ModelImportJob | None:
    return mirror_get(ModelImportJob, resource_id=resource_id)


@dataclass
class ModelImportJobLayout:
    """GetModelImportJob's answer arranged for a person; every field is plain data."""

    described: bool
    last_modified: dt.datetime | None = None
    ended: dt.datetime | None = None
    failure_messages: list[str] = field(default_factory=list)
    role_arn: str = ""
    model_data_uri: str = ""
    subnet_ids: list[str] = field(default_factory=list)
    security_group_ids: list[str] = field(default_factory=list)
    kms_key: str = ""
    imported_model_arn: str = ""
    imported_model_name: str = ""
    raw_json: str = ""

    @property
    def imported_model_id(self) -> str:
        return resource_id(self.imported_model_arn)


def model_import_job_layout(*, job: ModelImportJob) -> ModelImportJobLayout:
    """The description (GetModelImportJob as stored) laid out; until it was fetched, what the
    summary row knows."""
    d = job.description or {}
    vpc = d.get("vpcConfig") or {}
    source = (d.get("modelDataSource") or {}).get("s3DataSource") or {}
    failure = d.get("failureMessage")
    return ModelImportJobLayout(
        described=bool(d),
        last_modified=timestamp(d.get("lastModifiedTime")) or job.last_modified_at,
        ended=timestamp(d.get("endTime")) or job.ended_at,
        failure_messages=[failure] if failure and job.status == "Failed" else [],
        role_arn=d.get("roleArn", ""),
        model_data_uri=source.get("s3Uri", ""),
        subnet_ids=list(vpc.get("subnetIds") or []),
        security_group_ids=list(vpc.get("securityGroupIds") or []),
        kms_key=d.get("importedModelKmsKeyArn") or d.get("importedModelKmsKeyId") or "",
        imported_model_arn=d.get("importedModelArn") or job.imported_model_arn,
        imported_model_name=d.get("importedModelName") or job.imported_model_name,
        raw_json=pretty(d) if d else "",
    )


# --- Imported models --------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedModelFilters(MirrorFilters):
    KIND: ClassVar[str] = IMPORTED_MODELS


def imported_model_list(
    *, filters: MirrorFilters, size: int, token: str | None
) -> KeysetPage[ImportedModel]:
    """One page of the list. Raises jobs.pagination.PageTokenError for a bad token."""
    columns = IMPORTED_MODEL_COLUMNS
    return mirror_list(ImportedModel, columns, filters=filters, size=size, token=token)


def imported_model_get(*, resource_id: str) -> ImportedModel | None:
    return mirror_get(ImportedModel, resource_id=resource_id)


def imported_model_name_taken(*, name: str) -> bool:
    """A model by that name exists, or a running import job is creating one."""
    if ImportedModel.objects.filter(name=name, listed=True).exists():
        return True
    running = ModelImportJob.objects.filter(listed=True, status="InProgress")
    return running.filter(imported_model_name=name).exists()


def model_import_jobs_running(*, limit: int) -> list[ModelImportJob]:
    """The newest import jobs still running (Bedrock runs one at a time)."""
    running = ModelImportJob.objects.filter(listed=True, status="InProgress")
    return list(running.order_by("-created_at")[:limit])


def imported_models_by_id(*, resource_ids: list[str]) -> list[ImportedModel]:
    """The listed models among `resource_ids`, newest first (a deletion's confirmation)."""
    return list(
        ImportedModel.objects.filter(resource_id__in=resource_ids, listed=True)
        .only(*IMPORTED_MODEL_COLUMNS)
        .order_by("-created_at", "-arn")
    )


@dataclass
class ImportedModelLayout:
    """GetImportedModel's answer arranged for a person."""

    described: bool
    architecture: str = ""
    instruct_supported: bool | None = None
    model_data_uri: str = ""
    job_name: str = ""
    job_arn: str = ""
    kms_key: str = ""
    units_per_copy: int | None = None
    units_version: str = ""
    raw_json: str = ""
    failure_messages: list[str] = field(default_factory=list)

    @property
    def job_id(self) -> str:
        return resource_id(self.job_arn)


def imported_model_layout(*, model: ImportedModel) -> ImportedModelLayout:
    """The description (GetImportedModel as stored) laid out; until it was fetched, what the
    summary row knows."""
    d = model.description or {}
    units: dict[str, Any] = d.get("customModelUnits") or {}
    source = (d.get("modelDataSource") or {}).get("s3DataSource") or {}
    return ImportedModelLayout(
        described=bool(d),
        architecture=d.get("modelArchitecture") or model.model_architecture,
        instruct_supported=d.get("instructSupported", model.instruct_supported),
        model_data_uri=source.get("s3Uri", ""),
        job_name=d.get("jobName", ""),
        job_arn=d.get("jobArn", ""),
        kms_key=d.get("modelKmsKeyArn") or "",
        units_per_copy=units.get("customModelUnitsPerModelCopy"),
        units_version=units.get("customModelUnitsVersion", ""),
        raw_json=pretty(d) if d else "",
    )
