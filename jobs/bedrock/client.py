"""The gateway: the one place that talks to Bedrock. One function per operation, keyword
arguments in boto3's own names, our exceptions out (see errors.py).

Every function takes `connection=` (jobs/connections/: an account × region and how to get its
credentials); without one it uses the connection built from the plain settings, as before
connections existed. A client is built from the connection (region, endpoint URL, credentials)
and the settings (retry mode, timeouts, pool size) and cached per configuration, so tests that
point settings at another endpoint get a fresh client. Each connection has one boto3 session:
its Bedrock, S3 and STS clients share its credentials, and for a role that is one set of
temporary credentials that botocore refreshes before they expire.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    Credentials,
    DeferredRefreshableCredentials,
)
from botocore.utils import parse_timestamp
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from jobs.bedrock import errors
from jobs.bedrock.parsing import FastParserFactory
from jobs.connections import Connection, settings_connection

_clients: dict[tuple, Any] = {}
_sessions: dict[Connection, boto3.session.Session] = {}
_clients_lock = threading.Lock()

# Failures to find or make credentials (botocore raises them while building a client or
# signing a request): all final, all CredentialsError.
_CREDENTIAL_ERRORS = (
    botocore.exceptions.NoCredentialsError,
    botocore.exceptions.PartialCredentialsError,
    botocore.exceptions.ProfileNotFound,
    botocore.exceptions.CredentialRetrievalError,
    botocore.exceptions.InvalidConfigError,
    botocore.exceptions.RefreshWithMFAUnsupportedError,
)


def client_settings(
    service: str = "bedrock", connection: Connection | None = None
) -> dict[str, Any]:
    """What a client is built from; also shown in the page header and /healthz. S3 (evaluation
    outputs, jobs/bedrock/s3.py) and STS (sts.py) share the connection's region and the
    retries and timeouts, each with its own endpoint."""
    connection = connection or settings_connection()
    return {
        "service": service,
        "region": connection.region,
        "endpoint_url": connection.endpoint_url(service),
        "retry_mode": settings.BEDROCK_RETRY_MODE,
        "max_attempts": settings.BEDROCK_MAX_ATTEMPTS,
        "connect_timeout": settings.BEDROCK_CONNECT_TIMEOUT,
        "read_timeout": settings.BEDROCK_READ_TIMEOUT,
        "max_pool_connections": settings.BEDROCK_MAX_POOL_CONNECTIONS,
    }


def get_client(service: str = "bedrock", *, connection: Connection | None = None, **overrides: Any):
    """The boto3 client of `service` for `connection` (default: the one from settings) and the
    current settings (overrides: for a one-off, e.g. no retries). CredentialsError when the
    connection's credentials cannot be set up (no such profile, no source credentials)."""
    connection = connection or settings_connection()
    conf = client_settings(service, connection)
    if _on_request_path.get():
        conf |= _request_path_bounds()
    conf |= overrides
    key = (connection, tuple(sorted(conf.items())))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            with _credential_errors(f"{service} client for connection {connection.name}"):
                client = _clients[key] = _build_client(conf, connection)
    return client


# A page that calls Bedrock while the person waits (a detail page describing a job whose
# description is missing or stale: jobs/views/mirror.py) must not spend a worker's retry budget
# (5 attempts, 30 s reads): a short call and no retry, so a slow or unreachable Bedrock costs
# the page a few seconds at most; the page then shows what the mirror has and says Bedrock did
# not answer, and the sweep (or the status block's next poll) tries again.
REQUEST_PATH_CONNECT_TIMEOUT = 2
REQUEST_PATH_READ_TIMEOUT = 4
REQUEST_PATH_MAX_ATTEMPTS = 1
_on_request_path: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "bedrock_on_request_path", default=False
)


def _request_path_bounds() -> dict[str, Any]:
    return {
        "connect_timeout": min(settings.BEDROCK_CONNECT_TIMEOUT, REQUEST_PATH_CONNECT_TIMEOUT),
        "read_timeout": min(settings.BEDROCK_READ_TIMEOUT, REQUEST_PATH_READ_TIMEOUT),
        "max_attempts": min(settings.BEDROCK_MAX_ATTEMPTS, REQUEST_PATH_MAX_ATTEMPTS),
    }


@contextlib.contextmanager
def on_request_path() -> Iterator[None]:
    """Bedrock calls made inside (by any code: sync's describe, the gateway's functions) use
    clients with the request path's short bounds above."""
    token = _on_request_path.set(True)
    try:
        yield
    finally:
        _on_request_path.reset(token)


def forget_clients() -> None:
    """Drop every cached client and session: the next call builds them again, reading the
    shared config and credentials files anew (when they or the connections file changed)."""
    with _clients_lock:
        _clients.clear()
        _sessions.clear()


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "DASHBOARD_CONNECTIONS":
        forget_clients()


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


@contextlib.contextmanager
def _credential_errors(operation: str) -> Iterator[None]:
    try:
        yield
    except _CREDENTIAL_ERRORS as exc:
        raise _credentials_error(exc, operation) from exc


def _credentials_error(exc: Exception, operation: str) -> errors.CredentialsError:
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        message = "No AWS credentials found (environment, shared config, or instance role)."
        return errors.CredentialsError(message, code="NoCredentials", operation=operation)
    # botocore's messages name the profile or file, never a secret.
    return errors.CredentialsError(str(exc), code=type(exc).__name__, operation=operation)


def _core_session() -> botocore.session.Session:
    core = botocore.session.get_session()
    # Bedrock's answers parsed by a planned walk of their shapes (parsing.py), timestamps
    # without dateutil.
    factory = FastParserFactory()
    factory.set_parser_defaults(timestamp_parser=fast_timestamp)
    core.register_component("response_parser_factory", factory)
    return core


def _session_for(connection: Connection) -> boto3.session.Session:
    """The connection's one boto3 session (call with _clients_lock held)."""
    session = _sessions.get(connection)
    if session is None:
        session = _sessions[connection] = _new_session(connection)
    return session


def _new_session(connection: Connection) -> boto3.session.Session:
    core = _core_session()
    if connection.credentials_kind == "profile":
        # ProfileNotFound here if the shared files have no such profile.
        return boto3.session.Session(
            botocore_session=core, profile_name=connection.profile, region_name=connection.region
        )
    if connection.credentials_kind == "role":
        resolver = CredentialResolver(providers=[_Given(_assume_role_credentials(connection))])
        core.register_component("credential_provider", resolver)
    return boto3.session.Session(botocore_session=core, region_name=connection.region)


class _Given(CredentialProvider):
    """Hands a session the credentials we made (botocore's resolver takes providers)."""

    METHOD = "assume-role"

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


def _assume_role_credentials(connection: Connection) -> DeferredRefreshableCredentials:
    """The role's temporary credentials, fetched by STS AssumeRole on first use and fetched
    again before they expire (botocore refreshes within 15 minutes of expiry, and blocks
    callers only in the last 10), with the source credentials: boto3's default chain or the
    connection's source_profile. Kept in memory only.
    https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html"""
    source = _core_session()
    if connection.source_profile:
        source.set_config_variable("profile", connection.source_profile)
    source_credentials = source.get_credentials()
    if source_credentials is None:
        if not connection.sts_endpoint_url:
            raise botocore.exceptions.NoCredentialsError()
        # A local STS (moto) does not check signatures: a placeholder, never a real secret.
        source_credentials = Credentials("local", "local")
    extra_args: dict[str, Any] = {"RoleSessionName": connection.role_session_name}
    if connection.external_id:
        extra_args["ExternalId"] = connection.external_id
    if connection.duration_seconds:
        extra_args["DurationSeconds"] = connection.duration_seconds
    sts_conf = client_settings("sts", connection)
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=functools.partial(
            source.create_client,
            region_name=connection.region,
            endpoint_url=connection.sts_endpoint_url,
            config=_config(sts_conf),
        ),
        source_credentials=source_credentials,
        role_arn=connection.role_arn,
        extra_args=extra_args,
    )
    return DeferredRefreshableCredentials(
        refresh_using=fetcher.fetch_credentials, method="assume-role"
    )


def _config(conf: dict[str, Any], **extra: Any) -> Config:
    return Config(
        retries={"mode": conf["retry_mode"], "total_max_attempts": conf["max_attempts"]},
        connect_timeout=conf["connect_timeout"],
        read_timeout=conf["read_timeout"],
        max_pool_connections=conf["max_pool_connections"],
        user_agent_appid="bedrock-dashboard",
        **extra,
    )


def _build_client(conf: dict[str, Any], connection: Connection):
    session = _session_for(connection)
    credentials: dict[str, str] = {}
    if (
        conf["endpoint_url"]
        and connection.credentials_kind != "role"
        and session.get_credentials() is None
    ):
        # A custom endpoint (the local Bedrock or S3) does not check signatures, but botocore
        # refuses to send an unsigned request: sign with a placeholder, never a real secret.
        credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    extra: dict[str, Any] = {}
    if conf["service"] == "s3" and conf["endpoint_url"]:
        # A local S3 on 127.0.0.1 has no per-bucket host names.
        extra["s3"] = {"addressing_style": "path"}
    return session.client(
        conf["service"],
        endpoint_url=conf["endpoint_url"],
        config=_config(conf, **extra),
        **credentials,
    )


def _call(
    operation: str, client=None, *, connection: Connection | None = None, **params: Any
) -> dict[str, Any]:
    """Call one operation by its boto3 method name (on `client`, or the connection's Bedrock
    client), mapping every failure to our exceptions."""
    client = client or get_client(connection=connection)
    try:
        response = getattr(client, operation)(**params)
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = error.get("Code", "")
        status = meta.get("HTTPStatusCode")
        cls = errors.error_class_for(code, status)
        message = error.get("Message") or str(exc)
        if exc.operation_name == "AssumeRole" and operation != "assume_role":
            # Refreshing a role's credentials failed while signing this call.
            message = f"assuming the connection's role failed: {message}"
        raise cls(
            message,
            code=code,
            request_id=meta.get("RequestId", ""),
            status_code=status,
            operation=operation,
        ) from exc
    except _CREDENTIAL_ERRORS as exc:
        raise _credentials_error(exc, operation) from exc
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


def _pages(
    operation: str, items_key: str, *, connection: Connection | None = None, **params: Any
) -> Iterator[list[dict[str, Any]]]:
    """Yield each page of a list operation, following nextToken; one API call per page."""
    params = {k: v for k, v in params.items() if v is not None}
    while True:
        response = _call(operation, connection=connection, **params)
        yield response.get(items_key, [])
        token = response.get("nextToken")
        if not token:
            return
        params["nextToken"] = token


# --- Evaluation jobs --------------------------------------------------------------------------


def create_evaluation_job(*, connection: Connection | None = None, **request: Any) -> str:
    """CreateEvaluationJob; `request` is the whole request in boto3's names. Returns the ARN."""
    return _call("create_evaluation_job", connection=connection, **request)["jobArn"]


def get_evaluation_job(*, identifier: str, connection: Connection | None = None) -> dict[str, Any]:
    return _call("get_evaluation_job", connection=connection, jobIdentifier=identifier)


def iter_evaluation_job_pages(
    *, max_results: int = 1000, connection: Connection | None = None, **filters: Any
) -> Iterator[list[dict[str, Any]]]:
    """Pages of ListEvaluationJobs summaries; filters in boto3's names (statusEquals, ...)."""
    return _pages(
        "list_evaluation_jobs",
        "jobSummaries",
        connection=connection,
        maxResults=max_results,
        **filters,
    )


def stop_evaluation_job(*, identifier: str, connection: Connection | None = None) -> None:
    _call("stop_evaluation_job", connection=connection, jobIdentifier=identifier)


def batch_delete_evaluation_jobs(
    *, identifiers: list[str], connection: Connection | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """BatchDeleteEvaluationJob for 1-25 ARNs: (jobs now Deleting, per-job errors)."""
    response = _call(
        "batch_delete_evaluation_job", connection=connection, jobIdentifiers=identifiers
    )
    return response.get("evaluationJobs", []), response.get("errors", [])


# --- Model import jobs and imported models --------------------------------------------------


def create_model_import_job(*, connection: Connection | None = None, **request: Any) -> str:
    return _call("create_model_import_job", connection=connection, **request)["jobArn"]


def get_model_import_job(
    *, identifier: str, connection: Connection | None = None
) -> dict[str, Any]:
    return _call("get_model_import_job", connection=connection, jobIdentifier=identifier)


def iter_model_import_job_pages(
    *, max_results: int = 1000, connection: Connection | None = None, **filters: Any
) -> Iterator[list[dict[str, Any]]]:
    return _pages(
        "list_model_import_jobs",
        "modelImportJobSummaries",
        connection=connection,
        maxResults=max_results,
        **filters,
    )


def get_imported_model(*, identifier: str, connection: Connection | None = None) -> dict[str, Any]:
    return _call("get_imported_model", connection=connection, modelIdentifier=identifier)


def iter_imported_model_pages(
    *, max_results: int = 1000, connection: Connection | None = None, **filters: Any
) -> Iterator[list[dict[str, Any]]]:
    return _pages(
        "list_imported_models",
        "modelSummaries",
        connection=connection,
        maxResults=max_results,
        **filters,
    )


def delete_imported_model(*, identifier: str, connection: Connection | None = None) -> None:
    _call("delete_imported_model", connection=connection, modelIdentifier=identifier)


# --- Tags and health ------------------------------------------------------------------------


# Tags are read on the request path (a resource's page, Clone), never mirrored: a short call
# with one retry, so a slow or throttling Bedrock costs a page seconds, not the whole retry
# budget of a worker's call (the page then says the tags could not be read).
TAGS_CONNECT_TIMEOUT = 2
TAGS_READ_TIMEOUT = 5
TAGS_MAX_ATTEMPTS = 2


def list_tags_for_resource(*, arn: str, connection: Connection | None = None) -> dict[str, str]:
    client = get_client(
        connection=connection,
        connect_timeout=min(settings.BEDROCK_CONNECT_TIMEOUT, TAGS_CONNECT_TIMEOUT),
        read_timeout=min(settings.BEDROCK_READ_TIMEOUT, TAGS_READ_TIMEOUT),
        max_attempts=min(settings.BEDROCK_MAX_ATTEMPTS, TAGS_MAX_ATTEMPTS),
    )
    tags = _call("list_tags_for_resource", client=client, resourceARN=arn).get("tags", [])
    return {tag["key"]: tag["value"] for tag in tags}


def ping(*, timeout: float = 3.0, connection: Connection | None = None) -> None:
    """Raise a BedrockError unless the endpoint answers a cheap call within `timeout` seconds."""
    client = get_client(
        connection=connection,
        max_attempts=1,
        connect_timeout=timeout,
        read_timeout=timeout,
        max_pool_connections=2,
    )
    _call("list_evaluation_jobs", client=client, maxResults=1)
