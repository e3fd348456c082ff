"""The one helper that builds links with a query string: list filters, tabs and pages (as the
admin changelist's get_query_string does for its filters)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode


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
