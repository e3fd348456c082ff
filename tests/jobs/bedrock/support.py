"""What the local-Bedrock tests share: a boto3 client that does not retry, polling, and the
smallest valid automated evaluation job. Tests may import boto3; product code outside
jobs/bedrock may not."""

from __future__ import annotations

import time
from collections.abc import Callable

import boto3
from botocore.config import Config

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/EvalRole"


def client_for(url: str, *, client_side_validation: bool = True):
    """A bedrock client for the server at `url` that makes exactly one attempt per call, so
    throttling and 500s surface at once (botocore's `max_attempts` would count retries)."""
    return boto3.client(
        "bedrock",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            parameter_validation=client_side_validation,
        ),
    )


def wait_for(check: Callable[[], object], timeout: float = 5.0) -> object:
    """Poll until check() is truthy; its value, or AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def automated_request(
    name: str,
    *,
    task_type: str = "Summarization",
    dataset: str = "Builtin.Gigaword",
    metrics: tuple[str, ...] = ("Builtin.Accuracy",),
    model: str = "amazon.nova-pro-v1:0",
    **extra,
) -> dict:
    """A valid CreateEvaluationJob request for an automated job with one built-in dataset."""
    return {
        "jobName": name,
        "roleArn": ROLE,
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {"taskType": task_type, "dataset": {"name": dataset}, "metricNames": [*metrics]}
                ]
            }
        },
        "inferenceConfig": {"models": [{"bedrockModel": {"modelIdentifier": model}}]},
        "outputDataConfig": {"s3Uri": "s3://my-bucket/out/"},
        **extra,
    }
