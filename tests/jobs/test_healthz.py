"""/healthz: database, broker and Bedrock, each checked for real; details after login only,
and a kept probe so that a monitor hammering it does not become Bedrock traffic."""

import pytest
from django.test import Client

from jobs import health
from tests.conftest import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_probe():
    health.forget()
    yield
    health.forget()


def test_all_answer_gives_200(viewer_client, local_bedrock):
    response = viewer_client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["failed"] == []
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database",
        "broker",
        "bedrock",
    }
    assert body["checks"]["bedrock"]["detail"] == local_bedrock.url


def test_anonymous_callers_get_up_or_down_only(settings, local_bedrock):
    client = Client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    settings.BEDROCK_ENDPOINT_URL = dead = f"http://127.0.0.1:{free_port()}"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "fail"}
    assert dead not in response.content.decode()


def test_a_dead_broker_gives_503_naming_it(viewer_client, settings, local_bedrock):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = viewer_client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["failed"] == ["broker"]
    assert "Error" in body["checks"]["broker"]["error"]


def test_a_dead_bedrock_endpoint_gives_503_naming_it(viewer_client, settings):
    settings.BEDROCK_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    response = viewer_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["bedrock"]


def test_a_broker_password_never_shows(viewer_client, settings, local_bedrock):
    settings.CELERY_BROKER_URL = "redis://:hunter2-secret@127.0.0.1:6379/0"
    body = viewer_client.get("/healthz").content.decode()
    assert "hunter2" not in body


def test_healthz_reports_when_no_worker_has_run_the_heartbeat(viewer_client, local_bedrock):
    body = viewer_client.get("/healthz").json()
    assert body["worker_and_beat"]["ok"] is False
    assert "no heartbeat" in body["worker_and_beat"]["note"]


def test_a_hundred_checks_make_one_bedrock_call(viewer_client, local_bedrock):
    client = Client()
    local_bedrock.reset_call_counts()
    for i in range(100):
        response = (client if i % 2 else viewer_client).get("/healthz")
        assert response.status_code == 200
    assert sum(local_bedrock.call_counts().values()) == 1


def test_the_probe_is_taken_again_after_its_interval(viewer_client, settings, local_bedrock):
    settings.HEALTH_PROBE_SECONDS = 0
    local_bedrock.reset_call_counts()
    for _ in range(3):
        assert viewer_client.get("/healthz").status_code == 200
    assert sum(local_bedrock.call_counts().values()) == 3


def test_a_broker_that_dies_is_seen_on_the_next_probe(viewer_client, settings, local_bedrock):
    """The pooled broker connection is checked with a round trip, not trusted."""
    import subprocess

    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    try:
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
        settings.HEALTH_PROBE_SECONDS = 0
        import time

        deadline = time.monotonic() + 10
        while viewer_client.get("/healthz").status_code != 200:
            assert time.monotonic() < deadline, "redis-server never came up"
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=10)
    body = viewer_client.get("/healthz").json()
    assert body["failed"] == ["broker"]


def test_healthz_is_exempt_from_the_https_redirect(settings, local_bedrock):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
