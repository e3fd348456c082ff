"""Building and submitting evaluation jobs: the kind chooser, one form per kind (rows added and
removed with htmx or, without JavaScript, by submit buttons that re-render the form), inline
validation as the user types, the review step with the exact request, the submission, its
progress page, and Clone.

The forms (jobs.forms) own every rule; these views only move data between the browser, the
forms and the submission service (jobs.submissions). The review page carries the form data
in one signed blob, with the idempotency key that makes a second POST of the same page find
the first submission instead of making another job.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jobs import submissions, sync
from jobs.bedrock import rules
from jobs.bedrock.errors import BedrockError
from jobs.forms import FORMS, form_data, formset_data, initial_from_description
from jobs.forms.evaluation import EvaluationJobForm
from jobs.models import EvaluationJob, EvaluationJobSubmission
from jobs.permissions import OPERATE, requires
from jobs.selectors import evaluation_jobs as selectors
from jobs.selectors.evaluation_jobs import evaluation_job_running_usage
from jobs.tags import resource_tags
from jobs.views import submitting
from jobs.views.links import link

NEW_TEMPLATE = "jobs/evaluation_job_new.html"
FORM_TEMPLATE = "jobs/evaluation_job_form.html"
# jobs/request_review.html, with its defaults (Evaluation jobs, CreateEvaluationJob).
REVIEW_TEMPLATE = "jobs/request_review.html"
SUBMISSION_TEMPLATE = "jobs/submission_detail.html"

PAYLOAD_SALT = "jobs.evaluation_job_review"

# What each kind is for, on the chooser's cards.
KIND_CARDS = [
    (
        rules.KIND_PROGRAMMATIC,
        "Score one model with algorithms: accuracy, robustness and toxicity, on built-in "
        "datasets or your own prompts.",
    ),
    (
        rules.KIND_JUDGE,
        "An evaluator model grades one model's responses: correctness, helpfulness, harmfulness "
        "and more, plus custom metrics with your own rating scales.",
    ),
    (
        rules.KIND_HUMAN,
        "Your work team rates one model, or compares two side by side, on up to ten metrics "
        "you define, through a SageMaker Augmented AI flow.",
    ),
    (
        rules.KIND_RAG,
        "Evaluate a Bedrock knowledge base (retrieval, or retrieve and generate) or your own "
        "RAG system's responses, graded by an evaluator model.",
    ),
]

# Formsets as the page shows them: title, what "add" says, a row's name, what it is for.
FORMSET_TEXT = {
    "tags": ("Tags", "Add tag", "Tag", "Key and value pairs attached to the job; up to 200."),
    "models": (
        "Models under evaluation",
        "Add a second model",
        "Model",
        "",
    ),
    "custom_metrics": ("Custom metrics", "Add custom metric", "Custom metric", ""),
    "datasets": (
        "Datasets and metrics",
        "Add dataset",
        "Dataset",
        "Up to 5 prompt datasets, each with the task type it tests and the metrics to compute.",
    ),
}
FORMSET_HELP = {
    (rules.KIND_HUMAN, "models"): (
        "One model to rate on its own, or two to compare side by side (the Comparison rating "
        "methods need two)."
    ),
    (rules.KIND_HUMAN, "custom_metrics"): (
        "What workers rate: 1 to 10 metrics, each with its rating method. Datasets list them "
        "by name."
    ),
    (rules.KIND_JUDGE, "custom_metrics"): (
        "Optional: up to 10 metrics of your own that the evaluator model scores with your "
        "instructions and rating scale."
    ),
    (rules.KIND_RAG, "custom_metrics"): (
        "Optional: up to 10 metrics of your own that the evaluator model scores with your "
        "instructions and rating scale."
    ),
}
# Formsets in page order (each shows no Remove button below the rows its form must keep).
FORMSET_ORDER = ["models", "custom_metrics", "datasets", "tags"]

# Main-form fields by section.
JOB_FIELDS = ["name", "description", "role_arn", "output_s3_uri", "kms_key"]
EVALUATOR_FIELDS = ["evaluator_model", "custom_metrics_evaluator_model"]
HUMAN_FIELDS = ["flow_definition_arn", "instructions"]
KB = "kb_retrieve kb_retrieve_and_generate"
KB_RAG = "kb_retrieve_and_generate"
PRECOMPUTED = "precomputed_retrieve precomputed_retrieve_and_generate"
# RAG fields and the sources (the `source` choice) they apply to; CSS hides the others.
RAG_FIELDS = [
    ("knowledge_base_id", KB),
    ("generator_model_arn", KB_RAG),
    ("number_of_results", KB),
    ("search_type", KB),
    ("prompt_template", KB_RAG),
    ("rag_source_identifier", PRECOMPUTED),
    ("external_sources_json", "external_sources"),
]
RAG_ADVANCED = [
    ("filter_json", KB),
    ("implicit_filter_json", KB),
    ("reranking_json", KB),
    ("guardrail_json", KB_RAG),
    ("inference_config_json", KB_RAG),
    ("additional_fields_json", KB_RAG),
    ("orchestration_json", KB_RAG),
]

# The event a custom metric's new name raises (HX-Trigger), for the datasets' metric choices.
METRIC_NAMES_CHANGED = "metric-names-changed"

_TEXT_WIDGETS = (forms.TextInput, forms.Textarea, forms.NumberInput)


# --- helpers: kinds, forms, data ---------------------------------------------------------------


def _form_class(kind: str) -> type[EvaluationJobForm]:
    try:
        return FORMS[kind]
    except KeyError:
        raise Http404(f"No evaluation job kind {kind!r}.") from None


def _name_taken(name: str) -> bool:
    return submissions.evaluation_job_name_taken(name=name)


def _post_data(post: QueryDict) -> QueryDict:
    """The form's own data from a POST: without the CSRF token and the page's controls."""
    data = post.copy()
    for key in ("csrfmiddlewaretoken", "_action", "payload", "part"):
        data.pop(key, None)
    return data


def _small_int(text: str) -> bool:
    """Digits int() takes, of a row index a form can have (not "²", not 5,000 digits)."""
    return text.isascii() and text.isdigit() and len(text) < 7


def _bind(kind: str, data: QueryDict, *, name_taken: bool = True) -> EvaluationJobForm:
    form = _form_class(kind)(data, name_taken=_name_taken if name_taken else None)
    return form


# The kind a review payload was made for, beside the form's fields in its data.
_PAYLOAD_KIND = "_kind"


def _encode_payload(kind: str, data: QueryDict, key: str) -> str:
    fields = {k: data.getlist(k) for k in data if k != _PAYLOAD_KIND}
    return submitting.review_payload(
        salt=PAYLOAD_SALT, key=key, data={_PAYLOAD_KIND: kind, **fields}
    )


def _decode_payload(
    blob: str, *, kind: str, max_age: int | None = submitting.REVIEW_MAX_AGE_SECONDS
) -> tuple[str, QueryDict]:
    """(key, form data) from a review payload made for `kind`; signing.BadSignature (or
    SignatureExpired, past `max_age` seconds) if it cannot be used."""
    key, data = submitting.read_review_payload(blob, salt=PAYLOAD_SALT, max_age=max_age)
    if data.pop(_PAYLOAD_KIND, None) != kind:
        raise signing.BadSignature("a payload of another kind")
    return key, formset_data.as_querydict(data)


# --- helpers: rendering ---------------------------------------------------------------------


@dataclass
class FormsetView:
    """A formset as its section of the page shows it."""

    name: str
    formset: Any
    title: str
    add_label: str
    row_label: str
    help: str
    min_rows: int

    @property
    def rows(self) -> list[tuple[int, forms.Form]]:
        return list(enumerate(self.formset.forms))

    @property
    def can_add(self) -> bool:
        return self.formset.total_form_count() < self.formset.max_num

    @property
    def can_remove(self) -> bool:
        return self.formset.total_form_count() > self.min_rows

    @property
    def max_num(self) -> int:
        return self.formset.max_num


def _formset_views(form: EvaluationJobForm) -> dict[str, FormsetView]:
    out = {}
    for name in FORMSET_ORDER:
        if name not in form.formsets:
            continue
        title, add, row, help_text = FORMSET_TEXT[name]
        minimum = form.min_rows.get(name, 0)
        out[name] = FormsetView(
            name=name,
            formset=form.formsets[name],
            title=title,
            add_label=add,
            row_label=row,
            help=FORMSET_HELP.get((form.kind, name), help_text),
            min_rows=minimum,
        )
    return out


def _wire(form: EvaluationJobForm, urls: dict[str, str]) -> None:
    """htmx on every input: validate as the user types (debounced), and re-render what a
    choice changes (a task type narrows its row's datasets and metrics; a RAG source changes
    the datasets' metrics). Browser-side `required` is off: the no-JS Add and Remove buttons
    submit half-filled forms, and the server says what is missing."""
    form.use_required_attribute = False
    for formset in form.formsets.values():
        for row in formset.forms:
            row.use_required_attribute = False
    for bound in form.bound_fields():
        widget = bound.field.widget
        auto_id = bound.auto_id
        attrs = {
            "aria-describedby": (
                f"{auto_id}_helptext {auto_id}-errors" if bound.help_text else f"{auto_id}-errors"
            ),
            "hx-post": urls["validate"],
            "hx-target": f"#{auto_id}-errors",
            "hx-swap": "outerHTML",
            "hx-sync": "this:replace",
        }
        if isinstance(widget, _TEXT_WIDGETS):
            attrs["hx-trigger"] = "input changed delay:500ms, change"
        else:
            attrs["hx-trigger"] = "change"
        if bound.name == "task_type" and bound.form.prefix:
            # The row's built-in datasets and metrics come back for the new task type.
            attrs |= {
                "hx-post": urls["section"],
                "hx-swap": "none",
                "hx-sync": "this:replace",
                "hx-vals": json.dumps({"part": f"choices:{bound.form.prefix}"}),
            }
            del attrs["hx-target"]
        elif bound.name == "source" and not bound.form.prefix and form.kind == rules.KIND_RAG:
            # Retrieval-only and retrieve-and-generate evaluations have different metrics.
            attrs |= {
                "hx-post": urls["section"],
                "hx-swap": "none",
                "hx-sync": "this:replace",
                "hx-vals": json.dumps({"part": "choices"}),
            }
            del attrs["hx-target"]
        if isinstance(widget, forms.Textarea) and "spellcheck" not in widget.attrs:
            attrs["spellcheck"] = "true"
        widget.attrs.update(attrs)


def _urls(kind: str) -> dict[str, str]:
    return {
        "form": reverse("evaluation_job_form", args=[kind]),
        "validate": reverse("evaluation_job_form_validate", args=[kind]),
        "section": reverse("evaluation_job_form_section", args=[kind]),
        "submit": reverse("evaluation_job_submit", args=[kind]),
        "new": reverse("evaluation_job_new"),
        "list": reverse("evaluation_job_list"),
    }


def _error_summary(form: EvaluationJobForm) -> list[dict[str, str]]:
    """Every error on the page, each with where it is, for the summary at the top."""
    out = [{"label": "", "message": str(e), "anchor": ""} for e in form.non_field_errors()]
    for bound in form:
        for error in bound.errors:
            out.append({"label": str(bound.label), "message": error, "anchor": bound.auto_id})
    views = _formset_views(form)
    for name, formset in form.formsets.items():
        view = views.get(name)
        title = view.title if view else name
        row_label = view.row_label if view else name
        for error in formset.non_form_errors():
            out.append({"label": title, "message": error, "anchor": f"formset-{name}"})
        for index, row in enumerate(formset.forms):
            for error in row.non_field_errors():
                out.append(
                    {
                        "label": f"{row_label} {index + 1}",
                        "message": error,
                        "anchor": f"row-{row.prefix}",
                    }
                )
            for bound in row:
                for error in bound.errors:
                    out.append(
                        {
                            "label": f"{row_label} {index + 1}: {bound.label}",
                            "message": error,
                            "anchor": bound.auto_id,
                        }
                    )
    return out


def _form_context(
    form: EvaluationJobForm,
    *,
    show_errors: bool,
    title: str = "",
    clone_of: EvaluationJob | None = None,
    notice: str = "",
) -> dict[str, Any]:
    kind = form.kind
    urls = _urls(kind)
    _wire(form, urls)
    fields = form.fields
    summary = _error_summary(form) if show_errors and form.is_bound and not form.is_valid() else []
    return {
        "form": form,
        "kind": kind,
        "kind_label": rules.KIND_LABELS[kind],
        "urls": urls,
        "show_errors": show_errors,
        "error_summary": summary,
        "formsets": _formset_views(form),
        "job_fields": [form[n] for n in JOB_FIELDS],
        "evaluator_fields": [form[n] for n in EVALUATOR_FIELDS if n in fields],
        "human_fields": [form[n] for n in HUMAN_FIELDS if n in fields],
        "rag_fields": [(form[n], show) for n, show in RAG_FIELDS if n in fields],
        "rag_advanced": [(form[n], show) for n, show in RAG_ADVANCED if n in fields],
        "rag_advanced_open": any(
            form.is_bound and (form[n].value() or (show_errors and form[n].errors))
            for n, _ in RAG_ADVANCED
            if n in fields
        ),
        "title": title or "New evaluation job",
        "metric_names_changed": METRIC_NAMES_CHANGED,
        "choices_vals": json.dumps({"part": "choices"}),
        "clone_of": clone_of,
        "notice": notice,
        "quota": evaluation_job_running_usage(kind=kind),
    }


def _render_form(request: HttpRequest, form: EvaluationJobForm, **kwargs: Any) -> HttpResponse:
    return render(request, FORM_TEMPLATE, _form_context(form, **kwargs))


def _render_parts(request: HttpRequest, form: EvaluationJobForm, parts: list[str]) -> HttpResponse:
    """Named partials of the form page for htmx, without errors:

    - "formset:<name>": a formset's section (the swap target);
    - "choices:<prefix>-<index>": the fields of one dataset row whose choices follow its task
      type (built-in datasets, metrics), out of band;
    - "choices": the metric choices of every dataset row, out of band.

    Only choices are swapped out of band, never a box the user may be typing in.
    """
    context = _form_context(form, show_errors=False)
    views = context["formsets"]
    datasets = views["datasets"].formset.forms if "datasets" in views else []
    html = []
    for part in parts:
        kind, _, name = part.partition(":")
        if kind == "formset" and name in views:
            html.append(
                render_to_string(
                    f"{FORM_TEMPLATE}#formset", {**context, "fs": views[name]}, request=request
                )
            )
        elif kind == "choices":
            rows = [row for row in datasets if not name or row.prefix == name]
            for row in rows:
                names = ["builtin_dataset", "metrics"] if name else ["metrics"]
                for field in names:
                    if field in row.fields:
                        html.append(
                            render_to_string(
                                f"{FORM_TEMPLATE}#field",
                                {**context, "f": row[field], "field_oob": True},
                                request=request,
                            )
                        )
    return HttpResponse("".join(html))


# --- the kind chooser and the form ----------------------------------------------------------


@requires(OPERATE)
@require_GET
def evaluation_job_new(request: HttpRequest) -> HttpResponse:
    cards = [
        {
            "kind": kind,
            "label": rules.KIND_LABELS[kind],
            "text": text,
            "url": reverse("evaluation_job_form", args=[kind]),
        }
        for kind, text in KIND_CARDS
    ]
    return render(
        request, NEW_TEMPLATE, {"cards": cards, "list_url": reverse("evaluation_job_list")}
    )


@requires(OPERATE)
@require_http_methods(["GET", "POST"])
def evaluation_job_form(request: HttpRequest, kind: str) -> HttpResponse:
    """GET: an empty form (or, with ?submission=<id>, a failed submission's data with
    Bedrock's error on its field). POST: add or remove a row, come back from the review
    page, or review: errors on the form, or the review page."""
    form_class = _form_class(kind)
    if request.method == "GET":
        if (pk := request.GET.get("submission", "")).isascii() and pk.isdigit() and len(pk) < 19:
            return _failed_submission_form(request, kind, int(pk))
        return _render_form(request, form_class(name_taken=_name_taken), show_errors=False)

    action = request.POST.get("_action", "review")
    if action == "edit":
        return _back_to_edit(request, kind)
    data = _post_data(request.POST)
    formset_data.drop_deleted_rows(form_class, data)
    verb, _, target = action.partition(":")
    if verb in {"add", "remove", "refresh"}:
        prefix, _, index = target.partition(":")
        if verb == "add" and prefix in form_class.formset_classes:
            formset_data.add_row(form_class, data, prefix)
        elif verb == "remove" and prefix in form_class.formset_classes and _small_int(index):
            formset_data.remove_row(data, prefix, int(index))
        form = _bind(kind, data)
        if request.htmx and prefix in form_class.formset_classes:
            parts = [f"formset:{prefix}"]
            if prefix == "custom_metrics":
                parts.append("choices")  # the datasets may list the custom metrics by name
            return _render_parts(request, form, parts)
        return _render_form(request, form, show_errors=False)

    form = _bind(kind, data)
    if not form.is_valid():
        form.check_filled_in()
        return _render_form(request, form, show_errors=True)
    return _render_review(request, form, data)


def _render_review(request: HttpRequest, form: EvaluationJobForm, data: QueryDict) -> HttpResponse:
    context = submitting.review_context(
        job_request=form.build_request(),
        cli="create-evaluation-job",
        payload=_encode_payload(form.kind, data, uuid.uuid4().hex),
    )
    quota = evaluation_job_running_usage(kind=form.kind)
    context |= {
        "kind": form.kind,
        "kind_label": rules.KIND_LABELS[form.kind],
        "urls": _urls(form.kind),
        "quota_warning": (
            f"{quota} already, Bedrock's quota for this account and Region (not adjustable): "
            "it will refuse this job until one of them finishes."
            if quota.full
            else ""
        ),
    }
    return render(request, REVIEW_TEMPLATE, context)


def _back_to_edit(request: HttpRequest, kind: str) -> HttpResponse:
    try:
        _, data = _decode_payload(request.POST.get("payload", ""), kind=kind, max_age=None)
    except signing.BadSignature:
        return _bad_payload(request, kind)
    return _render_form(request, _bind(kind, data), show_errors=False)


def _bad_payload(request: HttpRequest, kind: str) -> HttpResponse:
    return submitting.bad_review(request, back_url=reverse("evaluation_job_form", args=[kind]))


@requires(OPERATE)
@require_POST
def evaluation_job_form_validate(request: HttpRequest, kind: str) -> HttpResponse:
    """The errors of the one field the user is typing in (htmx sends its name), judged with
    the whole form: field checks, the contract at the field's own path, and, once every field
    is filled in, the contract and rules across the request. The job name is also checked
    against the names in use."""
    form = _bind(kind, _post_data(request.POST))
    name = request.htmx.trigger_name if request.htmx else request.POST.get("field")
    bound = form.find_field(name or "")
    if bound is None:
        return HttpResponse("")
    errors = form.field_errors(bound)
    context = {"f": bound, "live": True, "live_errors": errors}
    response = render(request, f"{FORM_TEMPLATE}#field-errors", context)
    if name and re.fullmatch(r"custom_metrics-\d+-name", name) and "datasets" in form.formsets:
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
    form = _bind(kind, _post_data(request.POST))
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
        form = _bind(kind, data)
        form.is_valid()
        notice = "That review page was more than a day old: check the job and review it again."
        return _render_form(request, form, show_errors=True, notice=notice)
    except signing.BadSignature:
        return _bad_payload(request, kind)
    existing = submissions.evaluation_job_submission_get(idempotency_key=key)
    if existing is not None:
        return _submission_response(request, existing, data=data)
    form = form_class(data, name_taken=_name_taken)
    if not form.is_valid():
        # A concurrent POST of this same page may have submitted it (its job now holds the
        # name): answer with that submission rather than with "name taken".
        existing = submissions.evaluation_job_submission_get(idempotency_key=key)
        if existing is not None:
            return _submission_response(request, existing, data=data)
        form.check_filled_in()
        return _render_form(request, form, show_errors=True)
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
    form = _bind(submission.kind, data, name_taken=False)
    submitting.report_failure(form, submission)
    return _render_form(request, form, show_errors=True)


def _failed_submission_form(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    submission = submitting.submission_or_404(pk=pk, kind=kind)
    if not submission.is_failed:
        return redirect("evaluation_job_submission", pk=submission.pk)
    return _submission_response(request, submission, data=None)


# --- a submission's progress ----------------------------------------------------------------


@requires(OPERATE)
@require_GET
def evaluation_job_submission(request: HttpRequest, pk: int) -> HttpResponse:
    """A submission waiting on Bedrock: polled while Submitting; once submitted, htmx is sent
    to the job's page (without JavaScript, the page links to it)."""
    submission = submitting.submission_or_404(pk=pk)
    return submitting.submission_page(
        request,
        submission,
        template=SUBMISSION_TEMPLATE,
        detail="evaluation_job_detail",
        edit_url=(
            link(
                reverse("evaluation_job_form", args=[submission.kind]),
                {"submission": submission.pk},
            )
        ),
        kind_label=rules.KIND_LABELS.get(submission.kind, submission.kind),
        list_url=reverse("evaluation_job_list"),
    )


# --- clone ----------------------------------------------------------------------------------


@requires(OPERATE)
@require_GET
def evaluation_job_clone(request: HttpRequest, job_id: str) -> HttpResponse:
    """The form of the job's kind, filled in from its description (and its tags), with a new
    name no job in the mirror has."""
    job = selectors.evaluation_job_get(resource_id=job_id)
    if job is None:
        raise Http404(f"No evaluation job {job_id} in the mirror.")
    page = job.get_absolute_url()
    description = job.description
    if description is None or job.needs_description:
        try:
            description = sync.evaluation_job_describe(job=job).description
        except BedrockError as exc:
            if description is None:
                messages.error(request, f"Bedrock did not describe “{job.name}”: {exc.message}")
                return redirect(page)
    notice = ""
    tags = resource_tags(obj=job)
    if tags.error is not None:
        notice = f"The tags could not be read from Bedrock ({tags.error.code}); add them again."
    kind, initial = initial_from_description(description or {}, taken=_name_taken, tags=tags.tags)
    form = _bind(kind, formset_data.as_querydict(form_data(kind, initial)))
    return _render_form(
        request,
        form,
        show_errors=False,
        title=f"Clone “{job.name}”",
        clone_of=job,
        notice=notice,
    )
