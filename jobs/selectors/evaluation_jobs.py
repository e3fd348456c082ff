"""Reads of the evaluation-job mirror for the list and detail pages."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet

from jobs.bedrock.contract import service_model
from jobs.models import AuditEntry, EvaluationJob, StatusCount
from jobs.pagination import KeysetPage, keyset_page, page_scope

KIND = "evaluation_jobs"


def _enum(shape: str) -> tuple[str, ...]:
    return tuple(service_model().shape_for(shape).enum)


# Choices come from Bedrock's service model, so a new status or task type shows up by itself.
STATUSES = _enum("EvaluationJobStatus")
JOB_TYPES = _enum("EvaluationJobType")
APPLICATION_TYPES = _enum("ApplicationType")
TASK_TYPES = _enum("EvaluationTaskType")

# What a list row shows: the JSON columns (summary, description) stay in the database.
LIST_COLUMNS = (
    "arn",
    "resource_id",
    "name",
    "created_at",
    "status",
    "job_type",
    "application_type",
    "task_types",
    "model_identifiers",
    "listed",
)

# Status chips count at most this many rows per status when other filters are set, and show
# "1,000+" past it: a bounded index scan instead of a count of the whole table.
COUNT_LIMIT = 1000
# On PostgreSQL each bounded count also gets this statement timeout (a filter matching few
# rows can still scan many); past it the chip says the count is unknown.
COUNT_TIMEOUT_MS = 500


@dataclass(frozen=True)
class EvaluationJobFilters:
    """A list filter, normalised: equal filters compare (and hash) equal."""

    statuses: tuple[str, ...] = ()
    job_type: str = ""
    application_type: str = ""
    task_type: str = ""
    model: str = ""
    name: str = ""
    created_after: dt.date | None = None
    created_before: dt.date | None = None
    include_vanished: bool = False
    newest_first: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "statuses", tuple(sorted(set(self.statuses))))
        object.__setattr__(self, "name", self.name.strip().lower())
        object.__setattr__(self, "model", self.model.strip())

    @property
    def narrows_beyond_status(self) -> bool:
        """Set filters other than status (sort does not filter)."""
        return bool(
            self.job_type
            or self.application_type
            or self.task_type
            or self.model
            or self.name
            or self.created_after
            or self.created_before
            or self.include_vanished
        )

    @property
    def is_filtered(self) -> bool:
        return bool(self.statuses) or self.narrows_beyond_status

    def scope(self) -> str:
        """What page tokens are valid for: this filter and sort, on this list."""
        return page_scope(KIND, self.as_params())

    def as_params(self) -> dict[str, Any]:
        params = {
            "status": list(self.statuses),
            "job_type": self.job_type,
            "application_type": self.application_type,
            "task_type": self.task_type,
            "model": self.model,
            "name": self.name,
            "created_after": self.created_after.isoformat() if self.created_after else "",
            "created_before": self.created_before.isoformat() if self.created_before else "",
            "vanished": "1" if self.include_vanished else "",
            "sort": "" if self.newest_first else "oldest",
        }
        return {key: value for key, value in params.items() if value}


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def evaluation_job_queryset(*, filters: EvaluationJobFilters) -> QuerySet[EvaluationJob]:
    """The mirror rows matching `filters`, unordered, with only the columns a row shows."""
    qs = EvaluationJob.objects.only(*LIST_COLUMNS)
    if not filters.include_vanished:
        qs = qs.filter(listed=True)
    if filters.statuses:
        qs = qs.filter(status__in=filters.statuses)
    if filters.job_type:
        qs = qs.filter(job_type=filters.job_type)
    if filters.application_type:
        qs = qs.filter(application_type=filters.application_type)
    if filters.task_type:
        qs = qs.filter(task_types__contains=f"|{filters.task_type}|")
    if filters.model:
        qs = qs.filter(model_identifiers__icontains=filters.model)
    if filters.name:
        # Bedrock's names are lower case ([a-z0-9-]); matching ignores case anyway.
        qs = qs.filter(name__icontains=filters.name)
    if filters.created_after:
        qs = qs.filter(created_at__gte=_day_start(filters.created_after))
    if filters.created_before:
        # "On or before" a day: up to the start of the next one.
        qs = qs.filter(created_at__lt=_day_start(filters.created_before + dt.timedelta(days=1)))
    return qs


def evaluation_job_list(
    *, filters: EvaluationJobFilters, size: int, token: str | None
) -> KeysetPage[EvaluationJob]:
    """One page of the list. Raises jobs.pagination.PageTokenError for a bad token."""
    return keyset_page(
        evaluation_job_queryset(filters=filters),
        size=size,
        token=token,
        scope=filters.scope(),
        descending=filters.newest_first,
    )


def evaluation_jobs_exist() -> bool:
    return EvaluationJob.objects.filter(listed=True).exists()


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


def evaluation_job_status_counts(
    *, filters: EvaluationJobFilters, limit: int | None = None
) -> list[StatusChip]:
    """How many jobs of each status match the filter's other criteria.

    With no other criteria the counts come from the per-status summary the sync keeps (one
    tiny query). Otherwise each status is counted up to `limit` + 1 rows (and, on PostgreSQL,
    within a statement timeout), so a chip says "1,000+" rather than make anyone wait.
    """
    limit = COUNT_LIMIT if limit is None else limit
    selected = set(filters.statuses)
    if not filters.narrows_beyond_status:
        summary = dict(StatusCount.objects.filter(kind=KIND).values_list("status", "count"))
        if summary:
            return [
                StatusChip(status=s, count=summary.get(s, 0), selected=s in selected)
                for s in STATUSES
            ]
    base = evaluation_job_queryset(filters=replace(filters, statuses=()))
    counts = _bounded_counts(base, limit=limit)
    return [
        StatusChip(
            status=s,
            count=None if counts[s] is None else min(counts[s], limit),
            capped=counts[s] is not None and counts[s] > limit,
            selected=s in selected,
        )
        for s in STATUSES
    ]


def _bounded_counts(base: QuerySet, *, limit: int) -> dict[str, int | None]:
    counts: dict[str, int | None] = {}
    base = base.values("pk")
    if connection.vendor != "postgresql":
        return {s: base.filter(status=s)[: limit + 1].count() for s in STATUSES}
    for status in STATUSES:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL statement_timeout = {int(COUNT_TIMEOUT_MS)}")
                # SELECT COUNT(*) FROM (SELECT ... LIMIT limit + 1): stops at the bound.
                counts[status] = base.filter(status=status)[: limit + 1].count()
        except DatabaseError:
            counts[status] = None  # cancelled by the timeout
    return counts


def evaluation_job_get(*, resource_id: str) -> EvaluationJob | None:
    """The job whose ARN ends in `resource_id` (listed rows first), or None."""
    return (
        EvaluationJob.objects.filter(resource_id=resource_id)
        .order_by("-listed", "-created_at")
        .first()
    )


def evaluation_job_audit_entries(*, job: EvaluationJob, limit: int = 50) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(target_arn=job.arn).order_by("-at")[:limit])


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


def _pretty(value: Any) -> str:
    # Sorted keys: PostgreSQL's jsonb does not keep Bedrock's order, so be stable everywhere.
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def _pretty_text(text: str) -> str:
    """inferenceParams is a JSON document in a string: show it indented if it parses."""
    try:
        return _pretty(json.loads(text))
    except (TypeError, ValueError):
        return text


def _timestamp(value: Any) -> dt.datetime | None:
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
        last_modified=_timestamp(d.get("lastModifiedTime")),
        failure_messages=list(d.get("failureMessages") or []),
        role_arn=d.get("roleArn", ""),
        kms_key=d.get("customerEncryptionKeyId", ""),
        output_uri=(d.get("outputDataConfig") or {}).get("s3Uri", ""),
        evaluation_kind="Human" if human else "Automated" if automated else "",
        raw_json=_pretty(d),
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
                    inference_params=_pretty_text(b["inferenceParams"])
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
            layout.models.append(ModelEntry(kind="Other", identifier=_pretty(m)))
    layout.rag_configs = [_pretty(r) for r in inference.get("ragConfigs", [])]
    if automated:
        layout.evaluator_models = _evaluator_ids(automated)
        custom = automated.get("customMetricConfig") or {}
        layout.custom_metric_evaluators = _evaluator_ids(custom)
        for metric in custom.get("customMetrics", []):
            definition = metric.get("customMetricDefinition") or {}
            layout.custom_metrics.append(
                CustomMetric(name=definition.get("name", ""), definition=_pretty(definition))
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
