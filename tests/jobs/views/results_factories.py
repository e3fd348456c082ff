"""Results rows made directly, as the ingestion would have stored them (jobs/models.py is the
contract): a result set per job, records with a ResultScore row per metric, and aggregates
computed from the same scores (sample standard deviation, a histogram over [0, 1])."""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from jobs.models import (
    EvaluationJob,
    EvaluationResultSet,
    ResultAggregate,
    ResultRecord,
    ResultScore,
)
from tests.jobs.views.factories import make_job

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def prompt_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_result_set(job: EvaluationJob | None = None, **values: Any) -> EvaluationResultSet:
    job = job or make_job(status="Completed")
    defaults = {
        "state": EvaluationResultSet.State.READY,
        "s3_uri": f"s3://results/evaluations/{job.name}/{job.resource_id}/",
        "files": 1,
        "fetched_at": timezone.now(),
    }
    return EvaluationResultSet.objects.create(job=job, **(defaults | values))


def histogram_of(values: Sequence[float], bins: int = 5) -> dict:
    edges = [round(i / bins, 4) for i in range(bins + 1)]
    counts = [0] * bins
    for value in values:
        counts[min(int(value * bins), bins - 1) if value >= 0 else 0] += 1
    return {"edges": edges, "counts": counts}


def add_aggregate(
    result_set: EvaluationResultSet,
    *,
    dataset: str,
    metric: str,
    values: Sequence[float | None] = (),
    model: str = MODEL,
    **overrides: Any,
) -> ResultAggregate:
    scored = [v for v in values if v is not None]
    values_ = {
        "prompts": len(values),
        "scored": len(scored),
        "mean": statistics.fmean(scored) if scored else None,
        "stddev": statistics.stdev(scored) if len(scored) > 1 else None,
        "histogram": histogram_of(scored) if scored else {},
    }
    return ResultAggregate.objects.create(
        result_set=result_set,
        dataset=dataset,
        model=model,
        metric=metric,
        **(values_ | overrides),
    )


def add_records(
    result_set: EvaluationResultSet,
    *,
    dataset: str,
    scores: dict[str, Sequence[float | None]],
    model: str = MODEL,
    prompts: Sequence[str] | None = None,
    aggregates: bool = True,
    start: int = 0,
) -> list[ResultRecord]:
    """One record per prompt with every metric's score (and a ResultScore row each), and, with
    `aggregates`, the aggregates of the same numbers. Prompt i of a dataset has the same text
    in every job, so records of different jobs pair up by prompt_hash."""
    count = len(next(iter(scores.values())))
    prompts = prompts or [f"{dataset} question {i}: what is {i} squared?" for i in range(count)]
    records = ResultRecord.objects.bulk_create(
        [
            ResultRecord(
                result_set=result_set,
                dataset=dataset,
                model=model,
                position=start + i,
                prompt=prompts[i],
                prompt_hash=prompt_hash(prompts[i]),
                reference=f"The answer is {i * i}.",
                response=f"{model} says: {i * i}, reply {i} of {result_set.job.name}.",
                scores={metric: values[i] for metric, values in scores.items()},
                explanations={
                    metric: f"The judge on prompt {i}: {metric} looks like {values[i]}."
                    for metric, values in scores.items()
                    if values[i] is not None
                },
            )
            for i in range(count)
        ]
    )
    ResultScore.objects.bulk_create(
        [
            ResultScore(record=r, result_set=result_set, metric=metric, value=values[i])
            for i, r in enumerate(records)
            for metric, values in scores.items()
        ]
    )
    if aggregates:
        for metric, values in scores.items():
            add_aggregate(result_set, dataset=dataset, model=model, metric=metric, values=values)
    result_set.records = ResultRecord.objects.filter(result_set=result_set).count()
    result_set.lines = result_set.records
    result_set.save(update_fields=["records", "lines"])
    return records


def make_job_with_results(
    scores: dict[str, Sequence[float | None]] | None = None,
    *,
    dataset: str = "Builtin.BoolQ",
    model: str = MODEL,
    **job_values: Any,
) -> EvaluationJob:
    job = make_job(status="Completed", models=[model], **job_values)
    result_set = make_result_set(job)
    add_records(
        result_set,
        dataset=dataset,
        model=model,
        scores=scores or {"Builtin.Correctness": [0.2, 0.9, None, 0.5]},
    )
    return job
