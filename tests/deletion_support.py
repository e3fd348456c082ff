"""A private Redis and Celery processes for the deletion tests.

Each test gets a redis-server of its own on a free port (nothing shared with other test runs or
a developer's `make run`, and one the test may stop and start again on the same port), and
starts a worker and a beat as separate processes, so it can kill one and start another.

    pytest_plugins = ["tests.worker", "tests.deletion_support"]

    def test_x(private_redis, celery_node):
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

import pytest

from tests.worker import ROOT, database_url

# Settings the children must not inherit from the developer's shell.
_OWN_PREFIXES = ("DJANGO_", "DATABASE_URL", "BEDROCK_", "CELERY_", "DASHBOARD_", "SYNC_", "AWS_")


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


class CeleryNode:
    """One `celery worker` or `celery beat` process; its output is kept for failure messages."""

    def __init__(self, role: str, env: dict[str, str], workdir: Path, lines: list[str]) -> None:
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
                "1",
                "-n",
                f"deletions-{os.getpid()}-{time.monotonic_ns()}@%h",
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
            start_new_session=True,  # its own group: kill() reaches the pool children too
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(f"[{self.role} {self.proc.pid}] {line}")

    def kill(self) -> None:
        """SIGKILL, no warning: as if the machine lost power."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
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
    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.lines: list[str] = []
        self.nodes: list[CeleryNode] = []

    def __call__(self, role: str, **extra_env: str) -> CeleryNode:
        node = CeleryNode(role, {**self.env, **extra_env}, self.workdir, self.lines)
        self.nodes.append(node)
        return node

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, predicate: Callable[[], object], *, timeout: float = 60) -> object:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            assert time.monotonic() < deadline, f"timed out; celery output:\n{self.output}"
            time.sleep(0.1)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


@pytest.fixture
def celery_node(local_bedrock, private_redis, tmp_path) -> Iterator[CeleryNodes]:
    """Start celery workers and beats (`celery_node("worker", SETTING="x")`) on the test
    database, the private Redis and the test's local Bedrock; all stopped at teardown."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    env |= {
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": private_redis.url,
        "BEDROCK_ENDPOINT_URL": local_bedrock.url,
        "AWS_REGION": local_bedrock.region,
        "DASHBOARD_VAR_DIR": str(tmp_path / "var"),
        "DASHBOARD_HEARTBEAT_SECONDS": "3600",
        "SYNC_INTERVAL_SECONDS": "3600",
        "SYNC_DESCRIBE_INTERVAL_SECONDS": "3600",
        "SUBMISSION_RESUME_INTERVAL_SECONDS": "3600",
        "PYTHONUNBUFFERED": "1",
    }
    nodes = CeleryNodes(env, tmp_path)
    try:
        yield nodes
    finally:
        nodes.stop()
