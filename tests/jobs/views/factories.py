"""Mirror rows made directly, as the sync would have stored them."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import string
from typing import Any

from django.utils import timezone

from jobs.models import EvaluationJob, ImportedModel, ModelImportJob

_counter = itertools.count(1)
BASE_TIME = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def resource_id(n: int) -> str:
    rng = random.Random(n)
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=12))


def resource_values(segment: str, **overrides: Any) -> dict[str, Any]:
    """The columns every mirror row has, for a resource whose ARN has `segment`
    ("evaluation-job", "model-import-job", "imported-model")."""
    n = next(_counter)
    rid = overrides.pop("resource_id", None) or resource_id(n)
    region = overrides.pop("region", "us-east-1")
    account = overrides.pop("account", "123456789012")
    arn = overrides.pop("arn", None) or f"arn:aws:bedrock:{region}:{account}:{segment}/{rid}"
    created = overrides.pop("created_at", None) or BASE_TIME - dt.timedelta(minutes=n)
    values = {
        "arn": arn,
        "resource_id": rid,
        "region": region,
        "account": account,
        "name": f"job-{n:05d}",
        "created_at": created,
        "summary": {},
        "last_synced_at": timezone.now(),
        "needs_description": True,
    }
    values.update(overrides)
    return values


def job_values(**overrides: Any) -> dict[str, Any]:
    task_types = overrides.pop("task_types", ["Generation"])
    models = overrides.pop("models", ["anthropic.claude-3-haiku-20240307-v1:0"])
    values = {
        "status": "Completed",
        "job_type": "Automated",
        "application_type": "ModelEvaluation",
        "task_types": f"|{'|'.join(task_types)}|" if task_types else "",
        "model_identifiers": f"|{'|'.join(models)}|" if models else "",
    }
    return resource_values("evaluation-job", **(values | overrides))


def make_job(**overrides: Any) -> EvaluationJob:
    return EvaluationJob.objects.create(**job_values(**overrides))


def make_jobs(count: int, **overrides: Any) -> list[EvaluationJob]:
    return EvaluationJob.objects.bulk_create(
        [EvaluationJob(**job_values(**overrides)) for _ in range(count)]
    )


def description_for(job: EvaluationJob, **overrides: Any) -> dict[str, Any]:
    """A GetEvaluationJob answer (JSON-safe, as stored) for an automated job."""
    d: dict[str, Any] = {
        "jobName": job.name,
        "status": job.status,
        "jobArn": job.arn,
        "jobDescription": "Automated evaluation of the support assistant",
        "roleArn": "arn:aws:iam::123456789012:role/service-role/AmazonBedrock-Evaluation",
        "jobType": job.job_type,
        "applicationType": job.application_type,
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "Generation",
                        "dataset": {"name": "Builtin.Bold"},
                        "metricNames": ["Builtin.Toxicity", "Builtin.Robustness"],
                    }
                ]
            }
        },
        "inferenceConfig": {
            "models": [
                {
                    "bedrockModel": {
                        "modelIdentifier": "anthropic.claude-3-haiku-20240307-v1:0",
                        "inferenceParams": '{"inferenceConfig":{"maxTokens":512}}',
                    }
                }
            ]
        },
        "outputDataConfig": {"s3Uri": "s3://results/evaluations/"},
        "creationTime": job.created_at.isoformat(),
        "lastModifiedTime": job.created_at.isoformat(),
    }
    d.update(overrides)
    return d


def make_import_job(**overrides: Any) -> ModelImportJob:
    return ModelImportJob.objects.create(
        **resource_values("model-import-job", **({"status": "Completed"} | overrides))
    )


def make_imported_model(**overrides: Any) -> ImportedModel:
    values = {"model_architecture": "llama3", "instruct_supported": True} | overrides
    return ImportedModel.objects.create(**resource_values("imported-model", **values))
