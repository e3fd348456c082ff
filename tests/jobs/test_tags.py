"""jobs/tags.py: a resource's tags read live for its page and Clone, in a bounded call whose
failure is returned for the page to show, never raised."""

from __future__ import annotations

import time

import pytest

from jobs import sync
from jobs.bedrock import client as bedrock
from jobs.bedrock.errors import BedrockError
from jobs.models import EvaluationJob
from jobs.tags import resource_tags

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(local_bedrock):
    local_bedrock.seed(3, random_seed=7)
    sync.evaluation_jobs_sync(raise_errors=True)
    local_bedrock.reset_call_counts()
    return EvaluationJob.objects.first()


def test_the_tags_are_read_from_bedrock(local_bedrock, job):
    tags = resource_tags(obj=job)
    assert tags.error is None and isinstance(tags.tags, dict)
    assert local_bedrock.call_counts() == {"ListTagsForResource": 1}


def test_a_resource_bedrock_no_longer_lists_is_not_asked_about(local_bedrock, job):
    job.listed = False
    tags = resource_tags(obj=job)
    assert tags.tags is None and tags.error is None
    assert local_bedrock.call_counts() == {}


def test_a_failing_bedrock_is_tried_twice_at_most_and_the_error_returned(
    local_bedrock, job, settings
):
    settings.BEDROCK_MAX_ATTEMPTS = 5  # a worker's budget; the page's call keeps to its own
    local_bedrock.set_faults(error_rate=1.0)
    started = time.monotonic()
    tags = resource_tags(obj=job)
    assert tags.tags is None and isinstance(tags.error, BedrockError)
    assert local_bedrock.call_counts()["ListTagsForResource"] == bedrock.TAGS_MAX_ATTEMPTS == 2
    assert time.monotonic() - started < 5
