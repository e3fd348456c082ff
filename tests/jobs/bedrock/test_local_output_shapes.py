"""Every response of the local Bedrock conforms to botocore's output shapes: required members,
types, enums, patterns, lengths, and no unknown members, for every seeded kind and status.
The raw JSON on the wire is checked (boto3's parser would drop unknown members silently)."""

from __future__ import annotations

import json
import re

import pytest
from botocore import xform_name

from jobs.bedrock import rules
from jobs.bedrock.contract import service_model, validate_shape
from jobs.bedrock.local.server import OPERATIONS
from jobs.bedrock.local.store import EVALUATION_STATUSES, IMPORT_STATUSES

# What the local Bedrock answers although botocore's model says otherwise, each with its
# reason: (operation, path regex, message start). Keep it small; every entry is a known gap in
# the model, not in the local Bedrock.
ALLOWED: list[tuple[str, str, str, str]] = [
    (
        "ListEvaluationJobs",
        r"jobSummaries",
        "must have ",
        "botocore models jobSummaries as 1-5 items, but ListEvaluationJobs takes maxResults "
        "1-1000 and answers an empty list when nothing matches, as AWS does",
    ),
]


def _allowed(operation: str, path: str, message: str) -> bool:
    return any(
        op == operation and re.fullmatch(pattern, path) and message.startswith(start)
        for op, pattern, start, _ in ALLOWED
    )


class Recorder:
    """Collects each response's raw JSON body, by operation, through botocore's events."""

    def __init__(self, client) -> None:
        self.bodies: list[tuple[str, int, bytes]] = []
        client.meta.events.register("after-call.bedrock", self._record)

    def _record(self, http_response, model, **_: object) -> None:
        self.bodies.append((model.name, http_response.status_code, http_response.content))


def _violations(operation: str, body: bytes) -> list[str]:
    shape = service_model().operation_model(operation).output_shape
    document = json.loads(body) if body.strip() else {}
    if shape is None:
        return [] if document == {} else [f"{operation}: body {document!r} where none is modelled"]
    return [
        f"{operation}: {v.path or '(root)'} {v.message}"
        for v in validate_shape(shape, document)
        if not _allowed(operation, v.path, v.message)
    ]


@pytest.fixture
def seeded(lb, bedrock):
    """Seeded jobs of every kind, plus one job in every status for each kind."""
    lb.set_quotas(concurrent_automatic_evaluation_jobs=1000, concurrent_human_evaluation_jobs=1000)
    lb.seed(count=300, random_seed=21)
    by_kind: dict[str, list[str]] = {}
    for page in bedrock.get_paginator("list_evaluation_jobs").paginate(
        PaginationConfig={"PageSize": 1000}
    ):
        for summary in page["jobSummaries"]:
            job = bedrock.get_evaluation_job(jobIdentifier=summary["jobArn"])
            by_kind.setdefault(rules.evaluation_job_kind(job), []).append(summary["jobArn"])
    assert set(by_kind) == set(rules.KINDS)
    for arns in by_kind.values():
        assert len(arns) >= len(EVALUATION_STATUSES)
        for status, arn in zip(EVALUATION_STATUSES, arns, strict=False):
            lb.force_status(arn, status)
    imports = [
        s["jobArn"]
        for s in bedrock.list_model_import_jobs(maxResults=1000)["modelImportJobSummaries"]
    ]
    assert len(imports) >= len(IMPORT_STATUSES)
    for status, arn in zip(IMPORT_STATUSES, imports, strict=False):
        lb.force_status(arn, status)
    return by_kind, imports


def test_every_operation_answers_within_its_output_shape(lb, bedrock, seeded):
    by_kind, imports = seeded
    recorder = Recorder(bedrock)
    for arns in by_kind.values():
        for arn in arns[:12]:
            bedrock.get_evaluation_job(jobIdentifier=arn)
            bedrock.list_tags_for_resource(resourceARN=arn)
    for status in EVALUATION_STATUSES:
        bedrock.list_evaluation_jobs(statusEquals=status, maxResults=1000)
    for app in ("ModelEvaluation", "RagEvaluation"):
        bedrock.list_evaluation_jobs(applicationTypeEquals=app, maxResults=1000)
    bedrock.list_evaluation_jobs(nameContains="no-such-job")  # an empty list
    bedrock.list_evaluation_jobs(maxResults=3)  # a page with a nextToken
    for arn in imports:
        bedrock.get_model_import_job(jobIdentifier=arn)
        bedrock.list_tags_for_resource(resourceARN=arn)
    for status in IMPORT_STATUSES:
        bedrock.list_model_import_jobs(statusEquals=status)
    models = bedrock.list_imported_models(maxResults=1000)["modelSummaries"]
    bedrock.list_imported_models(nameContains="no-such-model")
    for model in models:
        bedrock.get_imported_model(modelIdentifier=model["modelArn"])
        bedrock.list_tags_for_resource(resourceARN=model["modelArn"])

    # The writes, each once.
    running = next(a for a in by_kind["programmatic"] if _status(bedrock, a) == "InProgress")
    bedrock.stop_evaluation_job(jobIdentifier=running)
    done = [a for a in by_kind["judge"] if _status(bedrock, a) in ("Completed", "Failed")]
    bedrock.batch_delete_evaluation_job(
        jobIdentifiers=[*done[:2], running, f"{running[:-12]}zzzzzzzzzzzz"]
    )
    lb.set_quotas(concurrent_model_import_jobs=100, imported_models=1000)
    bedrock.create_model_import_job(
        jobName="shape-import",
        importedModelName="shape-model",
        roleArn="arn:aws:iam::123456789012:role/ImportRole",
        modelDataSource={"s3DataSource": {"s3Uri": "s3://my-models/llama3/"}},
    )
    bedrock.delete_imported_model(modelIdentifier=models[0]["modelArn"])
    request = bedrock.get_evaluation_job(jobIdentifier=by_kind["rag"][0])
    bedrock.create_evaluation_job(**_as_request(request, "shape-rag"))

    seen = {name for name, _, _ in recorder.bodies}
    assert seen == set(OPERATIONS)
    problems = []
    for name, status, body in recorder.bodies:
        assert status < 300, (name, body)
        problems.extend(_violations(name, body))
    assert problems == [], "\n".join(dict.fromkeys(problems))


def test_the_allow_list_is_still_needed(lb, bedrock):
    """Each allowed gap still exists in botocore's model: drop an entry once botocore fixes it."""
    recorder = Recorder(bedrock)
    for operation, *_ in ALLOWED:
        getattr(bedrock, xform_name(operation))()  # an empty account: empty lists
    for name, _, body in recorder.bodies:
        shape = service_model().operation_model(name).output_shape
        assert any(
            _allowed(name, v.path, v.message) for v in validate_shape(shape, json.loads(body))
        ), name


def _status(bedrock, arn: str) -> str:
    return bedrock.get_evaluation_job(jobIdentifier=arn)["status"]


def _as_request(job: dict, name: str) -> dict:
    """A GetEvaluationJob description back as a CreateEvaluationJob request."""
    shape = service_model().operation_model("CreateEvaluationJob").input_shape
    request = {k: v for k, v in job.items() if k in shape.members}
    request["jobName"] = name
    return request
