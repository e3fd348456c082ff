"""The S3 side of the gateway: reading what finished evaluation jobs wrote (and, for the local
Bedrock and the tests, writing it). One function per operation, `s3_<verb>`, through the same
client settings, retries and error mapping as Bedrock (client.py, errors.py).

The dashboard needs `s3:ListBucket` and `s3:GetObject` on the output buckets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import botocore.exceptions

from jobs.bedrock import errors
from jobs.bedrock.client import _call, get_client
from jobs.connections import Connection

# s3://bucket/key-prefix; bucket names as S3 allows them (3-63 characters).
_S3_URI = re.compile(r"s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(?P<key>.*))?")


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key or prefix) of an s3:// URI; ValueError for anything else."""
    match = _S3_URI.fullmatch(uri or "")
    if not match:
        raise ValueError(f"not an S3 URI: {uri!r}")
    return match["bucket"], match["key"] or ""


def s3_list_objects(
    *, bucket: str, prefix: str, connection: Connection | None = None
) -> Iterator[dict[str, Any]]:
    """Every object under `prefix`, at any depth, one ListObjectsV2 call per 1,000:
    {"key", "size", "etag"}."""
    client = get_client("s3", connection=connection)
    params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": 1000}
    while True:
        response = _call("list_objects_v2", client=client, **params)
        for item in response.get("Contents", []):
            yield {"key": item["Key"], "size": item["Size"], "etag": item.get("ETag", "")}
        token = response.get("NextContinuationToken")
        if not response.get("IsTruncated") or not token:
            return
        params["ContinuationToken"] = token


def s3_iter_lines(
    *, bucket: str, key: str, chunk_size: int = 64 * 1024, connection: Connection | None = None
) -> Iterator[bytes]:
    """The object's lines without their line ends, read as a stream: memory stays at about one
    chunk plus the longest line, whatever the object's size."""
    client = get_client("s3", connection=connection)
    body = _call("get_object", client=client, Bucket=bucket, Key=key)["Body"]
    try:
        pending = b""
        for chunk in body.iter_chunks(chunk_size):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line.rstrip(b"\r")
        if pending:
            yield pending.rstrip(b"\r")
    except (
        botocore.exceptions.ResponseStreamingError,
        botocore.exceptions.ReadTimeoutError,
        botocore.exceptions.IncompleteReadError,
    ) as exc:
        raise errors.EndpointUnreachableError(
            f"reading s3://{bucket}/{key} broke off: {exc}",
            code=type(exc).__name__,
            operation="get_object",
        ) from exc
    finally:
        body.close()


def s3_put_object(
    *, bucket: str, key: str, body: bytes, connection: Connection | None = None
) -> None:
    client = get_client("s3", connection=connection)
    _call("put_object", client=client, Bucket=bucket, Key=key, Body=body)


def s3_create_bucket(*, bucket: str, connection: Connection | None = None) -> None:
    """Create the bucket unless it exists (in the client's region)."""
    client = get_client("s3", connection=connection)
    try:
        _call("head_bucket", client=client, Bucket=bucket)
        return
    except errors.BedrockError as exc:
        if exc.status_code != 404 and exc.code not in ("404", "NoSuchBucket"):
            raise
    region = client.meta.region_name
    params: dict[str, Any] = {"Bucket": bucket}
    if region and region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    _call("create_bucket", client=client, **params)
