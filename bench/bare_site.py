"""The floor under the list page, for bench/web_load.py's "bare" case: the dashboard's own URLs
plus one bare view that reads the same 50 rows as /evaluation-jobs/ (the same query, the same
columns) and renders them with the same row partial, and nothing else: no permission check,
no session or user read, no sync header, chips, filters, selection or base template. What
the list page costs above it is what the dashboard adds.

Used as gunicorn's settings module (DJANGO_SETTINGS_MODULE=bench.bare_site): the dashboard's
settings with this module as the URLconf.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.urls import include, path
from django.utils import timezone

from dashboard.settings import *  # noqa: F403 - the dashboard's settings, unchanged

ROOT_URLCONF = "bench.bare_site"


@login_not_required
def bare_rows(request):
    from jobs.selectors.evaluation_jobs import EvaluationJobFilters, evaluation_job_list

    page = evaluation_job_list(filters=EvaluationJobFilters(), size=50, token=None)
    return render(
        request, "jobs/evaluation_job_list.html#rows", {"page": page, "now": timezone.now()}
    )


urlpatterns = [
    path("bench/bare/", bare_rows),
    path("", include("dashboard.urls")),
]
