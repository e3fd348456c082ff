"""The S3 gateway against the local S3 (moto's server) over real HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from jobs.bedrock import errors
from jobs.bedrock.s3 import (
    parse_s3_uri,
    s3_create_bucket,
    s3_iter_lines,
    s3_list_objects,
    s3_put_object,
)
from tests.conftest import free_port
from tests.worker import ROOT


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://my-bucket/evals/out/", ("my-bucket", "evals/out/")),
        ("s3://my-bucket", ("my-bucket", "")),
        ("s3://a.b-c/k", ("a.b-c", "k")),
    ],
)
def test_parse_s3_uri(uri, expected):
    assert parse_s3_uri(uri) == expected


@pytest.mark.parametrize("uri", ["", "http://x/y", "s3://", "s3://UPPER/x", "s3://a/x\n"])
def test_parse_s3_uri_refuses_anything_else(uri):
    with pytest.raises(ValueError, match="not an S3 URI"):
        parse_s3_uri(uri)


def test_list_finds_every_object_under_a_prefix_at_any_depth(local_s3):
    s3_create_bucket(bucket="outputs")
    s3_create_bucket(bucket="outputs")  # a second time is harmless
    keys = [f"evals/job-a/{i:04d}/x/{i}_output.jsonl" for i in range(1005)]
    for key in keys:
        s3_put_object(bucket="outputs", key=key, body=b"{}\n")
    s3_put_object(bucket="outputs", key="evals/job-b/other_output.jsonl", body=b"{}")
    found = list(s3_list_objects(bucket="outputs", prefix="evals/job-a/"))
    assert sorted(item["key"] for item in found) == sorted(keys)  # two pages of 1,000
    assert all(item["size"] == 3 and item["etag"] for item in found)


def test_lines_stream_with_any_line_end_and_no_final_newline(local_s3):
    s3_create_bucket(bucket="outputs")
    body = b"first\r\nsecond\n\nfourth " + b"x" * 200_000 + b"\nlast"
    s3_put_object(bucket="outputs", key="f.jsonl", body=body)
    lines = list(s3_iter_lines(bucket="outputs", key="f.jsonl", chunk_size=1024))
    assert lines == [b"first", b"second", b"", b"fourth " + b"x" * 200_000, b"last"]


def test_missing_bucket_and_key_are_final_not_found_errors(local_s3):
    with pytest.raises(errors.NotFoundError) as exc:
        list(s3_list_objects(bucket="no-such-bucket", prefix=""))
    assert exc.value.code == "NoSuchBucket"
    s3_create_bucket(bucket="outputs")
    with pytest.raises(errors.NotFoundError) as exc:
        list(s3_iter_lines(bucket="outputs", key="missing.jsonl"))
    assert exc.value.code == "NoSuchKey"
    assert not exc.value.retryable


def test_an_unreachable_endpoint_is_retryable(settings):
    settings.S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    settings.BEDROCK_MAX_ATTEMPTS = 1
    with pytest.raises(errors.EndpointUnreachableError):
        list(s3_list_objects(bucket="outputs", prefix=""))


def test_s3_local_command_serves_until_sigterm():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "s3_local", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=ROOT,
    )
    try:
        assert "Local S3 listening on" in proc.stdout.readline()
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    assert r.status == 200  # ListBuckets
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "Local S3 stopped." in out
