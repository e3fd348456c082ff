"""Evaluation jobs: the list (filters, keyset pages, status chips, sync state), one job's page
(live status, tags, audit), and Stop.

Thin views: parse the query, call a selector or service, render the page or, for htmx, one
named partial of the same template.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from jobs import sync
from jobs.bedrock import client as bedrock
from jobs.bedrock.errors import BedrockError
from jobs.models import AuditEntry, EvaluationJob, SyncRun
from jobs.pagination import PageTokenError
from jobs.permissions import BROWSE, DELETE, OPERATE, requires
from jobs.selectors import evaluation_jobs as selectors
from jobs.templatetags.job_format import ago_text
from jobs.views import deletions as deletion_views
from jobs.views.filters import (
    EvaluationJobFilterForm,
    filter_query,
    sort_query,
    status_query,
)

log = logging.getLogger(__name__)

LIST_TEMPLATE = "jobs/evaluation_job_list.html"
DETAIL_TEMPLATE = "jobs/evaluation_job_detail.html"
# A running job's description older than this is fetched again when its page asks for its
# status, so a person watching sees InProgress turn Completed within a poll or two.
DESCRIPTION_MAX_AGE = dt.timedelta(seconds=3)
# The header stops waiting for a sweep after this long (the table still refreshes on reload).
SYNC_WAIT_SECONDS = 120


def _list_url() -> str:
    return reverse("evaluation_job_list")


def _optional_url(name: str) -> str | None:
    """The URL of a page another part of the dashboard provides, if it is installed."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


# --- Sync state in the header ----------------------------------------------------------------


@dataclass(frozen=True)
class SyncBanner:
    text: str
    tone: str  # ok | error | running | never
    title: str = ""
    # While set, the header polls until a sweep newer than run `wait_after` has finished.
    wait_after: int | None = None
    wait_since: int = 0

    @property
    def polling(self) -> bool:
        return self.wait_after is not None


def _sync_banner(
    run: SyncRun | None,
    *,
    running: bool,
    wait_after: int | None = None,
    wait_since: int = 0,
    note: str = "",
) -> SyncBanner:
    """What the header says, from the latest finished sweep and whether one is running."""
    now = timezone.now()
    waiting: dict = {}
    if wait_after is not None and time.time() - wait_since < SYNC_WAIT_SECONDS:
        waiting = {"wait_after": wait_after, "wait_since": wait_since}
    when = run.finished_at if run else None
    title = when.strftime("%Y-%m-%d %H:%M:%S UTC") if when else ""
    if note:
        return SyncBanner(text=note, tone="running", title=title, **waiting)
    if running:
        last = f" (last synced {ago_text(when, now)})" if when else ""
        return SyncBanner(text=f"Syncing with Bedrock…{last}", tone="running", **waiting)
    if run is None:
        return SyncBanner(text="Not synced with Bedrock yet.", tone="never", **waiting)
    if run.error:
        text = f"Last sync failed {ago_text(when, now)}: {run.error}"
        return SyncBanner(text=text, tone="error", title=title, **waiting)
    return SyncBanner(text=f"Synced {ago_text(when, now)}", tone="ok", title=title, **waiting)


def _initial_banner() -> SyncBanner:
    run = sync.sync_state(kind=selectors.KIND)
    if sync.sync_running(kind=selectors.KIND):
        # A sweep is under way: follow it, and reload the table when it ends.
        after = run.pk if run else 0
        return _sync_banner(run, running=True, wait_after=after, wait_since=int(time.time()))
    return _sync_banner(run, running=False)


def _sync_context(banner: SyncBanner, request: HttpRequest) -> dict:
    # Where the no-JS Refresh form returns to: the list as the person sees it.
    if request.path == _list_url():
        next_url = request.get_full_path()
    elif request.htmx and request.htmx.current_url_abs_path:
        next_url = request.htmx.current_url_abs_path
    else:
        next_url = _list_url()
    return {
        "sync": banner,
        "sync_next": next_url,
        "sync_url": reverse("evaluation_jobs_sync_state"),
        "refresh_url": reverse("evaluation_jobs_refresh"),
        "sync_seconds": getattr(settings, "SYNC_INTERVAL_SECONDS", 30),
    }


@require_GET
@requires(BROWSE)
def evaluation_jobs_sync_state(request: HttpRequest) -> HttpResponse:
    """The header's sync state. While waiting (?after=<run id>), polled until a newer sweep
    has finished; then it tells the table to reload (HX-Trigger: jobs-synced)."""
    run = sync.sync_state(kind=selectors.KIND)
    running = sync.sync_running(kind=selectors.KIND)
    try:
        after: int | None = int(request.GET["after"])
        since = int(request.GET.get("since", "0"))
    except (KeyError, ValueError):
        after, since = None, 0
    done = after is not None and run is not None and run.pk > after
    if done or after is None:
        banner = _sync_banner(run, running=running)
    else:
        banner = _sync_banner(run, running=True, wait_after=after, wait_since=since)
    response = render(request, f"{LIST_TEMPLATE}#sync-state", _sync_context(banner, request))
    if done:
        response["HX-Trigger"] = "jobs-synced"
    return response


@require_POST
@requires(BROWSE)
def evaluation_jobs_refresh(request: HttpRequest) -> HttpResponse:
    """Start a sweep now (Viewers may: it only reads Bedrock), then wait for it to end."""
    before = sync.sync_state(kind=selectors.KIND)
    if sync.evaluation_jobs_sync_request():
        note = "Sync requested; the table updates when it ends…"
    else:
        note = "A sync is already running; the table updates when it ends…"
    if request.htmx:
        banner = _sync_banner(
            before,
            running=True,
            wait_after=before.pk if before else 0,
            wait_since=int(time.time()),
            note=note,
        )
        return render(request, f"{LIST_TEMPLATE}#sync-state", _sync_context(banner, request))
    messages.info(request, note.replace("…", "; reload the page in a few seconds."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = _list_url()
    return redirect(target)


# --- The list ---------------------------------------------------------------------------------


def _list_partial(request: HttpRequest) -> str | None:
    """Which part of the list page an htmx request wants: filter changes and pages swap the
    table; status chips and "clear filters" swap the form too, so it shows the new filter."""
    htmx = request.htmx
    if not htmx or htmx.history_restore_request or htmx.boosted:
        return None
    return "job-browser" if htmx.target == "job-browser" else "job-table"


def _bad_page_token(request: HttpRequest, exc: PageTokenError, first_page: str) -> HttpResponse:
    if request.htmx and not request.htmx.history_restore_request:
        # htmx does not swap a 400: send the browser to the full explanation instead.
        return HttpResponseClientRedirect(request.get_full_path())
    return render(
        request,
        "400.html",
        {
            "problem": exc.title,
            "explanation": exc.explanation,
            "back_url": first_page,
            "back_label": "Go to the first page of these results",
        },
        status=400,
    )


@require_GET
@requires(BROWSE)
def evaluation_job_list(request: HttpRequest) -> HttpResponse:
    list_url = _list_url()
    form = EvaluationJobFilterForm(request.GET)
    partial = _list_partial(request)
    context: dict = {
        "form": form,
        "list_url": list_url,
        "job_prefix": list_url,
        "counts_url": reverse("evaluation_job_counts"),
        "now": timezone.now(),
    }
    if form.is_valid():
        filters, size = form.to_filters(), form.page_size
        query = filter_query(filters, size=size)
        try:
            page = selectors.evaluation_job_list(
                filters=filters, size=size, token=request.GET.get("page") or None
            )
        except PageTokenError as exc:
            return _bad_page_token(request, exc, list_url + query)
        page_base = list_url + (query + "&" if query else "?") + "page="
        token = request.GET.get("page") or ""
        context.update(
            current_url=page_base + token if token else list_url + query,
            filters=filters,
            page=page,
            query=query,
            first_url=list_url + query,
            next_url=page_base + page.next_token if page.next_token else "",
            prev_url=page_base + page.prev_token if page.prev_token else "",
            sort_url=list_url + sort_query(filters, size=size),
            # An empty page one with no filter means the mirror is empty; otherwise say why.
            mirror_empty=not page.items and not filters.is_filtered and page.is_first,
        )
        # Checkboxes and the selection bar for bulk deletion (Admins only).
        context.update(
            deletion_views.list_selection_context(request, filters=filters, jobs=page.items)
        )
    else:
        context.update(query="", current_url=request.get_full_path())
    if partial != "job-table":
        context["controls"] = form.controls()
    if partial is None:
        context.update(_sync_context(_initial_banner(), request))
    template = f"{LIST_TEMPLATE}#{partial}" if partial else LIST_TEMPLATE
    response = render(request, template, context)
    # The same URL answers a full page or a partial: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    if partial and request.get_full_path() != context["current_url"]:
        # A submitted form sends every field, empty ones too: the address bar gets the
        # short form of the same filter instead.
        response["HX-Push-Url"] = context["current_url"]
    return response


@require_GET
@requires(BROWSE)
def evaluation_job_counts(request: HttpRequest) -> HttpResponse:
    """Status chips for the current filter, requested by the page after the table."""
    form = EvaluationJobFilterForm(request.GET)
    chips: list[dict] = []
    if form.is_valid():
        filters, size = form.to_filters(), form.page_size
        list_url = _list_url()
        chips = [
            {"chip": chip, "url": list_url + status_query(filters, status=chip.status, size=size)}
            for chip in selectors.evaluation_job_status_counts(filters=filters)
        ]
        all_url = list_url + status_query(filters, status=None, size=size)
        any_selected = bool(filters.statuses)
    else:
        all_url, any_selected = _list_url(), False
    return render(
        request,
        f"{LIST_TEMPLATE}#status-counts",
        {"chips": chips, "all_url": all_url, "any_selected": any_selected},
    )


@require_GET
@requires(BROWSE)
def evaluation_job_row(request: HttpRequest, job_id: str) -> HttpResponse:
    """One list row, polled while the job runs; rendered without its poll once terminal."""
    job = selectors.evaluation_job_get(resource_id=job_id)
    if job is None:
        return HttpResponse("")  # swapping the row for nothing removes it and its poll
    context = {"job": job, "job_prefix": _list_url(), "now": timezone.now()}
    context.update(deletion_views.row_selection_context(request, job=job))
    return render(request, f"{LIST_TEMPLATE}#job-row", context)


# --- One job ----------------------------------------------------------------------------------


def _get_job(job_id: str) -> EvaluationJob:
    job = selectors.evaluation_job_get(resource_id=job_id)
    if job is None:
        raise Http404(f"No evaluation job {job_id} in the mirror.")
    return job


def _describe_if_needed(job: EvaluationJob) -> tuple[EvaluationJob, BedrockError | None]:
    """Fetch the description now if it was never fetched, if a sweep saw the job change since
    (needs_description), or if the job is running and what we have is older than
    DESCRIPTION_MAX_AGE. A Bedrock failure is returned, not raised."""
    stale = (
        job.described_at is None
        or job.needs_description
        or (job.is_running and timezone.now() - job.described_at > DESCRIPTION_MAX_AGE)
    )
    if job.description is not None and not stale:
        return job, None
    if not job.listed:
        return job, None  # Bedrock no longer has it
    try:
        return sync.evaluation_job_describe(job=job), None
    except BedrockError as exc:
        log.warning("describing %s failed: %s", job.arn, exc)
        return job, exc


def _status_context(job: EvaluationJob, request: HttpRequest, error: BedrockError | None) -> dict:
    prefix = f"{_list_url()}{job.resource_id}/"
    delete_url = _optional_url("evaluation_job_delete_confirm")
    return {
        "job": job,
        "layout": selectors.evaluation_job_layout(job=job),
        "describe_error": error,
        "status_url": prefix + "status/",
        "stop_url": prefix + "stop/",
        "show_stop": job.can_stop and request.user.has_perm(OPERATE),
        "delete_url": f"{delete_url}?job={job.resource_id}"
        if delete_url and job.can_delete and request.user.has_perm(DELETE)
        else "",
        "now": timezone.now(),
    }


@require_GET
@requires(BROWSE)
def evaluation_job_detail(request: HttpRequest, job_id: str) -> HttpResponse:
    job, error = _describe_if_needed(_get_job(job_id))
    tags, tags_error = None, None
    if job.listed:
        try:
            tags = bedrock.list_tags_for_resource(arn=job.arn)
        except BedrockError as exc:
            tags_error = exc
    context = _status_context(job, request, error) | {
        "tags": tags,
        "tags_error": tags_error,
        "audit_entries": selectors.evaluation_job_audit_entries(job=job),
        "list_url": _list_url(),
    }
    return render(request, DETAIL_TEMPLATE, context)


@require_GET
@requires(BROWSE)
def evaluation_job_status(request: HttpRequest, job_id: str) -> HttpResponse:
    """The status block of a job's page, polled while the job runs."""
    job, error = _describe_if_needed(_get_job(job_id))
    return render(request, f"{DETAIL_TEMPLATE}#job-status", _status_context(job, request, error))


@requires(OPERATE)
@require_POST
def evaluation_job_stop(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _get_job(job_id)
    page = f"{_list_url()}{job.resource_id}/"
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
