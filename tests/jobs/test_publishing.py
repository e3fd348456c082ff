"""jobs/publishing.py: every task name it publishes is a registered task, services never
import jobs.tasks, and a publish waits for the commit and gives up quickly on a dead broker."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest

from dashboard.celery import app
from jobs import publishing
from tests.conftest import free_port

JOBS = Path(publishing.__file__).resolve().parent


def published_names() -> list[str]:
    names = [publishing.SUBMISSION_ATTEMPT, publishing.DELETION_BATCH_RUN]
    names += [publishing.SYNC_SWEEP, publishing.SYNC_DESCRIBE_MISSING]
    return names + list(publishing.SYNC.values()) + list(publishing.DESCRIBE_MISSING.values())


def test_every_published_name_is_a_registered_task():
    import jobs.tasks  # noqa: F401 - registers them

    missing = [name for name in published_names() if name not in app.tasks]
    assert missing == []


def test_no_module_but_the_tasks_imports_jobs_tasks():
    importers = []
    for path in JOBS.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (
                node.module == "jobs.tasks"
                or (node.module == "jobs" and any(a.name == "tasks" for a in node.names))
            ):
                importers.append(str(path.relative_to(JOBS)))
            if isinstance(node, ast.Import) and any(a.name == "jobs.tasks" for a in node.names):
                importers.append(str(path.relative_to(JOBS)))
    assert importers == []


@pytest.mark.django_db
def test_a_publish_waits_for_the_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        publishing.publish(publishing.DELETION_BATCH_RUN, 1)
    assert len(callbacks) == 1


def test_with_the_broker_down_a_publish_fails_fast_and_quietly(settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    assert publishing.publish_now(publishing.SUBMISSION_ATTEMPT, 1, countdown=5) is False
    assert time.monotonic() - started < 3
