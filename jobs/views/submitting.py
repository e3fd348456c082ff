"""What every create form does once its fields are filled in, whatever it creates: the review
page (the exact request, the same as an AWS CLI command, and a signed payload carrying the
form's data with the idempotency key), where a submission's outcome sends the person, and a
submission's progress page. The submission itself is jobs.submissions' (one job per key).
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from jobs import submissions
from jobs.models import EvaluationJobSubmission
from jobs.views import pages

# A review page older than this asks to review again (names may have been taken since).
REVIEW_MAX_AGE_SECONDS = 24 * 3600
# When htmx checks a field of a create form: as the person types (debounced) and when it
# changes (on leaving it). Declared on each field's box by the form templates.
LIVE_TRIGGER = "input changed delay:500ms, change"
# What a form page posts beside its form's fields: the CSRF token and the page's controls.
PAGE_CONTROLS = ("csrfmiddlewaretoken", "_action", "payload", "part", "field", "_summary")


def form_fields(post: QueryDict) -> QueryDict:
    """The form's own data from a POST: without the CSRF token and the page's controls."""
    data = post.copy()
    for key in PAGE_CONTROLS:
        data.pop(key, None)
    return data


def submission_param(request: HttpRequest) -> int | None:
    """``?submission=<id>`` of a form page (a failed submission's data, back on its form):
    a number of at most 18 ASCII digits, else None (no such submission asked for)."""
    raw = request.GET.get("submission", "")
    return int(raw) if re.fullmatch(r"[0-9]{1,18}", raw) else None


def live_field_name(request: HttpRequest) -> str:
    """The field a live check (htmx, on typing or leaving a field) is about: the `field` the
    field's box sends (hx-vals), or the name of the element that triggered the request."""
    name = request.POST.get("field") or (request.htmx.trigger_name if request.htmx else "")
    return (name or "")[:200]


def submission_or_404(*, pk: int, kind: str | None = None) -> EvaluationJobSubmission:
    submission = submissions.submission_get(pk=pk, kind=kind)
    if submission is None:
        raise Http404("No such submission.")
    return submission


def bad_review(request: HttpRequest, *, back_url: str) -> HttpResponse:
    return pages.problem_page(
        request,
        problem="This review page could not be read",
        explanation=(
            "The form data it carries was changed or cut short, so nothing was submitted. "
            "Fill in the form again."
        ),
        back_url=back_url,
        back_label="Open an empty form",
    )


# The kind of form a review payload was made for, beside the form's fields in its data.
_PAYLOAD_KIND = "_kind"


def review_payload(*, salt: str, key: str, data: dict[str, Any], kind: str | None = None) -> str:
    """The review page's hidden payload: the form's data (and the form's `kind`, if it has
    kinds) and the idempotency key, signed."""
    if kind is not None:
        data = {_PAYLOAD_KIND: kind, **{k: v for k, v in data.items() if k != _PAYLOAD_KIND}}
    return signing.dumps({"key": key, "data": data}, salt=salt, compress=True)


def read_review_payload(
    blob: str, *, salt: str, max_age: int | None = REVIEW_MAX_AGE_SECONDS, kind: str | None = None
) -> tuple[str, dict[str, Any]]:
    """(key, data) from a review payload (made for `kind`, if given); signing.BadSignature
    (or SignatureExpired, past `max_age` seconds) if it cannot be used."""
    body = signing.loads(blob, salt=salt, max_age=max_age)
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise signing.BadSignature("malformed payload")
    data = body["data"]
    if kind is not None and data.pop(_PAYLOAD_KIND, None) != kind:
        raise signing.BadSignature("a payload of another kind")
    return str(body.get("key", "")), data


def review_context(*, job_request: dict[str, Any], cli: str, payload: str) -> dict[str, Any]:
    """The request as the review page shows it: JSON, and `aws bedrock <cli>` with it."""
    compact = json.dumps(job_request, separators=(",", ":"), ensure_ascii=False)
    return {
        "job_request": job_request,
        "request_json": json.dumps(job_request, indent=2, ensure_ascii=False),
        "cli_command": (
            f"aws bedrock {cli} --region {shlex.quote(settings.AWS_REGION)} "
            f"--cli-input-json {shlex.quote(compact)}"
        ),
        "payload": payload,
    }


def submission_redirect(
    request: HttpRequest, submission: EvaluationJobSubmission, *, detail: str, progress: str
) -> HttpResponse | None:
    """Submitted: to the job's page (URL name `detail`), with a message. Submitting: to its
    progress page (`progress`). Failed: None; the caller shows the form with the errors."""
    if submission.is_submitted:
        messages.success(request, f"Submitted “{submission.job_name}” to Bedrock.")
        return redirect(detail, job_id=submission.job_resource_id)
    if submission.is_submitting:
        return redirect(progress, pk=submission.pk)
    return None


def report_failure(form: Any, submission: EvaluationJobSubmission) -> None:
    """Bedrock's final error for `submission` on the form's fields (see jobs.forms)."""
    form.is_valid()
    violations = submissions.submission_violations(submission=submission)
    for violation in violations:
        if violation.path:
            form.report(violation)
        else:
            form.add_error(None, violation.message)
    if violations and getattr(form, "_valid", None):
        # The fields were fine; Bedrock's refusal is what is wrong. Without this the cached
        # "valid" hid the page's error summary, and with it every non-field refusal.
        form._valid = False


def submission_page(
    request: HttpRequest,
    submission: EvaluationJobSubmission,
    *,
    template: str,
    detail: str,
    **context: Any,
) -> HttpResponse:
    """A submission waiting on Bedrock: polled (its "submission-status" partial) while
    Submitting; once submitted, htmx is sent to the job's page (URL name `detail`; without
    JavaScript, the page links to it)."""
    job_url = reverse(detail, args=[submission.job_resource_id]) if submission.job_arn else ""
    context |= {
        "submission": submission,
        "job_url": job_url,
        "status_url": request.path,
        "max_attempts": settings.SUBMISSION_MAX_ATTEMPTS,
        "request_json": json.dumps(submission.request, indent=2, ensure_ascii=False),
    }
    if request.htmx and not request.htmx.history_restore_request:
        if submission.is_submitted and job_url:
            messages.success(request, f"Submitted “{submission.job_name}” to Bedrock.")
            return HttpResponseClientRedirect(job_url)
        return render(request, f"{template}#submission-status", context)
    return render(request, template, context)
