"""What enforcing service quotas costs the local Bedrock: CreateEvaluationJob over real HTTP
with boto3 at 10,000 and 100,000 seeded jobs (each create checks the concurrency and total
quotas; running jobs are counted per slot, not by a scan).

    python bench/local_bedrock_quotas.py [--creates 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobs.bedrock.local.server import LocalBedrock  # noqa: E402 - after the path fix-up


def request(name: str) -> dict:
    return {
        "jobName": name,
        "roleArn": "arn:aws:iam::123456789012:role/EvalRole",
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "Summarization",
                        "dataset": {"name": "Builtin.Gigaword"},
                        "metricNames": ["Builtin.Accuracy"],
                    }
                ]
            }
        },
        "inferenceConfig": {
            "models": [{"bedrockModel": {"modelIdentifier": "amazon.nova-pro-v1:0"}}]
        },
        "outputDataConfig": {"s3Uri": "s3://my-bucket/out/"},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--creates", type=int, default=50)
    args = parser.parse_args()
    for jobs in (10_000, 100_000):
        with LocalBedrock(random_seed=3).start() as lb:
            lb.seed(count=jobs, random_seed=3)
            # Room for the creates: the figure is the cost of the check, not of a refusal.
            lb.set_quotas(evaluation_jobs=10**7, concurrent_automatic_evaluation_jobs=10**7)
            client = boto3.client(
                "bedrock",
                region_name="us-east-1",
                endpoint_url=lb.url,
                aws_access_key_id="bench",
                aws_secret_access_key="bench",  # noqa: S106
                config=Config(retries={"max_attempts": 1, "mode": "standard"}),
            )
            client.create_evaluation_job(**request("warm-up"))
            times = []
            for i in range(args.creates):
                started = time.perf_counter()
                client.create_evaluation_job(**request(f"bench-{i}"))
                times.append(time.perf_counter() - started)
            check = []
            for _ in range(200):
                started = time.perf_counter()
                lb.store.usage()
                check.append(time.perf_counter() - started)
            create_ms = statistics.median(times) * 1000
            print(
                f"{jobs:,} jobs: CreateEvaluationJob median {create_ms:.1f} ms "
                f"(max {max(times) * 1000:.1f}); quota usage check median "
                f"{statistics.median(check) * 1e6:.0f} µs"
            )


if __name__ == "__main__":
    main()
