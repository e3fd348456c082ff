"""The sync state in a list page's header: when the last sweep ended (or why it failed), a
sweep under way, and Refresh (`sync_state_page`, `refresh_page`). Part of the pages every
mirrored kind shares (jobs/views/mirror.py, which routes to these)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from jobs import page_cache, sync
from jobs.models import SyncRun
from jobs.templatetags.job_format import ago_text
from jobs.views.links import back_url

if TYPE_CHECKING:
    from jobs.views.mirror import MirrorList

LIST_TEMPLATE = "jobs/mirror_list.html"
# The header stops waiting for a sweep after this long (the table still refreshes on reload).
SYNC_WAIT_SECONDS = 120


# --- Sync state in the header ----------------------------------------------------------------


@dataclass(frozen=True)
class SyncBanner:
    text: str
    tone: str  # ok | error | running | never
    title: str = ""
    # While set, the header polls until a sweep newer than run `wait_after` has finished.
    wait_after: int | None = None
    wait_since: int = 0
    # The text around the time of the sweep it names: the page keeps "N s ago" true by
    # itself (static/js/app.js), between two answers of the live channel.
    before: str = ""
    when: dt.datetime | None = None
    after: str = ""

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
        if when is None:
            return SyncBanner(text="Syncing with Bedrock…", tone="running", **waiting)
        before, after = "Syncing with Bedrock… (last synced ", ")"
        tone = "running"
    elif run is None:
        return SyncBanner(text="Not synced with Bedrock yet.", tone="never", **waiting)
    elif run.error:
        before, after, tone = "Last sync failed ", f": {run.error}", "error"
    else:
        before, after, tone = "Synced ", "", "ok"
    return SyncBanner(
        text=f"{before}{ago_text(when, now)}{after}",
        tone=tone,
        title="" if running else title,
        before=before,
        when=when,
        after=after,
        **waiting,
    )


def header_state(spec: MirrorList) -> tuple[SyncRun | None, bool]:
    """The kind's latest finished sweep and whether one runs, cached a few seconds
    (jobs.page_cache: dropped when a sweep ends or a lock changes)."""
    header = page_cache.sync_header(
        kind=spec.kind,
        read=lambda: (sync.sync_state(kind=spec.kind), sync.sync_running(kind=spec.kind)),
    )
    return header.run, header.running


def initial_banner(spec: MirrorList, *, run: SyncRun | None, running: bool) -> SyncBanner:
    if running:
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


def waited_banner(
    request: HttpRequest, run: SyncRun | None, running: bool
) -> tuple[SyncBanner, bool, bool]:
    """The header for a page that may be waiting for a sweep after Refresh (?after=<run id>
    &since=<time>): (banner, whether that sweep has finished, whether it was waiting)."""
    try:
        after: int | None = int(request.GET["after"])
        since = int(request.GET.get("since", "0"))
    except (KeyError, ValueError):
        after, since = None, 0
    done = after is not None and run is not None and run.pk > after
    if after is None or done:
        return sync_banner(run, running=running), done, after is not None
    return sync_banner(run, running=True, wait_after=after, wait_since=since), done, True


def sync_state_page(request: HttpRequest, spec: MirrorList) -> HttpResponse:
    """The header's sync state. While waiting (?after=<run id>), polled until a newer sweep
    has finished; then it tells the table to reload (HX-Trigger: jobs-synced)."""
    run = sync.sync_state(kind=spec.kind)
    running = sync.sync_running(kind=spec.kind)
    banner, done, _ = waited_banner(request, run, running)
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
        response = render(request, f"{LIST_TEMPLATE}#sync-state", context)
        # The page's live channel follows the sweep from here (it reads the wait from the
        # header: static/js/app.js), and reloads the table when it ends.
        response["HX-Trigger"] = "live-now"
        return response
    messages.info(request, note.replace("…", "; reload the page in a few seconds."))
    return redirect(back_url(request, spec.url()))
