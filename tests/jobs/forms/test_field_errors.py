"""For each field and each cross-field rule: an invalid value is rejected, with a message
that states the rule, on exactly the field (or formset) that holds the value."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from . import factories as f
from .factories import Loc, bound, error_locations, errors_at, with_rows, with_value

Change = Callable[[dict[str, Any]], dict[str, Any]]
NAME_PATTERN = "must match [a-z0-9](-*[a-z0-9]){0,62}"
METRIC_PATTERN = "must match [0-9a-zA-Z-_.]+"


def put(loc: Loc, value: Any) -> Change:
    return lambda data: with_value(data, loc, value)


def put_all(**values: Any) -> Change:
    def change(data: dict[str, Any]) -> dict[str, Any]:
        for name, value in values.items():
            formset, _, rest = name.partition("__")
            data = with_value(data, (formset, *rest.split("__", 1)) if rest else name, value)
        return data

    return change


def rows(formset: str, make: Callable[[int], dict[str, Any]], count: int) -> Change:
    return lambda data: with_rows(data, formset, [make(n) for n in range(count)])


def case(
    kind: str,
    change: Change,
    at: Loc | None,
    expect: str,
    *,
    source: str | None = None,
    also: frozenset[Loc] = frozenset(),
    id: str,
) -> Any:
    """`change` to valid data of `kind` puts an error containing `expect` on `at`, and
    errors nowhere else (but `also`, where the same value breaks another rule)."""
    return pytest.param(kind, source, change, at, expect, also, id=f"{kind}-{id}")


def then(*changes: Change) -> Change:
    def change(data: dict[str, Any]) -> dict[str, Any]:
        for each in changes:
            data = each(data)
        return data

    return change


def bedrock_model(**fields: Any) -> Change:
    """Model 0 as a Bedrock model (the judge's is precomputed), with `fields`."""
    values = {"source": "bedrock", "model_identifier": f.HAIKU, **fields}
    return put_all(**{f"models__0__{k}": v for k, v in values.items()})


def model_row(identifier: str = f.HAIKU) -> dict[str, Any]:
    return {"source": "bedrock", "model_identifier": identifier}


def dataset_row(n: int, metrics: list[str]) -> dict[str, Any]:
    return {
        "task_type": "Custom",
        "dataset_source": "custom",
        "dataset_name": f"prompts-{n}",
        "s3_uri": f"s3://eval-datasets-111122223333/p{n}.jsonl",
        "metrics": metrics,
    }


def human_metric(n: int) -> dict[str, Any]:
    return {"name": f"M{n}", "rating_method": "ThumbsUpDown"}


def judge_metric(n: int) -> dict[str, Any]:
    return {"name": f"M{n}", "instructions": "Rate {{prediction}}.", "scale_type": "number"}


KINDS = ["programmatic", "judge", "human", "rag"]
MODEL_KINDS = ["programmatic", "judge", "human"]

COMMON = [
    c
    for kind in KINDS
    for c in (
        case(kind, put("name", "Bad_Name"), "name", NAME_PATTERN, id="name-pattern"),
        case(kind, put("name", "a" * 64), "name", "at most 63 characters", id="name-length"),
        case(kind, put("name", ""), "name", "required", id="name-blank"),
        case(
            kind,
            put("description", "x" * 201),
            "description",
            "at most 200 characters",
            id="description-length",
        ),
        case(
            kind,
            put("description", "two\nlines"),
            "description",
            "must match .+",
            id="description-one-line",
        ),
        case(
            kind,
            put("role_arn", "arn:aws:iam::123:role/x"),
            "role_arn",
            "must match arn:aws(-[^:]+)?:iam::",
            id="role-pattern",
        ),
        case(kind, put("role_arn", ""), "role_arn", "required", id="role-blank"),
        case(
            kind,
            put("output_s3_uri", "s3://My_Bucket/out"),
            "output_s3_uri",
            "must match s3://",
            id="output-pattern",
        ),
        case(
            kind,
            put("kms_key", "my key"),
            "kms_key",
            "must match (arn:aws(-[^:]+)?:kms:",
            id="kms-pattern",
        ),
        case(
            kind,
            put(("tags", 0, "key"), "bad#key"),
            ("tags", 0, "key"),
            r"must match [a-zA-Z0-9\s._:/=+@-]*",
            id="tag-key-pattern",
        ),
        case(
            kind,
            put(("tags", 0, "key"), "aws:owner"),
            ("tags", 0, "key"),
            "may not start with aws:",
            id="tag-key-reserved",
        ),
        case(
            kind,
            put(("tags", 1, "key"), "team"),
            ("tags", 1, "key"),
            "duplicate tag key team",
            id="tag-key-duplicate",
        ),
        case(
            kind,
            put(("tags", 0, "value"), "x" * 257),
            ("tags", 0, "value"),
            "at most 256 characters",
            id="tag-value-length",
        ),
        case(
            kind,
            rows("tags", lambda n: {"key": f"k{n}", "value": "v"}, 201),
            ("tags", None),
            "at most 200 items",
            id="tag-count",
        ),
    )
]

MODELS = [
    c
    for kind in MODEL_KINDS
    for c in (
        case(
            kind,
            bedrock_model(model_identifier="not a model"),
            ("models", 0, "model_identifier"),
            "must match (arn:aws(-[^:]+)?:bedrock:",
            id="model-pattern",
        ),
        case(
            kind,
            # Something else set: a row left entirely at its defaults is no row at all.
            bedrock_model(model_identifier="", latency="optimized"),
            ("models", 0, "model_identifier"),
            "required",
            id="model-blank",
        ),
        case(
            kind,
            bedrock_model(inference_params="{not json"),
            ("models", 0, "inference_params"),
            "Not valid JSON",
            id="inference-params-json",
        ),
        case(
            kind,
            bedrock_model(inference_params="[1, 2]"),
            ("models", 0, "inference_params"),
            "JSON object",
            id="inference-params-object",
        ),
        case(
            kind,
            bedrock_model(inference_params=json.dumps({"a": "x" * 1100})),
            ("models", 0, "inference_params"),
            "at most 1023 characters",
            id="inference-params-length",
        ),
        case(
            kind,
            bedrock_model(latency="fast"),
            ("models", 0, "latency"),
            "must be one of: standard, optimized",
            id="latency-enum",
        ),
        case(
            kind,
            put_all(models__0__source="precomputed", models__0__precomputed_source="-bot"),
            ("models", 0, "precomputed_source"),
            "must match [a-zA-Z0-9]([a-zA-Z0-9._-]){0,255}",
            id="precomputed-pattern",
        ),
        case(
            kind,
            rows("models", model_row, 0),
            ("models", None),
            "at least 1 item",
            # Without models the human job's comparison metric has nothing to compare.
            also=frozenset({("custom_metrics", 0, "rating_method")} if kind == "human" else ()),
            id="none",
        ),
    )
] + [
    case(
        "programmatic",
        rows("models", lambda n: model_row([f.HAIKU, f.NOVA][n]), 2),
        ("models", None),
        "an automated job evaluates exactly one model",
        id="model-count",
    ),
    case(
        "judge",
        rows("models", lambda n: model_row([f.HAIKU, f.NOVA][n]), 2),
        ("models", None),
        "an automated job evaluates exactly one model",
        id="model-count",
    ),
    case(
        "human",
        rows("models", lambda n: model_row([f.HAIKU, f.NOVA, f.SONNET][n]), 3),
        ("models", None),
        "at most 2 items",
        id="model-count",
    ),
    case(
        "human",
        rows("models", lambda n: model_row(), 2),
        ("models", 1, "model_identifier"),
        "is already model 1",
        id="model-duplicate",
    ),
]


# The row with a custom dataset: the programmatic job's second, the others' first.
def ci(kind: str) -> int:
    return 1 if kind == "programmatic" else 0


DATASETS = [
    c
    for kind in KINDS
    for c in (
        case(
            kind,
            put(("datasets", ci(kind), "task_type"), "Poetry"),
            ("datasets", ci(kind), "task_type"),
            "must be one of: Summarization, Classification, QuestionAndAnswer, Generation, Custom",
            id="task-type-enum",
        ),
        case(
            kind,
            put(("datasets", ci(kind), "task_type"), ""),
            ("datasets", ci(kind), "task_type"),
            "required",
            id="task-type-blank",
        ),
        case(
            kind,
            put(("datasets", ci(kind), "dataset_name"), "my prompts"),
            ("datasets", ci(kind), "dataset_name"),
            METRIC_PATTERN.replace("metric", "dataset"),
            id="dataset-name-pattern",
        ),
        case(
            kind,
            put(("datasets", ci(kind), "s3_uri"), "http://x/p.jsonl"),
            ("datasets", ci(kind), "s3_uri"),
            "must match s3://",
            id="dataset-s3-pattern",
        ),
        case(
            kind,
            put(("datasets", ci(kind), "s3_uri"), ""),
            ("datasets", ci(kind), "s3_uri"),
            "a custom dataset needs an S3 URI",
            id="dataset-s3-missing",
        ),
        case(
            kind,
            put(("datasets", 0, "metrics"), []),
            ("datasets", 0, "metrics"),
            "at least 1 item",
            id="metrics-none",
        ),
        case(
            kind,
            put(("datasets", 0, "metrics"), ["Bad Metric"]),
            ("datasets", 0, "metrics"),
            METRIC_PATTERN,
            id="metric-pattern",
        ),
        case(
            kind,
            rows("datasets", lambda n: dataset_row(n, ["X"]), 0),
            ("datasets", None),
            "at least 1 item",
            id="dataset-count-min",
        ),
    )
] + [
    # Rows valid on their own, six of them: the count is what is wrong.
    case(
        "programmatic",
        rows("datasets", lambda n: dataset_row(n, ["Builtin.Accuracy"]), 6),
        ("datasets", None),
        "at most 5 items",
        id="dataset-count-max",
    ),
    case(
        "human",
        rows("datasets", lambda n: dataset_row(n, ["Preference"]), 6),
        ("datasets", None),
        "at most 5 items",
        id="dataset-count-max",
    ),
    case(
        "programmatic",
        put(("datasets", 0, "builtin_dataset"), "Builtin.Gigaword"),
        ("datasets", 0, "builtin_dataset"),
        "Builtin.Gigaword is not a built-in dataset of task type Generation",
        id="builtin-dataset-task-type",
    ),
    case(
        "programmatic",
        put(("datasets", 0, "builtin_dataset"), "Builtin.Nope"),
        ("datasets", 0, "builtin_dataset"),
        "is not a built-in dataset of task type Generation; built-in datasets of Generation: "
        "Builtin.T-Rex, Builtin.Bold, Builtin.Wikitext2, Builtin.RealToxicityPrompts",
        id="builtin-dataset-unknown",
    ),
    case(
        "programmatic",
        put(("datasets", 0, "builtin_dataset"), ""),
        ("datasets", 0, "builtin_dataset"),
        "required",
        id="builtin-dataset-blank",
    ),
    case(
        "programmatic",
        put_all(datasets__1__dataset_source="builtin", datasets__1__builtin_dataset="x"),
        ("datasets", 1, "builtin_dataset"),
        "x is not a built-in dataset; choose one from the list",
        id="builtin-dataset-not-builtin",
    ),
    case(
        "programmatic",
        put_all(
            datasets__1__task_type="Generation",
            datasets__1__dataset_source="builtin",
            datasets__1__builtin_dataset="BUILTIN.WIKITEXT2",
        ),
        ("datasets", 1, "builtin_dataset"),
        "is already used by dataset/metric config 1",
        id="builtin-dataset-duplicate",
    ),
    case(
        "judge",
        put(("datasets", 0, "dataset_name"), "Builtin.Bold"),
        ("datasets", 0, "dataset_name"),
        "built-in datasets are only for automatic jobs with programmatic metrics",
        id="builtin-dataset-not-for-judge",
    ),
    case(
        "human",
        put(("datasets", 0, "dataset_name"), "Builtin.Bold"),
        ("datasets", 0, "dataset_name"),
        "built-in datasets are only for automatic jobs with programmatic metrics",
        id="builtin-dataset-not-for-human",
    ),
    case(
        "rag",
        put(("datasets", 0, "dataset_name"), "Builtin.BoolQ"),
        ("datasets", 0, "dataset_name"),
        "built-in datasets are only for automatic jobs with programmatic metrics",
        id="builtin-dataset-not-for-rag",
    ),
    case(
        "programmatic",
        put(("datasets", 1, "dataset_name"), "Reviews_2"),
        None,
        "",
        id="dataset-name-ok",
    ),
    case(
        "human",
        lambda data: with_rows(
            data,
            "datasets",
            [
                dataset_row(0, ["Preference"]),
                {**dataset_row(1, ["Preference"]), "dataset_name": "prompts-0"},
            ],
        ),
        ("datasets", 1, "dataset_name"),
        "dataset prompts-0 is already used by dataset/metric config 1",
        id="dataset-duplicate",
    ),
    case(
        "programmatic",
        put(("datasets", 0, "metrics"), ["Builtin.Correctness"]),
        ("datasets", 0, "metrics"),
        "Builtin.Correctness is not a programmatic metric (it needs a judge model)",
        id="metric-needs-judge",
    ),
    case(
        "programmatic",
        put(("datasets", 1, "metrics"), ["Builtin.Toxicity"]),
        ("datasets", 1, "metrics"),
        "Builtin.Toxicity is not available for task type Classification",
        id="metric-toxicity-classification",
    ),
    case(
        "programmatic",
        put(("datasets", 0, "metrics"), ["Builtin.Accuracy", "Builtin.Accuracy"]),
        ("datasets", 0, "metrics"),
        "Metric 2: Builtin.Accuracy is listed twice",
        id="metric-duplicate",
    ),
    case(
        "judge",
        put(("datasets", 0, "metrics"), ["Builtin.Accuracy"]),
        ("datasets", 0, "metrics"),
        "Builtin.Accuracy is not a judge metric",
        id="metric-not-judge",
    ),
    case(
        "judge",
        put(("datasets", 0, "metrics"), ["Empathy"]),
        ("datasets", 0, "metrics"),
        "Empathy is not a built-in metric and not defined among the custom metrics",
        id="metric-undefined",
    ),
    case(
        "human",
        put(("datasets", 0, "metrics"), ["Empathy"]),
        ("datasets", 0, "metrics"),
        "Empathy is not defined among the custom metrics of this human job",
        id="metric-undefined",
    ),
    case(
        "rag",
        put(("datasets", 0, "metrics"), ["Builtin.ContextRelevance"]),
        ("datasets", 0, "metrics"),
        "Builtin.ContextRelevance is not a metric of a retrieve-and-generate RAG evaluation",
        id="metric-wrong-mode",
    ),
    case(
        "rag",
        put(("datasets", 0, "metrics"), ["Builtin.Correctness"]),
        ("datasets", 0, "metrics"),
        "Builtin.Correctness is not a metric of a retrieve-only RAG evaluation",
        source="kb_retrieve",
        id="metric-wrong-mode-retrieve",
    ),
    case(
        "rag",
        put(("datasets", 0, "metrics"), ["Empathy"]),
        ("datasets", 0, "metrics"),
        "Empathy is not a built-in metric and not defined among the custom metrics",
        id="metric-undefined",
    ),
]

CUSTOM_METRICS = [
    c
    for kind in ["judge", "rag"]
    for c in (
        case(
            kind,
            put("evaluator_model", "not a model"),
            "evaluator_model",
            "must match",
            id="evaluator-pattern",
        ),
        case(kind, put("evaluator_model", ""), "evaluator_model", "required", id="evaluator-blank"),
        case(
            kind,
            put("custom_metrics_evaluator_model", "not a model"),
            "custom_metrics_evaluator_model",
            "must match (arn:aws",
            id="custom-evaluator-pattern",
        ),
        case(
            kind,
            put(("custom_metrics", 0, "instructions"), "x" * 5001),
            ("custom_metrics", 0, "instructions"),
            "at most 5000 characters",
            id="instructions-length",
        ),
        case(
            kind,
            put_all(
                custom_metrics__0__scale_type="number", custom_metrics__0__scale_2_value="high"
            ),
            ("custom_metrics", 0, "scale_2_value"),
            "Enter a number",
            id="scale-number",
        ),
        case(
            kind,
            put(("custom_metrics", 0, "scale_2_definition"), "x" * 101),
            ("custom_metrics", 0, "scale_2_definition"),
            "at most 100 characters",
            id="scale-definition-length",
        ),
        case(
            kind,
            put(("custom_metrics", 0, "scale_2_definition"), ""),
            ("custom_metrics", 0, "scale_2_definition"),
            "required",
            id="scale-definition-missing",
        ),
        case(
            kind,
            put(("custom_metrics", 0, "scale_2_value"), ""),
            ("custom_metrics", 0, "scale_2_value"),
            "required",
            id="scale-value-missing",
        ),
        case(
            kind,
            put_all(
                custom_metrics__0__scale_type="text",
                custom_metrics__0__scale_2_value="x" * 101,
            ),
            ("custom_metrics", 0, "scale_2_value"),
            "at most 100 characters",
            id="scale-text-length",
        ),
        case(
            kind,
            then(
                rows("custom_metrics", judge_metric, 11),
                put(("datasets", 0, "metrics"), ["Builtin.Correctness"]),
            ),
            ("custom_metrics", None),
            "at most 10 items",
            id="custom-metric-count",
        ),
    )
] + [
    case(
        "judge",
        put(("custom_metrics", 0, "name"), "Brand Voice"),
        ("custom_metrics", 0, "name"),
        METRIC_PATTERN,
        also=frozenset({("datasets", 0, "metrics")}),  # it lists the metric by its old name
        id="custom-metric-name-pattern",
    ),
    case(
        "judge",
        lambda data: with_value(
            with_value(data, ("custom_metrics", 1, "name"), "BrandVoice"),
            ("datasets", 0, "metrics"),
            ["Builtin.Correctness", "BrandVoice"],
        ),
        ("custom_metrics", 1, "name"),
        "duplicate custom metric name BrandVoice",
        id="custom-metric-name-duplicate",
    ),
    case(
        "judge",
        put(("custom_metrics", 1, "scale_5_value"), "maybe"),
        ("custom_metrics", 1, "scale_5_definition"),
        "required",
        id="scale-gap-definition-missing",
    ),
]

HUMAN = [
    case(
        "human",
        put("flow_definition_arn", "arn:aws:sagemaker:us-east-1:1:flow-definition/x"),
        "flow_definition_arn",
        "must match arn:aws(-[^:]+)?:sagemaker:",
        id="flow-pattern",
    ),
    case(
        "human", put("flow_definition_arn", ""), "flow_definition_arn", "required", id="flow-blank"
    ),
    case(
        "human",
        put("instructions", "x" * 5001),
        "instructions",
        "at most 5000 characters",
        id="instructions-length",
    ),
    case(
        "human",
        put(("custom_metrics", 1, "name"), "Not OK"),
        ("custom_metrics", 1, "name"),
        METRIC_PATTERN,
        also=frozenset({("datasets", 0, "metrics")}),  # it lists the metric by its old name
        id="custom-metric-name-pattern",
    ),
    case(
        "human",
        lambda data: with_value(
            with_value(data, ("custom_metrics", 1, "name"), "Preference"),
            ("datasets", 0, "metrics"),
            ["Preference"],
        ),
        ("custom_metrics", 1, "name"),
        "duplicate custom metric name Preference",
        id="custom-metric-name-duplicate",
    ),
    case(
        "human",
        put(("custom_metrics", 0, "description"), "x" * 64),
        ("custom_metrics", 0, "description"),
        "at most 63 characters",
        id="custom-metric-description-length",
    ),
    case(
        "human",
        put(("custom_metrics", 0, "rating_method"), "Stars"),
        ("custom_metrics", 0, "rating_method"),
        "must be one of: ThumbsUpDown, IndividualLikertScale, ComparisonLikertScale, "
        "ComparisonChoice, ComparisonRank",
        id="rating-method-enum",
    ),
    case(
        "human",
        put(("custom_metrics", 0, "rating_method"), ""),
        ("custom_metrics", 0, "rating_method"),
        "required",
        id="rating-method-blank",
    ),
    case(
        "human",
        rows("models", lambda n: model_row(), 1),
        ("custom_metrics", 0, "rating_method"),
        "ComparisonChoice compares the responses of two models",
        id="rating-method-needs-two-models",
    ),
    case(
        "human",
        rows("custom_metrics", human_metric, 0),
        ("custom_metrics", None),
        "at least 1 item",
        also=frozenset({("datasets", 0, "metrics")}),  # the metrics it lists are now undefined
        id="custom-metric-count-min",
    ),
    case(
        "human",
        then(rows("custom_metrics", human_metric, 11), put(("datasets", 0, "metrics"), ["M0"])),
        ("custom_metrics", None),
        "at most 10 items",
        id="custom-metric-count-max",
    ),
]

R = "kb_retrieve_and_generate"
RAG = [
    case(
        "rag",
        put("knowledge_base_id", "kb-123"),
        "knowledge_base_id",
        "must match [0-9a-zA-Z]+",
        id="kb-pattern",
    ),
    case(
        "rag",
        put("knowledge_base_id", "A" * 11),
        "knowledge_base_id",
        "at most 10 characters",
        id="kb-length",
    ),
    case("rag", put("knowledge_base_id", ""), "knowledge_base_id", "required", id="kb-blank"),
    case(
        "rag",
        put("knowledge_base_id", ""),
        "knowledge_base_id",
        "required",
        source="kb_retrieve",
        id="kb-blank-retrieve",
    ),
    case(
        "rag",
        put("generator_model_arn", "not an arn!"),
        "generator_model_arn",
        "must match",
        id="generator-pattern",
    ),
    case(
        "rag",
        put("generator_model_arn", ""),
        "generator_model_arn",
        "required",
        id="generator-blank",
    ),
    case("rag", put("number_of_results", "0"), "number_of_results", "at least 1", id="results-min"),
    case(
        "rag", put("number_of_results", "101"), "number_of_results", "at most 100", id="results-max"
    ),
    case(
        "rag",
        put("number_of_results", "101"),
        "number_of_results",
        "at most 100",
        source="kb_retrieve",
        id="results-max-retrieve",
    ),
    case(
        "rag",
        put("number_of_results", "many"),
        "number_of_results",
        "whole number",
        id="results-int",
    ),
    case(
        "rag",
        put("search_type", "FUZZY"),
        "search_type",
        "must be one of: HYBRID, SEMANTIC",
        id="search-type",
    ),
    case("rag", put("filter_json", "{"), "filter_json", "Not valid JSON", id="filter-json"),
    case(
        "rag",
        put("filter_json", json.dumps({"andAll": [{"equals": {"key": "a", "value": 1}}]})),
        "filter_json",
        "andAll: Must have at least 2 items",
        id="filter-shape",
    ),
    case(
        "rag",
        put("filter_json", json.dumps({"equals": {"key": "a", "value": 1}, "notEquals": {}})),
        "filter_json",
        "must set exactly one of: equals, notEquals",
        source="kb_retrieve",
        id="filter-union-retrieve",
    ),
    case(
        "rag",
        put("implicit_filter_json", json.dumps({"modelArn": "x"})),
        "implicit_filter_json",
        "metadataAttributes: This field is required",
        id="implicit-filter-shape",
    ),
    case(
        "rag",
        put("reranking_json", json.dumps({"type": "OTHER"})),
        "reranking_json",
        "type: Must be one of: BEDROCK_RERANKING_MODEL",
        id="reranking-shape",
    ),
    case(
        "rag",
        put("prompt_template", "x" * 100_001),
        "prompt_template",
        "at most 100000 characters",
        id="prompt-template-length",
    ),
    case(
        "rag",
        put("guardrail_json", json.dumps({"guardrailId": "abc"})),
        "guardrail_json",
        "guardrailVersion: This field is required",
        id="guardrail-shape",
    ),
    case(
        "rag",
        put("inference_config_json", json.dumps({"textInferenceConfig": {"temperature": 2}})),
        "inference_config_json",
        "textInferenceConfig.temperature: Must be at most 1",
        id="inference-config-shape",
    ),
    case(
        "rag",
        put("additional_fields_json", json.dumps({"top_k": None})),
        "additional_fields_json",
        '["top_k"]: Must not be null',
        id="additional-fields-shape",
    ),
    case(
        "rag",
        put("orchestration_json", json.dumps({"queryTransformationConfiguration": {"type": "X"}})),
        "orchestration_json",
        "queryTransformationConfiguration.type: Must be one of: QUERY_DECOMPOSITION",
        id="orchestration-shape",
    ),
    case(
        "rag",
        put("external_sources_json", json.dumps({"modelArn": "arn:aws:bedrock:::x"})),
        "external_sources_json",
        "sources: This field is required",
        source="external_sources",
        id="external-sources-shape",
    ),
    case(
        "rag",
        put("external_sources_json", ""),
        "external_sources_json",
        "is required when type is EXTERNAL_SOURCES",
        source="external_sources",
        id="external-sources-missing",
    ),
    case(
        "rag",
        put("rag_source_identifier", "-rag"),
        "rag_source_identifier",
        "must match [a-zA-Z0-9]([a-zA-Z0-9._-]){0,255}",
        source="precomputed_retrieve",
        id="rag-source-pattern",
    ),
    case(
        "rag",
        put("rag_source_identifier", ""),
        "rag_source_identifier",
        "required",
        source="precomputed_retrieve_and_generate",
        id="rag-source-blank",
    ),
]

ALL = COMMON + MODELS + DATASETS + CUSTOM_METRICS + HUMAN + RAG


def base(kind: str, source: str | None) -> dict[str, Any]:
    return f.post(kind, f.rag(source=source) if source else None)


@pytest.mark.parametrize(("kind", "source", "change", "at", "expect", "also"), ALL)
def test_an_invalid_value_is_rejected_on_its_field(kind, source, change, at, expect, also):
    form = bound(kind, change(base(kind, source)))
    if at is None:  # a control: the change is valid
        assert form.is_valid(), error_locations(form)
        return
    assert not form.is_valid()
    messages = errors_at(form, at)
    assert any(expect.lower() in m.lower() for m in messages), (messages, error_locations(form))
    assert error_locations(form) == {at, *also}, form.violations
    assert form.unmapped == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_name_in_use_is_rejected_on_the_name_field(kind):
    used = {"qa-programmatic", "chat-judge", "support-human", "kb-rag"}
    form = bound(kind, base(kind, None), name_taken=used.__contains__)
    assert not form.is_valid()
    assert error_locations(form) == {"name"}
    assert "already exists" in errors_at(form, "name")[0]


def test_a_name_in_use_is_not_looked_up_when_the_name_is_invalid_anyway():
    looked_up = []
    data = with_value(base("programmatic", None), "name", "Bad_Name")
    form = bound("programmatic", data, name_taken=lambda n: looked_up.append(n) or True)
    assert not form.is_valid()
    assert looked_up == []
    assert errors_at(form, "name") == [
        "Use lower-case letters, digits and hyphens, starting and ending with a letter or "
        "digit.\nDetails: must match [a-z0-9](-*[a-z0-9]){0,62}."
    ]


def test_a_missing_management_form_is_an_error_of_its_formset():
    data = {k: v for k, v in base("programmatic", None).items() if not k.startswith("tags-")}
    form = bound("programmatic", data)
    assert not form.is_valid()
    assert ("tags", None) in error_locations(form)
