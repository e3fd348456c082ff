from django.urls import path

from jobs.views import deletions, evaluation_jobs, evaluation_submit, system

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
    # Building and submitting jobs (jobs/views/evaluation_submit.py).
    path("evaluation-jobs/new/", evaluation_submit.evaluation_job_new, name="evaluation_job_new"),
    path(
        "evaluation-jobs/new/<str:kind>/",
        evaluation_submit.evaluation_job_form,
        name="evaluation_job_form",
    ),
    path(
        "evaluation-jobs/new/<str:kind>/validate/",
        evaluation_submit.evaluation_job_form_validate,
        name="evaluation_job_form_validate",
    ),
    path(
        "evaluation-jobs/new/<str:kind>/section/",
        evaluation_submit.evaluation_job_form_section,
        name="evaluation_job_form_section",
    ),
    path(
        "evaluation-jobs/new/<str:kind>/submit/",
        evaluation_submit.evaluation_job_submit,
        name="evaluation_job_submit",
    ),
    path(
        "evaluation-jobs/submissions/<int:pk>/",
        evaluation_submit.evaluation_job_submission,
        name="evaluation_job_submission",
    ),
    path(
        "evaluation-jobs/<str:job_id>/clone/",
        evaluation_submit.evaluation_job_clone,
        name="evaluation_job_clone",
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
    # Bulk deletion (jobs/views/deletions.py): Admins only.
    path("deletions/", deletions.deletion_batch_list, name="deletion_batch_list"),
    path(
        "deletions/evaluation-jobs/selection/",
        deletions.evaluation_job_delete_selection,
        name="evaluation_job_delete_selection",
    ),
    path(
        "deletions/evaluation-jobs/confirm/",
        deletions.evaluation_job_delete_confirm,
        name="evaluation_job_delete_confirm",
    ),
    path(
        "deletions/<int:batch_id>/", deletions.deletion_batch_detail, name="deletion_batch_detail"
    ),
    path(
        "deletions/<int:batch_id>/retry/",
        deletions.deletion_batch_retry,
        name="deletion_batch_retry",
    ),
]
