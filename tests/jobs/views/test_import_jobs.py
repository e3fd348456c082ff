"""Model import jobs and imported models: the lists (filters, sort, pages, chips, live rows),
the pages, the import form (contract rules on their fields, review, idempotent submission),
deleting models (a deletion batch worked by the task's own function), navigation and roles;
against the local Bedrock over HTTP."""

from __future__ import annotations

import datetime as dt
import re
import time
from html import unescape

import pytest
from django.utils import timezone

from jobs import deletions, sync, tasks
from jobs.bedrock import client as bedrock
from jobs.bedrock.errors import ValidationError
from jobs.models import (
    AuditEntry,
    DeletionBatch,
    EvaluationJobSubmission,
    ImportedModel,
    ModelImportJob,
)
from jobs.pagination import page_scope, token_encode
from tests.jobs.views import live
from tests.jobs.views.factories import BASE_TIME, make_import_job, make_imported_model

pytestmark = pytest.mark.django_db

JOBS = "/import-jobs/"
MODELS = "/imported-models/"
NEW = "/import-jobs/new/"
SUBMIT = "/import-jobs/new/submit/"
DELETE = "/imported-models/delete/"
HTMX_TABLE = {"HX-Request": "true", "HX-Target": "job-table"}
ROLE = "arn:aws:iam::123456789012:role/BedrockModelImport"
KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"


def names(response) -> list[str]:
    html = response.content.decode()
    return [unescape(n) for n in re.findall(r'<td class="name"><a href="[^"]+">([^<]*)</a>', html)]


def link(response, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)"[^>]*rel="{rel}"', response.content.decode())
    return unescape(match.group(1)) if match else None


def form_data(**overrides) -> dict[str, str]:
    data = {
        "name": "import-llama-1",
        "imported_model_name": "llama-support",
        "role_arn": ROLE,
        "model_data_uri": "s3://my-models/llama3-8b/",
        "subnet_ids": "",
        "security_group_ids": "",
        "kms_key": "",
        "job_tags": "",
        "model_tags": "",
    }
    return data | overrides


def field_errors(response, field: str) -> list[str]:
    html = response.content.decode()
    match = re.search(
        rf'<ul class="errorlist" id="id_{field}_error" aria-live="polite">(.*?)</ul>', html, re.S
    )
    return [unescape(e) for e in re.findall(r"<li>(.*?)</li>", match.group(1))] if match else []


def review(client, **overrides):
    response = client.post(NEW, form_data(**overrides))
    assert response.status_code == 200
    payload = re.search(r'name="payload" value="([^"]+)"', response.content.decode())
    return response, payload.group(1) if payload else None


def create_import(name: str, model: str, uri: str, **extra) -> str:
    """An import job made in Bedrock directly (not through the dashboard): its ARN."""
    source = {"s3DataSource": {"s3Uri": uri}}
    return bedrock.create_model_import_job(
        jobName=name, importedModelName=model, roleArn=ROLE, modelDataSource=source, **extra
    )


def wait_for(condition, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


@pytest.fixture
def mirrored(local_bedrock):
    """30 import jobs (and the models of those that completed) in Bedrock, mirrored."""
    local_bedrock.seed(300, random_seed=3)
    sync.import_jobs_sync(raise_errors=True)
    sync.imported_models_sync(raise_errors=True)
    return local_bedrock


@pytest.fixture
def catalogue():
    """Import jobs and models that each filter tells apart (newest first: a, b, c, d)."""
    t = BASE_TIME
    jobs = [
        make_import_job(name="a-llama-run", status="InProgress", created_at=t),
        make_import_job(name="b-Mistral-run", status="Failed", created_at=t - dt.timedelta(days=1)),
        make_import_job(
            name="c-llama-old",
            status="Completed",
            created_at=t - dt.timedelta(days=5),
            imported_model_name="c-model",
        ),
        make_import_job(
            name="d-gone",
            status="Completed",
            created_at=t - dt.timedelta(days=6),
            listed=False,
            vanished_at=t,
        ),
    ]
    models = [
        make_imported_model(name="a-llama-chat", created_at=t),
        make_imported_model(name="b-mistral-7b", created_at=t - dt.timedelta(days=1)),
        make_imported_model(name="c-LLAMA-base", created_at=t - dt.timedelta(days=5)),
    ]
    return jobs, models


# --- The import-job list -------------------------------------------------------------------------


def test_the_list_shows_the_mirrored_import_jobs_newest_first(viewer_client, mirrored):
    response = viewer_client.get(JOBS)
    assert response.status_code == 200
    expected = ModelImportJob.objects.filter(listed=True).order_by("-created_at", "-arn")
    assert names(response) == [j.name for j in expected]
    html = response.content.decode()
    assert 'id="sync-state"' in html and "Synced" in html
    assert 'hx-get="/import-jobs/counts/' in html  # status chips come in their own request
    job = expected.first()
    assert f'href="/import-jobs/{job.resource_id}/"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["a-llama-run", "b-Mistral-run", "c-llama-old"]),
        ("?status=Failed", ["b-Mistral-run"]),
        ("?status=Completed&status=InProgress", ["a-llama-run", "c-llama-old"]),
        ("?name=LLAMA", ["a-llama-run", "c-llama-old"]),
        ("?name=mistral", ["b-Mistral-run"]),
        ("?created_after=2026-05-31", ["a-llama-run", "b-Mistral-run"]),
        ("?created_before=2026-05-31", ["b-Mistral-run", "c-llama-old"]),
        ("?created_after=2026-05-27&created_before=2026-05-31", ["b-Mistral-run", "c-llama-old"]),
        ("?name=llama&status=Completed", ["c-llama-old"]),
        ("?sort=oldest", ["c-llama-old", "b-Mistral-run", "a-llama-run"]),
        ("?vanished=1", ["a-llama-run", "b-Mistral-run", "c-llama-old", "d-gone"]),
    ],
)
def test_each_import_job_filter(viewer_client, catalogue, query, expected):
    assert names(viewer_client.get(JOBS + query)) == expected


def test_pages_forward_and_back_with_tokens(viewer_client, mirrored):
    everything = [
        j.name for j in ModelImportJob.objects.filter(listed=True).order_by("-created_at", "-arn")
    ]
    assert len(everything) == 30
    first = viewer_client.get(f"{JOBS}?size=25")
    assert names(first) == everything[:25] and link(first, "prev") is None
    second = viewer_client.get(link(first, "next"))
    assert names(second) == everything[25:] and link(second, "next") is None
    back = viewer_client.get(link(second, "prev"))
    assert names(back) == everything[:25]


def test_a_bad_token_is_a_400_with_a_way_back(viewer_client, catalogue):
    response = viewer_client.get(f"{JOBS}?status=Failed&page=garbage")
    assert response.status_code == 400
    assert "Go to the first page" in response.content.decode()
    # A token made for another list (the models) does not fit this one.
    token = token_encode(
        key=(BASE_TIME, "arn"), direction="next", scope=page_scope("imported_models", {})
    )
    assert viewer_client.get(f"{JOBS}?page={token}").status_code == 400


def test_htmx_gets_the_table_alone_and_the_chips_count_by_status(viewer_client, catalogue):
    html = viewer_client.get(f"{JOBS}?name=llama", headers=HTMX_TABLE).content.decode()
    assert html.lstrip().startswith('<div id="job-table"') and "<html" not in html
    chips = viewer_client.get("/import-jobs/counts/?name=llama").content.decode()
    chip = r'data-status="(\w+)".*?<span class="count">([^<]+)</span>'
    counts = dict(re.findall(chip, chips, re.S))
    assert counts == {"InProgress": "1", "Completed": "1", "Failed": "0"}
    assert 'href="/import-jobs/?status=Failed&amp;name=llama"' in chips


def test_running_rows_are_live_and_the_live_channel_asks_bedrock(viewer_client, mirrored):
    job = ModelImportJob.objects.filter(listed=True, status="InProgress").first()
    mirrored.force_status(job.arn, "InProgress")
    html = viewer_client.get(JOBS).content.decode()
    assert live.is_active(html) and f"row={job.resource_id}." in live.live_url(html)
    mirrored.force_status(job.arn, "Completed")
    ModelImportJob.objects.filter(pk=job.pk).update(described_at=None)
    answer = live.poll(viewer_client, html).content.decode()
    row = live.oob_row(answer, job.resource_id)
    assert 'data-status="Completed"' in answer and "live-changed" in row
    job.refresh_from_db()
    assert job.status == "Completed" and job.imported_model_arn
    # ...and the model it created is in the mirror at once.
    assert ImportedModel.objects.filter(arn=job.imported_model_arn, listed=True).exists()


def test_empty_states_say_why(viewer_client, local_bedrock):
    html = viewer_client.get(JOBS).content.decode()
    assert "No import jobs yet" in html and "Import a model" not in html  # a Viewer
    make_import_job(name="only-one")
    html = viewer_client.get(f"{JOBS}?name=nothing").content.decode()
    assert "No jobs match these filters" in html and "Clear filters" in html
    html = viewer_client.get(MODELS).content.decode()
    assert "No imported models yet" in html


def test_refresh_asks_for_a_sweep_of_import_jobs(viewer_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = viewer_client.post("/import-jobs/refresh/", headers={"HX-Request": "true"})
    assert "Sync requested" in response.content.decode() and len(callbacks) == 1
    html = viewer_client.get("/import-jobs/sync/").content.decode()
    assert html.lstrip().startswith('<div id="sync-state"')


# --- One import job ------------------------------------------------------------------------------


def test_an_import_job_page_shows_every_field(viewer_client, local_bedrock):
    job_arn = create_import(
        "import-everything",
        "everything-model",
        "s3://my-models/mistral-7b/",
        vpcConfig={"subnetIds": ["subnet-0abc", "subnet-0def"], "securityGroupIds": ["sg-0abc"]},
        importedModelKmsKeyId=KEY,
        jobTags=[{"key": "team", "value": "ml"}],
    )
    local_bedrock.force_status(job_arn, "Completed")
    sync.import_jobs_sync(raise_errors=True)
    tasks.mirror_tags_refresh("import_jobs", job_arn)  # a worker reads the tags
    job = ModelImportJob.objects.get(arn=job_arn)
    html = viewer_client.get(f"{JOBS}{job.resource_id}/").content.decode()
    model = ImportedModel.objects.get(name="everything-model")  # mirrored when described
    for text in (
        "import-everything",
        job_arn,
        "s3://my-models/mistral-7b/",
        ROLE,
        "subnet-0abc",
        "subnet-0def",
        "sg-0abc",
        KEY,
        f'href="/imported-models/{model.resource_id}/"',
        "Created",
        "Last modified",
        "Ended",
        "team",
        "Raw GetModelImportJob answer",
    ):
        assert text in html, text
    assert 'data-status="Completed"' in html and "hx-trigger" not in html


def test_a_failed_import_says_why_and_a_running_one_updates_live(viewer_client, local_bedrock):
    arn = create_import("import-will-fail", "never", "s3://my-models/x/")
    sync.import_jobs_sync(raise_errors=True)
    job = ModelImportJob.objects.get(arn=arn)
    html = viewer_client.get(f"{JOBS}{job.resource_id}/").content.decode()
    assert live.is_active(html) and "Updating live" in html
    assert "created when the import completes" in html
    local_bedrock.force_status(arn, "Failed")
    ModelImportJob.objects.filter(arn=arn).update(described_at=timezone.now() - dt.timedelta(1))
    html = viewer_client.get(f"{JOBS}{job.resource_id}/status/").content.decode()
    assert html.lstrip().startswith('<section id="job-status"')
    assert 'data-status="Failed"' in html and "Why it failed" in html and "hx-trigger" not in html


def test_an_unknown_import_job_is_a_404(viewer_client):
    assert viewer_client.get(f"{JOBS}abcdefabcdef/").status_code == 404
    assert viewer_client.get(f"{MODELS}abcdefabcdef/").status_code == 404


# --- Imported models -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["a-llama-chat", "b-mistral-7b", "c-LLAMA-base"]),
        ("?name=llama", ["a-llama-chat", "c-LLAMA-base"]),
        ("?created_after=2026-05-31", ["a-llama-chat", "b-mistral-7b"]),
        ("?created_before=2026-05-31", ["b-mistral-7b", "c-LLAMA-base"]),
        ("?sort=oldest", ["c-LLAMA-base", "b-mistral-7b", "a-llama-chat"]),
    ],
)
def test_each_imported_model_filter(viewer_client, catalogue, query, expected):
    response = viewer_client.get(MODELS + query)
    assert names(response) == expected
    html = response.content.decode()
    assert 'name="status"' not in html and "status-counts" not in html  # models have none


def test_imported_model_pages_and_a_bad_token(viewer_client, mirrored):
    everything = [
        m.name for m in ImportedModel.objects.filter(listed=True).order_by("-created_at", "-arn")
    ]
    assert len(everything) > 5
    first = viewer_client.get(f"{MODELS}?size=25&sort=oldest")
    assert names(first) == everything[::-1][:25]
    assert viewer_client.get(f"{MODELS}?page=x").status_code == 400


def test_an_imported_model_page_shows_every_field(viewer_client, local_bedrock):
    job_arn = create_import(
        "import-for-page",
        "page-model",
        "s3://my-models/llama3-8b/",
        importedModelKmsKeyId=KEY,
        importedModelTags=[{"key": "stage", "value": "beta"}],
    )
    local_bedrock.force_status(job_arn, "Completed")
    sync.import_jobs_sync(raise_errors=True)
    sync.imported_models_sync(raise_errors=True)
    model = ImportedModel.objects.get(name="page-model")
    tasks.mirror_tags_refresh("imported_models", model.arn)  # a worker reads the tags
    job = ModelImportJob.objects.get(arn=job_arn)
    html = viewer_client.get(f"{MODELS}{model.resource_id}/").content.decode()
    for text in (
        "page-model",
        model.arn,
        "llama3",  # architecture, from the S3 path
        "s3://my-models/llama3-8b/",
        f'href="/import-jobs/{job.resource_id}/"',
        KEY,
        "Created",
        "stage",
        "beta",
        "Raw GetImportedModel answer",
    ):
        assert text in html, text
    assert "Delete" not in html  # a Viewer


def test_the_models_list_polls_while_an_import_runs_and_shows_its_model(
    viewer_client, local_bedrock
):
    arn = create_import("import-live", "live-model", "s3://my-models/qwen2/")
    sync.import_jobs_sync(raise_errors=True)
    html = viewer_client.get(MODELS).content.decode()
    assert live.is_active(html) and "prep=1" in live.live_url(html)
    assert "live-model" not in html
    # Still importing: the channel polls on, the table stays.
    response = live.poll(viewer_client, html)
    assert live.is_active(response.content.decode()) and "HX-Trigger" not in response
    local_bedrock.force_status(arn, "Completed")
    ModelImportJob.objects.filter(arn=arn).update(described_at=None)
    response = live.poll(viewer_client, html)
    # Done: the table reloads itself once (it listens for jobs-synced), and polling stops.
    assert response["HX-Trigger"] == "jobs-synced"
    assert not live.is_active(response.content.decode())
    html = viewer_client.get(MODELS, headers=HTMX_TABLE).content.decode()
    assert "live-model" in html and not live.is_active(html)


# --- The import form -----------------------------------------------------------------------------


def test_the_form_warns_about_names_and_one_import_at_a_time(operator_client, catalogue):
    html = operator_client.get(NEW).content.decode()
    assert "Import job names can never be used again" in html
    assert "Bedrock runs one import at a time" in html
    assert "In progress now" in html and "a-llama-run" in html
    for field in ("name", "imported_model_name", "role_arn", "model_data_uri", "subnet_ids"):
        assert f'name="{field}"' in html, field
    assert 'name="security_group_ids"' in html and 'name="kms_key"' in html
    assert 'name="job_tags"' in html and 'name="model_tags"' in html


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "-bad"}, "name", "Use letters, digits and hyphens"),
        ({"name": "x" * 64}, "name", "at most 63"),
        ({"imported_model_name": "bad name"}, "imported_model_name", "single _ or -"),
        ({"role_arn": "not-an-arn"}, "role_arn", "IAM role ARN"),
        ({"model_data_uri": "s3://Bad_Bucket/x"}, "model_data_uri", "S3 URI"),
        ({"model_data_uri": ""}, "model_data_uri", "This field is required."),
        ({"subnet_ids": "subnet-1"}, "security_group_ids", "This field is required."),
        (
            {"subnet_ids": "subnet-1, subnet_2", "security_group_ids": "sg-1"},
            "subnet_ids",
            "Subnet 2: Use a subnet ID",
        ),
        (
            {"subnet_ids": ",".join(f"subnet-{i}" for i in range(17)), "security_group_ids": "sg"},
            "subnet_ids",
            "at most 16",
        ),
        ({"kms_key": "my key"}, "kms_key", "KMS key ARN"),
        ({"job_tags": "team=ml\naws:owner=me"}, "job_tags", "Tag 2: Tag keys may not start"),
        ({"model_tags": "a=b\na=c"}, "model_tags", "Tag 2: Duplicate tag key a"),
        ({"model_tags": "bad!key=1"}, "model_tags", "Tag 1: Use letters, digits"),
    ],
)
def test_each_contract_rule_lands_on_its_field(operator_client, overrides, field, message):
    response, payload = review(operator_client, **overrides)
    assert payload is None, "went on to the review page"
    errors = field_errors(response, field)
    assert any(message in e for e in errors), (field, errors)
    assert "problem" in response.content.decode()  # the summary at the top


def test_the_local_bedrock_applies_the_same_tag_rules(local_bedrock):
    tags = [{"key": "aws:owner", "value": "me"}]
    with pytest.raises(
        ValidationError,
        match=r"at 'importedModelTags\.1\.member\.key' failed to satisfy constraint: "
        r"Member tag keys may not",
    ):
        create_import("import-tags", "tags-model", "s3://my-models/x/", importedModelTags=tags)


def test_names_in_use_are_refused_before_sending(operator_client, catalogue):
    # d-gone vanished from the list, but an import job's name can never be used again.
    response, payload = review(operator_client, name="d-gone")
    assert payload is None
    assert any("can never be used again" in e for e in field_errors(response, "name"))
    response, payload = review(operator_client, imported_model_name="a-llama-chat")
    assert payload is None
    assert any("already exists" in e for e in field_errors(response, "imported_model_name"))


def test_review_shows_the_exact_request_and_back_to_edit_keeps_it(operator_client, local_bedrock):
    response, payload = review(
        operator_client,
        subnet_ids="subnet-0abc subnet-0def",
        security_group_ids="sg-0abc",
        kms_key=KEY,
        job_tags="team=ml",
        model_tags="stage=beta",
    )
    html = unescape(response.content.decode())
    assert payload and "CreateModelImportJob" in html
    for text in (
        "aws bedrock create-model-import-job",
        '"subnetIds": [\n      "subnet-0abc",',
        '"importedModelKmsKeyId"',
        '"value": "beta"',
    ):
        assert text in html, text
    assert local_bedrock.call_counts().get("CreateModelImportJob", 0) == 0
    back = operator_client.post(NEW, {"_action": "edit", "payload": payload}).content.decode()
    assert 'value="subnet-0abc subnet-0def"' in back and "team=ml" in back  # as typed


def test_submitting_creates_one_job_however_often_the_page_is_posted(
    operator_client, operator, local_bedrock
):
    _, payload = review(operator_client)
    response = operator_client.post(SUBMIT, {"payload": payload})
    job = ModelImportJob.objects.get(name="import-llama-1")
    assert response.status_code == 302 and response["Location"] == f"{JOBS}{job.resource_id}/"
    assert local_bedrock.call_counts()["CreateModelImportJob"] == 1
    again = operator_client.post(SUBMIT, {"payload": payload})  # double click, Back, a tab
    assert again["Location"] == response["Location"]
    assert local_bedrock.call_counts()["CreateModelImportJob"] == 1
    submission = EvaluationJobSubmission.objects.get()
    assert (submission.kind, submission.status) == ("model_import", "Submitted")
    entry = AuditEntry.objects.get(action="model_import_job.submit")
    assert (entry.user, entry.target_arn, entry.outcome) == (operator, job.arn, "submitted")
    html = operator_client.get(response["Location"]).content.decode()
    assert "Submitted “import-llama-1”" in html and 'data-status="InProgress"' in html


def test_an_import_submitted_here_completes_and_its_model_appears_in_the_polled_list(
    operator_client, local_bedrock
):
    local_bedrock.set_faults(time_scale=0.02)  # the import takes about a second
    _, payload = review(operator_client)
    location = operator_client.post(SUBMIT, {"payload": payload})["Location"]
    page = operator_client.get(location).content.decode()
    assert 'data-status="InProgress"' in page and "Updating live" in page
    models = operator_client.get(MODELS).content.decode()
    assert "llama-support" not in models and live.is_active(models)

    def polled_table() -> str | None:
        html = operator_client.get(MODELS, headers=HTMX_TABLE).content.decode()
        return html if "llama-support" in html else None

    table = wait_for(polled_table)
    assert not live.is_active(table)  # nothing runs any more: the polling stops
    status = operator_client.get(f"{location}status/").content.decode()
    assert 'data-status="Completed"' in status and "hx-trigger" not in status
    model = ImportedModel.objects.get(name="llama-support", listed=True)
    job = ModelImportJob.objects.get(name="import-llama-1")
    assert job.imported_model_arn == model.arn
    page = operator_client.get(location).content.decode()
    assert f'href="/imported-models/{model.resource_id}/"' in page


def test_a_refusal_from_bedrock_lands_on_the_field(operator_client, local_bedrock):
    # Bedrock has the name, the mirror does not know yet.
    create_import("import-llama-1", "other-model", "s3://my-models/x/")
    _, payload = review(operator_client)
    response = operator_client.post(SUBMIT, {"payload": payload})
    assert response.status_code == 200
    assert any("already exists" in e for e in field_errors(response, "name"))
    submission = EvaluationJobSubmission.objects.get()
    assert (submission.status, submission.error_code) == ("Failed", "ConflictException")
    # The failed submission opens again in its form, with the error.
    page = operator_client.get(f"{NEW}?submission={submission.pk}")
    assert any("already exists" in e for e in field_errors(page, "name"))


def test_a_transient_failure_shows_the_submission_page(operator_client, local_bedrock, settings):
    settings.BEDROCK_MAX_ATTEMPTS = 1
    local_bedrock.set_faults(error_rate=1.0)
    _, payload = review(operator_client)
    response = operator_client.post(SUBMIT, {"payload": payload})
    submission = EvaluationJobSubmission.objects.get()
    assert response["Location"] == f"/import-jobs/submissions/{submission.pk}/"
    html = operator_client.get(response["Location"]).content.decode()
    assert "Submitting…" in html and 'hx-trigger="every 2s"' in html and "Import jobs" in html


def test_a_damaged_review_page_is_a_400(operator_client, local_bedrock):
    _, payload = review(operator_client)
    response = operator_client.post(SUBMIT, {"payload": payload[:-3] + "abc"})
    assert response.status_code == 400 and "could not be read" in response.content.decode()
    assert local_bedrock.call_counts().get("CreateModelImportJob", 0) == 0


# --- Deleting imported models --------------------------------------------------------------------


def run_batch(batch: DeletionBatch) -> None:
    """What the Celery task does, here in the test."""
    for _ in range(10):
        if deletions.deletion_batch_run(batch_id=batch.pk) is None:
            return
    raise AssertionError("the batch did not finish")


def test_deleting_models_runs_a_batch_and_they_go(admin_client_, admin_user, mirrored):
    one, two, *rest = ImportedModel.objects.filter(listed=True).order_by("name")
    page = admin_client_.get(MODELS).content.decode()
    assert f'name="model" value="{one.resource_id}"' in page and "Delete selected" in page
    confirm = admin_client_.get(f"{DELETE}?model={one.resource_id}&model={two.resource_id}")
    html = confirm.content.decode()
    assert "Delete 2 imported models?" in html and one.name in html and two.name in html
    key = re.search(r'name="key" value="([0-9a-f]{32})"', html).group(1)
    data = {"key": key, "model": [one.resource_id, two.resource_id]}
    response = admin_client_.post(DELETE, data)
    batch = DeletionBatch.objects.get()
    assert response["Location"] == f"/deletions/{batch.pk}/" and batch.kind == "imported_models"
    assert admin_client_.post(DELETE, data)["Location"] == response["Location"]  # once per key
    run_batch(batch)
    assert mirrored.call_counts()["DeleteImportedModel"] == 2
    assert set(batch.items.values_list("outcome", flat=True)) == {"deleted"}
    actions = AuditEntry.objects.filter(action="imported_model.delete", user=admin_user)
    assert set(actions.values_list("target_arn", flat=True)) == {one.arn, two.arn}
    remaining = names(admin_client_.get(MODELS))
    assert one.name not in remaining and two.name not in remaining
    # The next sweep agrees: Bedrock no longer lists them.
    run = sync.imported_models_sync(raise_errors=True)
    assert run.ok
    assert not ImportedModel.objects.filter(pk__in=[one.pk, two.pk], listed=True).exists()
    assert one.name not in names(admin_client_.get(MODELS))
    progress = admin_client_.get(response["Location"]).content.decode()
    assert one.name in progress and f'href="/imported-models/{one.resource_id}/"' in progress


def test_deleting_from_a_models_page_and_a_model_already_gone(admin_client_, mirrored):
    model = ImportedModel.objects.filter(listed=True).first()
    html = admin_client_.get(f"{MODELS}{model.resource_id}/").content.decode()
    confirm_url = f"{DELETE}?model={model.resource_id}"
    assert f'href="{confirm_url}"' in html.replace("&amp;", "&")
    bedrock.delete_imported_model(identifier=model.arn)  # someone was quicker
    html = admin_client_.get(confirm_url).content.decode()
    key = re.search(r'name="key" value="([0-9a-f]{32})"', html).group(1)
    admin_client_.post(DELETE, {"key": key, "model": model.resource_id})
    batch = DeletionBatch.objects.get()
    run_batch(batch)
    item = batch.items.get()
    assert item.outcome == "deleted" and item.reason.startswith("Already gone")


def test_nothing_picked_deletes_nothing(admin_client_, mirrored):
    html = admin_client_.get(DELETE).content.decode()
    assert "Nothing to delete" in html
    response = admin_client_.post(DELETE, {"key": "a" * 32})
    assert response.status_code == 200 and not DeletionBatch.objects.exists()
    assert admin_client_.post(DELETE, {"key": "bad"}).status_code == 400


# --- Navigation and roles ------------------------------------------------------------------------


def test_the_navigation_links_both_lists(viewer_client):
    html = viewer_client.get("/").content.decode()
    assert 'href="/import-jobs/"' in html and 'href="/imported-models/"' in html


WRITES = [
    ("get", NEW),
    ("post", NEW),
    ("post", SUBMIT),
    ("get", "/import-jobs/submissions/1/"),
    ("get", DELETE),
    ("post", DELETE),
]


@pytest.mark.parametrize(("method", "url"), WRITES)
def test_viewers_get_403_on_every_write_url(viewer_client, method, url):
    assert getattr(viewer_client, method)(url).status_code == 403


@pytest.mark.parametrize(("method", "url"), [("get", DELETE), ("post", DELETE)])
def test_operators_cannot_delete_models(operator_client, method, url):
    assert getattr(operator_client, method)(url).status_code == 403


def test_an_operator_sees_no_delete_controls(operator_client, catalogue):
    _, models = catalogue
    html = operator_client.get(MODELS).content.decode()
    assert 'name="model"' not in html and "Delete" not in html
    html = operator_client.get(f"{MODELS}{models[0].resource_id}/").content.decode()
    assert "Delete" not in html
    assert 'href="/import-jobs/new/"' in operator_client.get(JOBS).content.decode()


def test_names_with_html_are_shown_as_text(viewer_client):
    make_import_job(name="<img src=x onerror=alert(1)>", created_at=timezone.now())
    html = viewer_client.get(JOBS).content.decode()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_an_operator_gets_an_import_button_and_a_viewer_does_not(
    client, operator, viewer, local_bedrock
):
    button = f'<a class="button primary new" href="{NEW}">Import a model</a>'
    client.force_login(operator)
    assert button in client.get(JOBS).content.decode()
    client.force_login(viewer)
    html = client.get(JOBS).content.decode()
    assert "Import a model" not in html and f'href="{NEW}"' not in html
