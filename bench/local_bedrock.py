"""Throughput of the local Bedrock over real HTTP with boto3 (no Django needed).

    python bench/local_bedrock.py [--jobs 10000] [--rounds 5] [--threads 4] [--seconds 2]

Starts a LocalBedrock on a free loopback port with 10,000 seeded evaluation jobs, in a child
process of its own as `manage.py bedrock_local` runs (so the clients' boto3 work does not
compete with it for this process's GIL), then, for several rounds, has a few client threads
(one boto3 client each) call GetEvaluationJob for random jobs, and walk ListEvaluationJobs
with maxResults=1000 following nextToken.  Prints the median requests per second of each
operation and the spread over the rounds.  On a 2-core machine the clients (botocore's
signing and parsing) are the larger cost; the figures are for the pair.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobs.bedrock.local.server import LocalBedrock  # noqa: E402 - after the path fix-up


def serve(jobs: int, conn, stop) -> None:
    """Child process: seed, report the URL and counts, serve until told to stop."""
    with LocalBedrock(control=False, random_seed=7).start() as lb:
        started = time.monotonic()
        counts = lb.seed(count=jobs, random_seed=7)
        conn.send((lb.url, counts, time.monotonic() - started))
        stop.wait()


def make_client(url: str):
    return boto3.client(
        "bedrock",
        region_name="us-east-1",
        endpoint_url=url,
        # The local Bedrock accepts any credentials; botocore insists on signing with some.
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=4),
    )


def run_round(clients: list, work: Callable[[object, random.Random], int], seconds: float) -> float:
    """Requests per second of all threads together, each calling ``work`` until time is up."""
    counts = [0] * len(clients)
    deadline = time.monotonic() + seconds

    def loop(i: int) -> None:
        rng = random.Random(i)
        while time.monotonic() < deadline:
            counts[i] += work(clients[i], rng)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(len(clients))]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - started)


def report(name: str, figures: list[float]) -> None:
    print(
        f"{name}: median {statistics.median(figures):.0f} req/s "
        f"({len(figures)} rounds, min {min(figures):.0f}, max {max(figures):.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each round")
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    parent_conn, child_conn = ctx.Pipe()
    stop = ctx.Event()
    server = ctx.Process(target=serve, args=(args.jobs, child_conn, stop), daemon=True)
    server.start()
    try:
        url, counts, took = parent_conn.recv()
        print(f"Seeded {counts} in {took:.1f} s at {url}")
        clients = [make_client(url) for _ in range(args.threads)]
        arns = [
            s["jobArn"] for s in clients[0].list_evaluation_jobs(maxResults=1000)["jobSummaries"]
        ]

        def get_job(client, rng: random.Random) -> int:
            client.get_evaluation_job(jobIdentifier=rng.choice(arns))
            return 1

        def list_page(client, rng: random.Random, _state: dict = {}) -> int:  # noqa: B006
            # Each thread walks the whole list, page by page, starting over at the end.
            key = threading.get_ident()
            params = {"maxResults": 1000}
            if _state.get(key):
                params["nextToken"] = _state[key]
            response = client.list_evaluation_jobs(**params)
            assert len(response["jobSummaries"]) > 0
            _state[key] = response.get("nextToken")
            return 1

        for client in clients:  # warm up connections and botocore's caches
            get_job(client, random.Random(0))
            list_page(client, random.Random(0))
        print(f"{args.threads} client threads, {args.seconds:.0f} s rounds")
        gets = [run_round(clients, get_job, args.seconds) for _ in range(args.rounds)]
        report("GetEvaluationJob", gets)
        # The same GetEvaluationJob calls without boto3 (unsigned, unparsed): the server alone.
        netloc = urlsplit(url).netloc
        raw = [http.client.HTTPConnection(netloc) for _ in range(args.threads)]

        def raw_get(conn, rng: random.Random) -> int:
            conn.request("GET", "/evaluation-jobs/" + quote(rng.choice(arns), safe=""))
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            return 1

        raws = [run_round(raw, raw_get, args.seconds) for _ in range(args.rounds)]
        report("GetEvaluationJob, raw HTTP without boto3", raws)
        lists = [run_round(clients, list_page, args.seconds) for _ in range(args.rounds)]
        report("ListEvaluationJobs (maxResults=1000)", lists)
        print(
            "  = median "
            f"{statistics.median(lists) * 1000:.0f} job summaries/s through boto3's parser"
        )
    finally:
        stop.set()
        server.join(timeout=10)


if __name__ == "__main__":
    main()
