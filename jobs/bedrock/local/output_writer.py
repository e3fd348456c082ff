"""Writes completed evaluation jobs' outputs (outputs/) into an S3 endpoint, off the request
path: the store hands a job over on completion (cheap, under its lock), one background thread
generates and uploads its files, one file at a time, streamed.  A failure is logged and
counted; it never reaches the Bedrock API.

The local Bedrock builds its own S3 client here (it does not read the dashboard's settings):
path-style addressing, placeholder credentials when none are configured, few retries.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import botocore.exceptions
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from jobs.bedrock.local import outputs

logger = logging.getLogger(__name__)

# Up to 8 MiB a file goes in one PutObject; larger files go as 8 MiB multipart parts.
_TRANSFER = TransferConfig(use_threads=False, multipart_threshold=8 * 2**20)
_STOP: Any = object()


class _ChunkReader:
    """A read()-able file over an iterator of byte chunks, for upload_fileobj."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        parts, have = [self._buffer], len(self._buffer)
        while size < 0 or have < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            parts.append(chunk)
            have += len(chunk)
        data = b"".join(parts)
        if size < 0:
            self._buffer = b""
            return data
        self._buffer = data[size:]
        return data[:size]


def s3_client(endpoint_url: str, region: str):
    session = boto3.session.Session(region_name=region)
    credentials: dict[str, str] = {}
    if session.get_credentials() is None:
        # The local S3 does not check signatures, but botocore will not send unsigned requests.
        credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    config = Config(
        s3={"addressing_style": "path"},
        retries={"mode": "standard", "total_max_attempts": 3},
        connect_timeout=3,
        read_timeout=30,
    )
    return session.client("s3", endpoint_url=endpoint_url, config=config, **credentials)


class OutputWriter:
    """A queue of completed jobs and the thread that writes their outputs."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        region: str = "us-east-1",
        max_prompts: int = outputs.DEFAULT_MAX_PROMPTS,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self.max_prompts = max_prompts
        self._client = s3_client(endpoint_url, region)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._cond = threading.Condition()
        self._pending = 0
        self._buckets: set[str] = set()
        self._thread: threading.Thread | None = None
        self.stats = {"jobs_written": 0, "jobs_failed": 0, "files_written": 0}
        self.last_error: str | None = None

    # --- called by the store (under its lock): cheap -----------------------------------------

    def submit(self, description: Mapping[str, Any]) -> None:
        with self._cond:
            self._pending += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="local-bedrock-outputs", daemon=True
                )
                self._thread.start()
        self._queue.put(description)

    # --- control --------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        with self._cond:
            return self._pending

    def status(self) -> dict[str, Any]:
        with self._cond:
            return {
                "enabled": True,
                "endpoint_url": self.endpoint_url,
                "pending": self._pending,
                **self.stats,
                "last_error": self.last_error,
            }

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every submitted job is written (or failed); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout=timeout)

    def clear(self) -> None:
        """Drop jobs not yet started (a reset of the local Bedrock)."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is _STOP:
                self._queue.put(_STOP)
                return
            self._done()

    def stop(self, timeout: float = 5) -> None:
        self.clear()
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout=timeout)
        self._thread = None

    # --- the thread -----------------------------------------------------------------------

    def _done(self) -> None:
        with self._cond:
            self._pending -= 1
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            try:
                files = self.write(item)
            except Exception as exc:  # noqa: BLE001 - any failure is logged, never raised
                message = f"{item.get('jobArn')}: {type(exc).__name__}: {exc}"
                logger.warning("local Bedrock could not write the outputs of %s", message)
                with self._cond:
                    self.stats["jobs_failed"] += 1
                    self.last_error = message
            else:
                with self._cond:
                    self.stats["jobs_written"] += 1
                    self.stats["files_written"] += files
            finally:
                self._done()

    def write(self, description: Mapping[str, Any]) -> int:
        """Write one job's files now; the number written."""
        bucket = outputs.output_bucket(description)
        self._ensure_bucket(bucket)
        count = 0
        for key, chunks in outputs.job_outputs(description, max_prompts=self.max_prompts):
            self._client.upload_fileobj(_ChunkReader(chunks), bucket, key, Config=_TRANSFER)
            count += 1
        logger.info("local Bedrock wrote %d output files of %s", count, description["jobArn"])
        return count

    def _ensure_bucket(self, bucket: str) -> None:
        if bucket in self._buckets:
            return
        try:
            self._client.head_bucket(Bucket=bucket)
        except botocore.exceptions.ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status != 404:
                raise
            params: dict[str, Any] = {"Bucket": bucket}
            if self.region != "us-east-1":
                params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            try:
                self._client.create_bucket(**params)
            except botocore.exceptions.ClientError as err:
                code = err.response.get("Error", {}).get("Code")
                if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
        self._buckets.add(bucket)
