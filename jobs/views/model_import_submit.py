"""Importing a model: the form (CreateModelImportJob, checked against the contract before
anything is sent), the review step with the exact request, the submission (idempotent,
through jobs.submissions like evaluation jobs), and its progress page. Operators only.

The steps every create form shares are jobs/views/submitting.py's; this module has what is
the import's own: its fields, the names it must not reuse, and where its pages are.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jobs import submissions
from jobs.forms.model_import import ModelImportJobForm
from jobs.models import EvaluationJobSubmission
from jobs.permissions import OPERATE, requires
from jobs.selectors import model_imports as selectors
from jobs.views import submitting
from jobs.views.links import link

FORM_TEMPLATE = "jobs/model_import_job_form.html"
REVIEW_TEMPLATE = "jobs/request_review.html"
SUBMISSION_TEMPLATE = "jobs/model_import_job_submission.html"
SALT = "jobs.model_import_job_review"
SUBMISSION = "model_import_job_submission"
# The form's sections: title, fields.
SECTIONS = [
    ("Job and model", ["name", "imported_model_name"]),
    ("Model data", ["model_data_uri", "role_arn"]),
    ("Network (optional)", ["subnet_ids", "security_group_ids"]),
    ("Encryption and tags", ["kms_key", "job_tags", "model_tags"]),
]


def _bind(data: Any) -> ModelImportJobForm:
    return ModelImportJobForm(
        data,
        name_taken=lambda name: submissions.model_import_job_name_taken(name=name),
        model_name_taken=lambda name: selectors.imported_model_name_taken(name=name),
    )


def _urls() -> dict[str, str]:
    form = reverse("model_import_job_new")
    return {"form": form, "submit": f"{form}submit/", "list": reverse("model_import_job_list")}


def _render_form(
    request: HttpRequest, form: ModelImportJobForm, *, show_errors: bool, notice: str = ""
) -> HttpResponse:
    """The form; with `show_errors`, its errors, listed at the top too."""
    errors: list[tuple[Any, str]] = []
    if show_errors and form.is_bound and not form.is_valid():
        errors = [(None, e) for e in form.non_field_errors()]
        errors += [(form[name], e) for name in form.fields for e in form.errors.get(name, [])]
    context = {
        "form": form,
        "sections": [(title, [form[name] for name in names]) for title, names in SECTIONS],
        "show_errors": show_errors,
        "error_summary": errors,
        "urls": _urls(),
        "running": selectors.model_import_jobs_running(limit=3),
        "notice": notice,
    }
    return render(request, FORM_TEMPLATE, context)


def _outcome(
    request: HttpRequest, submission: EvaluationJobSubmission, *, data: dict | None
) -> HttpResponse:
    """Where a submission sends the person; a failed one, back to its form with the error."""
    response = submitting.submission_redirect(
        request, submission, detail="model_import_job_detail", progress=SUBMISSION
    )
    if response is not None:
        return response
    form = ModelImportJobForm(data or ModelImportJobForm.initial_for(submission.request))
    submitting.report_failure(form, submission)
    return _render_form(request, form, show_errors=True)


@requires(OPERATE)
@require_http_methods(["GET", "POST"])
def model_import_job_new(request: HttpRequest) -> HttpResponse:
    """GET: an empty form (or, with ?submission=<id>, a failed submission's request with
    Bedrock's error on its field). POST: review (errors on the form, or the review page), or
    back from the review page to edit."""
    if request.method == "GET":
        if (pk := request.GET.get("submission", "")).isascii() and pk.isdigit() and len(pk) < 19:
            submission = submitting.submission_or_404(pk=int(pk), kind=submissions.MODEL_IMPORT)
            return _outcome(request, submission, data=None)
        return _render_form(request, _bind(None), show_errors=False)
    if request.POST.get("_action") == "edit":
        try:
            _, data = submitting.read_review_payload(
                request.POST.get("payload", ""), salt=SALT, max_age=None
            )
        except signing.BadSignature:
            return submitting.bad_review(request, back_url=_urls()["form"])
        return _render_form(request, _bind(data), show_errors=False)
    data = {name: request.POST.get(name, "") for name in ModelImportJobForm.base_fields}
    form = _bind(data)
    if not form.is_valid():
        return _render_form(request, form, show_errors=True)
    payload = submitting.review_payload(salt=SALT, key=uuid.uuid4().hex, data=data)
    context = submitting.review_context(
        job_request=form.build_request(), cli="create-model-import-job", payload=payload
    )
    operation = ModelImportJobForm.operation
    context |= {"urls": _urls(), "list_label": "Import jobs", "operation": operation}
    running = next(iter(selectors.model_import_jobs_running(limit=1)), None)
    if running is not None:
        # Concurrent model import jobs: 1, not adjustable.
        # https://docs.aws.amazon.com/general/latest/gr/bedrock.html#limits_bedrock
        context["quota_warning"] = (
            f"The import job {running.name} is still in progress, and Bedrock runs one import "
            "at a time: it will refuse this one until that one ends."
        )
    return render(request, REVIEW_TEMPLATE, context)


@requires(OPERATE)
@require_POST
def model_import_job_submit(request: HttpRequest) -> HttpResponse:
    """Submit a reviewed request. The same review page posted again (two clicks, Back, two
    tabs) finds the submission its key made and answers with it: one job, never two."""
    blob = request.POST.get("payload", "")
    try:
        key, data = submitting.read_review_payload(blob, salt=SALT)
    except signing.SignatureExpired:
        _, data = submitting.read_review_payload(blob, salt=SALT, max_age=None)
        notice = "That review page was more than a day old: check the job and review it again."
        return _render_form(request, _bind(data), show_errors=True, notice=notice)
    except signing.BadSignature:
        return submitting.bad_review(request, back_url=_urls()["form"])
    form = _bind(data)
    # The key's submission, if this page was posted before; else the form checked again
    # (names may have been taken since the review) and submitted.
    submission = submissions.evaluation_job_submission_get(idempotency_key=key)
    if submission is None and form.is_valid():
        submission = submissions.model_import_job_submit(
            request=form.build_request(), user=request.user, idempotency_key=key
        )
    if submission is None:
        # A concurrent POST of this page may have submitted it meanwhile (and so taken the
        # name): its submission, rather than "name taken".
        submission = submissions.evaluation_job_submission_get(idempotency_key=key)
    if submission is None:
        return _render_form(request, form, show_errors=True)
    return _outcome(request, submission, data=data)


@requires(OPERATE)
@require_GET
def model_import_job_submission(request: HttpRequest, pk: int) -> HttpResponse:
    submission = submitting.submission_or_404(pk=pk, kind=submissions.MODEL_IMPORT)
    return submitting.submission_page(
        request,
        submission,
        template=SUBMISSION_TEMPLATE,
        detail="model_import_job_detail",
        edit_url=link(_urls()["form"], {"submission": submission.pk}),
        list_url=_urls()["list"],
    )


def urls(prefix: str) -> list[URLPattern]:
    """The form, its submit and a submission's page, under `prefix` ("import-jobs/")."""
    return [
        path(f"{prefix}new/", model_import_job_new, name="model_import_job_new"),
        path(f"{prefix}new/submit/", model_import_job_submit, name="model_import_job_submit"),
        path(f"{prefix}submissions/<int:pk>/", model_import_job_submission, name=SUBMISSION),
    ]
