"""Server time of the compare page (issue 11): 10 Completed jobs side by side.

    python bench/results_compare.py [--jobs 10] [--datasets 5] [--metrics 10]
                                    [--records 1000] [--runs 30] [--keep]
                                    [--database dashboard_bench_compare]

Needs PostgreSQL: the server in DATABASE_URL (default postgres://postgres@127.0.0.1:5432/),
but always a database of its own (`dashboard_bench_compare` unless --database says otherwise),
so the developer's data is never touched. It creates and migrates that database, fills it with
--jobs Completed evaluation jobs whose results are ready: --datasets × --metrics aggregates
each, and --records per-prompt records each (spread over the datasets, the same prompts in
every job so the "dropped the most" join has work to do) with a ResultScore row per metric.
Then it times GET /evaluation-jobs/compare/?job=…×N through Django's test Client, logged in
(middleware, view, selectors, template: the server's whole answer), and prints the median and
p95 of --runs requests and the queries one request makes: the page (the table; the prompts
that dropped the most come in the page's second request, also timed), the page with them
inline (?drops=1, the no-JavaScript link), and compare.csv. Target: the page under 50 ms.

Without --keep the database is dropped at the end; with it, a later run with the same sizes
reuses it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.list_pages import bench_database_url, create_database, drop_database  # noqa: E402
from jobs.bedrock.catalogue import JUDGE_METRICS  # noqa: E402

TARGET_MS = 50
MODELS = (
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "amazon.nova-pro-v1:0",
    "meta.llama3-1-70b-instruct-v1:0",
    "mistral.mistral-large-2402-v1:0",
)
METRICS = JUDGE_METRICS  # the LLM-as-a-judge metrics, as the dashboard lists them


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10, choices=range(2, 11), metavar="2..10")
    parser.add_argument("--datasets", type=int, default=5)
    parser.add_argument("--metrics", type=int, default=10, choices=range(1, len(METRICS) + 1))
    parser.add_argument("--records", type=int, default=1000, help="per job")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per case")
    parser.add_argument("--database", default="dashboard_bench_compare")
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the database")
    return parser.parse_args()


def fill(args: argparse.Namespace) -> float:
    """Replace every job and result with the bench's: --jobs Completed jobs with results."""
    from django.db import connection, transaction
    from django.utils import timezone

    from jobs.models import (
        EvaluationJob,
        EvaluationResultSet,
        ResultAggregate,
        ResultRecord,
        ResultScore,
    )

    started = time.perf_counter()
    rng = random.Random(11)
    now = timezone.now()
    metrics = METRICS[: args.metrics]
    datasets = [f"support-set-{d}" for d in range(args.datasets)]
    per_dataset = max(1, args.records // args.datasets)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE jobs_resultscore, jobs_resultrecord, jobs_resultaggregate, "
            "jobs_evaluationresultset, jobs_evaluationjob RESTART IDENTITY CASCADE"
        )
    with transaction.atomic():
        for j in range(args.jobs):
            rid = f"bench{j:07d}"
            model = MODELS[j % len(MODELS)]
            job = EvaluationJob.objects.create(
                arn=f"arn:aws:bedrock:us-east-1:123456789012:evaluation-job/{rid}",
                resource_id=rid,
                region="us-east-1",
                account="123456789012",
                name=f"bench-compare-{j:02d}",
                created_at=now,
                last_synced_at=now,
                status="Completed",
                job_type="Automated",
                application_type="ModelEvaluation",
                task_types="|General|",
                model_identifiers=f"|{model}|",
            )
            result_set = EvaluationResultSet.objects.create(
                job=job, state="ready", files=args.datasets, fetched_at=now
            )
            skill = rng.uniform(0.55, 0.85)
            values: dict[tuple[str, str], list[float | None]] = {}
            records = []
            for dataset in datasets:
                for i in range(per_dataset):
                    prompt = f"{dataset} prompt {i}: " + "please summarise this ticket. " * 8
                    scores = {}
                    for metric in metrics:
                        value = (
                            None
                            if rng.random() < 0.03
                            else round(min(1.0, max(0.0, rng.gauss(skill, 0.15))), 3)
                        )
                        scores[metric] = value
                        values.setdefault((dataset, metric), []).append(value)
                    records.append(
                        ResultRecord(
                            result_set=result_set,
                            dataset=dataset,
                            model=model,
                            position=i,
                            prompt=prompt,
                            prompt_hash=hashlib.sha256(prompt.encode()).hexdigest(),
                            reference="The expected answer. " * 10,
                            response="A response of about a kilobyte. " * 32,
                            scores=scores,
                            explanations={m: "The judge's reasoning. " * 10 for m in metrics},
                        )
                    )
            records = ResultRecord.objects.bulk_create(records, batch_size=1000)
            ResultScore.objects.bulk_create(
                [
                    ResultScore(record=r, result_set=result_set, metric=m, value=v)
                    for r in records
                    for m, v in r.scores.items()
                ],
                batch_size=5000,
            )
            aggregates = []
            for (dataset, metric), found in values.items():
                scored = [v for v in found if v is not None]
                aggregates.append(
                    ResultAggregate(
                        result_set=result_set,
                        dataset=dataset,
                        model=model,
                        metric=metric,
                        prompts=len(found),
                        scored=len(scored),
                        mean=statistics.fmean(scored) if scored else None,
                        stddev=statistics.stdev(scored) if len(scored) > 1 else None,
                        histogram={"edges": [0, 0.2, 0.4, 0.6, 0.8, 1], "counts": [1] * 5},
                    )
                )
            ResultAggregate.objects.bulk_create(aggregates)
            EvaluationResultSet.objects.filter(pk=result_set.pk).update(
                records=len(records), lines=len(records)
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def timed(client, url: str, runs: int, headers: dict | None = None) -> tuple[float, float, int]:
    """(median ms, p95 ms, queries of one request) of GET url, after two warm-up requests."""
    from django.db import connection

    def get(url):
        return client.get(url, headers=headers or {})

    for _ in range(2):
        assert get(url).status_code == 200
    queries = []
    # Counted as they run (Django's own query log is reset when a request starts).
    with connection.execute_wrapper(
        lambda execute, sql, *a: queries.append(sql) or execute(sql, *a)
    ):
        response = get(url)
    assert response.status_code == 200, response.status_code
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        get(url)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95, len(queries)


def main() -> None:
    args = parse_args()
    url, maintenance = bench_database_url(args.database)
    create_database(maintenance, args.database)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from jobs.models import EvaluationJob, ResultScore

    print(f"database {args.database} on {urlsplit(url).hostname} (never the main one)")
    try:
        call_command("migrate", verbosity=0)
        wanted_scores = args.jobs * (args.records // args.datasets) * args.datasets * args.metrics
        if (
            EvaluationJob.objects.count() != args.jobs
            or ResultScore.objects.count() != wanted_scores
        ):
            seconds = fill(args)
            print(
                f"filled {args.jobs} jobs × {args.datasets} datasets × {args.metrics} metrics, "
                f"{args.records:,} records and {args.records * args.metrics:,} scores each, "
                f"in {seconds:.1f} s"
            )
        else:
            print("reusing the jobs and results already in it (kept by an earlier --keep)")
        user, _ = get_user_model().objects.get_or_create(
            username="bench", defaults={"is_superuser": True, "is_staff": True}
        )
        client = Client(SERVER_NAME="localhost")
        client.force_login(user)
        ids = list(
            EvaluationJob.objects.order_by("resource_id").values_list("resource_id", flat=True)
        )
        query = urlencode([("job", rid) for rid in ids])
        drops = {"HX-Request": "true", "HX-Target": "drops"}
        page = f"/evaluation-jobs/compare/?{query}"
        cases = [
            (f"compare page, {len(ids)} jobs", page, None),
            (
                f"compare page, {len(ids)} jobs, another baseline",
                f"{page}&baseline={ids[-1]}",
                None,
            ),
            ("  its 2nd request: prompts that dropped most", page, drops),
            ("  the same, another baseline", f"{page}&baseline={ids[-1]}", drops),
            ("compare page with the drops inline (no JS)", f"{page}&drops=1", None),
            (f"compare.csv, {len(ids)} jobs", f"/evaluation-jobs/compare.csv?{query}", None),
        ]
        print(f"{args.runs} timed requests each, through Django's test Client, logged in:")
        results = []
        for label, path, headers in cases:
            median, p95, queries = timed(client, path, args.runs, headers)
            results.append(median)
            print(f"  {label:<44} median {median:6.1f} ms   p95 {p95:6.1f} ms   {queries} queries")
        verdict = "meets" if results[0] < TARGET_MS else "MISSES"
        print(f"compare page median {results[0]:.1f} ms: {verdict} the {TARGET_MS} ms target")
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database(maintenance, args.database)


if __name__ == "__main__":
    main()
