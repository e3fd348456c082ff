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
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from jobs.bedrock import client as bedrock
from jobs.bedrock.errors import BedrockError
from jobs.models import MirroredResource, SyncRun
from jobs.pagination import KeysetPage, PageTokenError
from jobs.permissions import BROWSE, OPERATE, requires
from jobs.selectors.mirror import StatusChip, audit_entries
from jobs.tags import mirrored_tags, tags_refresh_request
from jobs.views import pages
from jobs.views.filters import MirrorFilterForm, filter_params, sort_params, status_params
from jobs.views.links import link, query_string
from jobs.views.sync_header import (
    LIST_TEMPLATE,
    SyncBanner,
    header_state,
    initial_banner,
    refresh_page,
    sync_context,
    sync_state_page,
    waited_banner,
)

log = logging.getLogger(__name__)

DETAIL_TEMPLATE = "jobs/mirror_detail.html"
# A running resource's description older than this is fetched again when its page asks for
# its status, so a person watching sees InProgress turn Completed within a poll or two.
DESCRIPTION_MAX_AGE = dt.timedelta(seconds=3)
# A running resource's page asks this often (its description is at most DESCRIPTION_MAX_AGE old).
DETAIL_LIVE_SECONDS = 3


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
    # Many rows by id in one query (resource_ids=), for the live channel; kinds whose rows
    # never run leave it out.
    rows: Callable[..., list[MirroredResource]] | None = None
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


# --- The live channel ---------------------------------------------------------------------------
#
# One request per interval per page, whatever it shows: the page's #live element carries the
# revision it shows (each running row's summary digest, the sweep it names in its header, a
# sweep it waits for) in its URL; the answer holds only what changed, as htmx out-of-band
# swaps (rows, status chips, header), and a new #live element that polls again while
# something on the page can still change, or stops. Plain polling rather than server-sent
# events: behind gunicorn's sync workers an open event stream holds a whole worker per tab.

LIVE_MAX_ROWS = 200  # a page shows at most 100; more in a URL is garbage
LIVE_ROW = re.compile(r"([a-z0-9]{1,64})\.([0-9a-z]{1,9})")
LIVE_REV = re.compile(r"[0-9]{1,18}-[01]")


def live_seconds() -> int:
    return int(getattr(settings, "LIVE_POLL_SECONDS", 5))


def row_revision(obj: Any) -> str:
    """What the live channel compares: the digest of what Bedrock said of the row (a Get that
    changed nothing keeps it), and whether Bedrock still lists it."""
    digest = getattr(obj, "summary_digest", "") or "0"
    return f"{digest[:8]}{'l' if obj.listed else 'v'}"


def banner_revision(run: SyncRun | None, running: bool) -> str:
    return f"{run.pk if run else 0}-{int(running)}"


@dataclass(frozen=True)
class Live:
    """The page's #live element: where it asks, and whether it polls at all."""

    url: str
    active: bool
    seconds: int


def _is_live_row(obj: Any) -> bool:
    return bool(getattr(obj, "is_running", False) and obj.listed)


def live_state(
    spec: MirrorList,
    *,
    params: dict,
    rows: list,
    banner: SyncBanner,
    rev: str,
    comparable: bool = False,
    preparing: bool = False,
) -> Live:
    """The #live element of a page showing `rows` under the filter `params`."""
    running = [obj for obj in rows if _is_live_row(obj)] if spec.rows else []
    state = {
        **params,
        "rev": rev,
        "row": [f"{obj.resource_id}.{row_revision(obj)}" for obj in running],
        "cmp": "1" if comparable else "",
        "prep": "1" if preparing else "",
    }
    url = link(reverse(f"{spec.plural}_live"), state)
    active = bool(running) or banner.polling or preparing
    return Live(url=url, active=active, seconds=live_seconds())


def _shown_rows(request: HttpRequest) -> dict[str, str]:
    shown: dict[str, str] = {}
    for value in request.GET.getlist("row")[:LIVE_MAX_ROWS]:
        match = LIVE_ROW.fullmatch(value)
        if match:
            shown[match.group(1)] = match.group(2)
    return shown


def live_page(request: HttpRequest, spec: MirrorList) -> HttpResponse:
    """What changed on a list page since the revision its #live element names."""
    form = spec.form(request.GET)
    filters = form.to_filters() if form.is_valid() else None
    size = form.page_size if filters is not None else 0
    params = filter_params(filters, size=size) if filters is not None else {}
    shown = _shown_rows(request)
    comparable = request.GET.get("cmp") == "1"

    # The header: the sweep it names, and a sweep it waits for after Refresh.
    run, running = header_state(spec)
    rev = banner_revision(run, running)
    shown_rev = request.GET.get("rev", "")
    banner, done, waiting = waited_banner(request, run, running)
    header_changed = rev != shown_rev or waiting

    # The running rows it shows, as they are now.
    current = spec.rows(resource_ids=list(shown)) if spec.rows and shown else []
    if spec.freshen:
        current = [spec.freshen(obj) for obj in current]
    changed = [obj for obj in current if row_revision(obj) != shown.get(obj.resource_id)]
    gone = sorted(set(shown) - {obj.resource_id for obj in current})

    preparing = False
    reload_table = done
    if request.GET.get("prep") == "1" and spec.prepare:
        preparing = spec.prepare() is not None
        reload_table |= not preparing  # what it waited for ended: the table shows it

    context: dict = {
        "oob": True,
        "now": timezone.now(),
        "words": spec.words,
        "changed_rows": changed,
        "gone_rows": gone,
        "row_template": f"{spec.columns}#job-row",
        "header": header_changed,
    }
    if changed:
        if spec.table_context and filters is not None:
            context.update(spec.table_context(request, filters=filters, items=changed))
        elif spec.row_context:
            context.update(spec.row_context(request, changed[0]))
        context["comparable"] = comparable
    if header_changed:
        context.update(sync_context(spec, banner, request))
    if spec.counts and filters is not None and (header_changed or changed or gone):
        context.update(chips_context(spec, filters=filters, size=size))
        context["chips_oob"] = True
    still = [obj for obj in current if _is_live_row(obj)]
    context["live"] = live_state(
        spec,
        params=params,
        rows=still,
        banner=banner,
        rev=rev,
        comparable=comparable,
        preparing=preparing,
    )
    response = render(request, f"{LIST_TEMPLATE}#live-response", context)
    if reload_table:
        response["HX-Trigger"] = "jobs-synced"
    return response


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
    preparing = bool(spec.prepare and spec.prepare() is not None)
    run, running = header_state(spec)
    banner = initial_banner(spec, run=run, running=running)
    live: dict = {"params": {}, "rows": []}
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
        live = {"params": params, "rows": page.items}
    else:
        context.update(query="", current_url=request.get_full_path())
    context["live"] = live_state(
        spec,
        **live,
        banner=banner,
        rev=banner_revision(run, running),
        comparable=bool(context.get("comparable")),
        preparing=preparing,
    )
    if partial != "job-table":
        context["controls"] = form.controls()
    if partial is None:
        context.update(sync_context(spec, banner, request))
    template = f"{LIST_TEMPLATE}#{partial}" if partial else LIST_TEMPLATE
    response = render(request, template, context)
    # The same URL answers a full page or a partial: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    if partial and request.get_full_path() != context["current_url"]:
        # A submitted form sends every field, empty ones too: the address bar gets the
        # short form of the same filter instead.
        response["HX-Push-Url"] = context["current_url"]
    return response


def chips_context(spec: MirrorList, *, filters: Any, size: int) -> dict:
    """The status chips of `filters` (bounded counts: jobs.selectors.mirror.status_counts)."""
    list_url = spec.url()
    chips = [
        {"chip": chip, "url": link(list_url, status_params(filters, status=chip.status, size=size))}
        for chip in spec.counts(filters=filters)
    ]
    return {
        "chips": chips,
        "all_url": link(list_url, status_params(filters, status=None, size=size)),
        "any_selected": bool(filters.statuses),
    }


def counts_page(request: HttpRequest, spec: MirrorList) -> HttpResponse:
    """Status chips for the current filter, requested by the page after the table."""
    form = spec.form(request.GET)
    context: dict = {"chips": [], "all_url": spec.url(), "any_selected": False}
    if form.is_valid() and spec.counts:
        context = chips_context(spec, filters=form.to_filters(), size=form.page_size)
    context["words"] = spec.words
    return render(request, f"{LIST_TEMPLATE}#status-counts", context)


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
        # On the request path: a short, bounded call (see bedrock.client.on_request_path), so
        # a slow or unreachable Bedrock costs the page seconds, and the page says so.
        with bedrock.on_request_path():
            return spec.describe(obj), None
    except BedrockError as exc:
        log.warning("describing %s failed: %s", obj.arn, exc)
        return obj, exc


def _status_context(
    spec: MirrorDetail, obj: Any, request: HttpRequest, error: BedrockError | None
) -> dict:
    status_url = obj.get_absolute_url() + "status/"
    live = Live(
        url=link(status_url, {"rev": row_revision(obj)}),
        active=bool(obj.listed and getattr(obj, "is_running", False)),
        seconds=DETAIL_LIVE_SECONDS,
    )
    return {
        "live": live,
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
    # Tags come from the mirror; none yet or old ones: a worker reads them (never this request).
    tags = mirrored_tags(obj=obj)
    tags_refresh_request(kind=spec.list.kind, obj=obj)
    context = _status_context(spec, obj, request, error) | {
        "tags": tags.tags,
        "tags_synced_at": tags.synced_at,
        "audit_entries": audit_entries(arn=obj.arn),
        "list_url": spec.list.url(),
        "sections": spec.sections,
        "operation": spec.operation,
        "head_actions": spec.head_actions(request, obj),
    }
    return render(request, DETAIL_TEMPLATE, context)


def status_page(request: HttpRequest, spec: MirrorDetail, resource_id: str) -> HttpResponse:
    """A resource page's live channel, while it runs: its status block if it changed since
    the revision the page shows (?rev=), out of band, and the next #live. Without ?rev, the
    status block alone."""
    obj, error = describe_if_needed(spec, get_or_404(spec.list, resource_id))
    context = _status_context(spec, obj, request, error)
    shown = request.GET.get("rev")
    if shown is None:
        return render(request, f"{DETAIL_TEMPLATE}#job-status", context)
    context |= {"oob": True, "changed": shown != row_revision(obj) or error is not None}
    return render(request, f"{DETAIL_TEMPLATE}#status-live-response", context)


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
    urls.append(
        path(f"{prefix}live/", _view(require_GET, live_page, spec), name=f"{spec.plural}_live")
    )
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
