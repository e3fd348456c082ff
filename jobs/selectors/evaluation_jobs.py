"""Reads of the evaluation-job mirror for the list and detail pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet

from jobs import page_cache
from jobs.bedrock import rules
from jobs.models import EvaluationJob, StatusCount
from jobs.pagination import KeysetPage
from jobs.selectors.mirror import (
    MirrorFilters,
    StatusChip,
    enum,
    mirror_get,
    mirror_page,
    mirror_queryset,
    mirror_rows,
    pretty,
    pretty_text,
    status_counts,
    timestamp,
)

KIND = "evaluation_jobs"

# Choices come from Bedrock's service model, so a new status or task type shows up by itself.
STATUSES = enum("EvaluationJobStatus")
JOB_TYPES = enum("EvaluationJobType")
APPLICATION_TYPES = enum("ApplicationType")
TASK_TYPES = enum("EvaluationTaskType")

# What a list row shows: the JSON columns (summary, description) stay in the database.
LIST_COLUMNS = (
    "arn",
    "resource_id",
    "region",
    "account",
    "name",
    "created_at",
    "status",
    "job_type",
    "application_type",
    "task_types",
    "model_identifiers",
    "listed",
    # The row's revision: the live channel sends a row again when this moved.
    "summary_digest",
)

# Status chips count at most this many rows per status when other filters are set, and show
# "1,000+" past it: a bounded index scan instead of a count of the whole table.
COUNT_LIMIT = 1000
MODELS_CACHE_KEY = "evaluation-jobs:models"


@dataclass(frozen=True)
class EvaluationJobFilters(MirrorFilters):
    """The evaluation-job list's filter: the common ones and the job's own columns."""

    KIND: ClassVar[str] = KIND

    job_type: str = ""
    application_type: str = ""
    task_type: str = ""
    model: str = ""
    model_id: str = ""  # the model picker: one of the jobs' models, exactly

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "model", self.model.strip())

    def kind_params(self) -> dict[str, Any]:
        return {
            "job_type": self.job_type,
            "application_type": self.application_type,
            "task_type": self.task_type,
            "model": self.model,
            "model_id": self.model_id,
        }


def evaluation_job_queryset(*, filters: EvaluationJobFilters) -> QuerySet[EvaluationJob]:
    """The mirror rows matching `filters`, unordered, with only the columns a row shows."""
    qs = mirror_queryset(EvaluationJob, filters=filters, columns=LIST_COLUMNS)
    if filters.job_type:
        qs = qs.filter(job_type=filters.job_type)
    if filters.application_type:
        qs = qs.filter(application_type=filters.application_type)
    if filters.task_type:
        qs = qs.filter(task_types__contains=f"|{filters.task_type}|")
    if filters.model:
        qs = qs.filter(model_identifiers__icontains=filters.model)
    if filters.model_id:
        # "|id|" inside "|a|b|": the trigram index on UPPER(model_identifiers) serves it.
        qs = qs.filter(model_identifiers__icontains=f"|{filters.model_id}|")
    return qs


# The picker lists at most this many models; the list is cached for MODELS_TTL seconds.
MODELS_LIMIT = 500
MODELS_TTL = 60
_MODELS_SQL = """
WITH RECURSIVE m(v) AS (
    (SELECT LEFT(model_identifiers, 512) FROM {table} ORDER BY 1 LIMIT 1)
    UNION ALL
    SELECT (
        SELECT LEFT(model_identifiers, 512) FROM {table}
        WHERE LEFT(model_identifiers, 512) > m.v ORDER BY 1 LIMIT 1
    ) FROM m WHERE m.v IS NOT NULL
)
SELECT v FROM m WHERE v IS NOT NULL LIMIT %s
"""


def evaluation_job_models() -> list[str]:
    """Every model the mirror's jobs name, sorted, for the model picker. On PostgreSQL a loose
    index scan of the evaljob_models_prefix index (one probe per distinct combination of
    models, not a scan of the jobs); cached for a minute either way."""
    cached = page_cache.local_get(MODELS_CACHE_KEY)
    if cached is None:
        cached = cache.get(MODELS_CACHE_KEY)
        if cached is not None:
            page_cache.local_set(MODELS_CACHE_KEY, cached)
    if cached is not None:
        return cached
    table = connection.ops.quote_name(EvaluationJob._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_MODELS_SQL.format(table=table), [MODELS_LIMIT])
        else:
            cursor.execute(
                f"SELECT DISTINCT model_identifiers FROM {table} LIMIT %s",  # noqa: S608
                [MODELS_LIMIT],
            )
        combos = [row[0] for row in cursor.fetchall()]
    found = sorted({m for combo in combos for m in (combo or "").split("|") if m})
    found = found[:MODELS_LIMIT]
    cache.set(MODELS_CACHE_KEY, found, MODELS_TTL)
    return found


def evaluation_job_list(
    *, filters: EvaluationJobFilters, size: int, token: str | None
) -> KeysetPage[EvaluationJob]:
    """One page of the list. Raises jobs.pagination.PageTokenError for a bad token."""
    return mirror_page(
        evaluation_job_queryset(filters=filters), filters=filters, size=size, token=token
    )


def evaluation_job_status_counts(
    *, filters: EvaluationJobFilters, limit: int | None = None
) -> list[StatusChip]:
    """How many jobs of each status match the filter's other criteria (see
    jobs.selectors.mirror.status_counts): at most `limit` (COUNT_LIMIT) counted exactly."""
    return status_counts(
        kind=KIND,
        statuses=STATUSES,
        filters=filters,
        queryset=lambda f: evaluation_job_queryset(filters=f),
        limit=COUNT_LIMIT if limit is None else limit,
    )


def evaluation_job_get(*, resource_id: str) -> EvaluationJob | None:
    """The job whose ARN ends in `resource_id` (listed rows first), or None."""
    return mirror_get(EvaluationJob, resource_id=resource_id)


def evaluation_job_rows(*, resource_ids: list[str]) -> list[EvaluationJob]:
    """The list rows among `resource_ids` (the live channel's running rows), one query."""
    return mirror_rows(EvaluationJob, LIST_COLUMNS, resource_ids=resource_ids)


def evaluation_jobs_by_id(*, resource_ids: list[str]) -> list[EvaluationJob]:
    """The jobs among `resource_ids` (Stop selected…)."""
    return list(EvaluationJob.objects.filter(resource_id__in=resource_ids))


# --- The detail page's layout of GetEvaluationJob --------------------------------------------


@dataclass
class ModelEntry:
    kind: str
    identifier: str
    inference_params: str = ""  # pretty-printed JSON (or the raw text if it is not JSON)
    performance: str = ""


@dataclass
class DatasetMetricConfig:
    task_type: str
    dataset_name: str
    dataset_uri: str
    metrics: list[str]


@dataclass
class CustomMetric:
    name: str
    description: str = ""
    rating_method: str = ""
    definition: str = ""  # pretty-printed JSON of an LLM-judged metric's definition


@dataclass
class EvaluationJobLayout:
    """GetEvaluationJob's answer arranged for a person; every field is plain data."""

    described: bool
    description_text: str = ""
    last_modified: dt.datetime | None = None
    failure_messages: list[str] = field(default_factory=list)
    role_arn: str = ""
    kms_key: str = ""
    output_uri: str = ""
    evaluation_kind: str = ""
    dataset_metric_configs: list[DatasetMetricConfig] = field(default_factory=list)
    models: list[ModelEntry] = field(default_factory=list)
    rag_configs: list[str] = field(default_factory=list)  # pretty JSON, one per config
    evaluator_models: list[str] = field(default_factory=list)
    custom_metric_evaluators: list[str] = field(default_factory=list)
    custom_metrics: list[CustomMetric] = field(default_factory=list)
    human_flow_arn: str = ""
    human_instructions: str = ""
    raw_json: str = ""


def _evaluator_ids(config: dict[str, Any]) -> list[str]:
    models = config.get("evaluatorModelConfig", {}).get("bedrockEvaluatorModels", [])
    return [m.get("modelIdentifier", "") for m in models]


def evaluation_job_layout(*, job: EvaluationJob) -> EvaluationJobLayout:
    """The description (GetEvaluationJob as stored) laid out section by section; when it was
    never fetched, only `described=False` and what the summary row knows."""
    d = job.description
    if not d:
        return EvaluationJobLayout(described=False)
    config = d.get("evaluationConfig") or {}
    automated, human = config.get("automated"), config.get("human")
    inner = automated or human or {}
    layout = EvaluationJobLayout(
        described=True,
        description_text=d.get("jobDescription", ""),
        last_modified=timestamp(d.get("lastModifiedTime")),
        failure_messages=list(d.get("failureMessages") or []),
        role_arn=d.get("roleArn", ""),
        kms_key=d.get("customerEncryptionKeyId", ""),
        output_uri=(d.get("outputDataConfig") or {}).get("s3Uri", ""),
        evaluation_kind="Human" if human else "Automated" if automated else "",
        raw_json=pretty(d),
    )
    for c in inner.get("datasetMetricConfigs", []):
        dataset = c.get("dataset") or {}
        layout.dataset_metric_configs.append(
            DatasetMetricConfig(
                task_type=c.get("taskType", ""),
                dataset_name=dataset.get("name", ""),
                dataset_uri=(dataset.get("datasetLocation") or {}).get("s3Uri", ""),
                metrics=list(c.get("metricNames", [])),
            )
        )
    inference = d.get("inferenceConfig") or {}
    for m in inference.get("models", []):
        if "bedrockModel" in m:
            b = m["bedrockModel"]
            layout.models.append(
                ModelEntry(
                    kind="Bedrock model",
                    identifier=b.get("modelIdentifier", ""),
                    inference_params=pretty_text(b["inferenceParams"])
                    if b.get("inferenceParams")
                    else "",
                    performance=(b.get("performanceConfig") or {}).get("latency", ""),
                )
            )
        elif "precomputedInferenceSource" in m:
            layout.models.append(
                ModelEntry(
                    kind="Precomputed inference source",
                    identifier=m["precomputedInferenceSource"].get("inferenceSourceIdentifier", ""),
                )
            )
        else:
            layout.models.append(ModelEntry(kind="Other", identifier=pretty(m)))
    layout.rag_configs = [pretty(r) for r in inference.get("ragConfigs", [])]
    if automated:
        layout.evaluator_models = _evaluator_ids(automated)
        custom = automated.get("customMetricConfig") or {}
        layout.custom_metric_evaluators = _evaluator_ids(custom)
        for metric in custom.get("customMetrics", []):
            definition = metric.get("customMetricDefinition") or {}
            layout.custom_metrics.append(
                CustomMetric(name=definition.get("name", ""), definition=pretty(definition))
            )
    if human:
        for metric in human.get("customMetrics", []):
            layout.custom_metrics.append(
                CustomMetric(
                    name=metric.get("name", ""),
                    description=metric.get("description", ""),
                    rating_method=metric.get("ratingMethod", ""),
                )
            )
        flow = human.get("humanWorkflowConfig") or {}
        layout.human_flow_arn = flow.get("flowDefinitionArn", "")
        layout.human_instructions = flow.get("instructions", "")
    return layout


# --- service quotas --------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaUsage:
    """How much of one of Bedrock's quotas the account uses, as the mirror last saw it."""

    used: int
    limit: int
    what: str  # e.g. "automatic evaluation jobs running"

    @property
    def full(self) -> bool:
        return self.used >= self.limit

    @property
    def near(self) -> bool:
        """Within a tenth of the quota (or full)."""
        return self.used >= self.limit - max(1, self.limit // 10)

    def __str__(self) -> str:
        return f"{self.used:,} of {self.limit:,} {self.what}"

    @property
    def warning(self) -> str:
        """What a review page says while the quota is full ("" while it is not)."""
        if not self.full:
            return ""
        return (
            f"{self} already, Bedrock's quota for this account and Region (not adjustable): "
            "it will refuse this job until one of them finishes."
        )


def evaluation_job_running_usage(*, kind: str) -> QuotaUsage:
    """Running (InProgress or Stopping) evaluation jobs of the quota `kind` counts against:
    human jobs have their own; programmatic, judge and RAG jobs share the automatic one.
    Few rows: the count uses the (status, created_at) index."""
    human = kind == rules.KIND_HUMAN
    running = EvaluationJob.objects.filter(listed=True, status__in=EvaluationJob.RUNNING)
    running = running.filter(job_type="Human") if human else running.exclude(job_type="Human")
    name = "concurrent_human_evaluation_jobs" if human else "concurrent_automatic_evaluation_jobs"
    what = "human" if human else "automatic"
    return QuotaUsage(
        used=running.count(), limit=rules.QUOTAS[name], what=f"{what} evaluation jobs running"
    )


def evaluation_job_total_usage() -> QuotaUsage:
    """Evaluation jobs the account holds, from the per-status counts the sync keeps (no
    COUNT(*) over the mirror)."""
    counts = StatusCount.objects.filter(kind=KIND).values_list("count", flat=True)
    return QuotaUsage(
        used=sum(counts),
        limit=rules.QUOTAS["evaluation_jobs"],
        what="evaluation jobs in this account and Region",
    )
