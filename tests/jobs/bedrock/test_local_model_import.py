"""Model import jobs and imported models on the local Bedrock through boto3."""

from __future__ import annotations

import pytest

from jobs.bedrock.local.protocol import ServiceError
from tests.jobs.bedrock.support import wait_for

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ImportRole"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"


def import_request(name: str, model: str, **extra) -> dict:
    return {
        "jobName": name,
        "importedModelName": model,
        "roleArn": ROLE,
        "modelDataSource": {"s3DataSource": {"s3Uri": "s3://my-models/mistral-7b/"}},
        **extra,
    }


def test_an_import_creates_the_model_when_it_completes(lb, bedrock):
    request = import_request(
        "import-1",
        "my-model",
        jobTags=[{"key": "kind", "value": "job"}],
        importedModelTags=[{"key": "kind", "value": "model"}],
        vpcConfig={"subnetIds": ["subnet-0abc"], "securityGroupIds": ["sg-0abc"]},
        importedModelKmsKeyId=KEY,
    )
    arn = bedrock.create_model_import_job(**request)["jobArn"]
    assert arn.startswith(f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-import-job/")
    job = bedrock.get_model_import_job(jobIdentifier=arn)
    assert job["status"] == "InProgress"
    assert "importedModelArn" not in job and "endTime" not in job
    assert job["vpcConfig"] == request["vpcConfig"]
    assert job["importedModelKmsKeyArn"] == KEY
    assert bedrock.list_imported_models()["modelSummaries"] == []

    lb.set_faults(time_scale=0.001)
    job = wait_for(
        lambda: (
            (j := bedrock.get_model_import_job(jobIdentifier=arn))["status"] == "Completed" and j
        )
    )
    assert job["endTime"] >= job["creationTime"]
    model_arn = job["importedModelArn"]
    assert model_arn.startswith(f"arn:aws:bedrock:us-east-1:{ACCOUNT}:imported-model/")
    model = bedrock.get_imported_model(modelIdentifier=model_arn)
    assert (model["modelName"], model["jobArn"], model["jobName"]) == ("my-model", arn, "import-1")
    assert model["modelArchitecture"] == "mistral"  # read from the S3 path, like Bedrock does
    assert model["modelDataSource"] == request["modelDataSource"]
    assert model["modelKmsKeyArn"] == KEY
    assert model["customModelUnits"]["customModelUnitsPerModelCopy"] >= 1
    # "Name or ARN" identifiers: both work.
    assert bedrock.get_imported_model(modelIdentifier="my-model")["modelArn"] == model_arn
    assert bedrock.get_model_import_job(jobIdentifier="import-1")["jobArn"] == arn
    (summary,) = bedrock.list_model_import_jobs()["modelImportJobSummaries"]
    assert (summary["importedModelArn"], summary["importedModelName"]) == (model_arn, "my-model")
    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == request["jobTags"]
    assert (
        bedrock.list_tags_for_resource(resourceARN=model_arn)["tags"]
        == (request["importedModelTags"])
    )


def test_a_failed_import_says_why_and_creates_no_model(lb, bedrock):
    lb.set_faults(time_scale=0.001)
    arn = bedrock.create_model_import_job(**import_request("import-fail", "never"))["jobArn"]
    job = wait_for(
        lambda: (j := bedrock.get_model_import_job(jobIdentifier=arn))["status"] == "Failed" and j
    )
    assert job["failureMessage"]
    assert "importedModelArn" not in job
    assert bedrock.list_imported_models()["modelSummaries"] == []


def test_names_conflict(lb, bedrock):
    bedrock.create_model_import_job(**import_request("job-a", "model-a"))
    with pytest.raises(bedrock.exceptions.ConflictException, match="job-a"):
        bedrock.create_model_import_job(**import_request("job-a", "model-b"))
    # The model name is taken while an import is creating it, and after.
    with pytest.raises(bedrock.exceptions.ConflictException, match="model-a"):
        bedrock.create_model_import_job(**import_request("job-b", "model-a"))
    lb.set_faults(time_scale=0.001)
    wait_for(lambda: bedrock.list_imported_models()["modelSummaries"])
    with pytest.raises(bedrock.exceptions.ConflictException, match="model-a"):
        bedrock.create_model_import_job(**import_request("job-c", "model-a"))


def test_client_request_token_makes_an_import_idempotent(bedrock):
    request = import_request("job-t", "model-t", clientRequestToken="abc-123")
    first = bedrock.create_model_import_job(**request)["jobArn"]
    assert bedrock.create_model_import_job(**request)["jobArn"] == first
    assert len(bedrock.list_model_import_jobs()["modelImportJobSummaries"]) == 1


def test_delete_imported_model(lb, bedrock):
    lb.set_faults(time_scale=0.001)
    bedrock.create_model_import_job(**import_request("job-d", "model-d"))
    # One import at a time (the concurrent model import jobs quota is 1).
    wait_for(lambda: len(bedrock.list_imported_models()["modelSummaries"]) == 1)
    bedrock.create_model_import_job(**import_request("job-e", "model-e"))
    wait_for(lambda: len(bedrock.list_imported_models()["modelSummaries"]) == 2)
    model_arn = bedrock.get_imported_model(modelIdentifier="model-e")["modelArn"]
    assert (
        bedrock.delete_imported_model(modelIdentifier="model-d")["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 200
    )
    bedrock.delete_imported_model(modelIdentifier=model_arn)
    assert bedrock.list_imported_models()["modelSummaries"] == []
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.get_imported_model(modelIdentifier="model-d")
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.delete_imported_model(modelIdentifier="model-d")
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.list_tags_for_resource(resourceARN=model_arn)
    # The import job stays, pointing at the model it made.
    job = bedrock.get_model_import_job(jobIdentifier="job-e")
    assert job["importedModelArn"] == model_arn


def test_missing_and_invalid_identifiers(bedrock):
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.get_model_import_job(jobIdentifier="no-such-job")
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.get_imported_model(modelIdentifier="no-such-model")
    with pytest.raises(bedrock.exceptions.ValidationException, match="modelIdentifier"):
        bedrock.get_imported_model(modelIdentifier="bad name!")
    with pytest.raises(bedrock.exceptions.ValidationException, match="importedModelName"):
        bedrock.create_model_import_job(**import_request("job-x", "bad name"))


def test_forced_status_applies_to_import_jobs(lb, bedrock):
    arn = bedrock.create_model_import_job(**import_request("job-f", "model-f"))["jobArn"]
    lb.force_status(arn, "Completed")
    job = bedrock.get_model_import_job(jobIdentifier=arn)
    assert job["status"] == "Completed" and job["importedModelArn"]
    assert bedrock.get_imported_model(modelIdentifier="model-f")["jobArn"] == arn
    with pytest.raises(ServiceError, match="must be one of InProgress, Completed, Failed"):
        lb.force_status(arn, "Deleting")  # not a status import jobs have
    with pytest.raises(ServiceError) as caught:
        lb.force_status(arn.replace(arn[-12:], "zzzzzzzzzzzz"), "Failed")
    assert caught.value.code == "ResourceNotFoundException"
