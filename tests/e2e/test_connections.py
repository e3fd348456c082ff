"""The Connections page in a browser: an Admin finds it in the navigation, checks a connection
that assumes a role through the local STS, and its row updates in place (htmx, strict CSP)."""

import textwrap

import pytest

# aws_env (autouse): boto3 sees no host credentials.
from tests.jobs.connections.support import aws_env, write  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_checks_a_connection_and_its_row_updates(
    page,
    live_server,
    admin_user,
    login,
    local_s3,
    settings,
    tmp_path,
    shot,
):
    text = textwrap.dedent(
        f"""\
        [dev]
        region = "us-east-1"
        sts_endpoint_url = "{local_s3.url}"

        [prod]
        region = "eu-west-1"
        role_arn = "arn:aws:iam::333333333333:role/BedrockDashboard"
        sts_endpoint_url = "{local_s3.url}"
        """
    )
    settings.DASHBOARD_CONNECTIONS = str(write(tmp_path / "connections.toml", text))
    login(page, admin_user, "pw-ada-admin")

    page.locator("nav.nav").get_by_role("link", name="Connections").click()
    page.wait_for_url(f"{live_server.url}/connections/")
    prod = page.locator("#connection-prod")
    assert "not checked yet" in prod.inner_text()
    assert "assume role arn:aws:iam::333333333333:role/BedrockDashboard" in prod.inner_text()

    prod.get_by_role("button", name="Check now").click()
    page.wait_for_function(
        "() => document.querySelector('#connection-prod').innerText.includes('assumed-role')"
    )
    row = page.locator("#connection-prod").inner_text()
    assert "333333333333" in row
    assert "arn:aws:sts::333333333333:assumed-role/BedrockDashboard/bedrock-dashboard" in row
    assert page.url == f"{live_server.url}/connections/"  # swapped in place, no navigation
    assert "not checked yet" in page.locator("#connection-dev").inner_text()
    shot(page, "connections")


def test_each_connection_shows_its_own_last_sweeps_and_a_failed_ones_error(
    page, live_server, admin_user, login, settings, tmp_path, shot
):
    from datetime import timedelta

    from django.utils import timezone

    from jobs.models import SyncRun

    text = '[dev]\nregion = "us-east-1"\n\n[prod]\nregion = "eu-west-1"\n'
    settings.DASHBOARD_CONNECTIONS = str(write(tmp_path / "connections.toml", text))
    now = timezone.now()
    SyncRun.objects.create(
        kind="evaluation_jobs",
        connection="dev",
        started_at=now - timedelta(seconds=40),
        finished_at=now - timedelta(seconds=38),
    )
    SyncRun.objects.create(
        kind="evaluation_jobs",
        connection="prod",
        started_at=now - timedelta(seconds=20),
        finished_at=now - timedelta(seconds=20),
        error="User: arn:aws:sts::210987654321:assumed-role/DashboardRole/session is not "
        "authorized to perform: bedrock:ListEvaluationJobs",
    )
    login(page, admin_user, "pw-ada-admin")

    for width, height, name in ((1440, 900, "connections-sweeps"), (390, 844, "connections-390")):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/connections/")
        dev = page.locator("#connection-dev").inner_text()
        prod = page.locator("#connection-prod").inner_text()
        assert "Evaluation jobs: ok" in dev and "not authorized" not in dev
        assert "Evaluation jobs: failed" in prod and "not authorized" in prod
        shot(page, name)
