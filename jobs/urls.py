from django.urls import path

from jobs.views import evaluation_jobs, system

urlpatterns = [
    path("", system.home, name="home"),
    path("healthz", system.healthz, name="healthz"),
    # Evaluation jobs. Fixed paths before <job_id>, which is the ARN's last segment.
    path("evaluation-jobs/", evaluation_jobs.evaluation_job_list, name="evaluation_job_list"),
    path(
        "evaluation-jobs/counts/",
        evaluation_jobs.evaluation_job_counts,
        name="evaluation_job_counts",
    ),
    path(
        "evaluation-jobs/sync/",
        evaluation_jobs.evaluation_jobs_sync_state,
        name="evaluation_jobs_sync_state",
    ),
    path(
        "evaluation-jobs/refresh/",
        evaluation_jobs.evaluation_jobs_refresh,
        name="evaluation_jobs_refresh",
    ),
    path(
        "evaluation-jobs/<str:job_id>/",
        evaluation_jobs.evaluation_job_detail,
        name="evaluation_job_detail",
    ),
    path(
        "evaluation-jobs/<str:job_id>/status/",
        evaluation_jobs.evaluation_job_status,
        name="evaluation_job_status",
    ),
    path(
        "evaluation-jobs/<str:job_id>/row/",
        evaluation_jobs.evaluation_job_row,
        name="evaluation_job_row",
    ),
    path(
        "evaluation-jobs/<str:job_id>/stop/",
        evaluation_jobs.evaluation_job_stop,
        name="evaluation_job_stop",
    ),
]
