"""What the connection tests share (the browser test too): an AWS environment of their own
(no host credentials, no instance metadata), users with keys in accounts of the local moto
server, moto's record of the roles it handed out, and connections files written to tmp_path."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import boto3
import pytest

from jobs.bedrock.client import forget_clients

# What a key never found in moto maps to (moto.core.models.DEFAULT_ACCOUNT_ID).
MOTO_DEFAULT_ACCOUNT = "123456789012"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch, tmp_path):
    """boto3 sees only what a test gives it: no AWS_* variables from the host, shared files in
    tmp_path (empty until written), no instance metadata probe. Clients and sessions are built
    afresh for each test, since the files and variables differ."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name == "MOTO_ACCOUNT_ID":
            monkeypatch.delenv(name)
    aws = tmp_path / "aws"
    aws.mkdir()
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    forget_clients()
    yield aws
    forget_clients()


def moto_user(url: str, *, account: str, name: str) -> tuple[str, str]:
    """An IAM user with an access key in `account` of the moto server at `url`: (key id,
    secret). moto maps a key it issued to the account it issued it in; any other key to
    123456789012. The account is chosen per request with moto's x-moto-account-id header."""
    iam = boto3.client(
        "iam",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def in_account(request, **kwargs):
        request.headers["x-moto-account-id"] = account

    iam.meta.events.register("before-sign.iam.*", in_account)
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def moto_assumed_roles(url: str) -> list[dict]:
    """Every AssumeRole moto answered since its last reset (its /moto-api/data.json), with the
    temporary credentials it handed out."""
    with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=10) as response:  # noqa: S310
        data = json.loads(response.read())
    return data.get("sts", {}).get("AssumedRole", [])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
