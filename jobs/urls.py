from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import path, register_converter
from django.utils.functional import lazy
from django.views.generic import RedirectView

from jobs.converters import ConnectionNameConverter, FormKindConverter, ResourceIdConverter
from jobs.views import (
    connections,
    deletions,
    evaluation_jobs,
    evaluation_new,
    evaluation_submit,
    mirror,
    model_import_submit,
    model_imports,
    system,
)
from jobs.views import results as result_views

DELETE_MODELS = "imported_model_delete"

# <rid:job_id>: only an ARN's last segment reaches a view; anything else is a 404 (converters.py).
register_converter(ResourceIdConverter, "rid")
register_converter(ConnectionNameConverter, "connection")
register_converter(FormKindConverter, "formkind")

urlpatterns = [
    path("", system.home, name="home"),
    path("healthz", system.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages without an icon link (e.g. /healthz's JSON).
    path(
        "favicon.ico",
        # Resolved per request: with hashed static names the manifest exists only after
        # collectstatic, which must not be needed to import the URLconf.
        login_not_required(
            RedirectView.as_view(url=lazy(static, str)("favicon.svg"), permanent=True)
        ),
    ),
    # Evaluation jobs. Fixed paths before <job_id>, which is the ARN's last segment.
    *mirror.list_urls(evaluation_jobs.LIST, "evaluation-jobs/"),
    # Building and submitting jobs (jobs/views/evaluation_submit.py).
    path("evaluation-jobs/new/", evaluation_new.evaluation_job_new, name="evaluation_job_new"),
    path(
        "evaluation-jobs/new/<formkind:kind>/",
        evaluation_submit.evaluation_job_form,
        name="evaluation_job_form",
    ),
    path(
        "evaluation-jobs/new/<formkind:kind>/validate/",
        evaluation_submit.evaluation_job_form_validate,
        name="evaluation_job_form_validate",
    ),
    path(
        "evaluation-jobs/new/<formkind:kind>/section/",
        evaluation_submit.evaluation_job_form_section,
        name="evaluation_job_form_section",
    ),
    path(
        "evaluation-jobs/new/<formkind:kind>/submit/",
        evaluation_submit.evaluation_job_submit,
        name="evaluation_job_submit",
    ),
    path(
        "evaluation-jobs/submissions/<int:pk>/",
        evaluation_new.evaluation_job_submission,
        name="evaluation_job_submission",
    ),
    path(
        "evaluation-jobs/<rid:job_id>/clone/",
        evaluation_new.evaluation_job_clone,
        name="evaluation_job_clone",
    ),
    path(
        "evaluation-jobs/stop/",
        evaluation_jobs.evaluation_job_stop_selection,
        name="evaluation_job_stop_selection",
    ),
    # Evaluation results (jobs/views/results.py): before <job_id>/, as "compare" is a path.
    path(
        "evaluation-jobs/compare/",
        result_views.evaluation_job_compare,
        name="evaluation_job_compare",
    ),
    path(
        "evaluation-jobs/compare.csv",
        result_views.evaluation_job_compare_csv,
        name="evaluation_job_compare_csv",
    ),
    path(
        "evaluation-jobs/<rid:job_id>/results/",
        result_views.evaluation_job_result_records,
        name="evaluation_job_result_records",
    ),
    path(
        "evaluation-jobs/<rid:job_id>/results/section/",
        result_views.evaluation_job_results_section,
        name="evaluation_job_results_section",
    ),
    path(
        "evaluation-jobs/<rid:job_id>/results/retry/",
        result_views.evaluation_job_results_retry,
        name="evaluation_job_results_retry",
    ),
    path(
        "evaluation-jobs/<rid:job_id>/results.csv",
        result_views.evaluation_job_results_csv,
        name="evaluation_job_results_csv",
    ),
    path(
        "evaluation-jobs/<rid:job_id>/results.json",
        result_views.evaluation_job_results_json,
        name="evaluation_job_results_json",
    ),
    *mirror.detail_urls(evaluation_jobs.DETAIL, "evaluation-jobs/"),
    path(
        "evaluation-jobs/<rid:job_id>/stop/",
        evaluation_jobs.evaluation_job_stop,
        name="evaluation_job_stop",
    ),
    # Model import jobs (jobs/views/model_imports.py, model_import_submit.py). Fixed paths
    # before <job_id>.
    *mirror.list_urls(model_imports.IMPORT_JOBS, "import-jobs/"),
    *model_import_submit.urls("import-jobs/"),
    *mirror.detail_urls(model_imports.IMPORT_JOB, "import-jobs/"),
    # Imported models. Deleting them (Admins) records a deletion batch (see deletions/).
    *mirror.list_urls(model_imports.IMPORTED_MODELS, "imported-models/"),
    path("imported-models/delete/", model_imports.imported_model_delete, name=DELETE_MODELS),
    *mirror.detail_urls(model_imports.IMPORTED_MODEL, "imported-models/"),
    # Bulk deletion (jobs/views/deletions.py): Admins only.
    path("deletions/", deletions.deletion_batch_list, name="deletion_batch_list"),
    path(
        "deletions/evaluation/selection/",
        deletions.evaluation_job_delete_selection,
        name="evaluation_job_delete_selection",
    ),
    path(
        "deletions/evaluation/confirm/",
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
    # Connections (accounts x regions, jobs/views/connections.py): Admins only.
    path("connections/", connections.connection_list, name="connection_list"),
    path(
        "connections/<connection:name>/check/",
        connections.connection_check,
        name="connection_check",
    ),
]
