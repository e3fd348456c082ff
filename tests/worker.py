"""Fixtures for a real Celery worker and beat, as subprocesses of the test.

They use the pytest test database (PostgreSQL or the SQLite test file), a Redis database of
their own (emptied first, so no task from an earlier run is delivered), and the test's local
Bedrock. Tests that use them need `@pytest.mark.django_db(transaction=True)`: the worker only
sees what is committed, and the test only sees what the worker committed.

    pytest_plugins = ["tests.worker"]

    def test_x(celery_processes):
        procs = celery_processes(SYNC_INTERVAL_SECONDS="1")
        procs.wait_for(lambda: ..., timeout=60)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

ROOT = Path(__file__).resolve().parent.parent
# TEST_REDIS_URL: another Redis database, for two checkouts testing at once on one machine.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
# Settings the children must not inherit from the developer's shell.
_OWN_PREFIXES = (
    "DJANGO_",
    "DATABASE_URL",
    "BEDROCK_",
    "S3_",
    "CELERY_",
    "DASHBOARD_",
    "SYNC_",
    "RESULTS_",
    "AWS_",
)


def database_url() -> str:
    """A DATABASE_URL for the database this test process uses (the test database)."""
    from django.db import connection

    conf = connection.settings_dict
    if conf["ENGINE"] == "django.db.backends.sqlite3":
        name = str(conf["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            pytest.skip("an in-memory SQLite test database cannot be shared with a worker")
        # The same OPTIONS (IMMEDIATE transactions, busy timeout) as this process: without
        # them, concurrent tasks fail at once with "database is locked".
        return f"sqlite:///{Path(name).resolve()}?{urlencode(conf.get('OPTIONS') or {})}"
    if conf["ENGINE"] == "django.db.backends.postgresql":
        user = quote(conf.get("USER") or "", safe="")
        password = quote(conf.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        port = f":{conf['PORT']}" if conf.get("PORT") else ""
        return f"postgres://{auth}{conf.get('HOST') or '127.0.0.1'}{port}/{conf['NAME']}"
    raise NotImplementedError(conf["ENGINE"])


class CeleryProcesses:
    """A worker and a beat started together; their output is kept for failure messages."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.lines: list[str] = []
        celery = [sys.executable, "-m", "celery", "-A", "dashboard"]
        worker = [
            *celery,
            "worker",
            "-l",
            "INFO",
            "-c",
            "2",
            "-n",
            f"test-{os.getpid()}@%h",
            # Nothing to coordinate with: start faster.
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        beat = [*celery, "beat", "-l", "INFO", "-s", str(workdir / "beat-schedule")]
        beat += ["--max-interval", "1"]
        self.procs: dict[str, subprocess.Popen] = {}
        for name, argv in (("worker", worker), ("beat", beat)):
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                # A group of its own, so teardown reaches the worker's pool children too.
                start_new_session=True,
            )
            self.procs[name] = proc
            threading.Thread(target=self._read, args=(name, proc), daemon=True).start()

    def _read(self, name: str, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self.lines.append(f"[{name}] {line}")

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, predicate: Callable[[], object], *, timeout: float = 60) -> object:
        """Poll until `predicate()` is truthy; fail with the processes' output if it never is."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            for name, proc in self.procs.items():
                assert proc.poll() is None, f"celery {name} exited early:\n{self.output}"
            assert time.monotonic() < deadline, f"timed out; celery output:\n{self.output}"
            time.sleep(0.2)

    def stop(self) -> None:
        # Cold shutdown for the worker (SIGQUIT): a fill task may be mid-way through its time
        # budget, and waiting for it only slows the test. Unacknowledged tasks stay in this
        # test's own Redis database, which the next run empties.
        for name, sig in (("beat", signal.SIGTERM), ("worker", signal.SIGQUIT)):
            proc = self.procs[name]
            if proc.poll() is None:
                os.killpg(proc.pid, sig)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # pool children left behind, if any


@pytest.fixture
def celery_processes(local_bedrock, tmp_path) -> Iterator[Callable[..., CeleryProcesses]]:
    """Start a worker and beat with extra environment (e.g. SYNC_INTERVAL_SECONDS="1");
    both are stopped at teardown, before the test database is flushed."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    started: list[CeleryProcesses] = []

    def start(**extra_env: str) -> CeleryProcesses:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
        env |= {
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": REDIS_URL,
            "BEDROCK_ENDPOINT_URL": local_bedrock.url,
            "AWS_REGION": local_bedrock.region,
            "DASHBOARD_VAR_DIR": str(tmp_path / "var"),
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        procs = CeleryProcesses(env, tmp_path)
        started.append(procs)
        return procs

    try:
        yield start
    finally:
        for procs in started:
            procs.stop()
