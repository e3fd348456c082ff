"""LLM-as-a-judge: an evaluator model grades one model's responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobs.bedrock import rules
from jobs.forms.evaluation.base import (
    AUTOMATED,
    COMMON_PATHS,
    MODEL_PATHS,
    DatasetMetricFormSet,
    EvaluationJobForm,
    TagFormSet,
    _dataset_paths,
    _evaluator_paths,
    _get,
    _model_formset,
)
from jobs.forms.evaluation.custom_metrics import (
    CUSTOM_METRIC_PATHS,
    CustomMetricsMixin,
    JudgeCustomMetricFormSet,
)
from jobs.forms.paths import (
    FormField,
    PathMap,
)

JUDGE_PATHS = PathMap(
    {
        **COMMON_PATHS,
        **MODEL_PATHS,
        **_dataset_paths(AUTOMATED),
        **_evaluator_paths(f"{AUTOMATED}.evaluatorModelConfig", FormField("evaluator_model")),
        **CUSTOM_METRIC_PATHS,
    }
)


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
