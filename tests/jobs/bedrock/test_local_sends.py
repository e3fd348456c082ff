"""The local Bedrock's send log: which identifiers each BatchDeleteEvaluationJob call carried,
and when, including calls a fault answered (what the deletion tests check "sent after settled"
against)."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config

from jobs.bedrock.local.server import LocalBedrock


def client_for(url: str):
    return boto3.client(
        "bedrock",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def lb():
    with LocalBedrock(control=True, random_seed=3).start() as server:
        yield server


def arns(lb, count: int) -> list[str]:
    lb.seed(count, random_seed=5)
    return sorted(lb.store.evaluation_jobs)[:count]


def test_each_call_is_logged_per_identifier_with_its_time(lb):
    first, second = arns(lb, 2)
    bedrock = client_for(lb.url)
    before = time.time()
    bedrock.batch_delete_evaluation_job(jobIdentifiers=[first, second])
    bedrock.batch_delete_evaluation_job(jobIdentifiers=[first])

    sends = lb.sends()
    assert sorted(sends) == sorted([first, second])
    assert len(sends[first]) == 2 and len(sends[second]) == 1
    assert all(before <= t <= time.time() for t in sends[first] + sends[second])
    assert sends[first][0] <= sends[first][1]


def test_calls_a_fault_answered_are_logged_too(lb):
    (arn,) = arns(lb, 1)
    lb.set_faults(error_rate=1.0)
    with pytest.raises(Exception, match="InternalServerException"):
        client_for(lb.url).batch_delete_evaluation_job(jobIdentifiers=[arn])
    assert len(lb.sends()[arn]) == 1


def test_other_operations_are_not_logged_and_reset_forgets(lb):
    (arn,) = arns(lb, 1)
    bedrock = client_for(lb.url)
    bedrock.get_evaluation_job(jobIdentifier=arn)
    assert lb.sends() == {}
    bedrock.batch_delete_evaluation_job(jobIdentifiers=[arn])
    lb.reset_call_counts()
    assert lb.sends() == {} and lb.call_counts() == {}


def test_the_control_api_serves_the_log(lb):
    (arn,) = arns(lb, 1)
    client_for(lb.url).batch_delete_evaluation_job(jobIdentifiers=[arn])
    conn = http.client.HTTPConnection(urlsplit(lb.url).netloc, timeout=5)
    try:
        conn.request("GET", "/_local/sends")
        response = conn.getresponse()
        body = json.loads(response.read())
    finally:
        conn.close()
    assert response.status == 200
    assert list(body) == [arn] and len(body[arn]) == 1
