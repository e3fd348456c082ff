"""connection_check (who STS says each connection is, recorded) and the Connections page
(Admins only): four connections through the local STS, failures recorded beside the last
identity, hostile input to "Check now", and no secret in the database, the logs or the page."""

from __future__ import annotations

import io
import logging
import textwrap
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection, models
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs.connections import UnknownConnection
from jobs.connections.services import connection_check
from jobs.models import ConnectionStatus, SyncRun
from tests.conftest import free_port
from tests.jobs.connections.support import moto_assumed_roles, moto_user, write

pytestmark = pytest.mark.django_db

ENV_SECRET_MARK = "EnvSecret"
PROFILE_SECRET_MARK = "ProfileSecret"
EXTERNAL_ID = "ext-id-9c41d7"


@pytest.fixture
def fleet(local_s3, local_bedrock, aws_env, monkeypatch, settings, tmp_path):
    """Four connections (default chain, profile, role, endpoint overrides) in a file that
    settings name, with credentials for the first two in the environment and the shared
    credentials file. Returns the secrets a test must never find anywhere."""
    env_key, env_secret = moto_user(local_s3.url, account="111111111111", name="dana")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", env_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", env_secret)
    key, secret = moto_user(local_s3.url, account="222222222222", name="pat")
    write(
        aws_env / "credentials",
        f"[team]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
        f"aws_session_token = {PROFILE_SECRET_MARK}SessionToken\n",
    )

    def declare(*, prod_sts: str = local_s3.url) -> None:
        url = local_s3.url
        text = textwrap.dedent(
            f"""\
            [chain]
            region = "us-east-1"
            sts_endpoint_url = "{url}"

            [team]
            region = "eu-west-1"
            profile = "team"
            sts_endpoint_url = "{url}"

            [prod]
            region = "us-west-2"
            role_arn = "arn:aws:iam::333333333333:role/BedrockDashboard"
            external_id = "{EXTERNAL_ID}"
            role_session_name = "dash-prod"
            sts_endpoint_url = "{prod_sts}"

            [local]
            region = "ap-southeast-2"
            bedrock_endpoint_url = "{local_bedrock.url}"
            s3_endpoint_url = "{url}"
            sts_endpoint_url = "{url}"
            """
        )
        settings.DASHBOARD_CONNECTIONS = str(write(tmp_path / f"c{free_port()}.toml", text))

    declare()
    return {"env_secret": env_secret, "profile_secret": secret, "declare": declare}


def test_a_check_records_who_sts_says_each_connection_is(fleet):
    accounts = {name: connection_check(name=name) for name in ("chain", "team", "prod", "local")}

    assert {n: s.account for n, s in accounts.items()} == {
        "chain": "111111111111",
        "team": "222222222222",
        "prod": "333333333333",
        "local": "111111111111",  # the default chain again: the environment's user
    }
    assert accounts["prod"].caller_arn == (
        "arn:aws:sts::333333333333:assumed-role/BedrockDashboard/dash-prod"
    )
    assert accounts["team"].caller_arn == "arn:aws:iam::222222222222:user/pat"
    for status in ConnectionStatus.objects.all():
        assert status.ok and status.error_code == "" and status.checked_at
        assert status.identified_at == status.checked_at


def test_a_failed_check_records_the_error_and_keeps_the_last_identity(fleet):
    learned = connection_check(name="prod")
    fleet["declare"](prod_sts=f"http://127.0.0.1:{free_port()}")  # its STS is gone now

    status = connection_check(name="prod", timeout=1)

    assert status.error_code == "EndpointConnectionError"
    assert "Could not connect" in status.error_message
    assert status.account == "333333333333"  # kept, with when it was learned
    assert status.identified_at == learned.identified_at < status.checked_at
    assert not status.ok
    assert status.fingerprint != learned.fingerprint


def test_checking_an_unknown_connection_is_refused(fleet):
    with pytest.raises(UnknownConnection):
        connection_check(name="default")
    assert not ConnectionStatus.objects.exists()


def test_no_secret_reaches_the_database_the_logs_or_the_page(
    fleet, local_s3, admin_client_, caplog
):
    caplog.set_level(logging.DEBUG)
    for name in ("chain", "team", "prod", "local"):
        admin_client_.post(f"/connections/{name}/check/")
        admin_client_.post(f"/connections/{name}/check/", HTTP_HX_REQUEST="true")
    page = admin_client_.get("/connections/").content.decode()
    assert ConnectionStatus.objects.filter(account="333333333333").exists()

    temporary = [
        value
        for role in moto_assumed_roles(local_s3.url)
        for value in (role["secret_access_key"], role["session_token"])
    ]
    assert len(temporary) == 2  # one AssumeRole: both checks share the role's session
    secrets = [
        fleet["env_secret"],
        fleet["profile_secret"],
        f"{PROFILE_SECRET_MARK}SessionToken",
        *temporary,
        "FQoGZXIvYXdzEBYaD",  # the start of every session token moto hands out
    ]

    stored = _every_text_value_in_the_database()
    for secret in secrets:
        assert secret not in stored, "a secret in the database"
        assert secret not in caplog.text, "a secret in the logs"
        assert secret not in page, "a secret on the page"
    assert EXTERNAL_ID not in page and EXTERNAL_ID not in stored and EXTERNAL_ID not in caplog.text
    # The scans would see them: the page, the table and the log hold what they should.
    assert "333333333333" in page and 'profile <span class="mono">team</span>' in page
    assert "assumed-role/BedrockDashboard/dash-prod" in stored
    assert "connection prod: account 333333333333" in caplog.text


def _every_text_value_in_the_database() -> str:
    values: list[str] = []
    for model in apps.get_models():
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        if fields and model._meta.managed:
            for row in model.objects.values_list(*fields):
                values.extend(str(v) for v in row if v is not None)
    return "\n".join(values)


# --- The page -------------------------------------------------------------------------------


def test_admins_see_every_connection_with_its_identity_and_endpoints(fleet, admin_client_):
    connection_check(name="prod")
    response = admin_client_.get("/connections/")
    assert response.status_code == 200
    page = response.content.decode()
    for name in ("chain", "team", "prod", "local"):
        assert f'id="connection-{name}"' in page
        assert f'action="/connections/{name}/check/"' in page
    assert "default credential chain" in page
    assert "arn:aws:iam::333333333333:role/BedrockDashboard" in page
    assert "(with external id)" in page
    assert "arn:aws:sts::333333333333:assumed-role/BedrockDashboard/dash-prod" in page
    assert "ap-southeast-2" in page and "not checked yet" in page
    # Bedrock and S3 of the three connections without overrides.
    assert page.count('<span class="muted">AWS</span>') == 6
    assert 'href="/connections/"' in page  # the navigation link


@pytest.mark.parametrize("role", ["viewer_client", "operator_client"])
def test_other_roles_are_refused(fleet, role, request):
    client = request.getfixturevalue(role)
    assert client.get("/connections/").status_code == 403
    assert client.post("/connections/prod/check/").status_code == 403
    assert 'href="/connections/"' not in client.get("/evaluation-jobs/").content.decode()
    assert not ConnectionStatus.objects.exists()


def test_a_user_in_no_group_is_refused(fleet, client, nobody):
    client.force_login(nobody)
    assert client.get("/connections/").status_code == 403
    assert client.post("/connections/prod/check/").status_code == 403


def test_check_now_records_and_comes_back_to_the_page(fleet, admin_client_):
    response = admin_client_.post("/connections/team/check/", follow=True)
    assert response.redirect_chain == [("/connections/", 302)]
    page = response.content.decode()
    assert "team is account 222222222222" in page
    assert ConnectionStatus.objects.get(name="team").account == "222222222222"


def test_check_now_with_htmx_answers_the_row(fleet, admin_client_):
    response = admin_client_.post("/connections/prod/check/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    row = response.content.decode().strip()
    assert row.startswith('<tr id="connection-prod">') and row.endswith("</tr>")
    assert "assumed-role/BedrockDashboard/dash-prod" in row
    assert "<html" not in row


def test_check_now_shows_a_failure_on_the_page(fleet, admin_client_, aws_env):
    write(aws_env / "credentials", "")  # the profile is gone
    response = admin_client_.post("/connections/team/check/", follow=True)
    page = response.content.decode()
    assert "ProfileNotFound" in page and "could not be found" in page
    assert ConnectionStatus.objects.get(name="team").error_code == "ProfileNotFound"


@pytest.mark.parametrize(
    "name",
    [
        "default",
        "nope",
        "PROD",
        "prod%20",
        "prod%00",
        "%2e%2e",
        "%C3%A9",
        "x" * 5000,
        "prod'%20OR%201=1--",
        "%3Cscript%3E",
    ],
)
def test_check_now_for_an_unknown_name_is_404(fleet, admin_client_, name):
    response = admin_client_.post(f"/connections/{name}/check/")
    assert response.status_code == 404
    assert not ConnectionStatus.objects.exists()


def test_check_now_needs_post_and_csrf(fleet, admin_user):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.get("/connections/prod/check/").status_code == 405
    assert strict.post("/connections/prod/check/").status_code == 403
    assert not ConnectionStatus.objects.exists()


def test_the_list_page_takes_only_get(fleet, admin_client_):
    assert admin_client_.post("/connections/").status_code == 405


def test_without_a_file_the_page_shows_the_default_connection_and_its_sweeps(
    local_bedrock, admin_client_, settings
):
    settings.DASHBOARD_CONNECTIONS = None
    now = timezone.now()
    SyncRun.objects.create(
        kind="evaluation_jobs", started_at=now - timedelta(minutes=1), finished_at=now
    )
    SyncRun.objects.create(
        kind="import_jobs", started_at=now, finished_at=now, error="AccessDenied: no"
    )
    page = admin_client_.get("/connections/").content.decode()
    assert 'id="connection-default"' in page
    assert local_bedrock.url in page
    assert "Evaluation jobs: ok" in page
    assert 'Import jobs: <span class="form-error">failed</span>' in page
    assert 'Imported models: <span class="muted">never</span>' in page


def test_sweeps_are_not_attributed_to_connections_they_did_not_run_for(fleet, admin_client_):
    SyncRun.objects.create(kind="evaluation_jobs", started_at=timezone.now())
    page = admin_client_.get("/connections/").content.decode()
    assert "Evaluation jobs:" not in page
    assert page.count("not synced yet") == 4


def test_the_command_checks_every_connection_and_fails_if_one_does(fleet, aws_env):
    from django.core.management import CommandError, call_command

    write(aws_env / "credentials", "")  # team's profile is gone
    out = io.StringIO()
    with pytest.raises(CommandError, match="failed: team"):
        call_command("connection_check", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "chain: account 111111111111 as arn:aws:iam::111111111111:user/dana"
    assert lines[1].startswith("team: ProfileNotFound: ")
    assert lines[2].startswith("prod: account 333333333333 as arn:aws:sts::333333333333:")
    assert len(lines) == 4
    with pytest.raises(CommandError, match="no connection named 'nope'"):
        call_command("connection_check", "nope", stdout=io.StringIO())


def test_the_page_costs_the_same_queries_for_40_connections_as_for_2(
    admin_client_, settings, tmp_path
):
    def queries(count: int) -> int:
        text = "".join(f'[c{i:02d}]\nregion = "us-east-1"\n\n' for i in range(count))
        settings.DASHBOARD_CONNECTIONS = str(write(tmp_path / f"{count}.toml", text))
        ConnectionStatus.objects.bulk_create(
            ConnectionStatus(name=f"c{i:02d}", account="123456789012") for i in range(count)
        )
        SyncRun.objects.create(kind="evaluation_jobs", connection="c00", started_at=timezone.now())
        with CaptureQueriesContext(connection) as captured:
            page = admin_client_.get("/connections/").content.decode()
        assert page.count('class="check"') == count
        # Sweeps are per connection: only c00 has swept.
        assert page.count("Evaluation jobs:") == 1
        ConnectionStatus.objects.all().delete()
        SyncRun.objects.all().delete()
        return len(captured)

    admin_client_.get("/connections/")  # the session, cached from here on
    assert queries(40) == queries(2)
