"""The local Bedrock's state: evaluation jobs, model import jobs, imported models and tags.

Everything lives in memory behind one lock.  Status changes are clock-driven and evaluated
lazily: a transition is a scheduled event on a heap, applied by the first request that comes
after it is due, and stamped with the (real) time it was due, so lastModifiedTime reads as if
a worker had made the change on time.  Durations are nominal seconds on a virtual clock that
runs ``1 / time_scale`` times as fast as the wall clock; changing time_scale at run time
speeds up or slows down work already under way.

Handlers take the params dict of a request that already passed the contract and return the
output as a dict keyed by member names; protocol.py turns that into the wire format.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime as dt
import hashlib
import heapq
import hmac
import json
import math
import os
import random
import string
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jobs.bedrock import rules
from jobs.bedrock.contract import aws_validation_message
from jobs.bedrock.local.protocol import CachedStructure, ServiceError

UTC = dt.UTC

# Nominal durations in seconds, multiplied by time_scale.  Long enough that a person watching
# the dashboard at time_scale=1 sees jobs move; at time_scale=0.001 all are under 0.3 s.
NOMINAL_SECONDS = {
    "automated": 90.0,
    "human": 240.0,
    "rag": 120.0,
    "stop": 15.0,
    "delete": 10.0,
    "import": 60.0,
}

# The API reference gives maxResults a range (1-1000) but no default; this is ours.
# https://docs.aws.amazon.com/bedrock/latest/APIReference/API_ListEvaluationJobs.html
DEFAULT_MAX_RESULTS = 100

EVALUATION_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting")
IMPORT_STATUSES = ("InProgress", "Completed", "Failed")
# Only these may be deleted.
# https://docs.aws.amazon.com/bedrock/latest/APIReference/API_BatchDeleteEvaluationJob.html
DELETABLE = frozenset({"Completed", "Failed", "Stopped"})

# A job whose name contains this word ends Failed, so tests and demos can ask for a failure.
FAIL_MARKER = "fail"

_ID_ALPHABET = string.ascii_lowercase + string.digits

# Service quotas, AWS's defaults and names, from the one table in jobs.bedrock.rules. Here
# every quota can be set (flags of `manage.py bedrock_local`, POST /_local/quotas,
# LocalBedrock.set_quotas) so tests and demos can model an account that asked for more.
QUOTA_DEFAULTS: dict[str, int] = dict(rules.QUOTAS)
QUOTA_NAMES: dict[str, str] = dict(rules.QUOTA_NAMES)
# Evaluation jobs that occupy a concurrency slot: running, or winding down after a stop.
RUNNING_EVALUATION_STATUSES = frozenset({"InProgress", "Stopping"})


def _not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_MS = dt.timedelta(milliseconds=1)
_US = dt.timedelta(microseconds=1)


def to_datetime(epoch: float) -> dt.datetime:
    """Epoch seconds as an aware UTC datetime at millisecond precision: the wire carries
    milliseconds, so a value read back through boto3 compares equal to the stored one."""
    return _EPOCH + math.floor(epoch * 1000) * _MS


def _ms(value: dt.datetime) -> int:
    """Whole milliseconds since the epoch (exact: no float rounding)."""
    return (value - _EPOCH) // _MS


def _us(value: dt.datetime) -> int:
    return (value - _EPOCH) // _US


class Clock:
    """Wall-clock time plus a virtual time that runs 1/time_scale as fast.

    Kept as segments so a virtual instant can be mapped back to the wall-clock instant it was
    reached, even across time_scale changes.
    """

    def __init__(self, time_scale: float, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self._segments: list[tuple[float, float, float]] = []  # (virtual, real, scale)
        self.set_scale(time_scale)

    @property
    def scale(self) -> float:
        return self._segments[-1][2]

    def real(self) -> float:
        return self._now()

    def virtual(self, real: float | None = None) -> float:
        real = self._now() if real is None else real
        v0, r0, scale = self._segments[-1]
        return v0 + (real - r0) / scale

    def real_at(self, virtual: float) -> float:
        index = bisect.bisect_right([s[0] for s in self._segments], virtual) - 1
        v0, r0, scale = self._segments[max(index, 0)]
        return r0 + (virtual - v0) * scale

    def set_scale(self, scale: float) -> None:
        if not scale > 0:
            raise ValueError("time_scale must be positive")
        real = self._now()
        virtual = self.virtual(real) if self._segments else real
        self._segments.append((virtual, real, float(scale)))


class SortedIndex:
    """Keys (creation time in ms, ARN) in ascending order: list pages are slices of it, so a
    list costs the page, not a sort of every job."""

    def __init__(self) -> None:
        self.keys: list[tuple[int, str]] = []

    def add(self, key: tuple[int, str]) -> None:
        bisect.insort(self.keys, key)

    def remove(self, key: tuple[int, str]) -> None:
        i = bisect.bisect_left(self.keys, key)
        if i < len(self.keys) and self.keys[i] == key:
            del self.keys[i]

    def walk(
        self,
        *,
        descending: bool,
        after_ms: int | None,
        before_ms: int | None,
        resume: tuple[int, str] | None,
    ) -> Iterator[tuple[int, str]]:
        """Keys with after_ms < time < before_ms, in order, strictly past ``resume``."""
        keys = self.keys
        lo = 0 if after_ms is None else bisect.bisect_left(keys, (after_ms + 1, ""))
        hi = len(keys) if before_ms is None else bisect.bisect_left(keys, (before_ms, ""))
        if resume is not None:
            if descending:
                hi = min(hi, bisect.bisect_left(keys, resume))
            else:
                lo = max(lo, bisect.bisect_right(keys, resume))
        indices = range(hi - 1, lo - 1, -1) if descending else range(lo, hi)
        for i in indices:
            yield keys[i]


@dataclass(slots=True)
class EvaluationJob:
    arn: str
    name: str
    request: dict[str, Any]  # the Create request, less clientRequestToken and jobTags
    status: str
    created: dt.datetime
    modified: dt.datetime
    outcome: str = "Completed"  # what InProgress ends as
    failure_messages: list[str] | None = None
    tags: list[dict[str, str]] = field(default_factory=list)
    gen: int = 0  # bumped on each status change; stale scheduled events carry an old one
    summary: dict[str, Any] | None = None

    @property
    def key(self) -> tuple[int, str]:
        return (_ms(self.created), self.arn)


@dataclass(slots=True)
class ImportJob:
    arn: str
    name: str
    request: dict[str, Any]
    status: str
    created: dt.datetime
    modified: dt.datetime
    end: dt.datetime | None = None
    outcome: str = "Completed"
    failure_message: str | None = None
    model_arn: str | None = None
    tags: list[dict[str, str]] = field(default_factory=list)
    gen: int = 0
    summary: dict[str, Any] | None = None

    @property
    def key(self) -> tuple[int, str]:
        return (_ms(self.created), self.arn)


@dataclass(slots=True)
class ImportedModel:
    arn: str
    name: str
    job_arn: str
    job_name: str
    data_source: dict[str, Any]
    created: dt.datetime
    architecture: str
    kms_key_arn: str | None = None
    instruct_supported: bool = True
    custom_model_units: dict[str, Any] | None = None
    tags: list[dict[str, str]] = field(default_factory=list)
    gen: int = 0
    summary: dict[str, Any] | None = None

    @property
    def key(self) -> tuple[int, str]:
        return (_ms(self.created), self.arn)


_ARCHITECTURES = ("llama3", "llama2", "mistral", "mixtral", "flan", "qwen2")


class Store:
    """All state and every operation's semantics.  Thread-safe: one re-entrant lock."""

    # Called (under the lock: keep it cheap) each time an evaluation job becomes Completed, by
    # its timer, force_status or a seed; the server sets it to queue the job's S3 outputs.
    on_evaluation_completed: Callable[[EvaluationJob], None] | None = None

    def __init__(self, *, region: str, account_id: str, clock: Clock, random_seed: int) -> None:
        self.region = region
        self.account_id = account_id
        self.clock = clock
        self.lock = threading.RLock()
        # Not re-seeded by reset(): ids after a reset never repeat ids handed out before it,
        # which a client's own records (the dashboard's mirror) may still hold.
        self._rng = random.Random(random_seed)  # noqa: S311 - ids of fakes, not secrets
        # Settings, like the faults: reset() keeps them.
        self.quotas: dict[str, int] = dict(QUOTA_DEFAULTS)
        self._clear()

    # --- bookkeeping -----------------------------------------------------------------------

    def _clear(self) -> None:
        # Tokens are signed with a per-instance key: a token from before a reset or restart,
        # or an edited one, is refused like an expired token.
        self._token_key = os.urandom(32)
        self.evaluation_jobs: dict[str, EvaluationJob] = {}
        self._evaluation_names: dict[str, str] = {}
        self._evaluation_index = SortedIndex()
        self.import_jobs: dict[str, ImportJob] = {}
        self._import_names: dict[str, str] = {}
        self._import_index = SortedIndex()
        self.models: dict[str, ImportedModel] = {}
        self._model_names: dict[str, str] = {}
        self._model_index = SortedIndex()
        self._idempotency: dict[tuple[str, str], tuple[str, str]] = {}  # -> (arn, body)
        self._events: list[tuple[float, int, str, int, str]] = []
        # ARNs occupying each concurrency slot ("automatic", "human", "import"), kept up to
        # date on every status change, so a quota check does not scan every job.
        self._running: dict[str, set[str]] = {"automatic": set(), "human": set(), "import": set()}
        self._seq = 0

    def reset(self) -> None:
        with self.lock:
            self._clear()

    # --- quotas ----------------------------------------------------------------------------

    def set_quotas(self, **values: Any) -> dict[str, int]:
        """Change the quotas named (see QUOTA_DEFAULTS), leave the others; returns them all."""
        unknown = set(values) - set(QUOTA_DEFAULTS)
        if unknown:
            raise ValueError(f"unknown quota(s): {sorted(unknown)}; known: {list(QUOTA_DEFAULTS)}")
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"quota {name} must be a whole number >= 0")
        with self.lock:
            self.quotas.update(values)
            return dict(self.quotas)

    def usage(self) -> dict[str, int]:
        """What counts against each quota now."""
        with self.lock:
            self.tick()
            automatic, human = len(self._running["automatic"]), len(self._running["human"])
            importing = len(self._running["import"])
            return {
                "concurrent_automatic_evaluation_jobs": automatic,
                "concurrent_human_evaluation_jobs": human,
                "evaluation_jobs": len(self.evaluation_jobs),
                "concurrent_model_import_jobs": importing,
                # An import under way will add a model when it completes.
                "imported_models": len(self.models) + importing,
            }

    def _check_quota(self, name: str, used: int) -> None:
        limit = self.quotas[name]
        if used >= limit:
            raise ServiceError(
                "ServiceQuotaExceededException",
                f"You have reached the service quota '{QUOTA_NAMES[name]}' ({limit} in "
                f"{self.region} for account {self.account_id}; {used} in use).",
            )

    def _now(self) -> dt.datetime:
        return to_datetime(self.clock.real())

    def _arn(self, kind: str) -> str:
        taken = (self.evaluation_jobs, self.import_jobs, self.models)
        while True:
            ident = "".join(self._rng.choices(_ID_ALPHABET, k=12))
            arn = f"arn:aws:bedrock:{self.region}:{self.account_id}:{kind}/{ident}"
            if not any(arn in t for t in taken):
                return arn

    def _schedule(self, record: Any, nominal_seconds: float, action: str) -> None:
        self._seq += 1
        due = self.clock.virtual() + nominal_seconds
        heapq.heappush(self._events, (due, self._seq, record.arn, record.gen, action))

    def tick(self) -> None:
        """Apply every transition that is due (called under the lock by each operation)."""
        now = self.clock.virtual()
        while self._events and self._events[0][0] <= now:
            due, _, arn, gen, action = heapq.heappop(self._events)
            record = self._record(arn)
            if record is None or record.gen != gen:
                continue  # cancelled by a later change
            getattr(self, action)(record, to_datetime(self.clock.real_at(due)))

    def _record(self, arn: str) -> Any:
        return self.evaluation_jobs.get(arn) or self.import_jobs.get(arn) or self.models.get(arn)

    def _set_status(self, record: Any, status: str, when: dt.datetime) -> None:
        record.status = status
        record.modified = max(when, record.created)
        record.gen += 1
        record.summary = None
        self._track(record)
        self._completed(record)

    def _completed(self, record: Any) -> None:
        if (
            self.on_evaluation_completed is not None
            and record.status == "Completed"
            and isinstance(record, EvaluationJob)
        ):
            self.on_evaluation_completed(record)

    def _track(self, record: Any, *, gone: bool = False) -> None:
        """Keep `record` in (or out of) the concurrency slot it occupies while running."""
        if isinstance(record, EvaluationJob):
            slot = "human" if "human" in record.request["evaluationConfig"] else "automatic"
            running = record.status in RUNNING_EVALUATION_STATUSES
        elif isinstance(record, ImportJob):
            slot, running = "import", record.status == "InProgress"
        else:
            return
        if running and not gone:
            self._running[slot].add(record.arn)
        else:
            self._running[slot].discard(record.arn)

    # --- dispatch --------------------------------------------------------------------------

    def handle(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, f"op_{operation}", None)
        if handler is None:
            raise ServiceError("UnknownOperationException", f"{operation} is not served here.")
        with self.lock:
            self.tick()
            return handler(params)

    # --- idempotency -----------------------------------------------------------------------

    def _idempotent(self, operation: str, params: dict[str, Any]) -> str | None:
        """The ARN an earlier request with this clientRequestToken created, if that request
        had the same body and its job still exists. Bedrock "ignores the request, but does not
        return an error" on a repeated token.
        https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateEvaluationJob.html

        A token is a promise that the request is the same one, so:
        - the same token with another body is refused with ConflictException: the request
          conflicts with the earlier one under that token (it is well-formed, so not a
          ValidationException; AWS's Smithy guidance calls this an idempotency conflict);
        - the same token after its job was deleted is refused with ConflictException too:
          handing back the deleted job's ARN (which answers 404) would mislead, and creating
          a second job under one token would break "at most one job per token"."""
        token = params.get("clientRequestToken")
        if token is None:
            return None
        remembered = self._idempotency.get((operation, token))
        if remembered is None:
            return None
        arn, digest = remembered
        if digest != self._body_digest(params):
            raise ServiceError(
                "ConflictException",
                f"The clientRequestToken {token} was already used with a different request; "
                "use a new token for a new request.",
            )
        if self._record(arn) is None or getattr(self._record(arn), "status", "") == "Deleting":
            raise ServiceError(
                "ConflictException",
                f"The clientRequestToken {token} belongs to a job that was deleted ({arn}); "
                "use a new token to create a new job.",
            )
        return arn

    def _remember_token(self, operation: str, params: dict[str, Any], arn: str) -> None:
        token = params.get("clientRequestToken")
        if token is not None:
            self._idempotency[(operation, token)] = (arn, self._body_digest(params))

    @staticmethod
    def _body_digest(params: dict[str, Any]) -> str:
        body = {k: v for k, v in params.items() if k != "clientRequestToken"}
        raw = json.dumps(body, sort_keys=True, default=str).encode()
        return hashlib.sha256(raw).hexdigest()

    # --- pagination ------------------------------------------------------------------------

    @staticmethod
    def _fingerprint(operation: str, params: dict[str, Any]) -> str:
        filters = {
            k: (v.isoformat() if isinstance(v, dt.datetime) else v)
            for k, v in params.items()
            if k not in ("maxResults", "nextToken")
        }
        filters.setdefault("sortBy", "CreationTime")
        filters.setdefault("sortOrder", "Descending")
        raw = json.dumps([operation, filters], sort_keys=True).encode()
        return hashlib.sha256(raw).hexdigest()[:16]

    def _make_token(self, fingerprint: str, key: tuple[int, str]) -> str:
        payload = json.dumps([fingerprint, key[0], key[1]], separators=(",", ":")).encode()
        sig = hmac.new(self._token_key, payload, hashlib.sha256).digest()[:16]
        enc = base64.urlsafe_b64encode
        return f"{enc(payload).decode().rstrip('=')}.{enc(sig).decode().rstrip('=')}"

    def _read_token(self, token: str, fingerprint: str) -> tuple[int, str]:
        invalid = ServiceError("ValidationException", "nextToken: the pagination token is invalid")
        try:
            body, sig = token.split(".")
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            got = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
        except (ValueError, binascii.Error):
            raise invalid from None
        want = hmac.new(self._token_key, payload, hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(got, want):
            raise invalid
        token_fp, ms, arn = json.loads(payload)  # signed by us, so well-formed
        if token_fp != fingerprint:
            raise ServiceError(
                "ValidationException",
                "nextToken: the pagination token belongs to a request with other filters",
            )
        return (ms, arn)

    def _list(
        self,
        operation: str,
        params: dict[str, Any],
        index: SortedIndex,
        records: dict[str, Any],
        matches: Callable[[Any], bool],
        summary: Callable[[Any], dict[str, Any]],
        items_key: str,
    ) -> dict[str, Any]:
        fingerprint = self._fingerprint(operation, params)
        resume = None
        if "nextToken" in params:
            resume = self._read_token(params["nextToken"], fingerprint)
        after, before = params.get("creationTimeAfter"), params.get("creationTimeBefore")
        limit = params.get("maxResults", DEFAULT_MAX_RESULTS)
        items: list[dict[str, Any]] = []
        last = None
        more = False
        for key in index.walk(
            descending=params.get("sortOrder", "Descending") == "Descending",
            # Both bounds are strict: created > after and created < before, exactly.
            after_ms=None if after is None else _us(after) // 1000,
            before_ms=None if before is None else -(-_us(before) // 1000),
            resume=resume,
        ):
            record = records[key[1]]
            if not matches(record):
                continue
            if len(items) == limit:
                more = True
                break
            items.append(summary(record))
            last = key
        out: dict[str, Any] = {items_key: items}
        if more and last is not None:
            out["nextToken"] = self._make_token(fingerprint, last)
        return out

    # --- evaluation jobs -------------------------------------------------------------------

    def _evaluation_job(self, identifier: str) -> EvaluationJob:
        job = self.evaluation_jobs.get(identifier)
        if job is None:
            arn = self._evaluation_names.get(identifier)
            job = self.evaluation_jobs.get(arn) if arn else None
        if job is None:
            raise _not_found(f"Evaluation job {identifier} not found.")
        return job

    @staticmethod
    def _evaluation_nominal(request: dict[str, Any]) -> float:
        if "human" in request["evaluationConfig"]:
            return NOMINAL_SECONDS["human"]
        if rules.effective_application_type(request) == "RagEvaluation":
            return NOMINAL_SECONDS["rag"]
        return NOMINAL_SECONDS["automated"]

    def op_CreateEvaluationJob(self, params: dict[str, Any]) -> dict[str, Any]:
        existing = self._idempotent("CreateEvaluationJob", params)
        if existing is not None:
            return {"jobArn": existing}
        violations = rules.evaluation_job_rules(params)
        if violations:
            raise ServiceError("ValidationException", aws_validation_message(violations, params))
        name = params["jobName"]
        if name in self._evaluation_names:
            # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateEvaluationJob.html
            # "Names must unique with your AWS account, and your account's AWS region."
            raise ServiceError(
                "ConflictException", f"An evaluation job named {name} already exists."
            )
        usage = self.usage()
        self._check_quota("evaluation_jobs", usage["evaluation_jobs"])
        if "human" in params["evaluationConfig"]:
            self._check_quota(
                "concurrent_human_evaluation_jobs", usage["concurrent_human_evaluation_jobs"]
            )
        else:
            self._check_quota(
                "concurrent_automatic_evaluation_jobs",
                usage["concurrent_automatic_evaluation_jobs"],
            )
        now = self._now()
        request = {k: v for k, v in params.items() if k not in ("clientRequestToken", "jobTags")}
        failed = FAIL_MARKER in name
        job = EvaluationJob(
            arn=self._arn("evaluation-job"),
            name=name,
            request=request,
            status="InProgress",
            created=now,
            modified=now,
            outcome="Failed" if failed else "Completed",
            failure_messages=evaluation_failure(request, 0) if failed else None,
            tags=list(params.get("jobTags", [])),
        )
        self._add_evaluation_job(job)
        self._schedule(job, self._evaluation_nominal(request), "_evaluation_finish")
        self._remember_token("CreateEvaluationJob", params, job.arn)
        return {"jobArn": job.arn}

    def _add_evaluation_job(self, job: EvaluationJob) -> None:
        self._track(job)
        self.evaluation_jobs[job.arn] = job
        self._evaluation_names[job.name] = job.arn
        self._evaluation_index.add(job.key)

    def _evaluation_finish(self, job: EvaluationJob, when: dt.datetime) -> None:
        if job.status != "InProgress":
            return
        self._set_status(job, job.outcome, when)
        if job.outcome != "Failed":
            job.failure_messages = None

    def _evaluation_stopped(self, job: EvaluationJob, when: dt.datetime) -> None:
        if job.status == "Stopping":
            self._set_status(job, "Stopped", when)

    def _evaluation_purge(self, job: EvaluationJob, when: dt.datetime) -> None:
        if job.status != "Deleting":
            return
        del self.evaluation_jobs[job.arn]
        self._track(job, gone=True)
        if self._evaluation_names.get(job.name) == job.arn:
            del self._evaluation_names[job.name]
        self._evaluation_index.remove(job.key)

    def _evaluation_description(self, job: EvaluationJob) -> dict[str, Any]:
        config = job.request["evaluationConfig"]
        out = dict(job.request)
        out.update(
            jobArn=job.arn,
            status=job.status,
            jobType="Human" if "human" in config else "Automated",
            applicationType=rules.effective_application_type(job.request),
            creationTime=job.created,
            lastModifiedTime=job.modified,
        )
        if job.status == "Failed" and job.failure_messages:
            out["failureMessages"] = list(job.failure_messages)
        return out

    @staticmethod
    def _evaluation_summary(job: EvaluationJob) -> dict[str, Any]:
        if job.summary is not None:
            return job.summary
        request = job.request
        config = request["evaluationConfig"]
        inner = config.get("automated") or config.get("human") or {}
        inference = request["inferenceConfig"]
        models = inference.get("models", [])
        bedrock_models = [
            m["bedrockModel"]["modelIdentifier"] for m in models if "bedrockModel" in m
        ]
        precomputed = [
            m["precomputedInferenceSource"]["inferenceSourceIdentifier"]
            for m in models
            if "precomputedInferenceSource" in m
        ]
        kb_ids, rag_sources = [], []
        for rag in inference.get("ragConfigs", []):
            kb = rag.get("knowledgeBaseConfig", {})
            kb_id = kb.get("retrieveConfig", {}).get("knowledgeBaseId") or kb.get(
                "retrieveAndGenerateConfig", {}
            ).get("knowledgeBaseConfiguration", {}).get("knowledgeBaseId")
            if kb_id:
                kb_ids.append(kb_id)
            for source in rag.get("precomputedRagSourceConfig", {}).values():
                rag_sources.append(source["ragSourceIdentifier"])
        evaluators = [
            m["modelIdentifier"]
            for m in inner.get("evaluatorModelConfig", {}).get("bedrockEvaluatorModels", [])
        ]
        custom_evaluators = [
            m["modelIdentifier"]
            for m in inner.get("customMetricConfig", {})
            .get("evaluatorModelConfig", {})
            .get("bedrockEvaluatorModels", [])
        ]
        summary = CachedStructure(
            {
                "jobArn": job.arn,
                "jobName": job.name,
                "status": job.status,
                "creationTime": job.created,
                "jobType": "Human" if "human" in config else "Automated",
                "evaluationTaskTypes": [
                    c["taskType"] for c in inner.get("datasetMetricConfigs", [])
                ],
                "modelIdentifiers": bedrock_models,
                "applicationType": rules.effective_application_type(request),
                "inferenceConfigSummary": {},
            }
        )
        if kb_ids:
            summary["ragIdentifiers"] = kb_ids
        if evaluators:
            summary["evaluatorModelIdentifiers"] = evaluators
        if custom_evaluators:
            summary["customMetricsEvaluatorModelIdentifiers"] = custom_evaluators
        if models:
            summary["inferenceConfigSummary"]["modelConfigSummary"] = {
                "bedrockModelIdentifiers": bedrock_models,
                "precomputedInferenceSourceIdentifiers": precomputed,
            }
        if "ragConfigs" in inference:
            summary["inferenceConfigSummary"]["ragConfigSummary"] = {
                "bedrockKnowledgeBaseIdentifiers": kb_ids,
                "precomputedRagSourceIdentifiers": rag_sources,
            }
        job.summary = summary
        return summary

    def op_GetEvaluationJob(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._evaluation_description(self._evaluation_job(params["jobIdentifier"]))

    def op_ListEvaluationJobs(self, params: dict[str, Any]) -> dict[str, Any]:
        status = params.get("statusEquals")
        app = params.get("applicationTypeEquals")
        name = params.get("nameContains")

        def matches(job: EvaluationJob) -> bool:
            return (
                (status is None or job.status == status)
                and (name is None or name in job.name)
                and (app is None or rules.effective_application_type(job.request) == app)
            )

        return self._list(
            "ListEvaluationJobs",
            params,
            self._evaluation_index,
            self.evaluation_jobs,
            matches,
            self._evaluation_summary,
            "jobSummaries",
        )

    def op_StopEvaluationJob(self, params: dict[str, Any]) -> dict[str, Any]:
        job = self._evaluation_job(params["jobIdentifier"])
        if job.status != "InProgress":
            # The API lists ConflictException for Stop: the request conflicts with the job's
            # state.  https://docs.aws.amazon.com/bedrock/latest/APIReference/API_StopEvaluationJob.html
            raise ServiceError(
                "ConflictException",
                f"Evaluation job {job.arn} is {job.status}; only an InProgress job can be stopped.",
            )
        self._set_status(job, "Stopping", self._now())
        self._schedule(job, NOMINAL_SECONDS["stop"], "_evaluation_stopped")
        return {}

    def op_BatchDeleteEvaluationJob(self, params: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_BatchDeleteEvaluationJob.html
        deleted: list[dict[str, str]] = []
        errors: list[dict[str, str]] = []
        now = self._now()
        for identifier in params["jobIdentifiers"]:
            job = self.evaluation_jobs.get(identifier)
            if job is None:
                errors.append(
                    {
                        "jobIdentifier": identifier,
                        "code": "404",
                        "message": "Unable to locate this job to delete.",
                    }
                )
            elif job.status not in DELETABLE:
                errors.append(
                    {
                        "jobIdentifier": identifier,
                        "code": "400",
                        "message": f"Unable to delete this job: it is {job.status}; only "
                        "Completed, Failed or Stopped jobs can be deleted.",
                    }
                )
            else:
                self._set_status(job, "Deleting", now)
                self._schedule(job, NOMINAL_SECONDS["delete"], "_evaluation_purge")
                deleted.append({"jobIdentifier": identifier, "jobStatus": "Deleting"})
        return {"evaluationJobs": deleted, "errors": errors}

    # --- model import jobs and imported models ---------------------------------------------

    def _import_job(self, identifier: str) -> ImportJob:
        job = self.import_jobs.get(identifier)
        if job is None:
            arn = self._import_names.get(identifier)
            job = self.import_jobs.get(arn) if arn else None
        if job is None:
            raise _not_found(f"Model import job {identifier} not found.")
        return job

    def _model(self, identifier: str) -> ImportedModel:
        model = self.models.get(identifier)
        if model is None:
            arn = self._model_names.get(identifier)
            model = self.models.get(arn) if arn else None
        if model is None:
            raise _not_found(f"Imported model {identifier} not found.")
        return model

    def _kms_arn(self, key_id: str | None) -> str | None:
        """A KMS key id, alias or ARN as the key ARN Bedrock reports (aliases have none here)."""
        if not key_id or key_id.startswith("alias/") or ":alias/" in key_id:
            return None
        if key_id.startswith("arn:"):
            return key_id
        return f"arn:aws:kms:{self.region}:{self.account_id}:key/{key_id}"

    def op_CreateModelImportJob(self, params: dict[str, Any]) -> dict[str, Any]:
        existing = self._idempotent("CreateModelImportJob", params)
        if existing is not None:
            return {"jobArn": existing}
        violations = rules.model_import_job_rules(params)
        if violations:
            raise ServiceError("ValidationException", aws_validation_message(violations, params))
        name, model_name = params["jobName"], params["importedModelName"]
        # Import jobs cannot be deleted, so a job name is taken for good; a model name is
        # taken by a model or by an import job still creating it.
        if name in self._import_names:
            raise ServiceError(
                "ConflictException", f"A model import job named {name} already exists."
            )
        pending = any(
            j.status == "InProgress" and j.request["importedModelName"] == model_name
            for j in self.import_jobs.values()
        )
        if model_name in self._model_names or pending:
            raise ServiceError(
                "ConflictException", f"An imported model named {model_name} already exists."
            )
        # The imported-models quota is checked here, when the job is created, not when it
        # would complete: the job could only end Failed, and CreateModelImportJob models
        # ServiceQuotaExceededException for exactly this (an import job in progress counts as
        # the model it will create).
        # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateModelImportJob.html
        usage = self.usage()
        self._check_quota("concurrent_model_import_jobs", usage["concurrent_model_import_jobs"])
        self._check_quota("imported_models", usage["imported_models"])
        now = self._now()
        request = {
            k: v
            for k, v in params.items()
            if k not in ("clientRequestToken", "jobTags", "importedModelTags")
        }
        failed = FAIL_MARKER in name.lower() or FAIL_MARKER in model_name.lower()
        job = ImportJob(
            arn=self._arn("model-import-job"),
            name=name,
            request=request,
            status="InProgress",
            created=now,
            modified=now,
            outcome="Failed" if failed else "Completed",
            failure_message=import_failure(0) if failed else None,
            tags=list(params.get("jobTags", [])),
        )
        job.request["_modelTags"] = list(params.get("importedModelTags", []))
        self._add_import_job(job)
        self._schedule(job, NOMINAL_SECONDS["import"], "_import_finish")
        self._remember_token("CreateModelImportJob", params, job.arn)
        return {"jobArn": job.arn}

    def _add_import_job(self, job: ImportJob) -> None:
        self._track(job)
        self.import_jobs[job.arn] = job
        self._import_names[job.name] = job.arn
        self._import_index.add(job.key)

    def _add_model(self, model: ImportedModel) -> None:
        self.models[model.arn] = model
        self._model_names[model.name] = model.arn
        self._model_index.add(model.key)

    def _import_finish(self, job: ImportJob, when: dt.datetime) -> None:
        if job.status != "InProgress":
            return
        self._set_status(job, job.outcome, when)
        job.end = job.modified
        if job.outcome == "Completed":
            self._complete_import(job)

    def _complete_import(self, job: ImportJob) -> None:
        """Create the imported model a completed import job produced (once)."""
        job.failure_message = None
        if job.model_arn is not None or job.request["importedModelName"] in self._model_names:
            return
        uri = job.request["modelDataSource"].get("s3DataSource", {}).get("s3Uri", "").lower()
        architecture = next(
            (a for a in _ARCHITECTURES if a.rstrip("0123456789") in uri),
            self._rng.choice(_ARCHITECTURES),
        )
        model = ImportedModel(
            arn=self._arn("imported-model"),
            name=job.request["importedModelName"],
            job_arn=job.arn,
            job_name=job.name,
            data_source=job.request["modelDataSource"],
            created=job.end or job.modified,
            architecture=architecture,
            kms_key_arn=self._kms_arn(job.request.get("importedModelKmsKeyId")),
            instruct_supported=True,
            custom_model_units={
                "customModelUnitsPerModelCopy": 1 + self._rng.randrange(4),
                "customModelUnitsVersion": "v1.0",
            },
            tags=list(job.request.get("_modelTags", [])),
        )
        job.model_arn = model.arn
        self._add_model(model)

    def _import_description(self, job: ImportJob) -> dict[str, Any]:
        out = {k: v for k, v in job.request.items() if not k.startswith("_")}
        out.update(
            jobArn=job.arn,
            status=job.status,
            creationTime=job.created,
            lastModifiedTime=job.modified,
            endTime=job.end,
            importedModelArn=job.model_arn,
            importedModelKmsKeyArn=self._kms_arn(job.request.get("importedModelKmsKeyId")),
            failureMessage=job.failure_message if job.status == "Failed" else None,
        )
        return out

    @staticmethod
    def _import_summary(job: ImportJob) -> dict[str, Any]:
        if job.summary is None:
            job.summary = CachedStructure(
                {
                    "jobArn": job.arn,
                    "jobName": job.name,
                    "status": job.status,
                    "lastModifiedTime": job.modified,
                    "creationTime": job.created,
                    "endTime": job.end,
                    "importedModelArn": job.model_arn,
                    "importedModelName": job.request["importedModelName"],
                }
            )
        return job.summary

    def op_GetModelImportJob(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._import_description(self._import_job(params["jobIdentifier"]))

    def op_ListModelImportJobs(self, params: dict[str, Any]) -> dict[str, Any]:
        status, name = params.get("statusEquals"), params.get("nameContains")

        def matches(job: ImportJob) -> bool:
            return (status is None or job.status == status) and (name is None or name in job.name)

        return self._list(
            "ListModelImportJobs",
            params,
            self._import_index,
            self.import_jobs,
            matches,
            self._import_summary,
            "modelImportJobSummaries",
        )

    @staticmethod
    def _model_description(model: ImportedModel) -> dict[str, Any]:
        return {
            "modelArn": model.arn,
            "modelName": model.name,
            "jobName": model.job_name,
            "jobArn": model.job_arn,
            "modelDataSource": model.data_source,
            "creationTime": model.created,
            "modelArchitecture": model.architecture,
            "modelKmsKeyArn": model.kms_key_arn,
            "instructSupported": model.instruct_supported,
            "customModelUnits": model.custom_model_units,
        }

    @staticmethod
    def _model_summary(model: ImportedModel) -> dict[str, Any]:
        if model.summary is None:
            model.summary = CachedStructure(
                {
                    "modelArn": model.arn,
                    "modelName": model.name,
                    "creationTime": model.created,
                    "instructSupported": model.instruct_supported,
                    "modelArchitecture": model.architecture,
                }
            )
        return model.summary

    def op_GetImportedModel(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._model_description(self._model(params["modelIdentifier"]))

    def op_ListImportedModels(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("nameContains")
        return self._list(
            "ListImportedModels",
            params,
            self._model_index,
            self.models,
            lambda m: name is None or name in m.name,
            self._model_summary,
            "modelSummaries",
        )

    def op_DeleteImportedModel(self, params: dict[str, Any]) -> dict[str, Any]:
        model = self._model(params["modelIdentifier"])
        del self.models[model.arn]
        del self._model_names[model.name]
        self._model_index.remove(model.key)
        return {}

    def op_ListTagsForResource(self, params: dict[str, Any]) -> dict[str, Any]:
        record = self._record(params["resourceARN"])
        if record is None:
            raise _not_found(f"Resource {params['resourceARN']} not found.")
        return {"tags": list(record.tags)}

    # --- control ---------------------------------------------------------------------------

    def force_status(self, arn: str, status: str) -> dict[str, str]:
        """Set a job's status now and cancel its pending transitions (the status sticks until
        an API call changes it: stopping a forced InProgress job still works)."""
        with self.lock:
            self.tick()
            if arn in self.evaluation_jobs:
                job: Any = self.evaluation_jobs[arn]
                allowed = EVALUATION_STATUSES
            elif arn in self.import_jobs:
                job = self.import_jobs[arn]
                allowed = IMPORT_STATUSES
            elif arn in self.models:
                raise ServiceError("ValidationException", "status: imported models have no status")
            else:
                raise _not_found(f"No job with ARN {arn}.")
            if status not in allowed:
                raise ServiceError(
                    "ValidationException", f"status: must be one of {', '.join(allowed)}"
                )
            self._set_status(job, status, self._now())
            if isinstance(job, EvaluationJob):
                if status == "Failed" and not job.failure_messages:
                    job.failure_messages = evaluation_failure(job.request, 0)
            else:
                job.end = job.modified if status != "InProgress" else None
                if status == "Failed":
                    job.failure_message = job.failure_message or import_failure(0)
                elif status == "Completed":
                    self._complete_import(job)
            return {"arn": arn, "status": status}

    def load_seed(self, seeded: Any) -> dict[str, int]:
        """Insert generated records (see seed.py); records whose name is taken are skipped."""
        counts = {"evaluation_jobs": 0, "model_import_jobs": 0, "imported_models": 0}
        with self.lock:
            self.tick()
            for item in seeded.evaluation_jobs:
                if item.name in self._evaluation_names or item.arn in self.evaluation_jobs:
                    continue
                job = EvaluationJob(
                    arn=item.arn,
                    name=item.name,
                    request={k: v for k, v in item.request.items() if k != "jobTags"},
                    status=item.status,
                    created=item.created,
                    modified=item.modified,
                    outcome=item.outcome,
                    failure_messages=item.failure_messages,
                    tags=list(item.request.get("jobTags", [])),
                )
                self._add_evaluation_job(job)
                self._completed(job)
                counts["evaluation_jobs"] += 1
                if item.status == "InProgress":
                    self._schedule(job, item.remaining_seconds, "_evaluation_finish")
                elif item.status == "Stopping":
                    self._schedule(job, item.remaining_seconds, "_evaluation_stopped")
            for item in seeded.import_jobs:
                if item.name in self._import_names or item.arn in self.import_jobs:
                    continue
                request = {
                    k: v
                    for k, v in item.request.items()
                    if k not in ("jobTags", "importedModelTags")
                }
                request["_modelTags"] = list(item.request.get("importedModelTags", []))
                job = ImportJob(
                    arn=item.arn,
                    name=item.name,
                    request=request,
                    status=item.status,
                    created=item.created,
                    modified=item.modified,
                    end=item.end,
                    outcome=item.outcome,
                    failure_message=item.failure_message,
                    tags=list(item.request.get("jobTags", [])),
                )
                model = item.model
                if model is not None and model.name not in self._model_names:
                    model_record = ImportedModel(
                        arn=model.arn,
                        name=model.name,
                        job_arn=job.arn,
                        job_name=job.name,
                        data_source=item.request["modelDataSource"],
                        created=model.created,
                        architecture=model.architecture,
                        kms_key_arn=self._kms_arn(item.request.get("importedModelKmsKeyId")),
                        instruct_supported=model.instruct_supported,
                        custom_model_units=model.custom_model_units,
                        tags=list(item.request.get("importedModelTags", [])),
                    )
                    job.model_arn = model_record.arn
                    self._add_model(model_record)
                    counts["imported_models"] += 1
                self._add_import_job(job)
                counts["model_import_jobs"] += 1
                if item.status == "InProgress":
                    self._schedule(job, item.remaining_seconds, "_import_finish")
        return counts


_EVALUATION_FAILURES = (
    "Amazon Bedrock could not access the output location {output}. Check that the service "
    "role has s3:PutObject permission on it.",
    "The prompt dataset contains a record that is not valid JSON Lines (line 17).",
    "The model {model} is not available in this Region or your account does not have access.",
    "The evaluation job exceeded the service quota for concurrent evaluation jobs.",
    "Internal error while computing metrics. Try creating the job again.",
)

_IMPORT_FAILURES = (
    "The model files in the S3 location are not in a supported format (safetensors "
    "with a config.json are required).",
    "The model architecture is not supported for Custom Model Import.",
    "Amazon Bedrock could not read the S3 location: access denied for the service role.",
)


def evaluation_failure(request: dict[str, Any], pick: int) -> list[str]:
    """A realistic failureMessages list for a job (pick selects the message)."""
    models = request["inferenceConfig"].get("models", [])
    model = next(
        (m["bedrockModel"]["modelIdentifier"] for m in models if "bedrockModel" in m),
        "the model",
    )
    template = _EVALUATION_FAILURES[pick % len(_EVALUATION_FAILURES)]
    return [template.format(output=request["outputDataConfig"]["s3Uri"], model=model)]


def import_failure(pick: int) -> str:
    return _IMPORT_FAILURES[pick % len(_IMPORT_FAILURES)]
