"""The cache is the real Redis; sessions are read from it, and a Redis that is down is a miss:
every page still works, from the database."""

from __future__ import annotations

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard import cache as resilient
from tests.conftest import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def unpaused():
    resilient.ResilientRedisCache._paused_until = 0.0
    yield
    resilient.ResilientRedisCache._paused_until = 0.0


def sign_in(client, user):
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": "pw-" + user.username}
    )
    assert response.status_code == 302


def session_queries(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in queries if "django_session" in q["sql"]]


def test_the_cache_is_redis_and_round_trips():
    assert isinstance(caches["default"], resilient.ResilientRedisCache)
    cache.set("k", {"a": 1}, 30)
    assert cache.get("k") == {"a": 1}


def test_a_signed_in_page_reads_its_session_from_the_cache(client, viewer):
    sign_in(client, viewer)
    assert session_queries(client, "/") == []


def test_with_redis_down_pages_work_from_the_database(client, viewer, settings):
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/1"}
    }
    sign_in(client, viewer)
    assert session_queries(client, "/")  # read from the database instead
    assert cache.get("anything", "fallback") == "fallback"
    assert cache.set("k", 1) is None
