"""The fleet `make run` demonstrates: two accounts × two regions of the local Bedrock, reached
through four connections that get their credentials the ways real ones do.

- `dev-us-east-1`, `dev-us-west-2`: boto3's default chain, which finds the `[default]` profile
  of a generated shared credentials file: the key of an IAM user in the dev account;
- `prod-us-east-1`: the profile `prod` of that file, a user's key in the prod account;
- `prod-us-west-2`: a role in the prod account, assumed through the local STS with the default
  chain's key (the role's temporary key carries the prod account, so it lands there).

The users and keys are made in the local S3's moto server (IAM), which is in memory: each start
makes new ones and writes the files again. moto's STS then names each key's account on the
Connections page, and the local Bedrock routes each key to its account (server.py). The
connections file holds no secrets; the credentials file holds only these throwaway keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import boto3

DEV = "123456789012"  # the local Bedrock's default account (and moto's)
PROD = "210987654321"
REGIONS = ("us-east-1", "us-west-2")
ROLE_ARN = f"arn:aws:iam::{PROD}:role/BedrockDashboard"
# (connection, account, region, how it gets credentials: TOML lines)
CONNECTIONS = (
    (
        "dev-us-east-1",
        DEV,
        "us-east-1",
        "# default chain: [default] of the credentials file",
    ),
    ("dev-us-west-2", DEV, "us-west-2", "# the default chain again, in another region"),
    ("prod-us-east-1", PROD, "us-east-1", 'profile = "prod"'),
    ("prod-us-west-2", PROD, "us-west-2", f'role_arn = "{ROLE_ARN}"  # through the local STS'),
)


@dataclass(frozen=True)
class Fleet:
    connections_file: Path
    credentials_file: Path
    config_file: Path
    # For `bedrock_local`: --accounts KEY=ACCOUNT,... and --regions.
    accounts: str
    regions: str


def iam_access_key(sts_url: str, *, account: str, user: str) -> tuple[str, str]:
    """A new IAM user with an access key in `account` of the moto server at `sts_url`: (key
    id, secret). moto chooses the account per request by its x-moto-account-id header."""
    iam = boto3.client(
        "iam",
        region_name="us-east-1",
        endpoint_url=sts_url,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - moto checks no signature
    )

    def in_account(request, **kwargs):
        request.headers["x-moto-account-id"] = account

    iam.meta.events.register("before-sign.iam.*", in_account)
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def write_fleet(directory: Path, *, bedrock_url: str, s3_url: str) -> Fleet:
    """Make the demo's users in the local STS and write, under `directory`, the connections
    file and the shared credentials and config files its connections read."""
    directory.mkdir(parents=True, exist_ok=True)
    dev_key, dev_secret = iam_access_key(s3_url, account=DEV, user="dashboard-dev")
    prod_key, prod_secret = iam_access_key(s3_url, account=PROD, user="dashboard-prod")

    credentials = directory / "demo-aws-credentials"
    credentials.touch(mode=0o600, exist_ok=True)
    credentials.write_text(
        "# Written by `make run` for the local demo: keys of the local STS (moto), not AWS.\n"
        f"[default]\naws_access_key_id = {dev_key}\naws_secret_access_key = {dev_secret}\n\n"
        f"[prod]\naws_access_key_id = {prod_key}\naws_secret_access_key = {prod_secret}\n",
        encoding="utf-8",
    )
    os.chmod(credentials, 0o600)
    config = directory / "demo-aws-config"
    config.write_text("[default]\nregion = us-east-1\n", encoding="utf-8")

    lines = [
        "# Written by `make run` for the local demo: two accounts × two regions of the local",
        "# Bedrock. Set DASHBOARD_CONNECTIONS to use a file of your own instead.",
    ]
    for name, account, region, credentials_lines in CONNECTIONS:
        lines += [
            "",
            f"[{name}]  # account {account}",
            f'region = "{region}"',
            credentials_lines,
            f'bedrock_endpoint_url = "{bedrock_url}"',
            f's3_endpoint_url = "{s3_url}"',
            f'sts_endpoint_url = "{s3_url}"',
        ]
    connections = directory / "connections.toml"
    connections.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Fleet(
        connections_file=connections,
        credentials_file=credentials,
        config_file=config,
        accounts=f"{dev_key}={DEV},{prod_key}={PROD}",
        regions=",".join(REGIONS),
    )
