"""Submitting evaluation jobs to Bedrock: one job per request a person confirmed, whatever
fails on the way.

- The intent is recorded first: an EvaluationJobSubmission row keyed by the review page's
  idempotency key (unique), holding the request and a fresh clientRequestToken. A second
  POST of the same review page (double click, Back and resubmit, a second tab) finds that
  row, under the unique constraint if two arrive at once, and is answered with its outcome.
- Every attempt sends CreateEvaluationJob with the row's one clientRequestToken, so Bedrock
  makes one job however many attempts reach it ("If this token matches a previous request,
  Amazon Bedrock ignores the request, but does not return an error."
  https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateEvaluationJob.html).
- An attempt claims the row with a conditional update (a lease), so a retry task and the
  periodic resume never call Bedrock for the same row at once.
- Success: the row is Submitted, the job goes into the mirror at once (the detail page shows
  it), and an AuditEntry records it. A final error (conflict, not found, access denied,
  quota, validation): Failed, with Bedrock's code and message for the form to show on the
  right field (``submission_violations``). A transient one (throttling, 5xx, no answer): the
  row stays Submitting and a Celery task retries with backoff until Bedrock answers or
  SUBMISSION_MAX_ATTEMPTS run out; the resume task restarts retries whose task was lost.

Model import jobs go through the same mechanism (the same table and tasks): a submission
of kind MODEL_IMPORT sends CreateModelImportJob instead (`model_import_job_submit`).

Call these outside any transaction: the row must be committed before Bedrock is called.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from jobs import locks, publishing
from jobs.bedrock import client as bedrock
from jobs.bedrock import rules
from jobs.bedrock.contract import Violation, shape_for_path
from jobs.bedrock.errors import BedrockError, RetryableError
from jobs.models import (
    AuditEntry,
    EvaluationJob,
    EvaluationJobSubmission,
    ImportedModel,
    ModelImportJob,
)

__all__ = [
    "AUDIT_ACTION",
    "MODEL_IMPORT",
    "model_import_job_name_taken",
    "model_import_job_submit",
    "evaluation_job_name_taken",
    "submission_attempt",
    "submission_get",
    "evaluation_job_submission_get",
    "submissions_resume",
    "evaluation_job_submit",
    "submission_violations",
]

logger = logging.getLogger(__name__)

AUDIT_ACTION = "evaluation_job.submit"
RESUME_LOCK = "submissions:resume"
OPERATION = "CreateEvaluationJob"
# The submission kind of model import jobs; every other kind is an evaluation job's.
MODEL_IMPORT = "model_import"
IMPORT_AUDIT_ACTION = "model_import_job.submit"
IMPORT_OPERATION = "CreateModelImportJob"


# --- reads ----------------------------------------------------------------------------------


def evaluation_job_submission_get(*, idempotency_key: str) -> EvaluationJobSubmission | None:
    return EvaluationJobSubmission.objects.filter(idempotency_key=idempotency_key).first()


def submission_get(*, pk: int, kind: str | None = None) -> EvaluationJobSubmission | None:
    """Submission `pk` (of `kind` when given: an evaluation job's or MODEL_IMPORT), or None."""
    rows = EvaluationJobSubmission.objects.filter(pk=pk)
    if kind is not None:
        rows = rows.filter(kind=kind)
    return rows.first()


def evaluation_job_name_taken(*, name: str) -> bool:
    """Whether a new job may not take `name`: a job Bedrock still lists has it (the mirror),
    or a submission with it is on its way."""
    if EvaluationJob.objects.filter(name=name, listed=True).exists():
        return True
    return (
        EvaluationJobSubmission.objects.filter(
            job_name=name, status=EvaluationJobSubmission.SUBMITTING
        )
        .exclude(kind=MODEL_IMPORT)
        .exists()
    )


def model_import_job_name_taken(*, name: str) -> bool:
    """Whether a new import job may not take `name`: import jobs can be neither stopped nor
    deleted, so a name any import job ever had (listed or not) is taken for good; so is the
    name of an import submission on its way."""
    if ModelImportJob.objects.filter(name=name).exists():
        return True
    return EvaluationJobSubmission.objects.filter(
        job_name=name, kind=MODEL_IMPORT, status=EvaluationJobSubmission.SUBMITTING
    ).exists()


# --- the service ----------------------------------------------------------------------------


def evaluation_job_submit(
    *, request: dict[str, Any], user: Any, idempotency_key: str
) -> EvaluationJobSubmission:
    """Submit a CreateEvaluationJob `request` (the form's, without clientRequestToken) once per
    `idempotency_key`.

    A new key: record the submission, then make the first attempt now. A key seen before:
    the submission it made, untouched (whatever its status). Returns the submission: Submitted
    (``job_arn`` set, the job mirrored), Failed (``error_code``/``error_message``), or
    Submitting (a retry is queued for after this transaction commits).
    """
    kind = rules.evaluation_job_kind(request)
    return _submit(kind=kind, request=request, user=user, idempotency_key=idempotency_key)


def model_import_job_submit(
    *, request: dict[str, Any], user: Any, idempotency_key: str
) -> EvaluationJobSubmission:
    """Submit a CreateModelImportJob `request` once per `idempotency_key`: as
    evaluation_job_submit, with the import job mirrored on success."""
    return _submit(kind=MODEL_IMPORT, request=request, user=user, idempotency_key=idempotency_key)


def _submit(
    *, kind: str, request: dict[str, Any], user: Any, idempotency_key: str
) -> EvaluationJobSubmission:
    submission, created = _record(
        kind=kind, request=request, user=user, idempotency_key=idempotency_key
    )
    if not created:
        return submission
    submission, retry_in = submission_attempt(submission_id=submission.pk)
    if retry_in is not None:
        publishing.publish(publishing.SUBMISSION_ATTEMPT, submission.pk, countdown=retry_in)
    return submission


def _record(
    *, kind: str, request: dict[str, Any], user: Any, idempotency_key: str
) -> tuple[EvaluationJobSubmission, bool]:
    request = {k: v for k, v in request.items() if k != "clientRequestToken"}
    username = user.get_username() if user is not None else ""
    # get_or_create inserts in a savepoint and, on the unique key's IntegrityError (another
    # request inserted the same key a moment before), reads that row instead.
    return EvaluationJobSubmission.objects.get_or_create(
        idempotency_key=idempotency_key,
        defaults={
            "kind": kind,
            "job_name": str(request.get("jobName", ""))[:63],
            "request": request,
            "created_by": user if getattr(user, "pk", None) else None,
            "created_by_username": username,
            # Due now: if this process dies before its first attempt ends, the resume task
            # takes over once the lease and the grace period have passed.
            "next_attempt_at": timezone.now(),
        },
    )


def submission_attempt(
    *, submission_id: int
) -> tuple[EvaluationJobSubmission | None, float | None]:
    """One CreateEvaluationJob attempt for a Submitting submission, if no other attempt holds
    it. Returns the submission as it now is (None if it does not exist) and, when this attempt
    met a transient error and attempts remain, the seconds until the next one is due."""
    now = timezone.now()
    lease = now + dt.timedelta(seconds=_lease_seconds())
    claimable = EvaluationJobSubmission.objects.filter(
        pk=submission_id, status=EvaluationJobSubmission.SUBMITTING
    ).filter(Q(attempt_lease_until__isnull=True) | Q(attempt_lease_until__lte=now))
    over = claimable.filter(attempts__gte=_max_attempts()).first()
    if over is not None:
        # Attempts ran out without an outcome recorded (a worker died mid-call, say).
        return _fail(over, code=over.error_code, message=over.error_message, gave_up=True), None
    claimed = claimable.update(
        attempt_lease_until=lease, attempts=F("attempts") + 1, last_attempt_at=now
    )
    submission = EvaluationJobSubmission.objects.filter(pk=submission_id).first()
    if not claimed or submission is None:
        return submission, None
    params = {**submission.request, "clientRequestToken": str(submission.client_request_token)}
    importing = submission.kind == MODEL_IMPORT
    create = bedrock.create_model_import_job if importing else bedrock.create_evaluation_job
    try:
        arn = create(**params)
    except RetryableError as exc:
        logger.info("submission %s: attempt %d failed: %s", submission.pk, submission.attempts, exc)
        if submission.attempts >= _max_attempts():
            return _fail(submission, code=exc.code, message=exc.message, gave_up=True), None
        return _retry_later(submission, exc)
    except BedrockError as exc:
        logger.info("submission %s refused: %s", submission.pk, exc)
        return _fail(
            submission, code=exc.code, message=exc.message, request_id=exc.request_id
        ), None
    return _succeed(submission, arn), None


def submissions_resume() -> list[int]:
    """Restart submissions left Submitting whose next attempt is long overdue (its retry task
    was lost: the broker or the worker was down). Queues a retry for each; returns their ids.
    Runs under a lease, so two beats never do it twice."""
    lease = locks.acquire(RESUME_LOCK, ttl=60)
    if lease is None:
        return []
    try:
        now = timezone.now()
        overdue = now - dt.timedelta(seconds=settings.SUBMISSION_RESUME_GRACE_SECONDS)
        candidates = (
            EvaluationJobSubmission.objects.filter(
                status=EvaluationJobSubmission.SUBMITTING, next_attempt_at__lte=overdue
            )
            .filter(Q(attempt_lease_until__isnull=True) | Q(attempt_lease_until__lte=now))
            .order_by("next_attempt_at")
            .values_list("pk", "next_attempt_at")[:100]
        )
        resumed = []
        for pk, due in candidates:
            # Claim it for this run: a later run finds it again only after another grace period.
            if EvaluationJobSubmission.objects.filter(pk=pk, next_attempt_at=due).update(
                next_attempt_at=now
            ):
                resumed.append(pk)
                publishing.publish(publishing.SUBMISSION_ATTEMPT, pk)
        if resumed:
            logger.info("resumed %d stalled submissions: %s", len(resumed), resumed)
        return resumed
    finally:
        lease.release()


# --- outcomes -------------------------------------------------------------------------------


def _succeed(submission: EvaluationJobSubmission, arn: str) -> EvaluationJobSubmission:
    now = timezone.now()
    job = None
    with transaction.atomic():
        won = EvaluationJobSubmission.objects.filter(
            pk=submission.pk, status=EvaluationJobSubmission.SUBMITTING
        ).update(
            status=EvaluationJobSubmission.SUBMITTED,
            job_arn=arn,
            error_code="",
            error_message="",
            attempt_lease_until=None,
            next_attempt_at=None,
            finished_at=now,
        )
        if won:
            mirror = _mirror_import_job if submission.kind == MODEL_IMPORT else _mirror_job
            job = mirror(submission, arn, now=now)
            _audit(
                submission,
                outcome="submitted",
                target_arn=arn,
                detail={"attempts": submission.attempts},
            )
    if job is not None:
        _describe_quietly(job)
    submission.refresh_from_db()
    return submission


def _retry_later(
    submission: EvaluationJobSubmission, exc: BedrockError
) -> tuple[EvaluationJobSubmission, float]:
    delay = _retry_delay(submission.attempts)
    due = timezone.now() + dt.timedelta(seconds=delay)
    with transaction.atomic():
        EvaluationJobSubmission.objects.filter(
            pk=submission.pk, status=EvaluationJobSubmission.SUBMITTING
        ).update(
            error_code=exc.code or type(exc).__name__,
            error_message=exc.message,
            attempt_lease_until=None,
            next_attempt_at=due,
        )
        if submission.attempts == 1:
            _audit(
                submission,
                outcome="retrying",
                detail={"code": exc.code, "message": exc.message, "retry_in_s": round(delay)},
            )
    submission.refresh_from_db()
    return submission, delay


def _fail(
    submission: EvaluationJobSubmission,
    *,
    code: str,
    message: str,
    request_id: str = "",
    gave_up: bool = False,
) -> EvaluationJobSubmission:
    if gave_up:
        message = (
            f"Bedrock did not answer after {submission.attempts} attempts; the last error was: "
            f"{message or 'none recorded'}"
        )
    with transaction.atomic():
        won = EvaluationJobSubmission.objects.filter(
            pk=submission.pk, status=EvaluationJobSubmission.SUBMITTING
        ).update(
            status=EvaluationJobSubmission.FAILED,
            error_code=code or "Error",
            error_message=message,
            attempt_lease_until=None,
            next_attempt_at=None,
            finished_at=timezone.now(),
        )
        if won:
            detail = {"code": code, "message": message, "attempts": submission.attempts}
            if request_id:
                detail["request_id"] = request_id
            _audit(submission, outcome="failed", detail=detail)
    submission.refresh_from_db()
    return submission


def _audit(
    submission: EvaluationJobSubmission, *, outcome: str, target_arn: str = "", detail: dict
) -> None:
    AuditEntry.objects.create(
        user=submission.created_by,
        username=submission.created_by_username,
        action=IMPORT_AUDIT_ACTION if submission.kind == MODEL_IMPORT else AUDIT_ACTION,
        target_arn=target_arn,
        outcome=outcome,
        detail={"name": submission.job_name, "submission": submission.pk, **detail},
    )


def _retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter: base * 2^(attempts-1) seconds, capped."""
    base = settings.SUBMISSION_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    delay = min(float(settings.SUBMISSION_RETRY_MAX_SECONDS), base)
    return delay * random.uniform(0.75, 1.0)  # noqa: S311 - jitter, not cryptography


def _max_attempts() -> int:
    return max(1, settings.SUBMISSION_MAX_ATTEMPTS)


def _lease_seconds() -> float:
    # Long enough for one gateway call with botocore's own retries.
    per_call = settings.BEDROCK_CONNECT_TIMEOUT + settings.BEDROCK_READ_TIMEOUT
    return per_call * max(1, settings.BEDROCK_MAX_ATTEMPTS) + 60


# --- the mirror -----------------------------------------------------------------------------


def _mirror_job(submission: EvaluationJobSubmission, arn: str, *, now: dt.datetime):
    """The new job's mirror row, from the request, until the Get and the next sweep bring
    Bedrock's own record (needs_description and an empty digest make both rewrite it)."""
    from jobs import sync

    request = submission.request
    config = request.get("evaluationConfig") or {}
    section = config.get("human") or config.get("automated") or {}
    task_types = [c.get("taskType", "") for c in section.get("datasetMetricConfigs") or []]
    models = []
    for model in (request.get("inferenceConfig") or {}).get("models") or []:
        models.append((model.get("bedrockModel") or {}).get("modelIdentifier", ""))
        source = model.get("precomputedInferenceSource") or {}
        models.append(source.get("inferenceSourceIdentifier", ""))
    summary = {
        "jobArn": arn,
        "jobName": submission.job_name,
        "status": "InProgress",
        "creationTime": now.isoformat(),
        "jobType": "Human" if "human" in config else "Automated",
        "applicationType": rules.effective_application_type(request),
        "evaluationTaskTypes": [t for t in task_types if t],
        "modelIdentifiers": [m for m in models if m],
    }
    return sync.mirror_created(kind="evaluation_jobs", summary=summary)


def _mirror_import_job(submission: EvaluationJobSubmission, arn: str, *, now: dt.datetime):
    """The new import job's mirror row, from the request (as _mirror_job)."""
    from jobs import sync

    summary = {
        "jobArn": arn,
        "jobName": submission.job_name,
        "status": "InProgress",
        "creationTime": now.isoformat(),
        "lastModifiedTime": now.isoformat(),
        "importedModelName": submission.request.get("importedModelName", ""),
    }
    return sync.mirror_created(kind="import_jobs", summary=summary)


def _describe_quietly(job: EvaluationJob | ModelImportJob) -> None:
    """Bedrock's own record of the new job now, if it answers; the page fetches it otherwise."""
    from jobs import sync

    try:
        if isinstance(job, ModelImportJob):
            sync.import_job_describe(job=job)
        else:
            sync.evaluation_job_describe(job=job)
    except BedrockError as exc:
        logger.info("describing new job %s failed: %s", job.arn, exc)


# --- Bedrock's errors, on the request's paths -----------------------------------------------

# "1 validation error detected: Value 'x' at 'inferenceConfig.models.1.member.bedrockModel
# .modelIdentifier' failed to satisfy constraint: ..." (AWS's form, 1-based list members)
# One clause runs up to the next clause ("; Value ..." or "; at ...") or the end: a constraint
# may itself contain "; ".
_AWS_VALIDATION = re.compile(
    r"at '(?P<path>[\w.]+)' failed to satisfy constraint: (?P<msg>.+?)(?=; (?:Value |at ')|$)",
    re.DOTALL,
)
_AWS_MEMBER = re.compile(r"\.(\d+)\.member")
# "inferenceConfig.models[1].bedrockModel: message; ..." (the local Bedrock's form)
_PATH_MESSAGE = re.compile(r"^(?P<path>[A-Za-z][\w.\[\]]*): (?P<msg>.+)$")


def submission_violations(*, submission: EvaluationJobSubmission) -> list[Violation]:
    """Bedrock's final error for `submission` as violations at request paths, for a form's
    ``report()``: a name conflict on jobName, a model that was not found on that model's
    identifier, access denied on roleArn, validation messages at the paths they name. An
    error with no field of its own has the path "" (the form's non-field errors)."""
    if not submission.is_failed:
        return []
    operation = IMPORT_OPERATION if submission.kind == MODEL_IMPORT else OPERATION
    return error_violations(
        code=submission.error_code,
        message=submission.error_message,
        request=submission.request,
        operation=operation,
    )


# Bedrock's error codes that are about one member of any create request.
_ERROR_PATHS = {"AccessDeniedException": "roleArn", "TooManyTagsException": "jobTags"}


def error_violations(
    *, code: str, message: str, request: dict[str, Any], operation: str = OPERATION
) -> list[Violation]:
    importing = operation == IMPORT_OPERATION
    if code == "ConflictException":
        if importing:
            return _import_conflict(request, message)
        return [Violation("jobName", message)]
    if code in _ERROR_PATHS:
        return [Violation(_ERROR_PATHS[code], message)]
    if code == "ServiceQuotaExceededException":
        # Not retried: the same request succeeds only once something is freed.
        # https://docs.aws.amazon.com/general/latest/gr/bedrock.html#limits_bedrock
        free = (
            "an import job finishes or an imported model is deleted (the imported-models "
            "quota can also be raised through Service Quotas)"
            if importing
            else "running jobs finish (or old jobs are deleted, if the account holds 5,000)"
        )
        what = "the import job" if importing else "the job"
        return [
            Violation(
                "",
                f"A service quota is reached, so Bedrock refused {what} and nothing was "
                f"created: {message} Submit again once {free}.",
            )
        ]
    if code == "ResourceNotFoundException":
        if importing:
            return [Violation("modelDataSource.s3DataSource.s3Uri", message)]
        return [Violation(_not_found_path(request, message), message)]
    if code in {"ValidationException", "ParamValidation"}:
        found = _validation_paths(message, operation=operation)
        if found:
            return found
    what = "the import job" if importing else "the job"
    label = f"Bedrock refused {what} ({code})" if code else f"Bedrock refused {what}"
    return [Violation("", f"{label}: {message}")]


def _import_conflict(request: dict[str, Any], message: str) -> list[Violation]:
    """An import names two things Bedrock may have already, the job and the model: which one
    is taken is read from the mirror, never from the message's wording."""
    name = str(request.get("jobName", ""))
    model = str(request.get("importedModelName", ""))
    if name and ModelImportJob.objects.filter(name=name).exists():
        return [Violation("jobName", message)]
    model_taken = (
        ImportedModel.objects.filter(name=model, listed=True).exists()
        or ModelImportJob.objects.filter(imported_model_name=model, status="InProgress").exists()
    )
    if model and model_taken:
        return [Violation("importedModelName", message)]
    # Not (yet) in the mirror: either may be taken; say so on both rather than guess.
    either = f"{message} (the import job name or the model name is already taken)"
    return [Violation("jobName", either), Violation("importedModelName", either)]


def _not_found_path(request: dict[str, Any], message: str) -> str:
    """Which identifier in the request Bedrock could not find: the one its message names, else
    the first model under evaluation (the usual culprit), else no field."""
    candidates: list[tuple[str, str]] = []
    for i, model in enumerate((request.get("inferenceConfig") or {}).get("models") or []):
        ident = (model.get("bedrockModel") or {}).get("modelIdentifier")
        if ident:
            candidates.append((f"inferenceConfig.models[{i}].bedrockModel.modelIdentifier", ident))
    automated = (request.get("evaluationConfig") or {}).get("automated") or {}
    evaluators = (automated.get("evaluatorModelConfig") or {}).get("bedrockEvaluatorModels") or []
    for e, model in enumerate(evaluators):
        path = f"evaluationConfig.automated.evaluatorModelConfig.bedrockEvaluatorModels[{e}]"
        candidates.append((f"{path}.modelIdentifier", model.get("modelIdentifier", "")))
    custom = (automated.get("customMetricConfig") or {}).get("evaluatorModelConfig") or {}
    for e, model in enumerate(custom.get("bedrockEvaluatorModels") or []):
        path = (
            "evaluationConfig.automated.customMetricConfig.evaluatorModelConfig"
            f".bedrockEvaluatorModels[{e}]"
        )
        candidates.append((f"{path}.modelIdentifier", model.get("modelIdentifier", "")))
    for r, rag in enumerate((request.get("inferenceConfig") or {}).get("ragConfigs") or []):
        kb = rag.get("knowledgeBaseConfig") or {}
        retrieve = kb.get("retrieveConfig") or {}
        generate = (kb.get("retrieveAndGenerateConfig") or {}).get("knowledgeBaseConfiguration")
        base = f"inferenceConfig.ragConfigs[{r}].knowledgeBaseConfig"
        if retrieve:
            kb_path = f"{base}.retrieveConfig.knowledgeBaseId"
            candidates.append((kb_path, retrieve.get("knowledgeBaseId", "")))
        if generate:
            kb_path = f"{base}.retrieveAndGenerateConfig.knowledgeBaseConfiguration"
            candidates.append((f"{kb_path}.modelArn", generate.get("modelArn", "")))
            candidates.append((f"{kb_path}.knowledgeBaseId", generate.get("knowledgeBaseId", "")))
    human = (request.get("evaluationConfig") or {}).get("human") or {}
    flow = (human.get("humanWorkflowConfig") or {}).get("flowDefinitionArn")
    if flow:
        candidates.append(("evaluationConfig.human.humanWorkflowConfig.flowDefinitionArn", flow))
    for path, value in candidates:
        if value and value in message:
            return path
    return candidates[0][0] if candidates else ""


def _validation_paths(message: str, *, operation: str = OPERATION) -> list[Violation]:
    out = []
    for match in _AWS_VALIDATION.finditer(message):
        path = _AWS_MEMBER.sub(lambda m: f"[{int(m.group(1)) - 1}]", match.group("path"))
        if _is_request_path(path, operation):
            out.append(Violation(path, match.group("msg").strip()))
    if out:
        return out
    for part in message.split("; "):
        match = _PATH_MESSAGE.match(part.strip())
        if match and _is_request_path(match.group("path"), operation):
            out.append(Violation(match.group("path"), match.group("msg").strip()))
    return out


def _is_request_path(path: str, operation: str = OPERATION) -> bool:
    try:
        shape_for_path(operation, path)
    except KeyError:
        return False
    return True
