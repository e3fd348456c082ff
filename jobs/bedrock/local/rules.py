"""Rules Bedrock enforces on CreateEvaluationJob beyond what the service model can express.

The contract (jobs.bedrock.contract.validate) checks shapes: required members, lengths,
patterns, enums, unions.  Bedrock additionally rejects combinations that the shapes allow;
the local Bedrock applies the ones below so a request it accepts is one Bedrock would accept.
Each rule cites the page it comes from.  Every violation is a (path, message) pair, reported
in the same "path: message; ..." ValidationException as the contract's.
"""

from __future__ import annotations

from typing import Any

# https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-tasks.html
# (the API names, "Builtin.<dataset>", are on each task type's page).
BUILTIN_DATASETS: dict[str, tuple[str, ...]] = {
    "Generation": (
        "Builtin.T-Rex",
        "Builtin.Bold",
        "Builtin.WikiText2",
        "Builtin.RealToxicityPrompts",
    ),
    "Summarization": ("Builtin.Gigaword",),
    "QuestionAndAnswer": ("Builtin.BoolQ", "Builtin.NaturalQuestions", "Builtin.TriviaQA"),
    "Classification": ("Builtin.WomensEcommerceClothingReviews",),
    "Custom": (),
}

# Algorithmic metrics of automatic jobs without a judge model; Toxicity is not computed for
# classification.  https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-tasks.html
ALGORITHMIC_METRICS = ("Builtin.Accuracy", "Builtin.Robustness", "Builtin.Toxicity")

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

# https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-type-human.html
HUMAN_RATING_METHODS = (
    "ThumbsUpDown",
    "IndividualLikertScale",
    "ComparisonLikertScale",
    "ComparisonChoice",
    "ComparisonRank",
)


def effective_application_type(params: dict[str, Any]) -> str:
    """applicationType as Bedrock records it: given, or implied by the inference config."""
    given = params.get("applicationType")
    if given:
        return given
    return (
        "RagEvaluation" if "ragConfigs" in params.get("inferenceConfig", {}) else "ModelEvaluation"
    )


def evaluation_job_violations(params: dict[str, Any]) -> list[tuple[str, str]]:
    """Violations of Bedrock's cross-member rules in a CreateEvaluationJob request that has
    already passed the contract (so every member present has the right shape)."""
    out: list[tuple[str, str]] = []
    config = params["evaluationConfig"]
    inference = params["inferenceConfig"]
    app = effective_application_type(params)
    automated = config.get("automated")
    human = config.get("human")

    # The inference config says what is evaluated: models, or a knowledge base (RAG).
    # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_EvaluationInferenceConfig.html
    if app == "RagEvaluation" and "ragConfigs" not in inference:
        out.append(("inferenceConfig", "a RagEvaluation job takes ragConfigs"))
    if app == "ModelEvaluation" and "models" not in inference:
        out.append(("inferenceConfig", "a ModelEvaluation job takes models"))

    # "automated jobs support a single model or inference profile, and jobs that use human
    # workers support two models" https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateEvaluationJob.html
    models = inference.get("models", [])
    if automated is not None and len(models) > 1:
        out.append(("inferenceConfig.models", "an automated job evaluates exactly one model"))

    if human is not None:
        if app != "ModelEvaluation":
            # RAG evaluations are judged by a model only.
            # https://docs.aws.amazon.com/bedrock/latest/userguide/evaluation-kb.html
            out.append(("applicationType", "human evaluation is only for ModelEvaluation jobs"))
        out.extend(_human_violations(human))
    if automated is not None:
        out.extend(_automated_violations(automated, app))
    return out


def _dataset_violations(configs: list[dict[str, Any]], prefix: str) -> list[tuple[str, str]]:
    out = []
    for i, item in enumerate(configs):
        path = f"{prefix}.datasetMetricConfigs[{i}].dataset"
        dataset = item["dataset"]
        name = dataset["name"]
        if name.startswith("Builtin."):
            allowed = BUILTIN_DATASETS.get(item["taskType"], ())
            if name.lower() not in {d.lower() for d in allowed}:
                choices = ", ".join(allowed) or "none (bring a custom dataset)"
                out.append(
                    (
                        f"{path}.name",
                        f"{name} is not a built-in dataset of task type "
                        f"{item['taskType']}; choose one of: {choices}",
                    )
                )
        elif "datasetLocation" not in dataset:
            # A custom prompt dataset is read from S3.
            # https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-custom.html
            out.append((f"{path}.datasetLocation", "a custom dataset needs a datasetLocation"))
    return out


def _automated_violations(automated: dict[str, Any], app: str) -> list[tuple[str, str]]:
    prefix = "evaluationConfig.automated"
    configs = automated["datasetMetricConfigs"]
    out = _dataset_violations(configs, prefix)
    judged = "evaluatorModelConfig" in automated
    if app == "RagEvaluation":
        if not judged:
            out.append(
                (f"{prefix}.evaluatorModelConfig", "a RagEvaluation job needs a judge model")
            )
        return out  # RAG metric names vary by retrieval type; not checked here.
    custom = {
        source["customMetricDefinition"]["name"]
        for source in automated.get("customMetricConfig", {}).get("customMetrics", [])
        if "customMetricDefinition" in source
    }
    for i, item in enumerate(configs):
        for j, metric in enumerate(item["metricNames"]):
            path = f"{prefix}.datasetMetricConfigs[{i}].metricNames[{j}]"
            if not judged:
                if metric not in ALGORITHMIC_METRICS:
                    out.append(
                        (
                            path,
                            f"{metric} needs a judge model (evaluatorModelConfig); "
                            f"without one use {', '.join(ALGORITHMIC_METRICS)}",
                        )
                    )
                elif metric == "Builtin.Toxicity" and item["taskType"] == "Classification":
                    out.append((path, "Builtin.Toxicity is not available for Classification"))
            elif metric.startswith("Builtin."):
                if metric not in JUDGE_METRICS:
                    out.append(
                        (
                            path,
                            f"{metric} is not a judge metric; use one of "
                            f"{', '.join(JUDGE_METRICS)}",
                        )
                    )
            elif metric not in custom:
                out.append((path, f"{metric} is not defined in customMetricConfig"))
    return out


def _human_violations(human: dict[str, Any]) -> list[tuple[str, str]]:
    prefix = "evaluationConfig.human"
    out = _dataset_violations(human["datasetMetricConfigs"], prefix)
    defined = set()
    for i, metric in enumerate(human.get("customMetrics", [])):
        defined.add(metric["name"])
        if metric["ratingMethod"] not in HUMAN_RATING_METHODS:
            out.append(
                (
                    f"{prefix}.customMetrics[{i}].ratingMethod",
                    f"must be one of {', '.join(HUMAN_RATING_METHODS)}",
                )
            )
    # Workers rate the metrics the job defines; a dataset lists which of them apply.
    # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_HumanEvaluationConfig.html
    for i, item in enumerate(human["datasetMetricConfigs"]):
        for j, metric in enumerate(item["metricNames"]):
            if metric not in defined:
                out.append(
                    (
                        f"{prefix}.datasetMetricConfigs[{i}].metricNames[{j}]",
                        f"{metric} is not defined in customMetrics",
                    )
                )
    return out
