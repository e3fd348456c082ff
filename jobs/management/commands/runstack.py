"""`make run`: migrate, create the demo superuser, then start the local S3 and the local Bedrock
(which writes its completed jobs' outputs into that S3), a Celery worker, Celery beat and the
web server, and stop them all together on Ctrl-C.

With both local services and no DASHBOARD_CONNECTIONS of the user's, the local Bedrock plays a
fleet (jobs/bedrock/local/demo.py): two accounts × two regions, four connections written to
var/connections.toml, handed to the worker, beat and web server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from jobs import health
from jobs.accounts import admin_user_ensure
from jobs.bedrock.local import demo

# Demo evaluation jobs in the local Bedrock, shared out among its accounts × regions.
SEED_TOTAL = 500


class Command(BaseCommand):
    help = "Start the whole dashboard (web, worker, beat, local Bedrock and S3) in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--bedrock-port", type=int, default=4599)
        parser.add_argument(
            "--s3-port", type=int, default=4598, help="the local S3 (unless S3_ENDPOINT_URL is set)"
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=None,
            help="demo evaluation jobs in each account × region of the local Bedrock "
            f"(default: {SEED_TOTAL} in all)",
        )
        parser.add_argument(
            "--no-local-bedrock",
            action="store_true",
            help="do not start the local Bedrock (use BEDROCK_ENDPOINT_URL or real AWS)",
        )

    def handle(self, *args, **options):
        Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        login_hint = admin_user_ensure(password=settings.DASHBOARD_ADMIN_PASSWORD)

        # Children inherit our environment plus what we decide here.
        env = os.environ.copy()
        env.setdefault("PYTHONUNBUFFERED", "1")
        python = sys.executable
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        processes: list[tuple[str, subprocess.Popen]] = []

        endpoint = settings.BEDROCK_ENDPOINT_URL
        s3_endpoint = settings.S3_ENDPOINT_URL
        fleet: demo.Fleet | None = None
        if endpoint is None and not options["no_local_bedrock"]:
            endpoint = f"http://127.0.0.1:{options['bedrock_port']}"
            if s3_endpoint is None:
                # The local Bedrock's outputs need an S3: the local one, beside it.
                s3_endpoint = f"http://127.0.0.1:{options['s3_port']}"
                env["S3_ENDPOINT_URL"] = s3_endpoint
                # moto's server answers STS too: connections' identity checks stay local.
                env.setdefault("STS_ENDPOINT_URL", s3_endpoint)
                processes.append(
                    (
                        "s3",
                        subprocess.Popen(
                            [  # noqa: S603 - fixed argv, no shell
                                python,
                                manage,
                                "s3_local",
                                "--host",
                                "127.0.0.1",
                                "--port",
                                str(options["s3_port"]),
                            ],
                            env=env,
                        ),
                    )
                )
                if not _wait_for_port("127.0.0.1", options["s3_port"], timeout=30):
                    self.stop_all(processes)
                    raise SystemExit("The local S3 did not start; see the output above.")
                if not settings.DASHBOARD_CONNECTIONS:
                    try:
                        fleet = self.start_fleet(env, bedrock_url=endpoint, s3_url=s3_endpoint)
                    except Exception as exc:  # noqa: BLE001 - any failure stops the demo cleanly
                        self.stop_all(processes)
                        raise SystemExit(
                            f"The demo's connections could not be made: {exc}"
                        ) from exc
            env["BEDROCK_ENDPOINT_URL"] = endpoint
            stores = len(demo.CONNECTIONS) if fleet else 1
            seed = options["seed"] if options["seed"] is not None else SEED_TOTAL // stores
            fleet_args = ["--accounts", fleet.accounts, "--regions", fleet.regions] if fleet else []
            processes.append(
                (
                    "bedrock",
                    subprocess.Popen(
                        [  # noqa: S603 - fixed argv, no shell
                            python,
                            manage,
                            "bedrock_local",
                            "--host",
                            "127.0.0.1",
                            "--port",
                            str(options["bedrock_port"]),
                            "--seed",
                            str(seed),
                            "--control",
                            "--s3-endpoint-url",
                            s3_endpoint,
                            *fleet_args,
                        ],
                        env=env,
                    ),
                )
            )
            if not _wait_for_port("127.0.0.1", options["bedrock_port"], timeout=30):
                self.stop_all(processes)
                raise SystemExit("The local Bedrock did not start; see the output above.")
            # The demo's completed jobs have outputs before the worker first looks for them.
            self.stdout.write("Writing the demo jobs' evaluation outputs to the local S3...")
            self.stdout.flush()
            written = _flush_outputs(endpoint, timeout=90)
            self.stdout.write(f"Evaluation outputs written: {written}")

        try:
            health.check_broker()
        except Exception as exc:  # noqa: BLE001 - any failure means: no broker to use
            queue = Path(settings.VAR_DIR) / "celery"
            for sub in ("queue", "processed", "control"):
                (queue / sub).mkdir(parents=True, exist_ok=True)
            env["CELERY_BROKER_URL"] = "filesystem://"
            self.stdout.write(
                self.style.WARNING(
                    f"No broker answers at {_redact(settings.CELERY_BROKER_URL)} ({exc}).\n"
                    f"Running a real Celery worker on the server-less filesystem transport under "
                    f"{queue} instead. Start Redis for the production-like setup."
                )
            )

        celery = [python, "-m", "celery", "-A", "dashboard"]
        processes += [
            ("worker", subprocess.Popen([*celery, "worker", "-l", "INFO"], env=env)),  # noqa: S603
            (
                "beat",
                subprocess.Popen(
                    [  # noqa: S603
                        *celery,
                        "beat",
                        "-l",
                        "INFO",
                        "-s",
                        settings.CELERY_BEAT_SCHEDULE_FILENAME,
                    ],
                    env=env,
                ),
            ),
            (
                "web",
                subprocess.Popen(
                    [  # noqa: S603
                        python,
                        manage,
                        "runserver",
                        f"{options['host']}:{options['port']}",
                        "--noreload",
                    ],
                    env=env,
                ),
            ),
        ]
        url = f"http://{options['host']}:{options['port']}/"
        if fleet is not None:
            self.stdout.write(
                f"Connections ({fleet.connections_file}): "
                + ", ".join(
                    f"{name} (account {account}, {region})"
                    for name, account, region, _ in demo.CONNECTIONS
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"\nBedrock dashboard: {url}\n{login_hint}\n"
                f"Bedrock endpoint: {endpoint or 'AWS ' + settings.AWS_REGION}\n"
                f"S3 endpoint: {s3_endpoint or 'AWS ' + settings.AWS_REGION}\n"
                f"Press Ctrl-C to stop everything.\n"
            )
        )
        self.wait(processes)

    def start_fleet(self, env: dict[str, str], *, bedrock_url: str, s3_url: str) -> demo.Fleet:
        """The demo's users in the local STS, its connections and credentials files under
        var/, and the environment that makes the worker, beat and web server use them."""
        fleet = demo.write_fleet(Path(settings.VAR_DIR), bedrock_url=bedrock_url, s3_url=s3_url)
        # The default chain must find the demo's keys, not the host's (none of which the
        # local stack would accept as an account of its own).
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.pop(name, None)
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            env.pop(name, None)
        env["AWS_SHARED_CREDENTIALS_FILE"] = str(fleet.credentials_file)
        env["AWS_CONFIG_FILE"] = str(fleet.config_file)
        env["DASHBOARD_CONNECTIONS"] = str(fleet.connections_file)
        return fleet

    def wait(self, processes: list[tuple[str, subprocess.Popen]]) -> None:
        stopping = False

        def on_signal(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        while not stopping:
            for name, proc in processes:
                if proc.poll() is not None:
                    self.stderr.write(f"{name} exited with code {proc.returncode}; stopping all.")
                    stopping = True
                    break
            time.sleep(0.5)
        self.stop_all(processes)

    def stop_all(self, processes: list[tuple[str, subprocess.Popen]]) -> None:
        for _, proc in processes:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 15
        for _, proc in processes:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
        self.stdout.write("Stopped.")


def _wait_for_port(host: str, port: int, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _flush_outputs(bedrock_url: str, *, timeout: float) -> str:
    """Wait until the local Bedrock has written every pending job output (its control API);
    a one-line summary.  A failure here only delays results, so it is reported, not raised."""
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        f"{bedrock_url}/_local/outputs/flush",
        data=json.dumps({"timeout": min(timeout, 120)}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout + 10) as response:  # noqa: S310
            status = json.load(response)
    except (OSError, ValueError) as exc:
        return f"unknown ({exc})"
    summary = f"{status.get('jobs_written', 0)} jobs, {status.get('files_written', 0)} files"
    if status.get("jobs_failed"):
        summary += f"; {status['jobs_failed']} failed: {status.get('last_error')}"
    if not status.get("flushed", True):
        summary += f"; {status.get('pending')} still pending"
    return summary


def _redact(url: str) -> str:
    """A broker URL without its password, for the console."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
