"""The local Bedrock: an HTTP server boto3 and the AWS CLI cannot tell from Amazon Bedrock for
the evaluation-job and model-import operations.

    lb = LocalBedrock(time_scale=0.001, control=True).start()
    boto3.client("bedrock", endpoint_url=lb.url, ...)
    lb.stop()

Each request is routed and parsed from botocore's service model (protocol.py), validated with
the product's own contract (jobs.bedrock.contract.validate) before any handler runs, and
answered from in-memory state (store.py).  Signatures are accepted without being checked.

Several accounts and regions at once: each account × region has its own Store (jobs, ARNs with
its account and region, quotas, idempotency tokens), injected errors and call counts.  A
request reaches one by its SigV4 credential scope, as AWS routes it (``Authorization:
AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/bedrock/aws4_request``):
- the region is the scope's, if served (``regions=``, ``--regions``), else the default region;
  a request without a scope goes to the default region;
- the account is, in order: the key's entry in ``accounts=`` ({key id: account},
  ``--accounts KEY=ACCOUNT,...``); the account the key id encodes (AKIA/ASIA keys, as AWS and
  moto's IAM and STS issue them: a role assumed through the local STS lands in the role's
  account) if served; else the default account.  Served accounts are the default and those of
  ``accounts=``.  With one account and one region (the default) nothing is parsed: every
  request reaches the one store, whatever its scope.

Faults (latency, throttling, 5xx) apply to Bedrock operations only, in every account × region
alike; to slow one down, inject ThrottlingException with a rate there (POST /_local/errors).
The control API under /_local/ exists only when ``control=True``; otherwise those paths answer
404 like any unknown route.  Nothing in the product imports this package: it only knows an
endpoint URL.

Control API (JSON in and out; errors in the AWS format).  Where it acts on a store (reset,
seed, jobs/status, calls, quotas, errors), ``?account=<12 digits>&region=<name>`` selects the
account × region (each absent one: the default; one not served: ValidationException); reset
and calls/reset without either act on every store, jobs/status without either on the store its
ARN names.
    GET  /_local/faults         {"throttle_rps", "throttle_rate", "error_rate", "latency_ms",
                                 "time_scale"}
    POST /_local/faults         any of those keys; the others keep their values; answers all
    POST /_local/reset          forget every job, model, tag, token and call count ({})
    POST /_local/seed           {"count": N, "random_seed": S} -> {"evaluation_jobs": n,
                                 "model_import_jobs": m, "imported_models": k}
    POST /_local/jobs/status    {"arn": ..., "status": ...}: force a job's status (any kind)
    GET  /_local/calls          {"ListEvaluationJobs": 3, ...}: calls that reached each operation
    POST /_local/calls/reset    zero the call counts and the send log ({})
    GET  /_local/stores         [{"account", "region", "evaluation_jobs", "model_import_jobs",
                                 "imported_models", "calls": {...}}, ...]: every account × region
    GET  /_local/sends          {"arn:...": [t1, t2], ...}: when each identifier was sent in a
                                BatchDeleteEvaluationJob call (Unix times, faulted calls too)
    GET  /_local/outputs        {"enabled", "pending", "jobs_written", "jobs_failed",
                                 "files_written", "last_error", "endpoint_url"}: the S3 writer
    POST /_local/outputs/flush  {"timeout": s (0-120, default 30)}: wait until no write is
                                pending, then answer as GET /_local/outputs (+ "flushed": bool)

    GET  /_local/quotas         {"concurrent_automatic_evaluation_jobs": 20, ...} (store.py's
                                QUOTA_DEFAULTS) and "usage": what counts against each now
    POST /_local/quotas         any of those keys with a whole number; answers as GET
    GET  /_local/errors         the pending injected errors
    POST /_local/errors         {"operation": "CreateEvaluationJob", "code":
                                "AccessDeniedException", "count": N | "rate": 0..1,
                                "message": optional}: the next N calls (or that share of calls)
                                of the operation fail with that code, which must be one botocore
                                models for the operation; answered with the model's HTTP status
    POST /_local/errors/reset   forget every injected error ({})

With ``s3_endpoint_url`` (``--s3-endpoint-url``), each evaluation job that becomes Completed
(timer, forced status or seed) has its outputs written into that S3 under its
outputDataConfig.s3Uri by a background thread (outputs/, output_writer.py); without it,
nothing is written.

Behaviour worth knowing: a job whose name contains "fail" ends Failed; a forced status sticks
(pending transitions are cancelled); reset keeps the fault settings, the injected errors and
the quotas.  Quotas start at AWS's defaults and are enforced on the Create operations
(ServiceQuotaExceededException naming the quota); seeding stays within the concurrency quotas
(a running job beyond them is seeded finished) and raises the imported-models quota to what it
seeded, as an account that asked for more.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import random
import re
import socket
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

from jobs.bedrock.contract import aws_validation_message, service_model, validate
from jobs.bedrock.local import outputs, protocol
from jobs.bedrock.local import seed as seeding
from jobs.bedrock.local.output_writer import OutputWriter
from jobs.bedrock.local.protocol import ServiceError
from jobs.bedrock.local.store import Clock, EvaluationJob, Store

logger = logging.getLogger(__name__)

OPERATIONS = (
    "CreateEvaluationJob",
    "GetEvaluationJob",
    "ListEvaluationJobs",
    "StopEvaluationJob",
    "BatchDeleteEvaluationJob",
    "CreateModelImportJob",
    "GetModelImportJob",
    "ListModelImportJobs",
    "GetImportedModel",
    "ListImportedModels",
    "DeleteImportedModel",
    "ListTagsForResource",
)

CONTROL_PREFIX = "/_local/"

# Operations whose identifiers are logged with the time of each call that carried them, so a
# test can prove nothing was sent again after the dashboard settled it.
SEND_LOGGED = {"BatchDeleteEvaluationJob": "jobIdentifiers"}

_UNSET: Any = object()


class Faults:
    """Injected latency, per-operation throttling (token bucket) and server errors."""

    def __init__(
        self,
        *,
        throttle_rps: float | None,
        throttle_rate: float,
        error_rate: float,
        latency_ms: float,
        random_seed: int,
    ) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(random_seed)  # noqa: S311 - fault draws, not secrets
        self._buckets: dict[str, tuple[float, float]] = {}  # operation -> (tokens, last refill)
        self.throttle_rps: float | None = None
        self.throttle_rate = 0.0
        self.error_rate = 0.0
        self.latency_ms = 0.0
        self.update(
            throttle_rps=throttle_rps,
            throttle_rate=throttle_rate,
            error_rate=error_rate,
            latency_ms=latency_ms,
        )

    def update(
        self,
        *,
        throttle_rps: Any = _UNSET,
        throttle_rate: Any = _UNSET,
        error_rate: Any = _UNSET,
        latency_ms: Any = _UNSET,
    ) -> None:
        with self._lock:
            if throttle_rps is not _UNSET:
                if throttle_rps is not None and not float(throttle_rps) > 0:
                    raise ValueError("throttle_rps must be positive, or None for no throttling")
                self.throttle_rps = None if throttle_rps is None else float(throttle_rps)
                self._buckets.clear()
            for knob, value in (("throttle_rate", throttle_rate), ("error_rate", error_rate)):
                if value is _UNSET:
                    continue
                if value is None:
                    value = 0.0
                if not 0.0 <= float(value) <= 1.0:
                    raise ValueError(f"{knob} must be within 0..1")
                setattr(self, knob, float(value))
            if latency_ms is not _UNSET:
                if float(latency_ms) < 0:
                    raise ValueError("latency_ms must not be negative")
                self.latency_ms = float(latency_ms)

    def admit(self, operation: str) -> None:
        """Sleep the added latency, then raise the fault this call draws, if any."""
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        with self._lock:
            rate = self.throttle_rps
            if rate is not None:
                now = time.monotonic()
                # Burst capacity of one second's worth (at least one request).
                capacity = max(1.0, rate)
                tokens, last = self._buckets.get(operation, (capacity, now))
                tokens = min(capacity, tokens + (now - last) * rate)
                if tokens < 1.0:
                    self._buckets[operation] = (tokens, now)
                    raise ServiceError(
                        "ThrottlingException", "Too many requests, please wait before trying again."
                    )
                self._buckets[operation] = (tokens - 1.0, now)
            if self.throttle_rate and self._rng.random() < self.throttle_rate:
                raise ServiceError(
                    "ThrottlingException", "Too many requests, please wait before trying again."
                )
            if self.error_rate and self._rng.random() < self.error_rate:
                raise ServiceError(
                    "InternalServerException",
                    "An internal server error occurred. Retry your request.",
                )

    def as_dict(self) -> dict[str, Any]:
        return {
            "throttle_rps": self.throttle_rps,
            "throttle_rate": self.throttle_rate,
            "error_rate": self.error_rate,
            "latency_ms": self.latency_ms,
        }


def _modelled_errors(operation: str) -> dict[str, int]:
    """{error code: HTTP status} botocore models for `operation`."""
    op = service_model().operation_model(operation)
    return {
        shape.name: int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
        for shape in op.error_shapes
    }


# IAM actions are the operation names: bedrock:CreateEvaluationJob, ...
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonbedrock.html
def _error_message(operation: str, code: str, account_id: str, region: str) -> str:
    if code == "AccessDeniedException":
        return (
            f"User: arn:aws:sts::{account_id}:assumed-role/DashboardRole/session is not "
            f"authorized to perform: bedrock:{operation} on resource: "
            f"arn:aws:bedrock:{region}:{account_id}:* because no identity-based policy "
            "allows the bedrock:" + operation + " action"
        )
    shape = service_model().shape_for(code)
    return re.sub(r"<[^>]+>", "", shape.documentation or "").strip() or code


class ErrorInjections:
    """Errors made to order: the next N calls, or a share of calls, of one operation answer one
    of the error codes botocore models for it."""

    def __init__(self, *, account_id: str, region: str, random_seed: int) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(random_seed + 1)  # noqa: S311 - fault draws, not secrets
        self._account_id = account_id
        self._region = region
        # operation -> [{"code", "count" | "rate", "message"}], first match wins.
        self._pending: dict[str, list[dict[str, Any]]] = {}

    def add(
        self,
        operation: str,
        code: str,
        *,
        count: int | None = None,
        rate: float | None = None,
        message: str | None = None,
    ) -> dict[str, Any]:
        if operation not in OPERATIONS:
            raise ValueError(f"operation must be one of: {', '.join(OPERATIONS)}")
        modelled = _modelled_errors(operation)
        if code not in modelled:
            raise ValueError(
                f"{code} is not an error botocore models for {operation}; "
                f"modelled: {', '.join(modelled)}"
            )
        if (count is None) == (rate is None):
            raise ValueError("give exactly one of count (next N calls) and rate (0..1)")
        if count is not None and (isinstance(count, bool) or int(count) != count or count < 1):
            raise ValueError("count must be a whole number >= 1")
        if rate is not None and not 0.0 < float(rate) <= 1.0:
            raise ValueError("rate must be within (0, 1]")
        if message is not None and not isinstance(message, str):
            raise ValueError("message must be a string")
        entry = {
            "operation": operation,
            "code": code,
            "status": modelled[code],
            "count": None if count is None else int(count),
            "rate": None if rate is None else float(rate),
            "message": message or _error_message(operation, code, self._account_id, self._region),
        }
        with self._lock:
            self._pending.setdefault(operation, []).append(entry)
        return dict(entry)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    def as_list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for entries in self._pending.values() for e in entries]

    def admit(self, operation: str) -> None:
        """Raise the error injected for this call of `operation`, if any."""
        with self._lock:
            entries = self._pending.get(operation)
            if not entries:
                return
            for entry in entries:
                if entry["count"] is not None:
                    entry["count"] -= 1
                    if entry["count"] == 0:
                        entries.remove(entry)
                    break
                if self._rng.random() < entry["rate"]:
                    break
            else:
                return
        extra = {}
        if entry["code"] == "TooManyTagsException":
            extra["resourceName"] = (
                f"arn:aws:bedrock:{self._region}:{self._account_id}:model-import-job/injected"
            )
        raise ServiceError(entry["code"], entry["message"], entry["status"], extra=extra)


# SigV4's credential scope names the signing key's id and the region the request is for:
# Authorization: AWS4-HMAC-SHA256 Credential=<key id>/<yyyymmdd>/<region>/<service>/aws4_request
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
_CREDENTIAL = re.compile(
    r"Credential=([A-Za-z0-9+/=_.-]{1,128})/\d{8}/([a-z0-9-]{1,32})/[a-z0-9-]{1,32}/aws4_request"
)
_ACCOUNT = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_ARN_SCOPE = re.compile(r"arn:aws:bedrock:([a-z0-9-]+):(\d{12}):")


def key_account(access_key: str) -> str | None:
    """The account an AKIA/ASIA access key id encodes (what STS GetAccessKeyInfo answers), or
    None. AWS has encoded it this way in keys issued since 2019, and moto's IAM and STS issue
    keys in the same encoding: an assumed role's temporary key carries the role's account.
    https://docs.aws.amazon.com/STS/latest/APIReference/API_GetAccessKeyInfo.html"""
    if len(access_key) != 20 or access_key[:4] not in ("AKIA", "ASIA"):
        return None
    try:
        decoded = base64.b32decode(access_key[4:])
    except (binascii.Error, ValueError):
        return None
    account = (int.from_bytes(decoded[:6], "big") & 0x7FFFFFFFFF80) >> 7
    return f"{account:012d}" if account <= 999_999_999_999 else None


def parse_accounts(text: str) -> dict[str, str]:
    """``KEY=ACCOUNT,KEY=ACCOUNT`` (the ``--accounts`` flag) as {access key id: account}."""
    keys: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        key, sep, account = (piece.strip() for piece in entry.partition("="))
        if not sep or not key or not _ACCOUNT.fullmatch(account):
            raise ValueError(f"{entry!r}: expected ACCESS_KEY_ID=ACCOUNT (12 digits)")
        keys[key] = account
    return keys


@dataclass(eq=False)
class Tenancy:
    """One account × region the local Bedrock serves: its own jobs, ARNs, quotas, injected
    errors and call counts."""

    account_id: str
    region: str
    store: Store
    errors: ErrorInjections
    random_seed: int
    calls: Counter[str] = field(default_factory=Counter)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: LocalBedrock) -> None:
        self.app = app
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, as botocore's connection pool expects.
    protocol_version = "HTTP/1.1"
    server_version = "LocalBedrock"
    sys_version = ""
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus delayed ACK
    # would hold each response back ~40 ms.
    disable_nagle_algorithm = True
    # Idle keep-alive connections are dropped after this, freeing their thread.
    timeout = 60
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("%s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # the CRLF after each chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _admit_control(self) -> None:
        """The /_local/ control API is for this machine's own tools. Any web page a developer
        visits could otherwise drive it from their browser (a form posting text/plain needs no
        CORS preflight): a request a browser sends from another origin is refused, and so is
        a POST that is not JSON (which a cross-origin page can only send after a preflight
        this server never answers). No Origin (curl, urllib, the tests) or the server's own
        loopback origin (http://127.0.0.1:PORT, localhost, [::1]) is let through."""
        if not (self.server.app.control and self.path.startswith(CONTROL_PREFIX)):
            return
        port = self.server.server_address[1]
        own = {f"http://{host}:{port}" for host in ("127.0.0.1", "localhost", "[::1]")}
        origin = (self.headers.get("Origin") or "").strip().rstrip("/").lower()
        if origin and origin not in own:
            raise ServiceError(
                "AccessDeniedException",
                f"The control API refuses requests from the origin {origin[:200]!r}.",
                status=403,
            )
        if self.command.upper() not in ("GET", "HEAD"):
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if content_type != "application/json":
                raise ServiceError(
                    "AccessDeniedException",
                    "The control API takes only Content-Type: application/json on "
                    f"{self.command.upper()}.",
                    status=403,
                )

    def _serve(self) -> None:
        request_id = str(uuid.uuid4())
        body = self._read_body()
        app = self.server.app
        try:
            self._admit_control()
            status, headers, payload = app.dispatch(self.command, self.path, self.headers, body)
        except ServiceError as err:
            status, headers, payload = protocol.error_response(app.service, err)
        except Exception:
            logger.exception("local Bedrock failed on %s %s", self.command, self.path)
            err = ServiceError("InternalServerException", "Internal error in the local Bedrock.")
            status, headers, payload = protocol.error_response(app.service, err)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        # botocore reads ResponseMetadata.RequestId from this header, errors included.
        self.send_header("x-amzn-RequestId", request_id)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


class LocalBedrock:
    """A local Bedrock on a background thread; see the module docstring."""

    def __init__(
        self,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        time_scale: float = 1.0,
        throttle_rps: float | None = None,
        error_rate: float = 0.0,
        latency_ms: float = 0,
        control: bool = False,
        random_seed: int = 0,
        throttle_rate: float = 0.0,
        s3_endpoint_url: str | None = None,
        output_prompts: int | None = None,
        quotas: dict[str, int] | None = None,
        regions: Iterable[str] = (),
        accounts: Mapping[str, str] | None = None,
    ) -> None:
        self.region = region
        self.account_id = account_id
        self.control = control
        self.random_seed = random_seed
        self.service = service_model()
        self.router = protocol.Router(self.service, OPERATIONS)
        self.clock = Clock(time_scale)
        # Served regions (the default first) and accounts: the default, and those of the keys.
        self.regions = tuple(dict.fromkeys((region, *regions)))
        self.keys = dict(accounts or {})
        self.accounts = tuple(dict.fromkeys((account_id, *self.keys.values())))
        for extra in self.regions[1:]:
            if not _REGION.fullmatch(extra):
                raise ValueError(f"{extra!r} is not a region name")
        for extra in self.accounts[1:]:
            if not _ACCOUNT.fullmatch(extra):
                raise ValueError(f"{extra!r} is not an account id (12 digits)")
        self.faults = Faults(
            throttle_rps=throttle_rps,
            throttle_rate=throttle_rate,
            error_rate=error_rate,
            latency_ms=latency_ms,
            random_seed=random_seed,
        )
        self.outputs: OutputWriter | None = None
        if output_prompts is not None and not 1 <= output_prompts <= outputs.MAX_PROMPTS:
            raise ValueError(f"output_prompts must be within 1..{outputs.MAX_PROMPTS}")
        if s3_endpoint_url:
            self.outputs = OutputWriter(
                s3_endpoint_url,
                region=region,
                max_prompts=output_prompts or outputs.DEFAULT_MAX_PROMPTS,
            )
        self._tenancies: dict[tuple[str, str], Tenancy] = {}
        for tenant_account in self.accounts:
            for tenant_region in self.regions:
                self._tenancies[tenant_account, tenant_region] = self._new_tenancy(
                    tenant_account, tenant_region, quotas
                )
        default = self._tenancies[account_id, region]
        # The default account × region: what every request reached before there were several.
        self.default = default
        self.store = default.store
        self.errors = default.errors
        self._sends: dict[str, list[float]] = {}
        self._calls_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def _new_tenancy(self, account_id: str, region: str, quotas: dict[str, int] | None) -> Tenancy:
        # The default keeps the random seed it was given; the others get their own, so their
        # ids and seeded jobs differ, deterministically.
        random_seed = self.random_seed
        if (account_id, region) != (self.account_id, self.region):
            random_seed += zlib.crc32(f"{account_id}/{region}".encode()) % 1_000_003
        store = Store(
            region=region, account_id=account_id, clock=self.clock, random_seed=random_seed
        )
        if quotas:
            store.set_quotas(**quotas)
        if self.outputs is not None:
            store.on_evaluation_completed = self._queue_outputs
        errors = ErrorInjections(account_id=account_id, region=region, random_seed=random_seed)
        return Tenancy(account_id, region, store, errors, random_seed)

    # --- accounts and regions --------------------------------------------------------------

    def account_for_key(self, access_key: str) -> str:
        """The account a request signed with `access_key` reaches: the ``accounts`` table, else
        the account the key id encodes (AKIA/ASIA keys, such as moto's STS hands out for an
        assumed role) when it is served here, else the default account."""
        account = self.keys.get(access_key) or key_account(access_key)
        return account if account in self.accounts else self.account_id

    def route(self, authorization: str | None) -> Tenancy:
        """The account × region of a request, from its SigV4 credential scope: the account
        from the key id, the region from the scope when served here, else the defaults."""
        if len(self._tenancies) == 1 or not authorization:
            return self.default
        match = _CREDENTIAL.search(authorization)
        if match is None:
            return self.default
        key, region = match.groups()
        region = region if region in self.regions else self.region
        return self._tenancies[self.account_for_key(key), region]

    def tenancy(self, account: str | None = None, region: str | None = None) -> Tenancy:
        """The account × region named (default: the default one); ValueError if not served."""
        account = account or self.account_id
        region = region or self.region
        tenancy = self._tenancies.get((account, region))
        if tenancy is None:
            raise ValueError(
                f"account {account[:40]!r} in region {region[:40]!r} is not served here; "
                f"accounts: {', '.join(self.accounts)}; regions: {', '.join(self.regions)}"
            )
        return tenancy

    def tenancies(self) -> list[Tenancy]:
        return list(self._tenancies.values())

    def stores_summary(self) -> list[dict[str, Any]]:
        """Each account × region with what it holds and the calls that reached it."""
        out = []
        for tenancy in self._tenancies.values():
            with tenancy.store.lock:
                tenancy.store.tick()
                held = {
                    "evaluation_jobs": len(tenancy.store.evaluation_jobs),
                    "model_import_jobs": len(tenancy.store.import_jobs),
                    "imported_models": len(tenancy.store.models),
                }
            with self._calls_lock:
                calls = dict(tenancy.calls)
            out.append(
                {"account": tenancy.account_id, "region": tenancy.region, **held, "calls": calls}
            )
        return out

    # --- lifecycle -------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Self:
        """Listen on host:port (0 picks a free port) and serve from a background thread."""
        if self._server is not None:
            raise RuntimeError("already started")
        self._server = _Server((host, port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"local-bedrock-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("not started")
        host = self._server.server_address[0]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        """Stop serving, close every connection, free the port and join the thread."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        with server.connections_lock:
            connections = list(server.connections)
        for conn in connections:
            # Wakes handler threads blocked reading an idle keep-alive connection.
            with contextlib.suppress(OSError):  # already closed by the client
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None
        if self.outputs is not None:
            self.outputs.stop()

    def __enter__(self) -> Self:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- Python control API ----------------------------------------------------------------

    # Each method that acts on jobs, quotas, errors or call counts takes ``account`` and
    # ``region`` (default: the default ones; ValueError for one not served here).

    def seed(
        self,
        count: int = 100,
        random_seed: int | None = None,
        *,
        account: str | None = None,
        region: str | None = None,
    ) -> dict[str, int]:
        """Add ``count`` evaluation jobs (and count // 10 import jobs with their models).

        Running jobs stay within the concurrency quotas (those drawn beyond them are seeded
        finished); the imported-models quota is raised to what the account then holds, as a
        real account would have asked for. The total of evaluation jobs is not capped, so
        benchmarks can seed more than 5,000 (CreateEvaluationJob is then refused)."""
        if count < 0:
            raise ValueError("count must not be negative")
        tenancy = self.tenancy(account, region)
        store = tenancy.store
        with store.lock:
            usage, quotas = store.usage(), store.quotas
            room = {
                "automatic": quotas["concurrent_automatic_evaluation_jobs"]
                - usage["concurrent_automatic_evaluation_jobs"],
                "human": quotas["concurrent_human_evaluation_jobs"]
                - usage["concurrent_human_evaluation_jobs"],
                "import": quotas["concurrent_model_import_jobs"]
                - usage["concurrent_model_import_jobs"],
            }
            data = seeding.generate(
                count,
                tenancy.random_seed if random_seed is None else random_seed,
                region=tenancy.region,
                account_id=tenancy.account_id,
                now=store._now(),
                room=room,
            )
            counts = store.load_seed(data)
            held = store.usage()["imported_models"]
            if held > quotas["imported_models"]:
                logger.info("seeding raised the imported-models quota to %d", held)
                store.set_quotas(imported_models=held)
        return counts

    def set_quotas(
        self, *, account: str | None = None, region: str | None = None, **values: int
    ) -> dict[str, int]:
        """Change the quotas named (store.QUOTA_DEFAULTS: AWS's defaults); returns them all."""
        return self.tenancy(account, region).store.set_quotas(**values)

    def get_quotas(self, *, account: str | None = None, region: str | None = None) -> dict:
        store = self.tenancy(account, region).store
        return {**store.quotas, "usage": store.usage()}

    def inject_error(
        self,
        operation: str,
        code: str,
        *,
        count: int | None = None,
        rate: float | None = None,
        message: str | None = None,
        account: str | None = None,
        region: str | None = None,
    ) -> dict[str, Any]:
        """Make the next `count` calls (or a `rate` share of calls) of `operation` fail with
        `code`, one of the errors botocore models for it, with the model's HTTP status and
        `message` (default: AWS's documented meaning; for AccessDeniedException the missing
        bedrock:<Operation> action, as IAM words it)."""
        errors = self.tenancy(account, region).errors
        return errors.add(operation, code, count=count, rate=rate, message=message)

    def clear_errors(self, *, account: str | None = None, region: str | None = None) -> None:
        self.tenancy(account, region).errors.clear()

    def set_faults(
        self,
        throttle_rps: float | None = _UNSET,
        error_rate: float = _UNSET,
        latency_ms: float = _UNSET,
        time_scale: float | None = _UNSET,
        throttle_rate: float = _UNSET,
    ) -> dict[str, Any]:
        """Change the knobs passed, leave the others; returns them all.

        throttle_rps: per-operation request rate above which calls get 429 (None: no limit);
        throttle_rate: share of calls answered 429 regardless of rate (0..1);
        error_rate: share answered 500 InternalServerException (0..1);
        latency_ms: added to every Bedrock call; time_scale: multiplies nominal durations.
        """
        self.faults.update(
            throttle_rps=throttle_rps,
            throttle_rate=throttle_rate,
            error_rate=error_rate,
            latency_ms=latency_ms,
        )
        if time_scale is not _UNSET and time_scale is not None:
            self._tick_all()  # what was due under the old scale happens first
            self.clock.set_scale(float(time_scale))
        return self.get_faults()

    def get_faults(self) -> dict[str, Any]:
        return {**self.faults.as_dict(), "time_scale": self.clock.scale}

    def force_status(
        self, arn: str, status: str, *, account: str | None = None, region: str | None = None
    ) -> dict[str, str]:
        """Force a job's status; without a selector, in the account × region its ARN names
        (when served here, else the default one)."""
        if account is None and region is None and (scope := _ARN_SCOPE.match(arn)):
            tenancy = self._tenancies.get((scope[2], scope[1]), self.default)
        else:
            tenancy = self.tenancy(account, region)
        return tenancy.store.force_status(arn, status)

    def reset(self, *, account: str | None = None, region: str | None = None) -> None:
        """Forget every job, model, tag and token, and zero the call counts: of the account ×
        region named, or of every one (and the pending outputs) without a selector."""
        if account is None and region is None:
            for tenancy in self._tenancies.values():
                tenancy.store.reset()
            self.reset_call_counts()
            if self.outputs is not None:
                self.outputs.clear()
            return
        tenancy = self.tenancy(account, region)
        tenancy.store.reset()
        self.reset_call_counts(account=account, region=region)

    def _tick_all(self) -> None:
        for tenancy in self._tenancies.values():
            with tenancy.store.lock:
                tenancy.store.tick()

    # --- S3 outputs of completed evaluation jobs ------------------------------------------

    def _queue_outputs(self, job: EvaluationJob) -> None:
        # Under the store's lock: hand over a snapshot, generate and write elsewhere.
        assert self.outputs is not None
        self.outputs.submit({**job.request, "jobArn": job.arn, "jobName": job.name})

    def outputs_status(self) -> dict[str, Any]:
        self._tick_all()  # completions that are due queue their outputs first
        if self.outputs is None:
            return {"enabled": False, "pending": 0}
        return self.outputs.status()

    def flush_outputs(self, timeout: float | None = 30) -> bool:
        """Wait until every completed job's outputs are written (or failed and logged);
        False if some are still pending after ``timeout`` seconds."""
        self._tick_all()
        return True if self.outputs is None else self.outputs.flush(timeout)

    def call_counts(
        self, *, account: str | None = None, region: str | None = None
    ) -> dict[str, int]:
        tenancy = self.tenancy(account, region)
        with self._calls_lock:
            return dict(tenancy.calls)

    def reset_call_counts(self, *, account: str | None = None, region: str | None = None) -> None:
        """Zero the call counts of the account × region named, or every count and the send
        log without a selector."""
        if account is None and region is None:
            with self._calls_lock:
                for tenancy in self._tenancies.values():
                    tenancy.calls.clear()
                self._sends.clear()
            return
        tenancy = self.tenancy(account, region)
        with self._calls_lock:
            tenancy.calls.clear()

    def sends(self) -> dict[str, list[float]]:
        """{identifier: [Unix time of each call that carried it]} for the operations in
        SEND_LOGGED, whether or not a fault answered the call."""
        with self._calls_lock:
            return {ident: list(times) for ident, times in self._sends.items()}

    def _log_sends(self, operation: str, body: bytes) -> None:
        member = SEND_LOGGED.get(operation)
        if member is None:
            return
        try:
            identifiers = json.loads(body or b"{}").get(member) or []
        except (ValueError, AttributeError):
            return  # the validator answers a malformed body
        now = time.time()
        with self._calls_lock:
            for ident in identifiers:
                if isinstance(ident, str):
                    self._sends.setdefault(ident, []).append(now)

    # --- request handling ------------------------------------------------------------------

    def dispatch(
        self, method: str, target: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(target)
        path = split.path
        query = protocol.parse_query(split.query)
        if path.startswith(CONTROL_PREFIX):
            if self.control:
                return self._control(method, path, query, body)
            raise ServiceError("UnknownOperationException", f"No operation at {method} {path}.")
        matched = self.router.match(method, path, query)
        if matched is None:
            raise ServiceError("UnknownOperationException", f"No operation at {method} {path}.")
        op, labels = matched
        tenancy = self.route(headers.get("Authorization"))
        with self._calls_lock:
            tenancy.calls[op.name] += 1
        self._log_sends(op.name, body)
        self.faults.admit(op.name)
        tenancy.errors.admit(op.name)
        params = protocol.parse_request(op, labels, query, dict(headers.items()), body)
        violations = validate(op.name, params)
        if violations:
            raise ServiceError("ValidationException", aws_validation_message(violations, params))
        result = tenancy.store.handle(op.name, params)
        return protocol.serialize_response(op, result)

    @staticmethod
    def _selector(query: dict[str, list[str]]) -> dict[str, str | None]:
        """``?account=...&region=...`` of a control request: the account × region it acts on
        (each absent one: the default)."""
        where: dict[str, str | None] = {}
        for name, pattern, what in (
            ("account", _ACCOUNT, "an account id (12 digits)"),
            ("region", _REGION, "a region name"),
        ):
            values = query.get(name)
            if not values:
                where[name] = None
                continue
            if len(values) > 1 or not pattern.fullmatch(values[0]):
                raise ServiceError("ValidationException", f"{name} must be one value: {what}")
            where[name] = values[0]
        return where

    def _control(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """The /_local/ API: JSON in, JSON out, errors in the AWS format."""
        where = self._selector(query)
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError as exc:
            raise ServiceError("SerializationException", f"Malformed JSON body: {exc}") from exc
        if not isinstance(data, dict):
            raise ServiceError("SerializationException", "The request body must be a JSON object.")
        route = (method.upper(), path.rstrip("/"))
        try:
            if route == ("GET", "/_local/faults"):
                result: Any = self.get_faults()
            elif route == ("POST", "/_local/faults"):
                known = {"throttle_rps", "throttle_rate", "error_rate", "latency_ms", "time_scale"}
                unknown = set(data) - known
                if unknown:
                    raise ServiceError(
                        "ValidationException", f"unknown fault(s): {sorted(unknown)}"
                    )
                result = self.set_faults(**data)
            elif route == ("POST", "/_local/reset"):
                self.reset(**where)
                result = {}
            elif route == ("POST", "/_local/seed"):
                result = self.seed(
                    count=int(data.get("count", 100)),
                    random_seed=data.get("random_seed"),
                    **where,
                )
            elif route == ("POST", "/_local/jobs/status"):
                if not isinstance(data.get("arn"), str) or not isinstance(data.get("status"), str):
                    raise ServiceError("ValidationException", "arn and status are required strings")
                result = self.force_status(data["arn"], data["status"], **where)
            elif route == ("GET", "/_local/calls"):
                result = self.call_counts(**where)
            elif route == ("GET", "/_local/stores"):
                result = self.stores_summary()
            elif route == ("GET", "/_local/sends"):
                result = self.sends()
            elif route == ("GET", "/_local/outputs"):
                result = self.outputs_status()
            elif route == ("POST", "/_local/outputs/flush"):
                timeout = float(data.get("timeout", 30))
                if not 0 <= timeout <= 120:
                    raise ServiceError("ValidationException", "timeout must be within 0..120")
                flushed = self.flush_outputs(timeout)
                result = {**self.outputs_status(), "flushed": flushed}
            elif route == ("GET", "/_local/quotas"):
                result = self.get_quotas(**where)
            elif route == ("POST", "/_local/quotas"):
                if {"account", "region"} & set(data):
                    raise ValueError("account and region are query parameters, not quotas")
                self.set_quotas(**where, **data)
                result = self.get_quotas(**where)
            elif route == ("GET", "/_local/errors"):
                result = self.tenancy(**where).errors.as_list()
            elif route == ("POST", "/_local/errors"):
                known = {"operation", "code", "count", "rate", "message"}
                unknown = set(data) - known
                if unknown:
                    raise ServiceError("ValidationException", f"unknown key(s): {sorted(unknown)}")
                result = self.inject_error(
                    str(data.get("operation")),
                    str(data.get("code")),
                    count=data.get("count"),
                    rate=data.get("rate"),
                    message=data.get("message"),
                    **where,
                )
            elif route == ("POST", "/_local/errors/reset"):
                self.clear_errors(**where)
                result = {}
            elif route == ("POST", "/_local/calls/reset"):
                self.reset_call_counts(**where)
                result = {}
            else:
                raise ServiceError("UnknownOperationException", f"No control operation at {path}.")
        except (TypeError, ValueError) as exc:
            raise ServiceError("ValidationException", str(exc)) from exc
        return 200, {"Content-Type": "application/json"}, json.dumps(result).encode()
