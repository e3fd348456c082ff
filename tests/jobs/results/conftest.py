"""Jobs in the mirror whose hand-written outputs (outputs.py) lie in the local S3."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from jobs.bedrock.s3 import s3_create_bucket, s3_put_object
from jobs.models import EvaluationJob, EvaluationResultSet
from tests.jobs.results import outputs
from tests.jobs.views.factories import make_job


@pytest.fixture
def output_bucket(local_s3) -> str:
    s3_create_bucket(bucket=outputs.BUCKET)
    s3_put_object(bucket=outputs.BUCKET, key=f"{outputs.BASE}/{outputs.MARKER}", body=b"")
    return outputs.BUCKET


def put_outputs(job: EvaluationJob, files: dict[str, bytes], *, nested: bool = False) -> str:
    """Write `files` under the job's prefix (one more <jobName>/ level with `nested`);
    returns that prefix."""
    name = job.description["jobName"]
    root = f"{outputs.BASE}/{name}/" + (f"{name}/" if nested else "") + f"{job.resource_id}/"
    s3_put_object(bucket=outputs.BUCKET, key=f"{root}{outputs.MARKER}", body=b"")
    for key, body in files.items():
        s3_put_object(bucket=outputs.BUCKET, key=root + key, body=body)
    return root


@pytest.fixture
def job_with_outputs(output_bucket) -> Callable[..., EvaluationJob]:
    """make(name, files, nested=False, **job columns): a Completed job in the mirror, described,
    its output written."""

    def make(name: str, files: dict[str, bytes], *, nested: bool = False, **columns):
        description = {
            "jobName": name,
            "status": columns.get("status", "Completed"),
            "outputDataConfig": {"s3Uri": f"s3://{outputs.BUCKET}/{outputs.BASE}/"},
        }
        job = make_job(name=name, description=description, needs_description=False, **columns)
        put_outputs(job, files, nested=nested)
        return job

    return make


def aggregates(result_set: EvaluationResultSet) -> dict[tuple[str, str, str], dict]:
    """The set's aggregates by (dataset, model, metric), means and deviations to 4 decimals."""
    return {
        (a.dataset, a.model, a.metric): {
            "prompts": a.prompts,
            "scored": a.scored,
            "mean": None if a.mean is None else round(a.mean, 4),
            "stddev": None if a.stddev is None else round(a.stddev, 4),
            "counts": a.histogram["counts"],
            "method": a.rating_method,
            "distribution": a.distribution,
        }
        for a in result_set.aggregates.all()
    }
