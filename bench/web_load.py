"""Requests per second of the pages under load: gunicorn (sync workers) on a bench database,
driven by wrk over loopback.

    python bench/web_load.py [--jobs 100000] [--duration 10] [--connections 8] [--workers 2]
                             [--database dashboard_bench_web] [--keep] [--only NAME ...]

Needs PostgreSQL (DATABASE_URL's server, default postgres://postgres@127.0.0.1:5432/; always a
database of its own, never the main one) and wrk (`apt-get install wrk`). It fills the mirror
with --jobs evaluation jobs (bench/list_pages.py's generator, by COPY), collects static files,
starts a local Bedrock (for the pages and /healthz that still call it) and gunicorn with
production settings (DEBUG off) on a free loopback port, signs in once, and drives each case
for --duration seconds with wrk, signed in (the session and CSRF cookies of that sign-in):

    list        /evaluation-jobs/
    status      /evaluation-jobs/?status=Completed
    name        /evaluation-jobs/?name=<a rare name fragment>
    model       /evaluation-jobs/?model=nova-pro
    detail      /evaluation-jobs/<id>/
    healthz     /healthz
    bare        /bench/bare/: the floor, a bare view rendering the list's same 50 rows
                (bench/bare_site.py: no session, permission, header or base template)

It prints requests/s, p50 and p99 per case, and checks the targets of issue 12 (300 list and
detail pages/s with p99 under 100 ms at 8 connections). Every loop is bounded by --duration;
every address is 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.list_pages import (  # noqa: E402
    bench_database_url,
    create_database,
    drop_database,
    fill,
)

PASSWORD = "bench-" + secrets.token_hex(8)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per case")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--database", default="dashboard_bench_web")
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the database")
    parser.add_argument("--only", nargs="*", help="run only these cases")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited early ({proc.returncode})")
        try:
            with urllib.request.urlopen(url + "/accounts/login/", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.3)
    sys.exit("gunicorn did not answer in time")


def sign_in(url: str, username: str) -> str:
    """The Cookie header of a signed-in session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(url + "/accounts/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token, "next": "/"}
    ).encode()
    response = opener.open(url + "/accounts/login/", data=body, timeout=10)
    assert response.geturl().rstrip("/") == url, "sign-in failed"
    cookies = {c.name: c.value for c in jar}
    assert "sessionid" in cookies, cookies
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def wrk(url: str, cookie: str, args: argparse.Namespace) -> dict[str, float]:
    result = subprocess.run(
        [
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{args.duration}s",
            "--latency",
            "--timeout",
            "10s",
            "-H",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=args.duration + 60,
        check=True,
    )
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p50": pct("50"),
        "p99": pct("99"),
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def main() -> None:
    args = parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/web_load.py needs wrk: apt-get install wrk")
    url, maintenance = bench_database_url(args.database)
    create_database(maintenance, args.database)
    var_dir = Path(tempfile.mkdtemp(prefix="web-load-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "BEDROCK_", "DASHBOARD_", "S3_"))
    }
    env |= {
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_SSL_REDIRECT": "0",
        "DJANGO_HSTS_SECONDS": "0",
        "DASHBOARD_VAR_DIR": str(var_dir),
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections

    from jobs.bedrock.local.server import LocalBedrock
    from jobs.models import EvaluationJob

    print(f"database {args.database} (never the main one); var {var_dir}")
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    if EvaluationJob.objects.count() != args.jobs:
        print(f"filled the mirror with {args.jobs:,} jobs in {fill(args.jobs):.1f} s (COPY)")
    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_superuser": True, "is_staff": True}
    )
    user.set_password(PASSWORD)
    user.save()
    job = EvaluationJob.objects.filter(listed=True, status="Completed").order_by("-created_at")[0]
    rare = EvaluationJob.objects.order_by("created_at").values_list("name", flat=True)[0]
    connections.close_all()

    bedrock = LocalBedrock().start(host="127.0.0.1", port=0)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "dashboard.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "BEDROCK_ENDPOINT_URL": bedrock.url,
            # The dashboard's settings, plus the bare case's URL (bench/bare_site.py).
            "DJANGO_SETTINGS_MODULE": "bench.bare_site",
        },
        start_new_session=True,
    )
    cases = {
        "list": "/evaluation-jobs/",
        "status": "/evaluation-jobs/?status=Completed",
        "name": "/evaluation-jobs/?" + urllib.parse.urlencode({"name": rare[-12:]}),
        "model": "/evaluation-jobs/?model=nova-pro",
        "detail": f"/evaluation-jobs/{job.resource_id}/",
        "healthz": "/healthz",
        "bare": "/bench/bare/",
    }
    if args.only:
        cases = {k: v for k, v in cases.items() if k in args.only}
    results = {}
    try:
        wait_until_up(base, gunicorn)
        cookie = sign_in(base, "bench")
        for path in cases.values():  # warm every worker's caches
            for _ in range(4 * args.workers):
                request = urllib.request.Request(base + path, headers={"Cookie": cookie})  # noqa: S310
                urllib.request.urlopen(request, timeout=30).read()  # noqa: S310 - loopback
        print(
            f"\ngunicorn {args.workers} sync workers, wrk {args.connections} connections, "
            f"{args.duration} s per case, {args.jobs:,} jobs\n"
        )
        print(f"{'case':<9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}  path")
        for name, path in cases.items():
            r = results[name] = wrk(base + path, cookie, args)
            print(
                f"{name:<9}{r['rps']:>9.1f}{r['p50']:>9.1f}{r['p99']:>9.1f}{r['errors']:>9}  {path}"
            )
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)
        bedrock.stop()
        shutil.rmtree(var_dir, ignore_errors=True)

    print("\nTargets (issue 12):")
    checks = []
    for name in ("list", "detail"):
        if name in results:
            r = results[name]
            checks.append((f"{name}: 300 req/s", r["rps"] >= 300, f"{r['rps']:.0f} req/s"))
            checks.append((f"{name}: p99 under 100 ms", r["p99"] < 100, f"{r['p99']:.0f} ms"))
    for name, ok, detail in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}")
    if "bare" in results:
        floor = results["bare"]["rps"]
        print(f"\nThe floor (bare view, same 50 rows): {floor:.0f} req/s")
        for name in ("list", "status", "name", "model", "detail"):
            if name in results:
                print(f"  {name}: {100 * results[name]['rps'] / floor:.0f}% of the floor")
    if not args.keep:
        drop_database(maintenance, args.database)
    sys.exit(0 if all(ok for _, ok, _ in checks) else 1)


if __name__ == "__main__":
    main()
