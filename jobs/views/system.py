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
    ok, body = health.health()
    return JsonResponse(body, status=200 if ok else 503)
