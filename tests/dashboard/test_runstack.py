"""`make run`'s command, run for real: migrate, demo superuser, local S3, local Bedrock, worker,
beat and web server as child processes, then Ctrl-C stops them all. Embedded defaults: SQLite
in a temporary var/ directory."""

from __future__ import annotations

import configparser
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import boto3
import pytest

from tests.conftest import free_port
from tests.jobs.bedrock.support import client_for

ROOT = Path(__file__).resolve().parents[2]
PROD = "210987654321"
# The demo's connections: (name, account, region).
DEMO = [
    ("dev-us-east-1", "123456789012", "us-east-1"),
    ("dev-us-west-2", "123456789012", "us-west-2"),
    ("prod-us-east-1", PROD, "us-east-1"),
    ("prod-us-west-2", PROD, "us-west-2"),
]


class Stack:
    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.port, self.bedrock_port, self.s3_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.var_dir = tmp_path / "var"
        child_env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(
                ("DJANGO_", "DATABASE_URL", "BEDROCK_", "S3_", "STS_", "CELERY_", "DASHBOARD_")
            )
        }
        child_env |= {
            "DASHBOARD_VAR_DIR": str(self.var_dir),
            # A Redis database of its own, so tests never meet a developer's queue.
            "CELERY_BROKER_URL": os.environ.get(
                "TEST_RUNSTACK_REDIS_URL", "redis://127.0.0.1:6379/14"
            ),
            "DASHBOARD_HEARTBEAT_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "runstack",
                "--port",
                str(self.port),
                "--bedrock-port",
                str(self.bedrock_port),
                "--s3-port",
                str(self.s3_port),
                "--seed",
                "20",
            ],
            cwd=ROOT,
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_output(self, pattern: str, timeout: float = 90) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if match := re.search(pattern, self.output):
                return match
            assert self.proc.poll() is None, f"runstack exited early:\n{self.output}"
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} in output:\n{self.output}")

    def get(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.url + path, data=body)
        if data is not None:
            request.add_header("Referer", self.url + path)
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.geturl(), exc.read().decode()

    def wait_until_serving(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.get("/accounts/login/")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        raise AssertionError(f"web server never answered:\n{self.output}")

    def login(self, username: str, password: str) -> str:
        _, _, page = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, final_url, page = self.get(
            "/accounts/login/",
            {"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/"},
        )
        assert status == 200 and final_url == self.url + "/", page
        return page

    def healthz_when(self, predicate, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        body: dict = {}
        while time.monotonic() < deadline:
            status, _, text = self.get("/healthz")
            body = json.loads(text) | {"http_status": status}
            if predicate(body):
                return body
            time.sleep(0.5)
        raise AssertionError(f"healthz never matched: {body}\n{self.output}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


@pytest.fixture
def stack_factory(tmp_path):
    stacks: list[Stack] = []

    def make(**env: str) -> Stack:
        stacks.append(Stack(tmp_path, **env))
        return stacks[-1]

    yield make
    for stack in stacks:
        stack.stop()


def ports_closed(*ports: int) -> bool:
    import socket

    for port in ports:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return False
    return True


def test_make_run_serves_login_shell_and_healthy_stack(stack_factory):
    stack = stack_factory()
    password = stack.wait_for_output(r"Log in as 'admin' with password: (\S+)").group(1)
    assert f"Bedrock dashboard: {stack.url}/" in stack.wait_for_output("Press Ctrl-C").string
    stack.wait_until_serving()

    status, final_url, page = stack.get("/")
    assert final_url.startswith(stack.url + "/accounts/login/") and "Sign in" in page
    shell = stack.login("admin", password)
    assert "Sign out" in shell and f"127.0.0.1:{stack.bedrock_port}" in shell

    body = stack.healthz_when(lambda b: b["worker_and_beat"]["ok"])
    assert body["http_status"] == 200, body
    bedrock_url = f"http://127.0.0.1:{stack.bedrock_port}"
    assert body["checks"]["bedrock"]["detail"] == bedrock_url
    # The local Bedrock came up seeded with demo jobs (it does not check signatures).
    with urllib.request.urlopen(bedrock_url + "/evaluation-jobs?maxResults=100", timeout=5) as r:
        assert len(json.load(r)["jobSummaries"]) >= 10

    # The local S3 is up, and the seed's completed jobs wrote their outputs into it before the
    # worker started.
    s3_url = f"http://127.0.0.1:{stack.s3_port}"
    assert f"S3 endpoint: {s3_url}" in stack.output
    assert re.search(r"Evaluation outputs written: [1-9]\d* jobs", stack.output), stack.output
    bedrock = client_for(bedrock_url)
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    completed = bedrock.list_evaluation_jobs(statusEquals="Completed")["jobSummaries"]
    assert completed
    job = bedrock.get_evaluation_job(jobIdentifier=completed[0]["jobArn"])
    bucket, root = job["outputDataConfig"]["s3Uri"].removeprefix("s3://").split("/", 1)
    prefix = f"{root.rstrip('/')}/{job['jobName']}/{job['jobArn'].rsplit('/', 1)[1]}/"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]]
    assert any(key.endswith("_output.jsonl") for key in keys), keys

    # The demo fleet: two accounts × two regions, each seeded, with its outputs in S3 too.
    with urllib.request.urlopen(bedrock_url + "/_local/stores", timeout=5) as r:
        stores = {(s["account"], s["region"]): s for s in json.load(r)}
    assert set(stores) == {(a, r) for _, a, r in DEMO}
    assert {s["evaluation_jobs"] for s in stores.values()} == {20}
    credentials = configparser.ConfigParser()
    credentials.read(stack.var_dir / "demo-aws-credentials")
    prod_west = boto3.client(
        "bedrock",
        region_name="us-west-2",
        endpoint_url=bedrock_url,
        aws_access_key_id=credentials["prod"]["aws_access_key_id"],
        aws_secret_access_key=credentials["prod"]["aws_secret_access_key"],
    )
    completed = prod_west.list_evaluation_jobs(statusEquals="Completed")["jobSummaries"]
    assert completed
    assert {j["jobArn"].split(":")[3:5] == ["us-west-2", PROD] for j in completed} == {True}
    job = prod_west.get_evaluation_job(jobIdentifier=completed[0]["jobArn"])
    bucket, root = job["outputDataConfig"]["s3Uri"].removeprefix("s3://").split("/", 1)
    prefix = f"{root.rstrip('/')}/{job['jobName']}/{job['jobArn'].rsplit('/', 1)[1]}/"
    assert s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["KeyCount"] > 0

    # Its four connections, each checked through the local STS (moto's server answers STS
    # too), each with the account its credentials belong to.
    _, _, page = stack.get("/connections/")
    assert f'sts: <span class="mono">{s3_url}</span>' in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    for name, account, region in DEMO:
        row = rf'id="connection-{name}">\s*<td class="name">{name}</td>\s*<td class="mono region">'
        assert re.search(row + region, page), name
        status, final_url, checked = stack.get(
            f"/connections/{name}/check/", {"csrfmiddlewaretoken": token}
        )
        assert final_url == stack.url + "/connections/", checked
        assert f"{name} is account {account}" in checked
    assert "arn:aws:sts::210987654321:assumed-role/BedrockDashboard/" in checked
    for profile in ("default", "prod"):
        secret = credentials[profile]["aws_secret_access_key"]
        assert secret not in checked and secret not in stack.output

    # Within a minute of serving, the newest completed demo job of the swept connection shows
    # its results (the worker sweeps, then reads the outputs, newest first).
    swept = bedrock.list_evaluation_jobs(statusEquals="Completed")["jobSummaries"]
    newest = max(swept, key=lambda summary: summary["creationTime"])
    section = f"/evaluation-jobs/{newest['jobArn'].rsplit('/', 1)[1]}/results/section/"
    deadline = time.monotonic() + 60
    while "score-card" not in (page := stack.get(section)[2]):
        assert time.monotonic() < deadline, f"no results within a minute:\n{page[-1500:]}"
        time.sleep(2)

    assert stack.stop() == 0
    assert "Stopped." in stack.output
    assert ports_closed(stack.port, stack.bedrock_port, stack.s3_port)


def test_without_redis_a_real_worker_runs_on_the_filesystem_transport(stack_factory):
    stack = stack_factory(
        CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0",
        DASHBOARD_ADMIN_PASSWORD="correct-horse-battery",
    )
    stack.wait_for_output("server-less filesystem transport")
    stack.wait_for_output("Press Ctrl-C")
    stack.wait_until_serving()
    stack.login("admin", "correct-horse-battery")
    # The web process was handed the filesystem broker too, so every check passes; the
    # heartbeat proves that beat and the worker exchange tasks through it.
    body = stack.healthz_when(lambda b: b["worker_and_beat"]["ok"])
    assert body["http_status"] == 200, body
    assert "correct-horse-battery" not in stack.output  # a password we were given is never echoed
    # The transport keeps all its files under var/, none in the working directory.
    assert not (ROOT / "control").exists()
    assert (stack.var_dir / "celery" / "control").is_dir()
