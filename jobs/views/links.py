"""The one helper that builds links with a query string: list filters, tabs and pages (as the
admin changelist's get_query_string does for its filters)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def query_string(params: Mapping[str, Any] | None = None, *, page: str | None = None) -> str:
    """The query string for `params` (a list repeats its key; empty values are left out)
    followed by `page`: "?a=1&b=2&b=3&page=<token>", or "" when there is nothing. A page
    token (django.core.signing) is URL-safe as it is, so it is kept as it is."""
    parts = []
    params = {key: value for key, value in (params or {}).items() if value}
    if params:
        parts.append(urlencode(params, doseq=True))
    if page:
        parts.append(urlencode({"page": page}, safe=":"))
    return "?" + "&".join(parts) if parts else ""


def link(base: str, params: Mapping[str, Any] | None = None, *, page: str | None = None) -> str:
    """`base` with the query string of `params` and `page` (see query_string)."""
    return base + query_string(params, page=page)


def back_url(request: HttpRequest, fallback: str) -> str:
    """The POSTed `next` (where a no-JS form returns to) if it is a path on this site, else
    `fallback`. A path, not just a "safe" URL: redirect() would take a bare word ("NaN") for
    a view name and fail; nor anything a Location header cannot carry."""
    target = request.POST.get("next", "")
    if (
        target.startswith("/")
        and len(target) <= 2000
        and target.isprintable()
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return fallback
