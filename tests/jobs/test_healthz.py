"""/healthz: database, broker and Bedrock, each checked for real."""

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.django_db


def test_all_answer_gives_200(client, local_bedrock):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["failed"] == []
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database",
        "broker",
        "bedrock",
    }
    assert body["checks"]["bedrock"]["detail"] == local_bedrock.url


def test_a_dead_broker_gives_503_naming_it(client, settings, local_bedrock):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["failed"] == ["broker"]
    assert "Error" in body["checks"]["broker"]["error"]


def test_a_dead_bedrock_endpoint_gives_503_naming_it(client, settings):
    settings.BEDROCK_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["bedrock"]


def test_a_broker_password_never_shows(client, settings, local_bedrock):
    settings.CELERY_BROKER_URL = "redis://:hunter2-secret@127.0.0.1:6379/0"
    body = client.get("/healthz").content.decode()
    assert "hunter2" not in body


def test_healthz_reports_when_no_worker_has_run_the_heartbeat(client, local_bedrock):
    body = client.get("/healthz").json()
    assert body["worker_and_beat"]["ok"] is False
    assert "no heartbeat" in body["worker_and_beat"]["note"]
