"""Labels and choices the evaluation job forms offer: task types, built-in datasets, metrics,
rating methods, and a model enum's values."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from jobs.bedrock import contract, rules

OPERATION = "CreateEvaluationJob"


# https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-tasks.html
TASK_TYPE_LABELS = {
    "Generation": "General text generation",
    "Summarization": "Text summarization",
    "QuestionAndAnswer": "Question and answer",
    "Classification": "Text classification",
    "Custom": "Custom",
    "General": "General (as AWS's judge and RAG examples)",
}
DATASET_LABELS = {
    "Builtin.T-Rex": "T-REx",
    "Builtin.Bold": "BOLD",
    "Builtin.Wikitext2": "WikiText2",
    "Builtin.RealToxicityPrompts": "RealToxicityPrompts",
    "Builtin.Gigaword": "Gigaword",
    "Builtin.BoolQ": "BoolQ",
    "Builtin.NaturalQuestions": "Natural Questions",
    "Builtin.TriviaQA": "TriviaQA",
    "Builtin.WomensEcommerceClothingReviews": "Women's E-Commerce Clothing Reviews",
}
# https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-type-human.html
RATING_METHOD_LABELS = {
    "ThumbsUpDown": "Thumbs up / down",
    "IndividualLikertScale": "Likert scale, each response on its own",
    "ComparisonLikertScale": "Likert scale, comparing two responses",
    "ComparisonChoice": "Choice buttons (pick the better of two)",
    "ComparisonRank": "Ordinal rank (rank the two responses)",
}


def task_type_choices(kind: str | None = None) -> list[tuple[str, str]]:
    tasks = rules.task_types() if kind is None else rules.task_types_for(kind)
    return [("", "Choose a task type")] + [
        (task, TASK_TYPE_LABELS.get(task, task)) for task in tasks
    ]


def builtin_dataset_choices(task_type: str | None = None) -> list[tuple[str, Any]]:
    """Built-in datasets for `task_type`; for None, all of them grouped by task type."""
    blank = [("", "Choose a built-in dataset")]
    if task_type:
        return blank + [(n, DATASET_LABELS.get(n, n)) for n in rules.builtin_datasets(task_type)]
    return blank + [
        (TASK_TYPE_LABELS.get(task, task), [(n, DATASET_LABELS.get(n, n)) for n in names])
        for task, names in rules.BUILTIN_DATASETS.items()
        if names
    ]


def metric_label(name: str) -> str:
    if not rules.is_builtin_name(name):
        return name
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name.split(".", 1)[1])
    return words[:1] + words[1:].lower()


def metric_choices(
    kind: str,
    *,
    task_type: str | None = None,
    mode: str | None = None,
    custom_metric_names: Iterable[str] = (),
) -> list[tuple[str, str]]:
    """(value, label) of the metrics a config of this kind and task type may list."""
    names = rules.metrics_for(
        kind, task_type=task_type, mode=mode, custom_metric_names=custom_metric_names
    )
    return [(name, metric_label(name)) for name in names]


def enum_choices(path: str, blank: str) -> list[tuple[str, str]]:
    values = contract.shape_for_path(OPERATION, path).enum
    return [("", blank)] + [(v, v.replace("_", " ").capitalize()) for v in values]
