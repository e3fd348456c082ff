"""Starting and stopping the local Bedrock: the Python API and `manage.py bedrock_local`."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jobs.bedrock.local.server import LocalBedrock
from tests.jobs.bedrock.support import client_for

ROOT = Path(__file__).resolve().parents[3]


def port_is_free(port: int) -> bool:
    """Nothing listens there and a server can bind it again.  (SO_REUSEADDR as servers set it:
    the connections the server closed may linger in TIME_WAIT.)"""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_start_stop_frees_the_port_and_joins_the_thread():
    server = LocalBedrock(region="eu-west-1", account_id="210987654321")
    assert server.start() is server
    port = server.port
    assert server.url == f"http://127.0.0.1:{port}"
    client = client_for(server.url)
    client.list_evaluation_jobs()  # leaves a keep-alive connection open
    thread = server._thread
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    assert thread is not None and not thread.is_alive()
    assert port_is_free(port)
    server.stop()  # idempotent
    with LocalBedrock().start(port=port) as again:  # the same port serves again
        assert client_for(again.url).list_evaluation_jobs()["jobSummaries"] == []


def test_context_manager_and_region_in_arns():
    with LocalBedrock(region="eu-west-1", account_id="210987654321").start() as server:
        client = client_for(server.url)
        server.seed(count=2)
        arn = client.list_evaluation_jobs()["jobSummaries"][0]["jobArn"]
        assert arn.startswith("arn:aws:bedrock:eu-west-1:210987654321:evaluation-job/")
        port = server.port
    assert port_is_free(port)
    with LocalBedrock() as server:  # __enter__ starts it when needed
        assert client_for(server.url).list_imported_models()["modelSummaries"] == []


def test_management_command_serves_until_sigterm():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dashboard.settings", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "bedrock_local",
            "--port",
            "0",
            "--seed",
            "25",
            "--seed-random",
            "5",
            "--time-scale",
            "0.5",
            "--latency-ms",
            "1",
            "--control",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Faults:"):
                break
        output = "".join(lines)
        url = re.search(r"http://127\.0\.0\.1:\d+", output)
        assert url, output
        assert "Seeded 25 evaluation jobs, 2 model import jobs" in output
        assert "time_scale=0.5" in output and "latency_ms=1.0" in output
        client = client_for(url.group(0))
        assert len(client.list_evaluation_jobs()["jobSummaries"]) == 25
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0, rest
        assert "Local Bedrock stopped." in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("bad", [{"time_scale": 0}, {"error_rate": 1.5}, {"throttle_rps": -1}])
def test_bad_knobs_are_refused(bad):
    with pytest.raises(ValueError):
        LocalBedrock(**bad)
