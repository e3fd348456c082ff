"""Rules Bedrock enforces on CreateEvaluationJob beyond what its service model can express.
The catalogues they check against (task types, built-in datasets, metrics, rating methods,
limits), which forms offer their choices from, are jobs.bedrock.catalogue's, and importable
from here too.

The contract (jobs.bedrock.contract) checks shapes: required members, lengths, patterns,
enums, unions. Bedrock also rejects combinations the shapes allow (a built-in dataset of
another task type, a judge metric without a judge, two models in an automated job, ...).
This module is the one place those rules live: the product's forms check them before a
request is sent, and the local Bedrock applies them so a request it accepts is one Bedrock
would accept. Every rule cites the page it comes from.

`evaluation_job_rules` takes any request, also one that fails the contract: a member of
the wrong shape is skipped here (the contract reports it), never a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobs.bedrock.catalogue import (
    ALGORITHMIC_METRICS,
    BUILTIN_DATASETS,
    COMPARISON_RATING_METHODS,
    HUMAN_RATING_METHODS,
    JUDGE_METRICS,
    KIND_HUMAN,
    KIND_JUDGE,
    KIND_LABELS,
    KIND_PROGRAMMATIC,
    KIND_RAG,
    KINDS,
    MAX_CUSTOM_METRICS,
    MAX_DATASET_METRIC_CONFIGS,
    MAX_HUMAN_CUSTOM_METRICS,
    MAX_RATING_SCALE_ITEMS,
    MAX_TAGS,
    MODEL_COUNTS,
    NO_TOXICITY_TASKS,
    QUOTA_NAMES,
    QUOTAS,
    RAG_MODES,
    RAG_RETRIEVE,
    RAG_RETRIEVE_AND_GENERATE,
    RAG_RETRIEVE_AND_GENERATE_METRICS,
    RAG_RETRIEVE_METRICS,
    builtin_datasets,
    canonical_builtin_dataset,
    is_builtin_name,
    metrics_for,
    task_types,
    task_types_for,
)
from jobs.bedrock.contract import Violation

__all__ = [
    "ALGORITHMIC_METRICS",
    "BUILTIN_DATASETS",
    "COMPARISON_RATING_METHODS",
    "HUMAN_RATING_METHODS",
    "JUDGE_METRICS",
    "KINDS",
    "KIND_HUMAN",
    "KIND_JUDGE",
    "KIND_LABELS",
    "KIND_PROGRAMMATIC",
    "KIND_RAG",
    "MAX_CUSTOM_METRICS",
    "MAX_DATASET_METRIC_CONFIGS",
    "MAX_HUMAN_CUSTOM_METRICS",
    "MAX_RATING_SCALE_ITEMS",
    "MAX_TAGS",
    "MODEL_COUNTS",
    "QUOTAS",
    "QUOTA_NAMES",
    "RAG_MODES",
    "RAG_RETRIEVE",
    "RAG_RETRIEVE_AND_GENERATE",
    "RAG_RETRIEVE_AND_GENERATE_METRICS",
    "RAG_RETRIEVE_METRICS",
    "Violation",
    "builtin_datasets",
    "canonical_builtin_dataset",
    "effective_application_type",
    "evaluation_job_kind",
    "evaluation_job_rules",
    "is_builtin_name",
    "metrics_for",
    "model_import_job_rules",
    "rag_mode",
    "task_types",
    "task_types_for",
]

# --- reading a request ----------------------------------------------------------------------


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def effective_application_type(params: Mapping[str, Any]) -> str:
    """applicationType as Bedrock records it: given, or implied by the inference config."""
    given = params.get("applicationType")
    if isinstance(given, str) and given:
        return given
    return (
        "RagEvaluation"
        if "ragConfigs" in _dict(params.get("inferenceConfig"))
        else "ModelEvaluation"
    )


def evaluation_job_kind(params: Mapping[str, Any]) -> str:
    """Which of the four kinds a request (or a GetEvaluationJob description) is."""
    config = _dict(params.get("evaluationConfig"))
    if config.get("human") is not None:
        return KIND_HUMAN
    if effective_application_type(params) == "RagEvaluation":
        return KIND_RAG
    automated = _dict(config.get("automated"))
    if "evaluatorModelConfig" in automated or "customMetricConfig" in automated:
        return KIND_JUDGE
    return KIND_PROGRAMMATIC


def rag_mode(params: Mapping[str, Any]) -> str | None:
    """retrieve or retrieve_and_generate for a RAG request's first ragConfig, else None."""
    rags = _list(_dict(params.get("inferenceConfig")).get("ragConfigs"))
    rag = _dict(rags[0]) if rags else {}
    kb = _dict(rag.get("knowledgeBaseConfig"))
    precomputed = _dict(rag.get("precomputedRagSourceConfig"))
    if "retrieveConfig" in kb or "retrieveSourceConfig" in precomputed:
        return RAG_RETRIEVE
    if "retrieveAndGenerateConfig" in kb or "retrieveAndGenerateSourceConfig" in precomputed:
        return RAG_RETRIEVE_AND_GENERATE
    return None


# --- the rules ------------------------------------------------------------------------------


def model_import_job_rules(params: Mapping[str, Any]) -> list[Violation]:
    """Violations of Bedrock's rules in a CreateModelImportJob request that its model does
    not express: the tags of the job and of the model it creates."""
    return [
        *_tag_violations(_list(params.get("jobTags"))),
        *_tag_violations(_list(params.get("importedModelTags")), "importedModelTags"),
    ]


def evaluation_job_rules(params: Mapping[str, Any]) -> list[Violation]:
    """Violations of Bedrock's cross-member rules in a CreateEvaluationJob request."""
    out: list[Violation] = []
    config = _dict(params.get("evaluationConfig"))
    inference = _dict(params.get("inferenceConfig"))
    app = effective_application_type(params)
    automated = config.get("automated")
    human = config.get("human")
    kind = evaluation_job_kind(params)

    # The inference config says what is evaluated: models, or a knowledge base (RAG).
    # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_EvaluationInferenceConfig.html
    if app == "RagEvaluation" and "ragConfigs" not in inference:
        out.append(
            Violation(
                "inferenceConfig",
                "a RAG evaluation (applicationType RagEvaluation) evaluates a knowledge base "
                "or a precomputed RAG source: set ragConfigs",
            )
        )
    if app == "ModelEvaluation" and "ragConfigs" in inference:
        out.append(
            Violation(
                "inferenceConfig",
                "a model evaluation (applicationType ModelEvaluation) evaluates models: "
                "set models, not ragConfigs",
            )
        )

    models = _list(inference.get("models"))
    if isinstance(automated, Mapping) and len(models) > 1:
        # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateEvaluationJob.html
        out.append(
            Violation(
                "inferenceConfig.models",
                "an automated job evaluates exactly one model; only human jobs compare two",
            )
        )
    out.extend(_model_violations(models))
    out.extend(_tag_violations(_list(params.get("jobTags"))))

    if isinstance(human, Mapping):
        if app != "ModelEvaluation":
            # RAG evaluations are judged by a model only.
            # https://docs.aws.amazon.com/bedrock/latest/userguide/evaluation-kb.html
            out.append(
                Violation("applicationType", "human evaluation is only for ModelEvaluation jobs")
            )
        out.extend(_human_violations(human, model_count=len(models)))
    if isinstance(automated, Mapping):
        out.extend(_automated_violations(automated, kind=kind, params=params))
    if kind == KIND_RAG:
        out.extend(_rag_config_violations(inference))
    return out


def _model_violations(models: list[Any]) -> list[Violation]:
    # Comparing a model with itself, configured the same, tells nothing. The same model with
    # other inference parameters (say two temperatures) is a fair comparison, so only an
    # identical entry is a duplicate.
    out = []
    seen: list[tuple[int, Any]] = []
    for i, model in enumerate(models):
        model = _dict(model)
        for member, key in (
            ("bedrockModel", "modelIdentifier"),
            ("precomputedInferenceSource", "inferenceSourceIdentifier"),
        ):
            entry = _dict(model.get(member))
            ident = _str(entry.get(key))
            if ident is None:
                continue
            earlier = next((j for j, other in seen if other == (member, entry)), None)
            if earlier is not None:
                out.append(
                    Violation(
                        f"inferenceConfig.models[{i}].{member}.{key}",
                        f"{ident} is already model {earlier + 1} with the same settings; "
                        "each model may be listed only once",
                    )
                )
            else:
                seen.append((i, (member, entry)))
    return out


def _tag_violations(tags: list[Any], member: str = "jobTags") -> list[Violation]:
    # Tag keys are unique per resource and the aws: prefix is reserved for AWS.
    # https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html
    out = []
    seen: dict[str, int] = {}
    for i, tag in enumerate(tags):
        key = _str(_dict(tag).get("key"))
        if key is None:
            continue
        path = f"{member}[{i}].key"
        if key.lower().startswith("aws:"):
            out.append(Violation(path, "tag keys may not start with aws: (reserved for AWS)"))
        if key in seen:
            out.append(
                Violation(path, f"duplicate tag key {key} (tag {seen[key] + 1} has it already)")
            )
        else:
            seen[key] = i
    return out


def _dataset_violations(
    configs: list[Any], *, prefix: str, builtin_allowed: bool, kind: str
) -> list[Violation]:
    out = []
    seen: dict[str, int] = {}
    for i, item in enumerate(configs):
        item = _dict(item)
        path = f"{prefix}.datasetMetricConfigs[{i}].dataset"
        dataset = _dict(item.get("dataset"))
        name = _str(dataset.get("name"))
        if name is None:
            continue
        task = _str(item.get("taskType"))
        if is_builtin_name(name):
            if not builtin_allowed:
                # Built-in datasets are for automatic jobs with algorithmic metrics; judge,
                # human and RAG jobs read your prompts from S3.
                # https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets.html
                # https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-judge.html
                out.append(
                    Violation(
                        f"{path}.name",
                        f"built-in datasets are only for automatic jobs with programmatic "
                        f"metrics; a {KIND_LABELS[kind]} job needs a custom dataset in S3",
                    )
                )
            elif task is not None:
                allowed = builtin_datasets(task)
                if name.lower() not in {d.lower() for d in allowed}:
                    choices = ", ".join(allowed) or "none (use a custom dataset)"
                    out.append(
                        Violation(
                            f"{path}.name",
                            f"{name} is not a built-in dataset of task type {task}; "
                            f"built-in datasets of {task}: {choices}",
                        )
                    )
        elif dataset.get("datasetLocation") is None:
            # A custom prompt dataset is read from S3.
            # https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-custom.html
            out.append(
                Violation(
                    f"{path}.datasetLocation",
                    "a custom dataset needs an S3 URI (datasetLocation.s3Uri) to read prompts from",
                )
            )
        # Each config evaluates its own dataset.
        key = name.lower() if is_builtin_name(name) else name
        if key in seen:
            out.append(
                Violation(
                    f"{path}.name",
                    f"dataset {name} is already used by dataset/metric config "
                    f"{seen[key] + 1}; dataset names must be unique within a job",
                )
            )
        else:
            seen[key] = i
    return out


def _duplicate_metric_violations(metrics: list[Any], path: str) -> list[Violation]:
    out = []
    seen: dict[str, int] = {}
    for j, metric in enumerate(metrics):
        if not isinstance(metric, str):
            continue
        if metric in seen:
            out.append(
                Violation(
                    f"{path}[{j}]",
                    f"{metric} is listed twice; metric names must be unique within a config",
                )
            )
        else:
            seen[metric] = j
    return out


def _custom_metric_names(automated: Mapping[str, Any]) -> list[str | None]:
    return [
        _str(_dict(_dict(source).get("customMetricDefinition")).get("name"))
        for source in _list(_dict(automated.get("customMetricConfig")).get("customMetrics"))
    ]


def _duplicate_name_violations(names: list[str | None], path: str) -> list[Violation]:
    out = []
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name is None:
            continue
        if name in seen:
            out.append(
                Violation(
                    path.format(i=i),
                    f"duplicate custom metric name {name} (custom metric {seen[name] + 1} "
                    "has it already); custom metric names must be unique",
                )
            )
        else:
            seen[name] = i
    return out


def _automated_violations(
    automated: Mapping[str, Any], *, kind: str, params: Mapping[str, Any]
) -> list[Violation]:
    prefix = "evaluationConfig.automated"
    configs = _list(automated.get("datasetMetricConfigs"))
    out = _dataset_violations(
        configs, prefix=prefix, builtin_allowed=kind == KIND_PROGRAMMATIC, kind=kind
    )
    judged = automated.get("evaluatorModelConfig") is not None
    custom_names = _custom_metric_names(automated)
    out.extend(
        _duplicate_name_violations(
            custom_names,
            f"{prefix}.customMetricConfig.customMetrics[{{i}}].customMetricDefinition.name",
        )
    )
    custom = {n for n in custom_names if n is not None}
    if kind == KIND_RAG and not judged:
        # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_AutomatedEvaluationConfig.html
        out.append(
            Violation(
                f"{prefix}.evaluatorModelConfig",
                "a RAG evaluation needs an evaluator (judge) model",
            )
        )
    mode = rag_mode(params) if kind == KIND_RAG else None
    for i, item in enumerate(configs):
        item = _dict(item)
        task = _str(item.get("taskType"))
        metrics = _list(item.get("metricNames"))
        path = f"{prefix}.datasetMetricConfigs[{i}].metricNames"
        out.extend(_duplicate_metric_violations(metrics, path))
        for j, metric in enumerate(metrics):
            if not isinstance(metric, str):
                continue
            message = _automated_metric_problem(
                metric, kind=kind, judged=judged, task=task, mode=mode, custom=custom
            )
            if message:
                out.append(Violation(f"{path}[{j}]", message))
    return out


def _automated_metric_problem(
    metric: str, *, kind: str, judged: bool, task: str | None, mode: str | None, custom: set[str]
) -> str | None:
    if kind == KIND_RAG:
        allowed = metrics_for(KIND_RAG, mode=mode)
        if is_builtin_name(metric):
            if metric not in allowed:
                what = {
                    RAG_RETRIEVE: "a retrieve-only RAG evaluation",
                    RAG_RETRIEVE_AND_GENERATE: "a retrieve-and-generate RAG evaluation",
                }.get(mode or "", "a RAG evaluation")
                return f"{metric} is not a metric of {what}; use one of: {', '.join(allowed)}"
            return None
        if metric not in custom:
            return f"{metric} is not a built-in metric and not defined among the custom metrics"
        return None
    if not judged:
        if metric not in ALGORITHMIC_METRICS:
            return (
                f"{metric} is not a programmatic metric (it needs a judge model); "
                f"use one of: {', '.join(ALGORITHMIC_METRICS)}"
            )
        if metric == "Builtin.Toxicity" and task in NO_TOXICITY_TASKS:
            return f"Builtin.Toxicity is not available for task type {task}"
        return None
    if is_builtin_name(metric):
        if metric not in JUDGE_METRICS:
            return f"{metric} is not a judge metric; use one of: {', '.join(JUDGE_METRICS)}"
        return None
    if metric not in custom:
        return f"{metric} is not a built-in metric and not defined among the custom metrics"
    return None


def _human_violations(human: Mapping[str, Any], *, model_count: int) -> list[Violation]:
    prefix = "evaluationConfig.human"
    configs = _list(human.get("datasetMetricConfigs"))
    out = _dataset_violations(configs, prefix=prefix, builtin_allowed=False, kind=KIND_HUMAN)
    metrics = [_dict(m) for m in _list(human.get("customMetrics"))]
    out.extend(
        _duplicate_name_violations(
            [_str(m.get("name")) for m in metrics], f"{prefix}.customMetrics[{{i}}].name"
        )
    )
    for i, metric in enumerate(metrics):
        method = _str(metric.get("ratingMethod"))
        path = f"{prefix}.customMetrics[{i}].ratingMethod"
        if method is None:
            continue
        if method not in HUMAN_RATING_METHODS:
            out.append(Violation(path, f"must be one of: {', '.join(HUMAN_RATING_METHODS)}"))
        elif method in COMPARISON_RATING_METHODS and model_count < 2:
            # https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-type-human.html
            individual = ", ".join(
                m for m in HUMAN_RATING_METHODS if m not in COMPARISON_RATING_METHODS
            )
            out.append(
                Violation(
                    path,
                    f"{method} compares the responses of two models; evaluate two models "
                    f"or rate with {individual}",
                )
            )
    # Workers rate the metrics the job defines; a config lists which of them apply.
    # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_HumanEvaluationConfig.html
    defined = {_str(m.get("name")) for m in metrics} - {None}
    for i, item in enumerate(configs):
        names = _list(_dict(item).get("metricNames"))
        path = f"{prefix}.datasetMetricConfigs[{i}].metricNames"
        out.extend(_duplicate_metric_violations(names, path))
        for j, name in enumerate(names):
            if isinstance(name, str) and name not in defined:
                out.append(
                    Violation(
                        f"{path}[{j}]",
                        f"{name} is not defined among the custom metrics of this human job",
                    )
                )
    return out


def _rag_config_violations(inference: Mapping[str, Any]) -> list[Violation]:
    # The retrieve-and-generate type says which configuration applies.
    # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_agent-runtime_RetrieveAndGenerateConfiguration.html
    out = []
    for i, rag in enumerate(_list(inference.get("ragConfigs"))):
        kb = _dict(_dict(rag).get("knowledgeBaseConfig"))
        config = _dict(kb.get("retrieveAndGenerateConfig"))
        path = f"inferenceConfig.ragConfigs[{i}].knowledgeBaseConfig.retrieveAndGenerateConfig"
        kind = _str(config.get("type"))
        for wanted, member in (
            ("KNOWLEDGE_BASE", "knowledgeBaseConfiguration"),
            ("EXTERNAL_SOURCES", "externalSourcesConfiguration"),
        ):
            if kind == wanted and config.get(member) is None:
                out.append(Violation(f"{path}.{member}", f"is required when type is {wanted}"))
            elif kind is not None and kind != wanted and config.get(member) is not None:
                out.append(Violation(f"{path}.{member}", f"is only for type {wanted}"))
    return out
