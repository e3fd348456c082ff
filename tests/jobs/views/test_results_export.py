"""Exports: the results CSV with exactly its header and one row per aggregate (formula-like
cells defused), the same data as JSON, for every role that may browse."""

from __future__ import annotations

import json

import pytest

from tests.jobs.views.factories import make_job
from tests.jobs.views.results_factories import add_aggregate, make_result_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def job():
    job = make_job(status="Completed", name="export-job")
    result_set = make_result_set(job)
    model = "anthropic.claude-3-haiku-20240307-v1:0"
    add_aggregate(
        result_set,
        dataset="Builtin.BoolQ",
        model=model,
        metric="Builtin.Correctness",
        prompts=4,
        scored=3,
        mean=0.45,
        stddev=0.43,
    )
    add_aggregate(
        result_set,
        dataset="Builtin.BoolQ",
        model=model,
        metric="Builtin.Refusal",
        prompts=4,
        scored=0,
        mean=None,
    )
    add_aggregate(
        result_set,
        dataset='my "support", v2',
        model="-1+2",
        metric='=HYPERLINK("x")',
        prompts=2,
        scored=2,
        mean=-0.123456,
    )
    add_aggregate(
        result_set, dataset="@evil", model="+cmd", metric="-0.5", prompts=1, scored=1, mean=1.0
    )
    return job


def test_the_csv_has_exactly_the_header_and_one_row_per_aggregate(viewer_client, job):
    response = viewer_client.get(f"/evaluation-jobs/{job.resource_id}/results.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="export-job-results.csv"'
    assert response.content == (
        b"dataset,model,metric,prompts,scored,mean\r\n"
        b"'@evil,'+cmd,-0.5,1,1,1.0000\r\n"
        b"Builtin.BoolQ,anthropic.claude-3-haiku-20240307-v1:0,Builtin.Correctness,4,3,0.4500\r\n"
        b"Builtin.BoolQ,anthropic.claude-3-haiku-20240307-v1:0,Builtin.Refusal,4,0,\r\n"
        b'"my ""support"", v2",\'-1+2,"\'=HYPERLINK(""x"")",2,2,-0.1235\r\n'
    )


def test_the_json_holds_the_same_rows(viewer_client, job):
    response = viewer_client.get(f"/evaluation-jobs/{job.resource_id}/results.json")
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["job"]["name"] == "export-job"
    assert [list(row) for row in data["results"]] == [
        ["dataset", "model", "metric", "prompts", "scored", "mean"]
    ] * 4
    assert data["results"][1] == {
        "dataset": "Builtin.BoolQ",
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "metric": "Builtin.Correctness",
        "prompts": 4,
        "scored": 3,
        "mean": 0.45,
    }
    assert data["results"][2]["mean"] is None


@pytest.mark.parametrize("suffix", ["results.csv", "results.json"])
def test_exports_of_jobs_without_ready_results_are_404s(viewer_client, suffix):
    running = make_job(status="InProgress")
    assert viewer_client.get(f"/evaluation-jobs/{running.resource_id}/{suffix}").status_code == 404
    failed = make_job(status="Completed")
    make_result_set(failed, state="failed")
    assert viewer_client.get(f"/evaluation-jobs/{failed.resource_id}/{suffix}").status_code == 404
    assert viewer_client.get(f"/evaluation-jobs/zzzzzzzzzzzz/{suffix}").status_code == 404


@pytest.mark.parametrize("suffix", ["results.csv", "results.json", "results/", "results/section/"])
def test_every_role_reads_and_exports_and_anonymous_is_sent_to_log_in(
    client, job, suffix, viewer, nobody
):
    url = f"/evaluation-jobs/{job.resource_id}/{suffix}"
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.force_login(nobody)
    assert client.get(url).status_code == 403
    client.force_login(viewer)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("suffix", ["results.csv", "results.json"])
def test_exports_are_get_only(viewer_client, job, suffix):
    assert viewer_client.post(f"/evaluation-jobs/{job.resource_id}/{suffix}").status_code == 405
