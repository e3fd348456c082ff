"""Seeding: deterministic for a seed, varied, and every seeded job a request Bedrock accepts."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import pytest

from jobs.bedrock import rules
from jobs.bedrock.contract import service_model, validate
from jobs.bedrock.local import seed
from jobs.bedrock.local.server import LocalBedrock
from tests.jobs.bedrock.support import client_for

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def seeded() -> seed.Seed:
    return seed.generate(600, 42, region="us-east-1", account_id="123456789012", now=NOW)


def test_every_seeded_job_is_a_request_bedrock_accepts(seeded):
    for job in seeded.evaluation_jobs:
        assert validate("CreateEvaluationJob", job.request) == [], job.name
        assert rules.evaluation_job_rules(job.request) == [], job.name
        assert job.arn.rsplit("/", 1)[1].isalnum() and len(job.arn.rsplit("/", 1)[1]) == 12
    for job in seeded.import_jobs:
        assert validate("CreateModelImportJob", job.request) == [], job.name


def test_seeds_cover_every_kind_and_status(seeded):
    jobs = seeded.evaluation_jobs
    assert Counter(j.status for j in jobs).keys() == {
        "InProgress",
        "Completed",
        "Failed",
        "Stopped",
        "Stopping",
    }
    configs = [j.request["evaluationConfig"] for j in jobs]
    tasks = {
        c["taskType"]
        for cfg in configs
        for inner in cfg.values()
        for c in inner["datasetMetricConfigs"]
    }
    assert tasks == {"Summarization", "Classification", "QuestionAndAnswer", "Generation", "Custom"}
    assert {j.request["applicationType"] for j in jobs} == {"ModelEvaluation", "RagEvaluation"}
    automated = [c["automated"] for c in configs if "automated" in c]
    assert any("evaluatorModelConfig" in a for a in automated)
    assert any("evaluatorModelConfig" not in a for a in automated)
    assert any("customMetricConfig" in a for a in automated)
    assert any("human" in c for c in configs)
    models = [m for j in jobs for m in j.request["inferenceConfig"].get("models", [])]
    assert any("precomputedInferenceSource" in m for m in models)
    rag = [r for j in jobs for r in j.request["inferenceConfig"].get("ragConfigs", [])]
    assert {next(iter(r)) for r in rag} == {"knowledgeBaseConfig", "precomputedRagSourceConfig"}
    builtin = {
        c["dataset"]["name"]
        for a in automated
        for c in a["datasetMetricConfigs"]
        if c["dataset"]["name"].startswith("Builtin.")
    }
    assert len(builtin) >= 8
    assert all(j.failure_messages for j in jobs if j.status == "Failed")
    created = sorted(j.created for j in jobs)
    assert NOW - created[0] > dt.timedelta(days=90) and created[-1] <= NOW
    assert len({j.name for j in jobs}) == len(jobs)
    imports = seeded.import_jobs
    assert len(imports) == 60
    assert {j.status for j in imports} == {"InProgress", "Completed", "Failed"}
    assert all(j.model is not None for j in imports if j.status == "Completed")
    assert all(j.failure_message for j in imports if j.status == "Failed")


def test_same_seed_same_jobs_other_seed_other_jobs(seeded):
    again = seed.generate(600, 42, region="us-east-1", account_id="123456789012", now=NOW)
    assert again == seeded
    other = seed.generate(600, 43, region="us-east-1", account_id="123456789012", now=NOW)
    assert {j.arn for j in other.evaluation_jobs}.isdisjoint(j.arn for j in seeded.evaluation_jobs)
    assert {j.name for j in other.evaluation_jobs}.isdisjoint(
        j.name for j in seeded.evaluation_jobs
    )


def test_two_servers_seeded_alike_serve_the_same_jobs():
    def snapshot(server: LocalBedrock) -> list[dict]:
        client = client_for(server.url)
        out = []
        for summary in client.list_evaluation_jobs(maxResults=1000)["jobSummaries"]:
            job = client.get_evaluation_job(jobIdentifier=summary["jobArn"])
            job.pop("ResponseMetadata")
            # Timestamps are relative to the moment of seeding; all else is fixed.
            for key in ("creationTime", "lastModifiedTime"):
                job.pop(key)
            out.append(job)
        return sorted(out, key=lambda j: j["jobArn"])

    with LocalBedrock().start() as one, LocalBedrock().start() as two:
        assert one.seed(count=60, random_seed=9) == two.seed(count=60, random_seed=9)
        first, second = snapshot(one), snapshot(two)
    assert first == second and len(first) == 60


def test_seeding_twice_with_one_seed_adds_nothing_new():
    with LocalBedrock().start() as server:
        first = server.seed(count=30, random_seed=1)
        assert first["evaluation_jobs"] == 30 and first["model_import_jobs"] == 3
        assert server.seed(count=30, random_seed=1) == {
            "evaluation_jobs": 0,
            "model_import_jobs": 0,
            "imported_models": 0,
        }
        assert server.seed(count=30, random_seed=2)["evaluation_jobs"] == 30
        client = client_for(server.url)
        assert len(client.list_evaluation_jobs(maxResults=1000)["jobSummaries"]) == 60


def test_seeded_running_jobs_move_on_and_tags_are_served():
    with LocalBedrock(time_scale=0.0005).start() as server:
        server.seed(count=80, random_seed=3)
        client = client_for(server.url)
        summaries = client.list_evaluation_jobs(maxResults=1000)["jobSummaries"]
        tagged = [
            j
            for j in seed.generate(
                80, 3, region="us-east-1", account_id="123456789012", now=NOW
            ).evaluation_jobs
            if "jobTags" in j.request
        ]
        assert tagged
        tags = client.list_tags_for_resource(resourceARN=tagged[0].arn)["tags"]
        assert tags == tagged[0].request["jobTags"]
        running = [s["jobArn"] for s in summaries if s["status"] in ("InProgress", "Stopping")]
        assert running
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            statuses = {client.get_evaluation_job(jobIdentifier=a)["status"] for a in running}
            if statuses <= {"Completed", "Failed", "Stopped"}:
                break
            time.sleep(0.05)
        assert statuses <= {"Completed", "Failed", "Stopped"}


def test_a_served_job_clones_into_a_valid_create_request():
    """What "clone into the form" does: Get, keep the Create members, submit again."""
    create_members = set(service_model().operation_model("CreateEvaluationJob").input_shape.members)
    with LocalBedrock().start() as server:
        server.seed(count=120, random_seed=4)
        client = client_for(server.url)
        for summary in client.list_evaluation_jobs(maxResults=1000)["jobSummaries"]:
            job = client.get_evaluation_job(jobIdentifier=summary["jobArn"])
            request = {k: v for k, v in job.items() if k in create_members}
            request["jobName"] = "clone-" + job["jobName"][:50]
            assert validate("CreateEvaluationJob", request) == [], job["jobName"]
            assert rules.evaluation_job_rules(request) == [], job["jobName"]
        client.create_evaluation_job(**request)  # and Bedrock (here) takes it
