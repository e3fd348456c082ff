"""Building and submitting evaluation jobs through the views, against the local Bedrock over
HTTP: every kind reviewed, submitted and read back; every invalid value stopped before
Bedrock; double submissions, throttling and name conflicts; Clone; roles and CSRF."""

from __future__ import annotations

import json
import re
import shlex
import threading

import pytest
from celery.exceptions import Retry
from django.db import connection
from django.test import Client

from jobs import sync, tasks
from jobs.bedrock import client as bedrock
from jobs.forms.evaluation import FORMS
from jobs.models import AuditEntry, EvaluationJob, EvaluationJobSubmission
from tests.jobs.forms import factories as f
from tests.jobs.forms.factories import error_locations, errors_at, with_value
from tests.jobs.forms.test_field_errors import ALL as FORM_CASES
from tests.jobs.forms.test_field_errors import base as valid_base

CASES = [
    ("programmatic", None),
    ("judge", None),
    ("human", None),
    ("rag", "kb_retrieve"),
    ("rag", "kb_retrieve_and_generate"),
    ("rag", "external_sources"),
    ("rag", "precomputed_retrieve"),
    ("rag", "precomputed_retrieve_and_generate"),
]


def form_url(kind: str, suffix: str = "") -> str:
    return f"/evaluation-jobs/new/{kind}/{suffix}"


def valid_post(kind: str, source: str | None = None, **changes) -> dict:
    data = valid_base(kind, source)
    for key, value in changes.items():
        data = with_value(data, key, value)
    return data


def review(client: Client, kind: str, data: dict):
    return client.post(form_url(kind), {**data, "_action": "review"})


def payload_of(response) -> str:
    match = re.search(r'name="payload" value="([^"]+)"', response.content.decode())
    assert match, response.content.decode()[:2000]
    return match.group(1)


def submit(client: Client, kind: str, payload: str):
    return client.post(form_url(kind, "submit/"), {"payload": payload})


def creates(local_bedrock) -> int:
    return local_bedrock.call_counts().get("CreateEvaluationJob", 0)


def bedrock_jobs_named(name: str) -> list[dict]:
    return [s for page in bedrock.iter_evaluation_job_pages() for s in page if s["jobName"] == name]


# --- roles, CSRF -----------------------------------------------------------------------------

NEW_URLS = [
    "/evaluation-jobs/new/",
    "/evaluation-jobs/new/human/",
    "/evaluation-jobs/new/human/validate/",
    "/evaluation-jobs/new/human/section/",
    "/evaluation-jobs/new/human/submit/",
    "/evaluation-jobs/submissions/1/",
    "/evaluation-jobs/abcdefghijkl/clone/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", NEW_URLS)
def test_a_viewer_gets_403_on_every_new_url(viewer_client, path):
    for method in (viewer_client.get, viewer_client.post):
        response = method(path)
        assert response.status_code == 403, path
        assert "Operators role" in response.content.decode()


@pytest.mark.django_db
def test_a_post_without_the_csrf_token_is_refused(operator, local_bedrock):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    assert review(client, "human", valid_post("human")).status_code == 403
    signed = Client()
    signed.force_login(operator)
    payload = payload_of(review(signed, "human", valid_post("human")))
    assert submit(client, "human", payload).status_code == 403
    assert creates(local_bedrock) == 0


@pytest.mark.django_db
def test_admins_may_submit_too(admin_client_, local_bedrock):
    response = admin_client_.get("/evaluation-jobs/new/")
    assert response.status_code == 200


# --- the pages ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_chooser_offers_the_four_kinds(operator_client):
    html = operator_client.get("/evaluation-jobs/new/").content.decode()
    for kind in FORMS:
        assert f'href="/evaluation-jobs/new/{kind}/"' in html
    assert "LLM as a judge" in html and "knowledge base" in html


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(FORMS))
def test_each_kind_has_a_form_that_validates_as_the_user_types(operator_client, kind):
    response = operator_client.get(form_url(kind))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'hx-trigger="input changed delay:500ms, change"' in html
    assert f'hx-post="/evaluation-jobs/new/{kind}/validate/"' in html
    # Every add and remove control is a plain submit button too, for pages without JS.
    assert 'name="_action" value="add:tags"' in html
    assert "hx-on" not in html and "<script>" not in html and "style=" not in html


@pytest.mark.django_db
def test_an_unknown_kind_is_a_404(operator_client):
    assert operator_client.get(form_url("poetry")).status_code == 404


# --- valid jobs of every kind ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "source"), CASES)
def test_a_valid_job_is_reviewed_submitted_and_bedrock_has_exactly_what_the_form_built(
    operator_client, operator, local_bedrock, kind, source
):
    data = valid_post(kind, source)
    built = FORMS[kind](data).build_request()

    page = review(operator_client, kind, data)
    assert page.status_code == 200
    assert page.templates[0].name == "jobs/request_review.html"
    assert page.context["job_request"] == built
    assert json.loads(page.context["request_json"]) == built
    assert creates(local_bedrock) == 0  # reviewing sends nothing

    response = submit(operator_client, kind, payload_of(page))

    submission = EvaluationJobSubmission.objects.get()
    assert submission.status == "Submitted" and submission.attempts == 1
    assert response.status_code == 302
    assert response["Location"] == f"/evaluation-jobs/{submission.job_resource_id}/"
    described = bedrock.get_evaluation_job(identifier=submission.job_arn)
    sent = {k: v for k, v in built.items() if k != "jobTags"}
    assert {k: described[k] for k in sent} == sent
    tags = bedrock.list_tags_for_resource(arn=submission.job_arn)
    assert tags == {t["key"]: t["value"] for t in built["jobTags"]}
    assert creates(local_bedrock) == 1
    # The mirror has the job at once, and its page shows it with the submission audited.
    job = EvaluationJob.objects.get(arn=submission.job_arn)
    assert job.name == built["jobName"] and job.status == "InProgress"
    detail = operator_client.get(response["Location"]).content.decode()
    assert built["jobName"] in detail and "evaluation_job.submit" in detail
    entry = AuditEntry.objects.get(target_arn=submission.job_arn)
    assert (entry.user, entry.outcome) == (operator, "submitted")


@pytest.mark.django_db
def test_the_review_page_gives_the_equivalent_cli_command(operator_client, local_bedrock):
    page = review(operator_client, "judge", valid_post("judge"))
    command = shlex.split(page.context["cli_command"])
    assert command[:3] == ["aws", "bedrock", "create-evaluation-job"]
    assert command[command.index("--region") + 1] == local_bedrock.region
    assert json.loads(command[command.index("--cli-input-json") + 1]) == page.context["job_request"]
    html = page.content.decode()
    assert 'data-copy-target="request-json"' in html and 'data-copy-target="cli-command"' in html
    assert "data-submit-once" in html


@pytest.mark.django_db
def test_back_to_edit_keeps_everything(operator_client, local_bedrock):
    data = valid_post("human")
    payload = payload_of(review(operator_client, "human", data))
    response = operator_client.post(form_url("human"), {"payload": payload, "_action": "edit"})
    form = response.context["form"]
    assert form.is_valid() and form.build_request() == FORMS["human"](data).build_request()
    assert response.context["error_summary"] == []
    assert creates(local_bedrock) == 0


@pytest.mark.django_db
def test_a_tampered_review_page_is_refused_and_nothing_is_sent(operator_client, local_bedrock):
    payload = payload_of(review(operator_client, "human", valid_post("human")))
    response = submit(operator_client, "human", payload[:-3] + "abc")
    assert response.status_code == 400
    assert submit(operator_client, "judge", payload).status_code == 400  # another kind's URL
    assert creates(local_bedrock) == 0
    assert not EvaluationJobSubmission.objects.exists()


# --- invalid values: stopped on their field, nothing sent ----------------------------------

# Every invalid value is a form test (tests/jobs/forms/test_field_errors.py); over HTTP, a few
# prove the wiring: a job field, a row field, a formset's own error, an error on two
# formsets, each kind, a RAG source, and a valid change as the control.
WIRING = {
    "programmatic-name-pattern",
    "programmatic-model-pattern",
    "human-none",
    "judge-custom-metric-name-pattern",
    "human-flow-pattern",
    "rag-kb-blank-retrieve",
    "programmatic-dataset-name-ok",
}
INVALID_CASES = [case for case in FORM_CASES if case.id in WIRING]


def test_the_wiring_cases_exist():
    assert {case.id for case in INVALID_CASES} == WIRING


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "source", "change", "at", "expect", "also"), INVALID_CASES)
def test_an_invalid_value_is_shown_on_its_field_and_nothing_is_sent(
    operator_client, local_bedrock, kind, source, change, at, expect, also
):
    response = review(operator_client, kind, change(valid_base(kind, source)))
    if at is None:  # a control case: the change is valid
        assert response.context["job_request"]
        return
    assert response.status_code == 200
    assert "payload" not in response.content.decode()
    form = response.context["form"]
    messages = errors_at(form, at)
    assert any(expect.lower() in m.lower() for m in messages), (messages, error_locations(form))
    assert error_locations(form) == {at, *also}
    # The summary at the top lists it too.
    summary = " ".join(e["message"] for e in response.context["error_summary"])
    assert messages[0] in summary
    assert creates(local_bedrock) == 0


@pytest.mark.django_db
def test_the_first_review_checks_what_is_filled_in_while_other_fields_are_missing(
    operator_client, local_bedrock
):
    data = {"name": "Bad_Name", "role_arn": "arn:aws:iam::1:role/x", "output_s3_uri": ""}
    for prefix in ("tags", "models", "custom_metrics", "datasets"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    form = review(operator_client, "human", data).context["form"]
    assert "must match" in errors_at(form, "name")[0]
    assert "must match arn:aws" in errors_at(form, "role_arn")[0]
    assert "required" in errors_at(form, "output_s3_uri")[0]
    assert errors_at(form, ("models", None)) == ["Fill in at least one model."]
    assert errors_at(form, ("datasets", None)) == ["Fill in at least one dataset."]
    assert creates(local_bedrock) == 0


@pytest.mark.django_db
def test_a_name_in_the_mirror_is_refused_before_bedrock(operator_client, local_bedrock):
    first = review(operator_client, "programmatic", valid_post("programmatic"))
    submit(operator_client, "programmatic", payload_of(first))
    again = review(operator_client, "programmatic", valid_post("programmatic"))
    assert "already exists" in errors_at(again.context["form"], "name")[0]
    assert creates(local_bedrock) == 1


# --- inline validation and re-rendered parts --------------------------------------------------


def validate(client: Client, kind: str, data: dict, field: str):
    return client.post(
        form_url(kind, "validate/"),
        data,
        headers={"HX-Request": "true", "HX-Trigger-Name": field},
    )


@pytest.mark.django_db
def test_the_name_is_checked_live_against_the_pattern_and_the_mirror(operator_client):
    html = validate(operator_client, "human", {"name": "Bad_Name"}, "name").content.decode()
    assert html.startswith('<ul class="errorlist" id="id_name_error"')
    assert "must match [a-z0-9](-*[a-z0-9]){0,62}" in html
    EvaluationJob.objects.create(
        arn="arn:aws:bedrock:us-east-1:111122223333:evaluation-job/abcdefabcdef",
        resource_id="abcdefabcdef",
        name="taken-name",
        created_at="2026-01-01T00:00:00Z",
        last_synced_at="2026-01-01T00:00:00Z",
        status="Completed",
        job_type="Automated",
    )
    html = validate(operator_client, "human", {"name": "taken-name"}, "name").content.decode()
    assert "already exists" in html
    html = validate(operator_client, "human", {"name": "free-name"}, "name").content.decode()
    assert "<li>" not in html


@pytest.mark.django_db
def test_a_field_is_checked_at_its_own_path_while_the_rest_is_empty(operator_client):
    data = {"models-TOTAL_FORMS": "1", "models-0-source": "bedrock"}
    data["models-0-model_identifier"] = "not a model"
    html = validate(operator_client, "human", data, "models-0-model_identifier").content.decode()
    assert 'id="id_models-0-model_identifier_error"' in html
    assert "must match (arn:aws" in html
    html = validate(operator_client, "rag", {"number_of_results": "101"}, "number_of_results")
    assert "at most 100" in html.content.decode()


@pytest.mark.django_db
def test_cross_field_rules_are_checked_live_once_the_form_is_filled_in(operator_client):
    data = valid_post("programmatic", **{"datasets-1-metrics": ["Builtin.Toxicity"]})
    html = validate(operator_client, "programmatic", data, "datasets-1-metrics").content.decode()
    assert "Builtin.Toxicity is not available for task type Classification" in html


@pytest.mark.django_db
def test_changing_a_task_type_brings_the_datasets_and_metrics_it_allows(operator_client):
    data = valid_post("programmatic", **{"datasets-0-task_type": "Classification"})
    response = operator_client.post(
        form_url("programmatic", "section/"),
        {**data, "part": "choices:datasets-0"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    # Out of band, only the two fields the task type decides: not the boxes being typed in.
    swapped = re.findall(r'<div class="field [^"]*" id="([^"]+)" hx-swap-oob="true"', html)
    assert swapped == ["id_datasets-0-builtin_dataset-field", "id_datasets-0-metrics-field"]
    options = re.findall(r'<option value="(Builtin\.[^"]+)"', html)
    assert options == ["Builtin.WomensEcommerceClothingReviews"]
    metrics = re.findall(r'name="datasets-0-metrics" value="([^"]+)"', html)
    assert metrics == ["Builtin.Accuracy", "Builtin.Robustness"]


@pytest.mark.django_db
def test_changing_a_rag_source_brings_the_metrics_of_its_mode(operator_client):
    data = with_value(valid_post("rag", "kb_retrieve_and_generate"), "source", "kb_retrieve")
    response = operator_client.post(
        form_url("rag", "section/"), {**data, "part": "choices"}, headers={"HX-Request": "true"}
    )
    metrics = re.findall(r'name="datasets-0-metrics" value="([^"]+)"', response.content.decode())
    assert "Builtin.ContextRelevance" in metrics and "Builtin.Correctness" not in metrics


@pytest.mark.django_db
def test_a_custom_metric_name_updates_the_metrics_the_datasets_offer(operator_client):
    data = valid_post("human", **{"custom_metrics-1-name": "Clarity"})
    response = validate(operator_client, "human", data, "custom_metrics-1-name")
    assert response["HX-Trigger"] == "metric-names-changed"
    page = operator_client.get(form_url("human")).content.decode()
    assert 'hx-trigger="metric-names-changed from:body"' in page  # the page's refresher
    # ... which asks for the datasets' metric choices: only those come back, out of band, not
    # the boxes the user may be typing in.
    response = operator_client.post(
        form_url("human", "section/"), {**data, "part": "choices"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert '<div class="field w-checkboxselectmultiple" id="id_datasets-0-metrics-field" ' in html
    assert 'hx-swap-oob="true"' in html and "datasets-0-s3_uri" not in html
    assert 'name="datasets-0-metrics" value="Clarity"' in html


@pytest.mark.django_db
def test_rows_are_added_and_removed_without_javascript(operator_client):
    data = valid_post("human")
    response = operator_client.post(form_url("human"), {**data, "_action": "add:datasets"})
    form = response.context["form"]
    assert len(form.formsets["datasets"].forms) == 2
    assert response.context["error_summary"] == []  # no errors while building
    assert "<html" in response.content.decode()

    response = operator_client.post(form_url("human"), {**data, "_action": "remove:models:0"})
    models = response.context["form"].formsets["models"]
    assert [row["model_identifier"].value() for row in models.forms] == [f.HAIKU]


@pytest.mark.django_db
def test_without_javascript_a_new_choice_is_applied_by_a_refresh_button(operator_client):
    data = with_value(valid_post("rag", "kb_retrieve_and_generate"), "source", "kb_retrieve")
    response = operator_client.post(form_url("rag"), {**data, "_action": "refresh"})
    assert response.context["error_summary"] == []
    html = response.content.decode()
    assert 'class="nojs-only"' in html
    metrics = re.findall(r'name="datasets-0-metrics" value="([^"]+)"', html)
    assert "Builtin.ContextRelevance" in metrics and "Builtin.Correctness" not in metrics


@pytest.mark.django_db
def test_rows_are_added_with_htmx_as_the_formsets_section(operator_client):
    data = valid_post("human")
    response = operator_client.post(
        form_url("human"), {**data, "_action": "add:models"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<section class="card form-section formset formset-models"')
    assert 'name="models-TOTAL_FORMS" value="2"' in html or "models-2-" not in html
    response = operator_client.post(
        form_url("human"),
        {**data, "_action": "remove:custom_metrics:0"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    # The datasets' metric choices come along out of band: the metric removed is gone.
    assert 'id="id_datasets-0-metrics-field" hx-swap-oob="true"' in html
    assert 'value="Preference"' not in html


# --- double submission ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_review_page_posted_twice_makes_one_job(operator_client, local_bedrock):
    payload = payload_of(review(operator_client, "judge", valid_post("judge")))
    first = submit(operator_client, "judge", payload)
    second = submit(operator_client, "judge", payload)
    assert first["Location"] == second["Location"]
    assert EvaluationJobSubmission.objects.count() == 1
    assert creates(local_bedrock) == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_of_the_same_review_page_make_one_job(operator, local_bedrock):
    client = Client()
    client.force_login(operator)
    payload = payload_of(review(client, "human", valid_post("human")))
    # Slow Bedrock down so that both requests are in flight together.
    local_bedrock.set_faults(latency_ms=300)
    start = threading.Barrier(2)
    responses = []

    def post() -> None:
        own = Client()
        own.force_login(operator)
        start.wait()
        try:
            responses.append(submit(own, "human", payload))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [r.status_code for r in responses] == [302, 302]
    submission = EvaluationJobSubmission.objects.get()
    assert submission.status == "Submitted"
    assert creates(local_bedrock) == 1
    assert len(bedrock_jobs_named("support-human")) == 1
    # Each answer leads to the one job: at once, or through the submission's page.
    assert {r["Location"] for r in responses} <= {
        f"/evaluation-jobs/{submission.job_resource_id}/",
        f"/evaluation-jobs/submissions/{submission.pk}/",
    }


# --- Bedrock's answers ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_name_conflict_from_bedrock_lands_on_the_name_field(
    operator_client, operator, local_bedrock
):
    # A job Bedrock has and the mirror does not know yet (made elsewhere since the last sync).
    other = FORMS["programmatic"](valid_post("programmatic")).build_request()
    bedrock.create_evaluation_job(**{**other, "jobName": "support-human"})
    page = review(operator_client, "human", valid_post("human"))
    payload = payload_of(page)

    response = submit(operator_client, "human", payload)

    assert response.status_code == 200
    form = response.context["form"]
    assert error_locations(form) == {"name"}
    assert "An evaluation job named support-human already exists" in errors_at(form, "name")[0]
    submission = EvaluationJobSubmission.objects.get()
    assert (submission.status, submission.error_code) == ("Failed", "ConflictException")
    entry = AuditEntry.objects.get(action="evaluation_job.submit")
    assert (entry.outcome, entry.user) == ("failed", operator)
    # The same page again answers with the same failure, without asking Bedrock again.
    calls = creates(local_bedrock)
    again = submit(operator_client, "human", payload)
    assert errors_at(again.context["form"], "name") == errors_at(form, "name")
    assert creates(local_bedrock) == calls
    # Fixed and reviewed again, it is a new submission that goes through.
    fixed = review(operator_client, "human", valid_post("human", name="support-human-2"))
    assert submit(operator_client, "human", payload_of(fixed)).status_code == 302
    assert EvaluationJobSubmission.objects.filter(status="Submitted").count() == 1


@pytest.mark.django_db
def test_a_failed_submission_opens_its_form_with_the_error_on_its_field(
    operator_client, local_bedrock
):
    other = FORMS["programmatic"](valid_post("programmatic")).build_request()
    bedrock.create_evaluation_job(**{**other, "jobName": "chat-judge"})
    submit(
        operator_client, "judge", payload_of(review(operator_client, "judge", valid_post("judge")))
    )
    submission = EvaluationJobSubmission.objects.get()

    page = operator_client.get(f"/evaluation-jobs/submissions/{submission.pk}/")
    assert "Fix and resubmit" in page.content.decode()
    response = operator_client.get(page.context["edit_url"])
    form = response.context["form"]
    assert "already exists" in errors_at(form, "name")[0]
    assert form["evaluator_model"].value() == f.SONNET


@pytest.mark.django_db
def test_during_throttling_a_submission_stays_submitting_and_the_retry_makes_one_job(
    operator_client, local_bedrock, settings, django_capture_on_commit_callbacks
):
    settings.BEDROCK_MAX_ATTEMPTS = 1  # botocore's own retries off: throttling reaches us
    local_bedrock.set_faults(throttle_rate=1.0)
    payload = payload_of(review(operator_client, "human", valid_post("human")))

    with django_capture_on_commit_callbacks() as queued:
        response = submit(operator_client, "human", payload)

    submission = EvaluationJobSubmission.objects.get()
    assert response["Location"] == f"/evaluation-jobs/submissions/{submission.pk}/"
    assert submission.status == "Submitting" and submission.attempts == 1
    assert submission.error_code == "ThrottlingException"
    assert len(queued) == 1  # the retry task, sent once the request's work is committed
    page = operator_client.get(response["Location"]).content.decode()
    assert "Submitting…" in page and 'hx-trigger="every 2s"' in page

    # The retry meets throttling again: Celery is asked to retry later.
    with pytest.raises(Retry):
        tasks.submission_attempt(submission.pk)
    submission.refresh_from_db()
    assert submission.status == "Submitting" and submission.attempts == 2

    local_bedrock.set_faults(throttle_rate=0.0)
    tasks.submission_attempt(submission.pk)

    submission.refresh_from_db()
    assert submission.status == "Submitted" and submission.attempts == 3
    assert len(bedrock_jobs_named("support-human")) == 1
    assert EvaluationJob.objects.filter(arn=submission.job_arn).exists()
    # The page polling it now sends the browser to the job.
    poll = operator_client.get(response["Location"], headers={"HX-Request": "true"})
    assert poll["HX-Redirect"] == f"/evaluation-jobs/{submission.job_resource_id}/"
    outcomes = list(AuditEntry.objects.order_by("at").values_list("outcome", flat=True))
    assert outcomes == ["retrying", "submitted"]


# --- Clone ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "source"), [("judge", None), ("rag", "kb_retrieve")])
def test_clone_fills_the_form_with_a_new_name_and_the_clone_submits(
    operator_client, local_bedrock, kind, source
):
    original = FORMS[kind](valid_post(kind, source)).build_request()
    first = review(operator_client, kind, valid_post(kind, source))
    job_page = submit(operator_client, kind, payload_of(first))["Location"]
    job_id = job_page.strip("/").rsplit("/", 1)[-1]
    assert (
        f'href="/evaluation-jobs/{job_id}/clone/"' in operator_client.get(job_page).content.decode()
    )

    response = operator_client.get(f"/evaluation-jobs/{job_id}/clone/")

    assert response.status_code == 200
    form = response.context["form"]
    assert form.kind == kind
    assert form["name"].value() == f"{original['jobName']}-copy"
    clone = form.build_request()
    assert {**clone, "jobName": original["jobName"]} == original  # tags included
    data = {k: form.data.getlist(k) for k in form.data}
    page = review(operator_client, kind, data)
    assert submit(operator_client, kind, payload_of(page)).status_code == 302
    assert len(bedrock_jobs_named(f"{original['jobName']}-copy")) == 1


@pytest.mark.django_db
def test_clone_is_offered_to_operators_only(viewer_client, local_bedrock):
    bedrock.create_evaluation_job(**FORMS["judge"](valid_post("judge")).build_request())
    sync.evaluation_jobs_sync(raise_errors=True)
    job = EvaluationJob.objects.get()
    html = viewer_client.get(f"/evaluation-jobs/{job.resource_id}/").content.decode()
    assert "/clone/" not in html
