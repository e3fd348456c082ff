"""The Connections page (Admins): every configured connection, how it gets credentials (never
the credentials), its endpoints, the account STS says it is, its last sweeps and last error,
with "Check now" to ask STS again."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from jobs.connections import UnknownConnection
from jobs.connections.services import connection_check as connection_check_service
from jobs.permissions import CONNECTIONS, requires
from jobs.selectors.connections import connection_list as connection_list_selector
from jobs.selectors.connections import connection_row

TEMPLATE = "jobs/connection_list.html"


@requires(CONNECTIONS)
@require_GET
def connection_list(request: HttpRequest) -> HttpResponse:
    return render(request, TEMPLATE, {"rows": connection_list_selector(), "now": timezone.now()})


@requires(CONNECTIONS)
@require_POST
def connection_check(request: HttpRequest, name: str) -> HttpResponse:
    """Ask STS who the connection is now. htmx: its row again; otherwise back to the page."""
    try:
        status = connection_check_service(name=name)
    except UnknownConnection:
        raise Http404("No connection has that name.") from None
    if request.htmx:
        row = connection_row(name=status.name)
        return render(request, f"{TEMPLATE}#connection-row", {"row": row, "now": timezone.now()})
    if status.error_code:
        messages.error(request, f"{status.name}: {status.error_code}: {status.error_message}")
    else:
        messages.success(
            request, f"{status.name} is account {status.account} ({status.caller_arn})."
        )
    return redirect("connection_list")
