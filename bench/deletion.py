"""How many BatchDeleteEvaluationJob calls a deletion batch makes, and how long it takes,
for 1,000 and 10,000 jobs: against a local Bedrock with no throttling, and with Bedrock
limiting the operation to 5 requests a second. Each figure is printed beside its floor:
ceil(N/25) calls, and at 5 req/s ceil(N/25)/5 seconds. Target: calls equal to the floor in
both cases, time within 1.2x the throttled floor.

    python bench/deletion.py [--jobs 1000 10000] [--rate 5]

A local Bedrock runs in a child process (its serialisation does not compete with the runner
for this process's GIL). The runner is the service the Celery task calls
(jobs.deletions.deletion_batch_run), called in this process until the batch is finished, on
a throwaway database: SQLite in a temporary directory, or, with DATABASE_URL set, a PostgreSQL
database named bench_deletion_<pid> beside it (dropped afterwards). The unthrottled runs do not
pace their calls (DELETION_CALLS_PER_SECOND=0, as against a generous quota); the throttled runs
pace at the limit (the default setting, 5).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OP = "BatchDeleteEvaluationJob"
TERMINAL = ("Completed", "Failed", "Stopped")


def serve(conn, stop) -> None:
    """Child process: a local Bedrock with the control API, until told to stop."""
    from jobs.bedrock.local.server import LocalBedrock

    with LocalBedrock(control=True, random_seed=11).start() as lb:
        lb.set_faults(time_scale=1e9)  # no job changes status (or is purged) on its own
        conn.send(lb.url)
        stop.wait()


def control(url: str, path: str, payload: dict | None = None) -> dict:
    body = json.dumps(payload).encode() if payload is not None else None
    method = "POST" if payload is not None else "GET"
    request = urllib.request.Request(  # noqa: S310 - ours
        url + path, data=body, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
        return json.loads(response.read() or b"{}")


def prepare(url: str, jobs: int) -> frozenset[str]:
    """A fresh Bedrock and mirror with at least `jobs` deletable jobs; the ids of `jobs` of
    them (an explicit selection, so the batch has exactly that many)."""
    from jobs import sync
    from jobs.models import DeletionBatch, EvaluationJob

    control(url, "/_local/reset", {})
    seeded = 0
    while True:
        seeded += jobs
        control(url, "/_local/seed", {"count": jobs, "random_seed": seeded})
        EvaluationJob.objects.all().delete()
        DeletionBatch.objects.all().delete()
        sync.evaluation_jobs_sync(raise_errors=True)
        ids = EvaluationJob.objects.filter(status__in=TERMINAL).values_list(
            "resource_id", flat=True
        )
        picked = list(ids.order_by("-created_at", "-arn")[:jobs])
        if len(picked) == jobs:
            return frozenset(picked)


def measure(url: str, ids: frozenset[str], *, throttle_rps: float | None, pace: float) -> tuple:
    from django.conf import settings

    from jobs import deletions

    settings.DELETION_CALLS_PER_SECOND = pace
    control(url, "/_local/faults", {"throttle_rps": throttle_rps})
    batch, _ = deletions.deletion_batch_create(
        selection=deletions.Selection(ids=ids),
        user=None,
        idempotency_key=f"{time.time_ns():032x}"[-32:],
    )
    control(url, "/_local/calls/reset", {})
    started = time.perf_counter()
    while deletions.deletion_batch_run(batch_id=batch.pk) is not None:
        pass
    elapsed = time.perf_counter() - started
    calls = control(url, "/_local/calls").get(OP, 0)
    counts = deletions.deletion_batch_counts(batch=batch)
    assert counts.deleted == len(ids) and counts.pending == 0, counts
    return calls, elapsed


def child(url: str, sizes: list[int], rate: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    # Nobody consumes the tasks a batch enqueues here: the bench runs the service itself.
    settings.CELERY_BROKER_URL = "memory://"
    connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "postgresql":
        connection.settings_dict["TEST"]["NAME"] = f"bench_deletion_{os.getpid()}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    print(f"database: {connection.vendor}", flush=True)
    header = f"{'jobs':>7}  {'Bedrock':<20} {'calls':>6} {'floor':>6}  {'time':>8}  floor time"
    print(header)
    print("-" * len(header), flush=True)
    try:
        for jobs in sizes:
            floor_calls = math.ceil(jobs / 25)
            for label, throttle, pace in (
                ("no throttling", None, 0),
                (f"limit {rate} req/s", rate, rate),
            ):
                ids = prepare(url, jobs)
                calls, elapsed = measure(url, ids, throttle_rps=throttle, pace=pace)
                floor_time = f"{floor_calls / rate:6.1f} s" if throttle else "     -"
                ratio = f"  ({elapsed / (floor_calls / rate):.2f}x)" if throttle else ""
                ok = "ok" if calls == floor_calls else "MORE CALLS THAN THE FLOOR"
                print(
                    f"{jobs:>7,}  {label:<20} {calls:>6} {floor_calls:>6}  {elapsed:6.1f} s"
                    f"  {floor_time}{ratio}  {ok}",
                    flush=True,
                )
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--rate", type=int, default=5, help="Bedrock's limit, requests/s")
    args = parser.parse_args()

    receive, send = multiprocessing.Pipe(duplex=False)
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(send, stop), daemon=True)
    server.start()
    url = receive.recv()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-deletion-") as tmp:
            os.environ.update(
                {
                    "DASHBOARD_VAR_DIR": tmp,
                    "BEDROCK_ENDPOINT_URL": url,
                    "DJANGO_LOG_LEVEL": "WARNING",
                }
            )
            child(url, sorted(args.jobs), args.rate)
    finally:
        stop.set()
        server.join(timeout=10)


if __name__ == "__main__":
    main()
