"""Real Celery processes for tests: workers and beats as subprocesses of the test, on the pytest
test database (PostgreSQL or the SQLite test file) and the test's local Bedrock. Tests that use
them need `@pytest.mark.django_db(transaction=True)`: a worker only sees what is committed, and
the test only sees what the worker committed.

    pytest_plugins = ["tests.worker"]

Two fixtures, one harness:

- `celery_processes(**env)`: a worker and a beat together on a Redis database of their own
  (TEST_REDIS_URL, emptied first, so no task from an earlier run is delivered):

      procs = celery_processes(SYNC_INTERVAL_SECONDS="1")
      procs.wait_for(lambda: ..., timeout=60)

- `celery_node(role, **env)`: one worker or beat at a time on a redis-server of the test's own
  (`private_redis`: a free port, nothing shared with other runs, stoppable and restartable on
  the same port), so a test can kill a worker and start another. Periodic tasks are slowed to
  once an hour unless the test asks otherwise:

      worker = celery_node("worker", DELETION_CALLS_PER_SECOND="10")
      worker.kill()  # SIGKILL to its whole process group
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
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
# celery_node's defaults: nothing periodic runs unless the test asks for it.
_QUIET = {
    "DASHBOARD_HEARTBEAT_SECONDS": "3600",
    "SYNC_INTERVAL_SECONDS": "3600",
    "SYNC_DESCRIBE_INTERVAL_SECONDS": "3600",
    "SUBMISSION_RESUME_INTERVAL_SECONDS": "3600",
}


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


def _child_env(local_bedrock, workdir: Path, broker_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    return env | {
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker_url,
        "BEDROCK_ENDPOINT_URL": local_bedrock.url,
        "AWS_REGION": local_bedrock.region,
        "DASHBOARD_VAR_DIR": str(workdir / "var"),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


# --- a private Redis ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """redis-server on one port, without persistence: stopping it loses every message."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            assert self.proc.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    if not shutil.which("redis-server"):
        pytest.skip("redis-server not found")
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- Celery processes ---------------------------------------------------------------------------


class CeleryNode:
    """One `celery worker` or `celery beat` process, in a process group of its own (so a kill
    reaches the worker's pool children too); its output goes to the group's shared lines."""

    def __init__(
        self, role: str, env: dict[str, str], workdir: Path, lines: list[str], *, concurrency: int
    ) -> None:
        self.role = role
        self.lines = lines
        celery = [sys.executable, "-m", "celery", "-A", "dashboard"]
        if role == "worker":
            argv = [
                *celery,
                "worker",
                "-l",
                "INFO",
                "-c",
                str(concurrency),
                "-n",
                f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
                # Nothing to coordinate with: start faster.
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        else:
            argv = [*celery, "beat", "-l", "INFO", "-s", str(workdir / "beat-schedule")]
            argv += ["--max-interval", "1"]
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(f"[{self.role} {self.proc.pid}] {line}")

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL, no warning: as if the machine lost power."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        # Cold shutdown for a worker (SIGQUIT): a task may be mid-way through its time budget,
        # and waiting for it only slows the test. Unacknowledged tasks stay in this test's own
        # Redis database, which the next run empties.
        if self.running:
            sig = signal.SIGQUIT if self.role == "worker" else signal.SIGTERM
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # pool children left behind, if any


class CeleryNodes:
    """Celery processes started with one environment; their output is kept for failure
    messages. `nodes(role, **env)` starts one more."""

    def __init__(
        self, env: dict[str, str], workdir: Path, *, concurrency: int, watch: bool
    ) -> None:
        self.env = env
        self.workdir = workdir
        self.concurrency = concurrency
        # Whether wait_for fails at once when a process has exited (unless the test killed it).
        self.watch = watch
        self.lines: list[str] = []
        self.nodes: list[CeleryNode] = []

    def __call__(self, role: str, **extra_env: str) -> CeleryNode:
        env = {**self.env, **extra_env}
        node = CeleryNode(role, env, self.workdir, self.lines, concurrency=self.concurrency)
        self.nodes.append(node)
        return node

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
            if self.watch:
                for node in self.nodes:
                    assert node.running, f"celery {node.role} exited early:\n{self.output}"
            assert time.monotonic() < deadline, f"timed out; celery output:\n{self.output}"
            time.sleep(0.2)

    def stop(self) -> None:
        for node in sorted(self.nodes, key=lambda n: n.role != "beat"):  # beat first
            node.stop()


@pytest.fixture
def celery_processes(local_bedrock, tmp_path) -> Iterator[Callable[..., CeleryNodes]]:
    """Start a worker and beat with extra environment (e.g. SYNC_INTERVAL_SECONDS="1") on the
    test Redis database; both are stopped at teardown, before the test database is flushed."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    started: list[CeleryNodes] = []

    def start(**extra_env: str) -> CeleryNodes:
        env = _child_env(local_bedrock, tmp_path, REDIS_URL, **extra_env)
        procs = CeleryNodes(env, tmp_path, concurrency=2, watch=True)
        started.append(procs)
        procs("worker")
        procs("beat")
        return procs

    try:
        yield start
    finally:
        for procs in started:
            procs.stop()


@pytest.fixture
def celery_node(local_bedrock, private_redis, tmp_path) -> Iterator[CeleryNodes]:
    """Start celery workers and beats (`celery_node("worker", SETTING="x")`) on the test
    database, the private Redis and the test's local Bedrock; all stopped at teardown."""
    env = _child_env(local_bedrock, tmp_path, private_redis.url, **_QUIET)
    nodes = CeleryNodes(env, tmp_path, concurrency=1, watch=False)
    try:
        yield nodes
    finally:
        nodes.stop()
