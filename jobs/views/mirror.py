"""The pages every mirrored kind shares: its list (filters in the URL, keyset pages, status
chips, the sync header with Refresh, polled rows) and one resource's page (described on
demand, live status, tags, audit). A kind describes itself once (`MirrorList`,
`MirrorDetail`); `list_urls` and `detail_urls` make its thin views and their URLs.

Templates: every list page is jobs/mirror_list.html, every detail page
jobs/mirror_detail.html; a kind's own templates hold only what differs, as named partials
(the list's "results", "rows" and "job-row"; the detail page's "overview" and "described").
htmx requests get a named partial of the page they came from.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from jobs import sync
from jobs.bedrock.errors import BedrockError
from jobs.models import MirroredResource, SyncRun
from jobs.pagination import KeysetPage, PageTokenError
from jobs.permissions import BROWSE, OPERATE, requires
from jobs.selectors.mirror import StatusChip, audit_entries
from jobs.tags import resource_tags
from jobs.templatetags.job_format import ago_text
from jobs.views import pages
from jobs.views.filters import MirrorFilterForm, filter_params, sort_params, status_params
from jobs.views.links import back_url, link, query_string

log = logging.getLogger(__name__)

LIST_TEMPLATE = "jobs/mirror_list.html"
DETAIL_TEMPLATE = "jobs/mirror_detail.html"
# A running resource's description older than this is fetched again when its page asks for
# its status, so a person watching sees InProgress turn Completed within a poll or two.
DESCRIPTION_MAX_AGE = dt.timedelta(seconds=3)
# The header stops waiting for a sweep after this long (the table still refreshes on reload).
SYNC_WAIT_SECONDS = 120


def optional_url(name: str, *args: Any) -> str | None:
    """The URL of a page another part of the dashboard provides, if it is installed."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


@dataclass(frozen=True)
class Words:
    """What a kind's pages call it: its list's title ("Evaluation jobs"), one of it
    ("evaluation job"), the short word where the page says which kind ("job"), the list's
    lede, and the empty mirror's advice (after "It syncs every N s; ...")."""

    title: str
    one: str
    short: str = "job"
    lede: str = ""
    empty: str = ""

    @property
    def short_plural(self) -> str:
        return f"{self.short}s"


@dataclass(frozen=True, kw_only=True)
class MirrorList:
    """One kind's list page: what it reads and where its URLs are.

    `name` ("evaluation_job") names its URLs and templates: URLs `<name>_list`,
    `<name>_counts` (status chips, kinds with a status), `<name>s_sync_state`,
    `<name>s_refresh`, `<name>_detail`...; the kind's templates jobs/<name>_list.html (its
    partials "results": what goes around mirror_list.html's "table"; "rows"; "job-row": one
    row, also polled while it runs) and jobs/<name>_detail.html ("overview" and "described").
    """

    kind: str  # the sync kind (jobs.sync.KINDS)
    name: str
    words: Words
    form: type[MirrorFilterForm]
    # The kind's reads (jobs/selectors/): a keyset page, one row (or None), and, for kinds
    # with a status, the status chips.
    page: Callable[..., KeysetPage]  # (filters=, size=, token=)
    get: Callable[..., MirroredResource | None]  # (resource_id=)
    counts: Callable[..., list[StatusChip]] | None = None  # (filters=)
    # The table's columns before "Created": (label, CSS class). Its rows are the kind's.
    head: tuple[tuple[str, str], ...]
    # Refresh: ask for a sweep (jobs.sync.sync_request of the kind unless given).
    sync_request: Callable[[], bool] | None = None
    # A button to create one (URL name and label), for Operators.
    new: tuple[str, str] | None = None
    # Extra context for the table and for one polled row (bulk selection, say).
    table_context: Callable[..., dict] | None = None
    row_context: Callable[..., dict] | None = None
    # Run before the table is read: returns seconds after which the table should fetch
    # itself again (something it shows is about to change), or None.
    prepare: Callable[[], int | None] | None = None
    # A polled row's resource brought up to date before it is shown.
    freshen: Callable[[Any], Any] | None = None
    # The URL keyword of a resource's id ("job_id": /evaluation-jobs/<job_id>/).
    id_arg: str = "job_id"

    @property
    def plural(self) -> str:
        return f"{self.name}s"

    @property
    def columns(self) -> str:
        return f"jobs/{self.name}_list.html"

    def url(self) -> str:
        return reverse(f"{self.name}_list")


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


def sync_banner(
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


def initial_banner(spec: MirrorList) -> SyncBanner:
    run = sync.sync_state(kind=spec.kind)
    if sync.sync_running(kind=spec.kind):
        # A sweep is under way: follow it, and reload the table when it ends.
        after = run.pk if run else 0
        return sync_banner(run, running=True, wait_after=after, wait_since=int(time.time()))
    return sync_banner(run, running=False)


def sync_context(spec: MirrorList, banner: SyncBanner, request: HttpRequest) -> dict:
    list_url = spec.url()
    # Where the no-JS Refresh form returns to: the list as the person sees it.
    if request.path == list_url:
        next_url = request.get_full_path()
    elif request.htmx and request.htmx.current_url_abs_path:
        next_url = request.htmx.current_url_abs_path
    else:
        next_url = list_url
    return {
        "sync": banner,
        "sync_next": next_url,
        "sync_url": reverse(f"{spec.plural}_sync_state"),
        "refresh_url": reverse(f"{spec.plural}_refresh"),
        "sync_seconds": getattr(settings, "SYNC_INTERVAL_SECONDS", 30),
    }


def sync_state_page(request: HttpRequest, spec: MirrorList) -> HttpResponse:
    """The header's sync state. While waiting (?after=<run id>), polled until a newer sweep
    has finished; then it tells the table to reload (HX-Trigger: jobs-synced)."""
    run = sync.sync_state(kind=spec.kind)
    running = sync.sync_running(kind=spec.kind)
    try:
        after: int | None = int(request.GET["after"])
        since = int(request.GET.get("since", "0"))
    except (KeyError, ValueError):
        after, since = None, 0
    done = after is not None and run is not None and run.pk > after
    if done or after is None:
        banner = sync_banner(run, running=running)
    else:
        banner = sync_banner(run, running=True, wait_after=after, wait_since=since)
    response = render(request, f"{LIST_TEMPLATE}#sync-state", sync_context(spec, banner, request))
    if done:
        response["HX-Trigger"] = "jobs-synced"
    return response


def refresh_page(request: HttpRequest, spec: MirrorList) -> HttpResponse:
    """Start a sweep now (Viewers may: it only reads Bedrock), then wait for it to end."""
    before = sync.sync_state(kind=spec.kind)
    requested = spec.sync_request() if spec.sync_request else sync.sync_request(kind=spec.kind)
    if requested:
        note = "Sync requested; the table updates when it ends…"
    else:
        note = "A sync is already running; the table updates when it ends…"
    if request.htmx:
        banner = sync_banner(
            before,
            running=True,
            wait_after=before.pk if before else 0,
            wait_since=int(time.time()),
            note=note,
        )
        context = sync_context(spec, banner, request)
        return render(request, f"{LIST_TEMPLATE}#sync-state", context)
    messages.info(request, note.replace("…", "; reload the page in a few seconds."))
    return redirect(back_url(request, spec.url()))


# --- The list ---------------------------------------------------------------------------------


def _list_partial(request: HttpRequest) -> str | None:
    """Which part of the list page an htmx request wants: filter changes and pages swap the
    table; status chips and "clear filters" swap the form too, so it shows the new filter."""
    htmx = request.htmx
    if not htmx or htmx.history_restore_request or htmx.boosted:
        return None
    return "job-browser" if htmx.target == "job-browser" else "job-table"


def bad_page_token(
    request: HttpRequest, exc: PageTokenError, first_page: str, back_label: str
) -> HttpResponse:
    """The 400 page for a page token that cannot be used, with a way back."""
    if request.htmx and not request.htmx.history_restore_request:
        # htmx does not swap a 400: send the browser to the full explanation instead.
        return HttpResponseClientRedirect(request.get_full_path())
    return pages.problem_page(
        request,
        problem=exc.title,
        explanation=exc.explanation,
        back_url=first_page,
        back_label=back_label,
    )


def list_page(request: HttpRequest, spec: MirrorList) -> HttpResponse:
    form = spec.form(request.GET)
    partial = _list_partial(request)
    list_url = spec.url()
    context: dict = {
        "form": form,
        "list_url": list_url,
        "counts_url": reverse(f"{spec.name}_counts") if spec.counts else "",
        "results_template": f"{spec.columns}#results",
        "rows_template": f"{spec.columns}#rows",
        "head": spec.head,
        "words": spec.words,
        "now": timezone.now(),
    }
    if spec.new and request.user.has_perm(OPERATE):
        context.update(new_url=reverse(spec.new[0]), new_label=spec.new[1])
    if spec.prepare:
        context["poll_seconds"] = spec.prepare()
    if form.is_valid():
        filters, size = form.to_filters(), form.page_size
        params = filter_params(filters, size=size)
        token = request.GET.get("page") or None
        try:
            page = spec.page(filters=filters, size=size, token=token)
        except PageTokenError as exc:
            return bad_page_token(
                request, exc, link(list_url, params), "Go to the first page of these results"
            )
        context.update(
            current_url=link(list_url, params, page=token),
            filters=filters,
            page=page,
            query=query_string(params),
            first_url=link(list_url, params),
            next_url=link(list_url, params, page=page.next_token) if page.next_token else "",
            prev_url=link(list_url, params, page=page.prev_token) if page.prev_token else "",
            sort_url=link(list_url, sort_params(filters, size=size)),
            # An empty page one with no filter means the mirror is empty; otherwise say why.
            mirror_empty=not page.items and not filters.is_filtered and page.is_first,
        )
        if spec.table_context:
            context.update(spec.table_context(request, filters=filters, items=page.items))
    else:
        context.update(query="", current_url=request.get_full_path())
    if partial != "job-table":
        context["controls"] = form.controls()
    if partial is None:
        context.update(sync_context(spec, initial_banner(spec), request))
    template = f"{LIST_TEMPLATE}#{partial}" if partial else LIST_TEMPLATE
    response = render(request, template, context)
    # The same URL answers a full page or a partial: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    if partial and request.get_full_path() != context["current_url"]:
        # A submitted form sends every field, empty ones too: the address bar gets the
        # short form of the same filter instead.
        response["HX-Push-Url"] = context["current_url"]
    return response


def counts_page(request: HttpRequest, spec: MirrorList) -> HttpResponse:
    """Status chips for the current filter, requested by the page after the table."""
    form = spec.form(request.GET)
    chips: list[dict] = []
    list_url = spec.url()
    if form.is_valid() and spec.counts:
        filters, size = form.to_filters(), form.page_size
        chips = [
            {
                "chip": chip,
                "url": link(list_url, status_params(filters, status=chip.status, size=size)),
            }
            for chip in spec.counts(filters=filters)
        ]
        all_url = link(list_url, status_params(filters, status=None, size=size))
        any_selected = bool(filters.statuses)
    else:
        all_url, any_selected = list_url, False
    return render(
        request,
        f"{LIST_TEMPLATE}#status-counts",
        {"chips": chips, "all_url": all_url, "any_selected": any_selected, "words": spec.words},
    )


def row_page(request: HttpRequest, spec: MirrorList, resource_id: str) -> HttpResponse:
    """One list row, polled while it runs; rendered without its poll once terminal."""
    obj = spec.get(resource_id=resource_id)
    if obj is None:
        return HttpResponse("")  # swapping the row for nothing removes it and its poll
    if spec.freshen:
        obj = spec.freshen(obj)
    context = {"job": obj, "now": timezone.now()}
    if spec.row_context:
        context.update(spec.row_context(request, obj))
    return render(request, f"{spec.columns}#job-row", context)


# --- One resource -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """A button on a resource's page: a POST form (with an optional confirm question) or a
    link."""

    label: str
    url: str
    css: str
    post: bool = False
    confirm: str = ""
    title: str = ""


@dataclass(frozen=True, kw_only=True)
class MirrorDetail:
    """One kind's detail page."""

    list: MirrorList
    # Bedrock's Get operation, named on the raw JSON card.
    operation: str
    # (obj=) -> the layout for the kind's template.
    layout: Callable[..., Any]
    # (obj) -> obj described now, from Bedrock's Get (raises BedrockError).
    describe: Callable[[Any], Any]
    # Buttons: in the header (Clone...) and beside the status (Stop, Delete...).
    head_actions: Callable[[HttpRequest, Any], list[Action]] = lambda request, obj: []
    status_actions: Callable[[HttpRequest, Any], list[Action]] = lambda request, obj: []

    @property
    def sections(self) -> str:
        return f"jobs/{self.list.name}_detail.html"


def get_or_404(spec: MirrorList, resource_id: str) -> Any:
    obj = spec.get(resource_id=resource_id)
    if obj is None:
        raise Http404(f"No {spec.words.one} {resource_id} in the mirror.")
    return obj


def describe_if_needed(spec: MirrorDetail, obj: Any) -> tuple[Any, BedrockError | None]:
    """Fetch the description now if it was never fetched, if a sweep saw the resource change
    since (needs_description), or if it is running and what we have is older than
    DESCRIPTION_MAX_AGE. A Bedrock failure is returned, not raised."""
    running = getattr(obj, "is_running", False)
    stale = (
        obj.described_at is None
        or obj.needs_description
        or (running and timezone.now() - obj.described_at > DESCRIPTION_MAX_AGE)
    )
    if obj.description is not None and not stale:
        return obj, None
    if not obj.listed:
        return obj, None  # Bedrock no longer has it
    try:
        return spec.describe(obj), None
    except BedrockError as exc:
        log.warning("describing %s failed: %s", obj.arn, exc)
        return obj, exc


def _status_context(
    spec: MirrorDetail, obj: Any, request: HttpRequest, error: BedrockError | None
) -> dict:
    return {
        "obj": obj,
        "layout": spec.layout(obj=obj),
        "describe_error": error,
        "status_url": obj.get_absolute_url() + "status/",
        "status_actions": spec.status_actions(request, obj),
        "has_status": spec.list.counts is not None,
        "words": spec.list.words,
        "now": timezone.now(),
    }


def detail_page(request: HttpRequest, spec: MirrorDetail, resource_id: str) -> HttpResponse:
    obj, error = describe_if_needed(spec, get_or_404(spec.list, resource_id))
    tags = resource_tags(obj=obj)
    context = _status_context(spec, obj, request, error) | {
        "tags": tags.tags,
        "tags_error": tags.error,
        "audit_entries": audit_entries(arn=obj.arn),
        "list_url": spec.list.url(),
        "sections": spec.sections,
        "operation": spec.operation,
        "head_actions": spec.head_actions(request, obj),
    }
    return render(request, DETAIL_TEMPLATE, context)


def status_page(request: HttpRequest, spec: MirrorDetail, resource_id: str) -> HttpResponse:
    """The status block of a resource's page, polled while it runs."""
    obj, error = describe_if_needed(spec, get_or_404(spec.list, resource_id))
    context = _status_context(spec, obj, request, error)
    return render(request, f"{DETAIL_TEMPLATE}#job-status", context)


# --- Views and URLs ----------------------------------------------------------------------------


def _view(method: Callable, page: Callable, spec: Any) -> Callable[..., HttpResponse]:
    """A thin view: `page(request, spec, resource id)`, after the method and role checks."""

    @method
    @requires(BROWSE)
    def view(request: HttpRequest, **ids: str) -> HttpResponse:
        return page(request, spec, *ids.values())

    return view


def list_urls(spec: MirrorList, prefix: str) -> list[URLPattern]:
    """The list's URLs under `prefix` ("evaluation-jobs/"): the page, its status chips (kinds
    with a status), the sync state and Refresh (Viewers may refresh: it only reads Bedrock)."""
    urls = [
        path(prefix, _view(require_GET, list_page, spec), name=f"{spec.name}_list"),
        path(
            f"{prefix}sync/",
            _view(require_GET, sync_state_page, spec),
            name=f"{spec.plural}_sync_state",
        ),
        path(
            f"{prefix}refresh/",
            _view(require_POST, refresh_page, spec),
            name=f"{spec.plural}_refresh",
        ),
    ]
    if spec.counts:
        view = _view(require_GET, counts_page, spec)
        urls.append(path(f"{prefix}counts/", view, name=f"{spec.name}_counts"))
    return urls


def detail_urls(spec: MirrorDetail, prefix: str) -> list[URLPattern]:
    """One resource's URLs under `prefix`: its page, its polled status block and list row.
    After the list's fixed paths (a resource id would match "new")."""
    one = f"{prefix}<rid:{spec.list.id_arg}>/"
    name = spec.list.name
    return [
        path(one, _view(require_GET, detail_page, spec), name=f"{name}_detail"),
        path(f"{one}status/", _view(require_GET, status_page, spec), name=f"{name}_status"),
        path(f"{one}row/", _view(require_GET, row_page, spec.list), name=f"{name}_row"),
    ]
