"""Custom metrics an evaluator model scores (LLM-as-a-judge and RAG jobs): their rows with
rating scales, where their request paths go, and the fields and request parts they add."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from django import forms

from jobs.bedrock import rules
from jobs.forms.evaluation.base import (
    AUTOMATED,
    CUSTOM_METRICS,
    EvaluationJobForm,
    _evaluator_paths,
    _formset,
    _get,
)
from jobs.forms.fields import (
    text_field,
)
from jobs.forms.paths import (
    FormField,
    FormsetErrors,
    RowField,
    Target,
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


JudgeCustomMetricFormSet = _formset(JudgeCustomMetricForm, max_num=rules.MAX_CUSTOM_METRICS)


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
