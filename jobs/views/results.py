"""Evaluation results: the results section of a job's page (its own htmx request, polling
until the read settles), Retry (Operators), the prompts page, the comparison of several jobs,
and the exports. Reads go through jobs/selectors/results.py; Retry through the results
service. Everything here reads the mirror: no S3 on the request path."""

from __future__ import annotations

import csv
import io
import math
import re
import time
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from jobs.models import EvaluationJob, EvaluationResultSet
from jobs.pagination import PageTokenError, TamperedPageToken
from jobs.permissions import BROWSE, OPERATE, requires
from jobs.results import ingest
from jobs.selectors import evaluation_jobs as job_selectors
from jobs.selectors import results as selectors
from jobs.views import mirror, pages

SECTION_TEMPLATE = "jobs/evaluation_job_results.html"
RECORDS_TEMPLATE = "jobs/evaluation_result_records.html"
COMPARE_TEMPLATE = "jobs/evaluation_job_compare.html"
RESOURCE_ID = re.compile(r"[a-z0-9]{1,64}")
# Plain ASCII decimals only: Python's float() would take "١٢", "1e400", "nan" and "∞".
NUMBER = re.compile(r"[+-]?[0-9]{1,9}(\.[0-9]{1,9})?", re.ASCII)
# How often the section asks again while the job runs or its results are read, and for how
# long (a read that never settles stops costing requests; a reload starts again).
POLL_SECONDS = 3
POLL_GIVE_UP_SECONDS = 600
PAGE_SIZES = ("10", "25", "50", "100")
CSV_HEADER = ["dataset", "model", "metric", "prompts", "scored", "mean"]
# Cells a spreadsheet would run as a formula (OWASP "CSV injection"), unless a plain number.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?", re.ASCII)


def _job_or_404(job_id: str) -> EvaluationJob:
    job = (
        job_selectors.evaluation_job_get(resource_id=job_id)
        if RESOURCE_ID.fullmatch(job_id)
        else None
    )
    if job is None:
        raise Http404(f"No evaluation job {job_id[:64]} in the mirror.")
    return job


def _job_url(job: EvaluationJob) -> str:
    return reverse("evaluation_job_detail", args=[job.resource_id])


# --- The results section of a job's page ------------------------------------------------------


def _section_context(request: HttpRequest, job: EvaluationJob, *, since: int) -> dict:
    summary = selectors.evaluation_results_summary(job=job)
    section_url = reverse("evaluation_job_results_section", args=[job.resource_id])
    gave_up = summary.polling and time.time() - since > POLL_GIVE_UP_SECONDS
    context = {
        "job": job,
        "now": timezone.now(),
        "summary": summary,
        "result_set": summary.result_set,
        "section_url": section_url,
        "poll_url": f"{section_url}?since={since}",
        "poll_seconds": POLL_SECONDS if summary.polling and not gave_up else None,
        "gave_up": gave_up,
        "job_url": _job_url(job),
        "can_retry": summary.state == "failed" and request.user.has_perm(OPERATE),
        "retry_url": reverse("evaluation_job_results_retry", args=[job.resource_id]),
    }
    if summary.state == "ready":
        rid = job.resource_id
        context.update(
            records_url=reverse("evaluation_job_result_records", args=[rid]),
            csv_url=reverse("evaluation_job_results_csv", args=[rid]),
            json_url=reverse("evaluation_job_results_json", args=[rid]),
            compare_url=reverse("evaluation_job_compare"),
            candidates=selectors.evaluation_result_candidates(job=job),
        )
    return context


def _since(request: HttpRequest) -> int:
    raw = request.GET.get("since", "")
    now = int(time.time())
    if raw.isascii() and raw.isdigit() and len(raw) <= 12:
        return min(int(raw), now)
    return now


@require_GET
@requires(BROWSE)
def evaluation_job_results_section(request: HttpRequest, job_id: str) -> HttpResponse:
    """The results section: htmx requests (the job page's, then its polls) get the partial;
    without JavaScript, the link in the page leads here to the same section as a page."""
    job = _job_or_404(job_id)
    context = _section_context(request, job, since=_since(request))
    partial = request.htmx and not request.htmx.history_restore_request
    template = f"{SECTION_TEMPLATE}#results-section" if partial else SECTION_TEMPLATE
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@requires(OPERATE)
@require_POST
def evaluation_job_results_retry(request: HttpRequest, job_id: str) -> HttpResponse:
    """Read the job's S3 output again (after a failure); then the section polls."""
    job = _job_or_404(job_id)
    # None: the job has not completed (nothing to read yet).
    requested = ingest.evaluation_results_request(job_id=job.pk, user=request.user) is not None
    if request.htmx:
        job = _job_or_404(job_id)  # its result set as the service left it
        context = _section_context(request, job, since=int(time.time()))
        return render(request, f"{SECTION_TEMPLATE}#results-section", context)
    if requested:
        messages.info(request, f"Reading the results of “{job.name}” again.")
    else:
        messages.error(
            request,
            f"The results of “{job.name}” were not read again: the job has not completed.",
        )
    return redirect(_job_url(job))


# --- Prompts ------------------------------------------------------------------------------------


class RecordFilterForm(forms.Form):
    """The prompts page's filters; choices come from the job's own aggregates, so anything
    else is an error (400), never a query."""

    dataset = forms.ChoiceField(required=False)
    model = forms.ChoiceField(required=False)
    metric = forms.ChoiceField(required=False)
    range = forms.ChoiceField(
        required=False,
        label="Score",
        choices=[
            (selectors.RANGE_ANY, "Any score"),
            (selectors.RANGE_NULL, "Only no result (null)"),
            (selectors.RANGE_BELOW, "Below x"),
            (selectors.RANGE_ABOVE, "Above x"),
        ],
    )
    x = forms.CharField(required=False, max_length=24, label="x")
    sort = forms.ChoiceField(
        required=False,
        choices=[
            (selectors.POSITION, "Order in the output"),
            (selectors.SCORE_ASC, "Score, lowest first"),
            (selectors.SCORE_DESC, "Score, highest first"),
        ],
    )
    size = forms.ChoiceField(required=False, choices=[(s, s) for s in PAGE_SIZES])

    def __init__(self, data, *, choices: selectors.Choices) -> None:
        data = data.copy()
        # Shown selected in the form when the address leaves it out (else the browser would
        # show, and send on the next change, the first option).
        data.setdefault("size", "25")
        if choices.metrics:
            data.setdefault("metric", choices.metrics[0])
        super().__init__(data)
        self.fields["dataset"].choices = [("", "All datasets")] + [(d, d) for d in choices.datasets]
        self.fields["model"].choices = [("", "All models")] + [(m, m) for m in choices.models]
        self.fields["metric"].choices = [(m, selectors.metric_name(m)) for m in choices.metrics]
        self.default_metric = choices.metrics[0] if choices.metrics else ""

    def clean_metric(self) -> str:
        return self.cleaned_data.get("metric") or self.default_metric

    def clean_x(self) -> float | None:
        raw = self.cleaned_data.get("x", "").strip()
        if not raw:
            return None
        if not NUMBER.fullmatch(raw):
            raise forms.ValidationError("Enter a plain number such as 0.5.")
        value = float(raw)
        if not math.isfinite(value):
            raise forms.ValidationError("Enter a plain number such as 0.5.")
        return value

    def clean(self) -> dict:
        data = super().clean()
        if (
            data.get("range") in (selectors.RANGE_BELOW, selectors.RANGE_ABOVE)
            and data.get("x") is None
            and "x" not in self.errors
        ):
            self.add_error("x", "Give the x of “below x” or “above x”.")
        return data

    def to_filters(self) -> selectors.RecordFilters:
        data = self.cleaned_data
        keeps_x = data["range"] in (selectors.RANGE_BELOW, selectors.RANGE_ABOVE)
        return selectors.RecordFilters(
            metric=data["metric"],
            dataset=data["dataset"],
            model=data["model"],
            range=data["range"],
            x=data["x"] if keeps_x else None,
            sort=data["sort"] or selectors.POSITION,
        )

    @property
    def page_size(self) -> int:
        return int(self.cleaned_data.get("size") or 25)

    def query(self) -> str:
        """The filters as a short query string: defaults left out."""
        data = self.cleaned_data
        params = []
        for name in ("dataset", "model"):
            if data.get(name):
                params.append((name, data[name]))
        if data.get("metric") and data["metric"] != self.default_metric:
            params.append(("metric", data["metric"]))
        if data.get("range"):
            params.append(("range", data["range"]))
            if data.get("x") is not None and data["range"] in ("below", "above"):
                params.append(("x", self.data.get("x", "").strip()))
        if data.get("sort") and data["sort"] != selectors.POSITION:
            params.append(("sort", data["sort"]))
        if data.get("size") and data["size"] != "25":
            params.append(("size", data["size"]))
        return "?" + urlencode(params) if params else ""


@require_GET
@requires(BROWSE)
def evaluation_job_result_records(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_or_404(job_id)
    result_set = selectors.result_set_of(job)
    base = reverse("evaluation_job_result_records", args=[job.resource_id])
    context: dict = {"job": job, "job_url": _job_url(job), "list_url": base}
    if result_set is None or not result_set.is_ready:
        return render(request, RECORDS_TEMPLATE, context | {"no_results": True})
    form = RecordFilterForm(
        request.GET, choices=selectors.evaluation_result_choices(result_set=result_set)
    )
    context.update(form=form, result_set=result_set)
    htmx = request.htmx and not request.htmx.history_restore_request
    template = f"{RECORDS_TEMPLATE}#record-table" if htmx else RECORDS_TEMPLATE
    if not form.is_valid():
        # htmx swaps only 2xx answers: the table in place says what is wrong; a plain request
        # (a typed or damaged address) gets the whole page as a 400.
        return render(request, template, context, status=200 if htmx else 400)
    filters, size = form.to_filters(), form.page_size
    query = form.query()
    token = request.GET.get("page") or None
    try:
        if token is not None and (len(token) > 2000 or not token.isascii()):
            raise TamperedPageToken("not a token the dashboard wrote")
        page = selectors.evaluation_result_records(
            result_set=result_set, filters=filters, size=size, token=token
        )
    except PageTokenError as exc:
        return mirror.bad_page_token(
            request, exc, base + query, "Go to the first page of these prompts"
        )
    page_base = base + (query + "&" if query else "?") + "page="
    current = page_base + token if token else base + query
    context.update(
        filters=filters,
        metric_label=selectors.metric_name(filters.metric),
        page=page,
        first_url=base + query,
        next_url=page_base + page.next_token if page.next_token else "",
        prev_url=page_base + page.prev_token if page.prev_token else "",
        current_url=current,
    )
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    if htmx and request.get_full_path() != current:
        response["HX-Push-Url"] = current
    return response


# --- Exports ------------------------------------------------------------------------------------


def safe_cell(value: object) -> str:
    """A cell as text, with a leading quote on text a spreadsheet would run as a formula
    (starting with = + - @, tab or CR), unless it is a plain number such as -0.25."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _mean_text(mean: float | None) -> str:
    return "" if mean is None else f"{mean:.4f}"


def _csv_response(rows: list[list[object]], filename: str) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _ready_result_set(job: EvaluationJob) -> EvaluationResultSet:
    result_set = selectors.result_set_of(job)
    if result_set is None or not result_set.is_ready:
        raise Http404(f"The results of {job.name} have not been read yet.")
    return result_set


@require_GET
@requires(BROWSE)
def evaluation_job_results_csv(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_or_404(job_id)
    rows: list[list[object]] = [CSV_HEADER]
    for row in selectors.evaluation_result_export_rows(result_set=_ready_result_set(job)):
        rows.append([*(row[k] for k in CSV_HEADER[:-1]), _mean_text(row["mean"])])
    return _csv_response(rows, f"{job.name}-results.csv")


@require_GET
@requires(BROWSE)
def evaluation_job_results_json(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_or_404(job_id)
    result_set = _ready_result_set(job)
    rows = [
        row | {"mean": None if row["mean"] is None else round(row["mean"], 4)}
        for row in selectors.evaluation_result_export_rows(result_set=result_set)
    ]
    payload = {
        "job": {"name": job.name, "arn": job.arn, "status": job.status},
        "fetched_at": result_set.fetched_at.isoformat() if result_set.fetched_at else None,
        "results": rows,
    }
    response = JsonResponse(payload, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'attachment; filename="{job.name}-results.json"'
    return response


# --- Compare ------------------------------------------------------------------------------------


def _compare_params(request: HttpRequest) -> tuple[list[str], str | None, str | None]:
    """The job ids (refused when not ids at all), the baseline and the drops' metric."""
    raw = request.GET.getlist("job")[:100]
    bad = [j for j in raw if not RESOURCE_ID.fullmatch(j)]
    if bad or len(request.GET.getlist("job")) > 100:
        raise selectors.CompareProblem(
            "These are not evaluation job ids",
            "The address names jobs by ids the dashboard did not write. Pick the jobs again "
            "from the evaluation job list.",
        )
    baseline = request.GET.get("baseline") or None
    if baseline is not None and not RESOURCE_ID.fullmatch(baseline):
        raise selectors.CompareProblem(
            "The baseline is not one of the compared jobs",
            "Pick the baseline among the jobs being compared.",
        )
    metric = request.GET.get("metric") or None
    if metric is not None and (len(metric) > 255 or "\x00" in metric):
        metric = None
    return raw, baseline, metric


def _comparison(request: HttpRequest):
    """The compare table alone (the CSV's)."""
    ids, baseline, metric = _compare_params(request)
    try:
        return selectors.evaluation_results_compare(
            resource_ids=ids, baseline_id=baseline, drop_metric=metric, with_drops=False
        )
    except selectors.CompareUnknownJobs as exc:
        raise Http404(f"No evaluation job {', '.join(exc.ids)[:300]} in the mirror.") from exc


def _compare_query(comparison, **extra: str) -> str:
    params = [("job", job.resource_id) for job in comparison.jobs]
    if comparison.baseline != comparison.jobs[0]:
        params.append(("baseline", comparison.baseline.resource_id))
    params += [(k, v) for k, v in extra.items() if v]
    return "?" + urlencode(params)


@require_GET
@requires(BROWSE)
def evaluation_job_compare(request: HttpRequest) -> HttpResponse:
    """The table first; the prompts that dropped the most (a join over every compared
    record) come in a second request of the page's (htmx target "drops"), or inline with
    ?drops=1 (the no-JavaScript link)."""
    list_url = reverse("evaluation_job_list")
    htmx = request.htmx and not request.htmx.history_restore_request
    drops_only = bool(htmx and request.htmx.target == "drops")
    with_drops = drops_only or request.GET.get("drops") == "1"
    try:
        ids, baseline, metric = _compare_params(request)
        comparison = selectors.evaluation_results_compare(
            resource_ids=ids, baseline_id=baseline, drop_metric=metric, with_drops=with_drops
        )
    except selectors.CompareProblem as problem:
        return render(
            request, COMPARE_TEMPLATE, {"problem": problem, "list_url": list_url}, status=400
        )
    except selectors.CompareUnknownJobs as exc:
        problem = selectors.CompareProblem(
            "Some of these jobs are not in the dashboard",
            "They may have been removed from the mirror, or the link is wrong.",
            items=[f"No evaluation job {rid}" for rid in exc.ids],
        )
        return render(
            request, COMPARE_TEMPLATE, {"problem": problem, "list_url": list_url}, status=404
        )
    base = reverse("evaluation_job_compare")
    baseline_links = []
    for job in comparison.jobs:
        params = [("job", j.resource_id) for j in comparison.jobs]
        if job != comparison.jobs[0]:
            params.append(("baseline", job.resource_id))
        baseline_links.append((job, base + "?" + urlencode(params)))
    drops_query = _compare_query(comparison, metric=comparison.drop_metric)
    context = {
        "comparison": comparison,
        "list_url": list_url,
        "baseline_links": baseline_links,
        "csv_url": reverse("evaluation_job_compare_csv") + _compare_query(comparison),
        "compare_url": base,
        "drops_deferred": not with_drops and bool(comparison.drop_metric),
        "drops_url": base + drops_query,
        "drops_page_url": base + drops_query + "&drops=1#drops",
        "z": selectors.Z95,
    }
    template = f"{COMPARE_TEMPLATE}#drops" if drops_only else COMPARE_TEMPLATE
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@require_GET
@requires(BROWSE)
def evaluation_job_compare_csv(request: HttpRequest) -> HttpResponse:
    try:
        comparison = _comparison(request)
    except selectors.CompareProblem as problem:
        return pages.problem_page(
            request,
            problem=problem.title,
            explanation=" ".join([problem.explanation, *problem.items]),
            back_url=reverse("evaluation_job_list"),
            back_label="Back to the evaluation jobs",
        )
    rows: list[list[object]] = [
        [
            "dataset",
            "model",
            "metric",
            "job",
            "baseline",
            "prompts",
            "scored",
            "mean",
            "difference",
            "ci_low",
            "ci_high",
            "flag",
        ]
    ]
    for row in comparison.rows:
        for cell in row.cells:
            if cell is None:
                continue
            rows.append(
                [
                    row.dataset,
                    row.model,
                    row.metric,
                    cell.job.name,
                    "yes" if cell.is_baseline else "",
                    cell.prompts,
                    cell.scored,
                    _mean_text(cell.mean),
                    _mean_text(cell.diff),
                    _mean_text(cell.low),
                    _mean_text(cell.high),
                    cell.flag,
                ]
            )
    return _csv_response(rows, "evaluation-compare.csv")


# --- The evaluation list's Compare form ---------------------------------------------------------


def compare_selection_context(request: HttpRequest, *, items: list[EvaluationJob]) -> dict:
    """Every role may compare: a Compare checkbox on each Completed row with results, and the
    form they belong to. The column shows only when the page has such rows (a polled row is
    told by its URL, ?compare=1, whether its table has the column)."""
    completed = [job.pk for job in items if job.status == selectors.COMPLETED]
    ids = selectors.evaluation_results_ready_ids(job_ids=completed) if completed else set()
    comparable = bool(ids) or (len(items) == 1 and request.GET.get("compare") == "1")
    return {
        "comparable": comparable,
        "comparable_ids": ids,
        "compare_url": reverse("evaluation_job_compare"),
    }
