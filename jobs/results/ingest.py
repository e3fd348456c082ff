"""Reading a completed evaluation job's S3 output into the mirror (EvaluationResultSet and its
ResultAggregate / ResultRecord / ResultScore rows), and asking a worker to do so.

Where: everything a job writes lies under `<outputDataConfig.s3Uri>/<jobName>/<jobId>/`
(jobId: the ARN's last segment), sometimes one level deeper (`<jobName>/<jobName>/<jobId>/`).
So we list `<s3Uri>/<jobName>/` at any depth and keep the keys ending in `_output.jsonl`
that have the job id as a path segment: the permission-check marker, custom_metrics/*.json and
the outputs of other jobs sharing the prefix (an earlier job of the same name) are skipped.
Dataset, model and RAG source come from the key path (`datasets/<name>/`, `models/<id>/`,
`inference_configs/<n>/`) and from the record, the record winning for model and kind.

How: each file is streamed line by line (s3_iter_lines) through parse.py; the aggregates
(small) build up in memory, the per-prompt records (up to RESULTS_MAX_RECORDS) are spooled to
a temporary file, never held all at once. Then ONE transaction replaces the job's previous
aggregates, records and scores and marks the set ready: pages see the old results or the new
ones, never a mix, and no transaction stays open while S3 is read. Meanwhile the set shows
`fetching` (its previous results, if any, intact and consistent).

Idempotent: the output files' (key, size, ETag) fingerprint of a ready set is compared first;
the same files change nothing (no write at all) unless `force`.

Errors: AccessDenied, NoSuchBucket, no output files, a job Bedrock no longer has whose output
location was never read: the set becomes `failed` with the code and a message saying where
("AccessDenied on s3://bucket/prefix/"); any results read before stay. Throttling, 5xx and
broken connections raise RetryableError for the task to retry (the set keeps its state), up
to RESULTS_MAX_ATTEMPTS attempts in all. A file listed but gone when read is counted in the
set's error_message, the rest are read. Results stay when the job later becomes a tombstone.

Call these outside any transaction (the per-job lease must be visible to other workers).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, reset_queries, transaction
from django.db.models import F, Q
from django.utils import timezone

from jobs import locks, sync
from jobs.bedrock.errors import BedrockError, NotFoundError, RetryableError
from jobs.bedrock.s3 import parse_s3_uri, s3_iter_lines, s3_list_objects
from jobs.models import (
    AuditEntry,
    EvaluationJob,
    EvaluationResultSet,
    ResultAggregate,
    ResultRecord,
    ResultScore,
)
from jobs.results import parse, track
from jobs.results.aggregate import Aggregator

logger = logging.getLogger(__name__)

OUTPUT_SUFFIX = "_output.jsonl"
# Records per INSERT batch (each holds a few KB of text; scores follow their records).
RECORD_CHUNK = 500
MAX_DATASET_CHARS = 255
State = EvaluationResultSet.State


class Unreadable(Exception):
    """The output cannot be read and trying again as is will not help: the set fails."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class OutputFile:
    key: str
    size: int
    etag: str
    dataset: str
    model_hint: str
    source_hint: str


@dataclass(frozen=True)
class Location:
    bucket: str
    # What is listed: <s3Uri key prefix>/<jobName>/ ...
    prefix: str
    job_id: str

    @property
    def listed_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def job_uri(self) -> str:
        """Where the documented layout puts the job's output."""
        return f"s3://{self.bucket}/{self.prefix}{self.job_id}/"


# --- where the output is ----------------------------------------------------------------------


def output_location(*, job: EvaluationJob) -> Location:
    """From the mirrored description (fetched now if the mirror has none yet)."""
    description = job.description
    if not description:
        try:
            job = sync.evaluation_job_describe(job=job)
        except NotFoundError as exc:
            raise Unreadable(
                "JobNotFound",
                "Bedrock no longer has this job and its output location was never read.",
            ) from exc
        description = job.description or {}
    uri = (description.get("outputDataConfig") or {}).get("s3Uri") or ""
    try:
        bucket, base = parse_s3_uri(uri)
    except ValueError as exc:
        raise Unreadable(
            "NoOutputLocation", f"The job names no S3 output location ({uri!r})."
        ) from exc
    base = base.rstrip("/")
    name = description.get("jobName") or job.name
    return Location(
        bucket=bucket, prefix=f"{base}/{name}/" if base else f"{name}/", job_id=job.resource_id
    )


def _path_hints(parts: list[str]) -> dict[str, str]:
    """Dataset, model and RAG source named by the directories between the job id and the file:
    models/<model id, may hold slashes>/taskTypes/<t>/datasets/<name>/,
    inference_configs/<n>/datasets/<name>/ or datasets/<name>/."""
    dataset = model = source = ""
    if "datasets" in parts:
        dataset = "/".join(parts[parts.index("datasets") + 1 :])
    elif parts:
        dataset = parts[-1]
    if "models" in parts:
        start = parts.index("models") + 1
        ends = [parts.index(m, start) for m in ("taskTypes", "datasets") if m in parts[start:]]
        model = "/".join(parts[start : min(ends) if ends else len(parts)])
    if "inference_configs" in parts:
        index = parts.index("inference_configs") + 1
        if index < len(parts):
            source = f"inference_configs/{parts[index]}"
    return {
        "dataset": parse.clean(dataset or "default", MAX_DATASET_CHARS),
        "model_hint": parse.clean(model, parse.MAX_MODEL_CHARS),
        "source_hint": parse.clean(source, parse.MAX_MODEL_CHARS),
    }


def output_files(*, location: Location) -> list[OutputFile]:
    """The job's `_output.jsonl` files in key order. Raises the gateway's errors."""
    files = []
    for obj in s3_list_objects(bucket=location.bucket, prefix=location.prefix):
        key = obj["key"]
        if not key.endswith(OUTPUT_SUFFIX):
            continue
        dirs = key[len(location.prefix) :].split("/")[:-1]
        if location.job_id not in dirs:
            continue  # another job of the same name sharing the prefix
        below = dirs[len(dirs) - dirs[::-1].index(location.job_id) :]
        files.append(OutputFile(key=key, size=obj["size"], etag=obj["etag"], **_path_hints(below)))
    files.sort(key=lambda f: f.key)
    return files


def fingerprint(files: Iterable[OutputFile]) -> str:
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.key}\t{f.size}\t{f.etag}\n".encode())
    return digest.hexdigest()


# --- the fetch --------------------------------------------------------------------------------


def evaluation_results_fetch(*, job_id: int, force: bool = False) -> EvaluationResultSet | None:
    """Read the job's output into its result set now, in this process; see the module
    docstring. Returns the set; None (nothing done) for a job that is not Completed, or that
    does not exist. A fetch of the same job already running elsewhere: returns the set as it is.
    Raises RetryableError for the task to retry."""
    job = EvaluationJob.objects.filter(pk=job_id).first()
    if job is None or job.status != "Completed":
        return None
    lease = locks.acquire(f"results:{job_id}", ttl=settings.RESULTS_LOCK_TTL_SECONDS)
    if lease is None:
        logger.info("results of job %s: a fetch is already running", job_id)
        return EvaluationResultSet.objects.filter(job_id=job_id).first()
    try:
        return _fetch(job, lease=lease, force=force)
    finally:
        lease.release()


def _update(result_set: EvaluationResultSet, **fields: Any) -> EvaluationResultSet:
    EvaluationResultSet.objects.filter(pk=result_set.pk).update(**fields, updated_at=timezone.now())
    result_set.refresh_from_db()
    return result_set


def _fail(result_set: EvaluationResultSet, code: str, message: str, **fields: Any):
    logger.warning("results of job %s: %s", result_set.job_id, message)
    return _update(
        result_set,
        state=State.FAILED,
        error_code=code[:64],
        error_message=message,
        attempts=F("attempts") + 1,
        **fields,
    )


def _retry_later(result_set: EvaluationResultSet, exc: RetryableError, where: str, state: str):
    """Record a transient failure and re-raise it for the task's retry, or fail the set once
    RESULTS_MAX_ATTEMPTS attempts are spent."""
    code = exc.code or type(exc).__name__
    if result_set.attempts + 1 >= settings.RESULTS_MAX_ATTEMPTS:
        _fail(
            result_set, code, f"{code} on {where} (gave up after {result_set.attempts + 1} tries)"
        )
        return
    _update(
        result_set,
        state=state,
        error_code=code[:64],
        error_message=f"{code} on {where}; trying again.",
        attempts=F("attempts") + 1,
    )
    raise exc


def _fetch(job: EvaluationJob, *, lease: locks.Lease, force: bool) -> EvaluationResultSet:
    result_set, _ = EvaluationResultSet.objects.get_or_create(
        job=job, defaults={"requested_at": timezone.now()}
    )
    before = result_set.state if result_set.state != State.FETCHING else State.PENDING
    where = "the job's output location"
    try:
        location = output_location(job=job)
        where = location.listed_uri
        files = output_files(location=location)
    except Unreadable as exc:
        return _fail(result_set, exc.code, exc.message)
    except RetryableError as exc:
        _retry_later(result_set, exc, where, before)
        return result_set
    except BedrockError as exc:
        code = exc.code or type(exc).__name__
        return _fail(result_set, code, f"{code} on {where}")
    if not files:
        return _fail(
            result_set,
            "NoOutput",
            f"No evaluation output (*{OUTPUT_SUFFIX}) under {location.job_uri}",
            s3_uri=location.job_uri,
        )
    digest = fingerprint(files)
    if not force and result_set.state == State.READY and result_set.fingerprint == digest:
        return result_set  # the same files: nothing to do, nothing written

    _update(result_set, state=State.FETCHING, s3_uri=location.job_uri)
    with tempfile.TemporaryFile(prefix="results-") as spool:
        try:
            read = _read(files, location=location, spool=spool, lease=lease)
        except Unreadable as exc:
            return _fail(result_set, exc.code, exc.message)
        except RetryableError as exc:
            _retry_later(result_set, exc, location.job_uri, before)
            return result_set
        if read.missing and len(read.missing) == len(files):
            return _fail(
                result_set, "NoSuchKey", f"NoSuchKey on s3://{location.bucket}/{read.missing[0]}"
            )
        _store(
            result_set,
            read,
            spool=spool,
            lease=lease,
            fingerprint=digest,
            files=files,
            bucket=location.bucket,
        )
    result_set.refresh_from_db()
    logger.info(
        "results of job %s: %d files, %d lines (%d bad), %d records",
        job.pk,
        result_set.files,
        result_set.lines,
        result_set.bad_lines,
        result_set.records,
    )
    return result_set


@dataclass
class _Read:
    aggregator: Aggregator
    lines: int = 0
    bad_lines: int = 0
    records: int = 0
    truncated: bool = False
    missing: list[str] | None = None


def _read(files: list[OutputFile], *, location: Location, spool, lease: locks.Lease) -> _Read:
    """Stream every file: aggregates in memory, records pickled to `spool`."""
    read = _Read(aggregator=Aggregator(), missing=[])
    limit = settings.RESULTS_MAX_RECORDS
    positions: dict[str, int] = {}
    dump = partial(pickle.dump, file=spool, protocol=pickle.HIGHEST_PROTOCOL)
    for f in files:
        try:
            for raw in s3_iter_lines(bucket=location.bucket, key=f.key):
                if not raw.strip():
                    continue
                read.lines += 1
                try:
                    parsed = parse.parse_line(
                        raw, model_hint=f.model_hint, source_hint=f.source_hint
                    )
                except parse.ParseError:
                    read.bad_lines += 1
                    continue
                read.bad_lines += parsed.problems > 0
                # Position: order of (file, line, turn) within the dataset; the models of a
                # two-model human line share one.
                base = positions.get(f.dataset, 0) + 1
                positions[f.dataset] = base + max(item.turn for item in parsed.items)
                for item in parsed.items:
                    read.aggregator.add(dataset=f.dataset, item=item)
                    if read.records >= limit:
                        read.truncated = True
                        continue
                    read.records += 1
                    dump(_record_tuple(f.dataset, base + item.turn, item))
                lease.keep_alive()
        except NotFoundError:
            read.missing.append(f.key)  # listed, then gone: counted, the rest is read
        except RetryableError:
            raise
        except BedrockError as exc:
            code = exc.code or type(exc).__name__
            raise Unreadable(code, f"{code} on s3://{location.bucket}/{f.key}") from exc
    return read


def _record_tuple(dataset: str, position: int, item: parse.Item) -> tuple:
    return (
        dataset,
        item.model,
        position,
        item.prompt,
        hashlib.sha256(item.prompt.encode()).hexdigest(),
        item.reference,
        item.response,
        item.scores,
        item.explanations,
    )


def _spooled(spool, size: int) -> Iterator[list[tuple]]:
    spool.seek(0)
    chunk: list[tuple] = []
    while True:
        try:
            chunk.append(pickle.load(spool))  # noqa: S301 - our own temporary file
        except EOFError:
            break
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _delete_rows(result_set_id: int) -> None:
    """Delete the set's rows with one DELETE each: QuerySet.delete() would first load every
    record (with its texts) to cascade; scores go first, so nothing references the records."""
    for model in (ResultScore, ResultRecord, ResultAggregate):
        rows = model.objects.filter(result_set_id=result_set_id)
        rows._raw_delete(rows.db)


def _forget_queries() -> None:
    """With DEBUG on (`make run`'s worker), Django keeps the SQL of the last 9,000 queries, and
    each bulk INSERT of records is megabytes of it: drop it as we go (unless a test is
    capturing queries), so memory stays flat there too."""
    if settings.DEBUG and not connection.force_debug_cursor:
        reset_queries()


def _store(
    result_set,
    read: _Read,
    *,
    spool,
    lease: locks.Lease,
    fingerprint: str,
    files: list[OutputFile],
    bucket: str,
):
    """Replace the set's rows and mark it ready, in one transaction."""
    pk = result_set.pk
    missing = read.missing or []
    note = ""
    if missing:
        note = (
            f"{len(missing)} of {len(files)} output files could not be read: NoSuchKey on "
            f"s3://{bucket}/{missing[0]}"
        )
    lease.renew()
    with transaction.atomic():
        EvaluationResultSet.objects.select_for_update().filter(pk=pk).first()
        _delete_rows(pk)
        ResultAggregate.objects.bulk_create(
            [ResultAggregate(result_set_id=pk, **row) for row in read.aggregator.rows()],
            batch_size=1000,
        )
        for chunk in _spooled(spool, RECORD_CHUNK):
            records = ResultRecord.objects.bulk_create(
                [
                    ResultRecord(
                        result_set_id=pk,
                        dataset=dataset,
                        model=model,
                        position=position,
                        prompt=prompt,
                        prompt_hash=prompt_hash,
                        reference=reference,
                        response=response,
                        scores=scores,
                        explanations=explanations,
                    )
                    for (
                        dataset,
                        model,
                        position,
                        prompt,
                        prompt_hash,
                        reference,
                        response,
                        scores,
                        explanations,
                    ) in chunk
                ]
            )
            ResultScore.objects.bulk_create(
                [
                    ResultScore(record_id=record.pk, result_set_id=pk, metric=metric, value=value)
                    for record, row in zip(records, chunk, strict=True)
                    for metric, value in row[7].items()
                ],
                batch_size=2000,
            )
            lease.keep_alive()
            _forget_queries()
        EvaluationResultSet.objects.filter(pk=pk).update(
            state=State.READY,
            error_code="NoSuchKey" if missing else "",
            error_message=note,
            fingerprint=fingerprint,
            files=len(files),
            lines=read.lines,
            bad_lines=read.bad_lines,
            records=read.records,
            records_truncated=read.truncated,
            attempts=0,
            fetched_at=timezone.now(),
            updated_at=timezone.now(),
        )


# --- asking a worker: jobs/results/track.py (which jobs/sync.py calls too) ------------------


def evaluation_results_pending() -> int:
    """The periodic catch-up: Completed jobs without a result set, and sets pending (or
    fetching) for longer than RESULTS_PENDING_GRACE_SECONDS (their task was lost), newest
    first, at most RESULTS_PENDING_BATCH a run. Returns how many were enqueued; 0 if another
    run holds the lock."""
    lease = locks.acquire("results:pending", ttl=settings.SYNC_LOCK_TTL_SECONDS)
    if lease is None:
        return 0
    try:
        limit = settings.RESULTS_PENDING_BATCH
        ids = list(
            track.without_results().order_by("-created_at").values_list("pk", flat=True)[:limit]
        )
        stale = timezone.now() - dt.timedelta(seconds=settings.RESULTS_PENDING_GRACE_SECONDS)
        ids += list(
            EvaluationResultSet.objects.filter(
                Q(requested_at__lt=stale) | Q(requested_at__isnull=True),
                state__in=(State.PENDING, State.FETCHING),
                job__status="Completed",
            )
            .order_by("requested_at")
            .values_list("job_id", flat=True)[: max(0, limit - len(ids))]
        )
        return track.start(ids)
    finally:
        lease.release()


def evaluation_results_request(*, job_id: int, user) -> EvaluationResultSet | None:
    """The Retry button: read the job's output again (force), whatever the fingerprint says.
    A failed or pending set shows pending until the worker is done; a ready set stays ready
    (its results visible) until the new ones replace it. Audited. None for a job that is not
    Completed (nothing asked). Raises EvaluationJob.DoesNotExist."""
    job = EvaluationJob.objects.get(pk=job_id)
    if job.status != "Completed":
        return None
    now = timezone.now()
    with transaction.atomic():
        result_set, _ = EvaluationResultSet.objects.select_for_update().get_or_create(
            job=job, defaults={"requested_at": now}
        )
        previous = result_set.state
        fields: dict[str, Any] = {"requested_at": now, "attempts": 0}
        if previous != State.READY:
            fields |= {"state": State.PENDING, "error_code": "", "error_message": ""}
        result_set = _update(result_set, **fields)
        AuditEntry.objects.create(
            user=user,
            username=user.get_username(),
            action="evaluation_results.request",
            target_arn=job.arn,
            outcome="requested",
            detail={"previous_state": previous},
        )
        track.enqueue([job.pk], force=True)
    return result_set
