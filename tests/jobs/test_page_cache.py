"""jobs/page_cache.py: what a page reads on every request, cached a few seconds and dropped as
soon as it is written."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs import locks, page_cache, sync
from jobs.models import SyncRun
from jobs.permissions import OPERATE

pytestmark = pytest.mark.django_db

URL = "/evaluation-jobs/"


def user_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL).status_code == 200
    return [q["sql"] for q in ctx if "auth_" in q["sql"]]


def test_the_session_user_and_permissions_are_read_once_then_cached(viewer_client):
    assert user_queries(viewer_client)  # the first page reads them
    assert user_queries(viewer_client) == []  # the next ones do not


def test_joining_a_group_takes_effect_at_once(viewer_client, viewer):
    viewer_client.get(URL)
    assert "New evaluation job" not in viewer_client.get(URL).content.decode()
    viewer.groups.add(Group.objects.get(name="Operators"))
    assert "New evaluation job" in viewer_client.get(URL).content.decode()
    viewer.groups.remove(Group.objects.get(name="Operators"))
    assert "New evaluation job" not in viewer_client.get(URL).content.decode()


def test_a_deactivated_user_is_signed_out_at_once(viewer_client, viewer):
    viewer_client.get(URL)
    viewer.is_active = False
    viewer.save()
    response = viewer_client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_backend_answers_like_django_s(viewer, operator):
    backend = page_cache.CachedModelBackend()
    assert not backend.has_perm(viewer, OPERATE) and backend.has_perm(operator, OPERATE)
    assert backend.get_user(viewer.pk) == viewer and backend.get_user(10**9) is None


def test_the_sync_header_is_cached_and_dropped_when_a_sweep_ends_or_a_lock_changes(
    viewer_client,
):
    assert "Not synced with Bedrock yet." in viewer_client.get(URL).content.decode()
    with CaptureQueriesContext(connection) as ctx:
        viewer_client.get(URL)
    assert not [q for q in ctx if "jobs_syncrun" in q["sql"] or "jobs_tasklock" in q["sql"]]
    now = timezone.now()
    SyncRun.objects.create(kind="evaluation_jobs", started_at=now, finished_at=now)
    assert "Synced" in viewer_client.get(URL).content.decode()
    lease = locks.acquire(sync.KINDS["evaluation_jobs"].lock_name("default"), ttl=60)
    assert "Syncing with Bedrock" in viewer_client.get(URL).content.decode()
    lease.release()
    assert "Syncing with Bedrock" not in viewer_client.get(URL).content.decode()
