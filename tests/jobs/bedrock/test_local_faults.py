"""Fault knobs, the /_local/ control API and call counts of the local Bedrock."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config

from jobs.bedrock.local.server import LocalBedrock
from tests.jobs.bedrock.support import automated_request, client_for

ROLE = "arn:aws:iam::123456789012:role/EvalRole"


def call(lb, method: str, path: str, payload: dict | None = None, headers: dict | None = None):
    """(status, headers, JSON body) of one raw request to the server: JSON, unless `headers`
    say otherwise."""
    conn = http.client.HTTPConnection(urlsplit(lb.url).netloc, timeout=5)
    try:
        body = json.dumps(payload).encode() if payload is not None else None
        sent = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=sent | (headers or {}))
        response = conn.getresponse()
        data = response.read()
        return response.status, response.headers, json.loads(data) if data else None
    finally:
        conn.close()


def test_throttle_rps_answers_429_above_the_rate(lb, bedrock):
    lb.set_faults(throttle_rps=2)
    outcomes = []
    for _ in range(20):
        try:
            bedrock.list_evaluation_jobs()
            outcomes.append("ok")
        except bedrock.exceptions.ThrottlingException as exc:
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 429
            assert exc.response["Error"]["Message"]
            outcomes.append("throttled")
    # A burst of about one second's worth passes, then most calls are refused.
    assert outcomes[:2] == ["ok", "ok"]
    assert outcomes.count("ok") <= 8 and outcomes.count("throttled") >= 12
    # The bucket is per operation: another operation still has its burst.
    bedrock.list_model_import_jobs()
    lb.set_faults(throttle_rps=None)
    assert [bedrock.list_evaluation_jobs() for _ in range(10)]


def test_throttle_rate_throttles_a_share_of_calls(lb, bedrock):
    lb.set_faults(throttle_rate=1.0)
    with pytest.raises(bedrock.exceptions.ThrottlingException):
        bedrock.list_imported_models()
    lb.set_faults(throttle_rate=0.5)
    throttled = 0
    for _ in range(60):
        try:
            bedrock.list_imported_models()
        except bedrock.exceptions.ThrottlingException:
            throttled += 1
    assert 10 < throttled < 50


def test_error_rate_answers_internal_server_errors(lb, bedrock):
    lb.set_faults(error_rate=1.0)
    with pytest.raises(bedrock.exceptions.InternalServerException) as caught:
        bedrock.create_evaluation_job(**automated_request("never-made"))
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    lb.set_faults(error_rate=0.0)
    assert bedrock.list_evaluation_jobs()["jobSummaries"] == []  # the failed call made nothing


def test_standard_retries_get_through_a_fault(lb):
    """What the product relies on: botocore's standard mode retries 429 and 5xx."""
    retrying = boto3.client(
        "bedrock",
        region_name="us-east-1",
        endpoint_url=lb.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 10, "mode": "standard"}),
    )
    lb.set_faults(error_rate=0.5)
    lb.reset_call_counts()
    for _ in range(5):
        retrying.list_evaluation_jobs()
    assert lb.call_counts()["ListEvaluationJobs"] > 5


def test_latency_is_added_to_each_call(lb, bedrock):
    bedrock.list_evaluation_jobs()
    started = time.monotonic()
    bedrock.list_evaluation_jobs()
    fast = time.monotonic() - started
    lb.set_faults(latency_ms=150)
    started = time.monotonic()
    bedrock.list_evaluation_jobs()
    slow = time.monotonic() - started
    assert slow >= 0.15 and slow > fast + 0.1


def test_faults_never_apply_to_the_control_api(lb):
    lb.set_faults(error_rate=1.0, throttle_rate=1.0, latency_ms=300)
    started = time.monotonic()
    status, _, body = call(lb, "GET", "/_local/faults")
    assert status == 200 and time.monotonic() - started < 0.3
    assert body == {
        "throttle_rps": None,
        "throttle_rate": 1.0,
        "error_rate": 1.0,
        "latency_ms": 300.0,
        "time_scale": 1.0,
    }


def test_control_api_sets_faults_and_reads_them(lb, bedrock):
    status, _, body = call(lb, "POST", "/_local/faults", {"error_rate": 1.0, "time_scale": 0.5})
    assert status == 200 and body["error_rate"] == 1.0 and body["time_scale"] == 0.5
    with pytest.raises(bedrock.exceptions.InternalServerException):
        bedrock.list_evaluation_jobs()
    status, _, body = call(lb, "POST", "/_local/faults", {"error_rate": 0})
    assert body["error_rate"] == 0 and body["time_scale"] == 0.5  # others unchanged
    status, headers, body = call(lb, "POST", "/_local/faults", {"error_rate": 2})
    assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException"
    status, _, body = call(lb, "POST", "/_local/faults", {"nonsense": 1})
    assert status == 400 and "nonsense" in body["message"]


def test_control_api_seeds_forces_status_and_resets(lb, bedrock):
    status, _, counts = call(lb, "POST", "/_local/seed", {"count": 20, "random_seed": 4})
    assert status == 200
    assert counts == {
        "evaluation_jobs": 20,
        "model_import_jobs": 2,
        "imported_models": counts["imported_models"],
    }
    arn = bedrock.list_evaluation_jobs()["jobSummaries"][0]["jobArn"]
    status, _, body = call(lb, "POST", "/_local/jobs/status", {"arn": arn, "status": "Failed"})
    assert status == 200 and body == {"arn": arn, "status": "Failed"}
    job = bedrock.get_evaluation_job(jobIdentifier=arn)
    assert job["status"] == "Failed" and job["failureMessages"]
    import_arn = bedrock.list_model_import_jobs()["modelImportJobSummaries"][0]["jobArn"]
    status, _, _ = call(
        lb, "POST", "/_local/jobs/status", {"arn": import_arn, "status": "InProgress"}
    )
    assert status == 200
    assert bedrock.get_model_import_job(jobIdentifier=import_arn)["status"] == "InProgress"
    status, headers, _ = call(lb, "POST", "/_local/jobs/status", {"arn": arn, "status": "Nope"})
    assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException"
    status, headers, _ = call(
        lb, "POST", "/_local/jobs/status", {"arn": arn[:-12] + "zzzzzzzzzzzz", "status": "Failed"}
    )
    assert status == 404 and headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    status, _, body = call(lb, "POST", "/_local/reset", {})
    assert status == 200 and body == {}
    assert bedrock.list_evaluation_jobs()["jobSummaries"] == []
    assert bedrock.list_imported_models()["modelSummaries"] == []
    status, _, body = call(lb, "GET", "/_local/calls")
    assert body == {"ListEvaluationJobs": 1, "ListImportedModels": 1}  # counted after reset


def test_call_counts_per_operation(lb, bedrock):
    for _ in range(3):
        bedrock.list_evaluation_jobs()
    with pytest.raises(bedrock.exceptions.ValidationException):
        bedrock.get_evaluation_job(jobIdentifier="not-an-arn")
    lb.set_faults(error_rate=1.0)
    with pytest.raises(bedrock.exceptions.InternalServerException):
        bedrock.list_model_import_jobs()
    # Every call that reached an operation counts, refused or not; control calls do not.
    expected = {"ListEvaluationJobs": 3, "GetEvaluationJob": 1, "ListModelImportJobs": 1}
    assert lb.call_counts() == expected
    assert call(lb, "GET", "/_local/calls")[2] == expected
    assert call(lb, "POST", "/_local/calls/reset", {})[0] == 200
    assert lb.call_counts() == {}
    lb.set_faults(error_rate=0)
    bedrock.list_evaluation_jobs()
    lb.reset_call_counts()
    assert lb.call_counts() == {}


def test_control_api_is_off_by_default():
    with LocalBedrock().start() as server:
        for method, path in (
            ("GET", "/_local/faults"),
            ("POST", "/_local/reset"),
            ("GET", "/_local/calls"),
            ("POST", "/_local/seed"),
        ):
            status, headers, body = call(server, method, path, {} if method == "POST" else None)
            assert status == 404, path
            assert headers["x-amzn-ErrorType"] == "UnknownOperationException"
            assert headers["x-amzn-RequestId"] and body["message"]
        # The Python API works all the same.
        server.seed(count=3)
        assert len(client_for(server.url).list_evaluation_jobs()["jobSummaries"]) == 3


def test_faults_can_be_given_at_start_up():
    with LocalBedrock(error_rate=1.0, control=True).start() as server:
        client = client_for(server.url)
        with pytest.raises(client.exceptions.InternalServerException):
            client.list_evaluation_jobs()
        assert server.get_faults()["error_rate"] == 1.0


# --- The control API only for this machine's own tools -----------------------------------------


def test_a_cross_origin_text_plain_post_cannot_reset_the_local_bedrock(lb, bedrock):
    """What a web page's <form enctype="text/plain"> or fetch(no-cors) would send."""
    lb.seed(count=3, random_seed=1)
    for headers in (
        {"Content-Type": "text/plain", "Origin": "https://evil.example"},
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": ""},
    ):
        status, answer, body = call(lb, "POST", "/_local/reset", {}, headers=headers)
        assert status == 403, headers
        assert answer["x-amzn-ErrorType"] == "AccessDeniedException"
    assert len(bedrock.list_evaluation_jobs()["jobSummaries"]) == 3


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "http://127.0.0.1:1", "http://localhost.evil.example", "null"],
)
def test_a_foreign_origin_is_refused_even_with_json(lb, bedrock, origin):
    lb.seed(count=2, random_seed=1)
    status, _, body = call(lb, "POST", "/_local/reset", {}, headers={"Origin": origin})
    assert status == 403 and "origin" in body["message"]
    assert call(lb, "GET", "/_local/faults", headers={"Origin": origin})[0] == 403
    assert len(bedrock.list_evaluation_jobs()["jobSummaries"]) == 2


def test_json_without_an_origin_or_from_its_own_loopback_origin_is_served(lb, bedrock):
    lb.seed(count=2, random_seed=1)
    port = urlsplit(lb.url).port
    for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}/"):
        status, _, _ = call(lb, "GET", "/_local/faults", headers={"Origin": origin})
        assert status == 200, origin
    status, _, _ = call(
        lb, "POST", "/_local/faults", {"error_rate": 0}, headers={"Origin": f"http://[::1]:{port}"}
    )
    assert status == 200
    assert call(lb, "POST", "/_local/reset", {})[0] == 200
    assert bedrock.list_evaluation_jobs()["jobSummaries"] == []


def test_the_bedrock_api_itself_is_unchanged(lb, bedrock):
    """botocore sends no Origin and its own content type: the checks are the control API's."""
    lb.seed(count=1, random_seed=1)
    assert len(bedrock.list_evaluation_jobs()["jobSummaries"]) == 1
