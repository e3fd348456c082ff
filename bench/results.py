"""Evaluation results: ingestion time and the ingesting process's added peak memory, for
1 dataset × 100 prompts and 5 datasets × 1,000 prompts with 4 KB responses (issue 11's
targets: 5 × 1,000 in under 5 s with under 60 MiB of added RSS); and (to come) the compare
page's server time for 10 jobs.

    python bench/results.py [--cases 1x100 5x1000] [--rounds 3]

This process starts a local S3 (moto's server, LocalS3) and writes LLM-as-a-judge outputs in the
documented layout into it (4 metrics a line, one of them sometimes null, a 4 KB response and a
judge's explanation per line). Each case then runs in a child process of its own, like a
worker: SQLite under a temporary directory always, and PostgreSQL too when DATABASE_URL is
set (a throwaway database bench_results_<pid> beside it, dropped afterwards). The child warms
up (imports, clients, one small fetch), then times `evaluation_results_fetch(force=True)` and
measures its peak RSS during the fetch: /proc/self/clear_refs resets VmHWM to the current RSS
just before (falling back to the VmHWM delta where that is not allowed), and the added peak
is VmHWM after minus VmRSS before.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUCKET = "bench-results"
BASE = "runs"
MODEL = "my-own-chatbot"
METRICS = ("Builtin.Correctness", "Builtin.Completeness", "Builtin.Helpfulness", "BrandVoice")
TARGET_SECONDS = 5.0
TARGET_MIB = 60.0


# --- the outputs ------------------------------------------------------------------------------


def job_name(datasets: int, prompts: int) -> str:
    return f"bench-{datasets}x{prompts}"


def job_id(datasets: int, prompts: int) -> str:
    return f"b{datasets:02d}x{prompts:05d}abcd"


def output_lines(dataset: int, prompts: int) -> bytes:
    """One dataset's `_output.jsonl`: judge lines with a 4 KB response each."""
    rng = random.Random(dataset * 100_003 + prompts)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    lines = []
    for i in range(prompts):
        response = " ".join(rng.choice(words) for _ in range(800))[:4096]
        scores = []
        for metric in METRICS:
            result = None if rng.random() < 0.05 else rng.choice((0.0, 0.25, 0.5, 0.75, 1.0))
            scores.append(
                {
                    "metricName": metric,
                    "result": result,
                    "evaluatorDetails": [
                        {"modelIdentifier": "judge", "explanation": f"{metric} because " * 12}
                    ],
                }
            )
        lines.append(
            json.dumps(
                {
                    "automatedEvaluationResult": {"scores": scores},
                    "inputRecord": {
                        "prompt": f"Question {i} of dataset {dataset}: " + "why? " * 30,
                        "referenceResponse": "Because. " * 20,
                        "modelResponses": [{"modelIdentifier": MODEL, "response": response}],
                    },
                }
            )
        )
    return ("\n".join(lines) + "\n").encode()


def write_outputs(cases: list[tuple[int, int]]) -> None:
    from jobs.bedrock.s3 import s3_create_bucket, s3_put_object

    s3_create_bucket(bucket=BUCKET)
    for datasets, prompts in [*cases, (1, 1)]:  # (1, 1): the children's warm-up job
        root = f"{BASE}/{job_name(datasets, prompts)}/{job_id(datasets, prompts)}"
        for d in range(datasets):
            key = f"{root}/models/{MODEL}/taskTypes/General/datasets/set-{d}/{d:04d}_output.jsonl"
            s3_put_object(bucket=BUCKET, key=key, body=output_lines(d, prompts))


# --- the child: one case on one database ------------------------------------------------------


def proc_status(field: str) -> int:
    """A /proc/self/status figure in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def reset_peak() -> bool:
    """Set VmHWM to the current RSS (Linux 4.0+: write 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def make_job(datasets: int, prompts: int):
    import datetime as dt

    from django.utils import timezone

    from jobs.models import EvaluationJob

    rid = job_id(datasets, prompts)
    name = job_name(datasets, prompts)
    return EvaluationJob.objects.create(
        arn=f"arn:aws:bedrock:us-east-1:123456789012:evaluation-job/{rid}",
        resource_id=rid,
        region="us-east-1",
        account="123456789012",
        name=name,
        created_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        last_synced_at=timezone.now(),
        status="Completed",
        job_type="Automated",
        description={"jobName": name, "outputDataConfig": {"s3Uri": f"s3://{BUCKET}/{BASE}/"}},
        needs_description=False,
    )


def child(datasets: int, prompts: int, rounds: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    import django

    django.setup()
    from django.db import connection

    from jobs.results.ingest import evaluation_results_fetch

    connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "postgresql":
        connection.settings_dict["TEST"]["NAME"] = f"bench_results_{os.getpid()}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        warm = make_job(1, 1)
        assert evaluation_results_fetch(job_id=warm.pk).state == "ready"
        job = make_job(datasets, prompts)
        seconds, added = [], []
        for _ in range(rounds):
            before = proc_status("VmRSS")
            if not reset_peak():
                before = proc_status("VmHWM")
            started = time.perf_counter()
            result_set = evaluation_results_fetch(job_id=job.pk, force=True)
            seconds.append(time.perf_counter() - started)
            added.append((proc_status("VmHWM") - before) / 2**20)
            assert result_set.state == "ready", result_set.error_message
            assert result_set.lines == datasets * prompts and result_set.bad_lines == 0
            assert result_set.records == datasets * prompts
        name = f"{connection.vendor} {datasets}x{prompts:,}"
        verdict = ""
        if (datasets, prompts) == (5, 1000):
            ok = max(seconds) < TARGET_SECONDS and max(added) < TARGET_MIB
            verdict = f"  target <{TARGET_SECONDS:.0f} s, <{TARGET_MIB:.0f} MiB: " + (
                "met" if ok else "MISSED"
            )
        print(
            f"{name:>22}  ingest median {statistics.median(seconds):5.2f} s "
            f"(max {max(seconds):.2f}, {len(seconds)} runs, "
            f"{datasets * prompts / statistics.median(seconds):,.0f} lines/s)  "
            f"added peak RSS max {max(added):5.1f} MiB{verdict}",
            flush=True,
        )
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


# === The compare page (issue 11, "Pages") ======================================================
# LEAD: add the compare page's server time for 10 jobs here (e.g. 10 jobs ingested as above,
# then the compare view timed in-process with RequestFactory, median and p95; target < 50 ms).
def bench_compare_page() -> None:
    """The compare page's server time for 10 jobs: bench/results_compare.py in a child (it
    needs PostgreSQL and its own database; skipped with a note without DATABASE_URL)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("\ncompare page: skipped (set DATABASE_URL=postgres://... to time it)")
        return
    print("\ncompare page, 10 jobs (bench/results_compare.py):", flush=True)
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "results_compare.py"), "--jobs", "10"],
        check=False,
    )


# --- main -------------------------------------------------------------------------------------


def parse_case(text: str) -> tuple[int, int]:
    datasets, prompts = text.lower().split("x")
    return int(datasets), int(prompts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["1x100", "5x1000"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*parse_case(args.child), args.rounds)
        return

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    cases = [parse_case(c) for c in args.cases]
    from jobs.bedrock.local.s3 import LocalS3

    with LocalS3().start() as s3, tempfile.TemporaryDirectory(prefix="bench-results-") as tmp:
        os.environ["S3_ENDPOINT_URL"] = s3.url
        import logging

        import django

        django.setup()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
        started = time.perf_counter()
        write_outputs(cases)
        size = sum(len(output_lines(d, p)) for ds, p in cases for d in range(ds))
        print(
            f"wrote {size / 2**20:.1f} MiB of outputs to the local S3 in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        databases = {"sqlite": ""}
        if os.environ.get("DATABASE_URL"):
            databases["postgresql"] = os.environ["DATABASE_URL"]
        for datasets, prompts in cases:
            for database_url in databases.values():
                env = {
                    **os.environ,
                    "DATABASE_URL": database_url,
                    "DASHBOARD_VAR_DIR": tmp,
                    "S3_ENDPOINT_URL": s3.url,
                    "DJANGO_LOG_LEVEL": "WARNING",
                }
                argv = [sys.executable, __file__, "--child", f"{datasets}x{prompts}"]
                subprocess.run([*argv, "--rounds", str(args.rounds)], env=env, check=True)
    bench_compare_page()


if __name__ == "__main__":
    main()
