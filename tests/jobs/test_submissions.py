"""The submission service (jobs/submissions.py) and its tasks: intent recorded before Bedrock
is called, one job per idempotency key and per client token however many attempts, retries
with backoff until Bedrock answers or attempts run out, stalled submissions resumed, and
Bedrock's errors put back on the request paths that caused them. Against the local Bedrock
over HTTP; the last test runs a real Celery worker and beat."""

from __future__ import annotations

import datetime as dt

import pytest
from celery.exceptions import Retry
from django.conf import settings as django_settings
from django.utils import timezone

from jobs import submissions, tasks
from jobs.bedrock import client as bedrock
from jobs.bedrock.contract import Violation
from jobs.forms.evaluation import FORMS
from jobs.models import AuditEntry, EvaluationJob, EvaluationJobSubmission
from tests.jobs.forms import factories as f
from tests.jobs.forms.factories import error_locations, errors_at

pytest_plugins = ["tests.worker"]


def request_of(kind: str, **changes) -> dict:
    initial = f.VALID[kind]()
    initial.update(changes)
    return FORMS[kind](f.post(kind, initial)).build_request()


def jobs_named(name: str) -> list[dict]:
    return [s for p in bedrock.iter_evaluation_job_pages() for s in p if s["jobName"] == name]


@pytest.fixture
def no_botocore_retries(settings):
    """Throttling reaches the service at once instead of after botocore's own backoff."""
    settings.BEDROCK_MAX_ATTEMPTS = 1


# --- recording and idempotency -------------------------------------------------------------


@pytest.mark.django_db
def test_a_submission_is_recorded_before_bedrock_is_called(operator, settings, no_botocore_retries):
    settings.BEDROCK_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens: no answer at all
    request = request_of("human")

    submission = submissions.evaluation_job_submit(
        request=request, user=operator, idempotency_key="k1"
    )

    row = EvaluationJobSubmission.objects.get(idempotency_key="k1")
    assert row.pk == submission.pk
    assert (row.status, row.kind, row.job_name) == ("Submitting", "human", "support-human")
    assert row.request == request and row.client_request_token
    assert row.error_code == "EndpointConnectionError" and row.attempts == 1
    assert row.created_by == operator and row.created_by_username == "otto-operator"


@pytest.mark.django_db
def test_the_same_key_returns_the_same_submission_without_calling_bedrock(operator, local_bedrock):
    first = submissions.evaluation_job_submit(
        request=request_of("judge"), user=operator, idempotency_key="same"
    )
    again = submissions.evaluation_job_submit(
        request=request_of("judge"), user=operator, idempotency_key="same"
    )
    assert again.pk == first.pk and again.job_arn == first.job_arn
    assert local_bedrock.call_counts()["CreateEvaluationJob"] == 1


@pytest.mark.django_db
def test_every_attempt_sends_the_same_client_token_so_bedrock_makes_one_job(
    operator, local_bedrock, no_botocore_retries
):
    local_bedrock.set_faults(throttle_rate=1.0)
    submission = submissions.evaluation_job_submit(
        request=request_of("programmatic"), user=operator, idempotency_key="k"
    )
    local_bedrock.set_faults(throttle_rate=0.0)
    # As if an attempt reached Bedrock and its answer was lost on the way back.
    params = {**submission.request, "clientRequestToken": str(submission.client_request_token)}
    created = bedrock.create_evaluation_job(**params)

    tasks.submission_attempt(submission.pk)

    submission.refresh_from_db()
    assert submission.status == "Submitted" and submission.job_arn == created
    assert len(jobs_named("qa-programmatic")) == 1


@pytest.mark.django_db
def test_success_mirrors_the_job_and_audits_it(operator, local_bedrock):
    submission = submissions.evaluation_job_submit(
        request=request_of("human"), user=operator, idempotency_key="k"
    )
    job = EvaluationJob.objects.get(arn=submission.job_arn)
    assert (job.name, job.status, job.job_type) == ("support-human", "InProgress", "Human")
    assert job.resource_id == submission.job_resource_id
    assert job.description["jobName"] == "support-human"  # Bedrock's own record, fetched at once
    assert job.model_identifiers == f"|{f.NOVA}|{f.HAIKU}|"
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target_arn, entry.outcome) == (
        "evaluation_job.submit",
        submission.job_arn,
        "submitted",
    )
    assert entry.detail["submission"] == submission.pk


# --- retries --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_attempts_run_out_and_the_submission_fails_with_the_last_error(
    operator, local_bedrock, settings, no_botocore_retries, django_capture_on_commit_callbacks
):
    settings.SUBMISSION_MAX_ATTEMPTS = 2
    local_bedrock.set_faults(error_rate=1.0)
    with django_capture_on_commit_callbacks() as queued:
        submission = submissions.evaluation_job_submit(
            request=request_of("judge"), user=operator, idempotency_key="k"
        )
    assert submission.status == "Submitting" and len(queued) == 1
    assert submission.next_attempt_at > timezone.now()

    tasks.submission_attempt(submission.pk)  # the last attempt: no Retry raised

    submission.refresh_from_db()
    assert (submission.status, submission.attempts) == ("Failed", 2)
    assert submission.error_code == "InternalServerException"
    assert "did not answer after 2 attempts" in submission.error_message
    assert [e.outcome for e in AuditEntry.objects.order_by("at")] == ["retrying", "failed"]
    assert local_bedrock.call_counts()["CreateEvaluationJob"] == 2


def test_backoff_doubles_up_to_the_cap(settings):
    settings.SUBMISSION_RETRY_BASE_SECONDS = 5
    settings.SUBMISSION_RETRY_MAX_SECONDS = 60
    delays = [submissions._retry_delay(n) for n in (1, 2, 3, 4, 5, 6)]
    assert 3.75 <= delays[0] <= 5 and 7.5 <= delays[1] <= 10 and 15 <= delays[2] <= 20
    assert all(45 <= d <= 60 for d in delays[4:])


@pytest.mark.django_db
def test_an_attempt_in_flight_holds_the_submission(operator, local_bedrock):
    submission = EvaluationJobSubmission.objects.create(
        idempotency_key="k",
        kind="judge",
        job_name="chat-judge",
        request=request_of("judge"),
        created_by_username="x",
        attempt_lease_until=timezone.now() + dt.timedelta(minutes=1),
    )
    same, retry_in = submissions.submission_attempt(submission_id=submission.pk)
    assert (same.status, same.attempts, retry_in) == ("Submitting", 0, None)
    assert local_bedrock.call_counts().get("CreateEvaluationJob", 0) == 0


@pytest.mark.django_db
def test_a_retry_of_a_finished_submission_does_nothing(operator, local_bedrock):
    submission = submissions.evaluation_job_submit(
        request=request_of("judge"), user=operator, idempotency_key="k"
    )
    tasks.submission_attempt(submission.pk)  # delivered twice, say
    tasks.submission_attempt(987654)  # or for a row that is gone
    assert local_bedrock.call_counts()["CreateEvaluationJob"] == 1


@pytest.mark.django_db
def test_the_resume_task_restarts_submissions_whose_retry_was_lost(
    operator, settings, django_capture_on_commit_callbacks
):
    settings.SUBMISSION_RESUME_GRACE_SECONDS = 60
    now = timezone.now()

    def row(key: str, **values) -> EvaluationJobSubmission:
        return EvaluationJobSubmission.objects.create(
            idempotency_key=key,
            kind="judge",
            job_name=key,
            request={},
            created_by_username="x",
            **values,
        )

    stalled = row("stalled", next_attempt_at=now - dt.timedelta(minutes=5))
    row("due-soon", next_attempt_at=now - dt.timedelta(seconds=10))
    row(
        "in-flight",
        next_attempt_at=now - dt.timedelta(minutes=5),
        attempt_lease_until=now + dt.timedelta(minutes=1),
    )
    row("done", status="Submitted", next_attempt_at=now - dt.timedelta(minutes=5))

    with django_capture_on_commit_callbacks() as queued:
        assert submissions.submissions_resume() == [stalled.pk]
    assert len(queued) == 1
    # Claimed for this run: the next run leaves it to the retry just queued.
    assert submissions.submissions_resume() == []


def test_the_tasks_ack_late_and_beat_runs_the_resume():
    assert tasks.submission_attempt.acks_late is True
    assert tasks.submissions_resume.acks_late is True
    entry = django_settings.CELERY_BEAT_SCHEDULE["submissions_resume"]
    assert entry["task"] == "jobs.tasks.submissions_resume"


@pytest.mark.django_db
def test_a_throttled_retry_asks_celery_to_retry_later(operator, local_bedrock, no_botocore_retries):
    local_bedrock.set_faults(throttle_rate=1.0)
    submission = submissions.evaluation_job_submit(
        request=request_of("judge"), user=operator, idempotency_key="k"
    )
    with pytest.raises(Retry):
        tasks.submission_attempt(submission.pk)
    submission.refresh_from_db()
    assert submission.attempts == 2 and submission.status == "Submitting"


# --- Bedrock's errors on the form's fields --------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message", "path"),
    [
        ("ConflictException", "An evaluation job named x already exists.", "jobName"),
        ("AccessDeniedException", "User is not authorized to perform iam:PassRole", "roleArn"),
        ("TooManyTagsException", "Too many tags", "jobTags"),
        (
            "ResourceNotFoundException",
            f"The model {f.HAIKU} was not found.",
            "inferenceConfig.models[1].bedrockModel.modelIdentifier",
        ),
        (
            "ResourceNotFoundException",
            "Model not found.",
            "inferenceConfig.models[0].bedrockModel.modelIdentifier",
        ),
        (
            "ValidationException",
            "1 validation error detected: Value 'x' at "
            "'evaluationConfig.human.datasetMetricConfigs.1.member.taskType' failed to satisfy "
            "constraint: Member must satisfy enum value set",
            "evaluationConfig.human.datasetMetricConfigs[0].taskType",
        ),
        (
            "ValidationException",
            "evaluationConfig.human.customMetrics[1].ratingMethod: needs two models",
            "evaluationConfig.human.customMetrics[1].ratingMethod",
        ),
        ("ValidationException", "Something is off.", ""),
        ("ServiceQuotaExceededException", "Too many jobs in progress.", ""),
    ],
)
def test_bedrocks_errors_are_put_on_the_request_paths_they_are_about(code, message, path):
    violations = submissions.error_violations(
        code=code, message=message, request=request_of("human")
    )
    assert [v.path for v in violations] == [path]


def test_an_evaluator_model_that_was_not_found_is_put_on_the_evaluator():
    request = request_of("judge")
    [violation] = submissions.error_violations(
        code="ResourceNotFoundException",
        message=f"Could not find model {f.SONNET}",
        request=request,
    )
    form = FORMS["judge"](f.post("judge"))
    assert form.is_valid()
    form.report(violation)
    assert error_locations(form) == {"evaluator_model"}


@pytest.mark.parametrize(
    ("violation", "location"),
    [
        (Violation("jobName", "An evaluation job named x already exists."), "name"),
        (Violation("roleArn", "Access denied"), "role_arn"),
        (
            Violation("inferenceConfig.models[1].bedrockModel.modelIdentifier", "Not found"),
            ("models", 1, "model_identifier"),
        ),
    ],
)
def test_the_form_shows_them_on_the_field(violation, location):
    form = FORMS["human"](f.post("human"))
    assert form.is_valid()
    form.report(violation)
    assert error_locations(form) == {location}
    assert violation.message in errors_at(form, location)[0]


# --- a real worker --------------------------------------------------------------------------


@pytest.fixture
def worker_broker(settings):
    """This process publishes tasks to the test worker's broker (tests/worker.py's Redis
    database), so a retry queued by a view reaches that worker. (jobs.publishing reads the
    broker URL from settings on each publish.)"""
    from tests.worker import REDIS_URL

    settings.CELERY_BROKER_URL = REDIS_URL


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_retries_through_throttling_and_resumes_a_stalled_submission(
    operator, local_bedrock, celery_processes, worker_broker, settings
):
    settings.BEDROCK_MAX_ATTEMPTS = 1
    settings.SUBMISSION_RETRY_BASE_SECONDS = 1
    local_bedrock.set_faults(throttle_rate=1.0)
    procs = celery_processes(
        BEDROCK_MAX_ATTEMPTS="1",
        SUBMISSION_RETRY_BASE_SECONDS="1",
        SUBMISSION_RETRY_MAX_SECONDS="2",
        SUBMISSION_RESUME_INTERVAL_SECONDS="1",
        SUBMISSION_RESUME_GRACE_SECONDS="1",
        SYNC_INTERVAL_SECONDS="3600",
        SYNC_DESCRIBE_INTERVAL_SECONDS="3600",
        DASHBOARD_HEARTBEAT_SECONDS="3600",
    )
    # The view's request: throttled, left Submitting, its retry queued for the worker.
    submission = submissions.evaluation_job_submit(
        request=request_of("human"), user=operator, idempotency_key="k"
    )
    assert submission.status == "Submitting"
    procs.wait_for(
        lambda: EvaluationJobSubmission.objects.get(pk=submission.pk).attempts >= 2, timeout=60
    )
    # And one whose retry was lost while the broker was down: only the resume task finds it.
    stalled = EvaluationJobSubmission.objects.create(
        idempotency_key="stalled",
        kind="judge",
        job_name="chat-judge",
        request=request_of("judge"),
        created_by=operator,
        created_by_username=operator.username,
        attempts=1,
        next_attempt_at=timezone.now() - dt.timedelta(minutes=10),
    )

    local_bedrock.set_faults(throttle_rate=0.0)

    for pk in (submission.pk, stalled.pk):
        procs.wait_for(
            lambda pk=pk: EvaluationJobSubmission.objects.get(pk=pk).status == "Submitted",
            timeout=60,
        )
    assert len(jobs_named("support-human")) == 1 and len(jobs_named("chat-judge")) == 1
    assert EvaluationJob.objects.filter(name__in=["support-human", "chat-judge"]).count() == 2
