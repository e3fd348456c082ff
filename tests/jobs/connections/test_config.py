"""The connections file: what loads, what is refused (naming the file and the line), and the
one connection built from settings when there is no file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from django.core.exceptions import ImproperlyConfigured

from jobs.connections import (
    Connection,
    ConnectionsFileError,
    UnknownConnection,
    configured_connections,
    connection_named,
    default_connection,
    load_connections,
)
from tests.jobs.connections.support import write
from tests.worker import ROOT

FOUR = textwrap.dedent(
    """\
    # Four ways to get credentials.
    [chain]
    region = "us-east-1"

    [team]
    region = "eu-west-1"
    profile = "team"

    [prod]
    region = "us-west-2"
    role_arn = "arn:aws:iam::333333333333:role/ops/BedrockDashboard"
    external_id = "ext-7f3a"
    role_session_name = "dash-prod"
    source_profile = "team"
    duration_seconds = 3600

    ["local"]
    region = "ap-southeast-2"
    bedrock_endpoint_url = "http://127.0.0.1:4599"
    s3_endpoint_url = "http://127.0.0.1:4598"
    sts_endpoint_url = "https://sts.example.internal:8443/"
    """
)


def test_a_file_with_four_kinds_of_connection_loads_in_order(tmp_path):
    chain, team, prod, local = load_connections(write(tmp_path / "c.toml", FOUR))

    assert [c.name for c in (chain, team, prod, local)] == ["chain", "team", "prod", "local"]
    assert [c.line for c in (chain, team, prod, local)] == [2, 5, 9, 17]
    assert chain == Connection(name="chain", region="us-east-1")
    assert chain.credentials_kind == "default"
    assert chain.endpoints == {"bedrock": None, "s3": None, "sts": None}

    assert (team.credentials_kind, team.profile, team.region) == ("profile", "team", "eu-west-1")
    assert team.credentials_label == "profile team"

    assert prod.credentials_kind == "role"
    assert prod.role_arn == "arn:aws:iam::333333333333:role/ops/BedrockDashboard"
    assert prod.role_account == "333333333333"
    assert (prod.external_id, prod.role_session_name) == ("ext-7f3a", "dash-prod")
    assert (prod.source_profile, prod.duration_seconds) == ("team", 3600)
    assert "ext-7f3a" not in repr(prod) and "ext-7f3a" not in prod.credentials_label
    assert "ext-7f3a" not in prod.fingerprint

    assert local.credentials_kind == "default"
    assert local.endpoints == {
        "bedrock": "http://127.0.0.1:4599",
        "s3": "http://127.0.0.1:4598",
        "sts": "https://sts.example.internal:8443/",
    }


def test_a_role_without_session_name_gets_the_dashboards(tmp_path):
    (role,) = load_connections(
        write(
            tmp_path / "c.toml",
            '[r]\nregion = "us-east-1"\nrole_arn = "arn:aws:iam::111122223333:role/R"\n',
        )
    )
    assert role.role_session_name == "bedrock-dashboard"
    assert role.external_id == "" and role.duration_seconds is None


# (file text, the line named, words the message must contain)
BAD = {
    "unknown key": ('[dev]\nregion = "us-east-1"\nregoin = "x"\n', 3, "unknown key 'regoin'"),
    "near miss": ('[dev]\nregion = "us-east-1"\nrole = "x"\n', 3, "did you mean"),
    "missing region": ('\n[dev]\nprofile = "dev"\n', 2, "[dev] has no region"),
    "bad region": ('[dev]\nregion = "US East"\n', 2, "not a region name"),
    "bad role ARN": (
        '[dev]\nregion = "us-east-1"\n\nrole_arn = "arn:aws:iam::12345:user/x"\n',
        4,
        "is not an IAM role ARN",
    ),
    "role ARN with junk after it": (
        '[dev]\nregion = "us-east-1"\nrole_arn = "arn:aws:iam::123456789012:role/R x"\n',
        3,
        "is not an IAM role ARN",
    ),
    "duplicate names": (
        '[dev]\nregion = "us-east-1"\n\n[dev]\nregion = "eu-west-1"\n',
        4,
        "given twice",
    ),
    "duplicate names, one quoted": (
        '[dev]\nregion = "us-east-1"\n["dev"]\nregion = "eu-west-1"\n',
        3,
        "given twice",
    ),
    "both profile and role": (
        '[dev]\nregion = "us-east-1"\nprofile = "p"\n'
        'role_arn = "arn:aws:iam::123456789012:role/R"\n',
        4,
        "both profile and role_arn",
    ),
    "bad URL scheme": (
        '[dev]\nregion = "us-east-1"\nbedrock_endpoint_url = "ftp://host"\n',
        3,
        "bedrock_endpoint_url must be an http",
    ),
    "URL without host": (
        '[dev]\nregion = "us-east-1"\ns3_endpoint_url = "http://"\n',
        3,
        "s3_endpoint_url must be an http",
    ),
    "URL with a bad port": (
        '[dev]\nregion = "us-east-1"\nsts_endpoint_url = "http://h:99999"\n',
        3,
        "sts_endpoint_url is not a URL",
    ),
    "URL with a password": (
        '[dev]\nregion = "us-east-1"\ns3_endpoint_url = "http://me:pw@h"\n',
        3,
        "must not carry a user name or password",
    ),
    "secret in the file": (
        '[dev]\nregion = "us-east-1"\naws_secret_access_key = "wJalrXUtnFEMI/K7MDENG"\n',
        3,
        "credentials do not belong in this file",
    ),
    "external id without a role": (
        '[dev]\nregion = "us-east-1"\nexternal_id = "abc"\n',
        3,
        "external_id needs role_arn",
    ),
    "duration out of range": (
        '[dev]\nregion = "us-east-1"\nrole_arn = "arn:aws:iam::123456789012:role/R"\n'
        "duration_seconds = 60\n",
        4,
        "duration_seconds must be 900-43200",
    ),
    "duration not a number": (
        '[dev]\nregion = "us-east-1"\nrole_arn = "arn:aws:iam::123456789012:role/R"\n'
        'duration_seconds = "1h"\n',
        4,
        "must be a whole number",
    ),
    "value not a string": ("[dev]\nregion = 5\n", 2, "region must be a string"),
    "empty value": ('[dev]\nregion = "us-east-1"\nprofile = ""\n', 3, "profile is empty"),
    "bad session name": (
        '[dev]\nregion = "us-east-1"\nrole_arn = "arn:aws:iam::123456789012:role/R"\n'
        'role_session_name = "has space"\n',
        4,
        "role_session_name",
    ),
    "bad name": ('[Prod]\nregion = "us-east-1"\n', 1, "connection name 'Prod'"),
    "a key outside any table": ('region = "us-east-1"\n', 1, "must be a table"),
    "dotted keys at the top": ('dev.region = "us-east-1"\ndev.regin = "x"\n', 2, "'regin'"),
    "not TOML": ('[dev]\nregion = "us-east-1\n', 2, "not valid TOML"),
    "no connection at all": ("# nothing\n", 0, "declares no connection"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_entry_is_refused_naming_the_file_and_the_line(tmp_path, case):
    text, line, words = BAD[case]
    path = write(tmp_path / "connections.toml", text)

    with pytest.raises(ImproperlyConfigured) as refused:
        load_connections(path)

    error = refused.value
    assert isinstance(error, ConnectionsFileError)
    assert [n for n, _ in error.problems] == [line], error.problems
    where = f"{path}:{line}: " if line else f"{path}: "
    assert where in str(error)
    assert words in str(error)


def test_every_problem_in_a_file_is_reported_at_once(tmp_path):
    path = write(
        tmp_path / "c.toml",
        '[a]\nregion = "us-east-1"\nprofle = "x"\n\n[b]\nprofile = "p"\n\n[c]\nregion = "nope"\n',
    )
    with pytest.raises(ConnectionsFileError) as refused:
        load_connections(path)
    assert [line for line, _ in refused.value.problems] == [3, 5, 9]


def test_secrets_and_external_ids_are_not_repeated_in_the_error(tmp_path):
    path = write(
        tmp_path / "c.toml",
        '[dev]\nregion = "us-east-1"\naws_secret_access_key = "wJalrXUtnFEMI/K7MDENG"\n'
        '[ops]\nregion = "us-east-1"\nrole_arn = "arn:aws:iam::123456789012:role/R"\n'
        'external_id = "s e c r e t"\n',
    )
    with pytest.raises(ConnectionsFileError) as refused:
        load_connections(path)
    assert "wJalrXUtnFEMI" not in str(refused.value)
    assert "s e c r e t" not in str(refused.value)
    assert "external_id has characters" in str(refused.value)


def test_a_missing_or_binary_file_is_refused(tmp_path):
    with pytest.raises(ConnectionsFileError, match="cannot be read"):
        load_connections(tmp_path / "absent.toml")
    binary = tmp_path / "b.toml"
    binary.write_bytes(b'[dev]\nregion = "\xff\xfe"\n')
    with pytest.raises(ConnectionsFileError, match="not UTF-8"):
        load_connections(binary)


def test_without_a_file_there_is_one_connection_from_settings(settings):
    settings.DASHBOARD_CONNECTIONS = None
    settings.AWS_REGION = "eu-central-1"
    settings.BEDROCK_ENDPOINT_URL = "http://127.0.0.1:4599"
    settings.S3_ENDPOINT_URL = "http://127.0.0.1:4598"
    settings.STS_ENDPOINT_URL = None

    assert configured_connections() == (
        Connection(
            name="default",
            region="eu-central-1",
            bedrock_endpoint_url="http://127.0.0.1:4599",
            s3_endpoint_url="http://127.0.0.1:4598",
        ),
    )
    assert default_connection().name == "default"
    assert connection_named("default").region == "eu-central-1"


def test_with_a_file_its_connections_replace_the_settings_one(settings, tmp_path):
    settings.DASHBOARD_CONNECTIONS = str(write(tmp_path / "c.toml", FOUR))
    assert [c.name for c in configured_connections()] == ["chain", "team", "prod", "local"]
    assert default_connection().name == "chain"
    assert connection_named("prod").role_arn.endswith(":role/ops/BedrockDashboard")
    with pytest.raises(UnknownConnection):
        connection_named("default")


@pytest.mark.parametrize(
    "name", ["", "nope", "CHAIN", "chain ", "../chain", "chain\x00", "é", "x" * 10_000, None, 7]
)
def test_asking_for_a_connection_by_any_other_name_is_unknown(settings, tmp_path, name):
    settings.DASHBOARD_CONNECTIONS = str(write(tmp_path / "c.toml", FOUR))
    with pytest.raises(UnknownConnection):
        connection_named(name)


def test_a_bad_file_stops_the_dashboard_at_start(tmp_path):
    path = write(tmp_path / "c.toml", '[dev]\nregion = "us-east-1"\n\nrole_arn = "nope"\n')
    env = {**os.environ, "DASHBOARD_CONNECTIONS": str(path)}
    done = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "Bad connections file (DASHBOARD_CONNECTIONS)" in done.stderr
    assert f"{path}:4: [dev] role_arn 'nope' is not an IAM role ARN" in done.stderr


def test_a_good_file_passes_the_start(tmp_path):
    env = {**os.environ, "DASHBOARD_CONNECTIONS": str(write(tmp_path / "c.toml", FOUR))}
    done = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
