"""Building, reviewing and submitting evaluation jobs in a real browser, under the strict CSP
(any console error fails the test): a human job with two models, two custom metrics and a
custom dataset, an error flagged inline and fixed; and a job cloned and submitted again.

Set SCREENSHOT_DIR to keep screenshots of the pages (laptop and phone).
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from jobs import sync
from jobs.bedrock import client as bedrock
from jobs.forms.evaluation import FORMS
from jobs.models import EvaluationJob, EvaluationJobSubmission
from tests.e2e.screens import shot
from tests.jobs.forms import factories as f

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 800}


def settled(page) -> None:
    """htmx has no request in flight and has finished swapping (new rows get their triggers
    once settled, a few milliseconds after they appear)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, "
        ".htmx-added')"
    )


def leave(page) -> None:
    """Off the job's page, which polls while the job runs: the test database and the local
    Bedrock go away before the browser does."""
    page.goto("about:blank")


def errors_of(page, field_id: str):
    return page.locator(f"#{field_id}_error")


def test_build_a_human_job_fix_an_inline_error_review_and_submit(
    page, live_server, operator, login, local_bedrock
):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(page, operator, "pw-otto-operator")
    page.goto(f"{live_server.url}/evaluation-jobs/new/")
    shot(page, "new")
    page.click(".kind-card[data-kind=human] h2 a")
    page.wait_for_url(f"{live_server.url}/evaluation-jobs/new/human/")

    # A name Bedrock would refuse is flagged as it is typed, then fixed.
    page.fill("#id_name", "Support_Human")
    expect(errors_of(page, "id_name")).to_contain_text("lower-case letters, digits and hyphens")
    page.fill("#id_name", "support-human-e2e")
    expect(errors_of(page, "id_name").locator("li")).to_have_count(0)

    page.fill("#id_description", "Two assistants compared by the support team")
    page.fill("#id_role_arn", f.ROLE)
    page.fill("#id_output_s3_uri", "s3://eval-results-111122223333/evaluations/")
    page.fill("#id_flow_definition_arn", f.FLOW)
    page.fill("#id_instructions", "Compare the answers as a customer would.")

    # Two models: the second row comes with htmx, and then no third can be added.
    page.fill("#id_models-0-model_identifier", f.NOVA)
    page.click("#formset-models .add-row")
    settled(page)
    page.fill("#id_models-1-model_identifier", f.HAIKU)
    expect(page.locator("#formset-models .add-row")).to_have_count(0)

    # Two custom metrics; the dataset offers them as metrics once they are named.
    page.fill("#id_custom_metrics-0-name", "Preference")
    page.select_option("#id_custom_metrics-0-rating_method", "ComparisonChoice")
    page.click("#formset-custom_metrics .add-row")
    settled(page)
    page.fill("#id_custom_metrics-1-name", "Helpful")
    page.select_option("#id_custom_metrics-1-rating_method", "ThumbsUpDown")
    metrics = page.locator("#id_datasets-0-metrics-field")
    expect(metrics.locator("input[value=Helpful]")).to_have_count(1)
    expect(metrics.locator("input[value=Preference]")).to_have_count(1)

    # A custom dataset: the task type re-renders its row (htmx), then name, location, metrics.
    with page.expect_response(lambda r: r.url.endswith("/section/")):
        page.select_option("#id_datasets-0-task_type", "Generation")
    page.fill("#id_datasets-0-dataset_name", "support-prompts")
    page.fill("#id_datasets-0-s3_uri", "s3://eval-datasets-111122223333/support.jsonl")
    page.check("#id_datasets-0-metrics-field input[value=Preference]")
    page.check("#id_datasets-0-metrics-field input[value=Helpful]")
    page.fill("#id_tags-0-key", "team")
    page.fill("#id_tags-0-value", "support")
    settled(page)
    shot(page, "form-human-filled")

    # A person pauses before Review: no blur validation is cut short by leaving.
    page.wait_for_load_state("networkidle")
    page.click(".form-actions button.primary")
    page.wait_for_url(f"{live_server.url}/evaluation-jobs/new/human/")
    expect(page.locator("h1")).to_contain_text("Review “support-human-e2e”")
    shot(page, "review")
    request = json.loads(page.locator("#request-json").inner_text())
    models = request["inferenceConfig"]["models"]
    assert [m["bedrockModel"]["modelIdentifier"] for m in models] == [f.NOVA, f.HAIKU]
    human = request["evaluationConfig"]["human"]
    assert [m["name"] for m in human["customMetrics"]] == ["Preference", "Helpful"]
    dataset = human["datasetMetricConfigs"][0]["dataset"]
    assert dataset["datasetLocation"]["s3Uri"] == "s3://eval-datasets-111122223333/support.jsonl"
    assert "--cli-input-json" in page.locator("#cli-command").inner_text()
    copy = page.locator("button[data-copy-target=request-json]")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert json.loads(page.evaluate("navigator.clipboard.readText()")) == request

    page.click("text=Submit job to Bedrock")
    page.wait_for_url(re.compile(rf"{live_server.url}/evaluation-jobs/[a-z0-9]{{12}}/$"))
    expect(page.locator("h1.job-name")).to_have_text("support-human-e2e")
    expect(page.locator(".messages")).to_contain_text("Submitted “support-human-e2e”")
    expect(page.locator("text=evaluation_job.submit")).to_have_count(1)
    shot(page, "submitted-job")
    submission = EvaluationJobSubmission.objects.get()
    described = bedrock.get_evaluation_job(identifier=submission.job_arn)
    assert described["evaluationConfig"] == request["evaluationConfig"]
    assert local_bedrock.call_counts()["CreateEvaluationJob"] == 1
    leave(page)


def test_clone_a_job_and_submit_the_clone(page, live_server, operator, login, local_bedrock):
    # A job made outside the dashboard, which the mirror has seen.
    original = FORMS["judge"](f.post("judge")).build_request()
    arn = bedrock.create_evaluation_job(**original)
    sync.evaluation_jobs_sync(raise_errors=True)
    job = EvaluationJob.objects.get(arn=arn)
    login(page, operator, "pw-otto-operator")
    page.goto(f"{live_server.url}/evaluation-jobs/{job.resource_id}/")

    page.click("a.clone")
    expect(page.locator("h1")).to_contain_text("Clone “chat-judge”")
    expect(page.locator("#id_name")).to_have_value("chat-judge-copy")
    expect(page.locator("#id_custom_metrics-1-scale_2_value")).to_have_value("yes")
    expect(page.locator("#id_tags-1-key")).to_have_value("cost-center")
    shot(page, "clone")
    page.fill("#id_description", "The same, once more")
    # A person pauses before Review: no blur validation is cut short by leaving.
    page.wait_for_load_state("networkidle")
    page.click(".form-actions button.primary")
    expect(page.locator("h1")).to_contain_text("Review “chat-judge-copy”")
    page.click("text=Submit job to Bedrock")
    page.wait_for_url(re.compile(rf"{live_server.url}/evaluation-jobs/[a-z0-9]{{12}}/$"))
    expect(page.locator("h1.job-name")).to_have_text("chat-judge-copy")

    clone = EvaluationJobSubmission.objects.get(job_name="chat-judge-copy")
    described = bedrock.get_evaluation_job(identifier=clone.job_arn)
    first = bedrock.get_evaluation_job(identifier=arn)
    for key in ("evaluationConfig", "inferenceConfig", "roleArn", "outputDataConfig"):
        assert described[key] == first[key]
    assert described["jobDescription"] == "The same, once more"
    assert bedrock.list_tags_for_resource(arn=clone.job_arn) == {
        t["key"]: t["value"] for t in original["jobTags"]
    }
    leave(page)


@pytest.mark.parametrize(("size", "viewport"), [("laptop", LAPTOP), ("phone", PHONE)])
def test_the_forms_fit_a_laptop_and_a_phone(browser, live_server, operator, login, size, viewport):
    context = browser.new_context(viewport=viewport, is_mobile=size == "phone")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        login(page, operator, "pw-otto-operator")
        page.goto(f"{live_server.url}/evaluation-jobs/new/")
        shot(page, f"new-{size}")
        for kind in FORMS:
            page.goto(f"{live_server.url}/evaluation-jobs/new/{kind}/")
            # Nothing wider than the screen: no sideways scrolling.
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], (kind, width)
            shot(page, f"form-{kind}-{size}")
        # A person pauses before Review: no blur validation is cut short by leaving.
        page.wait_for_load_state("networkidle")
        page.click(".form-actions button.primary")
        expect(page.locator("#error-summary")).to_be_visible()
        expect(page.locator("#error-summary")).to_be_focused()
        shot(page, f"form-rag-errors-{size}", full_page=False)
    finally:
        context.close()
    assert errors == []
