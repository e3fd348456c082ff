"""Bulk deletion: the selection on the evaluation-job list, the confirmation page, a batch's
progress page, retrying its failures, and the list of recent batches. Admins only.

The selection lives in the session, server-side: ticked ids, or a whole filter (its query
string, never the ids it matches) less the rows unticked since. So it survives paging, filter
changes and reloads, costs the browser nothing at 10,000 jobs, and works without JavaScript:
the list's table sits in a form that posts each page's ticks here. With htmx, each tick is
posted as it happens and the selection bar is swapped in.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import asdict, dataclass, field, replace

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jobs import deletions as services
from jobs.models import DeletionBatch, DeletionItem, EvaluationJob
from jobs.pagination import PageTokenError
from jobs.permissions import DELETE, requires
from jobs.selectors.evaluation_jobs import EvaluationJobFilters
from jobs.views.filters import EvaluationJobFilterForm
from jobs.views.links import back_url, link, query_string

LIST_TEMPLATE = "jobs/evaluation_job_list.html"
CONFIRM_TEMPLATE = "jobs/deletion_confirm.html"
BATCH_TEMPLATE = "jobs/deletion_batch_detail.html"
BATCHES_TEMPLATE = "jobs/deletion_batch_list.html"

SESSION_KEY = "deletions.evaluation_jobs.selection"
# Jobs picked one by one (a whole filter has no limit): 50 pages of 100.
MAX_PICKED = 5000
RESOURCE_ID = re.compile(r"[a-z0-9]{1,64}")
KEY = re.compile(r"[0-9a-f]{32}")
OUTCOMES = [o for o, _ in DeletionItem.OUTCOMES]
ITEMS_PER_PAGE = 100


# --- The selection in the session -----------------------------------------------------------


def _parse_filters(query: str) -> EvaluationJobFilters | None:
    """The list filter in a query string, or None if it has none (or is not valid)."""
    form = EvaluationJobFilterForm(QueryDict(query.lstrip("?")))
    if not form.is_valid():
        return None
    filters = form.to_filters()
    return filters if filters.is_filtered else None


def _canonical(filters: EvaluationJobFilters) -> str:
    """The filter's query string without its sort: equal selections compare equal."""
    return query_string(replace(filters, newest_first=True).as_params()).lstrip("?")


def filter_label(filters: EvaluationJobFilters) -> str:
    parts = []
    if filters.statuses:
        parts.append("status " + " or ".join(filters.statuses))
    if filters.regions:
        parts.append("region " + " or ".join(filters.regions))
    if filters.accounts:
        parts.append("account " + " or ".join(filters.accounts))
    if filters.name:
        parts.append(f"name contains “{filters.name}”")
    if filters.model:
        parts.append(f"model contains “{filters.model}”")
    for label, value in (
        ("job type", filters.job_type),
        ("application", filters.application_type),
        ("task type", filters.task_type),
    ):
        if value:
            parts.append(f"{label} {value}")
    if filters.created_after:
        parts.append(f"created on or after {filters.created_after:%Y-%m-%d}")
    if filters.created_before:
        parts.append(f"created on or before {filters.created_before:%Y-%m-%d}")
    return ", ".join(parts) or "the filter"


def _ids(values: list[str]) -> set[str]:
    return {v for v in values if RESOURCE_ID.fullmatch(v)}


@dataclass
class SelectionState:
    """What the session holds: a filter's query string ("" for none), ids ticked one by one,
    ids unticked from the filter's matches, and a revision that changes on every save."""

    query: str = ""
    ids: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    rev: str = ""

    @classmethod
    def load(cls, request: HttpRequest) -> SelectionState:
        raw = request.session.get(SESSION_KEY) or {}
        try:
            return cls(
                query=str(raw.get("query", "")),
                ids=[str(i) for i in raw.get("ids", [])],
                excluded=[str(i) for i in raw.get("excluded", [])],
                rev=str(raw.get("rev", "")),
            )
        except (AttributeError, TypeError):
            return cls()

    def save(self, request: HttpRequest) -> None:
        self.rev = secrets.token_hex(8)
        request.session[SESSION_KEY] = asdict(self)

    @staticmethod
    def forget(request: HttpRequest) -> None:
        request.session.pop(SESSION_KEY, None)

    @property
    def is_empty(self) -> bool:
        return not self.query and not self.ids

    def sync_page(self, page_ids: set[str], ticked: set[str], *, matching: set[str]) -> None:
        """The rows of one page as the person left them: ticked ones in, the others out.
        `matching`: the page's rows the selected filter holds (ticked, they need no id)."""
        ids, excluded = set(self.ids), set(self.excluded)
        for rid in page_ids:
            if rid in matching:
                ids.discard(rid)
                (excluded.discard if rid in ticked else excluded.add)(rid)
            elif rid in ticked:
                ids.add(rid)
            else:
                ids.discard(rid)
        self.ids, self.excluded = sorted(ids), sorted(excluded)

    def select_matching(self, filters: EvaluationJobFilters, *, matching: set[str]) -> None:
        """Every deletable job `filters` matches; `matching`: picked ids it holds anyway."""
        self.query = _canonical(filters)
        self.ids = sorted(set(self.ids) - matching)
        self.excluded = []

    def to_selection(self) -> services.Selection:
        filters = _parse_filters(self.query) if self.query else None
        return services.Selection(
            filters=filters,
            filter_label=filter_label(filters) if filters else "",
            filter_query=self.query if filters else "",
            ids=frozenset(self.ids),
            excluded=frozenset(self.excluded) if filters else frozenset(),
        )


# --- The selection bar on the list ----------------------------------------------------------


# The selection bar counts at most this many jobs (bounded and time-limited, like the status
# chips), and says "10,000+" past it: a COUNT of a million rows took 0.4-0.5 s on every page.
SELECTION_COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class SelectionBar:
    """The bar above the list's table, as plain data for the template."""

    selection: services.Selection
    count: int | None  # None: counted by the request the bar makes on load
    list_query: str  # the list's filter ("?status=Failed"), for that request
    offer_matching: bool  # the list shows a filter the selection does not already hold
    matching: int | None  # that filter's deletable jobs (None: not counted yet)
    lazy: bool
    error: str = ""

    @property
    def is_empty(self) -> bool:
        return self.selection.is_empty

    @property
    def select_all_label(self) -> str:
        if self.matching is None:
            return "Select all matching jobs"
        if self.matching > SELECTION_COUNT_LIMIT:
            return f"Select all {SELECTION_COUNT_LIMIT:,}+ matching jobs"
        return f"Select all {self.matching:,} matching job{'s' if self.matching != 1 else ''}"

    @property
    def summary(self) -> str:
        if self.selection.is_empty:
            return "No jobs selected."
        if self.selection.filters is None:
            n = self.count or 0
            return f"{n:,} job{'s' if n != 1 else ''} selected."
        described = self.selection.describe()
        if self.count is None:
            return f"Selected: {described[0].lower()}{described[1:]}."
        if self.count > SELECTION_COUNT_LIMIT:
            # The confirmation page counts exactly; the bar does not hold the list up.
            return f"{SELECTION_COUNT_LIMIT:,}+ selected: {described[0].lower()}{described[1:]}."
        return f"{self.count:,} selected: {described[0].lower()}{described[1:]}."


def _selection_bar(
    state: SelectionState, *, list_filters: EvaluationJobFilters | None, counted: bool
) -> SelectionBar:
    selection = state.to_selection()
    list_query = query_string(list_filters.as_params()) if list_filters else ""
    offer = list_filters is not None and _canonical(list_filters) != state.query
    needs_count = selection.filters is not None or offer
    count: int | None = len(selection.ids)
    matching = None
    if needs_count:
        if counted:
            count = services.evaluation_job_selection_count(
                selection=selection, limit=SELECTION_COUNT_LIMIT
            )
        else:
            count = None
        if offer and counted:
            matching = services.evaluation_job_deletable_count(
                filters=list_filters, limit=SELECTION_COUNT_LIMIT
            )
    return SelectionBar(
        selection=selection,
        count=count,
        list_query=list_query,
        offer_matching=offer,
        matching=matching,
        lazy=needs_count and not counted,
    )


def list_selection_context(
    request: HttpRequest, *, filters: EvaluationJobFilters, jobs: list[EvaluationJob]
) -> dict:
    """What the list page needs for its checkboxes and selection bar (Admins only)."""
    if not request.user.has_perm(DELETE):
        return {"selectable": False}
    state = SelectionState.load(request)
    bar = _selection_bar(
        state, list_filters=filters if filters.is_filtered else None, counted=False
    )
    selected: set[str] = set()
    if not state.is_empty:
        selected = services.evaluation_job_selected_ids(
            selection=bar.selection, resource_ids=[j.resource_id for j in jobs if j.can_delete]
        )
    return {
        "selectable": True,
        "selected_ids": selected,
        "selection": bar,
        "selection_url": reverse("evaluation_job_delete_selection"),
    }


def row_selection_context(request: HttpRequest, *, job: EvaluationJob) -> dict:
    """The same for one polled row (a running job that may have just finished)."""
    if not request.user.has_perm(DELETE):
        return {"selectable": False}
    selection = SelectionState.load(request).to_selection()
    selected = set()
    if job.can_delete and not selection.is_empty:
        selected = services.evaluation_job_selected_ids(
            selection=selection, resource_ids=[job.resource_id]
        )
    return {"selectable": True, "selected_ids": selected}


def _back_to(request: HttpRequest, fallback: str) -> str:
    return back_url(request, fallback)


@requires(DELETE)
@require_http_methods(["GET", "POST"])
def evaluation_job_delete_selection(request: HttpRequest) -> HttpResponse:
    """GET: the selection bar, counted (the list asks for it after the table). POST: change
    the selection with one page's ticks (`page_job`: the page's selectable rows, `job`: the
    ticked ones) and an `action`: sync (default), page, all (the list's filter `query`),
    clear, save, or review (then the confirmation page)."""
    data = request.POST if request.method == "POST" else request.GET
    query = data.get("query", "") if request.method == "POST" else request.GET.urlencode()
    list_filters = _parse_filters(query)
    state = SelectionState.load(request)
    if request.method == "GET":
        bar = _selection_bar(state, list_filters=list_filters, counted=True)
        return render(request, f"{LIST_TEMPLATE}#selection-bar", _bar_context(bar))

    action = request.POST.get("action", "sync")
    page_ids = _ids(request.POST.getlist("page_job"))
    ticked = _ids(request.POST.getlist("job")) & page_ids
    before = SelectionState(**asdict(state))
    selected_filter = state.to_selection().filters
    matching = (
        services.evaluation_job_filter_matches(filters=selected_filter, resource_ids=page_ids)
        if selected_filter is not None and action not in ("clear", "all")
        else set()
    )
    if action == "clear":
        state = SelectionState()
    elif action == "page":
        state.sync_page(page_ids, page_ids, matching=matching)
    elif action == "all" and list_filters is not None:
        held = services.evaluation_job_filter_matches(filters=list_filters, resource_ids=state.ids)
        state.select_matching(list_filters, matching=held)
    else:
        state.sync_page(page_ids, ticked, matching=matching)
    error = ""
    if len(state.ids) > MAX_PICKED:
        error = (
            f"At most {MAX_PICKED:,} jobs can be picked one by one. To delete more, filter the "
            "list and select all matching jobs."
        )
        state = before
    else:
        state.save(request)

    if action == "review" and not error:
        return redirect("evaluation_job_delete_confirm")
    list_url = reverse("evaluation_job_list")
    if request.htmx:
        if action in ("page", "all", "clear") and not error:
            # Reload the table where it is, to show the new ticks (no history entry).
            spec = {
                "path": _back_to(request, list_url),
                "target": "#job-table",
                "swap": "outerHTML",
                "push": "false",
            }
            response = HttpResponse("")
            response["HX-Location"] = json.dumps(spec)
            return response
        bar = replace(_selection_bar(state, list_filters=list_filters, counted=True), error=error)
        return render(request, f"{LIST_TEMPLATE}#selection-bar", _bar_context(bar))
    if error:
        messages.error(request, error)
    return redirect(_back_to(request, list_url))


def _bar_context(bar: SelectionBar) -> dict:
    return {"selection": bar, "selection_url": reverse("evaluation_job_delete_selection")}


# --- Confirmation ---------------------------------------------------------------------------


def _typed_number(text: str) -> int | None:
    """The count typed to confirm: ASCII digits (with , . _ ' or spaces between thousands), at
    most 12 of them; anything else ("²", a 5,000-digit number) is no count."""
    digits = re.sub(r"[\s,._']", "", text[:100] if text else "")
    return int(digits) if re.fullmatch(r"[0-9]{1,12}", digits) else None


@requires(DELETE)
@require_http_methods(["GET", "POST"])
def evaluation_job_delete_confirm(request: HttpRequest) -> HttpResponse:
    """What deleting the selection would do, and the form that does it. `?job=<id>` (from a
    job's page) confirms those jobs alone and leaves the list's selection as it is."""
    data = request.POST if request.method == "POST" else request.GET
    picked = _ids(data.getlist("job"))
    state = SelectionState.load(request)
    selection = services.Selection(ids=frozenset(picked)) if picked else state.to_selection()
    error = ""
    if request.method == "POST":
        key = request.POST.get("key", "")
        if not KEY.fullmatch(key):
            return HttpResponseBadRequest("This form is damaged: reload the page.")
        existing = services.deletion_batch_for_key(idempotency_key=key)
        if existing is not None:
            # The same confirmation again (double click, Back and resubmit): its batch.
            return redirect("deletion_batch_detail", batch_id=existing.pk)
        preview = services.evaluation_job_deletion_preview(selection=selection)
        if not picked and request.POST.get("rev", "") != state.rev:
            error = (
                "The selection changed since this page was shown (in another tab?). "
                "Check what it holds now, then confirm again."
            )
        elif not preview.to_delete:
            error = "Nothing in this selection can be deleted."
        elif (
            preview.needs_typed_count
            and _typed_number(request.POST.get("typed", "")) != preview.to_delete
        ):
            error = f"Type the number of jobs to delete, {preview.to_delete:,}, to confirm."
        else:
            batch, _ = services.deletion_batch_create(
                selection=selection, user=request.user, idempotency_key=key
            )
            if not picked:
                SelectionState.forget(request)
            return redirect("deletion_batch_detail", batch_id=batch.pk)
    else:
        preview = services.evaluation_job_deletion_preview(selection=selection)
    context = {
        "preview": preview,
        "picked": sorted(picked),
        "rev": state.rev,
        "key": uuid.uuid4().hex,
        "error": error,
        "typed_above": services.CONFIRM_TYPED_ABOVE,
        "list_url": reverse("evaluation_job_list"),
    }
    return render(request, CONFIRM_TEMPLATE, context, status=200)


# --- Batches --------------------------------------------------------------------------------


def _batch_or_404(batch_id: int) -> DeletionBatch:
    batch = services.deletion_batch_get(batch_id=batch_id)
    if batch is None:
        raise Http404(f"No deletion #{batch_id}.")
    return batch


@dataclass(frozen=True)
class ItemRow:
    item: DeletionItem
    url: str


@requires(DELETE)
@require_GET
def deletion_batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    """A batch's progress: counts, a bar, and its items, polled while it runs."""
    batch = _batch_or_404(batch_id)
    base = batch.get_absolute_url()
    outcome = request.GET.get("outcome", "")
    outcome = outcome if outcome in OUTCOMES else ""
    token = request.GET.get("page") or None
    outcome_params = {"outcome": outcome}
    try:
        page = services.deletion_batch_items(
            batch=batch, outcome=outcome, token=token, size=ITEMS_PER_PAGE
        )
    except PageTokenError as exc:
        return render(
            request,
            "400.html",
            {
                "problem": exc.title,
                "explanation": exc.explanation,
                "back_url": link(base, outcome_params),
                "back_label": "Go to the first page of this deletion's items",
            },
            status=400,
        )
    counts = services.deletion_batch_counts(batch=batch)
    tabs = [
        {"outcome": o, "label": label, "count": n, "url": link(base, {"outcome": o})}
        for o, label, n in (
            ("", "All", counts.total),
            (DeletionItem.PENDING, "Pending", counts.pending),
            (DeletionItem.DELETED, "Deleted", counts.deleted),
            (DeletionItem.FAILED, "Failed", counts.failed),
            (DeletionItem.SKIPPED, "Skipped", counts.skipped),
        )
    ]
    context = {
        "batch": batch,
        "wait": services.deletion_batch_wait(batch=batch),
        "kind": services.KINDS[batch.kind],
        "counts": counts,
        "rows": [
            ItemRow(item, services.deletion_item_url(batch=batch, item=item)) for item in page.items
        ],
        "page": page,
        "outcome": outcome,
        "tabs": tabs,
        "live_url": link(base, outcome_params, page=token),
        "first_url": link(base, outcome_params),
        "next_url": link(base, outcome_params, page=page.next_token) if page.next_token else "",
        "prev_url": link(base, outcome_params, page=page.prev_token) if page.prev_token else "",
        "retry_url": reverse("deletion_batch_retry", args=[batch.pk]),
        "batches_url": reverse("deletion_batch_list"),
        "now": timezone.now(),
    }
    htmx = request.htmx
    partial = htmx and not htmx.history_restore_request and htmx.target == "batch-live"
    template = f"{BATCH_TEMPLATE}#batch-live" if partial else BATCH_TEMPLATE
    return render(request, template, context)


@requires(DELETE)
@require_POST
def deletion_batch_retry(request: HttpRequest, batch_id: int) -> HttpResponse:
    """A new batch for this one's failed items."""
    batch = _batch_or_404(batch_id)
    if not batch.is_finished:
        messages.error(request, "Wait for this deletion to finish before retrying its failures.")
        return redirect("deletion_batch_detail", batch_id=batch.pk)
    retry = services.deletion_batch_retry_failed(batch=batch, user=request.user)
    if retry is None:
        messages.info(request, "Nothing failed in this deletion: there is nothing to retry.")
        return redirect("deletion_batch_detail", batch_id=batch.pk)
    return redirect("deletion_batch_detail", batch_id=retry.pk)


@requires(DELETE)
@require_GET
def deletion_batch_list(request: HttpRequest) -> HttpResponse:
    """Recent deletions, newest first, with who ran them."""
    base = reverse("deletion_batch_list")
    token = request.GET.get("page") or None
    try:
        page = services.deletion_batch_list(token=token)
    except PageTokenError as exc:
        return render(
            request,
            "400.html",
            {
                "problem": exc.title,
                "explanation": exc.explanation,
                "back_url": base,
                "back_label": "Go to the most recent deletions",
            },
            status=400,
        )
    context = {
        "page": page,
        "first_url": base,
        "next_url": link(base, page=page.next_token) if page.next_token else "",
        "prev_url": link(base, page=page.prev_token) if page.prev_token else "",
        "list_url": reverse("evaluation_job_list"),
        "now": timezone.now(),
    }
    return render(request, BATCHES_TEMPLATE, context)
