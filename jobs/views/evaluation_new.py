"""The pages around the evaluation job form: the kind chooser, a submission's progress, and
Clone (the form of the job's kind, filled in from its description)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from jobs import sync
from jobs.bedrock import client as bedrock
from jobs.bedrock import rules
from jobs.bedrock.errors import BedrockError
from jobs.forms import form_data, formset_data, initial_from_description
from jobs.forms.evaluation import layout
from jobs.permissions import OPERATE, requires
from jobs.selectors import evaluation_jobs as selectors
from jobs.tags import resource_tags
from jobs.views import submitting
from jobs.views.evaluation_submit import bind, name_taken_in_mirror, render_form
from jobs.views.links import link

NEW_TEMPLATE = "jobs/evaluation_job_new.html"
SUBMISSION_TEMPLATE = "jobs/submission_detail.html"


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
        for kind, text in layout.KIND_CARDS
    ]
    return render(
        request, NEW_TEMPLATE, {"cards": cards, "list_url": reverse("evaluation_job_list")}
    )


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
            with bedrock.on_request_path():  # short and bounded: the person is waiting
                description = sync.evaluation_job_describe(job=job).description
        except BedrockError as exc:
            if description is None:
                messages.error(request, f"Bedrock did not describe “{job.name}”: {exc.message}")
                return redirect(page)
    notice = ""
    tags = resource_tags(obj=job)
    if tags.error is not None:
        notice = (
            f"The tags could not be read from Bedrock ({tags.error.code}: "
            f"{tags.error.message}); add them again."
        )
    kind, initial = initial_from_description(
        description or {}, taken=name_taken_in_mirror, tags=tags.tags
    )
    form = bind(kind, formset_data.as_querydict(form_data(kind, initial)))
    return render_form(
        request,
        form,
        show_errors=False,
        title=f"Clone “{job.name}”",
        clone_of=job,
        notice=notice,
    )
