"""The gateway per connection, against the local moto server (S3 and STS) and the local Bedrock
over real HTTP: each way of getting credentials reaches STS as the identity it should, a role's
credentials are fetched by AssumeRole and fetched again before they expire, endpoint overrides
are used, and failures come out as our exceptions."""

from __future__ import annotations

import pytest

from jobs.bedrock import client as bedrock
from jobs.bedrock import errors
from jobs.bedrock.s3 import s3_create_bucket, s3_list_objects, s3_put_object
from jobs.bedrock.sts import sts_get_caller_identity
from jobs.connections import Connection, settings_connection
from tests.conftest import free_port
from tests.jobs.bedrock.support import automated_request
from tests.jobs.connections.support import (
    MOTO_DEFAULT_ACCOUNT,
    moto_assumed_roles,
    moto_user,
    write,
)


def test_the_default_chain_signs_as_the_environments_credentials(local_s3, monkeypatch):
    key, secret = moto_user(local_s3.url, account="111111111111", name="dana")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    chain = Connection(name="chain", region="us-east-1", sts_endpoint_url=local_s3.url)

    identity = sts_get_caller_identity(connection=chain)

    assert identity.account == "111111111111"
    assert identity.arn == "arn:aws:iam::111111111111:user/dana"


def test_without_credentials_a_local_endpoint_gets_a_placeholder_and_moto_its_default_account(
    local_s3,
):
    chain = Connection(name="chain", region="us-east-1", sts_endpoint_url=local_s3.url)
    identity = sts_get_caller_identity(connection=chain)
    assert identity.account == MOTO_DEFAULT_ACCOUNT
    assert identity.arn == f"arn:aws:sts::{MOTO_DEFAULT_ACCOUNT}:user/moto"


def test_a_profile_signs_with_its_own_keys_from_the_shared_files(local_s3, aws_env, monkeypatch):
    env_key, env_secret = moto_user(local_s3.url, account="111111111111", name="dana")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", env_key)  # the profile wins over these
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", env_secret)
    key, secret = moto_user(local_s3.url, account="222222222222", name="pat")
    write(
        aws_env / "credentials",
        f"[team]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n",
    )
    write(aws_env / "config", "[profile team]\nregion = eu-west-1\n")
    team = Connection(
        name="team", region="eu-west-1", profile="team", sts_endpoint_url=local_s3.url
    )

    identity = sts_get_caller_identity(connection=team)

    assert identity.account == "222222222222"
    assert identity.arn == "arn:aws:iam::222222222222:user/pat"


def test_an_unknown_profile_is_a_credentials_error_naming_it(local_s3):
    ghost = Connection(name="g", region="eu-west-1", profile="ghost", sts_endpoint_url=local_s3.url)
    with pytest.raises(errors.CredentialsError, match=r"profile \(ghost\) could not be found"):
        sts_get_caller_identity(connection=ghost)


def test_a_role_is_assumed_through_sts_with_its_external_id_and_session_name(local_s3):
    prod = Connection(
        name="prod",
        region="us-west-2",
        role_arn="arn:aws:iam::333333333333:role/BedrockDashboard",
        external_id="ext-7f3a",
        role_session_name="dash-prod",
        sts_endpoint_url=local_s3.url,
    )

    identity = sts_get_caller_identity(connection=prod)

    assert identity.account == "333333333333"
    assert identity.arn == "arn:aws:sts::333333333333:assumed-role/BedrockDashboard/dash-prod"
    (assumed,) = moto_assumed_roles(local_s3.url)
    assert assumed["role_arn"] == prod.role_arn
    assert assumed["external_id"] == "ext-7f3a"
    assert assumed["session_name"] == "dash-prod"
    assert assumed["region_name"] == "us-west-2"


def test_a_roles_credentials_are_reused_while_fresh(local_s3):
    prod = Connection(
        name="prod",
        region="us-west-2",
        role_arn="arn:aws:iam::333333333333:role/BedrockDashboard",
        duration_seconds=3600,
        sts_endpoint_url=local_s3.url,
    )
    for _ in range(3):
        sts_get_caller_identity(connection=prod)
    assert len(moto_assumed_roles(local_s3.url)) == 1


def test_a_roles_credentials_are_fetched_again_before_they_expire(local_s3):
    """900 s (STS's shortest session) is inside botocore's 15-minute advisory window from the
    start, so every call finds them about to expire and assumes the role again: the refresh
    path, exercised for real."""
    prod = Connection(
        name="prod",
        region="us-west-2",
        role_arn="arn:aws:iam::333333333333:role/BedrockDashboard",
        duration_seconds=900,
        sts_endpoint_url=local_s3.url,
    )
    first = sts_get_caller_identity(connection=prod)
    second = sts_get_caller_identity(connection=prod)

    assumed = moto_assumed_roles(local_s3.url)
    assert len(assumed) == 2
    assert assumed[0]["access_key_id"] != assumed[1]["access_key_id"]
    assert (
        first.arn
        == second.arn
        == ("arn:aws:sts::333333333333:assumed-role/BedrockDashboard/bedrock-dashboard")
    )


def test_one_role_session_serves_all_of_a_connections_clients(local_s3, local_bedrock):
    """Bedrock, S3 and STS clients of one connection share its credentials: one AssumeRole."""
    prod = Connection(
        name="prod",
        region="us-east-1",
        role_arn="arn:aws:iam::333333333333:role/BedrockDashboard",
        bedrock_endpoint_url=local_bedrock.url,
        s3_endpoint_url=local_s3.url,
        sts_endpoint_url=local_s3.url,
    )
    sts_get_caller_identity(connection=prod)
    list(bedrock.iter_evaluation_job_pages(connection=prod))
    s3_create_bucket(bucket="outputs", connection=prod)
    assert len(moto_assumed_roles(local_s3.url)) == 1


def test_a_role_from_a_source_profile_needs_that_profile(local_s3):
    prod = Connection(
        name="prod",
        region="us-west-2",
        role_arn="arn:aws:iam::333333333333:role/BedrockDashboard",
        source_profile="missing",
        sts_endpoint_url=local_s3.url,
    )
    with pytest.raises(errors.CredentialsError, match=r"profile \(missing\)"):
        sts_get_caller_identity(connection=prod)
    assert moto_assumed_roles(local_s3.url) == []


def test_a_role_from_a_source_profile_is_assumed(local_s3, aws_env):
    key, secret = moto_user(local_s3.url, account="222222222222", name="pat")
    write(
        aws_env / "credentials",
        f"[ops]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n",
    )
    prod = Connection(
        name="prod",
        region="us-west-2",
        role_arn="arn:aws:iam::333333333333:role/BedrockDashboard",
        source_profile="ops",
        sts_endpoint_url=local_s3.url,
    )
    assert sts_get_caller_identity(connection=prod).account == "333333333333"


def test_a_role_with_no_source_credentials_and_aws_sts_is_a_credentials_error():
    prod = Connection(name="prod", region="us-west-2", role_arn="arn:aws:iam::333333333333:role/R")
    with pytest.raises(errors.CredentialsError) as refused:
        sts_get_caller_identity(connection=prod)
    assert refused.value.code == "NoCredentials"


def test_an_sts_that_does_not_answer_is_unreachable_not_a_crash():
    dead = f"http://127.0.0.1:{free_port()}"
    for connection in (
        Connection(name="chain", region="us-east-1", sts_endpoint_url=dead),
        Connection(
            name="prod",
            region="us-east-1",
            role_arn="arn:aws:iam::333333333333:role/R",
            sts_endpoint_url=dead,
        ),
    ):
        with pytest.raises(errors.EndpointUnreachableError):
            sts_get_caller_identity(connection=connection, timeout=1)


def test_a_failed_role_refresh_during_a_bedrock_call_says_so(local_bedrock):
    """The role's STS is down: the Bedrock call fails as unreachable, blaming the role."""
    prod = Connection(
        name="prod",
        region="us-east-1",
        role_arn="arn:aws:iam::333333333333:role/R",
        bedrock_endpoint_url=local_bedrock.url,
        sts_endpoint_url=f"http://127.0.0.1:{free_port()}",
    )
    with pytest.raises(errors.EndpointUnreachableError):
        list(bedrock.iter_evaluation_job_pages(connection=prod))


def test_endpoint_overrides_send_each_service_where_the_connection_says(
    local_s3, local_bedrock, settings
):
    # The plain settings point nowhere: only the connection's overrides can answer.
    settings.BEDROCK_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    settings.S3_ENDPOINT_URL = settings.BEDROCK_ENDPOINT_URL
    local = Connection(
        name="local",
        region=local_bedrock.region,
        bedrock_endpoint_url=local_bedrock.url,
        s3_endpoint_url=local_s3.url,
        sts_endpoint_url=local_s3.url,
    )
    s3_create_bucket(bucket="evals", connection=local)
    s3_put_object(bucket="evals", key="out/a.jsonl", body=b"{}\n", connection=local)
    assert [o["key"] for o in s3_list_objects(bucket="evals", prefix="out/", connection=local)] == [
        "out/a.jsonl"
    ]
    arn = bedrock.create_evaluation_job(connection=local, **automated_request("over-ride"))
    pages = list(bedrock.iter_evaluation_job_pages(connection=local))
    assert [s["jobArn"] for page in pages for s in page] == [arn]
    assert bedrock.get_evaluation_job(identifier=arn, connection=local)["jobName"] == "over-ride"

    with pytest.raises(errors.EndpointUnreachableError):
        bedrock.ping(timeout=1)  # no connection: the settings' endpoint, which is dead


def test_no_connection_means_the_one_from_settings(local_bedrock):
    assert bedrock.get_client() is bedrock.get_client(connection=settings_connection())
    assert bedrock.get_client("s3") is bedrock.get_client("s3", connection=settings_connection())
    conf = bedrock.client_settings()
    assert (conf["region"], conf["endpoint_url"]) == (local_bedrock.region, local_bedrock.url)
    bedrock.ping(timeout=2)


def test_clients_are_per_connection(local_bedrock):
    one = Connection(name="one", region="us-east-1", bedrock_endpoint_url=local_bedrock.url)
    two = Connection(name="two", region="eu-west-1", bedrock_endpoint_url=local_bedrock.url)
    assert bedrock.get_client(connection=one) is bedrock.get_client(connection=one)
    assert bedrock.get_client(connection=one) is not bedrock.get_client(connection=two)
    assert bedrock.get_client(connection=two).meta.region_name == "eu-west-1"
