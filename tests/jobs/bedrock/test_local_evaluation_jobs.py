"""Evaluation jobs on the local Bedrock through boto3: create (every kind), get, list, stop,
batch delete, tags, idempotency, the state machine and every error path."""

from __future__ import annotations

import copy
import re
import time

import pytest

from jobs.bedrock.contract import aws_path
from tests.jobs.bedrock.support import client_for, wait_for

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/EvalRole"
MISSING = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:evaluation-job/zzzzzzzzzzzz"
JUDGE = {"bedrockEvaluatorModels": [{"modelIdentifier": "anthropic.claude-3-haiku-20240307-v1:0"}]}


def automated_request(name: str, **extra) -> dict:
    return {
        "jobName": name,
        "roleArn": ROLE,
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "QuestionAndAnswer",
                        "dataset": {"name": "Builtin.BoolQ"},
                        "metricNames": ["Builtin.Accuracy", "Builtin.Toxicity"],
                    }
                ]
            }
        },
        "inferenceConfig": {
            "models": [
                {
                    "bedrockModel": {
                        "modelIdentifier": "anthropic.claude-3-haiku-20240307-v1:0",
                        "inferenceParams": '{"temperature": 0.2}',
                    }
                }
            ]
        },
        "outputDataConfig": {"s3Uri": "s3://my-bucket/eval-output/"},
        **extra,
    }


def human_request(name: str) -> dict:
    return {
        "jobName": name,
        "roleArn": ROLE,
        "evaluationConfig": {
            "human": {
                "humanWorkflowConfig": {
                    "flowDefinitionArn": (
                        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:flow-definition/my-flow"
                    ),
                    "instructions": "Pick the better answer.",
                },
                "customMetrics": [
                    {
                        "name": "Preference",
                        "description": "Which is better",
                        "ratingMethod": "ComparisonChoice",
                    }
                ],
                "datasetMetricConfigs": [
                    {
                        "taskType": "Generation",
                        "dataset": {
                            "name": "my-prompts",
                            "datasetLocation": {"s3Uri": "s3://my-bucket/prompts.jsonl"},
                        },
                        "metricNames": ["Preference"],
                    }
                ],
            }
        },
        "inferenceConfig": {
            "models": [
                {"bedrockModel": {"modelIdentifier": "amazon.nova-pro-v1:0"}},
                {"bedrockModel": {"modelIdentifier": "meta.llama3-1-70b-instruct-v1:0"}},
            ]
        },
        "outputDataConfig": {"s3Uri": "s3://my-bucket/eval-output/"},
    }


def judge_request(name: str) -> dict:
    """LLM-as-a-judge over precomputed responses, with a custom metric."""
    return {
        "jobName": name,
        "roleArn": ROLE,
        "applicationType": "ModelEvaluation",
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "Custom",
                        "dataset": {
                            "name": "chat-logs",
                            "datasetLocation": {"s3Uri": "s3://my-bucket/chat.jsonl"},
                        },
                        "metricNames": ["Builtin.Correctness", "BrandVoice"],
                    }
                ],
                "evaluatorModelConfig": JUDGE,
                "customMetricConfig": {
                    "customMetrics": [
                        {
                            "customMetricDefinition": {
                                "name": "BrandVoice",
                                "instructions": "Rate {{prediction}} for {{prompt}}.",
                                "ratingScale": [
                                    {"definition": "Bad", "value": {"floatValue": 0.0}},
                                    {"definition": "Good", "value": {"floatValue": 1.0}},
                                ],
                            }
                        }
                    ],
                    "evaluatorModelConfig": JUDGE,
                },
            }
        },
        "inferenceConfig": {
            "models": [{"precomputedInferenceSource": {"inferenceSourceIdentifier": "bot-v2"}}]
        },
        "outputDataConfig": {"s3Uri": "s3://my-bucket/eval-output/"},
    }


def rag_request(name: str) -> dict:
    return {
        "jobName": name,
        "roleArn": ROLE,
        "applicationType": "RagEvaluation",
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "QuestionAndAnswer",
                        "dataset": {
                            "name": "kb-questions",
                            "datasetLocation": {"s3Uri": "s3://my-bucket/kb.jsonl"},
                        },
                        "metricNames": ["Builtin.ContextRelevance", "Builtin.ContextCoverage"],
                    }
                ],
                "evaluatorModelConfig": JUDGE,
            }
        },
        "inferenceConfig": {
            "ragConfigs": [
                {
                    "knowledgeBaseConfig": {
                        "retrieveConfig": {
                            "knowledgeBaseId": "KB12345678",
                            "knowledgeBaseRetrievalConfiguration": {
                                "vectorSearchConfiguration": {"numberOfResults": 5}
                            },
                        }
                    }
                }
            ]
        },
        "outputDataConfig": {"s3Uri": "s3://my-bucket/eval-output/"},
    }


def test_create_then_get_returns_the_whole_configuration(bedrock):
    request = automated_request(
        "qa-eval",
        jobDescription="Nightly QA check",
        customerEncryptionKeyId="alias/eval-key",
        jobTags=[{"key": "team", "value": "search"}],
    )
    arn = bedrock.create_evaluation_job(**request)["jobArn"]
    assert arn.startswith(f"arn:aws:bedrock:us-east-1:{ACCOUNT}:evaluation-job/")
    assert len(arn.rsplit("/", 1)[1]) == 12
    job = bedrock.get_evaluation_job(jobIdentifier=arn)
    for key in (
        "jobName",
        "jobDescription",
        "roleArn",
        "customerEncryptionKeyId",
        "evaluationConfig",
        "inferenceConfig",
        "outputDataConfig",
    ):
        assert job[key] == request[key], key
    assert (job["status"], job["jobType"], job["applicationType"]) == (
        "InProgress",
        "Automated",
        "ModelEvaluation",
    )
    assert job["lastModifiedTime"] == job["creationTime"]
    assert "failureMessages" not in job
    tags = bedrock.list_tags_for_resource(resourceARN=arn)["tags"]
    assert tags == [{"key": "team", "value": "search"}]


@pytest.mark.parametrize(
    ("build", "job_type", "app", "summary_keys"),
    [
        (human_request, "Human", "ModelEvaluation", {"modelIdentifiers"}),
        (
            judge_request,
            "Automated",
            "ModelEvaluation",
            {"evaluatorModelIdentifiers", "customMetricsEvaluatorModelIdentifiers"},
        ),
        (
            rag_request,
            "Automated",
            "RagEvaluation",
            {"ragIdentifiers", "evaluatorModelIdentifiers"},
        ),
    ],
)
def test_every_kind_of_job_is_accepted_and_summarised(bedrock, build, job_type, app, summary_keys):
    request = build("kind-check")
    arn = bedrock.create_evaluation_job(**request)["jobArn"]
    job = bedrock.get_evaluation_job(jobIdentifier=arn)
    assert (job["jobType"], job["applicationType"]) == (job_type, app)
    assert job["evaluationConfig"] == request["evaluationConfig"]
    assert job["inferenceConfig"] == request["inferenceConfig"]
    (summary,) = bedrock.list_evaluation_jobs()["jobSummaries"]
    assert summary_keys <= set(summary)
    assert summary["jobType"] == job_type and summary["applicationType"] == app
    assert summary["evaluationTaskTypes"] == [
        c["taskType"]
        for c in next(iter(request["evaluationConfig"].values()))["datasetMetricConfigs"]
    ]
    inference = summary["inferenceConfigSummary"]
    if app == "RagEvaluation":
        assert inference["ragConfigSummary"]["bedrockKnowledgeBaseIdentifiers"] == ["KB12345678"]
    elif build is judge_request:
        assert inference["modelConfigSummary"]["precomputedInferenceSourceIdentifiers"] == [
            "bot-v2"
        ]
    else:
        assert len(inference["modelConfigSummary"]["bedrockModelIdentifiers"]) == 2


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        # Automated jobs evaluate one model.
        (
            lambda r: r["inferenceConfig"]["models"].append(
                copy.deepcopy(r["inferenceConfig"]["models"][0])
            ),
            "inferenceConfig.models",
        ),
        # A built-in dataset of another task type.
        (
            lambda r: r["evaluationConfig"]["automated"]["datasetMetricConfigs"][0][
                "dataset"
            ].update(name="Builtin.Gigaword"),
            "evaluationConfig.automated.datasetMetricConfigs[0].dataset.name",
        ),
        # A judge metric without a judge model.
        (
            lambda r: r["evaluationConfig"]["automated"]["datasetMetricConfigs"][0][
                "metricNames"
            ].append("Builtin.Correctness"),
            "evaluationConfig.automated.datasetMetricConfigs[0].metricNames[2]",
        ),
        # Both union members set.
        (
            lambda r: r["evaluationConfig"].update(
                human=human_request("x")["evaluationConfig"]["human"]
            ),
            "evaluationConfig",
        ),
    ],
)
def test_requests_bedrock_would_refuse_are_validation_errors(bedrock, unchecked, mutate, path):
    request = automated_request("refused")
    mutate(request)
    with pytest.raises(bedrock.exceptions.ValidationException) as caught:
        unchecked.create_evaluation_job(**request)
    message = caught.value.response["Error"]["Message"]
    assert re.match(r"\d+ validation errors? detected: ", message)
    assert f" at '{aws_path(path)}' failed to satisfy constraint: " in message
    assert bedrock.list_evaluation_jobs()["jobSummaries"] == []


def test_duplicate_name_is_a_conflict(bedrock):
    bedrock.create_evaluation_job(**automated_request("only-once"))
    with pytest.raises(bedrock.exceptions.ConflictException, match="only-once"):
        bedrock.create_evaluation_job(**automated_request("only-once"))
    assert len(bedrock.list_evaluation_jobs()["jobSummaries"]) == 1


def test_client_request_token_makes_creation_idempotent(lb, bedrock):
    request = automated_request("idem", clientRequestToken="token-123")
    first = bedrock.create_evaluation_job(**request)["jobArn"]
    again = bedrock.create_evaluation_job(**request)["jobArn"]
    assert first == again
    # A repeated token with another body is not the same request: refused, nothing created
    # (issue 14; see Store._idempotent for why ConflictException).
    with pytest.raises(bedrock.exceptions.ConflictException):
        bedrock.create_evaluation_job(**{**request, "jobName": "idem-two"})
    assert len(bedrock.list_evaluation_jobs()["jobSummaries"]) == 1
    assert lb.call_counts()["CreateEvaluationJob"] == 3
    # boto3 fills in a fresh token when none is given, so plain retries create new jobs.
    bedrock.create_evaluation_job(**automated_request("idem-three"))
    assert len(bedrock.list_evaluation_jobs()["jobSummaries"]) == 2


def test_get_and_stop_of_a_missing_job_are_not_found(bedrock):
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.get_evaluation_job(jobIdentifier=MISSING)
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.stop_evaluation_job(jobIdentifier=MISSING)


def test_identifiers_must_be_arns(bedrock):
    bedrock.create_evaluation_job(**automated_request("by-name"))
    # The model's pattern for jobIdentifier admits ARNs only.
    with pytest.raises(bedrock.exceptions.ValidationException, match="jobIdentifier"):
        bedrock.get_evaluation_job(jobIdentifier="by-name")


def test_jobs_complete_on_the_scaled_clock(lb, bedrock):
    arn = bedrock.create_evaluation_job(**automated_request("finishes"))["jobArn"]
    assert bedrock.get_evaluation_job(jobIdentifier=arn)["status"] == "InProgress"
    lb.set_faults(time_scale=0.001)  # 90 nominal seconds become 90 ms
    job = wait_for(
        lambda: (j := bedrock.get_evaluation_job(jobIdentifier=arn))["status"] == "Completed" and j
    )
    assert job["lastModifiedTime"] > job["creationTime"]
    assert "failureMessages" not in job


def test_a_job_named_fail_ends_failed_with_reasons(bedrock, lb):
    lb.set_faults(time_scale=0.001)
    arn = bedrock.create_evaluation_job(**automated_request("will-fail"))["jobArn"]
    job = wait_for(
        lambda: (j := bedrock.get_evaluation_job(jobIdentifier=arn))["status"] == "Failed" and j
    )
    assert job["failureMessages"] and all(job["failureMessages"])


def test_stop_moves_through_stopping_to_stopped(lb, bedrock):
    arn = bedrock.create_evaluation_job(**automated_request("to-stop"))["jobArn"]
    response = bedrock.stop_evaluation_job(jobIdentifier=arn)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert bedrock.get_evaluation_job(jobIdentifier=arn)["status"] == "Stopping"
    # A second stop conflicts with the stop under way.
    with pytest.raises(bedrock.exceptions.ConflictException, match="Stopping"):
        bedrock.stop_evaluation_job(jobIdentifier=arn)
    lb.set_faults(time_scale=0.001)
    wait_for(lambda: bedrock.get_evaluation_job(jobIdentifier=arn)["status"] == "Stopped")
    # The stopped job never completes, however long we wait.
    time.sleep(0.15)
    assert bedrock.get_evaluation_job(jobIdentifier=arn)["status"] == "Stopped"


@pytest.mark.parametrize("status", ["Completed", "Failed", "Stopped"])
def test_stop_of_a_finished_job_is_a_conflict(lb, bedrock, status):
    arn = bedrock.create_evaluation_job(**automated_request("done"))["jobArn"]
    lb.force_status(arn, status)
    with pytest.raises(bedrock.exceptions.ConflictException, match=status):
        bedrock.stop_evaluation_job(jobIdentifier=arn)


def test_batch_delete_of_a_mix(lb, bedrock):
    arns = {}
    for status in ("Completed", "Failed", "Stopped", "InProgress", "Stopping"):
        arn = bedrock.create_evaluation_job(**automated_request(f"job-{status.lower()}"))["jobArn"]
        lb.force_status(arn, status)
        arns[status] = arn
    requested = [*arns.values(), MISSING]
    response = bedrock.batch_delete_evaluation_job(jobIdentifiers=requested)
    deleted = {d["jobIdentifier"]: d["jobStatus"] for d in response["evaluationJobs"]}
    assert deleted == {arns[s]: "Deleting" for s in ("Completed", "Failed", "Stopped")}
    errors = {e["jobIdentifier"]: e for e in response["errors"]}
    assert errors[MISSING]["code"] == "404"
    assert errors[MISSING]["message"] == "Unable to locate this job to delete."
    for status in ("InProgress", "Stopping"):
        error = errors[arns[status]]
        assert error["code"].startswith("4") and error["code"] != "404"
        assert status in error["message"]
    # Deleting is visible, then the jobs disappear and their names are free again.
    job = bedrock.get_evaluation_job(jobIdentifier=arns["Completed"])
    assert job["status"] == "Deleting"
    statuses = {s["jobArn"]: s["status"] for s in bedrock.list_evaluation_jobs()["jobSummaries"]}
    assert statuses[arns["Failed"]] == "Deleting"
    lb.set_faults(time_scale=0.001)
    wait_for(lambda: len(bedrock.list_evaluation_jobs()["jobSummaries"]) == 2)
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.get_evaluation_job(jobIdentifier=arns["Completed"])
    bedrock.create_evaluation_job(**automated_request("job-completed"))


def test_batch_delete_takes_1_to_25_arns(bedrock, unchecked):
    with pytest.raises(bedrock.exceptions.ValidationException, match="jobIdentifiers"):
        bedrock.batch_delete_evaluation_job(jobIdentifiers=[MISSING] * 26)
    with pytest.raises(bedrock.exceptions.ValidationException, match="jobIdentifiers"):
        unchecked.batch_delete_evaluation_job(jobIdentifiers=[])
    response = bedrock.batch_delete_evaluation_job(jobIdentifiers=[MISSING] * 25)
    assert len(response["errors"]) == 25 and response["evaluationJobs"] == []


def test_tags_of_an_unknown_resource_are_not_found(bedrock):
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.list_tags_for_resource(resourceARN=MISSING)


def test_concurrent_creates_are_safe(lb):
    import threading

    # 40 running jobs: an account above AWS's 20 (this test is about thread safety).
    lb.set_quotas(concurrent_automatic_evaluation_jobs=40)
    clients = [client_for(lb.url) for _ in range(4)]
    failures: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(10):
                clients[i].create_evaluation_job(**automated_request(f"c-{i}-{j}"))
                clients[i].list_evaluation_jobs(maxResults=5)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    summaries = clients[0].list_evaluation_jobs(maxResults=100)["jobSummaries"]
    assert len({s["jobArn"] for s in summaries}) == 40
