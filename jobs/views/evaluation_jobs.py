"""Evaluation jobs: what their list and pages show (LIST, DETAIL: jobs/views/mirror.py makes
their views and URLs), and Stop.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from jobs import sync
from jobs.bedrock import client as bedrock
from jobs.bedrock.errors import BedrockError
from jobs.models import AuditEntry, EvaluationJob
from jobs.permissions import DELETE, OPERATE, requires
from jobs.selectors import evaluation_jobs as selectors
from jobs.views import deletions as deletion_views
from jobs.views import mirror
from jobs.views.filters import EvaluationJobFilterForm
from jobs.views.mirror import Action

LIST = mirror.MirrorList(
    kind=selectors.KIND,
    name="evaluation_job",
    form=EvaluationJobFilterForm,
    selectors=selectors,
    head=(
        ("Name", ""),
        ("Status", ""),
        ("Job type", "opt"),
        ("Application", "opt"),
        ("Task types", "opt"),
        ("Models", ""),
    ),
    new=("evaluation_job_new", "New evaluation job"),
    # Looked up when called, so tests can stand in for the worker.
    sync_request=lambda: sync.evaluation_jobs_sync_request(),
    # Checkboxes and the selection bar for bulk deletion (Admins only).
    table_context=lambda request, filters, items: deletion_views.list_selection_context(
        request, filters=filters, jobs=items
    ),
    row_context=lambda request, job: deletion_views.row_selection_context(request, job=job),
    words=mirror.Words(
        "Evaluation jobs",
        "evaluation job",
        lede="Model evaluation jobs in Bedrock, as of the last sync.",
        empty="or create a job in Bedrock.",
    ),
)


def _head_actions(request: HttpRequest, job: EvaluationJob) -> list[Action]:
    if not request.user.has_perm(OPERATE):
        return []
    url = reverse("evaluation_job_clone", args=[job.resource_id])
    return [Action("Clone", url, "secondary clone", title="A new job with this one's settings")]


def _status_actions(request: HttpRequest, job: EvaluationJob) -> list[Action]:
    actions = []
    if job.can_stop and request.user.has_perm(OPERATE):
        confirm = f"Stop “{job.name}”? Bedrock cannot resume a stopped job."
        stop_url = f"{DETAIL.prefix(job)}stop/"
        actions.append(Action("Stop job", stop_url, "danger", post=True, confirm=confirm))
    delete_url = mirror.optional_url("evaluation_job_delete_confirm")
    if delete_url and job.can_delete and request.user.has_perm(DELETE):
        actions.append(Action("Delete…", f"{delete_url}?job={job.resource_id}", "danger-outline"))
    return actions


DETAIL = mirror.MirrorDetail(
    list=LIST,
    operation="GetEvaluationJob",
    describe=lambda job: sync.evaluation_job_describe(job=job),
    layout=lambda obj: selectors.evaluation_job_layout(job=obj),
    head_actions=_head_actions,
    status_actions=_status_actions,
)


@requires(OPERATE)
@require_POST
def evaluation_job_stop(request: HttpRequest, job_id: str) -> HttpResponse:
    job = mirror.get_or_404(LIST, job_id)
    page = DETAIL.prefix(job)
    if not job.can_stop:
        messages.error(request, f"“{job.name}” is {job.status}; only a job in progress can stop.")
        return redirect(page)
    try:
        _evaluation_job_stop(job=job, user=request.user)
    except BedrockError as exc:
        messages.error(request, f"Bedrock refused to stop “{job.name}”: {exc.message}")
    else:
        messages.success(request, f"Stopping “{job.name}”. Bedrock is winding it down.")
    return redirect(page)


def _evaluation_job_stop(*, job: EvaluationJob, user) -> None:
    """StopEvaluationJob, then the mirror row shows Stopping; audited either way.

    (Belongs in the services layer once there is one; kept here, beside its only caller.)
    """
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
        raise
    EvaluationJob.objects.filter(pk=job.pk, status="InProgress").update(status="Stopping")
    AuditEntry.objects.create(
        **audit, target_arn=job.arn, outcome="requested", detail={"from_status": job.status}
    )
