"""The results journey with every real part: two jobs run in the local Bedrock, complete and
write their outputs into the local S3; a real worker and beat sweep the mirror, see them
complete and read their outputs; in the browser the results appear on a job's page without a
reload, the prompts table filters to the lowest scores, the two jobs are compared and the
regression flagged, and the CSV downloads. Under the strict CSP (any console error fails).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jobs.bedrock import client as bedrock
from jobs.bedrock.local.server import LocalBedrock
from jobs.models import EvaluationJob, EvaluationResultSet
from tests.e2e.screens import shot

pytestmark = pytest.mark.django_db(transaction=True)
pytest_plugins = ["tests.worker"]

BUCKET = "eval-results"


@pytest.fixture
def local_bedrock(settings, local_s3):
    """This module's local Bedrock writes each completed job's outputs into the local S3
    (50 prompts a dataset, to keep the test quick)."""
    server = LocalBedrock(control=True, s3_endpoint_url=local_s3.url, output_prompts=50)
    server.start(host="127.0.0.1", port=0)
    settings.BEDROCK_ENDPOINT_URL = server.url
    settings.AWS_REGION = server.region
    try:
        yield server
    finally:
        server.stop()


def create_job(name: str, model: str) -> str:
    return bedrock.create_evaluation_job(
        jobName=name,
        roleArn="arn:aws:iam::123456789012:role/EvalRole",
        evaluationConfig={
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "QuestionAndAnswer",
                        "dataset": {"name": "Builtin.BoolQ"},
                        "metricNames": ["Builtin.Accuracy", "Builtin.Robustness"],
                    }
                ]
            }
        },
        inferenceConfig={
            "models": [{"bedrockModel": {"modelIdentifier": model, "inferenceParams": "{}"}}]
        },
        outputDataConfig={"s3Uri": f"s3://{BUCKET}/runs/"},
    )


def test_a_job_completes_and_its_results_are_read_browsed_compared_and_exported(
    page, live_server, viewer, login, local_bedrock, local_s3, celery_processes, tmp_path
):
    baseline_arn = create_job("qa-nova-pro", "amazon.nova-pro-v1:0")
    candidate_arn = create_job("qa-titan-express", "amazon.titan-text-express-v1")
    procs = celery_processes(
        S3_ENDPOINT_URL=local_s3.url,
        SYNC_INTERVAL_SECONDS="1",
        RESULTS_PENDING_INTERVAL_SECONDS="1",
    )
    procs.wait_for(lambda: EvaluationJob.objects.filter(arn=baseline_arn).exists(), timeout=60)
    baseline = EvaluationJob.objects.get(arn=baseline_arn)
    assert baseline.status == "InProgress"

    # The job page is open while the job runs; it finishes in Bedrock; its results appear.
    login(page, viewer, "pw-vera-viewer")
    page.goto(f"{live_server.url}{baseline.get_absolute_url()}")
    local_bedrock.force_status(baseline_arn, "Completed")
    local_bedrock.force_status(candidate_arn, "Completed")
    assert local_bedrock.flush_outputs(timeout=30)
    card = page.locator("#job-results .score-card").first
    expect(card).to_be_visible(timeout=60_000)
    expect(page.locator("#job-results")).to_contain_text("Accuracy")
    expect(page.locator("#job-results svg.histogram").first).to_be_visible()
    result_set = EvaluationResultSet.objects.get(job__arn=baseline_arn)
    assert (result_set.state, result_set.bad_lines) == ("ready", 0)
    assert result_set.records == 50
    shot(page, "pipeline-results-section")

    # The CSV downloads with exactly its header and one row per dataset × model × metric.
    with page.expect_download() as download:
        page.click("#job-results a:has-text('CSV')")
    path = tmp_path / "results.csv"
    download.value.save_as(path)
    lines = path.read_text().splitlines()
    assert lines[0] == "dataset,model,metric,prompts,scored,mean"
    assert len(lines) == 1 + 2
    assert all(line.startswith("Builtin.BoolQ,") and ",50,50," in line for line in lines[1:])

    # The prompts table, filtered to the lowest scores: Accuracy below 0.5.
    page.wait_for_load_state("networkidle")
    page.click("#job-results a:has-text('Browse prompts')")
    page.wait_for_url(f"**{baseline.get_absolute_url()}results/")
    page.select_option("#id_metric", "Accuracy")
    page.wait_for_load_state("networkidle")  # each change asks for the table: one at a time
    page.fill("#id_x", "0.5")
    page.locator("#id_x").blur()
    page.wait_for_load_state("networkidle")
    page.select_option("#id_range", "below")
    page.wait_for_url("**range=below&x=0.5**")
    page.wait_for_load_state("networkidle")
    shown = [
        float(s) for s in page.locator("#record-table td.score").all_inner_texts() if s != "null"
    ]
    low = result_set.score_rows.filter(metric="Accuracy", value__lt=0.5).count()
    assert shown and all(score < 0.5 for score in shown)
    assert len(shown) == min(low, 25)
    shot(page, "pipeline-prompts-low")
    page.wait_for_load_state("networkidle")  # no request cut short by leaving

    # Both jobs compared: the titan job regressed against the nova-pro baseline.
    procs.wait_for(
        lambda: EvaluationResultSet.objects.filter(job__arn=candidate_arn, state="ready").exists(),
        timeout=60,
    )
    candidate = EvaluationJob.objects.get(arn=candidate_arn)
    page.goto(
        f"{live_server.url}/evaluation-jobs/compare/"
        f"?job={baseline.resource_id}&job={candidate.resource_id}"
    )
    accuracy = page.locator("table.compare tr:has(.row-metric:text-is('Accuracy'))")
    expect(accuracy.locator(".flag[data-flag='worse']")).to_have_count(1)
    expect(page.locator("#drops article.drop").first).to_be_visible()
    shot(page, "pipeline-compare")
    page.wait_for_load_state("networkidle")
