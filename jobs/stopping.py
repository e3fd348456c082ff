"""Stopping evaluation jobs: one job's StopEvaluationJob, audited, and the mirror row marked
Stopping. Used by the job's own Stop button and by Stop selected… on the list."""

from __future__ import annotations

from dataclasses import dataclass

from jobs.bedrock import client as bedrock
from jobs.bedrock.errors import BedrockError
from jobs.models import AuditEntry, EvaluationJob

# One request stops at most this many jobs (one Bedrock call each), so a page answers in time.
STOP_BATCH_LIMIT = 100


@dataclass(frozen=True)
class StopOutcome:
    """What happened to one job: `stopped` (Bedrock accepted), or why not in `reason`."""

    job: EvaluationJob
    stopped: bool
    reason: str = ""
    refused_by_bedrock: bool = False


def evaluation_job_stop_blocker(*, job: EvaluationJob) -> str:
    """Why the job cannot be stopped now ("" when it can)."""
    if job.can_stop:
        return ""
    if job.status != "InProgress":
        return f"it is {job.status}; only a job in progress can stop"
    return "Bedrock no longer lists it"


def evaluation_job_stop(*, job: EvaluationJob, user) -> StopOutcome:
    """StopEvaluationJob, then the mirror row shows Stopping; audited either way. A job that
    cannot stop is skipped without calling Bedrock; Bedrock's refusal is an outcome, not an
    exception."""
    blocker = evaluation_job_stop_blocker(job=job)
    if blocker:
        return StopOutcome(job=job, stopped=False, reason=blocker)
    audit = {"user": user, "username": user.get_username(), "action": "evaluation_job.stop"}
    try:
        bedrock.stop_evaluation_job(identifier=job.arn)
    except BedrockError as exc:
        AuditEntry.objects.create(
            **audit,
            target_arn=job.arn,
            outcome="failed",
            detail={"code": exc.code, "message": exc.message, "request_id": exc.request_id},
        )
        return StopOutcome(job=job, stopped=False, reason=exc.message, refused_by_bedrock=True)
    EvaluationJob.objects.filter(pk=job.pk, status="InProgress").update(status="Stopping")
    AuditEntry.objects.create(
        **audit, target_arn=job.arn, outcome="requested", detail={"from_status": job.status}
    )
    return StopOutcome(job=job, stopped=True)
