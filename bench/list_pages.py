"""Server time of the evaluation-job list page: keyset tokens against Django's Paginator.

    python bench/list_pages.py [--jobs 100000] [--runs 40] [--size 50] [--keep]
                               [--database dashboard_bench]

Needs PostgreSQL: the server in DATABASE_URL (default postgres://postgres@127.0.0.1:5432/),
but always a database of its own (`dashboard_bench` unless --database says otherwise), so the
developer's data is never touched. It creates that database, migrates it, fills the mirror
with --jobs evaluation jobs by COPY (100,000 take a few seconds, a million under a minute),
then times the list view in-process (RequestFactory, so server time = view time: form, query,
template), at pages 1, 100 and 1,000 (and 10,000 from a million jobs), unfiltered and with
a status filter, next to the same page served through Django's Paginator (OFFSET + COUNT)
and rendered by the same template. It prints the median and p95 of each, and the share of
the keyset page's time spent rendering the template, then checks the targets of issue 4.

Without --keep the database is dropped at the end; with it, the filled database stays and a
later run with the same --jobs reuses it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import string
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STATUS_WEIGHTS = (
    ("Completed", 60),
    ("Failed", 15),
    ("Stopped", 10),
    ("InProgress", 10),
    ("Stopping", 5),
)
TOPICS = ("support", "billing", "onboarding", "legal", "catalog", "travel", "medical", "hr")
KINDS = (
    ("auto", "Automated", "ModelEvaluation"),
    ("judge", "Automated", "ModelEvaluation"),
    ("human", "Human", "ModelEvaluation"),
    ("rag", "Automated", "RagEvaluation"),
)
TASKS = ("Summarization", "Classification", "QuestionAndAnswer", "Generation", "Custom")
MODELS = (
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "amazon.nova-pro-v1:0",
    "meta.llama3-1-70b-instruct-v1:0",
    "mistral.mistral-large-2402-v1:0",
)
STATUS_FILTER = "Completed"  # 60 % of jobs: deep enough for page 1,000 (and 10,000 of 1M)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40, help="timed requests per case")
    parser.add_argument("--size", type=int, default=50, choices=(25, 50, 100))
    parser.add_argument("--database", default="dashboard_bench")
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the database")
    return parser.parse_args()


def bench_database_url(name: str) -> tuple[str, str]:
    """(URL of the bench database, URL of the server's maintenance database)."""
    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/dashboard"
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        sys.exit(f"{Path(sys.argv[0]).name} needs PostgreSQL: set DATABASE_URL=postgres://...")
    return urlunsplit(parts._replace(path="/" + name)), urlunsplit(parts._replace(path="/postgres"))


def create_database(maintenance_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(maintenance_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill(count: int) -> float:
    """Replace the mirror's evaluation jobs with `count` generated ones, by COPY."""
    from django.db import connection

    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    statuses = [s for s, _ in STATUS_WEIGHTS]
    weights = [w for _, w in STATUS_WEIGHTS]
    columns = (
        "arn, resource_id, region, account, name, created_at, summary, summary_digest, "
        "needs_description, last_synced_at, listed, status, job_type, application_type, "
        "task_types, model_identifiers"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE jobs_evaluationjob RESTART IDENTITY CASCADE")
        pg = cursor.cursor
        with pg.copy(f"COPY jobs_evaluationjob ({columns}) FROM STDIN") as copy:
            for i in range(count):
                rid = "".join(rng.choices(string.ascii_lowercase + string.digits, k=12))
                arn = f"arn:aws:bedrock:us-east-1:123456789012:evaluation-job/{rid}"
                topic = rng.choice(TOPICS)
                tag, job_type, app = rng.choice(KINDS)
                name = f"{topic}-{tag}-{i:07d}"
                status = rng.choices(statuses, weights)[0]
                created = now - dt.timedelta(seconds=rng.uniform(0, 180 * 86400))
                tasks = rng.sample(TASKS, rng.randint(1, 2))
                models = rng.sample(MODELS, 2 if tag == "human" and rng.random() < 0.5 else 1)
                if app == "RagEvaluation":
                    models = []
                summary = {
                    "jobArn": arn,
                    "jobName": name,
                    "status": status,
                    "creationTime": created.isoformat(),
                    "jobType": job_type,
                    "applicationType": app,
                    "evaluationTaskTypes": tasks,
                    "modelIdentifiers": models,
                }
                copy.write_row(
                    (
                        arn,
                        rid,
                        "us-east-1",
                        "123456789012",
                        name,
                        created,
                        json.dumps(summary),
                        "",
                        True,
                        now,
                        rng.random() > 0.01,  # 1 % tombstones
                        status,
                        job_type,
                        app,
                        "|" + "|".join(tasks) + "|",
                        "|" + "|".join(models) + "|" if models else "",
                    )
                )
        cursor.execute("ANALYZE jobs_evaluationjob")
    return time.perf_counter() - started


class RenderTimer:
    """Adds up the time spent in Django's Template.render while installed."""

    def __init__(self) -> None:
        from django.template.backends.django import Template

        self.cls, self.original, self.seconds = Template, Template.render, 0.0

        def timed(template, *args, **kwargs):
            start = time.perf_counter()
            try:
                return self.original(template, *args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        self.cls.render = timed

    def close(self) -> None:
        self.cls.render = self.original


def make_request(path: str, user):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory
    from django_htmx.middleware import HtmxDetails

    request = RequestFactory().get(path)
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    request.htmx = HtmxDetails(request)
    return request


def paginator_view(request, *, page_number: int):
    """The same list view (form, filters, template, live state, everything) with its keyset
    read swapped for Django's Paginator: COUNT(*) then OFFSET. MirrorList takes its page
    callable, so this is the real view with one part changed."""
    import dataclasses

    from django.core.paginator import Paginator

    from jobs.pagination import KeysetPage
    from jobs.selectors import evaluation_jobs as selectors
    from jobs.views import evaluation_jobs as views
    from jobs.views import mirror

    def offset_page(*, filters, size, token):
        ordering = ("-created_at", "-arn") if filters.newest_first else ("created_at", "arn")
        qs = selectors.evaluation_job_queryset(filters=filters).order_by(*ordering)
        page = Paginator(qs, size).page(page_number)
        return KeysetPage(
            items=list(page.object_list),
            next_token="n" if page.has_next() else None,
            prev_token="p" if page.has_previous() else None,
        )

    return mirror.list_page(request, dataclasses.replace(views.LIST, page=offset_page))


def keyset_path(status: str | None, page_number: int, size: int) -> str:
    """The URL a person reaches by pressing Next page_number - 1 times: the token is made
    from the last row of the page before (found once here with OFFSET; not timed)."""
    from jobs.pagination import NEXT, token_encode
    from jobs.selectors import evaluation_jobs as selectors

    filters = selectors.EvaluationJobFilters(statuses=(status,) if status else ())
    query = f"status={status}&" if status else ""
    if page_number == 1:
        return f"/evaluation-jobs/?{query}".rstrip("?&")
    qs = selectors.evaluation_job_queryset(filters=filters).order_by("-created_at", "-arn")
    anchor = qs.values_list("created_at", "arn")[(page_number - 1) * size - 1]
    token = token_encode(key=anchor, direction=NEXT, scope=filters.scope())
    return f"/evaluation-jobs/?{query}page={token}"


def timed(calls: dict, runs: int) -> dict:
    """{name: (milliseconds per run, share of the time spent rendering templates)}.

    The cases take turns, one request each per round, so a noisy neighbour on the machine
    slows them all alike instead of whichever case happened to be running."""
    for call in calls.values():
        for _ in range(3):
            call()  # warm caches: templates, query plans, the connection
    samples: dict = {name: [] for name in calls}
    rendering = dict.fromkeys(calls, 0.0)
    timer = RenderTimer()
    try:
        for _ in range(runs):
            for name, call in calls.items():
                timer.seconds = 0.0
                start = time.perf_counter()
                response = call()
                samples[name].append((time.perf_counter() - start) * 1000)
                rendering[name] += timer.seconds * 1000
                assert response.status_code == 200, response.status_code
    finally:
        timer.close()
    return {name: (samples[name], rendering[name] / sum(samples[name])) for name in calls}


def time_filters(view, user, args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    """Page 1 of the substring and model filters (issue 12): a rare name fragment (a few rows
    match), one that matches nothing, a model fragment, a model that matches nothing, and
    those combined with a status. On PostgreSQL they go through the trigram indexes (migration
    0008); the plans are printed so a scan would show. {label: (median, p95)} in ms."""
    from urllib.parse import urlencode

    from jobs.models import EvaluationJob

    rare = EvaluationJob.objects.order_by("created_at").values_list("name", flat=True)[0][-9:]
    cases = {
        "name contains, rare": {"name": rare},
        "name contains, no match": {"name": "zz-no-such-job-zz"},
        "model contains": {"model": "nova-pro"},
        "model contains, no match": {"model": "zz-no-such-model"},
        "status + name + model": {"status": "Completed", "name": "judge", "model": "claude"},
        "status + rare name": {"status": "Completed", "name": rare},
    }
    calls = {}
    for label, query in cases.items():
        path = f"/evaluation-jobs/?{urlencode(query)}"
        if args.size != 50:
            path += f"&size={args.size}"
        calls[label] = lambda path=path: view(make_request(path, user))
    timings = timed(calls, args.runs)
    print(f"\nFilters, page 1 of {args.jobs:,} jobs ({args.size} rows a page), ms:")
    print(f"{'filter':<28}{'median':>9}{'p95':>8}{'render':>8}")
    results = {}
    for label, (samples, share) in timings.items():
        med, high = statistics.median(samples), p95(samples)
        results[label] = (med, high)
        print(f"{label:<28}{med:>9.1f}{high:>8.1f}{share:>7.0%}")
    from jobs.selectors import evaluation_jobs as selectors

    for label, lookup in (
        ("name", {"name__icontains": "zz-no-such-job-zz"}),
        ("model", {"model_identifiers__icontains": "zz-no-such-model"}),
    ):
        plan = (
            selectors.evaluation_job_queryset(filters=selectors.EvaluationJobFilters())
            .filter(**lookup)
            .order_by("-created_at", "-arn")[:51]
            .explain()
        )
        print(f"Plan of {label} contains (no match):\n  " + plan.replace("\n", "\n  "))
    return results


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def explain(status: str | None, size: int) -> str:
    """The plan of a deep keyset page, to show it is an index range scan."""
    from django.db.models import F
    from django.db.models.fields.tuple_lookups import TupleLessThan

    from jobs.selectors import evaluation_jobs as selectors

    filters = selectors.EvaluationJobFilters(statuses=(status,) if status else ())
    qs = selectors.evaluation_job_queryset(filters=filters)
    deep = min(size * 500, qs.count() // 2)  # a deep page that exists at any --jobs
    anchor = qs.order_by("-created_at", "-arn").values_list("created_at", "arn")[deep]
    deep = qs.filter(TupleLessThan((F("created_at"), F("arn")), anchor))
    return deep.order_by("-created_at", "-arn")[: size + 1].explain()


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
    from django.db import connections
    from django.urls import resolve

    from jobs.models import EvaluationJob

    evaluation_job_list = resolve("/evaluation-jobs/").func

    print(f"database {args.database} on {urlsplit(url).hostname} (never the main one)")
    call_command("migrate", verbosity=0)
    if EvaluationJob.objects.count() != args.jobs:
        seconds = fill(args.jobs)
        print(f"filled the mirror with {args.jobs:,} jobs in {seconds:.1f} s (COPY)")
    else:
        print(f"reusing the {args.jobs:,} jobs already in it (kept by an earlier --keep)")
    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_superuser": True, "is_staff": True}
    )

    depths = [1, 100, 1000] + ([10_000] if args.jobs >= 1_000_000 else [])
    # Pages the filtered list (60 % of jobs) has: a small run (--jobs 10000) stops earlier.
    depths = [d for d in depths if d * args.size <= args.jobs / 2]
    print(f"\n{args.runs} requests per case, {args.size} rows a page; times in ms (server time)\n")
    header = (
        f"{'filter':<18}{'page':>7}  {'keyset med':>10}{'p95':>7}{'render':>8}"
        f"  {'Paginator med':>13}{'p95':>8}  {'speed-up':>8}"
    )
    print(header)
    print("-" * len(header))
    results = {}
    for status in (None, STATUS_FILTER):
        keyset_calls, offset_calls = {}, {}
        for depth in depths:
            path = keyset_path(status, depth, args.size)
            plain = f"/evaluation-jobs/?status={status}" if status else "/evaluation-jobs/"
            if args.size != 50:
                path += ("&" if "?" in path else "?") + f"size={args.size}"
                plain += ("&" if "?" in plain else "?") + f"size={args.size}"
            keyset_calls[depth] = lambda path=path: evaluation_job_list(make_request(path, user))
            offset_calls[depth] = lambda plain=plain, depth=depth: paginator_view(
                make_request(plain, user), page_number=depth
            )
        keyset = timed(keyset_calls, args.runs)
        offset = timed(offset_calls, max(10, args.runs // 2))
        for depth in depths:
            (k, share), (o, _) = keyset[depth], offset[depth]
            k_med, o_med = statistics.median(k), statistics.median(o)
            results[(status, depth)] = (k_med, p95(k), o_med)
            label = f"status={status}" if status else "none"
            print(
                f"{label:<18}{depth:>7,}  {k_med:>10.1f}{p95(k):>7.1f}{share:>7.0%}"
                f"  {o_med:>13.1f}{p95(o):>8.1f}  {o_med / k_med:>7.1f}x"
            )

    filter_results = time_filters(evaluation_job_list, user, args)

    print("\nPlan of a deep keyset page with the status filter:")
    print("  " + explain(STATUS_FILTER, args.size).replace("\n", "\n  "))
    print("Plan of a deep keyset page without a filter:")
    print("  " + explain(None, args.size).replace("\n", "\n  "))

    print("\nTargets (issue 4):")
    checks = []
    for status in (None, STATUS_FILTER):
        worst = max(results[(status, d)][1] for d in depths)
        checks.append(
            (
                f"p95 under 40 ms at every depth ({status or 'no filter'})",
                worst < 40,
                f"worst p95 {worst:.1f} ms",
            )
        )
        first, deepest = results[(status, 1)][0], results[(status, depths[-1])][0]
        checks.append(
            (
                f"deepest page within 1.2x of page 1 ({status or 'no filter'})",
                deepest <= 1.2 * first,
                f"{deepest / first:.2f}x",
            )
        )
    if args.jobs == 100_000:
        k, _, o = results[(None, 1000)]
        checks.append(
            ("3x faster than Paginator at page 1,000 of 100k", o >= 3 * k, f"{o / k:.1f}x")
        )
    if args.jobs >= 1_000_000:
        k, _, o = results[(None, 10_000)]
        checks.append(
            ("10x faster than Paginator at page 10,000 of 1M", o >= 10 * k, f"{o / k:.1f}x")
        )
    if args.jobs >= 1_000_000:
        for label, (_, p95_ms) in filter_results.items():
            checks.append(
                (f"{label} under 50 ms p95 at 1M (issue 12)", p95_ms < 50, f"{p95_ms:.1f} ms")
            )
    for name, ok, detail in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}")

    connections.close_all()
    if not args.keep:
        drop_database(maintenance, args.database)
        print(f"\ndropped {args.database} (use --keep to keep and reuse it)")
    sys.exit(0 if all(ok for _, ok, _ in checks) else 1)


if __name__ == "__main__":
    main()
