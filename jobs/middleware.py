"""Our 404 page under DEBUG too.

With DEBUG on (`make run`), Django answers an Http404 with its technical page (every URL
pattern, the exception's text): a person following a stale job link in the demo should see the
same page as in production. Django 6.1 has no setting for this (`handler404` is used only with
DEBUG off, django.core.handlers.exception.response_for_exception), so this middleware renders
templates/404.html through Django's own `page_not_found` view for an Http404 a view raised
(process_exception) and for an address no URL pattern matches.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.defaults import page_not_found


class NotFoundPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and getattr(request, "resolver_match", None) is None
            and not request.path.startswith(settings.STATIC_URL or "/static/")
        ):
            # No pattern matched: Django's debug page, which would list every URL pattern.
            return page_not_found(request, Http404())
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if settings.DEBUG and isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None
