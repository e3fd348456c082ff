"""What every read of evaluation results shares: which jobs have results, metric names and
which way is better, a job's result set."""

from __future__ import annotations

from jobs.models import (
    EvaluationJob,
    EvaluationResultSet,
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
