from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from jobs import health
from jobs.permissions import BROWSE, requires


@require_GET
@requires(BROWSE)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "jobs/home.html")


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Up or down for anyone (a load balancer); which check failed and why, endpoints and
    timings only after login: they tell an outsider where the backends are."""
    ok, body = health.health()
    if not request.user.is_authenticated:
        body = {"status": body["status"]}
    return JsonResponse(body, status=200 if ok else 503)
