"""Automatic evaluation with programmatic metrics (accuracy, robustness, toxicity)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobs.bedrock import rules
from jobs.forms.evaluation.base import (
    AUTOMATED,
    COMMON_PATHS,
    MODEL_PATHS,
    BuiltinDatasetMetricFormSet,
    EvaluationJobForm,
    TagFormSet,
    _dataset_paths,
    _get,
    _model_formset,
)
from jobs.forms.paths import (
    PathMap,
)

PROGRAMMATIC_PATHS = PathMap({**COMMON_PATHS, **MODEL_PATHS, **_dataset_paths(AUTOMATED)})


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
