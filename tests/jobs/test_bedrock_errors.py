"""Every error botocore models for each operation the dashboard calls, injected once into the
local Bedrock (over HTTP), and the dashboard's reaction: no 500, a clear message, nothing lost,
and a retry only where retrying can help (throttling and 5xx). Then the quotas as users meet
them: the 21st automatic job and the second import refused on the form, not retried."""

from __future__ import annotations

import pytest

from jobs import deletions, stopping, submissions, sync
from jobs.bedrock import client as bedrock
from jobs.bedrock.contract import service_model
from jobs.bedrock.errors import IAM_ACTIONS
from jobs.bedrock.local.server import OPERATIONS
from jobs.forms.evaluation import FORMS
from jobs.models import (
    DeletionItem,
    EvaluationJob,
    EvaluationJobSubmission,
    ImportedModel,
    ModelImportJob,
)
from tests.conftest import free_port
from tests.jobs.bedrock.support import automated_request, wait_for
from tests.jobs.forms import factories as f

pytestmark = pytest.mark.django_db

# Worth trying again with the same request; every other modelled error is final.
RETRYABLE = {"ThrottlingException", "InternalServerException"}
CASES = [
    (name, shape.name)
    for name in OPERATIONS
    for shape in service_model().operation_model(name).error_shapes
]
IMPORT = {
    "jobName": "import-llama",
    "importedModelName": "llama-ft",
    "roleArn": "arn:aws:iam::123456789012:role/ImportRole",
    "modelDataSource": {"s3DataSource": {"s3Uri": "s3://my-models/llama3/"}},
}


@pytest.fixture(autouse=True)
def fast(settings):
    """One HTTP attempt per call (the injected error reaches the dashboard, not botocore's own
    retry), no waiting between the dashboard's retries, and no broker."""
    settings.BEDROCK_MAX_ATTEMPTS = 1
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    settings.SYNC_RETRY_BASE_SECONDS = 0
    settings.DELETION_CALLS_PER_SECOND = 0
    settings.DELETION_RETRY_BASE_SECONDS = 0.001
    settings.DELETION_RETRY_MAX_SECONDS = 0.01


PREFIX = {EvaluationJob: "evaluation-jobs", ModelImportJob: "import-jobs"}


def detail_url(row) -> str:
    return f"/{PREFIX.get(type(row), 'imported-models')}/{row.resource_id}/"


def action_of(operation: str) -> str:
    return next(a for a in IAM_ACTIONS.values() if a == f"bedrock:{operation}")


def judge_request() -> dict:
    return FORMS["judge"](f.post("judge")).build_request()


def running_job(lb) -> EvaluationJob:
    arn = bedrock.create_evaluation_job(**automated_request("running-job"))
    sync.evaluation_jobs_sync(raise_errors=True)
    return EvaluationJob.objects.get(arn=arn)


def imported_model(lb) -> ImportedModel:
    lb.set_faults(time_scale=0.001)
    arn = bedrock.create_model_import_job(**IMPORT)
    wait_for(lambda: bedrock.get_model_import_job(identifier=arn)["status"] == "Completed")
    sync.sweep(kind="imported_models", raise_errors=True)
    sync.sweep(kind="import_jobs", raise_errors=True)
    return ImportedModel.objects.get(name="llama-ft")


# --- one scenario per operation ---------------------------------------------------------------


def _create(lb, code, user, *, operation, submit, request):
    lb.inject_error(operation, code, count=1)
    submission = submit(request=request, user=user, idempotency_key="k" * 32)
    assert EvaluationJobSubmission.objects.filter(pk=submission.pk).exists()  # intent kept
    if code in RETRYABLE:
        assert (submission.status, submission.error_code) == ("Submitting", code)
        submission, retry_in = submissions.submission_attempt(submission_id=submission.pk)
        assert submission.status == "Submitted" and retry_in is None
        return
    assert (submission.status, submission.error_code) == ("Failed", code)
    assert lb.call_counts()[operation] == 1  # not retried
    violations = submissions.submission_violations(submission=submission)
    assert violations and all(v.message for v in violations)
    text = " ".join(v.message for v in violations)
    if code == "AccessDeniedException":
        assert action_of(operation) in text
    if code == "ServiceQuotaExceededException":
        assert [v.path for v in violations] == [""] and "service quota" in text


def create_evaluation_job(lb, code, user, client):
    _create(
        lb,
        code,
        user,
        operation="CreateEvaluationJob",
        submit=submissions.evaluation_job_submit,
        request=judge_request(),
    )
    if code not in RETRYABLE:
        assert next(bedrock.iter_evaluation_job_pages()) == []  # nothing was created


def create_model_import_job(lb, code, user, client):
    _create(
        lb,
        code,
        user,
        operation="CreateModelImportJob",
        submit=submissions.model_import_job_submit,
        request=dict(IMPORT),
    )
    if code not in RETRYABLE:
        assert next(bedrock.iter_model_import_job_pages()) == []


def stop_evaluation_job(lb, code, user, client):
    job = running_job(lb)
    lb.inject_error("StopEvaluationJob", code, count=1)
    outcome = stopping.evaluation_job_stop(job=job, user=user)
    assert not outcome.stopped and outcome.refused_by_bedrock and outcome.reason
    if code == "AccessDeniedException":
        assert "bedrock:StopEvaluationJob" in outcome.reason
    job.refresh_from_db()
    assert job.status == "InProgress"  # the mirror did not pretend
    # Nothing lost: the person can stop it again, and then it stops.
    assert stopping.evaluation_job_stop(job=job, user=user).stopped


def batch_delete_evaluation_job(lb, code, user, client):
    job = running_job(lb)
    lb.force_status(job.arn, "Completed")
    sync.evaluation_jobs_sync(raise_errors=True)
    batch, _ = deletions.deletion_batch_create(
        selection=deletions.Selection(ids=frozenset([job.resource_id])),
        user=user,
        idempotency_key="d" * 32,
    )
    lb.inject_error("BatchDeleteEvaluationJob", code, count=1)
    deletions.deletion_batch_run(batch_id=batch.pk)
    item = DeletionItem.objects.get(batch=batch)
    status = bedrock.get_evaluation_job(identifier=job.arn)["status"]
    if code in RETRYABLE:
        assert item.outcome == DeletionItem.DELETED and status == "Deleting"
        assert lb.call_counts()["BatchDeleteEvaluationJob"] == 2
        return
    assert (item.outcome, item.code) == (DeletionItem.FAILED, code)
    assert item.reason and status == "Completed"
    assert lb.call_counts()["BatchDeleteEvaluationJob"] == 1
    if code == "AccessDeniedException":
        assert "bedrock:BatchDeleteEvaluationJob" in item.reason


def delete_imported_model(lb, code, user, client):
    model = imported_model(lb)
    batch, _ = deletions.deletion_batch_create(
        selection=deletions.Selection(ids=frozenset([model.resource_id])),
        user=user,
        idempotency_key="m" * 32,
        kind=deletions.KIND_IMPORTED_MODELS,
    )
    lb.inject_error("DeleteImportedModel", code, count=1)
    deletions.deletion_batch_run(batch_id=batch.pk)
    item = DeletionItem.objects.get(batch=batch)
    if code in RETRYABLE:
        assert item.outcome == DeletionItem.DELETED
        assert next(bedrock.iter_imported_model_pages()) == []
        return
    if code == "ResourceNotFoundException":
        # Not found means gone, as Bedrock means it; the next sweep shows what is true.
        assert item.outcome == DeletionItem.DELETED and "Already gone" in item.reason
        return
    assert (item.outcome, item.code) == (DeletionItem.FAILED, code) and item.reason
    assert len(next(bedrock.iter_imported_model_pages())) == 1
    if code == "AccessDeniedException":
        assert "bedrock:DeleteImportedModel" in item.reason


def _list(lb, code, user, client, *, operation, kind, prepare):
    prepare(lb)
    first = sync.sweep(kind=kind)
    assert first.error == ""
    model = {
        "evaluation_jobs": EvaluationJob,
        "import_jobs": ModelImportJob,
        "imported_models": ImportedModel,
    }[kind]
    before = list(model.objects.values_list("arn", "listed"))
    lb.inject_error(operation, code, count=1)
    run = sync.sweep(kind=kind)
    if code in RETRYABLE:
        assert run.error == ""  # the sweep listed again after a backoff
    else:
        assert code in run.error
        if code == "AccessDeniedException":
            assert f"bedrock:{operation}" in run.error
    assert list(model.objects.values_list("arn", "listed")) == before  # mirror kept
    page = client.get(f"/{kind.replace('_', '-')}/")
    assert page.status_code == 200


def list_evaluation_jobs(lb, code, user, client):
    _list(
        lb,
        code,
        user,
        client,
        operation="ListEvaluationJobs",
        kind="evaluation_jobs",
        prepare=lambda lb: bedrock.create_evaluation_job(**automated_request("listed")),
    )


def list_model_import_jobs(lb, code, user, client):
    _list(
        lb,
        code,
        user,
        client,
        operation="ListModelImportJobs",
        kind="import_jobs",
        prepare=lambda lb: bedrock.create_model_import_job(**IMPORT),
    )


def list_imported_models(lb, code, user, client):
    _list(
        lb,
        code,
        user,
        client,
        operation="ListImportedModels",
        kind="imported_models",
        prepare=imported_model,
    )


def _get(lb, code, user, client, *, operation, kind, prepare, model):
    prepare(lb)
    lb.inject_error(operation, code, count=1)
    run = sync.sweep(kind=kind)  # lists, then describes what is new
    assert run.error == ""
    row = model.objects.get()
    if code != "ResourceNotFoundException":
        assert row.listed and row.needs_description  # left for a later run
    lb.clear_errors()
    sync.sweep(kind=kind)
    sync.describe_missing(kind=kind, rate=1000, budget_seconds=5)
    row.refresh_from_db()
    assert row.listed and not row.needs_description  # nothing lost
    # The detail page describes on demand: an error there is a message, not a 500.
    lb.inject_error(operation, code, count=1)
    model.objects.filter(pk=row.pk).update(needs_description=True)
    page = client.get(detail_url(row))
    assert page.status_code in (200, 404), page.status_code
    if code == "AccessDeniedException" and page.status_code == 200:
        assert f"bedrock:{operation}" in page.content.decode()


def get_evaluation_job(lb, code, user, client):
    _get(
        lb,
        code,
        user,
        client,
        operation="GetEvaluationJob",
        kind="evaluation_jobs",
        prepare=lambda lb: bedrock.create_evaluation_job(**automated_request("described")),
        model=EvaluationJob,
    )


def get_model_import_job(lb, code, user, client):
    _get(
        lb,
        code,
        user,
        client,
        operation="GetModelImportJob",
        kind="import_jobs",
        prepare=lambda lb: bedrock.create_model_import_job(**IMPORT),
        model=ModelImportJob,
    )


def get_imported_model(lb, code, user, client):
    def prepare(lb):
        lb.set_faults(time_scale=0.001)
        bedrock.create_model_import_job(**IMPORT)
        wait_for(lambda: next(bedrock.iter_imported_model_pages()))

    _get(
        lb,
        code,
        user,
        client,
        operation="GetImportedModel",
        kind="imported_models",
        prepare=prepare,
        model=ImportedModel,
    )


def list_tags_for_resource(lb, code, user, client):
    """A job's page reads its tags from the mirror (issue 12); Clone still reads them live,
    and says why they are missing."""
    job = running_job(lb)
    lb.inject_error("ListTagsForResource", code, count=1)
    page = client.get(f"{detail_url(job)}clone/")
    assert page.status_code == 200
    if code == "AccessDeniedException":
        assert "bedrock:ListTagsForResource" in page.content.decode()
    assert client.get(detail_url(job)).status_code == 200
    assert client.get(f"{detail_url(job)}clone/").status_code == 200


SCENARIOS = {
    "CreateEvaluationJob": create_evaluation_job,
    "GetEvaluationJob": get_evaluation_job,
    "ListEvaluationJobs": list_evaluation_jobs,
    "StopEvaluationJob": stop_evaluation_job,
    "BatchDeleteEvaluationJob": batch_delete_evaluation_job,
    "CreateModelImportJob": create_model_import_job,
    "GetModelImportJob": get_model_import_job,
    "ListModelImportJobs": list_model_import_jobs,
    "GetImportedModel": get_imported_model,
    "ListImportedModels": list_imported_models,
    "DeleteImportedModel": delete_imported_model,
    "ListTagsForResource": list_tags_for_resource,
}


def test_every_operation_the_dashboard_calls_has_a_scenario():
    assert set(SCENARIOS) == set(OPERATIONS)
    assert {a.split(":")[1] for a in IAM_ACTIONS.values()} == set(OPERATIONS)


@pytest.mark.parametrize(("operation", "code"), CASES)
def test_each_modelled_error_gets_a_clear_reaction(
    operation, code, local_bedrock, admin_user, client
):
    client.force_login(admin_user)
    SCENARIOS[operation](local_bedrock, code, admin_user, client)
    assert local_bedrock.errors.as_list() == []  # the injected error was met


# --- quotas as users meet them ------------------------------------------------------------------


def test_the_21st_automatic_job_is_refused_on_the_form_and_not_retried(
    local_bedrock, operator, client
):
    from tests.jobs.views.test_evaluation_submit import payload_of, review, submit, valid_post

    for i in range(20):
        bedrock.create_evaluation_job(**automated_request(f"running-{i}"))
    client.force_login(operator)
    response = submit(client, "judge", payload_of(review(client, "judge", valid_post("judge"))))
    submission = EvaluationJobSubmission.objects.get()
    assert (submission.status, submission.error_code) == (
        "Failed",
        "ServiceQuotaExceededException",
    )
    assert submission.next_attempt_at is None  # no retry queued
    html = response.content.decode() if response.status_code == 200 else ""
    if response.status_code in (301, 302):
        html = client.get(response["Location"]).content.decode()
    assert response.status_code != 500
    assert "A service quota is reached" in html
    assert "Number of concurrent automatic model evaluation jobs" in html
    assert local_bedrock.call_counts()["CreateEvaluationJob"] == 21
    # The resume task leaves it alone.
    assert submissions.submissions_resume() == []


def test_a_second_concurrent_import_is_refused_with_a_clear_message(local_bedrock, operator):
    bedrock.create_model_import_job(**IMPORT)
    submission = submissions.model_import_job_submit(
        request={**IMPORT, "jobName": "import-2", "importedModelName": "model-2"},
        user=operator,
        idempotency_key="i" * 32,
    )
    assert (submission.status, submission.error_code) == ("Failed", "ServiceQuotaExceededException")
    [violation] = submissions.submission_violations(submission=submission)
    assert violation.path == ""
    assert "Concurrent model import jobs" in violation.message
    assert "an import job finishes" in violation.message


def test_an_import_conflict_is_put_on_the_name_the_mirror_says_is_taken(local_bedrock):
    # Bedrock's wording is not read: the same message lands on the field the mirror knows.
    message = "Conflict."
    request = dict(IMPORT)
    op = submissions.IMPORT_OPERATION
    both = submissions.error_violations(
        code="ConflictException", message=message, request=request, operation=op
    )
    assert [v.path for v in both] == ["jobName", "importedModelName"]
    from tests.jobs.views.factories import make_import_job, make_imported_model

    make_imported_model(name="llama-ft")
    [model] = submissions.error_violations(
        code="ConflictException", message=message, request=request, operation=op
    )
    assert model.path == "importedModelName"
    make_import_job(name="import-llama")
    [job] = submissions.error_violations(
        code="ConflictException", message=message, request=request, operation=op
    )
    assert job.path == "jobName"
