"""How long the local Bedrock takes to write its completed jobs' outputs into the local S3: the
demo seed of `make run` (500 jobs, the default 50-200 prompts per dataset), and one judge job with 5
datasets of up to 1,000 prompts each (--output-prompts 1000). Prints jobs, files, lines, MiB, the
generation time alone (no I/O) and the time until every write is flushed. `make run` waits for
the seed's writes before it starts the worker, so the first figure is added to its start-up.

    python bench/local_outputs.py [--seed 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=500)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from jobs.bedrock.local import outputs, seed
    from jobs.bedrock.local.s3 import LocalS3
    from jobs.bedrock.local.server import LocalBedrock

    data = seed.generate(
        args.seed, 0, region="us-east-1", account_id="123456789012", now=dt.datetime.now(dt.UTC)
    )
    completed = [
        {**j.request, "jobArn": j.arn, "jobName": j.name}
        for j in data.evaluation_jobs
        if j.status == "Completed"
    ]
    started = time.perf_counter()
    files = lines = size = 0
    for description in completed:
        for _, chunks in outputs.job_outputs(description):
            files += 1
            for chunk in chunks:
                lines += 1
                size += len(chunk)
    generated = time.perf_counter() - started

    with LocalS3().start() as s3, LocalBedrock(s3_endpoint_url=s3.url).start() as lb:
        started = time.perf_counter()
        lb.seed(count=args.seed)
        assert lb.flush_outputs(timeout=600)
        written = time.perf_counter() - started
        status = lb.outputs_status()
    print(
        f"seed {args.seed}: {status['jobs_written']} completed jobs, "
        f"{status['files_written']} files, "
        f"{lines} lines, {size / 2**20:.1f} MiB; generated in {generated:.2f} s, "
        f"written to the local S3 in {written:.2f} s (failed jobs: {status['jobs_failed']})"
    )

    big = {
        "jobArn": "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/benchbigjob01",
        "jobName": "bench-big",
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "QuestionAndAnswer",
                        "dataset": {
                            "name": f"bench-{i}",
                            "datasetLocation": {"s3Uri": "s3://b/p.jsonl"},
                        },
                        "metricNames": [
                            "Builtin.Correctness",
                            "Builtin.Helpfulness",
                            "Builtin.Faithfulness",
                        ],
                    }
                    for i in range(5)
                ],
                "evaluatorModelConfig": {
                    "bedrockEvaluatorModels": [
                        {"modelIdentifier": "anthropic.claude-3-5-sonnet-20240620-v1:0"}
                    ]
                },
            }
        },
        "inferenceConfig": {
            "models": [{"bedrockModel": {"modelIdentifier": "amazon.nova-pro-v1:0"}}]
        },
        "outputDataConfig": {"s3Uri": "s3://bench-outputs/big/"},
    }
    started = time.perf_counter()
    chunks = [c for _, file in outputs.job_outputs(big, max_prompts=1000) for c in file]
    took = time.perf_counter() - started
    print(
        f"5 datasets x 50-1,000 prompts (judge, 3 metrics): {len(chunks)} lines, "
        f"{sum(map(len, chunks)) / 2**20:.1f} MiB generated in {took:.2f} s"
    )


if __name__ == "__main__":
    main()
