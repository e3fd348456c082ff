"""The evaluation-job list's selector with region and account filters (issue 15), and the
pickers' distinct regions and accounts.

    python bench/fleet_list_filters.py [--jobs 100000] [--runs 30] [--keep]
                                       [--database dashboard_bench_fleet]

Needs PostgreSQL (DATABASE_URL's server; always a database of its own, never the main one).
Fills the mirror with --jobs evaluation jobs spread over 2 regions × 2 accounts, then prints
median and p95 of page one and page two of the keyset list (50 rows) unfiltered, filtered to
one region and account, and to two of each, with the plan's first index; and the pickers'
query (jobs.selectors.mirror.mirror_places) uncached.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.list_pages import bench_database_url, create_database, drop_database  # noqa: E402

PLACES = [(r, a) for r in ("us-east-1", "eu-west-1") for a in ("111111111111", "222222222222")]


def timed(call, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database", default="dashboard_bench_fleet")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url, maintenance = bench_database_url(args.database)
    create_database(maintenance, args.database)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection, connections

    from jobs.models import EvaluationJob
    from jobs.selectors.evaluation_jobs import (
        EvaluationJobFilters,
        evaluation_job_list,
        evaluation_job_queryset,
    )
    from jobs.selectors.mirror import mirror_places

    print(f"database {args.database} (never the main one), {args.jobs:,} jobs over 4 places")
    call_command("migrate", verbosity=0)
    if EvaluationJob.objects.count() != args.jobs:
        EvaluationJob.objects.all().delete()
        base, rng = dt.datetime(2026, 6, 1, tzinfo=dt.UTC), random.Random(1)
        rows = []
        for i in range(args.jobs):
            region, account = PLACES[i % 4]
            rid = f"j{i:011d}"
            rows.append(
                EvaluationJob(
                    arn=f"arn:aws:bedrock:{region}:{account}:evaluation-job/{rid}",
                    resource_id=rid,
                    region=region,
                    account=account,
                    name=f"job-{i}",
                    created_at=base - dt.timedelta(seconds=rng.randrange(10**7)),
                    summary={},
                    last_synced_at=base,
                    status="Completed",
                    job_type="Automated",
                    application_type="ModelEvaluation",
                    task_types="|Generation|",
                    model_identifiers="|m|",
                )
            )
        EvaluationJob.objects.bulk_create(rows, batch_size=5000)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE jobs_evaluationjob")

    cases = [
        ("no filter", EvaluationJobFilters()),
        ("1 region, 1 account", EvaluationJobFilters(regions=("eu-west-1",), accounts=("2" * 12,))),
        (
            "2 regions, 2 accounts",
            EvaluationJobFilters(regions=("eu-west-1", "us-east-1"), accounts=("1" * 12, "2" * 12)),
        ),
    ]
    for label, filters in cases:
        first = evaluation_job_list(filters=filters, size=50, token=None)
        med1, p951 = timed(
            lambda f=filters: evaluation_job_list(filters=f, size=50, token=None), args.runs
        )
        med2, p952 = timed(
            lambda f=filters, t=first.next_token: evaluation_job_list(filters=f, size=50, token=t),
            args.runs,
        )
        qs = evaluation_job_queryset(filters=filters).order_by("-created_at", "-arn")[:51]
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            plan = next((r[0].strip() for r in cursor.fetchall() if " using " in r[0]), "?")
        print(
            f"{label:22s} page 1: median {med1:.2f} ms, p95 {p951:.2f} ms; "
            f"page 2: median {med2:.2f} ms, p95 {p952:.2f} ms; {plan.split('  (')[0]}"
        )

    key = f"mirror-places:{EvaluationJob._meta.db_table}"

    def places():
        cache.delete(key)
        mirror_places(EvaluationJob)

    med, p95 = timed(places, args.runs)
    print(f"pickers (mirror_places, uncached): median {med:.2f} ms, p95 {p95:.2f} ms")
    connections.close_all()
    if not args.keep:
        drop_database(maintenance, args.database)


if __name__ == "__main__":
    main()
