"""The local Bedrock's wire protocol: routes and shapes from botocore's model, label encoding,
timestamps, error format and request ids, seen by boto3 and by raw HTTP."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
from urllib.parse import quote, urlsplit

import boto3
import pytest

from jobs.bedrock.contract import service_model
from jobs.bedrock.local import protocol
from jobs.bedrock.local.server import OPERATIONS
from tests.jobs.bedrock.support import automated_request

ROLE = "arn:aws:iam::123456789012:role/EvalRole"


def raw(lb, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """One raw HTTP exchange: (status, headers, parsed JSON body)."""
    conn = http.client.HTTPConnection(urlsplit(lb.url).netloc, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, response.headers, json.loads(data) if data else None
    finally:
        conn.close()


def test_every_operation_routes_from_the_model():
    service = service_model()
    router = protocol.Router(service, OPERATIONS)
    arn = "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/abcdefghijkl"
    encoded = quote(arn, safe="")
    for name in OPERATIONS:
        op = service.operation_model(name)
        path = op.http["requestUri"]
        for label in re.findall(r"{(\w+)}", path):
            path = path.replace("{" + label + "}", encoded)
        matched = router.match(op.http["method"], path, {})
        assert matched is not None, name
        assert matched[0].name == name
        assert set(matched[1].values()) <= {arn}  # labels decoded after matching
    # The literal route wins over the labelled one: batch-delete is not a job id.
    assert router.match("POST", "/evaluation-jobs/batch-delete", {})[0].name == (
        "BatchDeleteEvaluationJob"
    )
    assert router.match("GET", "/evaluation-jobs/batch-delete", {})[0].name == "GetEvaluationJob"
    assert router.match("PUT", "/evaluation-jobs", {}) is None


def test_status_codes_come_from_the_model(lb, bedrock):
    created = bedrock.create_evaluation_job(**automated_request("codes"))
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    imported = bedrock.create_model_import_job(
        jobName="imp",
        importedModelName="m1",
        roleArn=ROLE,
        modelDataSource={"s3DataSource": {"s3Uri": "s3://models/llama3/"}},
    )
    assert imported["ResponseMetadata"]["HTTPStatusCode"] == 201
    lb.force_status(created["jobArn"], "Completed")
    deleted = bedrock.batch_delete_evaluation_job(jobIdentifiers=[created["jobArn"]])
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    listed = bedrock.list_evaluation_jobs()
    assert listed["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_arn_labels_arrive_percent_encoded_and_are_decoded(lb, bedrock):
    arn = bedrock.create_evaluation_job(**automated_request("encoded"))["jobArn"]
    # What botocore sends: ':' and '/' inside the label percent-encoded.
    status, _, body = raw(lb, "GET", "/evaluation-jobs/" + quote(arn, safe=""))
    assert status == 200 and body["jobArn"] == arn
    # An unencoded '/' makes it another path, which is no operation.
    status, headers, _ = raw(lb, "GET", "/evaluation-jobs/" + arn)
    assert status == 404 and headers["x-amzn-ErrorType"] == "UnknownOperationException"


def test_timestamps_are_iso8601_with_milliseconds_and_round_trip(lb, bedrock):
    arn = bedrock.create_evaluation_job(**automated_request("stamps"))["jobArn"]
    _, _, body = raw(lb, "GET", "/evaluation-jobs/" + quote(arn, safe=""))
    # The model gives these members timestampFormat iso8601 (not rest-json's epoch default).
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["creationTime"])
    job = bedrock.get_evaluation_job(jobIdentifier=arn)
    summary = bedrock.list_evaluation_jobs()["jobSummaries"][0]
    created = job["creationTime"]
    assert created == summary["creationTime"]
    assert created.tzinfo is not None
    assert abs(dt.datetime.now(dt.UTC) - created) < dt.timedelta(minutes=1)
    # The exact value sent back as a filter: strictly after excludes it, just before includes it.
    assert bedrock.list_evaluation_jobs(creationTimeAfter=created)["jobSummaries"] == []
    just_before = created - dt.timedelta(microseconds=1)
    after = bedrock.list_evaluation_jobs(creationTimeAfter=just_before)["jobSummaries"]
    assert [s["jobArn"] for s in after] == [arn]
    until = bedrock.list_evaluation_jobs(creationTimeBefore=created)["jobSummaries"]
    assert until == []


def test_errors_carry_type_header_message_and_request_id(lb, bedrock):
    status, headers, body = raw(
        lb,
        "GET",
        "/evaluation-jobs/"
        + quote("arn:aws:bedrock:us-east-1:123456789012:evaluation-job/zzzzzzzzzzzz", safe=""),
    )
    assert status == 404
    assert headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert headers["x-amzn-RequestId"]
    assert "zzzzzzzzzzzz" in body["message"]
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException) as caught:
        bedrock.get_evaluation_job(
            jobIdentifier="arn:aws:bedrock:us-east-1:123456789012:evaluation-job/zzzzzzzzzzzz"
        )
    response = caught.value.response
    assert response["Error"]["Code"] == "ResourceNotFoundException"
    assert "zzzzzzzzzzzz" in response["Error"]["Message"]
    assert re.fullmatch(r"[0-9a-f-]{36}", response["ResponseMetadata"]["RequestId"])


def test_every_response_has_a_distinct_request_id(bedrock):
    ids = {bedrock.list_evaluation_jobs()["ResponseMetadata"]["RequestId"] for _ in range(3)}
    assert len(ids) == 3


def test_validation_lists_every_violation_with_its_path(bedrock):
    request = automated_request("Bad_Name", roleArn="not-a-role")
    request["inferenceConfig"]["models"][0]["bedrockModel"]["modelIdentifier"] = "??"
    with pytest.raises(bedrock.exceptions.ValidationException) as caught:
        bedrock.create_evaluation_job(**request)
    message = caught.value.response["Error"]["Message"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # AWS's form: "N validation errors detected: Value 'x' at 'path' failed to satisfy
    # constraint: Member must ...; ...", list members 1-based.
    assert message.startswith("3 validation errors detected: Value 'Bad_Name' at 'jobName' ")
    paths = re.findall(r"at '([^']+)' failed to satisfy constraint: Member must", message)
    assert paths == [
        "jobName",
        "roleArn",
        "inferenceConfig.models.1.member.bedrockModel.modelIdentifier",
    ]
    assert "Member must satisfy regular expression pattern: [a-z0-9](-*[a-z0-9]){0,62}" in message


def test_querystring_members_are_typed_and_validated(lb, bedrock):
    with pytest.raises(bedrock.exceptions.ValidationException, match="maxResults"):
        bedrock.list_evaluation_jobs(maxResults=1001)
    status, headers, body = raw(lb, "GET", "/evaluation-jobs?maxResults=ten")
    assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException"
    assert body["message"].startswith("maxResults:")
    status, _, body = raw(lb, "GET", "/evaluation-jobs?statusEquals=Running")
    assert status == 400 and body["message"] == (
        "1 validation error detected: Value 'Running' at 'statusEquals' failed to satisfy "
        "constraint: Member must satisfy enum value set: "
        "[InProgress, Completed, Failed, Stopping, Stopped, Deleting]"
    )
    status, _, body = raw(lb, "GET", "/evaluation-jobs?creationTimeAfter=2024-01-01T00:00:00Z")
    assert status == 200 and body == {"jobSummaries": []}


def test_malformed_json_is_a_serialization_error(lb):
    status, headers, body = raw(lb, "POST", "/evaluation-jobs", body=b"{not json")
    assert status == 400 and headers["x-amzn-ErrorType"] == "SerializationException"
    assert body["message"]


def test_unsigned_and_oddly_signed_requests_are_accepted(lb):
    status, _, _ = raw(lb, "GET", "/imported-models")
    assert status == 200
    client = boto3.client(
        "bedrock",
        region_name="eu-west-3",
        endpoint_url=lb.url,
        aws_access_key_id="AKIAANYTHING",
        aws_secret_access_key="whatever",
        aws_session_token="token",
    )
    assert client.list_model_import_jobs()["modelImportJobSummaries"] == []


def test_unknown_paths_are_404_in_aws_format(lb):
    status, headers, body = raw(lb, "GET", "/no/such/thing")
    assert status == 404
    assert headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert headers["x-amzn-RequestId"]
    assert "message" in body


def test_a_chunked_body_is_read(lb):
    body = json.dumps(automated_request("chunked")).encode()
    conn = http.client.HTTPConnection(urlsplit(lb.url).netloc, timeout=5)
    try:
        conn.request(
            "POST",
            "/evaluation-jobs",
            body=iter([body[:50], body[50:]]),
            encode_chunked=True,
            headers={"Transfer-Encoding": "chunked"},
        )
        response = conn.getresponse()
        assert response.status == 202, response.read()
        assert json.loads(response.read())["jobArn"]
    finally:
        conn.close()
