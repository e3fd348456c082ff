"""Forms that build a CreateEvaluationJob request, one per kind of job, and reject what
Bedrock would reject before anything is sent.

Each form is a plain Django form (the job's own fields) holding its formsets (tags,
models, dataset/metric configs, custom metrics). ``is_valid()``:

1. validates the fields themselves (required, parseable: JSON, numbers, known form choices);
2. builds the request and checks it with the contract (botocore's model: lengths, patterns,
   enums, counts) and the rules (jobs.bedrock.rules: what the model cannot express);
3. puts every violation on the field, or formset row field, whose value produced it, using
   the kind's path table (see paths.py), so the messages a user sees are the ones Bedrock
   would give, next to the right input.

Fields do not repeat the model's limits; the contract is the one source of them.

POST layout (no form prefix): the job's fields by name (``name``, ``role_arn``...), and
each formset under its prefix in Django's management-form layout: ``tags-TOTAL_FORMS``,
``tags-INITIAL_FORMS``, ``tags-0-key``, ``tags-0-DELETE``... ``form_data()`` flattens an
initial dict into that layout.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from django import forms
from django.forms.formsets import BaseFormSet, formset_factory

from jobs.bedrock import contract, rules
from jobs.bedrock.contract import Violation
from jobs.forms.fields import (
    CanonicalChoiceField,
    JSONObjectField,
    JSONTextField,
    MetricNamesField,
    OpenChoiceField,
    kms_key_field,
    role_arn_field,
    text_field,
)
from jobs.forms.paths import (
    NON_FIELD,
    FormField,
    FormsetErrors,
    PathMap,
    RowField,
    Target,
    humanize,
)
from jobs.forms.requests import RequestForm, prune

__all__ = [
    "FORMS",
    "EvaluationJobForm",
    "HumanEvaluationForm",
    "JudgeEvaluationForm",
    "ProgrammaticEvaluationForm",
    "RagEvaluationForm",
    "builtin_dataset_choices",
    "form_data",
    "initial_from_description",
    "metric_choices",
    "name_check",
    "suggest_clone_name",
    "task_type_choices",
]

OPERATION = "CreateEvaluationJob"
AUTOMATED = "evaluationConfig.automated"
HUMAN = "evaluationConfig.human"
CUSTOM_METRICS = f"{AUTOMATED}.customMetricConfig"
RAG = "inferenceConfig.ragConfigs[{r}]"  # at most one; {r} matches any index in the tables


def _first(path: str) -> str:
    """A path pattern with its RAG index set, for looking up the model's shape there."""
    return path.replace("{r}", "0")


# --- labels and choices ---------------------------------------------------------------------

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


def _enum_choices(path: str, blank: str) -> list[tuple[str, str]]:
    values = contract.shape_for_path(OPERATION, path).enum
    return [("", blank)] + [(v, v.replace("_", " ").capitalize()) for v in values]


# --- rows -----------------------------------------------------------------------------------


class TagForm(forms.Form):
    key = text_field(
        label="Key",
        required=True,
        path="jobTags[0].key",
        help_text="Up to 128 characters; keys starting with aws: are reserved.",
    )
    value = text_field(
        label="Value", path="jobTags[0].value", empty_value="", help_text="May be empty."
    )


class EvaluationModelForm(forms.Form):
    """One model under evaluation: a Bedrock model Bedrock calls, or responses you bring."""

    SOURCE_CHOICES = [
        ("bedrock", "Amazon Bedrock model"),
        ("precomputed", "My own inference responses (in the prompt dataset)"),
    ]
    source = forms.ChoiceField(
        label="Inference source",
        choices=SOURCE_CHOICES,
        initial="bedrock",
        widget=forms.RadioSelect,
    )
    model_identifier = text_field(
        label="Model",
        path="inferenceConfig.models[0].bedrockModel.modelIdentifier",
        help_text=(
            "A model ID, inference profile ID or ARN, e.g. anthropic.claude-3-haiku-20240307-v1:0."
        ),
    )
    # The API takes the parameters as a JSON string, kept as typed so a clone sends it back
    # unchanged. https://docs.aws.amazon.com/bedrock/latest/APIReference/API_EvaluationBedrockModel.html
    inference_params = JSONTextField(
        label="Inference parameters (JSON, optional)",
        help_text=(
            'A JSON object of the model\'s parameters, e.g. {"inferenceConfig": '
            '{"maxTokens": 512, "temperature": 0.2, "topP": 0.9}}; up to 1023 characters.'
        ),
    )
    latency = OpenChoiceField(
        label="Latency",
        required=False,
        choices=lambda: _enum_choices(
            "inferenceConfig.models[0].bedrockModel.performanceConfig.latency", "Default"
        ),
        help_text="Optimized uses latency-optimized inference where the model offers it.",
    )
    # "Bring your own inference responses": the dataset carries the responses, tagged with
    # this identifier.
    # https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-judge.html
    precomputed_source = text_field(
        label="Inference source name",
        path="inferenceConfig.models[0].precomputedInferenceSource.inferenceSourceIdentifier",
        help_text=(
            "The modelIdentifier your prompt dataset's modelResponses use for this model's "
            "responses."
        ),
    )


class DatasetMetricForm(forms.Form):
    """One dataset/metric config: a task type, a custom dataset in S3, and metrics."""

    task_type = OpenChoiceField(
        label="Task type",
        choices=task_type_choices,
        help_text="What the prompts ask the model to do; it decides which metrics apply.",
    )
    dataset_name = text_field(
        label="Dataset name",
        path=f"{AUTOMATED}.datasetMetricConfigs[0].dataset.name",
        help_text="A name for your prompt dataset: letters, digits, hyphens, underscores, dots.",
    )
    s3_uri = text_field(
        label="Dataset location (S3 URI)",
        path=f"{AUTOMATED}.datasetMetricConfigs[0].dataset.datasetLocation.s3Uri",
        help_text="The JSON Lines file of prompts, e.g. s3://my-bucket/datasets/prompts.jsonl.",
    )
    metrics = MetricNamesField(
        label="Metrics",
        required=False,
        help_text="What to measure on this dataset; the choices depend on the task type.",
    )

    def __init__(
        self,
        *args: Any,
        kind: str,
        custom_metric_names: Iterable[str] = (),
        mode: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind in (rules.KIND_JUDGE, rules.KIND_RAG):
            # General first and by default, as AWS's judge and RAG examples send it.
            self.fields["task_type"].choices = task_type_choices(kind)
            self.fields["task_type"].initial = rules.task_types_for(kind)[0]
        task = self["task_type"].value() or None
        self.fields["metrics"].choices = metric_choices(
            kind, task_type=task, mode=mode, custom_metric_names=custom_metric_names
        )


class BuiltinDatasetMetricForm(DatasetMetricForm):
    """A dataset/metric config of a programmatic job: a built-in dataset or your own."""

    SOURCE_CHOICES = [("builtin", "Built-in dataset"), ("custom", "My own dataset in S3")]
    dataset_source = forms.ChoiceField(
        label="Dataset",
        choices=SOURCE_CHOICES,
        initial="builtin",
        widget=forms.RadioSelect,
    )
    builtin_dataset = CanonicalChoiceField(
        label="Built-in dataset",
        required=False,
        canonical=rules.canonical_builtin_dataset,
        choices=builtin_dataset_choices,
        help_text="Only the datasets of the chosen task type are offered.",
    )
    field_order = ["task_type", "dataset_source", "builtin_dataset", "dataset_name", "s3_uri"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        task = self["task_type"].value() or None
        # Only the widget is narrowed: a dataset of another task type still reaches the
        # rules, whose message names the datasets that task type has.
        self.fields["builtin_dataset"].widget.choices = builtin_dataset_choices(task)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        name = cleaned.get("builtin_dataset")
        # Any "Builtin." name goes on to the rules, which list the task type's datasets;
        # anything else was never offered here.
        if cleaned.get("dataset_source") == "builtin" and name and not rules.is_builtin_name(name):
            self.add_error(
                "builtin_dataset",
                f"{name} is not a built-in dataset; choose one from the list, or choose "
                "My own dataset in S3.",
            )
        return cleaned


class HumanCustomMetricForm(forms.Form):
    name = text_field(
        label="Metric name",
        required=True,
        path=f"{HUMAN}.customMetrics[0].name",
        help_text="What workers rate, e.g. Helpfulness; datasets list metrics by this name.",
    )
    description = text_field(
        label="Description (optional)",
        path=f"{HUMAN}.customMetrics[0].description",
        help_text="One line telling workers what to look for; up to 63 characters.",
    )
    rating_method = OpenChoiceField(
        label="Rating method",
        choices=[("", "Choose a rating method"), *RATING_METHOD_LABELS.items()],
        help_text="The comparison methods show two models' responses side by side.",
    )


class JudgeCustomMetricForm(forms.Form):
    """A custom metric the evaluator model scores, with its rating scale as up to ten
    value/definition pairs (``scale_1_value``, ``scale_1_definition``, ...)."""

    SCALE_TYPES = [("number", "Numbers"), ("text", "Text")]
    name = text_field(
        label="Metric name",
        required=True,
        path=f"{CUSTOM_METRICS}.customMetrics[0].customMetricDefinition.name",
        help_text="Letters, digits, hyphens, underscores and dots; datasets list it by name.",
    )
    # https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-custom-metrics-prompt-formats.html
    instructions = text_field(
        label="Instructions for the evaluator",
        required=True,
        textarea=True,
        rows=6,
        path=f"{CUSTOM_METRICS}.customMetrics[0].customMetricDefinition.instructions",
        help_text=(
            "The prompt the evaluator model gets; use {{prompt}} and {{prediction}} where "
            "the prompt and the response go."
        ),
    )
    scale_type = forms.ChoiceField(
        label="Rating values are",
        choices=SCALE_TYPES,
        initial="number",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        item = f"{CUSTOM_METRICS}.customMetrics[0].customMetricDefinition.ratingScale[0]"
        for n in range(1, rules.MAX_RATING_SCALE_ITEMS + 1):
            self.fields[f"scale_{n}_value"] = text_field(
                label=f"Level {n} value", path=f"{item}.value.stringValue"
            )
            self.fields[f"scale_{n}_definition"] = text_field(
                label=f"Level {n} meaning", path=f"{item}.definition"
            )

    @property
    def rating_levels(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        """(value, definition) bound fields of each rating scale level, for templates."""
        return [
            (self[f"scale_{n}_value"], self[f"scale_{n}_definition"])
            for n in range(1, rules.MAX_RATING_SCALE_ITEMS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        levels = []
        numbers = cleaned.get("scale_type") == "number"
        for n in range(1, rules.MAX_RATING_SCALE_ITEMS + 1):
            value = cleaned.get(f"scale_{n}_value")
            definition = cleaned.get(f"scale_{n}_definition")
            if value is None and definition is None:
                continue
            if value is not None and numbers:
                try:
                    value = float(value)
                except ValueError:
                    value = math.nan
                if not math.isfinite(value):
                    self.add_error(
                        f"scale_{n}_value",
                        "Enter a number such as 0.5, or choose text rating values.",
                    )
                    continue
            levels.append((n, value, definition))
        cleaned["rating_scale"] = levels
        return cleaned


class RowFormSet(BaseFormSet):
    """A formset whose rows become a request list: deleted rows and untouched extra rows
    are left out."""

    def included_forms(self) -> list[tuple[int, forms.Form]]:
        out = []
        for index, form in enumerate(self.forms):
            if self.can_delete and self._should_delete_form(form):
                continue
            if index >= self.initial_form_count() and not form.has_changed():
                continue
            out.append((index, form))
        return out


def _formset(form: type[forms.Form], *, max_num: int, extra: int = 1) -> type[BaseFormSet]:
    # validate_max=False: counts are the contract's to check ("must have at most 5 items"),
    # so the message is the one Bedrock gives; max_num still caps the rows offered.
    return formset_factory(form, formset=RowFormSet, extra=extra, can_delete=True, max_num=max_num)


TagFormSet = _formset(TagForm, max_num=rules.MAX_TAGS)
DatasetMetricFormSet = _formset(DatasetMetricForm, max_num=rules.MAX_DATASET_METRIC_CONFIGS)
BuiltinDatasetMetricFormSet = _formset(
    BuiltinDatasetMetricForm, max_num=rules.MAX_DATASET_METRIC_CONFIGS
)
HumanCustomMetricFormSet = _formset(HumanCustomMetricForm, max_num=rules.MAX_HUMAN_CUSTOM_METRICS)
JudgeCustomMetricFormSet = _formset(JudgeCustomMetricForm, max_num=rules.MAX_CUSTOM_METRICS)


def _model_formset(kind: str) -> type[BaseFormSet]:
    return _formset(EvaluationModelForm, max_num=rules.MODEL_COUNTS[kind][1])


# --- path tables ----------------------------------------------------------------------------


def _dataset_name_target(form: EvaluationJobForm, indexes: Mapping[str, int]) -> Target:
    row = form.row_form("datasets", indexes["i"])
    builtin = row is not None and "dataset_source" in row.fields
    if builtin and row["dataset_source"].value() == "builtin":
        return RowField("datasets", "builtin_dataset")
    return RowField("datasets", "dataset_name")


def _scale_target(part: str) -> Callable[[EvaluationJobForm, Mapping[str, int]], Target]:
    def resolve(form: EvaluationJobForm, indexes: Mapping[str, int]) -> Target:
        slots = form.scale_slots.get(indexes["i"], [])
        k = indexes["k"]
        if k >= len(slots):
            return RowField("custom_metrics")
        return RowField("custom_metrics", f"scale_{slots[k]}_{part}")

    return resolve


def _custom_evaluator_target(form: EvaluationJobForm, indexes: Mapping[str, int]) -> Target:
    # A blank custom metrics evaluator means "the evaluator model": its value came from there.
    if str(form["custom_metrics_evaluator_model"].value() or "").strip():
        return FormField("custom_metrics_evaluator_model")
    return FormField("evaluator_model")


def _metric_note(indexes: Mapping[str, int]) -> str:
    return f"Metric {indexes['j'] + 1}"


COMMON_PATHS: dict[str, Target] = {
    "": NON_FIELD,
    "clientRequestToken": NON_FIELD,  # added by the submission service, never by a form
    "applicationType": NON_FIELD,  # set by the form's kind
    "evaluationConfig": NON_FIELD,
    "jobName": FormField("name"),
    "jobDescription": FormField("description"),
    "roleArn": FormField("role_arn"),
    "customerEncryptionKeyId": FormField("kms_key"),
    "outputDataConfig": FormField("output_s3_uri"),
    "outputDataConfig.s3Uri": FormField("output_s3_uri"),
    "jobTags": FormsetErrors("tags"),
    "jobTags[{i}]": RowField("tags"),
    "jobTags[{i}].key": RowField("tags", "key"),
    "jobTags[{i}].value": RowField("tags", "value"),
}

MODEL_PATHS: dict[str, Target] = {
    "inferenceConfig": FormsetErrors("models"),
    "inferenceConfig.models": FormsetErrors("models"),
    "inferenceConfig.models[{i}]": RowField("models"),
    "inferenceConfig.models[{i}].bedrockModel": RowField("models", "model_identifier"),
    "inferenceConfig.models[{i}].bedrockModel.modelIdentifier": RowField(
        "models", "model_identifier"
    ),
    "inferenceConfig.models[{i}].bedrockModel.inferenceParams": RowField(
        "models", "inference_params"
    ),
    "inferenceConfig.models[{i}].bedrockModel.performanceConfig": RowField("models", "latency"),
    "inferenceConfig.models[{i}].bedrockModel.performanceConfig.latency": RowField(
        "models", "latency"
    ),
    "inferenceConfig.models[{i}].precomputedInferenceSource": RowField(
        "models", "precomputed_source"
    ),
    "inferenceConfig.models[{i}].precomputedInferenceSource.inferenceSourceIdentifier": (
        RowField("models", "precomputed_source")
    ),
}


def _dataset_paths(prefix: str) -> dict[str, Target]:
    config = f"{prefix}.datasetMetricConfigs[{{i}}]"
    return {
        prefix: NON_FIELD,
        f"{prefix}.datasetMetricConfigs": FormsetErrors("datasets"),
        config: RowField("datasets"),
        f"{config}.taskType": RowField("datasets", "task_type"),
        f"{config}.dataset": _dataset_name_target,
        f"{config}.dataset.name": _dataset_name_target,
        f"{config}.dataset.datasetLocation": RowField("datasets", "s3_uri"),
        f"{config}.dataset.datasetLocation.s3Uri": RowField("datasets", "s3_uri"),
        f"{config}.metricNames": RowField("datasets", "metrics"),
        f"{config}.metricNames[{{j}}]": RowField("datasets", "metrics", note=_metric_note),
    }


def _evaluator_paths(prefix: str, target: Target) -> dict[str, Target]:
    return {
        prefix: target,
        f"{prefix}.bedrockEvaluatorModels": target,
        f"{prefix}.bedrockEvaluatorModels[{{e}}]": target,
        f"{prefix}.bedrockEvaluatorModels[{{e}}].modelIdentifier": target,
    }


_DEFINITION = f"{CUSTOM_METRICS}.customMetrics[{{i}}].customMetricDefinition"
CUSTOM_METRIC_PATHS: dict[str, Target] = {
    CUSTOM_METRICS: FormsetErrors("custom_metrics"),
    f"{CUSTOM_METRICS}.customMetrics": FormsetErrors("custom_metrics"),
    f"{CUSTOM_METRICS}.customMetrics[{{i}}]": RowField("custom_metrics"),
    _DEFINITION: RowField("custom_metrics"),
    f"{_DEFINITION}.name": RowField("custom_metrics", "name"),
    f"{_DEFINITION}.instructions": RowField("custom_metrics", "instructions"),
    f"{_DEFINITION}.ratingScale": RowField("custom_metrics"),
    f"{_DEFINITION}.ratingScale[{{k}}]": _scale_target("value"),
    f"{_DEFINITION}.ratingScale[{{k}}].definition": _scale_target("definition"),
    f"{_DEFINITION}.ratingScale[{{k}}].value": _scale_target("value"),
    f"{_DEFINITION}.ratingScale[{{k}}].value.floatValue": _scale_target("value"),
    f"{_DEFINITION}.ratingScale[{{k}}].value.stringValue": _scale_target("value"),
    **_evaluator_paths(f"{CUSTOM_METRICS}.evaluatorModelConfig", _custom_evaluator_target),
}

PROGRAMMATIC_PATHS = PathMap({**COMMON_PATHS, **MODEL_PATHS, **_dataset_paths(AUTOMATED)})

JUDGE_PATHS = PathMap(
    {
        **COMMON_PATHS,
        **MODEL_PATHS,
        **_dataset_paths(AUTOMATED),
        **_evaluator_paths(f"{AUTOMATED}.evaluatorModelConfig", FormField("evaluator_model")),
        **CUSTOM_METRIC_PATHS,
    }
)

HUMAN_PATHS = PathMap(
    {
        **COMMON_PATHS,
        **MODEL_PATHS,
        **_dataset_paths(HUMAN),
        f"{HUMAN}.humanWorkflowConfig": FormField("flow_definition_arn"),
        f"{HUMAN}.humanWorkflowConfig.flowDefinitionArn": FormField("flow_definition_arn"),
        f"{HUMAN}.humanWorkflowConfig.instructions": FormField("instructions"),
        f"{HUMAN}.customMetrics": FormsetErrors("custom_metrics"),
        f"{HUMAN}.customMetrics[{{i}}]": RowField("custom_metrics"),
        f"{HUMAN}.customMetrics[{{i}}].name": RowField("custom_metrics", "name"),
        f"{HUMAN}.customMetrics[{{i}}].description": RowField("custom_metrics", "description"),
        f"{HUMAN}.customMetrics[{{i}}].ratingMethod": RowField("custom_metrics", "rating_method"),
    }
)


def _vector_search_paths(prefix: str) -> dict[str, Target]:
    vector = f"{prefix}.vectorSearchConfiguration"
    return {
        prefix: FormField("number_of_results"),
        vector: FormField("number_of_results"),
        f"{vector}.numberOfResults": FormField("number_of_results"),
        f"{vector}.overrideSearchType": FormField("search_type"),
        f"{vector}.filter": FormField("filter_json"),
        f"{vector}.implicitFilterConfiguration": FormField("implicit_filter_json"),
        f"{vector}.rerankingConfiguration": FormField("reranking_json"),
    }


_RETRIEVE = f"{RAG}.knowledgeBaseConfig.retrieveConfig"
_RAG_GENERATE = f"{RAG}.knowledgeBaseConfig.retrieveAndGenerateConfig"
_KB_GENERATE = f"{_RAG_GENERATE}.knowledgeBaseConfiguration"
_GENERATION = f"{_KB_GENERATE}.generationConfiguration"
_PRECOMPUTED = f"{RAG}.precomputedRagSourceConfig"

RAG_PATHS = PathMap(
    {
        **COMMON_PATHS,
        "inferenceConfig": FormField("source"),
        "inferenceConfig.ragConfigs": FormField("source"),
        RAG: FormField("source"),
        f"{RAG}.knowledgeBaseConfig": FormField("source"),
        _RETRIEVE: FormField("knowledge_base_id"),
        f"{_RETRIEVE}.knowledgeBaseId": FormField("knowledge_base_id"),
        **_vector_search_paths(f"{_RETRIEVE}.knowledgeBaseRetrievalConfiguration"),
        _RAG_GENERATE: FormField("source"),
        f"{_RAG_GENERATE}.type": FormField("source"),
        _KB_GENERATE: FormField("knowledge_base_id"),
        f"{_KB_GENERATE}.knowledgeBaseId": FormField("knowledge_base_id"),
        f"{_KB_GENERATE}.modelArn": FormField("generator_model_arn"),
        **_vector_search_paths(f"{_KB_GENERATE}.retrievalConfiguration"),
        _GENERATION: FormField("prompt_template"),
        f"{_GENERATION}.promptTemplate": FormField("prompt_template"),
        f"{_GENERATION}.promptTemplate.textPromptTemplate": FormField("prompt_template"),
        f"{_GENERATION}.guardrailConfiguration": FormField("guardrail_json"),
        f"{_GENERATION}.kbInferenceConfig": FormField("inference_config_json"),
        f"{_GENERATION}.additionalModelRequestFields": FormField("additional_fields_json"),
        f"{_KB_GENERATE}.orchestrationConfiguration": FormField("orchestration_json"),
        f"{_RAG_GENERATE}.externalSourcesConfiguration": FormField("external_sources_json"),
        _PRECOMPUTED: FormField("rag_source_identifier"),
        f"{_PRECOMPUTED}.retrieveSourceConfig": FormField("rag_source_identifier"),
        f"{_PRECOMPUTED}.retrieveSourceConfig.ragSourceIdentifier": FormField(
            "rag_source_identifier"
        ),
        f"{_PRECOMPUTED}.retrieveAndGenerateSourceConfig": FormField("rag_source_identifier"),
        f"{_PRECOMPUTED}.retrieveAndGenerateSourceConfig.ragSourceIdentifier": FormField(
            "rag_source_identifier"
        ),
        **_dataset_paths(AUTOMATED),
        **_evaluator_paths(f"{AUTOMATED}.evaluatorModelConfig", FormField("evaluator_model")),
        **CUSTOM_METRIC_PATHS,
    }
)


# --- the forms ------------------------------------------------------------------------------


def _taken_message(name: str) -> str:
    # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateEvaluationJob.html
    return (
        f"an evaluation job named {name} already exists; job names must be unique in the "
        "account and Region"
    )


class EvaluationJobForm(RequestForm):
    """What every kind of evaluation job has; subclasses add their fields and formsets.

    ``initial`` takes the job's fields by name and each formset's rows (a list of dicts)
    under the formset's name, as ``initial_from_description`` returns them. ``name_taken``
    (optional) tells whether a job name is in use, e.g. a lookup in the mirror.
    """

    operation = OPERATION
    kind: ClassVar[str]
    application_type: ClassVar[str] = "ModelEvaluation"
    # Built in this order (formset_classes): the custom metrics come before the datasets that
    # list them.

    name = text_field(
        label="Job name",
        required=True,
        path="jobName",
        help_text=(
            "Lower-case letters, digits and hyphens, up to 63 characters; unique in this "
            "account and Region."
        ),
    )
    description = text_field(
        label="Description (optional)",
        path="jobDescription",
        help_text="One line, up to 200 characters.",
    )
    role_arn = role_arn_field(
        operation=OPERATION,
        example_role="BedrockEvaluationRole",
        help_text=(
            "The role Amazon Bedrock assumes to read your datasets, call the models and write "
            "the results."
        ),
    )
    output_s3_uri = text_field(
        label="Results location (S3 URI)",
        required=True,
        path="outputDataConfig.s3Uri",
        placeholder="s3://my-bucket/evaluations/",
        help_text="Where Bedrock writes the evaluation results.",
    )
    kms_key = kms_key_field(
        operation=OPERATION, path="customerEncryptionKeyId", what="the job's data"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scale_slots: dict[int, list[int]] = {}

    # --- hooks for subclasses ---

    def row_kwargs(self, formset: str) -> dict[str, Any]:
        if formset == "datasets":
            return {"kind": self.kind, "custom_metric_names": self.custom_metric_names()}
        return {}

    def build(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def initial_for(cls, request: Mapping[str, Any]) -> dict[str, Any]:
        """Initial data (job fields and formset rows) that builds `request` again."""
        raise NotImplementedError

    # --- the public API ---

    def custom_metric_names(self) -> list[str]:
        """Names typed into the custom metrics rows (raw, before validation), to offer them
        as metrics of the datasets."""
        formset = self.formsets.get("custom_metrics")
        if formset is None:
            return []
        names = []
        for form in formset.forms:
            if formset.can_delete and form["DELETE"].value():
                continue
            name = str(form["name"].value() or "").strip()
            if name:
                names.append(name)
        return names

    def more_violations(self, request: dict[str, Any]) -> list[Violation]:
        return rules.evaluation_job_rules(request)

    def taken_message(self, name: str) -> str:
        return _taken_message(name)

    def _common(self) -> dict[str, Any]:
        data = self.cleaned_data
        request: dict[str, Any] = {
            "jobName": data.get("name"),
            "jobDescription": data.get("description"),
            "roleArn": data.get("role_arn"),
            "customerEncryptionKeyId": data.get("kms_key"),
            "applicationType": self.application_type,
            "outputDataConfig": {"s3Uri": data.get("output_s3_uri")},
        }
        tags = [{"key": r.get("key"), "value": r.get("value")} for r in self._row_data("tags")]
        if tags:
            request["jobTags"] = tags
        return request

    def _models(self) -> list[dict[str, Any]]:
        models = []
        for row in self._row_data("models"):
            if row.get("source") == "precomputed":
                source = {"inferenceSourceIdentifier": row.get("precomputed_source")}
                models.append({"precomputedInferenceSource": source})
                continue
            latency = row.get("latency")
            model = {
                "modelIdentifier": row.get("model_identifier"),
                "inferenceParams": row.get("inference_params"),
                "performanceConfig": {"latency": latency} if latency else None,
            }
            models.append({"bedrockModel": model})
        return models

    def _dataset_configs(self) -> list[dict[str, Any]]:
        configs = []
        for row in self._row_data("datasets"):
            if row.get("dataset_source") == "builtin":
                dataset: dict[str, Any] = {"name": row.get("builtin_dataset")}
            else:
                s3_uri = row.get("s3_uri")
                dataset = {
                    "name": row.get("dataset_name"),
                    "datasetLocation": {"s3Uri": s3_uri} if s3_uri else None,
                }
            configs.append(
                {
                    "taskType": row.get("task_type"),
                    "dataset": dataset,
                    "metricNames": list(row.get("metrics") or []),
                }
            )
        return configs

    @staticmethod
    def _common_initial(request: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "name": request.get("jobName", ""),
            "description": request.get("jobDescription", ""),
            "role_arn": request.get("roleArn", ""),
            "output_s3_uri": _get(request, "outputDataConfig", "s3Uri") or "",
            "kms_key": request.get("customerEncryptionKeyId", ""),
            "tags": [
                {"key": tag.get("key", ""), "value": tag.get("value", "")}
                for tag in request.get("jobTags", [])
            ],
        }

    @staticmethod
    def _models_initial(request: Mapping[str, Any]) -> list[dict[str, Any]]:
        rows = []
        for model in _get(request, "inferenceConfig", "models") or []:
            if "precomputedInferenceSource" in model:
                source = model["precomputedInferenceSource"]
                rows.append(
                    {
                        "source": "precomputed",
                        "precomputed_source": source.get("inferenceSourceIdentifier", ""),
                    }
                )
                continue
            bedrock = model.get("bedrockModel", {})
            rows.append(
                {
                    "source": "bedrock",
                    "model_identifier": bedrock.get("modelIdentifier", ""),
                    "inference_params": bedrock.get("inferenceParams", ""),
                    "latency": _get(bedrock, "performanceConfig", "latency") or "",
                }
            )
        return rows

    @staticmethod
    def _datasets_initial(
        configs: Iterable[Mapping[str, Any]], *, builtin: bool = False
    ) -> list[dict[str, Any]]:
        """Rows of the dataset formset; `builtin`: the form offers built-in datasets."""
        rows = []
        for config in configs:
            dataset = config.get("dataset", {})
            name = dataset.get("name", "")
            row: dict[str, Any] = {
                "task_type": config.get("taskType", ""),
                "metrics": list(config.get("metricNames", [])),
            }
            if builtin and rules.is_builtin_name(name) and "datasetLocation" not in dataset:
                row |= {
                    "dataset_source": "builtin",
                    "builtin_dataset": rules.canonical_builtin_dataset(name) or name,
                }
            else:
                row |= {
                    "dataset_source": "custom",
                    "dataset_name": name,
                    "s3_uri": _get(dataset, "datasetLocation", "s3Uri") or "",
                }
            rows.append(row)
        return rows


def _get(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


class ProgrammaticEvaluationForm(EvaluationJobForm):
    """Automatic: programmatic metrics (accuracy, robustness, toxicity) on one model."""

    kind = rules.KIND_PROGRAMMATIC
    path_map = PROGRAMMATIC_PATHS
    formset_classes = {
        "tags": TagFormSet,
        "models": _model_formset(rules.KIND_PROGRAMMATIC),
        "datasets": BuiltinDatasetMetricFormSet,
    }

    def build(self) -> dict[str, Any]:
        return {
            **self._common(),
            "evaluationConfig": {"automated": {"datasetMetricConfigs": self._dataset_configs()}},
            "inferenceConfig": {"models": self._models()},
        }

    @classmethod
    def initial_for(cls, request: Mapping[str, Any]) -> dict[str, Any]:
        automated = _get(request, "evaluationConfig", "automated") or {}
        return {
            **cls._common_initial(request),
            "models": cls._models_initial(request),
            "datasets": cls._datasets_initial(
                automated.get("datasetMetricConfigs", []), builtin=True
            ),
        }


class CustomMetricsMixin(forms.Form):
    """Custom metrics scored by an evaluator model (LLM-as-a-judge and RAG jobs); a Form
    so that Django collects its fields."""

    evaluator_model = text_field(
        label="Evaluator (judge) model",
        required=True,
        path=f"{AUTOMATED}.evaluatorModelConfig.bedrockEvaluatorModels[0].modelIdentifier",
        help_text=(
            "The model that scores the responses, e.g. anthropic.claude-3-5-sonnet-20240620-v1:0."
        ),
    )
    custom_metrics_evaluator_model = text_field(
        label="Evaluator model for custom metrics (optional)",
        path=(f"{CUSTOM_METRICS}.evaluatorModelConfig.bedrockEvaluatorModels[0].modelIdentifier"),
        help_text="Blank to use the evaluator model above.",
    )

    def _evaluator(self) -> dict[str, Any]:
        model = self.cleaned_data.get("evaluator_model")
        return {"bedrockEvaluatorModels": [{"modelIdentifier": model}]}

    def _custom_metric_config(self) -> dict[str, Any] | None:
        self.scale_slots = {}
        metrics = []
        for position, row in enumerate(self._row_data("custom_metrics")):
            levels = row.get("rating_scale") or []
            self.scale_slots[position] = [n for n, _, _ in levels]
            key = "floatValue" if row.get("scale_type") == "number" else "stringValue"
            scale = [
                {"definition": definition, "value": None if value is None else {key: value}}
                for _, value, definition in levels
            ]
            definition = {
                "name": row.get("name"),
                "instructions": row.get("instructions"),
                "ratingScale": scale or None,
            }
            metrics.append({"customMetricDefinition": definition})
        if not metrics:
            return None
        model = self.cleaned_data.get("custom_metrics_evaluator_model") or self.cleaned_data.get(
            "evaluator_model"
        )
        return {
            "customMetrics": metrics,
            "evaluatorModelConfig": {"bedrockEvaluatorModels": [{"modelIdentifier": model}]},
        }

    @staticmethod
    def _custom_metrics_initial(automated: Mapping[str, Any]) -> dict[str, Any]:
        config = automated.get("customMetricConfig") or {}
        rows = []
        for source in config.get("customMetrics", []):
            definition = source.get("customMetricDefinition", {})
            scale = definition.get("ratingScale", [])
            numbers = all("floatValue" in item.get("value", {}) for item in scale)
            row: dict[str, Any] = {
                "name": definition.get("name", ""),
                "instructions": definition.get("instructions", ""),
                "scale_type": "number" if numbers else "text",
            }
            for n, item in enumerate(scale, start=1):
                value = item.get("value", {})
                raw = value.get("floatValue", value.get("stringValue", ""))
                row[f"scale_{n}_value"] = repr(float(raw)) if numbers else str(raw)
                row[f"scale_{n}_definition"] = item.get("definition", "")
            rows.append(row)
        evaluator = _get(automated, "evaluatorModelConfig", "bedrockEvaluatorModels") or [{}]
        custom = _get(config, "evaluatorModelConfig", "bedrockEvaluatorModels") or [{}]
        main_model = evaluator[0].get("modelIdentifier", "")
        custom_model = custom[0].get("modelIdentifier", "")
        return {
            "evaluator_model": main_model,
            # Blank when it is the same model: the form then uses the evaluator model.
            "custom_metrics_evaluator_model": "" if custom_model == main_model else custom_model,
            "custom_metrics": rows,
        }


class JudgeEvaluationForm(CustomMetricsMixin, EvaluationJobForm):
    """Automatic: LLM as a judge; an evaluator model scores one model's responses."""

    kind = rules.KIND_JUDGE
    path_map = JUDGE_PATHS
    formset_classes = {
        "tags": TagFormSet,
        "models": _model_formset(rules.KIND_JUDGE),
        "custom_metrics": JudgeCustomMetricFormSet,
        "datasets": DatasetMetricFormSet,
    }
    field_order = [
        "name",
        "description",
        "role_arn",
        "output_s3_uri",
        "kms_key",
        "evaluator_model",
        "custom_metrics_evaluator_model",
    ]

    def build(self) -> dict[str, Any]:
        automated = {
            "datasetMetricConfigs": self._dataset_configs(),
            "evaluatorModelConfig": self._evaluator(),
            "customMetricConfig": self._custom_metric_config(),
        }
        return {
            **self._common(),
            "evaluationConfig": {"automated": automated},
            "inferenceConfig": {"models": self._models()},
        }

    @classmethod
    def initial_for(cls, request: Mapping[str, Any]) -> dict[str, Any]:
        automated = _get(request, "evaluationConfig", "automated") or {}
        return {
            **cls._common_initial(request),
            **cls._custom_metrics_initial(automated),
            "models": cls._models_initial(request),
            "datasets": cls._datasets_initial(automated.get("datasetMetricConfigs", [])),
        }


class HumanEvaluationForm(EvaluationJobForm):
    """Human: workers rate one model's responses, or compare two models'."""

    kind = rules.KIND_HUMAN
    path_map = HUMAN_PATHS
    formset_classes = {
        "tags": TagFormSet,
        "models": _model_formset(rules.KIND_HUMAN),
        "custom_metrics": HumanCustomMetricFormSet,
        "datasets": DatasetMetricFormSet,
    }

    # https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-type-human.html
    flow_definition_arn = text_field(
        label="Flow definition ARN",
        required=True,
        path=f"{HUMAN}.humanWorkflowConfig.flowDefinitionArn",
        placeholder="arn:aws:sagemaker:us-east-1:111122223333:flow-definition/my-flow",
        help_text=(
            "The Amazon SageMaker Augmented AI flow definition (human review workflow) that "
            "sends the tasks to your work team."
        ),
    )
    instructions = text_field(
        label="Instructions for workers (optional)",
        textarea=True,
        path=f"{HUMAN}.humanWorkflowConfig.instructions",
        help_text="Shown to the workers with every task; up to 5000 characters.",
    )

    def build(self) -> dict[str, Any]:
        data = self.cleaned_data
        human = {
            "humanWorkflowConfig": {
                "flowDefinitionArn": data.get("flow_definition_arn"),
                "instructions": data.get("instructions"),
            },
            # Always sent, even empty: "at least 1 item" then lands on the metrics formset.
            "customMetrics": [
                {
                    "name": row.get("name"),
                    "description": row.get("description"),
                    "ratingMethod": row.get("rating_method"),
                }
                for row in self._row_data("custom_metrics")
            ],
            "datasetMetricConfigs": self._dataset_configs(),
        }
        return {
            **self._common(),
            "evaluationConfig": {"human": human},
            "inferenceConfig": {"models": self._models()},
        }

    @classmethod
    def initial_for(cls, request: Mapping[str, Any]) -> dict[str, Any]:
        human = _get(request, "evaluationConfig", "human") or {}
        workflow = human.get("humanWorkflowConfig", {})
        return {
            **cls._common_initial(request),
            "flow_definition_arn": workflow.get("flowDefinitionArn", ""),
            "instructions": workflow.get("instructions", ""),
            "models": cls._models_initial(request),
            "custom_metrics": [
                {
                    "name": metric.get("name", ""),
                    "description": metric.get("description", ""),
                    "rating_method": metric.get("ratingMethod", ""),
                }
                for metric in human.get("customMetrics", [])
            ],
            "datasets": cls._datasets_initial(human.get("datasetMetricConfigs", [])),
        }


class RagEvaluationForm(CustomMetricsMixin, EvaluationJobForm):
    """RAG: evaluate a knowledge base (retrieval, or retrieval and generation) or the
    responses of another RAG system, scored by an evaluator model.

    The fields most jobs set are fields; the long tail of the API (metadata filters,
    reranking, guardrails, inference config...) is one "advanced" JSON field per
    sub-object, checked against the model at its exact path in the request.
    """

    kind = rules.KIND_RAG
    application_type = "RagEvaluation"
    path_map = RAG_PATHS
    field_order = [
        *EvaluationJobForm.base_fields,
        "source",
        "knowledge_base_id",
        "generator_model_arn",
        "number_of_results",
        "search_type",
        "rag_source_identifier",
        "evaluator_model",
        "custom_metrics_evaluator_model",
    ]
    formset_classes = {
        "tags": TagFormSet,
        "custom_metrics": JudgeCustomMetricFormSet,
        "datasets": DatasetMetricFormSet,
    }

    SOURCE_CHOICES = [
        ("kb_retrieve", "Bedrock knowledge base: retrieval only"),
        ("kb_retrieve_and_generate", "Bedrock knowledge base: retrieve and generate"),
        ("external_sources", "External sources: retrieve and generate (advanced JSON)"),
        ("precomputed_retrieve", "My own RAG responses: retrieval only"),
        ("precomputed_retrieve_and_generate", "My own RAG responses: retrieve and generate"),
    ]
    MODES = {
        "kb_retrieve": rules.RAG_RETRIEVE,
        "precomputed_retrieve": rules.RAG_RETRIEVE,
        "kb_retrieve_and_generate": rules.RAG_RETRIEVE_AND_GENERATE,
        "external_sources": rules.RAG_RETRIEVE_AND_GENERATE,
        "precomputed_retrieve_and_generate": rules.RAG_RETRIEVE_AND_GENERATE,
    }

    source = forms.ChoiceField(
        label="What to evaluate",
        choices=SOURCE_CHOICES,
        initial="kb_retrieve",
        widget=forms.RadioSelect,
        help_text="Retrieval-only and retrieve-and-generate evaluations use different metrics.",
    )
    knowledge_base_id = text_field(
        label="Knowledge base ID",
        path=_first(f"{_RETRIEVE}.knowledgeBaseId"),
        help_text="The ID of the knowledge base, e.g. KB12345678.",
    )
    generator_model_arn = text_field(
        label="Generator model ARN",
        path=_first(f"{_KB_GENERATE}.modelArn"),
        help_text="The model that writes the answers from what was retrieved.",
    )
    number_of_results = forms.IntegerField(
        label="Number of results",
        required=False,
        help_text="How many passages to retrieve per query (1-100; Bedrock's default if blank).",
    )
    search_type = OpenChoiceField(
        label="Search type",
        required=False,
        choices=lambda: _enum_choices(
            _first(
                f"{_RETRIEVE}.knowledgeBaseRetrievalConfiguration.vectorSearchConfiguration"
                ".overrideSearchType"
            ),
            "Let Bedrock decide",
        ),
        help_text="Hybrid combines semantic and text search, where the vector store supports it.",
    )
    filter_json = JSONObjectField(
        label="Metadata filter (advanced JSON)",
        help_text='A RetrievalFilter, e.g. {"equals": {"key": "year", "value": 2024}}.',
    )
    implicit_filter_json = JSONObjectField(
        label="Implicit filter (advanced JSON)",
        help_text="An ImplicitFilterConfiguration: metadataAttributes and a modelArn.",
    )
    reranking_json = JSONObjectField(
        label="Reranking (advanced JSON)",
        help_text=(
            'A VectorSearchRerankingConfiguration, e.g. {"type": "BEDROCK_RERANKING_MODEL", '
            '"bedrockRerankingConfiguration": {"modelConfiguration": {"modelArn": "..."}}}.'
        ),
    )
    # A plain textarea, not JSON: a prompt is long text. Placeholders:
    # https://docs.aws.amazon.com/bedrock/latest/userguide/kb-test-config.html
    prompt_template = text_field(
        label="Prompt template (optional)",
        textarea=True,
        rows=6,
        path=_first(f"{_GENERATION}.promptTemplate.textPromptTemplate"),
        help_text="Replaces the default generation prompt; use $search_results$ and $query$.",
    )
    guardrail_json = JSONObjectField(
        label="Guardrail (advanced JSON)",
        help_text='A GuardrailConfiguration: {"guardrailId": "...", "guardrailVersion": "1"}.',
    )
    inference_config_json = JSONObjectField(
        label="Generation inference config (advanced JSON)",
        help_text=(
            'A KbInferenceConfig, e.g. {"textInferenceConfig": {"temperature": 0.2, '
            '"topP": 0.9, "maxTokens": 1024}}.'
        ),
    )
    additional_fields_json = JSONObjectField(
        label="Additional model request fields (advanced JSON)",
        help_text="Model-specific fields passed to the generator model.",
    )
    orchestration_json = JSONObjectField(
        label="Orchestration (advanced JSON)",
        help_text=(
            'An OrchestrationConfiguration, e.g. {"queryTransformationConfiguration": '
            '{"type": "QUERY_DECOMPOSITION"}}.'
        ),
    )
    external_sources_json = JSONObjectField(
        label="External sources (advanced JSON)",
        help_text="An ExternalSourcesRetrieveAndGenerateConfiguration: modelArn and sources.",
    )
    rag_source_identifier = text_field(
        label="RAG source name",
        path=_first(f"{_PRECOMPUTED}.retrieveSourceConfig.ragSourceIdentifier"),
        help_text="The knowledgeBaseIdentifier your dataset's responses use for this source.",
    )

    # Advanced JSON fields by the member they fill, relative to their parent object.
    VECTOR_SEARCH_JSON = {
        "filter_json": "filter",
        "implicit_filter_json": "implicitFilterConfiguration",
        "reranking_json": "rerankingConfiguration",
    }
    GENERATION_JSON = {
        "guardrail_json": "guardrailConfiguration",
        "inference_config_json": "kbInferenceConfig",
        "additional_fields_json": "additionalModelRequestFields",
    }

    def row_kwargs(self, formset: str) -> dict[str, Any]:
        kwargs = super().row_kwargs(formset)
        if formset == "datasets":
            kwargs["mode"] = self.MODES.get(str(self["source"].value() or ""))
        return kwargs

    @classmethod
    def json_paths(cls, source: str | None) -> dict[str, str]:
        """Where each advanced JSON field goes in the request, for `source`."""
        rag = _first(RAG)
        retrieve = f"{rag}.knowledgeBaseConfig.retrieveConfig"
        generate = f"{rag}.knowledgeBaseConfig.retrieveAndGenerateConfig"
        kb = f"{generate}.knowledgeBaseConfiguration"
        if source == "kb_retrieve":
            vector = f"{retrieve}.knowledgeBaseRetrievalConfiguration.vectorSearchConfiguration"
            return {f: f"{vector}.{m}" for f, m in cls.VECTOR_SEARCH_JSON.items()}
        if source == "kb_retrieve_and_generate":
            vector = f"{kb}.retrievalConfiguration.vectorSearchConfiguration"
            return {
                **{f: f"{vector}.{m}" for f, m in cls.VECTOR_SEARCH_JSON.items()},
                **{f: f"{kb}.generationConfiguration.{m}" for f, m in cls.GENERATION_JSON.items()},
                "orchestration_json": f"{kb}.orchestrationConfiguration",
            }
        if source == "external_sources":
            return {"external_sources_json": f"{generate}.externalSourcesConfiguration"}
        return {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # Each advanced JSON object is checked on its own, at the path it goes to, so its
        # errors come with the field (and the path inside the object) at once.
        for field, path in self.json_paths(cleaned.get("source")).items():
            value = cleaned.get(field)
            if value is not None:
                shape = contract.shape_for_path(OPERATION, path)
                for violation in contract.validate_shape(shape, value, path):
                    self.report(violation)
        return cleaned

    def build(self) -> dict[str, Any]:
        data = self.cleaned_data
        source = data.get("source")
        vector = prune(
            {
                "numberOfResults": data.get("number_of_results"),
                "overrideSearchType": data.get("search_type"),
                **{m: data.get(f) for f, m in self.VECTOR_SEARCH_JSON.items()},
            }
        )
        if source == "kb_retrieve":
            rag: dict[str, Any] = {
                "knowledgeBaseConfig": {
                    "retrieveConfig": {
                        "knowledgeBaseId": data.get("knowledge_base_id"),
                        "knowledgeBaseRetrievalConfiguration": {
                            "vectorSearchConfiguration": vector
                        },
                    }
                }
            }
        elif source == "kb_retrieve_and_generate":
            template = data.get("prompt_template")
            generation = prune(
                {
                    "promptTemplate": {"textPromptTemplate": template} if template else None,
                    **{m: data.get(f) for f, m in self.GENERATION_JSON.items()},
                }
            )
            configuration = {
                "knowledgeBaseId": data.get("knowledge_base_id"),
                "modelArn": data.get("generator_model_arn"),
                "retrievalConfiguration": {"vectorSearchConfiguration": vector} if vector else None,
                "generationConfiguration": generation or None,
                "orchestrationConfiguration": data.get("orchestration_json"),
            }
            rag = {
                "knowledgeBaseConfig": {
                    "retrieveAndGenerateConfig": {
                        "type": "KNOWLEDGE_BASE",
                        "knowledgeBaseConfiguration": configuration,
                    }
                }
            }
        elif source == "external_sources":
            rag = {
                "knowledgeBaseConfig": {
                    "retrieveAndGenerateConfig": {
                        "type": "EXTERNAL_SOURCES",
                        "externalSourcesConfiguration": data.get("external_sources_json"),
                    }
                }
            }
        else:
            member = (
                "retrieveSourceConfig"
                if source == "precomputed_retrieve"
                else "retrieveAndGenerateSourceConfig"
            )
            identifier = {"ragSourceIdentifier": data.get("rag_source_identifier")}
            rag = {"precomputedRagSourceConfig": {member: identifier}}
        automated = {
            "datasetMetricConfigs": self._dataset_configs(),
            "evaluatorModelConfig": self._evaluator(),
            "customMetricConfig": self._custom_metric_config(),
        }
        return {
            **self._common(),
            "evaluationConfig": {"automated": automated},
            "inferenceConfig": {"ragConfigs": [rag]},
        }

    @classmethod
    def initial_for(cls, request: Mapping[str, Any]) -> dict[str, Any]:
        automated = _get(request, "evaluationConfig", "automated") or {}
        rags = _get(request, "inferenceConfig", "ragConfigs") or [{}]
        rag = rags[0]
        initial: dict[str, Any] = {
            **cls._common_initial(request),
            **cls._custom_metrics_initial(automated),
            "datasets": cls._datasets_initial(automated.get("datasetMetricConfigs", [])),
        }
        kb = rag.get("knowledgeBaseConfig", {})
        precomputed = rag.get("precomputedRagSourceConfig", {})
        generate = kb.get("retrieveAndGenerateConfig", {})
        vector: Mapping[str, Any] = {}
        if "retrieveConfig" in kb:
            retrieve = kb["retrieveConfig"]
            initial["source"] = "kb_retrieve"
            initial["knowledge_base_id"] = retrieve.get("knowledgeBaseId", "")
            vector = _get(
                retrieve, "knowledgeBaseRetrievalConfiguration", "vectorSearchConfiguration"
            )
        elif generate.get("type") == "EXTERNAL_SOURCES":
            initial["source"] = "external_sources"
            initial["external_sources_json"] = generate.get("externalSourcesConfiguration")
        elif generate:
            configuration = generate.get("knowledgeBaseConfiguration", {})
            generation = configuration.get("generationConfiguration", {})
            initial |= {
                "source": "kb_retrieve_and_generate",
                "knowledge_base_id": configuration.get("knowledgeBaseId", ""),
                "generator_model_arn": configuration.get("modelArn", ""),
                "prompt_template": _get(generation, "promptTemplate", "textPromptTemplate") or "",
                "orchestration_json": configuration.get("orchestrationConfiguration"),
                **{f: generation.get(m) for f, m in cls.GENERATION_JSON.items()},
            }
            vector = _get(configuration, "retrievalConfiguration", "vectorSearchConfiguration")
        elif "retrieveSourceConfig" in precomputed:
            initial["source"] = "precomputed_retrieve"
            initial["rag_source_identifier"] = precomputed["retrieveSourceConfig"].get(
                "ragSourceIdentifier", ""
            )
        elif "retrieveAndGenerateSourceConfig" in precomputed:
            initial["source"] = "precomputed_retrieve_and_generate"
            initial["rag_source_identifier"] = precomputed["retrieveAndGenerateSourceConfig"].get(
                "ragSourceIdentifier", ""
            )
        vector = vector or {}
        initial |= {
            "number_of_results": vector.get("numberOfResults"),
            "search_type": vector.get("overrideSearchType", ""),
            **{f: vector.get(m) for f, m in cls.VECTOR_SEARCH_JSON.items()},
        }
        # JSON objects are shown as indented JSON text.
        return {k: _json_text(v) if k.endswith("_json") else v for k, v in initial.items()}


def _json_text(value: Any) -> str:
    return "" if value is None else json.dumps(value, indent=2)


FORMS: dict[str, type[EvaluationJobForm]] = {
    rules.KIND_PROGRAMMATIC: ProgrammaticEvaluationForm,
    rules.KIND_JUDGE: JudgeEvaluationForm,
    rules.KIND_HUMAN: HumanEvaluationForm,
    rules.KIND_RAG: RagEvaluationForm,
}


# --- names, cloning, POST data --------------------------------------------------------------

_JOB_NAME_PATH = "jobName"
_JOB_NAME_MAX = int(contract.shape_for_path(OPERATION, _JOB_NAME_PATH).metadata["max"])
_COPY_SUFFIX = re.compile(r"-copy(?:-\d+)?$")


def name_check(name: str, taken: Callable[[str], bool] | None = None) -> str | None:
    """What is wrong with `name` as a new job's name (pattern, length, in use), or None."""
    name = (name or "").strip()
    if not name:
        return "Enter a job name."
    shape = contract.shape_for_path(OPERATION, _JOB_NAME_PATH)
    violations = contract.validate_shape(shape, name, _JOB_NAME_PATH)
    if violations:
        return " ".join(humanize(v) for v in violations)
    if taken is not None and taken(name):
        return humanize(Violation(_JOB_NAME_PATH, _taken_message(name)))
    return None


def suggest_clone_name(name: str, taken: Callable[[str], bool] | None = None) -> str:
    """A free name for a copy of job `name`: name-copy, name-copy-2, ... within 63 chars."""
    base = _COPY_SUFFIX.sub("", name) or name or "evaluation"
    candidate = base
    for n in itertools.count(1):
        suffix = "-copy" if n == 1 else f"-copy-{n}"
        candidate = base[: _JOB_NAME_MAX - len(suffix)].rstrip("-") + suffix
        if taken is None or not taken(candidate) or n >= 10_000:
            break
    return candidate


def initial_from_description(
    description: Mapping[str, Any],
    *,
    taken: Callable[[str], bool] | None = None,
    tags: Mapping[str, str] | Iterable[Mapping[str, str]] | None = None,
) -> tuple[str, dict[str, Any]]:
    """(kind, initial) to clone a job: its GetEvaluationJob description as initial data for
    ``FORMS[kind](initial=initial)``, with a new unique name suggested (`taken` tells which
    names are in use). GetEvaluationJob does not return tags: pass them (a key-to-value
    mapping as ListTagsForResource gives, or a list of {"key", "value"}) to copy them."""
    kind = rules.evaluation_job_kind(description)
    initial = FORMS[kind].initial_for(description)
    initial["name"] = suggest_clone_name(str(description.get("jobName", "")), taken)
    if tags is not None:
        pairs = (
            tags.items() if isinstance(tags, Mapping) else ((t["key"], t["value"]) for t in tags)
        )
        initial["tags"] = [{"key": key, "value": value} for key, value in pairs]
    return kind, initial


def form_data(kind: str | type[EvaluationJobForm], initial: Mapping[str, Any]) -> dict[str, Any]:
    """`initial` as the POST data the form's page would send (job fields, then each
    formset's management form and rows), e.g. to submit a clone unchanged in a test."""
    form_class = FORMS[kind] if isinstance(kind, str) else kind
    data: dict[str, Any] = {}
    for key, value in initial.items():
        if key not in form_class.formset_classes:
            data[key] = _post_value(value)
    for name in form_class.formset_classes:
        rows = initial.get(name) or []
        data[f"{name}-TOTAL_FORMS"] = str(len(rows))
        data[f"{name}-INITIAL_FORMS"] = "0"
        for index, row in enumerate(rows):
            for field, value in row.items():
                data[f"{name}-{index}-{field}"] = _post_value(value)
    return data


def _post_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if isinstance(value, bool):
        return "on" if value else ""
    return str(value)
