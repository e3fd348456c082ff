"""Reads of evaluation results for the pages: a job's score cards, its per-prompt records
(keyset pages, filtered and sorted by any metric through ResultScore's index), several jobs
compared against a baseline, and the rows the exports write.

The models are the contract (jobs/models.py): one EvaluationResultSet per job, a
ResultAggregate per dataset × model-or-RAG-source × metric, a ResultRecord per prompt and model,
a ResultScore row per record and metric.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import F, Q, QuerySet

from jobs.models import (
    EvaluationJob,
    EvaluationResultSet,
    ResultAggregate,
    ResultRecord,
    ResultScore,
)
from jobs.pagination import (
    BIGINT,
    NEXT,
    PREV,
    KeysetPage,
    TamperedPageToken,
    keyset_page,
    page_scope,
    token_decode,
    token_encode,
)

COMPLETED = "Completed"
# z for a two-sided 95% interval.
Z95 = 1.96
# Metrics where a lower score is the better one (Bedrock: toxicity and robustness of
# automatic jobs are error-like rates; harm, stereotyping and refusal are judged as present).
LOWER_IS_BETTER = frozenset({"Toxicity", "Robustness", "Harmfulness", "Stereotyping", "Refusal"})
COMPARE_MIN, COMPARE_MAX = 2, 10
DROPS_LIMIT = 20
CANDIDATES_LIMIT = 20


def evaluation_results_ready_ids(*, job_ids: list[int]) -> set[str]:
    """The resource ids of those jobs whose results are ready (the list's Compare boxes)."""
    return set(
        EvaluationResultSet.objects.filter(
            job_id__in=job_ids, state=EvaluationResultSet.State.READY
        ).values_list("job__resource_id", flat=True)
    )


def metric_name(metric: str) -> str:
    """ "Builtin.Correctness" -> "Correctness"; custom metric names as they are."""
    return metric.removeprefix("Builtin.")


def lower_is_better(metric: str) -> bool:
    return metric_name(metric) in LOWER_IS_BETTER


def result_set_of(job: EvaluationJob) -> EvaluationResultSet | None:
    try:
        return job.results
    except EvaluationResultSet.DoesNotExist:
        return None


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


# --- Prompts: per-record keyset pages -----------------------------------------------------------

POSITION, SCORE_ASC, SCORE_DESC = "position", "score", "-score"
RANGE_ANY, RANGE_NULL, RANGE_BELOW, RANGE_ABOVE = "", "null", "below", "above"


@dataclass(frozen=True)
class RecordFilters:
    metric: str
    dataset: str = ""
    model: str = ""
    range: str = RANGE_ANY
    x: float | None = None
    sort: str = POSITION

    def scope(self, result_set: EvaluationResultSet) -> str:
        params = {
            "dataset": self.dataset,
            "model": self.model,
            "metric": self.metric,
            "range": self.range,
            "x": repr(self.x) if self.x is not None else "",
            "sort": self.sort,
        }
        return page_scope(f"results:{result_set.pk}", params)


@dataclass
class RecordRow:
    record: ResultRecord
    value: float | None  # the chosen metric's score

    @property
    def scores(self) -> list[tuple[str, Any]]:
        scores = self.record.scores if isinstance(self.record.scores, dict) else {}
        return sorted(scores.items())

    @property
    def explanations(self) -> list[tuple[str, Any]]:
        found = self.record.explanations
        return sorted(found.items()) if isinstance(found, dict) else []


def _range_q(filters: RecordFilters, prefix: str = "") -> Q:
    if filters.range == RANGE_NULL:
        return Q(**{f"{prefix}value__isnull": True})
    if filters.range == RANGE_BELOW and filters.x is not None:
        return Q(**{f"{prefix}value__lt": filters.x})
    if filters.range == RANGE_ABOVE and filters.x is not None:
        return Q(**{f"{prefix}value__gt": filters.x})
    return Q()


def evaluation_result_records(
    *,
    result_set: EvaluationResultSet,
    filters: RecordFilters,
    size: int,
    token: str | None,
) -> KeysetPage[RecordRow]:
    """One page of records. By position: keyset over (dataset, position, id). By a metric's
    score: keyset over that metric's ResultScore rows, (value, record) in either direction with
    the records that have no score for it (null) last. Raises PageTokenError."""
    scope = filters.scope(result_set)
    if filters.sort == POSITION:
        records = ResultRecord.objects.filter(result_set=result_set)
        if filters.dataset:
            records = records.filter(dataset=filters.dataset)
        if filters.model:
            records = records.filter(model=filters.model)
        if filters.range != RANGE_ANY:
            # One filter() call: the metric and its value are conditions on the same row.
            records = records.filter(
                Q(score_rows__metric=filters.metric) & _range_q(filters, "score_rows__")
            )
        page = keyset_page(
            records,
            size=size,
            token=token,
            scope=scope,
            descending=False,
            keys=("dataset", "position", "id"),
        )
        rows = [RecordRow(record=r, value=_score_of(r, filters.metric)) for r in page.items]
        return KeysetPage(items=rows, next_token=page.next_token, prev_token=page.prev_token)

    scores = ResultScore.objects.filter(result_set=result_set, metric=filters.metric)
    if filters.dataset:
        scores = scores.filter(record__dataset=filters.dataset)
    if filters.model:
        scores = scores.filter(record__model=filters.model)
    scores = scores.filter(_range_q(filters)).select_related("record")
    page = _score_page(
        scores, size=size, token=token, scope=scope, descending=filters.sort == SCORE_DESC
    )
    rows = [RecordRow(record=s.record, value=s.value) for s in page.items]
    return KeysetPage(items=rows, next_token=page.next_token, prev_token=page.prev_token)


def _score_of(record: ResultRecord, metric: str) -> float | None:
    value = record.scores.get(metric) if isinstance(record.scores, dict) else None
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _score_key(score: ResultScore) -> tuple[int, str, int]:
    """A token's key: (null?, value as repr, record id). repr() round-trips a float exactly."""
    if score.value is None:
        return (1, "", score.record_id)
    return (0, repr(float(score.value)), score.record_id)


def _decode_score_key(key: tuple) -> tuple[bool, float | None, int]:
    try:
        is_null, value, record_id = key
        if (
            is_null not in (0, 1)
            or not isinstance(record_id, int)
            or not 0 <= record_id < BIGINT
            or not isinstance(value, str)
            or len(value) > 40
        ):
            raise ValueError
        number = None if is_null else float(value)
        if number is not None and not math.isfinite(number):
            raise ValueError
    except (TypeError, ValueError) as exc:
        raise TamperedPageToken("unexpected key in page token") from exc
    return bool(is_null), number, record_id


def _after(is_null: bool, value: float | None, record_id: int, *, descending: bool) -> Q:
    """Rows after the key in display order: values in order, nulls last, ties by record."""
    beyond, rid = ("value__lt", "record_id__lt") if descending else ("value__gt", "record_id__gt")
    if is_null:
        return Q(value__isnull=True, **{rid: record_id})
    return Q(**{beyond: value}) | Q(value=value, **{rid: record_id}) | Q(value__isnull=True)


def _before(is_null: bool, value: float | None, record_id: int, *, descending: bool) -> Q:
    beyond, rid = ("value__gt", "record_id__gt") if descending else ("value__lt", "record_id__lt")
    if is_null:
        return Q(value__isnull=False) | Q(value__isnull=True, **{rid: record_id})
    return Q(value__isnull=False) & (Q(**{beyond: value}) | Q(value=value, **{rid: record_id}))


def _score_page(
    scores: QuerySet, *, size: int, token: str | None, scope: str, descending: bool
) -> KeysetPage:
    value = F("value")
    if descending:
        forward = [value.desc(nulls_last=True), "-record_id"]
        backward = [value.asc(nulls_first=True), "record_id"]
    else:
        forward = [value.asc(nulls_last=True), "record_id"]
        backward = [value.desc(nulls_first=True), "-record_id"]

    def page(items: list, *, more_after: bool, more_before: bool, anchor=None) -> KeysetPage:
        next_token = prev_token = None
        if more_after and items:
            next_token = token_encode(key=_score_key(items[-1]), direction=NEXT, scope=scope)
        if more_before:
            start = _score_key(items[0]) if items else anchor
            if start is not None:
                prev_token = token_encode(key=start, direction=PREV, scope=scope)
        return KeysetPage(items=items, next_token=next_token, prev_token=prev_token)

    cursor = token_decode(token, scope=scope) if token else None
    if cursor is None:
        rows = list(scores.order_by(*forward)[: size + 1])
        return page(rows[:size], more_after=len(rows) > size, more_before=False)
    key = _decode_score_key(cursor.key)
    if cursor.direction == NEXT:
        rows = list(
            scores.filter(_after(*key, descending=descending)).order_by(*forward)[: size + 1]
        )
        return page(rows[:size], more_after=len(rows) > size, more_before=True, anchor=cursor.key)
    rows = list(scores.filter(_before(*key, descending=descending)).order_by(*backward)[: size + 1])
    if rows:
        return page(rows[:size][::-1], more_after=True, more_before=len(rows) > size)
    return _score_page(scores, size=size, token=None, scope=scope, descending=descending)


# --- Compare ------------------------------------------------------------------------------------


def difference_interval(
    *, mean: float, stddev: float, n: int, base_mean: float, base_stddev: float, base_n: int
) -> tuple[float, float, float] | None:
    """(difference, low, high): the 95% interval of mean − base_mean by Welch's normal
    approximation, diff ± 1.96·sqrt(s²/n + s_b²/n_b), with s the sample standard deviations.
    None when either side has fewer than two scored results (no spread to judge by)."""
    if n < 2 or base_n < 2:
        return None
    diff = mean - base_mean
    half = Z95 * math.sqrt(stddev**2 / n + base_stddev**2 / base_n)
    return diff, diff - half, diff + half


@dataclass
class CompareCell:
    job: EvaluationJob
    prompts: int
    scored: int
    mean: float | None
    stddev: float | None
    is_baseline: bool = False
    diff: float | None = None
    low: float | None = None
    high: float | None = None
    # "worse" or "better" when the interval excludes 0; "" otherwise.
    flag: str = ""

    @property
    def testable(self) -> bool:
        return self.low is not None

    @property
    def significant(self) -> bool:
        return bool(self.flag)


@dataclass
class CompareRow:
    dataset: str
    metric: str
    model: str  # "" unless a job has several models for this dataset and metric
    cells: list[CompareCell | None]

    @property
    def metric_label(self) -> str:
        return metric_name(self.metric)

    @property
    def lower_is_better(self) -> bool:
        return lower_is_better(self.metric)

    @property
    def flagged(self) -> bool:
        return any(c is not None and c.flag for c in self.cells)


@dataclass
class Drop:
    dataset: str
    metric: str
    job: EvaluationJob
    record: ResultRecord
    value: float
    base_record: ResultRecord
    base_value: float

    @property
    def delta(self) -> float:
        return self.value - self.base_value

    # Excerpts: enough to see what went wrong side by side; the prompts page has it all.
    @property
    def prompt(self) -> str:
        return excerpt(self.record.prompt, 300)

    @property
    def response(self) -> str:
        return excerpt(self.record.response, 500)

    @property
    def base_response(self) -> str:
        return excerpt(self.base_record.response, 500)

    @property
    def explanation(self) -> str:
        return excerpt(_explanation(self.record, self.metric), 300)

    @property
    def base_explanation(self) -> str:
        return excerpt(_explanation(self.base_record, self.metric), 300)


def excerpt(text: str, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _explanation(record: ResultRecord, metric: str) -> str:
    found = record.explanations.get(metric) if isinstance(record.explanations, dict) else None
    return found if isinstance(found, str) else ""


@dataclass
class Comparison:
    jobs: list[EvaluationJob]
    baseline: EvaluationJob
    rows: list[CompareRow]
    drop_metrics: list[str]
    drop_metric: str
    drops: list[Drop]

    @property
    def flagged_count(self) -> int:
        return sum(1 for row in self.rows for c in row.cells if c is not None and c.flag)

    @property
    def worse_count(self) -> int:
        return sum(1 for row in self.rows for c in row.cells if c is not None and c.flag == "worse")


class CompareProblem(Exception):
    """The jobs asked for cannot be compared; the page says why."""

    def __init__(self, title: str, explanation: str, *, items: Sequence[str] = ()) -> None:
        super().__init__(title)
        self.title = title
        self.explanation = explanation
        self.items = list(items)


class CompareUnknownJobs(Exception):
    def __init__(self, ids: Sequence[str]) -> None:
        super().__init__(", ".join(ids))
        self.ids = list(ids)


def _pick_jobs(resource_ids: Sequence[str]) -> list[EvaluationJob]:
    """The jobs in the order asked, one per id (listed rows first, like a job's page)."""
    found: dict[str, EvaluationJob] = {}
    rows = (
        EvaluationJob.objects.filter(resource_id__in=resource_ids)
        .select_related("results")
        .order_by("resource_id", "-listed", "-created_at")
    )
    for job in rows:
        found.setdefault(job.resource_id, job)
    missing = [rid for rid in resource_ids if rid not in found]
    if missing:
        raise CompareUnknownJobs(missing)
    return [found[rid] for rid in resource_ids]


def _why_not_comparable(job: EvaluationJob) -> str:
    if job.status != COMPLETED:
        return f"it is {job.status}, not Completed"
    result_set = result_set_of(job)
    if result_set is None or not result_set.is_settled:
        return "its results have not been read yet"
    if result_set.state == EvaluationResultSet.State.FAILED:
        return "its results could not be read"
    return ""


def evaluation_results_compare(
    *,
    resource_ids: Sequence[str],
    baseline_id: str | None,
    drop_metric: str | None = None,
    with_drops: bool = True,
) -> Comparison:
    """2–10 Completed jobs with results, side by side against a baseline (the first unless
    `baseline_id` names another). Raises CompareUnknownJobs or CompareProblem."""
    ids = list(dict.fromkeys(resource_ids))
    if len(ids) > COMPARE_MAX:
        raise CompareProblem(
            f"Pick at most {COMPARE_MAX} jobs to compare",
            f"{len(ids)} jobs were picked. One table of {COMPARE_MAX} columns is as many as "
            "stays readable; untick some and compare again.",
        )
    if len(ids) < COMPARE_MIN:
        raise CompareProblem(
            "Pick at least two jobs to compare",
            "Comparing needs two to ten Completed evaluation jobs with results. Tick them in the "
            "evaluation job list, or use “Compare with…” on a job's page.",
        )
    jobs = _pick_jobs(ids)
    problems = [f"{job.name}: {why}" for job in jobs if (why := _why_not_comparable(job))]
    if problems:
        raise CompareProblem(
            "Some of these jobs have no results to compare",
            "Only Completed jobs whose results have been read can be compared.",
            items=problems,
        )
    if baseline_id and baseline_id not in ids:
        raise CompareProblem(
            "The baseline is not one of the compared jobs",
            "Pick the baseline among the jobs being compared.",
        )
    baseline = jobs[ids.index(baseline_id)] if baseline_id else jobs[0]
    set_ids = {job.results.pk: i for i, job in enumerate(jobs)}
    base_index = jobs.index(baseline)

    aggregates = ResultAggregate.objects.filter(result_set_id__in=set_ids).values_list(
        "result_set_id", "dataset", "model", "metric", "prompts", "scored", "mean", "stddev"
    )
    per_group: dict[tuple[int, str, str], list[tuple]] = defaultdict(list)
    for row in aggregates:
        per_group[(set_ids[row[0]], row[1], row[3])].append(row)
    table: dict[tuple[str, str, str], list[CompareCell | None]] = {}
    for (index, dataset, metric), group in per_group.items():
        several = len(group) > 1
        for _, _, model, _, prompts, scored, mean, stddev in group:
            key = (dataset, metric, model if several else "")
            cells = table.setdefault(key, [None] * len(jobs))
            cells[index] = CompareCell(
                job=jobs[index],
                prompts=prompts,
                scored=scored,
                mean=mean if scored else None,
                stddev=stddev,
                is_baseline=index == base_index,
            )
    rows = []
    for (dataset, metric, model), cells in sorted(table.items()):
        _mark_differences(cells, base_index, lower=lower_is_better(metric))
        rows.append(CompareRow(dataset=dataset, metric=metric, model=model, cells=cells))

    drop_metrics = sorted(
        {
            row.metric
            for row in rows
            if row.cells[base_index] is not None
            and any(c is not None and not c.is_baseline for c in row.cells)
        }
    )
    if drop_metric not in drop_metrics:
        drop_metric = _worst_metric(rows) or (drop_metrics[0] if drop_metrics else "")
    drops = _drops(jobs, baseline, drop_metric) if drop_metric and with_drops else []
    return Comparison(
        jobs=jobs,
        baseline=baseline,
        rows=rows,
        drop_metrics=drop_metrics,
        drop_metric=drop_metric,
        drops=drops,
    )


def _mark_differences(cells: list[CompareCell | None], base_index: int, *, lower: bool) -> None:
    base = cells[base_index]
    if base is None or base.mean is None:
        return
    for cell in cells:
        if cell is None or cell.is_baseline or cell.mean is None:
            continue
        cell.diff = cell.mean - base.mean
        if cell.stddev is None or base.stddev is None:
            continue
        interval = difference_interval(
            mean=cell.mean,
            stddev=cell.stddev,
            n=cell.scored,
            base_mean=base.mean,
            base_stddev=base.stddev,
            base_n=base.scored,
        )
        if interval is None:
            continue
        _, cell.low, cell.high = interval
        if cell.low > 0 or cell.high < 0:
            better = (cell.diff > 0) != lower
            cell.flag = "better" if better else "worse"


def _worst_metric(rows: list[CompareRow]) -> str:
    """The metric of the largest flagged regression (in interval widths), if any."""
    worst, metric = 0.0, ""
    for row in rows:
        for cell in row.cells:
            if cell is None or cell.flag != "worse" or cell.diff is None:
                continue
            width = (cell.high - cell.low) / 2 or 1e-12
            badness = abs(cell.diff) / width
            if badness > worst:
                worst, metric = badness, row.metric
    return metric


def _drops(jobs: list[EvaluationJob], baseline: EvaluationJob, metric: str) -> list[Drop]:
    """The prompts whose `metric` fell the most against the baseline: records of the same
    prompt (prompt_hash) in the same dataset, both scored; at most DROPS_LIMIT, worst first.
    When the baseline rates several models per prompt, records pair up by model too."""
    base_set = baseline.results.pk
    others = [job.results.pk for job in jobs if job.pk != baseline.pk]
    if not others:
        return []
    datasets = list(
        ResultAggregate.objects.filter(result_set_id=base_set, metric=metric).values_list(
            "dataset", flat=True
        )
    )
    several = len(datasets) > len(set(datasets))  # models per dataset in the baseline
    lower = lower_is_better(metric)
    score, record = ResultScore._meta.db_table, ResultRecord._meta.db_table
    sets = [base_set, *others]
    placeholders = ", ".join(["%s"] * len(sets))
    # Every compared record's score is read once, through ResultScore's (result_set, metric,
    # value) index and one pass over the records, then joined with itself by hashing;
    # MATERIALIZED keeps PostgreSQL from probing an index once per record instead (three
    # times slower at 10 jobs × 1,000 records). SQLite (3.35+) accepts it too.
    same_model = "AND b.model = j.model" if several else ""
    sql = f"""
        WITH x AS MATERIALIZED (
            SELECT r.prompt_hash, r.dataset, r.model, s.result_set_id, s.record_id, s.value
            FROM {score} s JOIN {record} r ON r.id = s.record_id
            WHERE s.result_set_id IN ({placeholders}) AND s.metric = %s AND s.value IS NOT NULL
        )
        SELECT j.result_set_id, j.record_id, j.value, b.record_id, b.value
        FROM x j JOIN x b ON b.prompt_hash = j.prompt_hash AND b.dataset = j.dataset {same_model}
        WHERE b.result_set_id = %s AND j.result_set_id <> %s
          AND j.value {"> b.value" if lower else "< b.value"}
        ORDER BY j.value - b.value {"DESC" if lower else "ASC"}, j.record_id
        LIMIT %s
    """  # noqa: S608 - only table names and fixed fragments are formatted in
    with connection.cursor() as cursor:
        cursor.execute(sql, [*sets, metric, base_set, base_set, DROPS_LIMIT])
        found = cursor.fetchall()
    records = ResultRecord.objects.in_bulk({r[1] for r in found} | {r[3] for r in found})
    by_set = {job.results.pk: job for job in jobs}
    return [
        Drop(
            dataset=records[rid].dataset,
            metric=metric,
            job=by_set[set_id],
            record=records[rid],
            value=value,
            base_record=records[base_rid],
            base_value=base_value,
        )
        for set_id, rid, value, base_rid, base_value in found
    ]


# --- Exports ------------------------------------------------------------------------------------


def evaluation_result_export_rows(*, result_set: EvaluationResultSet) -> Iterable[dict]:
    """One dict per aggregate, ordered by dataset, model, metric (by code point, so a file is
    the same bytes on every database): prompts, scored, mean (None when nothing was scored)."""
    rows = sorted(
        result_set.aggregates.values_list("dataset", "model", "metric", "prompts", "scored", "mean")
    )
    for dataset, model, metric, prompts, scored, mean in rows:
        yield {
            "dataset": dataset,
            "model": model,
            "metric": metric,
            "prompts": prompts,
            "scored": scored,
            "mean": mean if scored and mean is not None else None,
        }
