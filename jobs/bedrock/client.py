"""The gateway: the one place that talks to Bedrock. One function per operation, keyword
arguments in boto3's own names, our exceptions out (see errors.py).

The client is built from settings (region, endpoint URL, retry mode, timeouts, pool size) and
cached per configuration, so tests that point settings at another endpoint get a fresh client.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import botocore.session
from botocore.config import Config
from botocore.utils import parse_timestamp
from django.conf import settings

from jobs.bedrock import errors

_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()


def client_settings(service: str = "bedrock") -> dict[str, Any]:
    """What a client is built from; also shown in the page header and /healthz. S3 (evaluation
    outputs, jobs/bedrock/s3.py) shares the region, retries and timeouts, with its own
    endpoint."""
    endpoint = settings.S3_ENDPOINT_URL if service == "s3" else settings.BEDROCK_ENDPOINT_URL
    return {
        "service": service,
        "region": settings.AWS_REGION,
        "endpoint_url": endpoint,
        "retry_mode": settings.BEDROCK_RETRY_MODE,
        "max_attempts": settings.BEDROCK_MAX_ATTEMPTS,
        "connect_timeout": settings.BEDROCK_CONNECT_TIMEOUT,
        "read_timeout": settings.BEDROCK_READ_TIMEOUT,
        "max_pool_connections": settings.BEDROCK_MAX_POOL_CONNECTIONS,
    }


def get_client(service: str = "bedrock", **overrides: Any):
    """The boto3 client of `service` for the current settings (overrides: for a one-off, e.g.
    no retries)."""
    conf = client_settings(service) | overrides
    key = tuple(sorted(conf.items()))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = _build_client(conf)
    return client


def fast_timestamp(value: Any) -> dt.datetime:
    """botocore's timestamp parser, minus dateutil for the ISO 8601 that Bedrock and S3 send:
    datetime.fromisoformat takes ~0.1 µs where dateutil takes ~25, and a 100,000-job listing
    carries 100,000 of them. Anything else (epoch numbers, RFC 822 dates) goes to botocore's."""
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return parse_timestamp(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return parse_timestamp(value)


def _build_client(conf: dict[str, Any]):
    core = botocore.session.get_session()
    core.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=fast_timestamp
    )
    session = boto3.session.Session(botocore_session=core, region_name=conf["region"])
    credentials: dict[str, str] = {}
    if conf["endpoint_url"] and session.get_credentials() is None:
        # A custom endpoint (the local Bedrock or S3) does not check signatures, but botocore
        # refuses to send an unsigned request: sign with a placeholder, never a real secret.
        credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    extra: dict[str, Any] = {}
    if conf["service"] == "s3" and conf["endpoint_url"]:
        # A local S3 on 127.0.0.1 has no per-bucket host names.
        extra["s3"] = {"addressing_style": "path"}
    config = Config(
        retries={"mode": conf["retry_mode"], "total_max_attempts": conf["max_attempts"]},
        connect_timeout=conf["connect_timeout"],
        read_timeout=conf["read_timeout"],
        max_pool_connections=conf["max_pool_connections"],
        user_agent_appid="bedrock-dashboard",
        **extra,
    )
    return session.client(
        conf["service"], endpoint_url=conf["endpoint_url"], config=config, **credentials
    )


def _call(operation: str, client=None, **params: Any) -> dict[str, Any]:
    """Call one operation by its boto3 method name, mapping every failure to our exceptions."""
    client = client or get_client()
    try:
        response = getattr(client, operation)(**params)
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = error.get("Code", "")
        status = meta.get("HTTPStatusCode")
        cls = errors.error_class_for(code, status)
        raise cls(
            error.get("Message") or str(exc),
            code=code,
            request_id=meta.get("RequestId", ""),
            status_code=status,
            operation=operation,
        ) from exc
    except botocore.exceptions.NoCredentialsError as exc:
        raise errors.CredentialsError(
            "No AWS credentials found (environment, shared config, or instance role).",
            code="NoCredentials",
            operation=operation,
        ) from exc
    except botocore.exceptions.ParamValidationError as exc:
        raise errors.ValidationError(str(exc), code="ParamValidation", operation=operation) from exc
    except (
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectionClosedError,
        botocore.exceptions.ReadTimeoutError,
        botocore.exceptions.ConnectTimeoutError,
        botocore.exceptions.ResponseStreamingError,
    ) as exc:
        raise errors.EndpointUnreachableError(
            str(exc), code=type(exc).__name__, operation=operation
        ) from exc
    response.pop("ResponseMetadata", None)
    return response


def _pages(operation: str, items_key: str, **params: Any) -> Iterator[list[dict[str, Any]]]:
    """Yield each page of a list operation, following nextToken; one API call per page."""
    params = {k: v for k, v in params.items() if v is not None}
    while True:
        response = _call(operation, **params)
        yield response.get(items_key, [])
        token = response.get("nextToken")
        if not token:
            return
        params["nextToken"] = token


# --- Evaluation jobs --------------------------------------------------------------------------


def create_evaluation_job(**request: Any) -> str:
    """CreateEvaluationJob; `request` is the whole request in boto3's names. Returns the ARN."""
    return _call("create_evaluation_job", **request)["jobArn"]


def get_evaluation_job(*, identifier: str) -> dict[str, Any]:
    return _call("get_evaluation_job", jobIdentifier=identifier)


def iter_evaluation_job_pages(
    *, max_results: int = 1000, **filters: Any
) -> Iterator[list[dict[str, Any]]]:
    """Pages of ListEvaluationJobs summaries; filters in boto3's names (statusEquals, ...)."""
    return _pages("list_evaluation_jobs", "jobSummaries", maxResults=max_results, **filters)


def stop_evaluation_job(*, identifier: str) -> None:
    _call("stop_evaluation_job", jobIdentifier=identifier)


def batch_delete_evaluation_jobs(
    *, identifiers: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """BatchDeleteEvaluationJob for 1-25 ARNs: (jobs now Deleting, per-job errors)."""
    response = _call("batch_delete_evaluation_job", jobIdentifiers=identifiers)
    return response.get("evaluationJobs", []), response.get("errors", [])


# --- Model import jobs and imported models --------------------------------------------------


def create_model_import_job(**request: Any) -> str:
    return _call("create_model_import_job", **request)["jobArn"]


def get_model_import_job(*, identifier: str) -> dict[str, Any]:
    return _call("get_model_import_job", jobIdentifier=identifier)


def iter_model_import_job_pages(
    *, max_results: int = 1000, **filters: Any
) -> Iterator[list[dict[str, Any]]]:
    return _pages(
        "list_model_import_jobs", "modelImportJobSummaries", maxResults=max_results, **filters
    )


def get_imported_model(*, identifier: str) -> dict[str, Any]:
    return _call("get_imported_model", modelIdentifier=identifier)


def iter_imported_model_pages(
    *, max_results: int = 1000, **filters: Any
) -> Iterator[list[dict[str, Any]]]:
    return _pages("list_imported_models", "modelSummaries", maxResults=max_results, **filters)


def delete_imported_model(*, identifier: str) -> None:
    _call("delete_imported_model", modelIdentifier=identifier)


# --- Tags and health ------------------------------------------------------------------------


# Tags are read on the request path (a resource's page, Clone), never mirrored: a short call
# with one retry, so a slow or throttling Bedrock costs a page seconds, not the whole retry
# budget of a worker's call (the page then says the tags could not be read).
TAGS_CONNECT_TIMEOUT = 2
TAGS_READ_TIMEOUT = 5
TAGS_MAX_ATTEMPTS = 2


def list_tags_for_resource(*, arn: str) -> dict[str, str]:
    client = get_client(
        connect_timeout=min(settings.BEDROCK_CONNECT_TIMEOUT, TAGS_CONNECT_TIMEOUT),
        read_timeout=min(settings.BEDROCK_READ_TIMEOUT, TAGS_READ_TIMEOUT),
        max_attempts=min(settings.BEDROCK_MAX_ATTEMPTS, TAGS_MAX_ATTEMPTS),
    )
    tags = _call("list_tags_for_resource", client=client, resourceARN=arn).get("tags", [])
    return {tag["key"]: tag["value"] for tag in tags}


def ping(*, timeout: float = 3.0) -> None:
    """Raise a BedrockError unless the endpoint answers a cheap call within `timeout` seconds."""
    client = get_client(
        max_attempts=1, connect_timeout=timeout, read_timeout=timeout, max_pool_connections=2
    )
    _call("list_evaluation_jobs", client=client, maxResults=1)
