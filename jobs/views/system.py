from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from jobs import health
from jobs.permissions import BROWSE, DELETE, requires
from jobs.selectors.overview import overview


@require_GET
@requires(BROWSE)
def home(request: HttpRequest) -> HttpResponse:
    """The overview: counts, running jobs, recent failures, last sweeps, deletions in progress
    (for those who may delete), each linking to its filtered list."""
    data = overview(with_deletions=request.user.has_perm(DELETE))
    return render(request, "jobs/home.html", {"overview": data})


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
