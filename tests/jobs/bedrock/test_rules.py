"""The cross-field rules of CreateEvaluationJob and the catalogues behind the forms' choices:
every rule on a request of every kind, and robustness on requests of any shape."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.bedrock import rules
from jobs.bedrock.contract import Violation, service_model, validate
from jobs.bedrock.local import seed, store

ROLE = "arn:aws:iam::111122223333:role/EvalRole"
OUT = {"s3Uri": "s3://my-bucket/out/"}
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
JUDGE = {"bedrockEvaluatorModels": [{"modelIdentifier": HAIKU}]}
A = "evaluationConfig.automated"
H = "evaluationConfig.human"


def custom_dataset(name: str = "prompts") -> dict[str, Any]:
    return {"name": name, "datasetLocation": {"s3Uri": f"s3://my-bucket/{name}.jsonl"}}


def programmatic() -> dict[str, Any]:
    return {
        "jobName": "p",
        "roleArn": ROLE,
        "outputDataConfig": OUT,
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "Generation",
                        "dataset": {"name": "Builtin.Wikitext2"},
                        "metricNames": ["Builtin.Accuracy", "Builtin.Toxicity"],
                    },
                    {
                        "taskType": "Classification",
                        "dataset": custom_dataset(),
                        "metricNames": ["Builtin.Robustness"],
                    },
                ]
            }
        },
        "inferenceConfig": {"models": [{"bedrockModel": {"modelIdentifier": HAIKU}}]},
    }


def judge() -> dict[str, Any]:
    return {
        "jobName": "j",
        "roleArn": ROLE,
        "outputDataConfig": OUT,
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "Custom",
                        "dataset": custom_dataset(),
                        "metricNames": ["Builtin.Correctness", "BrandVoice"],
                    }
                ],
                "evaluatorModelConfig": JUDGE,
                "customMetricConfig": {
                    "customMetrics": [
                        {"customMetricDefinition": {"name": "BrandVoice", "instructions": "x"}}
                    ],
                    "evaluatorModelConfig": JUDGE,
                },
            }
        },
        "inferenceConfig": {
            "models": [{"precomputedInferenceSource": {"inferenceSourceIdentifier": "bot"}}]
        },
    }


def human() -> dict[str, Any]:
    return {
        "jobName": "h",
        "roleArn": ROLE,
        "outputDataConfig": OUT,
        "evaluationConfig": {
            "human": {
                "humanWorkflowConfig": {
                    "flowDefinitionArn": (
                        "arn:aws:sagemaker:us-east-1:111122223333:flow-definition/f"
                    )
                },
                "customMetrics": [
                    {"name": "Preference", "ratingMethod": "ComparisonChoice"},
                    {"name": "Helpful", "ratingMethod": "ThumbsUpDown"},
                ],
                "datasetMetricConfigs": [
                    {
                        "taskType": "Generation",
                        "dataset": custom_dataset(),
                        "metricNames": ["Preference", "Helpful"],
                    }
                ],
            }
        },
        "inferenceConfig": {
            "models": [
                {"bedrockModel": {"modelIdentifier": HAIKU}},
                {"bedrockModel": {"modelIdentifier": "amazon.nova-pro-v1:0"}},
            ]
        },
    }


def rag(mode: str = "retrieve_and_generate") -> dict[str, Any]:
    if mode == "retrieve":
        config = {
            "retrieveConfig": {
                "knowledgeBaseId": "KB1",
                "knowledgeBaseRetrievalConfiguration": {"vectorSearchConfiguration": {}},
            }
        }
        metrics = ["Builtin.ContextRelevance", "Builtin.ContextCoverage"]
    else:
        config = {
            "retrieveAndGenerateConfig": {
                "type": "KNOWLEDGE_BASE",
                "knowledgeBaseConfiguration": {"knowledgeBaseId": "KB1", "modelArn": HAIKU},
            }
        }
        metrics = ["Builtin.Correctness", "Builtin.CitationCoverage"]
    return {
        "jobName": "r",
        "roleArn": ROLE,
        "outputDataConfig": OUT,
        "applicationType": "RagEvaluation",
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "QuestionAndAnswer",
                        "dataset": custom_dataset(),
                        "metricNames": metrics,
                    }
                ],
                "evaluatorModelConfig": JUDGE,
            }
        },
        "inferenceConfig": {"ragConfigs": [{"knowledgeBaseConfig": config}]},
    }


BUILDERS = {
    "programmatic": programmatic,
    "judge": judge,
    "human": human,
    "rag": rag,
    "rag-retrieve": lambda: rag("retrieve"),
}


# --- catalogues ---------------------------------------------------------------------------


def test_task_types_are_the_models_enum():
    enum = service_model().shape_for("EvaluationTaskType").enum
    assert rules.task_types() == tuple(enum)
    assert set(rules.BUILTIN_DATASETS) == set(enum)


def test_builtin_datasets_per_task_type_and_their_spelling():
    assert rules.builtin_datasets("Generation") == (
        "Builtin.T-Rex",
        "Builtin.Bold",
        "Builtin.Wikitext2",
        "Builtin.RealToxicityPrompts",
    )
    assert rules.builtin_datasets("Custom") == ()
    assert len(rules.builtin_datasets()) == 9
    # The API reference spells it Wikitext2, the user guide WikiText2: both are accepted.
    assert rules.canonical_builtin_dataset("Builtin.WikiText2") == "Builtin.Wikitext2"
    assert rules.canonical_builtin_dataset("builtin.boolq") == "Builtin.BoolQ"
    assert rules.canonical_builtin_dataset("my-data") is None


def test_every_builtin_dataset_and_metric_name_fits_the_models_name_shapes():
    names = rules.builtin_datasets() + rules.ALGORITHMIC_METRICS + rules.JUDGE_METRICS
    names += rules.RAG_RETRIEVE_METRICS + rules.RAG_RETRIEVE_AND_GENERATE_METRICS
    for name in names:
        request = programmatic()
        config = request["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]
        config["dataset"]["name"] = name
        config["metricNames"] = [name]
        assert validate("CreateEvaluationJob", request) == [], name


def test_metrics_per_kind_and_task_type():
    assert rules.metrics_for("programmatic", task_type="Generation") == rules.ALGORITHMIC_METRICS
    assert "Builtin.Toxicity" not in rules.metrics_for("programmatic", task_type="Classification")
    assert rules.metrics_for("judge", custom_metric_names=["Tone", "", "Tone"]) == (
        *rules.JUDGE_METRICS,
        "Tone",
    )
    assert rules.metrics_for("human", custom_metric_names=["A", "B"]) == ("A", "B")
    assert rules.metrics_for("rag", mode="retrieve") == rules.RAG_RETRIEVE_METRICS
    assert rules.metrics_for("rag", mode="retrieve_and_generate", custom_metric_names=["G"]) == (
        *rules.RAG_RETRIEVE_AND_GENERATE_METRICS,
        "G",
    )
    both = rules.metrics_for("rag")
    assert set(both) == set(rules.RAG_RETRIEVE_METRICS + rules.RAG_RETRIEVE_AND_GENERATE_METRICS)
    with pytest.raises(KeyError):
        rules.metrics_for("other")


def test_limits_come_from_the_model():
    assert rules.MAX_DATASET_METRIC_CONFIGS == 5
    assert rules.MAX_HUMAN_CUSTOM_METRICS == 10
    assert rules.MAX_CUSTOM_METRICS == 10
    assert rules.MAX_RATING_SCALE_ITEMS == 10
    assert rules.MAX_TAGS == 200
    assert rules.MODEL_COUNTS == {
        "programmatic": (1, 1),
        "judge": (1, 1),
        "human": (1, 2),
        "rag": (0, 0),
    }
    assert set(rules.HUMAN_RATING_METHODS) == {
        "ThumbsUpDown",
        "IndividualLikertScale",
        "ComparisonLikertScale",
        "ComparisonChoice",
        "ComparisonRank",
    }


@pytest.mark.parametrize(
    ("build", "kind", "mode"),
    [
        ("programmatic", "programmatic", None),
        ("judge", "judge", None),
        ("human", "human", None),
        ("rag", "rag", "retrieve_and_generate"),
        ("rag-retrieve", "rag", "retrieve"),
    ],
)
def test_kind_and_mode_of_a_request(build, kind, mode):
    request = BUILDERS[build]()
    assert rules.evaluation_job_kind(request) == kind
    assert rules.rag_mode(request) == mode


def test_precomputed_rag_sources_have_a_mode():
    request = rag()
    request["inferenceConfig"]["ragConfigs"] = [
        {"precomputedRagSourceConfig": {"retrieveSourceConfig": {"ragSourceIdentifier": "s"}}}
    ]
    assert rules.rag_mode(request) == "retrieve"
    assert rules.effective_application_type({"inferenceConfig": {"ragConfigs": []}}) == (
        "RagEvaluation"
    )


# --- the rules ----------------------------------------------------------------------------


@pytest.mark.parametrize("build", list(BUILDERS))
def test_valid_requests_of_every_kind_break_no_rule(build):
    request = BUILDERS[build]()
    assert validate("CreateEvaluationJob", request) == []
    assert rules.evaluation_job_rules(request) == []


def _configs(request: dict[str, Any]) -> list[dict[str, Any]]:
    return next(iter(request["evaluationConfig"].values()))["datasetMetricConfigs"]


def _set_metrics(index: int, metrics: list[str]) -> Callable[[dict[str, Any]], None]:
    return lambda r: _configs(r)[index].update(metricNames=metrics)


def _set_dataset(index: int, name: str, location: bool = False) -> Callable:
    def change(r: dict[str, Any]) -> None:
        _configs(r)[index]["dataset"] = custom_dataset(name) if location else {"name": name}

    return change


CASES = [
    # Model counts per kind: automated jobs evaluate one model.
    (
        "programmatic",
        lambda r: r["inferenceConfig"]["models"].append(
            {"bedrockModel": {"modelIdentifier": "x.y"}}
        ),
        "inferenceConfig.models",
        "an automated job evaluates exactly one model",
    ),
    (
        "judge",
        lambda r: r["inferenceConfig"]["models"].append(
            {"bedrockModel": {"modelIdentifier": "x.y"}}
        ),
        "inferenceConfig.models",
        "an automated job evaluates exactly one model",
    ),
    # The same model, configured the same, twice.
    (
        "human",
        lambda r: r["inferenceConfig"]["models"].__setitem__(
            1, copy.deepcopy(r["inferenceConfig"]["models"][0])
        ),
        "inferenceConfig.models[1].bedrockModel.modelIdentifier",
        f"{HAIKU} is already model 1 with the same settings",
    ),
    # Application type against what is evaluated.
    (
        "programmatic",
        lambda r: r.update(applicationType="RagEvaluation"),
        "inferenceConfig",
        "set ragConfigs",
    ),
    (
        "rag",
        lambda r: r.update(applicationType="ModelEvaluation"),
        "inferenceConfig",
        "set models, not ragConfigs",
    ),
    (
        "human",
        lambda r: r.update(applicationType="RagEvaluation"),
        "applicationType",
        "human evaluation is only for ModelEvaluation jobs",
    ),
    # Built-in datasets: per task type, programmatic jobs only; custom ones need S3.
    (
        "programmatic",
        _set_dataset(0, "Builtin.BoolQ"),
        f"{A}.datasetMetricConfigs[0].dataset.name",
        "Builtin.BoolQ is not a built-in dataset of task type Generation",
    ),
    (
        "programmatic",
        _set_dataset(1, "Builtin.Bold"),
        f"{A}.datasetMetricConfigs[1].dataset.name",
        "built-in datasets of Classification: Builtin.WomensEcommerceClothingReviews",
    ),
    (
        "judge",
        _set_dataset(0, "Builtin.Bold"),
        f"{A}.datasetMetricConfigs[0].dataset.name",
        "built-in datasets are only for automatic jobs with programmatic metrics",
    ),
    (
        "human",
        _set_dataset(0, "Builtin.Bold"),
        f"{H}.datasetMetricConfigs[0].dataset.name",
        "a Human job needs a custom dataset in S3",
    ),
    (
        "rag",
        _set_dataset(0, "Builtin.BoolQ"),
        f"{A}.datasetMetricConfigs[0].dataset.name",
        "built-in datasets are only for automatic jobs",
    ),
    (
        "programmatic",
        _set_dataset(1, "my-prompts"),
        f"{A}.datasetMetricConfigs[1].dataset.datasetLocation",
        "a custom dataset needs an S3 URI",
    ),
    # Dataset names are unique across a job's configs (built-in ones case-insensitively).
    (
        "programmatic",
        lambda r: _configs(r)[1].update(
            taskType="Generation", dataset={"name": "BUILTIN.wikitext2"}
        ),
        f"{A}.datasetMetricConfigs[1].dataset.name",
        "is already used by dataset/metric config 1",
    ),
    (
        "human",
        lambda r: _configs(r).append(copy.deepcopy(_configs(r)[0])),
        f"{H}.datasetMetricConfigs[1].dataset.name",
        "dataset prompts is already used by dataset/metric config 1",
    ),
    # Metrics per task type and kind; no metric twice in a config.
    (
        "programmatic",
        _set_metrics(1, ["Builtin.Toxicity"]),
        f"{A}.datasetMetricConfigs[1].metricNames[0]",
        "Builtin.Toxicity is not available for task type Classification",
    ),
    (
        "programmatic",
        _set_metrics(0, ["Builtin.Helpfulness"]),
        f"{A}.datasetMetricConfigs[0].metricNames[0]",
        "is not a programmatic metric (it needs a judge model)",
    ),
    (
        "programmatic",
        _set_metrics(0, ["Builtin.Accuracy", "Builtin.Accuracy"]),
        f"{A}.datasetMetricConfigs[0].metricNames[1]",
        "Builtin.Accuracy is listed twice",
    ),
    (
        "judge",
        _set_metrics(0, ["Builtin.Robustness"]),
        f"{A}.datasetMetricConfigs[0].metricNames[0]",
        "Builtin.Robustness is not a judge metric",
    ),
    (
        "judge",
        _set_metrics(0, ["Empathy"]),
        f"{A}.datasetMetricConfigs[0].metricNames[0]",
        "Empathy is not a built-in metric and not defined among the custom metrics",
    ),
    (
        "rag",
        _set_metrics(0, ["Builtin.ContextCoverage"]),
        f"{A}.datasetMetricConfigs[0].metricNames[0]",
        "not a metric of a retrieve-and-generate RAG evaluation",
    ),
    (
        "rag-retrieve",
        _set_metrics(0, ["Builtin.Faithfulness"]),
        f"{A}.datasetMetricConfigs[0].metricNames[0]",
        "not a metric of a retrieve-only RAG evaluation",
    ),
    (
        "rag",
        _set_metrics(0, ["Empathy"]),
        f"{A}.datasetMetricConfigs[0].metricNames[0]",
        "not defined among the custom metrics",
    ),
    (
        "human",
        _set_metrics(0, ["Preference", "Empathy"]),
        f"{H}.datasetMetricConfigs[0].metricNames[1]",
        "Empathy is not defined among the custom metrics of this human job",
    ),
    (
        "human",
        _set_metrics(0, ["Helpful", "Helpful"]),
        f"{H}.datasetMetricConfigs[0].metricNames[1]",
        "Helpful is listed twice",
    ),
    # Custom metrics: unique names; human rating methods; comparisons need two models.
    (
        "human",
        lambda r: r["evaluationConfig"]["human"]["customMetrics"][1].update(name="Preference"),
        f"{H}.customMetrics[1].name",
        "duplicate custom metric name Preference",
    ),
    (
        "judge",
        lambda r: r["evaluationConfig"]["automated"]["customMetricConfig"]["customMetrics"].append(
            {"customMetricDefinition": {"name": "BrandVoice", "instructions": "y"}}
        ),
        f"{A}.customMetricConfig.customMetrics[1].customMetricDefinition.name",
        "duplicate custom metric name BrandVoice",
    ),
    (
        "human",
        lambda r: r["evaluationConfig"]["human"]["customMetrics"][1].update(ratingMethod="Stars"),
        f"{H}.customMetrics[1].ratingMethod",
        "must be one of: ThumbsUpDown, IndividualLikertScale",
    ),
    (
        "human",
        lambda r: r["inferenceConfig"]["models"].pop(),
        f"{H}.customMetrics[0].ratingMethod",
        "ComparisonChoice compares the responses of two models",
    ),
    # RAG needs a judge; the retrieve-and-generate type picks its configuration.
    (
        "rag",
        lambda r: r["evaluationConfig"]["automated"].pop("evaluatorModelConfig"),
        f"{A}.evaluatorModelConfig",
        "a RAG evaluation needs an evaluator (judge) model",
    ),
    (
        "rag",
        lambda r: r["inferenceConfig"]["ragConfigs"][0]["knowledgeBaseConfig"][
            "retrieveAndGenerateConfig"
        ].update(type="EXTERNAL_SOURCES"),
        "inferenceConfig.ragConfigs[0].knowledgeBaseConfig.retrieveAndGenerateConfig"
        ".externalSourcesConfiguration",
        "is required when type is EXTERNAL_SOURCES",
    ),
    # Tags: unique keys, aws: reserved.
    (
        "programmatic",
        lambda r: r.update(jobTags=[{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]),
        "jobTags[1].key",
        "duplicate tag key a",
    ),
    (
        "programmatic",
        lambda r: r.update(jobTags=[{"key": "AWS:owner", "value": "me"}]),
        "jobTags[0].key",
        "tag keys may not start with aws:",
    ),
]


@pytest.mark.parametrize(("build", "change", "path", "expect"), CASES)
def test_each_rule_reports_the_path_of_the_offending_value(build, change, path, expect):
    request = BUILDERS[build]()
    change(request)
    violations = rules.evaluation_job_rules(request)
    assert any(v.path == path and expect in v.message for v in violations), violations
    assert all(isinstance(v, Violation) for v in violations)


def test_the_same_model_with_other_parameters_is_a_fair_comparison():
    request = human()
    request["inferenceConfig"]["models"][1] = {
        "bedrockModel": {"modelIdentifier": HAIKU, "inferenceParams": '{"temperature": 1}'}
    }
    assert rules.evaluation_job_rules(request) == []


def test_the_local_bedrock_uses_the_same_rules():
    assert store.rules is rules and seed.rules is rules


_KEYS = st.sampled_from(
    [
        "evaluationConfig",
        "automated",
        "human",
        "inferenceConfig",
        "models",
        "ragConfigs",
        "datasetMetricConfigs",
        "dataset",
        "name",
        "metricNames",
        "taskType",
        "customMetrics",
        "customMetricConfig",
        "customMetricDefinition",
        "evaluatorModelConfig",
        "ratingMethod",
        "bedrockModel",
        "modelIdentifier",
        "jobTags",
        "key",
        "applicationType",
        "knowledgeBaseConfig",
        "retrieveAndGenerateConfig",
        "type",
    ]
)
_anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.just("Builtin.Bold"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(request=st.dictionaries(_KEYS, _anything, max_size=6))
def test_rules_never_crash_on_a_request_of_any_shape(request):
    assert all(isinstance(v, Violation) for v in rules.evaluation_job_rules(request))
    assert rules.evaluation_job_kind(request) in rules.KINDS
    rules.rag_mode(request)
