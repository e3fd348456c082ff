"""The URLs of bench/bare_site.py: the dashboard's, and the bare case's view."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.urls import include, path
from django.utils import timezone

from jobs.selectors.evaluation_jobs import EvaluationJobFilters, evaluation_job_list


@login_not_required
def bare_rows(request):
    page = evaluation_job_list(filters=EvaluationJobFilters(), size=50, token=None)
    return render(
        request, "jobs/evaluation_job_list.html#rows", {"page": page, "now": timezone.now()}
    )


urlpatterns = [
    path("bench/bare/", bare_rows),
    path("", include("dashboard.urls")),
]
