"""Building and submitting evaluation jobs: one form per kind (rows added and removed with
htmx or, without JavaScript, by submit buttons that re-render the form), the live check of a
field, the review step with the exact request, and the submission. The kind chooser, a
submission's progress page and Clone are jobs/views/evaluation_new.py.

Each view parses the request, binds the form, renders. The forms (jobs.forms) own every rule
and the page's layout (jobs/forms/evaluation/layout.py); the htmx wiring is declared in the
template. The review page carries the form data in one signed blob, with the idempotency
key that makes a second POST of the same page find the first submission, not another job.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from jobs import submissions
from jobs.bedrock import rules
from jobs.forms import FORMS, form_data, formset_data
from jobs.forms.evaluation import EvaluationJobForm, layout
from jobs.models import EvaluationJob, EvaluationJobSubmission
from jobs.permissions import OPERATE, requires
from jobs.selectors.evaluation_jobs import evaluation_job_running_usage
from jobs.views import submitting

FORM_TEMPLATE = "jobs/evaluation_job_form.html"
# jobs/request_review.html, with its defaults (Evaluation jobs, CreateEvaluationJob).
REVIEW_TEMPLATE = "jobs/request_review.html"

PAYLOAD_SALT = "jobs.evaluation_job_review"

# The event a custom metric's new name raises (HX-Trigger), for the datasets' metric choices.
METRIC_NAMES_CHANGED = "metric-names-changed"


def _form_class(kind: str) -> type[EvaluationJobForm]:
    try:
        return FORMS[kind]
    except KeyError:
        raise Http404(f"No evaluation job kind {kind!r}.") from None


def name_taken_in_mirror(name: str) -> bool:
    return submissions.evaluation_job_name_taken(name=name)


def bind(kind: str, data: QueryDict, *, name_taken: bool = True) -> EvaluationJobForm:
    return _form_class(kind)(data, name_taken=name_taken_in_mirror if name_taken else None)


def _encode_payload(kind: str, data: QueryDict, key: str) -> str:
    fields = {k: data.getlist(k) for k in data}
    return submitting.review_payload(salt=PAYLOAD_SALT, key=key, data=fields, kind=kind)


def _decode_payload(
    blob: str, *, kind: str, max_age: int | None = submitting.REVIEW_MAX_AGE_SECONDS
) -> tuple[str, QueryDict]:
    """(key, form data) from a review payload made for `kind` (see submitting)."""
    key, data = submitting.read_review_payload(blob, salt=PAYLOAD_SALT, max_age=max_age, kind=kind)
    return key, formset_data.as_querydict(data)


def _urls(kind: str) -> dict[str, str]:
    return {
        "form": reverse("evaluation_job_form", args=[kind]),
        "validate": reverse("evaluation_job_form_validate", args=[kind]),
        "section": reverse("evaluation_job_form_section", args=[kind]),
        "submit": reverse("evaluation_job_submit", args=[kind]),
        "new": reverse("evaluation_job_new"),
        "list": reverse("evaluation_job_list"),
    }


def _form_context(
    form: EvaluationJobForm,
    *,
    show_errors: bool,
    title: str = "",
    clone_of: EvaluationJob | None = None,
    notice: str = "",
) -> dict[str, Any]:
    kind = form.kind
    summary = []
    if show_errors and form.is_bound and not form.check_all():
        summary = layout.error_summary(form)
    return {
        "form": form,
        "kind": kind,
        "kind_label": rules.KIND_LABELS[kind],
        "urls": _urls(kind),
        "live_trigger": submitting.LIVE_TRIGGER,
        "show_errors": show_errors,
        "error_summary": summary,
        **layout.sections(form, show_errors=show_errors),
        "title": title or "New evaluation job",
        "metric_names_changed": METRIC_NAMES_CHANGED,
        "choices_vals": json.dumps({"part": "choices"}),
        "clone_of": clone_of,
        "notice": notice,
        "quota": evaluation_job_running_usage(kind=kind),
    }


def render_form(request: HttpRequest, form: EvaluationJobForm, **kwargs: Any) -> HttpResponse:
    return render(request, FORM_TEMPLATE, _form_context(form, **kwargs))


def _render_parts(request: HttpRequest, form: EvaluationJobForm, parts: list[str]) -> HttpResponse:
    """Named partials of the form page for htmx, without errors: "formset:<name>" (a
    formset's section, the swap target), or "choices[:<row>]" (layout.choice_fields, out of
    band: only choices, never a box the user may be typing in)."""
    context = _form_context(form, show_errors=False)
    html = []
    for part in parts:
        what, _, name = part.partition(":")
        if what == "formset" and name in context["formsets"]:
            fs = context["formsets"][name]
            fs_context = {**context, "fs": fs}
            html.append(render_to_string(f"{FORM_TEMPLATE}#formset", fs_context, request=request))
        elif what == "choices":
            for bound in layout.choice_fields(form, row=name):
                oob = {**context, "f": bound, "field_oob": True}
                html.append(render_to_string(f"{FORM_TEMPLATE}#field", oob, request=request))
    return HttpResponse("".join(html))


# --- the form ----------------------------------------------------------


@requires(OPERATE)
@require_http_methods(["GET", "POST"])
def evaluation_job_form(request: HttpRequest, kind: str) -> HttpResponse:
    """GET: an empty form (or, with ?submission=<id>, a failed submission's data with
    Bedrock's error on its field). POST: add or remove a row, come back from the review
    page, or review: errors on the form, or the review page."""
    form_class = _form_class(kind)
    if request.method == "GET":
        pk = submitting.submission_param(request)
        if pk is not None:
            return _failed_submission_form(request, kind, pk)
        return render_form(request, form_class(name_taken=name_taken_in_mirror), show_errors=False)

    action = request.POST.get("_action", "review")
    if action == "edit":
        return _back_to_edit(request, kind)
    data = submitting.form_fields(request.POST)
    formset_data.drop_deleted_rows(form_class, data)
    verb, prefix, row = formset_data.parse_action(form_class, action)
    if verb in {"add", "remove", "refresh"}:
        if verb == "add" and prefix:
            formset_data.add_row(form_class, data, prefix)
        elif verb == "remove" and prefix and row is not None:
            formset_data.remove_row(form_class, data, prefix, row)
        form = bind(kind, data)
        if request.htmx and prefix:
            parts = [f"formset:{prefix}"]
            if prefix == "custom_metrics":
                parts.append("choices")  # the datasets may list the custom metrics by name
            return _render_parts(request, form, parts)
        return render_form(request, form, show_errors=False)

    form = bind(kind, data)
    if not form.check_all():
        return render_form(request, form, show_errors=True)
    return _render_review(request, form, data)


def _render_review(request: HttpRequest, form: EvaluationJobForm, data: QueryDict) -> HttpResponse:
    context = submitting.review_context(
        job_request=form.build_request(),
        cli="create-evaluation-job",
        payload=_encode_payload(form.kind, data, uuid.uuid4().hex),
    )
    context |= {
        "summary": layout.request_in_words(context["job_request"]),
        "kind": form.kind,
        "kind_label": rules.KIND_LABELS[form.kind],
        "urls": _urls(form.kind),
        "quota_warning": evaluation_job_running_usage(kind=form.kind).warning,
    }
    return render(request, REVIEW_TEMPLATE, context)


def _back_to_edit(request: HttpRequest, kind: str) -> HttpResponse:
    try:
        _, data = _decode_payload(request.POST.get("payload", ""), kind=kind, max_age=None)
    except signing.BadSignature:
        return _bad_payload(request, kind)
    return render_form(request, bind(kind, data), show_errors=False)


def _bad_payload(request: HttpRequest, kind: str) -> HttpResponse:
    return submitting.bad_review(request, back_url=reverse("evaluation_job_form", args=[kind]))


@requires(OPERATE)
@require_POST
def evaluation_job_form_validate(request: HttpRequest, kind: str) -> HttpResponse:
    """The errors of the one field the user is typing in (htmx sends its name), judged with
    the whole form: field checks, the contract at the field's own path, and, once every field
    is filled in, the contract and rules across the request. The job name is also checked
    against the names in use."""
    form = bind(kind, submitting.form_fields(request.POST))
    name = submitting.live_field_name(request)
    bound = form.find_field(name)
    if bound is None:
        return HttpResponse("")
    context = {"f": bound, "live": True, "live_errors": form.field_errors(bound)}
    if request.POST.get("_summary"):
        # The page shows the summary of the last Review: it follows the fields.
        context["summary_oob"] = layout.error_summary(form)
    response = render(request, f"{FORM_TEMPLATE}#field-errors", context)
    if re.fullmatch(r"custom_metrics-\d+-name", name) and "datasets" in form.formsets:
        # Datasets offer the custom metrics by name: the page's refresher (an element no swap
        # replaces) asks for their choices again.
        response["HX-Trigger"] = METRIC_NAMES_CHANGED
    return response


@requires(OPERATE)
@require_POST
def evaluation_job_form_section(request: HttpRequest, kind: str) -> HttpResponse:
    """Choices re-rendered from the posted data, out of band: a dataset row's built-in datasets
    and metrics after its task type changed ("choices:datasets-0"), or every row's metrics
    after a RAG job's source changed ("choices")."""
    form = bind(kind, submitting.form_fields(request.POST))
    part = request.POST.get("part", "")
    if part != "choices" and not part.startswith("choices:"):
        return HttpResponse("", status=400)
    return _render_parts(request, form, [part])


# --- review and submit ----------------------------------------------------------------------


@requires(OPERATE)
@require_POST
def evaluation_job_submit(request: HttpRequest, kind: str) -> HttpResponse:
    """Submit a reviewed request. The same review page posted again (two clicks, Back, two
    tabs) finds the submission its key made and answers with it: one job, never two."""
    form_class = _form_class(kind)
    blob = request.POST.get("payload", "")
    try:
        key, data = _decode_payload(blob, kind=kind)
    except signing.SignatureExpired:
        try:
            _, data = _decode_payload(blob, kind=kind, max_age=None)
        except signing.BadSignature:
            return _bad_payload(request, kind)
        form = bind(kind, data)
        form.is_valid()
        notice = "That review page was more than a day old: check the job and review it again."
        return render_form(request, form, show_errors=True, notice=notice)
    except signing.BadSignature:
        return _bad_payload(request, kind)
    existing = submissions.evaluation_job_submission_get(idempotency_key=key)
    if existing is not None:
        return _submission_response(request, existing, data=data)
    form = form_class(data, name_taken=name_taken_in_mirror)
    if not form.is_valid():
        # A concurrent POST of this same page may have submitted it (its job now holds the
        # name): answer with that submission rather than with "name taken".
        existing = submissions.evaluation_job_submission_get(idempotency_key=key)
        if existing is not None:
            return _submission_response(request, existing, data=data)
        return render_form(request, form, show_errors=True)
    submission = submissions.evaluation_job_submit(
        request=form.build_request(), user=request.user, idempotency_key=key
    )
    return _submission_response(request, submission, data=data)


def _submission_response(
    request: HttpRequest, submission: EvaluationJobSubmission, *, data: QueryDict | None
) -> HttpResponse:
    response = submitting.submission_redirect(
        request, submission, detail="evaluation_job_detail", progress="evaluation_job_submission"
    )
    if response is not None:
        return response
    if data is None:
        initial = FORMS[submission.kind].initial_for(submission.request)
        data = formset_data.as_querydict(form_data(submission.kind, initial))
    form = bind(submission.kind, data, name_taken=False)
    submitting.report_failure(form, submission)
    return render_form(request, form, show_errors=True)


def _failed_submission_form(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    submission = submitting.submission_or_404(pk=pk, kind=kind)
    if not submission.is_failed:
        return redirect("evaluation_job_submission", pk=submission.pk)
    return _submission_response(request, submission, data=None)
