"""Model import jobs and imported models: what their lists and pages show (jobs/views/mirror.py
makes their views and URLs), and deleting imported models: a DeletionBatch of kind
"imported_models", run by the deletion task; its progress page is the deletions' own.

Import jobs cannot be stopped or deleted; imported models can be deleted, one from its page
or a selection from the list (Admins).
"""

from __future__ import annotations

import re
import uuid

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from jobs import deletions, model_imports, sync
from jobs.models import ImportedModel
from jobs.permissions import DELETE, requires
from jobs.selectors import model_imports as selectors
from jobs.views import mirror
from jobs.views.filters import ImportedModelFilterForm, ModelImportJobFilterForm
from jobs.views.links import link
from jobs.views.mirror import Action

CONFIRM_TEMPLATE = "jobs/imported_model_delete.html"
KEY = re.compile(r"[0-9a-f]{32}")
RESOURCE_ID = re.compile(r"[a-z0-9]{1,64}")
# Models picked on one confirmation: a page of the list at most.
MAX_PICKED = 100

IMPORT_JOBS = mirror.MirrorList(
    kind=selectors.IMPORT_JOBS,
    name="model_import_job",
    form=ModelImportJobFilterForm,
    page=selectors.model_import_job_list,
    get=selectors.model_import_job_get,
    rows=selectors.model_import_job_rows,
    counts=selectors.model_import_job_status_counts,
    head=(
        ("Name", ""),
        ("Status", ""),
        ("Region", "opt place"),
        ("Account", "opt place"),
        ("Imported model", ""),
        ("Ended", "opt"),
    ),
    new=("model_import_job_new", "Import a model"),
    freshen=lambda job: model_imports.model_import_job_freshen(job=job),
    words=mirror.Words(
        "Import jobs",
        "model import job",
        lede=(
            "Custom model import jobs in Bedrock, as of the last sync. Bedrock runs one at a "
            "time; they can be neither stopped nor deleted."
        ),
        empty="or import a model.",
    ),
)

IMPORT_JOB = mirror.MirrorDetail(
    list=IMPORT_JOBS,
    operation="GetModelImportJob",
    describe=lambda job: model_imports.model_import_job_describe(job=job),
    layout=lambda obj: selectors.model_import_job_layout(job=obj),
)


def _table_selection(request: HttpRequest, **kwargs) -> dict:
    """Checkboxes and a "Delete selected" button for Admins."""
    if not request.user.has_perm(DELETE):
        return {"selectable": False}
    return {"selectable": True, "delete_url": reverse("imported_model_delete")}


IMPORTED_MODELS = mirror.MirrorList(
    kind=selectors.IMPORTED_MODELS,
    name="imported_model",
    form=ImportedModelFilterForm,
    page=selectors.imported_model_list,
    get=selectors.imported_model_get,
    head=(
        ("Name", ""),
        ("Region", "opt place"),
        ("Account", "opt place"),
        ("Architecture", ""),
        ("Instruct", "opt"),
    ),
    id_arg="model_id",
    new=("model_import_job_new", "Import a model"),
    table_context=_table_selection,
    row_context=lambda request, model: _table_selection(request),
    # While an import runs, the list polls, and shows the model the moment the import ends.
    prepare=lambda: 5 if model_imports.model_import_jobs_freshen() else None,
    words=mirror.Words(
        "Imported models",
        "imported model",
        short="model",
        lede="Custom models imported into Bedrock, as of the last sync.",
        empty="or import a model.",
    ),
)


def _model_actions(request: HttpRequest, model: ImportedModel) -> list[Action]:
    if not (model.can_delete and request.user.has_perm(DELETE)):
        return []
    url = link(reverse("imported_model_delete"), {"model": model.resource_id})
    return [Action("Delete…", url, "danger-outline")]


IMPORTED_MODEL = mirror.MirrorDetail(
    list=IMPORTED_MODELS,
    operation="GetImportedModel",
    describe=lambda model: sync.imported_model_describe(model=model),
    layout=lambda obj: selectors.imported_model_layout(model=obj),
    status_actions=_model_actions,
)


@requires(DELETE)
@require_http_methods(["GET", "POST"])
def imported_model_delete(request: HttpRequest) -> HttpResponse:
    """GET ?model=<id>&model=...: what would be deleted, and the form that does it. POST:
    record the deletion (once per page shown) and go to its progress page."""
    data = request.POST if request.method == "POST" else request.GET
    picked = sorted({m for m in data.getlist("model") if RESOURCE_ID.fullmatch(m)})[:MAX_PICKED]
    models = selectors.imported_models_by_id(resource_ids=picked)
    if request.method == "POST":
        key = request.POST.get("key", "")
        if not KEY.fullmatch(key):
            return HttpResponseBadRequest("This form is damaged: reload the page.")
        existing = deletions.deletion_batch_for_key(idempotency_key=key)
        if existing is None and models:
            n = len(models)
            existing, _ = deletions.deletion_batch_create(
                selection=deletions.Selection(ids=frozenset(m.resource_id for m in models)),
                user=request.user,
                idempotency_key=key,
                kind=deletions.KIND_IMPORTED_MODELS,
                description=f"{n} imported model{'s' if n != 1 else ''} picked one by one",
            )
        if existing is not None:
            return redirect("deletion_batch_detail", batch_id=existing.pk)
    context = {
        "models": models,
        "missing": len(picked) - len(models),
        "key": uuid.uuid4().hex,
        "list_url": IMPORTED_MODELS.url(),
        "jobs_url": IMPORT_JOBS.url(),
    }
    return render(request, CONFIRM_TEMPLATE, context)
