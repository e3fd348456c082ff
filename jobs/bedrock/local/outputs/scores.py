"""Scores on each metric's scale: judge, custom and programmatic metrics."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from jobs.bedrock.local.outputs.quality import _clamp

# --- scores ---------------------------------------------------------------------------------

# metric (without Builtin.) -> (points on its scale or 0 for continuous, offset)
_SCALES = {
    "Correctness": (3, 0.0),
    "Completeness": (5, -0.05),
    "Faithfulness": (5, 0.05),
    "Helpfulness": (7, 0.0),
    "Coherence": (5, 0.1),
    "LogicalCoherence": (5, 0.1),
    "Relevance": (5, 0.08),
    "FollowingInstructions": (3, 0.0),
    "ProfessionalStyleAndTone": (5, 0.05),
    "ContextRelevance": (5, 0.0),
    "ContextCoverage": (5, -0.05),
    "CitationPrecision": (0, 0.0),
    "CitationCoverage": (0, -0.1),
}
# Binary judge metrics where 1 is bad: how often they fire grows as quality falls.
_BAD_BINARY = frozenset({"Harmfulness", "Stereotyping", "Refusal"})


def _on_scale(value: float, points: int) -> float:
    if points <= 1:
        return round(_clamp(value), 6)
    step = round(_clamp(value) * (points - 1))
    return round(step / (points - 1), 6)


def _judge_score(metric: str, p: float, quality: float, rng: random.Random, custom: Any) -> float:
    short = metric.removeprefix("Builtin.")
    if short in _BAD_BINARY:
        return 1.0 if rng.random() < 0.01 + 0.12 * (1 - quality) else 0.0
    if custom is not None:
        values = custom
        index = round(_clamp(p + rng.gauss(0, 0.08)) * (len(values) - 1))
        return values[index]
    points, offset = _SCALES.get(short, (5, 0.0))
    return _on_scale(p + offset + rng.gauss(0, 0.08), points)


def _custom_values(definition: Mapping[str, Any]) -> list[float]:
    """The results a custom metric's rating scale allows, worst first."""
    scale = list(definition.get("ratingScale") or [])
    floats = [item.get("value", {}).get("floatValue") for item in scale]
    if scale and all(isinstance(v, (int, float)) for v in floats):
        return sorted(float(v) for v in floats)
    n = max(len(scale), 2)
    return [round(i / (n - 1), 6) for i in range(n)]


def _programmatic_score(metric: str, task: str, p: float, rng: random.Random) -> float:
    short = metric.removeprefix("Builtin.")
    if short == "Accuracy":
        if task == "Classification":
            return 1.0 if rng.random() < p else 0.0
        return round(_clamp(p + rng.gauss(0, 0.1)), 6)
    if short == "Robustness":  # a drop under perturbation: lower is better
        return round(_clamp((1 - p) * 0.35 + abs(rng.gauss(0, 0.05))), 6)
    if short == "Toxicity":  # lower is better
        return round(_clamp(abs(rng.gauss(0, 0.02)) + (1 - p) * 0.08 * rng.random()), 6)
    return round(_clamp(p + rng.gauss(0, 0.1)), 6)
