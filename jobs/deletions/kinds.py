"""How each kind of resource is deleted (DeletionKind): evaluation jobs in
BatchDeleteEvaluationJob calls of at most 25, imported models one DeleteImportedModel a call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import CharField, QuerySet, Value
from django.urls import reverse
from django.utils import timezone

from jobs.bedrock import client as bedrock
from jobs.bedrock.errors import NotFoundError
from jobs.deletions.selection import Selection, Skip, _evaluation_job_skip, _selection_queryset
from jobs.models import DeletionItem, EvaluationJob, ImportedModel

KIND_EVALUATION_JOBS = "evaluation_jobs"
KIND_IMPORTED_MODELS = "imported_models"


# --- Running a batch ------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What Bedrock said about one item of a call."""

    outcome: str
    code: str = ""
    reason: str = ""


@dataclass(frozen=True)
class DeletionKind:
    """How one kind of resource is deleted: generic batches, runner and pages use this."""

    name: str
    label: str
    # One item, as the progress page names it ("No <noun>s in this deletion"), and what
    # becomes of a deleted one.
    noun: str
    after_deletion: str
    # Whether the mirror knows an item's status (the progress page's "Status when selected").
    has_status: bool
    chunk_size: int
    # arns -> {arn: (status, listed)} from the mirror
    states: Callable[[list[str]], dict[str, tuple[str, bool]]]
    skip: Callable[[str, bool], Skip | None]
    # arns -> {arn: Answer}; raises BedrockError for the call as a whole
    send: Callable[[list[str]], dict[str, Answer]]
    # arn -> True if Bedrock is deleting or no longer has it (raises BedrockError)
    is_going: Callable[[str], bool]
    mark_deleting: Callable[[list[str]], None]
    detail_url: Callable[[str], str]
    audit_action: str
    # Selection -> the mirror rows it holds, each with arn, resource_id, name, status, listed
    selected: Callable[[Selection], QuerySet]


def _evaluation_job_states(arns: list[str]) -> dict[str, tuple[str, bool]]:
    rows = EvaluationJob.objects.filter(arn__in=arns).values_list("arn", "status", "listed")
    return {arn: (status, listed) for arn, status, listed in rows}


def _evaluation_jobs_send(arns: list[str]) -> dict[str, Answer]:
    deleted, errors = bedrock.batch_delete_evaluation_jobs(identifiers=arns)
    answers: dict[str, Answer] = {}
    for entry in deleted:
        status = entry.get("jobStatus") or "Deleting"
        answers[entry.get("jobIdentifier", "")] = Answer(
            DeletionItem.DELETED, reason=f"Bedrock accepted the deletion (the job is {status})."
        )
    for entry in errors:
        code, message = str(entry.get("code", "")), entry.get("message", "")
        if code == "404":
            # "Unable to locate this job to delete.": it is already gone.
            answers[entry.get("jobIdentifier", "")] = Answer(
                DeletionItem.DELETED,
                code=code,
                reason=f"Already gone: Bedrock answered “{message}”",
            )
        else:
            answers[entry.get("jobIdentifier", "")] = Answer(
                DeletionItem.FAILED, code=code, reason=message
            )
    return answers


def _evaluation_job_is_going(arn: str) -> bool:
    try:
        status = bedrock.get_evaluation_job(identifier=arn).get("status")
    except NotFoundError:
        return True
    return status == "Deleting"


def _evaluation_jobs_mark_deleting(arns: list[str]) -> None:
    # An empty digest makes the next sweep rewrite the row from Bedrock's own answer.
    EvaluationJob.objects.filter(arn__in=arns, listed=True).update(
        status="Deleting", summary_digest=""
    )


# --- Imported models: DeleteImportedModel, one model a call; ids only, no filter selections.
# https://docs.aws.amazon.com/bedrock/latest/APIReference/API_DeleteImportedModel.html


def _imported_model_states(arns: list[str]) -> dict[str, tuple[str, bool]]:
    rows = ImportedModel.objects.filter(arn__in=arns).values_list("arn", "listed")
    return {arn: ("", listed) for arn, listed in rows}


def _imported_model_skip(status: str, listed: bool) -> Skip | None:
    if not listed:
        return Skip("Vanished", "Bedrock no longer lists this model: it is already gone.")
    return None


def _imported_models_send(arns: list[str]) -> dict[str, Answer]:
    answers: dict[str, Answer] = {}
    for arn in arns:
        try:
            bedrock.delete_imported_model(identifier=arn)
        except NotFoundError as exc:
            answers[arn] = Answer(
                DeletionItem.DELETED,
                code=exc.code,
                reason=f"Already gone: Bedrock answered “{exc.message}”",
            )
        else:
            answers[arn] = Answer(DeletionItem.DELETED, reason="Bedrock deleted the model.")
    return answers


def _imported_model_is_going(arn: str) -> bool:
    try:
        bedrock.get_imported_model(identifier=arn)
    except NotFoundError:
        return True
    return False


def _imported_models_mark_deleted(arns: list[str]) -> None:
    # DeleteImportedModel is done when it answers: the model leaves the list now, as the
    # next sweep would have it.
    now = timezone.now()
    ImportedModel.objects.filter(arn__in=arns, listed=True).update(
        listed=False, vanished_at=now, last_synced_at=now
    )


def _imported_models_selected(selection: Selection) -> QuerySet[ImportedModel]:
    return ImportedModel.objects.filter(resource_id__in=selection.ids).annotate(
        status=Value("", output_field=CharField())
    )


KINDS: dict[str, DeletionKind] = {
    KIND_EVALUATION_JOBS: DeletionKind(
        name=KIND_EVALUATION_JOBS,
        label="evaluation jobs",
        noun="job",
        after_deletion=(
            "Deleted jobs show as Deleting in the list until the next sync confirms they are "
            "gone. Their results in S3 are not deleted."
        ),
        has_status=True,
        # BatchDeleteEvaluationJob takes 1-25 identifiers.
        chunk_size=25,
        states=_evaluation_job_states,
        skip=_evaluation_job_skip,
        send=_evaluation_jobs_send,
        is_going=_evaluation_job_is_going,
        mark_deleting=_evaluation_jobs_mark_deleting,
        detail_url=lambda resource_id: reverse("evaluation_job_detail", args=[resource_id]),
        audit_action="evaluation_job.delete",
        selected=_selection_queryset,
    ),
    KIND_IMPORTED_MODELS: DeletionKind(
        name=KIND_IMPORTED_MODELS,
        label="imported models",
        noun="model",
        after_deletion=(
            "Deleted models leave the list at once. The model files they were imported from "
            "stay in S3."
        ),
        has_status=False,
        # DeleteImportedModel takes one identifier.
        chunk_size=1,
        states=_imported_model_states,
        skip=_imported_model_skip,
        send=_imported_models_send,
        is_going=_imported_model_is_going,
        mark_deleting=_imported_models_mark_deleted,
        detail_url=lambda resource_id: reverse("imported_model_detail", args=[resource_id]),
        audit_action="imported_model.delete",
        selected=_imported_models_selected,
    ),
}
