"""Streaming accumulators: one per dataset × model-or-RAG-source × metric, fed item by item,
constant memory per metric whatever the number of prompts.

- `prompts`: records of that dataset × model (a metric missing from a record counts as
  unscored there); `scored`: results that are numbers (null and unreadable ones are not).
  Human metrics count answers: with several workers per prompt, `scored` can exceed `prompts`.
- `mean` and `stddev` over the scored results. The standard deviation is the SAMPLE one
  (divisor n - 1; None below 2 results): what the compare page's interval of a difference of
  means needs (Welch: se = sqrt(s1²/n1 + s2²/n2), n = scored). Welford's update keeps it exact
  enough in one pass.
- `histogram` {"edges": [...], "counts": [...]}, bins [e_i, e_i+1), the last one closed:
  thumbs up/down and comparison choice: [0, 0.5, 1] (down|loss, up|win); Likert: one bin per
  point 1..5 (edges 0.5..5.5); ranks: one bin per rank; any other metric with every result in
  [0, 1]: 10 bins over [0, 1]; integer results otherwise: one bin per integer (up to 20);
  anything else: 10 equal bins between the smallest and largest result. No result: empty.
- `distribution` (human metrics): answers per label: {"up", "down"} for thumbs (the mean is
  the thumbs-up share), {"1".."5"} for Likert scales, {"wins", "losses", "ties"} for
  comparison choice (per model, so a two-model job shows who won how often), {"1", "2", ...}
  for ranks.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import Any

from jobs.results.parse import Item

UNIT_EDGES = [round(i / 10, 1) for i in range(11)]
HALF_EDGES = [0.0, 0.5, 1.0]
LIKERT_EDGES = [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]
# Distinct results remembered exactly (for integer and min..max bins); past this a metric is
# continuous and its histogram falls back to what the unit bins or min..max can tell.
MAX_DISTINCT = 1024
MAX_INTEGER_BINS = 20


class MetricStats:
    __slots__ = ("distribution", "exact", "m2", "max", "mean", "method", "min", "n", "unit")

    def __init__(self, method: str = "") -> None:
        self.method = method
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.min = math.inf
        self.max = -math.inf
        self.unit = [0] * 10
        self.exact: dict[float, int] | None = {}
        self.distribution: dict[str, int] = {}

    def add(self, value: float | None, label: str = "") -> None:
        if label:
            self.distribution[label] = self.distribution.get(label, 0) + 1
        if value is None:
            return
        self.n += 1
        delta = value - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (value - self.mean)
        self.min = min(self.min, value)
        self.max = max(self.max, value)
        if 0.0 <= value <= 1.0:
            self.unit[min(bisect_right(UNIT_EDGES, value) - 1, 9)] += 1
        if self.exact is not None:
            self.exact[value] = self.exact.get(value, 0) + 1
            if len(self.exact) > MAX_DISTINCT:
                self.exact = None

    @property
    def stddev(self) -> float | None:
        return math.sqrt(self.m2 / (self.n - 1)) if self.n >= 2 else None

    def histogram(self) -> dict[str, list]:
        if not self.n:
            return {"edges": [], "counts": []}
        exact = self.exact
        integers = exact is not None and all(v.is_integer() for v in exact)
        if self.method in ("thumbsUpDown", "comparisonChoice") and exact is not None:
            edges = HALF_EDGES
        elif integers and self.min >= 1 and self.max <= 5 and "Likert" in self.method:
            edges = LIKERT_EDGES
        elif integers and self.min >= 1 and self.max <= MAX_INTEGER_BINS and "Rank" in self.method:
            edges = [v - 0.5 for v in range(1, int(self.max) + 2)]
        elif self.min >= 0.0 and self.max <= 1.0:
            return {"edges": UNIT_EDGES, "counts": list(self.unit)}
        elif integers and self.max - self.min < MAX_INTEGER_BINS:
            edges = [v - 0.5 for v in range(int(self.min), int(self.max) + 2)]
        elif exact is not None and self.max > self.min:
            width = (self.max - self.min) / 10
            edges = [self.min + i * width for i in range(10)] + [self.max]
        else:
            # Continuous results outside [0, 1] beyond MAX_DISTINCT values: one bin.
            return {"edges": [self.min, self.max], "counts": [self.n]}
        return {"edges": edges, "counts": _count(edges, exact or {})}

    def as_fields(self) -> dict[str, Any]:
        distribution = dict(self.distribution)
        if "Likert" in self.method:
            distribution = {str(k): 0 for k in range(1, 6)} | distribution
        elif self.method == "thumbsUpDown":
            distribution = {"up": 0, "down": 0} | distribution
        elif self.method == "comparisonChoice":
            distribution = {"wins": 0, "losses": 0, "ties": 0} | distribution
        distribution.pop("", None)
        return {
            "rating_method": self.method,
            "scored": self.n,
            "mean": self.mean if self.n else None,
            "stddev": self.stddev,
            "histogram": self.histogram(),
            "distribution": distribution,
        }


def _count(edges: list[float], exact: dict[float, int]) -> list[int]:
    counts = [0] * (len(edges) - 1)
    for value, n in exact.items():
        counts[max(0, min(bisect_right(edges, value) - 1, len(counts) - 1))] += n
    return counts


class Aggregator:
    """Feed it every item of a job (`add`); `rows()` gives the ResultAggregate fields."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], int] = {}
        self.metrics: dict[tuple[str, str, str], MetricStats] = {}

    def _stats(self, dataset: str, model: str, metric: str, method: str = "") -> MetricStats:
        key = (dataset, model, metric)
        stats = self.metrics.get(key)
        if stats is None:
            stats = self.metrics[key] = MetricStats(method)
        return stats

    def add(self, *, dataset: str, item: Item) -> None:
        key = (dataset, item.model)
        self.records[key] = self.records.get(key, 0) + 1
        if item.answers is not None:
            for answer in item.answers:
                self._stats(dataset, item.model, answer.metric, answer.method).add(
                    answer.value, answer.label
                )
            return
        for metric, value in item.scores.items():
            self._stats(dataset, item.model, metric).add(value)

    def rows(self) -> list[dict[str, Any]]:
        """Sorted by dataset, model, metric (the pages' order)."""
        return [
            {
                "dataset": dataset,
                "model": model,
                "metric": metric,
                "prompts": self.records[(dataset, model)],
                **stats.as_fields(),
            }
            for (dataset, model, metric), stats in sorted(self.metrics.items())
        ]
