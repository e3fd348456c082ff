"""compose.yaml cannot be run here (no Docker engine), so check it against the project: every
service's command must name something the project really has."""

from __future__ import annotations

import importlib
import shlex
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands
from django.urls import resolve

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["web", "worker", "beat", "bedrock", "s3"]


def argv(service: dict) -> list[list[str]]:
    """The command lines a service runs (a `sh -c "a && b"` is split into a and b)."""
    command = service["command"]
    words = command if isinstance(command, list) else shlex.split(command)
    if words[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in words[2].split("&&")]
    return [words]


def check_command(words: list[str]) -> None:
    if words[:2] == ["python", "manage.py"]:
        assert (ROOT / "manage.py").exists()
        assert words[2] in get_commands(), f"no management command {words[2]!r}"
    elif words[0] == "celery":
        assert words[1] == "-A"
        app = importlib.import_module(f"{words[2]}.celery").app
        assert words[3] in {"worker", "beat"}, words
        assert app.main == words[2]
    elif words[0] == "gunicorn":
        module, attr = words[1].split(":")
        assert callable(getattr(importlib.import_module(module), attr))
    else:
        pytest.fail(f"unknown command {words}")


def test_the_expected_services():
    assert set(SERVICES) == {"postgres", "redis", "web", "worker", "beat", "bedrock", "s3"}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_app_command_refers_to_something_real(name):
    for words in argv(SERVICES[name]):
        check_command(words)


def test_app_services_share_one_environment_and_image():
    envs = [SERVICES[name]["environment"] for name in APP_SERVICES]
    assert all(env == envs[0] for env in envs)
    assert envs[0]["DATABASE_URL"].startswith("postgres://")
    assert envs[0]["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert envs[0]["DJANGO_DEBUG"] == "0"
    assert {SERVICES[name]["build"] for name in APP_SERVICES} == {"."}
    assert (ROOT / "Dockerfile").exists()


def test_redis_persists_queued_work():
    command = SERVICES["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert SERVICES["redis"]["volumes"]


def test_health_checks():
    for name in ["postgres", "redis", "web", "worker", "bedrock", "s3"]:
        assert SERVICES[name]["healthcheck"]["test"], name
    for name in ["web", "worker", "beat"]:
        assert SERVICES[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert SERVICES[name]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_web_healthcheck_url_exists():
    test = SERVICES["web"]["healthcheck"]["test"][-1]
    url = test.split("urlopen('")[1].split("')")[0]
    path = "/" + url.split("/", 3)[3]
    assert resolve(path).url_name == "login"


def test_local_bedrock_only_in_the_demo_profile():
    assert SERVICES["bedrock"]["profiles"] == ["demo"]
    assert all("profiles" not in SERVICES[name] for name in ["web", "worker", "beat"])


def test_demo_local_s3_receives_the_local_bedrock_outputs_and_stays_off_the_network():
    s3 = SERVICES["s3"]
    assert s3["profiles"] == ["demo"]
    (words,) = argv(s3)
    port = words[words.index("--port") + 1]
    # Published on the host's loopback at most: an unauthenticated S3 is not for the network.
    assert all(str(p).startswith("127.0.0.1:") for p in s3.get("ports", []))
    bedrock = argv(SERVICES["bedrock"])[0]
    assert bedrock[bedrock.index("--s3-endpoint-url") + 1] == f"http://s3:{port}"
    assert SERVICES["bedrock"]["depends_on"]["s3"]["condition"] == "service_healthy"
    # The app services read S3_ENDPOINT_URL (the demo sets it to the local S3).
    assert SERVICES["web"]["environment"]["S3_ENDPOINT_URL"] == "${S3_ENDPOINT_URL:-}"
    assert "S3_ENDPOINT_URL=http://s3:" + port in (ROOT / "README.md").read_text()


def test_web_serves_static_files_through_whitenoise():
    from django.conf import settings

    assert "whitenoise.middleware.WhiteNoiseMiddleware" in settings.MIDDLEWARE
    assert "collectstatic" in (ROOT / "Dockerfile").read_text()


def test_the_local_bedrock_is_published_on_loopback_at_most():
    """Its /_local/ control API resets and seeds it: nothing beyond this machine may reach it
    (compose publishes "4599:4599" on every interface)."""
    for name in ("bedrock", "s3"):
        for port in SERVICES[name].get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
