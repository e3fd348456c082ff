"""What every kind of evaluation job form shares: the request's paths, labels and
choices, the rows (tags, models, dataset/metric configs) and their formsets, the common path
tables, and EvaluationJobForm itself."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from django import forms
from django.forms.formsets import BaseFormSet, formset_factory

from jobs.bedrock import contract, rules
from jobs.bedrock.contract import Violation
from jobs.forms.evaluation.choices import (
    builtin_dataset_choices,
    enum_choices,
    metric_choices,
    task_type_choices,
)
from jobs.forms.fields import (
    CanonicalChoiceField,
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
    RowField,
    Target,
    humanize,
)
from jobs.forms.requests import RequestForm

OPERATION = "CreateEvaluationJob"
AUTOMATED = "evaluationConfig.automated"
HUMAN = "evaluationConfig.human"
CUSTOM_METRICS = f"{AUTOMATED}.customMetricConfig"
RAG = "inferenceConfig.ragConfigs[{r}]"  # at most one; {r} matches any index in the tables


def _first(path: str) -> str:
    """A path pattern with its RAG index set, for looking up the model's shape there."""
    return path.replace("{r}", "0")


# --- rows ------------------------------------------------------------------------------------


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
        choices=lambda: enum_choices(
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


class RowFormSet(BaseFormSet):
    """A formset whose rows become a request list: deleted rows and untouched extra rows
    are left out.

    Every count a request gives is bounded by Django's own machinery: the formset builds at
    most ``absolute_max`` rows (one more than the form offers, so that one row too many still
    gets Bedrock's own message from the contract or the rules), and a ``TOTAL_FORMS`` above
    that is refused at once with ``too_many_forms``, however large it is."""

    default_error_messages = {
        "too_many_forms": "Must have at most %(num)d items: this form sent more rows than that.",
    }

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
    return formset_factory(
        form,
        formset=RowFormSet,
        extra=extra,
        can_delete=True,
        max_num=max_num,
        absolute_max=max_num + 1,
    )


TagFormSet = _formset(TagForm, max_num=rules.MAX_TAGS)
DatasetMetricFormSet = _formset(DatasetMetricForm, max_num=rules.MAX_DATASET_METRIC_CONFIGS)
BuiltinDatasetMetricFormSet = _formset(
    BuiltinDatasetMetricForm, max_num=rules.MAX_DATASET_METRIC_CONFIGS
)


def _model_formset(kind: str) -> type[BaseFormSet]:
    return _formset(EvaluationModelForm, max_num=rules.MODEL_COUNTS[kind][1])


# --- path tables ----------------------------------------------------------------------------


def _dataset_name_target(form: EvaluationJobForm, indexes: Mapping[str, int]) -> Target:
    row = form.row_form("datasets", indexes["i"])
    builtin = row is not None and "dataset_source" in row.fields
    if builtin and row["dataset_source"].value() == "builtin":
        return RowField("datasets", "builtin_dataset")
    return RowField("datasets", "dataset_name")


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


# --- the form -------------------------------------------------------------------------------


def _taken_message(name: str) -> str:
    # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateEvaluationJob.html
    return (
        f"an evaluation job named {name} already exists; job names must be unique in the "
        "account and Region"
    )


_JOB_NAME_PATH = "jobName"


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


class EvaluationJobForm(RequestForm):
    """What every kind of evaluation job has; subclasses add their fields and formsets.

    ``initial`` takes the job's fields by name and each formset's rows (a list of dicts)
    under the formset's name, as ``initial_from_description`` returns them. ``name_taken``
    (optional) tells whether a job name is in use, e.g. a lookup in the mirror.
    """

    operation = OPERATION
    kind: ClassVar[str]
    application_type: ClassVar[str] = "ModelEvaluation"
    min_rows: ClassVar[dict[str, int]] = {"models": 1, "datasets": 1}
    ROW_NOUNS: ClassVar[dict[str, str]] = {
        "tags": "tag",
        "models": "model",
        "custom_metrics": "custom metric",
        "datasets": "dataset",
    }
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
