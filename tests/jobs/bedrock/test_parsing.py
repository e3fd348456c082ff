"""jobs/bedrock/parsing.py: the gateway's fast REST-JSON parser gives exactly what botocore's own
parser gives, for every list and Get answer the sync reads, on the local Bedrock's real answers
(nested structures, unions, lists of strings, timestamps, absent members)."""

from __future__ import annotations

import boto3
import pytest

from jobs.bedrock import client as bedrock
from jobs.bedrock.parsing import FastRestJSONParser

pytestmark = pytest.mark.django_db


def botocores_own(local_bedrock):
    """A plain boto3 client (botocore's parser and timestamp parser) on the same server."""
    return boto3.session.Session().client(
        "bedrock",
        region_name=local_bedrock.region,
        endpoint_url=local_bedrock.url,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def answer(client, operation: str, **params) -> dict:
    response = getattr(client, operation)(**params)
    response.pop("ResponseMetadata", None)
    return response


def test_the_gateway_parses_with_the_fast_parser():
    factory = bedrock.get_client()._endpoint._response_parser_factory
    assert isinstance(factory.create_parser("rest-json"), FastRestJSONParser)


def test_every_answer_the_sync_reads_parses_as_botocore_parses_it(local_bedrock):
    local_bedrock.seed(count=60, random_seed=4)
    ours, theirs = bedrock.get_client(), botocores_own(local_bedrock)
    checked = 0
    for operation, items, key, get, id_param in (
        ("list_evaluation_jobs", "jobSummaries", "jobArn", "get_evaluation_job", "jobIdentifier"),
        (
            "list_model_import_jobs",
            "modelImportJobSummaries",
            "jobArn",
            "get_model_import_job",
            "jobIdentifier",
        ),
        (
            "list_imported_models",
            "modelSummaries",
            "modelArn",
            "get_imported_model",
            "modelIdentifier",
        ),
    ):
        listed = answer(ours, operation, maxResults=1000)
        assert listed == answer(theirs, operation, maxResults=1000)
        assert listed[items], operation
        for summary in listed[items]:
            identifier = {id_param: summary[key]}
            assert answer(ours, get, **identifier) == answer(theirs, get, **identifier)
            checked += 1
    assert checked >= 60
