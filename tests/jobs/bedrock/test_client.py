"""The gateway against the local Bedrock over real HTTP: settings, operations, pagination,
error mapping and retries under the fault knobs."""

from __future__ import annotations

import datetime as dt

import pytest

from jobs.bedrock import client as bedrock
from jobs.bedrock import errors
from tests.conftest import free_port


def automated_request(name: str, **extra) -> dict:
    return {
        "jobName": name,
        "roleArn": "arn:aws:iam::123456789012:role/EvalRole",
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "Summarization",
                        "dataset": {"name": "Builtin.Gigaword"},
                        "metricNames": ["Builtin.Accuracy", "Builtin.Robustness"],
                    }
                ]
            }
        },
        "inferenceConfig": {
            "models": [
                {
                    "bedrockModel": {
                        "modelIdentifier": "anthropic.claude-3-haiku-20240307-v1:0",
                        "inferenceParams": "{}",
                    }
                }
            ]
        },
        "outputDataConfig": {"s3Uri": "s3://my-bucket/eval-output/"},
        **extra,
    }


def test_client_is_built_from_settings(settings, local_bedrock):
    settings.BEDROCK_RETRY_MODE = "adaptive"
    settings.BEDROCK_MAX_ATTEMPTS = 7
    settings.BEDROCK_READ_TIMEOUT = 11
    settings.BEDROCK_MAX_POOL_CONNECTIONS = 13
    client = bedrock.get_client()
    assert client.meta.endpoint_url == local_bedrock.url
    assert client.meta.region_name == settings.AWS_REGION
    config = client.meta.config
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 7}
    assert (config.read_timeout, config.max_pool_connections) == (11, 13)
    assert bedrock.get_client() is client  # cached per configuration
    settings.AWS_REGION = "eu-central-1"
    assert bedrock.get_client().meta.region_name == "eu-central-1"


def test_create_get_stop_and_tags(local_bedrock):
    arn = bedrock.create_evaluation_job(
        **automated_request("nightly-summaries", jobTags=[{"key": "team", "value": "ml"}])
    )
    assert arn.startswith(f"arn:aws:bedrock:{local_bedrock.region}:")
    job = bedrock.get_evaluation_job(identifier=arn)
    assert (job["jobName"], job["status"], job["jobType"]) == (
        "nightly-summaries",
        "InProgress",
        "Automated",
    )
    assert "ResponseMetadata" not in job
    assert bedrock.list_tags_for_resource(arn=arn) == {"team": "ml"}
    bedrock.stop_evaluation_job(identifier=arn)
    assert bedrock.get_evaluation_job(identifier=arn)["status"] in {"Stopping", "Stopped"}


def test_list_pages_follow_next_token(local_bedrock):
    for i in range(7):
        bedrock.create_evaluation_job(**automated_request(f"job-{i}"))
    local_bedrock.reset_call_counts()
    pages = list(bedrock.iter_evaluation_job_pages(max_results=3))
    assert [len(page) for page in pages] == [3, 3, 1]
    assert local_bedrock.call_counts()["ListEvaluationJobs"] == 3
    names = [job["jobName"] for page in pages for job in page]
    assert sorted(names) == [f"job-{i}" for i in range(7)]
    filtered = [j for p in bedrock.iter_evaluation_job_pages(nameContains="job-3") for j in p]
    assert [j["jobName"] for j in filtered] == ["job-3"]


def test_batch_delete_returns_deleted_and_errors(local_bedrock):
    arn = bedrock.create_evaluation_job(**automated_request("done-job"))
    local_bedrock.force_status(arn, "Completed")
    missing = arn[:-12] + "zzzzzzzzzzzz"
    deleted, failed = bedrock.batch_delete_evaluation_jobs(identifiers=[arn, missing])
    assert [(d["jobIdentifier"], d["jobStatus"]) for d in deleted] == [(arn, "Deleting")]
    assert [(e["jobIdentifier"], e["code"]) for e in failed] == [(missing, "404")]


@pytest.mark.parametrize(
    ("call", "error_class", "code"),
    [
        (
            lambda: bedrock.get_evaluation_job(
                identifier="arn:aws:bedrock:us-east-1:123456789012:evaluation-job/abcdefghijkl"
            ),
            errors.NotFoundError,
            "ResourceNotFoundException",
        ),
        (
            lambda: bedrock.create_evaluation_job(**automated_request("BAD NAME")),
            errors.ValidationError,
            "ValidationException",
        ),
        (
            lambda: bedrock.get_imported_model(identifier="no-such-model"),
            errors.NotFoundError,
            "ResourceNotFoundException",
        ),
    ],
)
def test_final_errors_keep_bedrocks_code_message_and_request_id(
    local_bedrock, call, error_class, code
):
    with pytest.raises(error_class) as caught:
        call()
    exc = caught.value
    assert exc.code == code and not exc.retryable
    assert exc.message and exc.request_id
    assert isinstance(exc, errors.FinalError)


def test_a_name_conflict_is_a_conflict_error(local_bedrock):
    bedrock.create_evaluation_job(**automated_request("only-once"))
    with pytest.raises(errors.ConflictError, match="only-once"):
        bedrock.create_evaluation_job(**automated_request("only-once"))


def test_a_final_error_is_raised_at_once_without_retries(settings, local_bedrock):
    settings.BEDROCK_MAX_ATTEMPTS = 5
    local_bedrock.reset_call_counts()
    with pytest.raises(errors.ValidationError):
        bedrock.create_evaluation_job(**automated_request("-bad-"))
    assert local_bedrock.call_counts()["CreateEvaluationJob"] == 1


def test_throttling_at_30_percent_still_succeeds(settings, local_bedrock):
    settings.BEDROCK_MAX_ATTEMPTS = 8
    for i in range(5):
        bedrock.create_evaluation_job(**automated_request(f"t-{i}"))
    local_bedrock.set_faults(throttle_rate=0.3)
    local_bedrock.reset_call_counts()
    for _ in range(20):
        pages = list(bedrock.iter_evaluation_job_pages(max_results=2))
        assert sum(len(p) for p in pages) == 5
    # Some calls were throttled and retried by botocore: more calls reached the server than
    # the 60 pages we asked for.
    assert local_bedrock.call_counts()["ListEvaluationJobs"] > 60


def test_throttling_that_never_stops_is_a_retryable_error(settings, local_bedrock):
    settings.BEDROCK_MAX_ATTEMPTS = 2
    local_bedrock.set_faults(throttle_rate=1.0)
    with pytest.raises(errors.ThrottledError) as caught:
        list(bedrock.iter_evaluation_job_pages())
    assert caught.value.retryable and caught.value.code == "ThrottlingException"


def test_server_errors_are_retryable(settings, local_bedrock):
    settings.BEDROCK_MAX_ATTEMPTS = 2
    local_bedrock.set_faults(error_rate=1.0)
    with pytest.raises(errors.ServiceError) as caught:
        list(bedrock.iter_evaluation_job_pages())
    assert caught.value.retryable and caught.value.status_code == 500


def test_no_endpoint_is_a_retryable_unreachable_error(settings):
    settings.BEDROCK_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    settings.BEDROCK_MAX_ATTEMPTS = 1
    with pytest.raises(errors.EndpointUnreachableError) as caught:
        bedrock.ping(timeout=1)
    assert caught.value.retryable


def test_ping_is_quick_and_does_not_retry(local_bedrock):
    local_bedrock.set_faults(error_rate=1.0)
    local_bedrock.reset_call_counts()
    with pytest.raises(errors.ServiceError):
        bedrock.ping(timeout=1.5)
    # One call, no retry, on a client whose timeouts are the ping's own (a wall-clock bound
    # here would only measure how busy the machine is).
    assert local_bedrock.call_counts()["ListEvaluationJobs"] == 1
    client = bedrock.get_client(
        max_attempts=1, connect_timeout=1.5, read_timeout=1.5, max_pool_connections=2
    )
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (1.5, 1.5)


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-29T09:53:08Z",
        "2026-11-29T09:53:08.123Z",
        "2026-11-29T09:53:08.123456+00:00",
        "2026-11-29T11:53:08+02:00",
        "Sun, 29 Nov 2026 09:53:08 GMT",
        1764409988,
        1764409988.25,
    ],
)
def test_fast_timestamps_equal_botocores(value):
    from botocore.utils import parse_timestamp

    ours = bedrock.fast_timestamp(value)
    assert ours == parse_timestamp(value)
    assert ours.utcoffset() is not None


def test_a_timestamp_without_a_zone_is_utc():
    """AWS's timestamps are UTC; botocore's own parser would take the machine's zone."""
    assert bedrock.fast_timestamp("2026-11-29T09:53:08") == dt.datetime(
        2026, 11, 29, 9, 53, 8, tzinfo=dt.UTC
    )


def test_responses_carry_aware_datetimes(local_bedrock):
    local_bedrock.seed(count=3, random_seed=1)
    (page, *_) = list(bedrock.iter_evaluation_job_pages(max_results=10))
    created = page[0]["creationTime"]
    assert isinstance(created, dt.datetime) and created.utcoffset() == dt.timedelta(0)
