"""Bedrock's quotas shown before Bedrock refuses: running jobs on the evaluation form, a
warning on review when the quota is full, an import already running on the import review,
and the list page nearing 5,000 jobs. Read from the mirror."""

from __future__ import annotations

import html
import re

import pytest
from django.utils import timezone

from jobs.models import StatusCount
from tests.jobs.views.factories import make_import_job, make_jobs
from tests.jobs.views.test_evaluation_submit import review, valid_post
from tests.jobs.views.test_import_jobs import NEW as IMPORT_NEW
from tests.jobs.views.test_import_jobs import form_data as import_form_data

pytestmark = pytest.mark.django_db


def text(response) -> str:
    """The page's text: tags dropped, entities decoded, white space collapsed."""
    plain = re.sub(r"<[^>]+>", "", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(plain))


def test_the_form_says_how_many_automatic_jobs_run(operator_client):
    make_jobs(17, status="InProgress")
    make_jobs(1, status="Stopping")
    make_jobs(5, status="InProgress", job_type="Human")
    make_jobs(30, status="Completed")
    make_jobs(3, status="InProgress", listed=False)  # tombstones do not run
    page = text(operator_client.get("/evaluation-jobs/new/judge/"))
    assert "18 of 20 automatic evaluation jobs running in this Region" in page
    assert "Bedrock will refuse" not in page
    human = text(operator_client.get("/evaluation-jobs/new/human/"))
    assert "5 of 10 human evaluation jobs running" in human


def test_review_warns_when_the_job_would_exceed_the_quota(operator_client, local_bedrock):
    response = review(operator_client, "judge", valid_post("judge"))
    assert "Service quota" not in text(response)
    make_jobs(20, status="InProgress")
    page = text(review(operator_client, "judge", valid_post("judge")))
    assert "Service quota: 20 of 20 automatic evaluation jobs running already" in page
    assert "it will refuse this job until one of them finishes" in page
    # Human jobs have their own quota.
    assert "Service quota" not in text(review(operator_client, "human", valid_post("human")))


def test_import_review_warns_when_an_import_is_running(operator_client, local_bedrock):
    make_import_job(name="import-busy", status="InProgress")
    page = text(operator_client.post(IMPORT_NEW, import_form_data()))
    assert "Service quota: The import job import-busy is still in progress" in page


def test_the_list_warns_near_5000_jobs_and_links_to_the_clean_up(viewer_client):
    make_jobs(3, status="Completed")  # the page; the total comes from the sync's counts
    StatusCount.objects.create(
        kind="evaluation_jobs", status="Completed", count=4000, updated_at=timezone.now()
    )
    assert "Clean up finished jobs" not in text(viewer_client.get("/evaluation-jobs/"))
    StatusCount.objects.create(
        kind="evaluation_jobs", status="Failed", count=600, updated_at=timezone.now()
    )
    page = text(viewer_client.get("/evaluation-jobs/"))
    assert "4,600 of 5,000 evaluation jobs in this account and Region" in page
    assert '?status=Completed&amp;status=Failed&amp;status=Stopped">Clean up finished jobs' in (
        viewer_client.get("/evaluation-jobs/").content.decode()
    )


# --- refusals as pages show them ------------------------------------------------------------


def test_a_second_import_refused_by_the_quota_lands_on_the_import_form(
    operator_client, local_bedrock
):
    from jobs.bedrock import client as bedrock
    from jobs.models import EvaluationJobSubmission
    from tests.jobs.views.test_import_jobs import SUBMIT, create_import, review

    create_import("import-elsewhere", "other-model", "s3://my-models/x/")  # running, unsynced
    _, payload = review(operator_client)
    page = operator_client.post(SUBMIT, {"payload": payload})
    assert page.status_code == 200
    body = text(page)
    assert "A service quota is reached, so Bedrock refused the import job" in body
    assert "Concurrent model import jobs" in body
    submission = EvaluationJobSubmission.objects.get()
    assert (submission.status, submission.next_attempt_at) == ("Failed", None)
    assert len(next(bedrock.iter_model_import_job_pages())) == 1


def test_stopping_without_permission_names_the_iam_action(operator_client, local_bedrock):
    from jobs import sync
    from jobs.bedrock import client as bedrock
    from jobs.models import EvaluationJob
    from tests.jobs.bedrock.support import automated_request

    arn = bedrock.create_evaluation_job(**automated_request("to-stop"))
    sync.evaluation_jobs_sync(raise_errors=True)
    job = EvaluationJob.objects.get(arn=arn)
    local_bedrock.inject_error("StopEvaluationJob", "AccessDeniedException", count=1)
    response = operator_client.post(
        "/evaluation-jobs/stop/", {"job": [job.resource_id]}, follow=True
    )
    assert response.status_code == 200
    body = text(response)
    assert "Bedrock refused to stop “to-stop”" in body
    assert "the dashboard's AWS identity needs bedrock:StopEvaluationJob" in body
