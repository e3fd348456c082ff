"""The catalogues of CreateEvaluationJob that forms offer their choices from and the rules
(jobs.bedrock.rules) check against: the kinds of job, task types, built-in datasets, metrics,
rating methods, model counts, quotas and the model's list limits."""

from __future__ import annotations

from collections.abc import Iterable

from jobs.bedrock.contract import EXTRA_ENUM_VALUES, shape_for_path

_OPERATION = "CreateEvaluationJob"

# --- kinds ----------------------------------------------------------------------------------

# What the dashboard calls the four kinds of evaluation job; each has its own form.
KIND_PROGRAMMATIC = "programmatic"
KIND_JUDGE = "judge"
KIND_HUMAN = "human"
KIND_RAG = "rag"
KINDS = (KIND_PROGRAMMATIC, KIND_JUDGE, KIND_HUMAN, KIND_RAG)
KIND_LABELS = {
    KIND_PROGRAMMATIC: "Automatic: programmatic metrics",
    KIND_JUDGE: "Automatic: LLM as a judge",
    KIND_HUMAN: "Human",
    KIND_RAG: "RAG (knowledge base)",
}

# RAG evaluations either judge what was retrieved, or retrieved passages plus the generated
# answer; the metrics differ. https://docs.aws.amazon.com/bedrock/latest/userguide/evaluation-kb.html
RAG_RETRIEVE = "retrieve"
RAG_RETRIEVE_AND_GENERATE = "retrieve_and_generate"
RAG_MODES = (RAG_RETRIEVE, RAG_RETRIEVE_AND_GENERATE)


# --- catalogues -----------------------------------------------------------------------------


def task_types() -> tuple[str, ...]:
    """Task types, read from the service model's enum (Summarization, ..., Custom)."""
    return _TASK_TYPES


_TASK_TYPE_SHAPE = shape_for_path(
    _OPERATION, "evaluationConfig.automated.datasetMetricConfigs[0].taskType"
)
_TASK_TYPES: tuple[str, ...] = tuple(_TASK_TYPE_SHAPE.enum)


def task_types_for(kind: str) -> tuple[str, ...]:
    """Task types a form of this kind offers, its default first. Judge and RAG jobs default to
    General, as AWS's own examples do; it is accepted beyond the model's enum (the contract's
    EXTRA_ENUM_VALUES, with the link). Programmatic and human jobs offer the model's enum."""
    if kind in (KIND_JUDGE, KIND_RAG):
        return EXTRA_ENUM_VALUES.get(_TASK_TYPE_SHAPE.name, ()) + _TASK_TYPES
    return _TASK_TYPES


# Built-in prompt datasets per task type. The API names are the ones the API reference lists
# (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_EvaluationDataset.html, also in
# botocore's model): "Builtin.Wikitext2". The user guide's table spells the dataset
# "WikiText2" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-tasks.html),
# so names are compared case-insensitively and either spelling is accepted.
BUILTIN_DATASETS: dict[str, tuple[str, ...]] = {
    "Generation": (
        "Builtin.T-Rex",
        "Builtin.Bold",
        "Builtin.Wikitext2",
        "Builtin.RealToxicityPrompts",
    ),
    "Summarization": ("Builtin.Gigaword",),
    "QuestionAndAnswer": ("Builtin.BoolQ", "Builtin.NaturalQuestions", "Builtin.TriviaQA"),
    "Classification": ("Builtin.WomensEcommerceClothingReviews",),
    "Custom": (),
}

# Metrics computed by algorithms (no judge model), for automatic jobs; Toxicity is not
# computed for classification.
# https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-tasks.html
ALGORITHMIC_METRICS = ("Builtin.Accuracy", "Builtin.Robustness", "Builtin.Toxicity")
NO_TOXICITY_TASKS = frozenset({"Classification"})

# Built-in metrics of model-evaluation jobs that use a judge model.
# https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-metrics.html
JUDGE_METRICS = (
    "Builtin.Correctness",
    "Builtin.Completeness",
    "Builtin.Faithfulness",
    "Builtin.Helpfulness",
    "Builtin.Coherence",
    "Builtin.Relevance",
    "Builtin.FollowingInstructions",
    "Builtin.ProfessionalStyleAndTone",
    "Builtin.Harmfulness",
    "Builtin.Stereotyping",
    "Builtin.Refusal",
)

# RAG metrics: retrieve-only jobs judge the retrieved passages; retrieve-and-generate jobs
# judge the answer (citation metrics came with general availability).
# https://docs.aws.amazon.com/bedrock/latest/userguide/knowledge-base-eval-retrieve.html
# https://docs.aws.amazon.com/bedrock/latest/userguide/knowledge-base-eval-retrieve-generate.html
RAG_RETRIEVE_METRICS = ("Builtin.ContextRelevance", "Builtin.ContextCoverage")
RAG_RETRIEVE_AND_GENERATE_METRICS = (
    "Builtin.Correctness",
    "Builtin.Completeness",
    "Builtin.Helpfulness",
    "Builtin.LogicalCoherence",
    "Builtin.Faithfulness",
    "Builtin.Harmfulness",
    "Builtin.Stereotyping",
    "Builtin.Refusal",
    "Builtin.CitationPrecision",
    "Builtin.CitationCoverage",
)

# How human workers rate; the comparison methods put two models' answers side by side.
# https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-type-human.html
HUMAN_RATING_METHODS = (
    "ThumbsUpDown",
    "IndividualLikertScale",
    "ComparisonLikertScale",
    "ComparisonChoice",
    "ComparisonRank",
)
COMPARISON_RATING_METHODS = frozenset(
    {"ComparisonLikertScale", "ComparisonChoice", "ComparisonRank"}
)

# "automated jobs support a single model or inference profile, and jobs that use human
# workers support two models" (min, max) per kind; RAG jobs evaluate ragConfigs instead.
# https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateEvaluationJob.html
MODEL_COUNTS: dict[str, tuple[int, int]] = {
    KIND_PROGRAMMATIC: (1, 1),
    KIND_JUDGE: (1, 1),
    KIND_HUMAN: (1, 2),
    KIND_RAG: (0, 0),
}


# Service quotas per account and Region, with AWS's defaults; only imported models is
# adjustable at AWS. The dashboard warns from these before Bedrock refuses; the local Bedrock
# enforces them (settable there). The names are the Service Quotas console's.
# https://docs.aws.amazon.com/general/latest/gr/bedrock.html#limits_bedrock
QUOTAS: dict[str, int] = {
    "concurrent_automatic_evaluation_jobs": 20,  # programmatic, judge and RAG
    "concurrent_human_evaluation_jobs": 10,
    "evaluation_jobs": 5000,
    "concurrent_model_import_jobs": 1,
    "imported_models": 3,
}
QUOTA_NAMES: dict[str, str] = {
    "concurrent_automatic_evaluation_jobs": "Number of concurrent automatic model evaluation jobs",
    "concurrent_human_evaluation_jobs": (
        "Number of concurrent model evaluation jobs that use human workers"
    ),
    "evaluation_jobs": "Number of model evaluation jobs",
    "concurrent_model_import_jobs": "Concurrent model import jobs",
    "imported_models": "Imported models per account",
}


def _model_max(path: str) -> int:
    return int(shape_for_path(_OPERATION, path).metadata["max"])


# Limits the model itself sets (the contract enforces them); here for formsets' max_num.
MAX_DATASET_METRIC_CONFIGS = _model_max("evaluationConfig.automated.datasetMetricConfigs")
MAX_HUMAN_CUSTOM_METRICS = _model_max("evaluationConfig.human.customMetrics")
MAX_CUSTOM_METRICS = _model_max("evaluationConfig.automated.customMetricConfig.customMetrics")
MAX_RATING_SCALE_ITEMS = _model_max(
    "evaluationConfig.automated.customMetricConfig.customMetrics[0]"
    ".customMetricDefinition.ratingScale"
)
MAX_TAGS = _model_max("jobTags")


def is_builtin_name(name: str) -> bool:
    return name.lower().startswith("builtin.")


def builtin_datasets(task_type: str | None = None) -> tuple[str, ...]:
    """Built-in datasets valid for `task_type`; every one if None."""
    if task_type is None:
        return tuple(name for names in BUILTIN_DATASETS.values() for name in names)
    return BUILTIN_DATASETS.get(task_type, ())


def canonical_builtin_dataset(name: str) -> str | None:
    """The catalogue's spelling of a built-in dataset name, matched case-insensitively."""
    return _CANONICAL_DATASETS.get(name.lower())


_CANONICAL_DATASETS = {name.lower(): name for name in builtin_datasets()}


def metrics_for(
    kind: str,
    *,
    task_type: str | None = None,
    mode: str | None = None,
    custom_metric_names: Iterable[str] = (),
) -> tuple[str, ...]:
    """Metric names a dataset/metric config of this kind may list.

    programmatic: the algorithmic metrics valid for `task_type` (all three if None);
    judge: the judge metrics, then the job's custom metrics; human: the job's custom metrics;
    rag: the metrics of `mode` (both modes' if None), then the job's custom metrics.
    """
    custom = tuple(dict.fromkeys(n for n in custom_metric_names if n))
    if kind == KIND_PROGRAMMATIC:
        if task_type in NO_TOXICITY_TASKS:
            return tuple(m for m in ALGORITHMIC_METRICS if m != "Builtin.Toxicity")
        return ALGORITHMIC_METRICS
    if kind == KIND_JUDGE:
        return JUDGE_METRICS + custom
    if kind == KIND_HUMAN:
        return custom
    if kind == KIND_RAG:
        if mode == RAG_RETRIEVE:
            return RAG_RETRIEVE_METRICS + custom
        if mode == RAG_RETRIEVE_AND_GENERATE:
            return RAG_RETRIEVE_AND_GENERATE_METRICS + custom
        return tuple(dict.fromkeys(RAG_RETRIEVE_METRICS + RAG_RETRIEVE_AND_GENERATE_METRICS)) + (
            custom
        )
    raise KeyError(kind)
