"""Publishing Celery tasks: the one way product code hands work to a worker.

API (one call per task published)::

    from jobs import publishing

    publishing.publish(publishing.DELETION_BATCH_RUN, batch.pk)
    publishing.publish(publishing.SUBMISSION_ATTEMPT, submission.pk, countdown=30)
    published = publishing.publish_now(publishing.DELETION_BATCH_RUN, batch.pk)

- ``publish(task, *args, countdown=0) -> None`` sends after the current transaction commits
  (at once outside one): a task never runs before the rows it reads are visible, and a
  rolled-back request sends nothing.
- ``publish_now(task, *args, countdown=0) -> bool`` sends now (periodic resume tasks, which
  have nothing to wait for); False if the broker did not take it.
- ``publish_many(task, calls)`` / ``publish_many_now(task, calls) -> bool``: the same for
  several calls of one task (``calls``: a list of argument tuples) over one connection within
  one time bound, so a sweep that starts 20 fetches never waits 20 times for a dead broker.
- ``task`` is a task name from this module (or a Celery task object, for code that may import
  jobs.tasks: the tasks themselves). Arguments are ids, JSON-safe; ``countdown`` in seconds.
- Time-bounded: a publish gives up after PUBLISH_TIMEOUT seconds whatever happens (a person
  may be waiting for the page), with Celery's own retries off and short socket timeouts.
- Never raises for a broker that is down: it logs, and the work stays recorded in the
  database, pending, for the periodic resume task (beat) to publish again. Every task
  published here must therefore have such a sweep, or be harmless to lose.

Services name tasks by the constants below and never import jobs.tasks (which imports the
services); this module imports neither. To publish a new task: add its name here
("jobs.tasks.<function>"), and it is checked against the registered tasks by
tests/jobs/test_publishing.py.
"""

from __future__ import annotations

import logging
import threading
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

# Seconds one publish may take before it is left to the resume task.
PUBLISH_TIMEOUT = 1.5

# --- task names (the functions in jobs/tasks.py) -----------------------------------------------

# Sweeps of each kind of mirrored resource (jobs/sync.py), by sync kind: Refresh asks for one.
SYNC = {
    "evaluation_jobs": "jobs.tasks.evaluation_jobs_sync",
    "import_jobs": "jobs.tasks.import_jobs_sync",
    "imported_models": "jobs.tasks.imported_models_sync",
}
# Filling missing descriptions of each kind, after a first sweep.
DESCRIBE_MISSING = {
    "evaluation_jobs": "jobs.tasks.evaluation_jobs_describe_missing",
    "import_jobs": "jobs.tasks.import_jobs_describe_missing",
    "imported_models": "jobs.tasks.imported_models_describe_missing",
}
# One sweep, or one description fill, of one kind and one connection (args: kind, connection
# name): the kind's task above publishes one per connection when there are several. Their
# sweep is beat, which asks again on the interval.
SYNC_SWEEP = "jobs.tasks.sync_sweep"
SYNC_DESCRIBE_MISSING = "jobs.tasks.sync_describe_missing"
# Another attempt at a submission (jobs/submissions.py); its sweep: submissions_resume.
SUBMISSION_ATTEMPT = "jobs.tasks.submission_attempt"
# Reading one resource's tags into the mirror, when its page shows none or old ones.
TAGS_REFRESH = "jobs.tasks.mirror_tags_refresh"
# Work one deletion batch (jobs/deletions/); its sweep: deletion_batches_resume.
DELETION_BATCH_RUN = "jobs.tasks.deletion_batch_run"
# Read one completed evaluation job's S3 output (jobs/results/); its sweep:
# evaluation_results_pending.
RESULTS_FETCH = "jobs.tasks.evaluation_results_fetch"


def _name(task: Any) -> str:
    return task if isinstance(task, str) else task.name


def publish(task: Any, *args: Any, countdown: float = 0) -> None:
    """Publish `task` with `args` once the current transaction commits (see the module)."""
    name = _name(task)
    # robust: whatever goes wrong is logged, never turned into an error page.
    transaction.on_commit(lambda: publish_now(name, *args, countdown=countdown), robust=True)


def publish_now(task: Any, *args: Any, countdown: float = 0) -> bool:
    """Publish now, giving up after PUBLISH_TIMEOUT seconds. False if not published (yet: a
    publish still under way may land later, which the tasks' claims make harmless)."""
    return publish_many_now(task, [args], countdown=countdown)


def publish_many(task: Any, calls: list[tuple], *, countdown: float = 0) -> None:
    """Publish one call of `task` per argument tuple once the current transaction commits."""
    name, calls = _name(task), [tuple(call) for call in calls]
    if calls:
        # A partial, not a lambda: tests read what was published from the callback.
        transaction.on_commit(
            partial(publish_many_now, name, calls, countdown=countdown), robust=True
        )


def publish_many_now(task: Any, calls: list[tuple], *, countdown: float = 0) -> bool:
    """Publish every call now over one connection, all within PUBLISH_TIMEOUT seconds."""
    name, calls = _name(task), [tuple(call) for call in calls]
    if not calls:
        return True
    published: list[bool] = []
    thread = threading.Thread(
        target=lambda: published.append(_send(name, calls, countdown=countdown)),
        name=f"publish-{name}",
        daemon=True,
    )
    thread.start()
    thread.join(PUBLISH_TIMEOUT)
    if not published:
        logger.warning(
            "%s%s: the broker did not take the task within %.1f s; the resume task will publish it",
            name,
            [list(call) for call in calls][:5],
            PUBLISH_TIMEOUT,
        )
        return False
    return published[0]


def _send(name: str, calls: list[tuple], *, countdown: float) -> bool:
    """One connection with Celery's retries off and short socket timeouts. (redis-py still
    retries a refused connection a few times on its own: hence the thread's time limit.)"""
    from kombu.exceptions import OperationalError

    app = current_app
    # The broker URL from settings on each publish (the app's own is fixed at its first use).
    url = getattr(settings, "CELERY_BROKER_WRITE_URL", None) or settings.CELERY_BROKER_URL
    timeout = PUBLISH_TIMEOUT / 2
    options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    try:
        with app.connection_for_write(
            url, connect_timeout=timeout, transport_options=options
        ) as connection:
            for args in calls:
                app.send_task(
                    name,
                    args=list(args),
                    countdown=max(0.0, countdown) or None,
                    connection=connection,
                    retry=False,
                )
    except (OperationalError, OSError) as exc:
        logger.warning("%s%s not published (%s); the resume task will", name, calls[:5], exc)
        return False
    return True
