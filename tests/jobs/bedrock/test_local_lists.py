"""List operations on the local Bedrock: every filter, both sort orders, maxResults, boto3's
paginators over many pages, opaque tokens that refuse tampering, and speed at 10,000 jobs."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time

import pytest

from jobs.bedrock.local.server import LocalBedrock
from tests.jobs.bedrock.support import client_for


@pytest.fixture(scope="module")
def lb():
    """One seeded server for the module; the tests here only read.  A slow clock keeps seeded
    running jobs where they are for the whole module."""
    with LocalBedrock(control=True, random_seed=3, time_scale=1000).start() as server:
        server.seed(count=400, random_seed=11)
        yield server


@pytest.fixture(scope="module")
def bedrock(lb):
    return client_for(lb.url)


@pytest.fixture(scope="module")
def everything(bedrock):
    """All evaluation job summaries, newest first, in one page."""
    return bedrock.list_evaluation_jobs(maxResults=1000)["jobSummaries"]


def paginate(bedrock, operation: str, key: str, page_size: int, **params):
    pages = list(
        bedrock.get_paginator(operation).paginate(
            **params, PaginationConfig={"PageSize": page_size}
        )
    )
    return pages, [item for page in pages for item in page[key]]


def test_default_order_is_newest_first_with_a_default_page(bedrock, everything):
    assert len(everything) == 400
    times = [s["creationTime"] for s in everything]
    assert times == sorted(times, reverse=True)
    default = bedrock.list_evaluation_jobs()
    assert default["jobSummaries"] == everything[:100] and "nextToken" in default


@pytest.mark.parametrize("order", ["Ascending", "Descending"])
@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({}, lambda s: True),
        ({"statusEquals": "Completed"}, lambda s: s["status"] == "Completed"),
        ({"statusEquals": "Failed"}, lambda s: s["status"] == "Failed"),
        (
            {"applicationTypeEquals": "RagEvaluation"},
            lambda s: s["applicationType"] == "RagEvaluation",
        ),
        ({"nameContains": "human"}, lambda s: "human" in s["jobName"]),
        (
            {
                "statusEquals": "Completed",
                "applicationTypeEquals": "ModelEvaluation",
                "nameContains": "auto",
            },
            lambda s: (
                s["status"] == "Completed"
                and s["applicationType"] == "ModelEvaluation"
                and "auto" in s["jobName"]
            ),
        ),
    ],
)
def test_evaluation_job_paginator_filters_and_sorts(bedrock, everything, order, params, keep):
    pages, items = paginate(
        bedrock,
        "list_evaluation_jobs",
        "jobSummaries",
        25,
        sortBy="CreationTime",
        sortOrder=order,
        **params,
    )
    expected = [s for s in everything if keep(s)]
    if order == "Ascending":
        expected = expected[::-1]
    assert [s["jobArn"] for s in items] == [s["jobArn"] for s in expected]
    assert len(pages) == max(1, -(-len(expected) // 25))
    assert len(pages) > 1 or len(expected) <= 25
    assert all(len(p["jobSummaries"]) == 25 for p in pages[:-1])
    assert "nextToken" not in pages[-1]


def test_creation_time_window(bedrock, everything):
    newest, oldest = everything[0]["creationTime"], everything[-1]["creationTime"]
    middle = oldest + (newest - oldest) / 2
    _, after = paginate(
        bedrock, "list_evaluation_jobs", "jobSummaries", 40, creationTimeAfter=middle
    )
    _, before = paginate(
        bedrock,
        "list_evaluation_jobs",
        "jobSummaries",
        40,
        creationTimeBefore=middle,
        sortOrder="Ascending",
    )
    assert [s["jobArn"] for s in after] == [
        s["jobArn"] for s in everything if s["creationTime"] > middle
    ]
    assert [s["jobArn"] for s in before] == [
        s["jobArn"] for s in reversed(everything) if s["creationTime"] < middle
    ]
    _, window = paginate(
        bedrock,
        "list_evaluation_jobs",
        "jobSummaries",
        10,
        creationTimeAfter=oldest,
        creationTimeBefore=newest,
    )
    assert len(window) == 398  # both ends are excluded


def test_model_import_job_paginator(bedrock):
    everything = bedrock.list_model_import_jobs(maxResults=1000)["modelImportJobSummaries"]
    assert len(everything) == 40
    for order in ("Ascending", "Descending"):
        pages, items = paginate(
            bedrock,
            "list_model_import_jobs",
            "modelImportJobSummaries",
            7,
            sortOrder=order,
            statusEquals="Completed",
        )
        expected = [s for s in everything if s["status"] == "Completed"]
        if order == "Ascending":
            expected.reverse()
        assert len(pages) > 1
        assert [s["jobArn"] for s in items] == [s["jobArn"] for s in expected]
    _, named = paginate(
        bedrock, "list_model_import_jobs", "modelImportJobSummaries", 3, nameContains="llama"
    )
    assert named and all("llama" in s["jobName"] for s in named)


def test_imported_model_paginator(bedrock):
    everything = bedrock.list_imported_models(maxResults=1000)["modelSummaries"]
    assert len(everything) > 10
    for order in ("Ascending", "Descending"):
        pages, items = paginate(
            bedrock, "list_imported_models", "modelSummaries", 4, sortOrder=order
        )
        times = [m["creationTime"] for m in items]
        assert times == sorted(times, reverse=order == "Descending")
        assert len(pages) > 1 and len(items) == len(everything)
    cutoff = sorted(m["creationTime"] for m in everything)[5]
    _, recent = paginate(
        bedrock,
        "list_imported_models",
        "modelSummaries",
        2,
        creationTimeAfter=cutoff,
        nameContains="ft",
    )
    assert len(recent) == len(everything) - 6


def test_max_results_bounds(lb, bedrock):
    assert len(bedrock.list_evaluation_jobs(maxResults=1)["jobSummaries"]) == 1
    assert len(bedrock.list_evaluation_jobs(maxResults=1000)["jobSummaries"]) == 400
    unchecked = client_for(lb.url, client_side_validation=False)  # botocore checks the minimum
    for bad in (0, 1001):
        with pytest.raises(bedrock.exceptions.ValidationException, match="maxResults"):
            unchecked.list_evaluation_jobs(maxResults=bad)


def test_tokens_are_opaque_and_refuse_tampering(bedrock):
    first = bedrock.list_evaluation_jobs(maxResults=10, statusEquals="Completed")
    token = first["nextToken"]
    again = bedrock.list_evaluation_jobs(maxResults=10, statusEquals="Completed", nextToken=token)
    assert again["jobSummaries"][0]["jobArn"] != first["jobSummaries"][0]["jobArn"]

    # Move the cursor back one millisecond, keeping the signature: a forged position.
    body, sig = token.split(".")
    fingerprint, ms, arn = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    moved = json.dumps([fingerprint, ms - 1, arn], separators=(",", ":")).encode()
    forged = [
        "garbage",
        token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
        base64.urlsafe_b64encode(moved).decode().rstrip("=") + "." + sig,
        "x" * 2048,
    ]
    for bad in forged:
        with pytest.raises(bedrock.exceptions.ValidationException, match="nextToken"):
            bedrock.list_evaluation_jobs(maxResults=10, statusEquals="Completed", nextToken=bad)
    # A token belongs to its filters and operation.
    with pytest.raises(bedrock.exceptions.ValidationException, match="nextToken"):
        bedrock.list_evaluation_jobs(maxResults=10, statusEquals="Failed", nextToken=token)
    with pytest.raises(bedrock.exceptions.ValidationException, match="nextToken"):
        bedrock.list_model_import_jobs(nextToken=token)
    # maxResults may change between pages.
    assert bedrock.list_evaluation_jobs(maxResults=3, statusEquals="Completed", nextToken=token)


def test_a_token_survives_jobs_added_and_removed_meanwhile(lb):
    """Keyset tokens: no item is skipped or repeated when the list changes between pages."""
    with LocalBedrock(control=True).start() as local:
        local.seed(count=30, random_seed=5)
        client = client_for(local.url)
        first = client.list_evaluation_jobs(maxResults=10)
        seen = [s["jobArn"] for s in first["jobSummaries"]]
        local.seed(count=5, random_seed=6)  # older and newer jobs appear
        rest = client.list_evaluation_jobs(maxResults=1000, nextToken=first["nextToken"])
        later = [s["jobArn"] for s in rest["jobSummaries"]]
        assert not set(seen) & set(later)
        last_seen = first["jobSummaries"][-1]["creationTime"]
        assert all(s["creationTime"] <= last_seen for s in rest["jobSummaries"])


def test_lists_are_fast_at_ten_thousand_jobs():
    with LocalBedrock(random_seed=1).start() as local:
        local.seed(count=10_000, random_seed=2)
        client = client_for(local.url)
        client.list_evaluation_jobs(maxResults=1)  # warm up
        started = time.monotonic()
        pages, items = paginate(client, "list_evaluation_jobs", "jobSummaries", 1000)
        full = time.monotonic() - started
        assert len(items) == 10_000 and len(pages) == 10
        started = time.monotonic()
        for _ in range(20):
            # A rare status over the whole index, newest first and oldest first.
            client.list_evaluation_jobs(maxResults=50, statusEquals="Stopping")
            client.list_evaluation_jobs(
                maxResults=50,
                sortOrder="Ascending",
                creationTimeAfter=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
            )
        filtered = (time.monotonic() - started) / 40
        # Generous bounds for a loaded 2-core machine; typical figures are a tenth of these.
        assert full < 8, full
        assert filtered < 0.2, filtered
