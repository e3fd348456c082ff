"""Evaluation jobs: what their list and pages show (LIST, DETAIL: jobs/views/mirror.py makes
their views and URLs), and Stop (one job, or a selection: the service is jobs/stopping.py).
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from jobs import stopping, sync
from jobs.models import EvaluationJob
from jobs.permissions import DELETE, OPERATE, requires
from jobs.selectors import evaluation_jobs as selectors
from jobs.views import deletions as deletion_views
from jobs.views import mirror
from jobs.views import results as result_views
from jobs.views.filters import EvaluationJobFilterForm
from jobs.views.links import link
from jobs.views.mirror import Action

STOP_TEMPLATE = "jobs/evaluation_job_stop.html"
RESOURCE_ID = re.compile(r"[a-z0-9]{1,64}")

LIST = mirror.MirrorList(
    kind=selectors.KIND,
    name="evaluation_job",
    form=EvaluationJobFilterForm,
    page=selectors.evaluation_job_list,
    get=selectors.evaluation_job_get,
    rows=selectors.evaluation_job_rows,
    counts=selectors.evaluation_job_status_counts,
    head=(
        ("Name", ""),
        ("Status", ""),
        ("Region", "opt place"),
        ("Account", "opt place"),
        ("Job type", "opt"),
        ("Application", "opt"),
        ("Task types", "opt"),
        ("Models", ""),
    ),
    new=("evaluation_job_new", "New evaluation job"),
    # Looked up when called, so tests can stand in for the worker.
    sync_request=lambda: sync.evaluation_jobs_sync_request(),
    # Checkboxes and the selection bar for bulk deletion (Admins only), and the checkboxes of
    # Stop selected… for Operators when the list shows only running jobs.
    table_context=lambda request, filters, items: (
        deletion_views.list_selection_context(request, filters=filters, jobs=items)
        | stop_selection_context(request, filters=filters)
        | result_views.compare_selection_context(request, items=items)
        | {"total_quota": selectors.evaluation_job_total_usage()}
    ),
    row_context=lambda request, job: (
        deletion_views.row_selection_context(request, job=job)
        | result_views.compare_selection_context(request, items=[job])
    ),
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
        stop_url = reverse("evaluation_job_stop", args=[job.resource_id])
        actions.append(Action("Stop job", stop_url, "danger", post=True, confirm=confirm))
    delete_url = mirror.optional_url("evaluation_job_delete_confirm")
    if delete_url and job.can_delete and request.user.has_perm(DELETE):
        actions.append(
            Action("Delete…", link(delete_url, {"job": job.resource_id}), "danger-outline")
        )
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
    outcome = stopping.evaluation_job_stop(job=job, user=request.user)
    _stop_message(request, outcome)
    return redirect(job)


@requires(OPERATE)
@require_http_methods(["GET", "POST"])
def evaluation_job_stop_selection(request: HttpRequest) -> HttpResponse:
    """GET ?job=<id>&job=...: which of the picked jobs would stop and which are skipped, and
    the form that stops them. POST: stop each (one Bedrock call per job), then the list."""
    data = request.POST if request.method == "POST" else request.GET
    picked = list(dict.fromkeys(j for j in data.getlist("job") if RESOURCE_ID.fullmatch(j)))
    limit = stopping.STOP_BATCH_LIMIT
    too_many = len(picked) > limit
    jobs = [] if too_many else selectors.evaluation_jobs_by_id(resource_ids=picked)
    if request.method == "POST" and not too_many:
        for job in jobs:
            _stop_message(request, stopping.evaluation_job_stop(job=job, user=request.user))
        if not jobs:
            messages.info(request, "No jobs were picked, so none were stopped.")
        return redirect(LIST.url())
    context = {
        "stoppable": [job for job in jobs if job.can_stop],
        "skipped": [
            (job, stopping.evaluation_job_stop_blocker(job=job)) for job in jobs if not job.can_stop
        ],
        "missing": 0 if too_many else len(picked) - len(jobs),
        "too_many": too_many,
        "picked_count": len(picked),
        "limit": limit,
        "list_url": LIST.url(),
        "running_url": link(LIST.url(), {"status": "InProgress"}),
    }
    return render(request, STOP_TEMPLATE, context, status=400 if too_many else 200)


def _stop_message(request: HttpRequest, outcome: stopping.StopOutcome) -> None:
    name = outcome.job.name
    if outcome.stopped:
        messages.success(request, f"Stopping “{name}”. Bedrock is winding it down.")
    elif outcome.refused_by_bedrock:
        messages.error(request, f"Bedrock refused to stop “{name}”: {outcome.reason}")
    else:
        messages.error(request, f"“{name}” was not stopped: {outcome.reason}.")


def stop_selection_context(request: HttpRequest, *, filters) -> dict:
    """The list's Stop selected… form (Operators, on the InProgress-only filter), or the hint
    that leads there."""
    if not request.user.has_perm(OPERATE):
        return {}
    if tuple(filters.statuses) == ("InProgress",):
        return {"stoppable": True, "stop_url": reverse("evaluation_job_stop_selection")}
    return {"stop_hint_url": link(LIST.url(), {"status": "InProgress"})}
