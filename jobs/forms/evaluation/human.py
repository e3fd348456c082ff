"""Human evaluation: a work team rates one or two models' responses on custom metrics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

from jobs.bedrock import rules
from jobs.forms.evaluation.base import (
    COMMON_PATHS,
    HUMAN,
    MODEL_PATHS,
    DatasetMetricFormSet,
    EvaluationJobForm,
    TagFormSet,
    _dataset_paths,
    _formset,
    _get,
    _model_formset,
)
from jobs.forms.evaluation.choices import (
    RATING_METHOD_LABELS,
)
from jobs.forms.fields import (
    OpenChoiceField,
    text_field,
)
from jobs.forms.paths import (
    FormField,
    FormsetErrors,
    PathMap,
    RowField,
)


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


HumanCustomMetricFormSet = _formset(HumanCustomMetricForm, max_num=rules.MAX_HUMAN_CUSTOM_METRICS)


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


class HumanEvaluationForm(EvaluationJobForm):
    """Human: workers rate one model's responses, or compare two models'."""

    kind = rules.KIND_HUMAN
    # What workers rate: at least one custom metric.
    min_rows = {**EvaluationJobForm.min_rows, "custom_metrics": 1}
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
