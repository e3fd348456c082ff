"""Settings are read from the environment once, at import: each case imports them afresh in a
child process with exactly the variables under test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VARIABLES = [
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "BEDROCK_ENDPOINT_URL",
    "AWS_REGION",
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
    "DASHBOARD_VAR_DIR",
    "DJANGO_SECURE_COOKIES",
    "DJANGO_SSL_REDIRECT",
    "DJANGO_HSTS_SECONDS",
    "BEDROCK_RETRY_MODE",
    "BEDROCK_MAX_ATTEMPTS",
]
PROBE = """
import json
import django
from django.conf import settings
django.setup()
from dashboard.celery import app
db = settings.DATABASES["default"]
print(json.dumps({
    "debug": settings.DEBUG,
    "engine": db["ENGINE"], "db_name": str(db["NAME"]), "db_host": db.get("HOST", ""),
    "db_options": db.get("OPTIONS", {}),
    "broker": settings.CELERY_BROKER_URL, "celery_broker": app.conf.broker_url,
    "endpoint": settings.BEDROCK_ENDPOINT_URL, "region": settings.AWS_REGION,
    "secret_key": settings.SECRET_KEY, "allowed_hosts": settings.ALLOWED_HOSTS,
    "secure_cookies": settings.SESSION_COOKIE_SECURE,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT, "hsts": settings.SECURE_HSTS_SECONDS,
    "acks_late": app.conf.task_acks_late,
    "reject_on_worker_lost": app.conf.task_reject_on_worker_lost,
    "visibility_timeout": app.conf.broker_transport_options.get("visibility_timeout"),
    "time_limit": app.conf.task_time_limit,
    "accept": list(app.conf.accept_content), "serializer": app.conf.task_serializer,
    "beat": sorted(app.conf.beat_schedule),
    "transport_options": app.conf.broker_transport_options,
}))
"""


def load(**env: str) -> dict:
    child_env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    child_env |= {"DJANGO_SETTINGS_MODULE": "dashboard.settings", **env}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode:
        raise RuntimeError(result.stderr.strip().splitlines()[-1])
    return json.loads(result.stdout)


def test_embedded_defaults_with_no_variable_set():
    conf = load()
    assert conf["engine"] == "django.db.backends.sqlite3"
    assert conf["db_name"] == str(ROOT / "var" / "db.sqlite3")
    assert conf["broker"] == conf["celery_broker"] == "redis://127.0.0.1:6379/0"
    assert conf["endpoint"] is None
    assert conf["region"] == "us-east-1"
    assert conf["debug"] is True
    assert conf["allowed_hosts"] == ["localhost", "127.0.0.1", "[::1]"]
    assert conf["secure_cookies"] is False


def test_database_url_switches_to_postgresql():
    conf = load(DATABASE_URL="postgres://dash@db.internal:5433/bedrock")
    assert conf["engine"] == "django.db.backends.postgresql"
    assert (conf["db_name"], conf["db_host"]) == ("bedrock", "db.internal")


def test_var_dir_moves_the_sqlite_database(tmp_path):
    assert load(DASHBOARD_VAR_DIR=str(tmp_path))["db_name"] == str(tmp_path / "db.sqlite3")


def test_broker_url_is_used_by_celery():
    conf = load(CELERY_BROKER_URL="redis://cache.internal:6380/3")
    assert conf["broker"] == conf["celery_broker"] == "redis://cache.internal:6380/3"


def test_filesystem_broker_keeps_its_queue_under_var(tmp_path):
    conf = load(CELERY_BROKER_URL="filesystem://", DASHBOARD_VAR_DIR=str(tmp_path))
    assert conf["transport_options"]["data_folder_in"] == str(tmp_path / "celery" / "queue")


def test_bedrock_endpoint_and_region():
    conf = load(BEDROCK_ENDPOINT_URL="http://127.0.0.1:4599", AWS_REGION="eu-west-2")
    assert (conf["endpoint"], conf["region"]) == ("http://127.0.0.1:4599", "eu-west-2")


def test_production_refuses_the_development_secret_key():
    with pytest.raises(RuntimeError, match="DJANGO_SECRET_KEY must be set"):
        load(DJANGO_DEBUG="0")


def test_production_refuses_a_short_secret_key():
    with pytest.raises(RuntimeError, match="at least 50 characters"):
        load(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 49)
    assert load(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50)["debug"] is False


def test_production_with_its_own_key_and_hosts():
    conf = load(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="s3cret-" * 8,
        DJANGO_ALLOWED_HOSTS="dash.example.com, .internal",
    )
    assert conf["debug"] is False
    assert conf["secret_key"] == "s3cret-" * 8
    assert conf["allowed_hosts"] == ["dash.example.com", ".internal"]
    assert conf["secure_cookies"] is True


def test_production_allows_no_host_unless_told():
    assert load(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="k" * 50)["allowed_hosts"] == []


def test_a_malformed_boolean_is_refused_with_its_name():
    with pytest.raises(RuntimeError, match="DJANGO_DEBUG must be true or false"):
        load(DJANGO_DEBUG="maybe")


def test_a_malformed_number_is_refused_with_its_name():
    with pytest.raises(RuntimeError, match="BEDROCK_MAX_ATTEMPTS must be a whole number"):
        load(BEDROCK_MAX_ATTEMPTS="many")


def test_celery_is_configured_for_reliability():
    conf = load()
    assert conf["acks_late"] is True
    assert conf["reject_on_worker_lost"] is True
    # Redis redelivers unacknowledged tasks after the visibility timeout: it must outlast
    # the longest a task may run, or a running task would be delivered twice.
    assert conf["visibility_timeout"] > conf["time_limit"]
    assert conf["accept"] == ["json"] and conf["serializer"] == "json"
    assert "heartbeat" in conf["beat"]


def test_a_sqlite_database_url_keeps_the_concurrency_options(tmp_path):
    conf = load(DATABASE_URL=f"sqlite:///{tmp_path}/other.sqlite3")
    assert conf["engine"] == "django.db.backends.sqlite3"
    assert conf["db_options"]["transaction_mode"] == "IMMEDIATE"
    assert conf["db_options"]["timeout"] == 20


def test_production_is_https_only_unless_told_otherwise():
    prod = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "k" * 50}
    conf = load(**prod)
    assert (conf["ssl_redirect"], conf["hsts"]) == (True, 31_536_000)
    conf = load(**prod, DJANGO_SSL_REDIRECT="0", DJANGO_HSTS_SECONDS="0")
    assert (conf["ssl_redirect"], conf["hsts"]) == (False, 0)
    conf = load()
    assert (conf["ssl_redirect"], conf["hsts"]) == (False, 0)


def _production(tmp_path) -> dict[str, str]:
    # Nothing of the test process's own DJANGO_* (the browser tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE, which the deploy check rightly refuses).
    env = {
        k: v for k, v in os.environ.items() if k not in VARIABLES and not k.startswith("DJANGO_")
    }
    return env | {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "a-production-key-of-enough-length-" + "x" * 30,
        "DJANGO_ALLOWED_HOSTS": "dash.example.com",
        "DASHBOARD_VAR_DIR": str(tmp_path),
    }


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_nothing_in_production(tmp_path):
    env = _production(tmp_path)
    missing = _manage(env, "check", "--deploy")
    assert missing.returncode != 0
    assert "Static files have not been collected" in missing.stderr
    assert _manage(env, "collectstatic", "--noinput", "-v", "0").returncode == 0
    result = _manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_web_server_refuses_to_start_without_collected_static_files(tmp_path):
    env = _production(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", "import dashboard.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "run `python manage.py collectstatic --noinput`" in result.stderr
    assert _manage(env, "collectstatic", "--noinput", "-v", "0").returncode == 0
    started = subprocess.run(
        [sys.executable, "-c", "import dashboard.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 0, started.stderr
