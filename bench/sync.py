"""How long a sweep of evaluation jobs takes: the first one into an empty mirror (every row
inserted) and one with nothing changed (every row compared), at 10,000 and 100,000 jobs, with
the sweeping process's peak resident memory (VmHWM, reset before each sweep).

    python bench/sync.py [--jobs 10000 100000] [--rounds 3] [--profile DIR]

A local Bedrock runs in a child process (so its serialisation does not compete with the sweep
for this process's GIL), seeded with the jobs. Each database gets a child of its own with a
throwaway database: SQLite under a temporary directory always, and PostgreSQL too when
DATABASE_URL is set (a database named bench_sync_<pid> beside it, dropped afterwards). Each
prints the median (and min-max) time of the whole sweep, and of the listing alone through the
gateway (boto3 calls and parsing), so the difference is the mirror's share, and the peak
RSS of the child during each kind of sweep. With --profile, each child runs under py-spy and
leaves its collapsed stacks in DIR (py-spy must be installed: pip install py-spy).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def serve(conn, stop) -> None:
    """Child process: a local Bedrock with the control API, until told to stop."""
    from jobs.bedrock.local.server import LocalBedrock

    with LocalBedrock(control=True, random_seed=11).start() as lb:
        lb.set_faults(time_scale=1e9)  # nothing changes status on its own between sweeps
        conn.send(lb.url)
        stop.wait()


def control(url: str, path: str, payload: dict) -> dict:
    body = json.dumps(payload).encode()
    request = urllib.request.Request(  # noqa: S310 - ours
        url + path, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
        return json.loads(response.read() or b"{}")


def spread(figures: list[float]) -> str:
    return (
        f"median {statistics.median(figures):6.2f} s "
        f"(min {min(figures):.2f}, max {max(figures):.2f}, {len(figures)} runs)"
    )


def reset_peak_rss() -> None:
    """Start VmHWM again from the current RSS (Linux: /proc/PID/clear_refs, value 5)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_rss_mib(field: str = "VmHWM") -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def mib(figures: list[float], starts: list[float]) -> str:
    return f"peak RSS max {max(figures):5.0f} MiB (from {max(starts):.0f})"


def child(rounds: int, jobs: int) -> None:
    """Runs in a subprocess with the environment set for one database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    import django

    django.setup()
    from django.db import connection

    from jobs import sync
    from jobs.bedrock import client as bedrock
    from jobs.models import EvaluationJob

    connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "postgresql":
        connection.settings_dict["TEST"]["NAME"] = f"bench_sync_{os.getpid()}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        first, unchanged, listing = [], [], []
        first_rss, same_rss, first_from, same_from = [], [], [], []
        for _ in range(rounds):
            started = time.perf_counter()
            pages = sum(1 for _ in bedrock.iter_evaluation_job_pages(max_results=1000))
            listing.append(time.perf_counter() - started)

            # One DELETE statement: Django's delete() would load every row as an instance
            # first, and the memory that leaves behind would count as the sweep's baseline.
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {EvaluationJob._meta.db_table}")  # noqa: S608
            reset_peak_rss()
            first_from.append(peak_rss_mib("VmRSS"))
            started = time.perf_counter()
            run = sync.evaluation_jobs_sync()
            first.append(time.perf_counter() - started)
            first_rss.append(peak_rss_mib())
            assert run.error == "" and run.added == run.seen > 0, sync.describe_run(run)
            assert run.list_calls == pages and run.get_calls == 0

            reset_peak_rss()
            same_from.append(peak_rss_mib("VmRSS"))
            started = time.perf_counter()
            run = sync.evaluation_jobs_sync()
            unchanged.append(time.perf_counter() - started)
            same_rss.append(peak_rss_mib())
            assert run.error == "" and run.added == run.changed == run.get_calls == 0
        name = f"{connection.vendor} {jobs:,} jobs"
        print(f"{name:>24}  first sweep     {spread(first)}  {mib(first_rss, first_from)}")
        print(f"{name:>24}  no-change sweep {spread(unchanged)}  {mib(same_rss, same_from)}")
        print(f"{name:>24}  listing alone   {spread(listing)}", flush=True)
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", metavar="DIR", help="run each child under py-spy")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.rounds, args.child)
        return

    receive, send = multiprocessing.Pipe(duplex=False)
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(send, stop), daemon=True)
    server.start()
    url = receive.recv()
    databases = {"sqlite": ""}
    if os.environ.get("DATABASE_URL"):
        databases["postgresql"] = os.environ["DATABASE_URL"]
    seeded = 0
    try:
        with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
            for jobs in sorted(args.jobs):
                started = time.perf_counter()
                control(url, "/_local/seed", {"count": jobs - seeded, "random_seed": jobs})
                seeded = jobs
                print(f"seeded {jobs:,} jobs in {time.perf_counter() - started:.1f} s", flush=True)
                for database_url in databases.values():
                    env = {
                        **os.environ,
                        "DATABASE_URL": database_url,
                        "DASHBOARD_VAR_DIR": tmp,
                        "BEDROCK_ENDPOINT_URL": url,
                        "DJANGO_LOG_LEVEL": "WARNING",
                    }
                    argv = [sys.executable, __file__, "--child", str(jobs)]
                    if args.profile:
                        vendor = "postgresql" if database_url else "sqlite"
                        out = Path(args.profile) / f"sync-{vendor}-{jobs}.txt"
                        spy = Path(sys.executable).with_name("py-spy")
                        argv = [str(spy), "record", "-r", "200", "-f", "raw", "-o", str(out)]
                        argv += ["--", sys.executable, __file__, "--child", str(jobs)]
                    subprocess.run([*argv, "--rounds", str(args.rounds)], env=env, check=True)
    finally:
        stop.set()
        server.join(timeout=10)


if __name__ == "__main__":
    main()
