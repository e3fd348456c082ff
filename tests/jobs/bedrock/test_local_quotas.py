"""Service quotas and errors made to order on the local Bedrock, through boto3 and the control
API. Quotas: https://docs.aws.amazon.com/general/latest/gr/bedrock.html#limits_bedrock"""

from __future__ import annotations

import json
import urllib.request

import pytest

from jobs.bedrock.contract import service_model
from jobs.bedrock.local.server import OPERATIONS, LocalBedrock
from jobs.bedrock.local.store import QUOTA_DEFAULTS
from tests.jobs.bedrock.support import ROLE, automated_request, client_for, wait_for


def human_request(name: str) -> dict:
    return {
        "jobName": name,
        "roleArn": ROLE,
        "evaluationConfig": {
            "human": {
                "humanWorkflowConfig": {
                    "flowDefinitionArn": (
                        "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/review"
                    )
                },
                "customMetrics": [{"name": "Helpfulness", "ratingMethod": "ThumbsUpDown"}],
                "datasetMetricConfigs": [
                    {
                        "taskType": "Generation",
                        "dataset": {
                            "name": "prompts",
                            "datasetLocation": {"s3Uri": "s3://my-bucket/prompts.jsonl"},
                        },
                        "metricNames": ["Helpfulness"],
                    }
                ],
            }
        },
        "inferenceConfig": {
            "models": [{"bedrockModel": {"modelIdentifier": "amazon.nova-pro-v1:0"}}]
        },
        "outputDataConfig": {"s3Uri": "s3://my-bucket/out/"},
    }


def import_request(name: str, model: str) -> dict:
    return {
        "jobName": name,
        "importedModelName": model,
        "roleArn": ROLE,
        "modelDataSource": {"s3DataSource": {"s3Uri": "s3://my-models/llama3/"}},
    }


def control(lb: LocalBedrock, method: str, path: str, body: dict | None = None):
    request = urllib.request.Request(
        lb.url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as response:  # noqa: S310 - local test server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_quotas_start_at_aws_defaults(lb):
    status, body = control(lb, "GET", "/_local/quotas")
    assert status == 200
    assert {k: body[k] for k in QUOTA_DEFAULTS} == {
        "concurrent_automatic_evaluation_jobs": 20,
        "concurrent_human_evaluation_jobs": 10,
        "evaluation_jobs": 5000,
        "concurrent_model_import_jobs": 1,
        "imported_models": 3,
    }
    assert body["usage"]["evaluation_jobs"] == 0


def test_the_21st_running_automatic_job_is_refused_with_the_quota_named(lb, bedrock):
    arns = [
        bedrock.create_evaluation_job(**automated_request(f"auto-{i}"))["jobArn"] for i in range(20)
    ]
    with pytest.raises(bedrock.exceptions.ServiceQuotaExceededException) as caught:
        bedrock.create_evaluation_job(**automated_request("auto-20"))
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400  # as the model gives the shape
    assert "Number of concurrent automatic model evaluation jobs" in error["Error"]["Message"]
    # Human jobs have their own quota; a finished automatic job frees a slot.
    bedrock.create_evaluation_job(**human_request("human-0"))
    bedrock.stop_evaluation_job(jobIdentifier=arns[0])
    with pytest.raises(bedrock.exceptions.ServiceQuotaExceededException):
        bedrock.create_evaluation_job(**automated_request("auto-20"))  # Stopping still runs
    lb.set_faults(time_scale=0.001)
    wait_for(lambda: bedrock.get_evaluation_job(jobIdentifier=arns[0])["status"] == "Stopped")
    lb.set_faults(time_scale=1)
    bedrock.create_evaluation_job(**automated_request("auto-20"))


def test_the_11th_running_human_job_is_refused(lb, bedrock):
    for i in range(10):
        bedrock.create_evaluation_job(**human_request(f"human-{i}"))
    with pytest.raises(bedrock.exceptions.ServiceQuotaExceededException, match="human workers"):
        bedrock.create_evaluation_job(**human_request("human-10"))
    bedrock.create_evaluation_job(**automated_request("auto-ok"))


def test_the_total_of_evaluation_jobs_is_a_quota_too(lb, bedrock):
    lb.set_quotas(evaluation_jobs=2)
    bedrock.create_evaluation_job(**automated_request("one"))
    bedrock.create_evaluation_job(**automated_request("two"))
    with pytest.raises(
        bedrock.exceptions.ServiceQuotaExceededException, match="Number of model evaluation jobs"
    ):
        bedrock.create_evaluation_job(**automated_request("three"))


def test_a_second_concurrent_import_is_refused(lb, bedrock):
    bedrock.create_model_import_job(**import_request("import-a", "model-a"))
    with pytest.raises(
        bedrock.exceptions.ServiceQuotaExceededException, match="Concurrent model import jobs"
    ) as caught:
        bedrock.create_model_import_job(**import_request("import-b", "model-b"))
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # Nothing was created: the job name is still free once the first import is done.
    lb.set_faults(time_scale=0.001)
    wait_for(lambda: bedrock.list_imported_models()["modelSummaries"])
    bedrock.create_model_import_job(**import_request("import-b", "model-b"))


def test_the_4th_imported_model_is_refused_at_create_until_the_quota_is_raised(lb, bedrock):
    lb.set_faults(time_scale=0.001)
    for i in range(3):
        bedrock.create_model_import_job(**import_request(f"import-{i}", f"model-{i}"))
        wait_for(lambda i=i: len(bedrock.list_imported_models()["modelSummaries"]) == i + 1)
    with pytest.raises(
        bedrock.exceptions.ServiceQuotaExceededException, match="Imported models per account"
    ):
        bedrock.create_model_import_job(**import_request("import-3", "model-3"))
    assert len(bedrock.list_model_import_jobs()["modelImportJobSummaries"]) == 3
    # Deleting a model frees its slot; so does asking for more.
    bedrock.delete_imported_model(modelIdentifier="model-0")
    bedrock.create_model_import_job(**import_request("import-3", "model-3"))
    wait_for(lambda: len(bedrock.list_imported_models()["modelSummaries"]) == 3)
    status, body = control(lb, "POST", "/_local/quotas", {"imported_models": 4})
    assert status == 200 and body["imported_models"] == 4
    bedrock.create_model_import_job(**import_request("import-4", "model-4"))


def test_quota_settings_are_checked(lb):
    for bad in ({"nonsense": 3}, {"imported_models": -1}, {"imported_models": "ten"}):
        status, body = control(lb, "POST", "/_local/quotas", bad)
        assert status == 400 and body["message"]
    assert control(lb, "GET", "/_local/quotas")[1]["imported_models"] == 3


def test_seeding_stays_within_the_concurrency_quotas_and_raises_the_models_quota(lb):
    lb.seed(count=600, random_seed=3)
    lb.seed(count=300, random_seed=4)
    quotas = lb.get_quotas()
    usage = quotas["usage"]
    assert 0 < usage["concurrent_automatic_evaluation_jobs"] <= 20
    assert 0 < usage["concurrent_human_evaluation_jobs"] <= 10
    assert usage["concurrent_model_import_jobs"] <= 1
    assert usage["imported_models"] > 3
    assert quotas["imported_models"] == usage["imported_models"]


# --- errors on demand -----------------------------------------------------------------------


def test_every_modelled_error_of_every_operation_can_be_injected(lb, unchecked):
    model = service_model()
    for name in OPERATIONS:
        op = model.operation_model(name)
        for shape in op.error_shapes:
            lb.inject_error(name, shape.name, count=1)
            with pytest.raises(unchecked.exceptions.ClientError) as caught:
                _call_anything(unchecked, name)
            response = caught.value.response
            assert response["Error"]["Code"] == shape.name, (name, shape.name)
            want = shape.metadata["error"]["httpStatusCode"]
            assert response["ResponseMetadata"]["HTTPStatusCode"] == want
            assert response["Error"]["Message"]
    assert lb.errors.as_list() == []


_JOB = "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/abcdefghijkl"
_ANY_CALL = {
    "CreateEvaluationJob": lambda c: c.create_evaluation_job(**automated_request("any")),
    "GetEvaluationJob": lambda c: c.get_evaluation_job(jobIdentifier=_JOB),
    "ListEvaluationJobs": lambda c: c.list_evaluation_jobs(),
    "StopEvaluationJob": lambda c: c.stop_evaluation_job(jobIdentifier=_JOB),
    "BatchDeleteEvaluationJob": lambda c: c.batch_delete_evaluation_job(jobIdentifiers=[_JOB]),
    "CreateModelImportJob": lambda c: c.create_model_import_job(**import_request("i", "m")),
    "GetModelImportJob": lambda c: c.get_model_import_job(jobIdentifier="i"),
    "ListModelImportJobs": lambda c: c.list_model_import_jobs(),
    "GetImportedModel": lambda c: c.get_imported_model(modelIdentifier="m"),
    "ListImportedModels": lambda c: c.list_imported_models(),
    "DeleteImportedModel": lambda c: c.delete_imported_model(modelIdentifier="m"),
    "ListTagsForResource": lambda c: c.list_tags_for_resource(resourceARN=_JOB),
}


def _call_anything(client, operation: str):
    """One call of `operation`; the injected error answers it before the request is served."""
    return _ANY_CALL[operation](client)


def test_injected_errors_take_the_next_n_calls_then_stop(lb, bedrock):
    lb.inject_error("ListEvaluationJobs", "AccessDeniedException", count=2)
    for _ in range(2):
        with pytest.raises(bedrock.exceptions.AccessDeniedException) as caught:
            bedrock.list_evaluation_jobs()
        assert "bedrock:ListEvaluationJobs" in caught.value.response["Error"]["Message"]
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert bedrock.list_evaluation_jobs()["jobSummaries"] == []
    # Other operations were never affected.
    bedrock.list_model_import_jobs()


def test_a_share_of_calls_can_fail(lb, bedrock):
    lb.inject_error("ListImportedModels", "InternalServerException", rate=0.5)
    outcomes = []
    for _ in range(60):
        try:
            bedrock.list_imported_models()
            outcomes.append(True)
        except bedrock.exceptions.InternalServerException:
            outcomes.append(False)
    assert 10 < outcomes.count(False) < 50
    lb.clear_errors()
    bedrock.list_imported_models()


def test_too_many_tags_carries_its_resource_name(lb, bedrock):
    lb.inject_error("CreateModelImportJob", "TooManyTagsException", count=1)
    with pytest.raises(bedrock.exceptions.TooManyTagsException) as caught:
        bedrock.create_model_import_job(**import_request("tagged", "tagged-model"))
    assert caught.value.response["resourceName"].startswith("arn:aws:bedrock:")


def test_the_control_api_injects_only_modelled_errors(lb):
    ok = {"operation": "StopEvaluationJob", "code": "ConflictException", "count": 1}
    status, body = control(lb, "POST", "/_local/errors", ok)
    assert status == 200 and body["status"] == 400
    assert control(lb, "GET", "/_local/errors")[1][0]["code"] == "ConflictException"
    for bad in (
        {**ok, "code": "ServiceQuotaExceededException"},  # not modelled for Stop
        {**ok, "code": "ServiceUnavailableException"},
        {**ok, "operation": "InvokeModel"},
        {**ok, "count": 0},
        {**ok, "count": 1, "rate": 0.5},
        {"operation": "StopEvaluationJob", "code": "ConflictException"},
        {**ok, "rate": 2},
        {**ok, "surprise": True},
    ):
        status, body = control(lb, "POST", "/_local/errors", bad)
        assert status == 400 and body["message"], bad
    assert control(lb, "POST", "/_local/errors/reset", {})[0] == 200
    assert control(lb, "GET", "/_local/errors")[1] == []


def test_the_flag_sets_each_quota(capsys):
    # The command builds one --quota-* flag per quota from the same table.
    from jobs.management.commands.bedrock_local import Command

    parser = Command().create_parser("manage.py", "bedrock_local")
    options = parser.parse_args(["--quota-imported-models", "50", "--quota-evaluation-jobs", "9"])
    assert options.quota_imported_models == 50 and options.quota_evaluation_jobs == 9
    assert options.quota_concurrent_model_import_jobs is None
    with LocalBedrock(quotas={"imported_models": 50}) as server:
        assert server.get_quotas()["imported_models"] == 50
        client_for(server.url).list_imported_models()


def test_running_counts_stay_true_through_every_status_change(lb, bedrock):
    import time

    lb.seed(count=200, random_seed=8)
    arns = sorted(lb.store.evaluation_jobs)
    cycle = ["InProgress", "Completed", "Stopping", "Failed"] * 50
    for arn, status in zip(arns[:100], cycle, strict=False):
        lb.force_status(arn, status)
    running = [a for a in arns[:100] if lb.store.evaluation_jobs[a].status == "InProgress"]
    done = [a for a in arns[:100] if lb.store.evaluation_jobs[a].status == "Completed"]
    for arn in running[:5]:
        bedrock.stop_evaluation_job(jobIdentifier=arn)
    bedrock.batch_delete_evaluation_job(jobIdentifiers=done[:5])
    lb.set_faults(time_scale=0.0001)  # stops finish, deletions purge, seeded work ends
    time.sleep(0.3)
    bedrock.list_evaluation_jobs(maxResults=1)  # each request applies what is due
    assert len(lb.store.evaluation_jobs) == 195

    def scanned() -> dict[str, int]:
        jobs = list(lb.store.evaluation_jobs.values())
        running = [j for j in jobs if j.status in ("InProgress", "Stopping")]
        human = sum(1 for j in running if "human" in j.request["evaluationConfig"])
        imports = sum(1 for j in lb.store.import_jobs.values() if j.status == "InProgress")
        return {
            "concurrent_automatic_evaluation_jobs": len(running) - human,
            "concurrent_human_evaluation_jobs": human,
            "evaluation_jobs": len(jobs),
            "concurrent_model_import_jobs": imports,
            "imported_models": len(lb.store.models) + imports,
        }

    assert lb.store.usage() == scanned()
    lb.reset()
    assert lb.store.usage() == dict.fromkeys(QUOTA_DEFAULTS, 0)
