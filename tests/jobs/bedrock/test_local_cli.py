"""The AWS CLI (awscli 1.x) against the local Bedrock: the commands a person would type."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys

import pytest

from jobs.bedrock.local.server import LocalBedrock

REQUEST = {
    "jobName": "cli-made-job",
    "roleArn": "arn:aws:iam::123456789012:role/EvalRole",
    "evaluationConfig": {
        "automated": {
            "datasetMetricConfigs": [
                {
                    "taskType": "Classification",
                    "dataset": {"name": "Builtin.WomensEcommerceClothingReviews"},
                    "metricNames": ["Builtin.Accuracy", "Builtin.Robustness"],
                }
            ]
        }
    },
    "inferenceConfig": {
        "models": [{"bedrockModel": {"modelIdentifier": "amazon.titan-text-express-v1"}}]
    },
    "outputDataConfig": {"s3Uri": "s3://my-bucket/cli/"},
    "jobTags": [{"key": "made-by", "value": "cli"}],
}


@pytest.fixture(scope="module")
def lb():
    with LocalBedrock(control=True, random_seed=2).start() as server:
        server.seed(count=12, random_seed=8)
        yield server


def aws(lb, *args: str, key: str = "testing", region: str = "us-east-1") -> dict:
    """Run `aws bedrock ...` against the server; its exit status must be 0, its output JSON."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_PAGER": "",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "awscli",
            "bedrock",
            *args,
            "--endpoint-url",
            lb.url,
            "--output",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else {}


def test_create_get_stop_with_the_cli(lb):
    created = aws(lb, "create-evaluation-job", "--cli-input-json", json.dumps(REQUEST))
    arn = created["jobArn"]
    job = aws(lb, "get-evaluation-job", "--job-identifier", arn)
    assert (job["jobName"], job["status"]) == ("cli-made-job", "InProgress")
    assert job["evaluationConfig"] == REQUEST["evaluationConfig"]
    assert job["creationTime"].startswith("20")  # ISO-8601, as the CLI prints datetimes
    assert aws(lb, "stop-evaluation-job", "--job-identifier", arn) == {}
    assert aws(lb, "get-evaluation-job", "--job-identifier", arn)["status"] == "Stopping"
    lb.force_status(arn, "Stopped")
    deleted = aws(
        lb, "batch-delete-evaluation-job", "--job-identifiers", arn, arn[:-12] + "zzzzzzzzzzzz"
    )
    assert deleted["evaluationJobs"] == [{"jobIdentifier": arn, "jobStatus": "Deleting"}]
    assert deleted["errors"][0]["code"] == "404"


def test_list_with_max_items_and_starting_token(lb):
    everything = aws(lb, "list-evaluation-jobs", "--sort-order", "Ascending")["jobSummaries"]
    assert len(everything) >= 12
    first = aws(
        lb,
        "list-evaluation-jobs",
        "--sort-order",
        "Ascending",
        "--max-items",
        "5",
        "--page-size",
        "2",
    )
    assert [j["jobArn"] for j in first["jobSummaries"]] == [j["jobArn"] for j in everything[:5]]
    token = first["NextToken"]  # the CLI's own token over the service's
    rest = aws(
        lb,
        "list-evaluation-jobs",
        "--sort-order",
        "Ascending",
        "--max-items",
        "100",
        "--page-size",
        "3",
        "--starting-token",
        token,
    )
    assert [j["jobArn"] for j in rest["jobSummaries"]] == [j["jobArn"] for j in everything[5:]]
    assert "NextToken" not in rest


def test_the_cli_reaches_the_account_of_its_key_and_the_region_it_signs_for():
    accounts = {"dev-key": "123456789012", "prod-key": "210987654321"}
    with LocalBedrock(regions=["us-west-2"], accounts=accounts).start() as fleet:
        for account, region in itertools.product(accounts.values(), fleet.regions):
            fleet.seed(2, account=account, region=region)
        create = ("create-evaluation-job", "--cli-input-json", json.dumps(REQUEST))
        made = aws(fleet, *create, key="prod-key", region="us-west-2")["jobArn"]
        assert made.startswith("arn:aws:bedrock:us-west-2:210987654321:evaluation-job/")
        listed = {
            (key, region): {
                j["jobArn"]
                for j in aws(fleet, "list-evaluation-jobs", key=key, region=region)["jobSummaries"]
            }
            for key, region in (("prod-key", "us-west-2"), ("dev-key", "us-east-1"))
        }
        assert made in listed["prod-key", "us-west-2"] and len(listed["prod-key", "us-west-2"]) == 3
        assert {
            a.split(":")[3:5] == ["us-west-2", "210987654321"]
            for a in listed["prod-key", "us-west-2"]
        } == {True}
        assert len(listed["dev-key", "us-east-1"]) == 2
        assert {
            a.split(":")[3:5] == ["us-east-1", "123456789012"]
            for a in listed["dev-key", "us-east-1"]
        } == {True}
