"""A job's results section: score cards per dataset and model (with histograms and the
rating distributions of human jobs), head-to-head pairs, and the choices the compare and
records pages offer."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from jobs.models import (
    EvaluationJob,
    EvaluationResultSet,
    ResultAggregate,
)
from jobs.selectors.results.base import (
    CANDIDATES_LIMIT,
    COMPLETED,
    lower_is_better,
    metric_name,
    result_set_of,
)

# --- Histograms ---------------------------------------------------------------------------------

SVG_WIDTH, SVG_HEIGHT, SVG_GAP = 160, 40, 2


@dataclass(frozen=True)
class Bar:
    low: float
    high: float
    count: int
    x: float
    y: float
    width: float
    height: float

    @property
    def label(self) -> str:
        return f"{_num(self.low)}–{_num(self.high)}: {self.count}"


@dataclass(frozen=True)
class Histogram:
    bars: list[Bar]
    width: int = SVG_WIDTH
    height: int = SVG_HEIGHT

    @property
    def text(self) -> str:
        return "; ".join(bar.label for bar in self.bars)

    @property
    def low(self) -> str:
        return _num(self.bars[0].low) if self.bars else ""

    @property
    def high(self) -> str:
        return _num(self.bars[-1].high) if self.bars else ""


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value == value else "?"


def histogram(data: Any) -> Histogram | None:
    """The SVG geometry of {"edges": [...], "counts": [...]} (None when malformed or empty)."""
    if not isinstance(data, dict):
        return None
    edges, counts = data.get("edges"), data.get("counts")
    if not isinstance(edges, list) or not isinstance(counts, list):
        return None
    if not counts or len(edges) != len(counts) + 1:
        return None
    try:
        edges = [float(e) for e in edges]
        counts = [max(0, int(c)) for c in counts]
    except (TypeError, ValueError):
        return None
    top = max(counts) or 1
    slot = SVG_WIDTH / len(counts)
    bars = []
    for i, count in enumerate(counts):
        height = round(count / top * (SVG_HEIGHT - 2), 2) if count else 0
        bars.append(
            Bar(
                low=edges[i],
                high=edges[i + 1],
                count=count,
                x=round(i * slot + SVG_GAP / 2, 2),
                y=round(SVG_HEIGHT - height, 2),
                width=round(max(slot - SVG_GAP, 1), 2),
                height=height,
            )
        )
    return Histogram(bars=bars)


# --- The results section ------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    label: str
    count: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.count / self.total) if self.total else 0


@dataclass
class MetricScore:
    aggregate: ResultAggregate
    histogram: Histogram | None
    distribution: list[Share]

    @property
    def name(self) -> str:
        return metric_name(self.aggregate.metric)

    @property
    def lower_is_better(self) -> bool:
        return lower_is_better(self.aggregate.metric)


@dataclass
class ScoreCard:
    dataset: str
    model: str
    metrics: list[MetricScore]


@dataclass(frozen=True)
class HeadToHead:
    """A two-model human job's comparison metric: how often each model won."""

    metric: str
    shares: list[Share]


@dataclass
class DatasetResults:
    dataset: str
    cards: list[ScoreCard]
    head_to_head: list[HeadToHead] = field(default_factory=list)


@dataclass
class ResultsSummary:
    job: EvaluationJob
    result_set: EvaluationResultSet | None
    # not_completed (a running job), no_results (Failed or Stopped), waiting, failed, ready
    state: str
    datasets: list[DatasetResults] = field(default_factory=list)

    @property
    def polling(self) -> bool:
        return self.state in ("not_completed", "waiting")

    @property
    def aggregate_count(self) -> int:
        return sum(len(card.metrics) for d in self.datasets for card in d.cards)


def _distribution(aggregate: ResultAggregate) -> list[Share]:
    data = aggregate.distribution
    if not isinstance(data, dict) or not data:
        return []
    items = []
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        items.append((str(key), int(value)))
    total = sum(count for _, count in items)
    return [Share(label=key, count=count, total=total) for key, count in items]


def evaluation_results_summary(*, job: EvaluationJob) -> ResultsSummary:
    """What the job page's results section shows: the state of the read, and when ready,
    score cards per dataset and model."""
    result_set = result_set_of(job)
    if job.status != COMPLETED:
        state = "no_results" if job.is_terminal or not job.listed else "not_completed"
        return ResultsSummary(job=job, result_set=result_set, state=state)
    if result_set is None or result_set.state in (
        EvaluationResultSet.State.PENDING,
        EvaluationResultSet.State.FETCHING,
    ):
        return ResultsSummary(job=job, result_set=result_set, state="waiting")
    if result_set.state == EvaluationResultSet.State.FAILED:
        return ResultsSummary(job=job, result_set=result_set, state="failed")

    by_dataset: dict[str, dict[str, list[MetricScore]]] = defaultdict(lambda: defaultdict(list))
    for aggregate in result_set.aggregates.order_by("dataset", "model", "metric"):
        by_dataset[aggregate.dataset][aggregate.model].append(
            MetricScore(
                aggregate=aggregate,
                histogram=histogram(aggregate.histogram),
                distribution=_distribution(aggregate),
            )
        )
    datasets = []
    for dataset, models in by_dataset.items():
        cards = [ScoreCard(dataset=dataset, model=m, metrics=ms) for m, ms in models.items()]
        datasets.append(
            DatasetResults(dataset=dataset, cards=cards, head_to_head=_head_to_head(cards))
        )
    return ResultsSummary(job=job, result_set=result_set, state="ready", datasets=datasets)


def _head_to_head(cards: list[ScoreCard]) -> list[HeadToHead]:
    """For two-model human jobs: per comparison metric, each model's wins and the ties."""
    if len(cards) != 2:
        return []
    found = []
    first, second = cards
    theirs = {m.aggregate.metric: m for m in second.metrics}
    for mine in first.metrics:
        other = theirs.get(mine.aggregate.metric)
        if other is None or not mine.aggregate.rating_method.startswith("comparison"):
            continue
        a, b = mine.aggregate.distribution or {}, other.aggregate.distribution or {}
        if not isinstance(a, dict) or not isinstance(b, dict) or "wins" not in a:
            continue
        try:
            wins_a, wins_b = int(a.get("wins", 0)), int(b.get("wins", a.get("losses", 0)))
            ties = int(a.get("ties", 0))
        except (TypeError, ValueError):
            continue
        total = wins_a + wins_b + ties
        shares = [
            Share(label=first.model, count=wins_a, total=total),
            Share(label=second.model, count=wins_b, total=total),
        ]
        if ties:
            shares.append(Share(label="Tie", count=ties, total=total))
        found.append(HeadToHead(metric=mine.aggregate.metric, shares=shares))
    return found


@dataclass(frozen=True)
class Choices:
    """What a result set holds, for the prompts page's filters."""

    datasets: list[str]
    models: list[str]
    metrics: list[str]


def evaluation_result_choices(*, result_set: EvaluationResultSet) -> Choices:
    rows = list(result_set.aggregates.values_list("dataset", "model", "metric"))
    return Choices(
        datasets=sorted({r[0] for r in rows}),
        models=sorted({r[1] for r in rows}),
        metrics=sorted({r[2] for r in rows}),
    )


def evaluation_result_candidates(
    *, job: EvaluationJob, limit: int = CANDIDATES_LIMIT
) -> list[EvaluationJob]:
    """Other Completed jobs with results to compare this one with: those sharing one of its
    datasets first, newest first; bounded."""
    result_set = result_set_of(job)
    if result_set is None:
        return []
    datasets = list(result_set.aggregates.values_list("dataset", flat=True).distinct())
    ready = EvaluationJob.objects.filter(
        status=COMPLETED, results__state=EvaluationResultSet.State.READY
    ).exclude(pk=job.pk)
    shared_ids = list(
        ready.filter(results__aggregates__dataset__in=datasets)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
        .distinct()[: limit * 5]
    )
    shared_ids = list(dict.fromkeys(shared_ids))[:limit]
    jobs = list(EvaluationJob.objects.filter(pk__in=shared_ids).order_by("-created_at"))
    for candidate in jobs:
        candidate.shares_dataset = True
    if len(jobs) < limit:
        others = list(ready.exclude(pk__in=shared_ids).order_by("-created_at")[: limit - len(jobs)])
        for candidate in others:
            candidate.shares_dataset = False
        jobs += others
    return jobs
