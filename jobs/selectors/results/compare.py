"""Several completed jobs compared against a baseline: a row per dataset and metric with the
differences flagged, and the prompts that dropped most."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from jobs.models import (
    EvaluationJob,
    EvaluationResultSet,
    ResultAggregate,
    ResultRecord,
    ResultScore,
)
from jobs.selectors.results.base import (
    COMPARE_MAX,
    COMPARE_MIN,
    COMPLETED,
    DROPS_LIMIT,
    Z95,
    lower_is_better,
    metric_name,
    result_set_of,
)

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
