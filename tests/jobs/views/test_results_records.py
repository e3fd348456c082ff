"""The prompts page: per-prompt records in keyset pages, filtered by dataset, model, metric and
score range, sorted by position or by any metric's score (nulls last, either way), and every
bad parameter answered with a 400 page, never a 500."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.jobs.views.factories import make_job
from tests.jobs.views.results_factories import add_records, make_result_set

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "record-table"}
# 12 prompts of "qa": distinct Correctness scores but two ties and three nulls.
CORRECTNESS = [0.9, None, 0.1, 0.5, 0.5, None, 0.7, 0.3, 0.5, None, 0.05, 1.0]
RELEVANCE = [0.2] * 12


@pytest.fixture
def job():
    job = make_job(status="Completed", name="prompts-job")
    result_set = make_result_set(job)
    add_records(
        result_set,
        dataset="qa",
        scores={"Builtin.Correctness": CORRECTNESS, "Builtin.Relevance": RELEVANCE},
    )
    add_records(
        result_set,
        dataset="summaries",
        model="amazon.nova-pro-v1:0",
        scores={"Builtin.Correctness": [0.4, 0.6], "Builtin.Relevance": [0.9, 0.8]},
    )
    return job


def url(job) -> str:
    return f"/evaluation-jobs/{job.resource_id}/results/"


def html_of(response) -> str:
    return response.content.decode()


def positions(response) -> list[tuple[str, int]]:
    """(dataset, position) of each row, in order."""
    return [
        (d, int(p))
        for d, p in re.findall(
            r'<span class="where muted small">([^ ]+) · #(\d+) ·', html_of(response)
        )
    ]


def row_scores(response) -> list[str]:
    return re.findall(
        r'<td class="score num">(?:<span class="null"[^>]*>(null)</span>|([0-9.]+))</td>',
        html_of(response),
    )


def scores_in_order(response) -> list[str]:
    return [a or b for a, b in row_scores(response)]


def link(response, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)"[^>]*rel="{rel}"', html_of(response))
    return unescape(match.group(1)) if match else None


def test_records_in_output_order_with_everything_readable(viewer_client, job):
    response = viewer_client.get(url(job))
    assert response.status_code == 200
    assert positions(response)[:3] == [("qa", 0), ("qa", 1), ("qa", 2)]
    html = html_of(response)
    # Prompt, reference, response, every score and the judge's explanation, in the row.
    first = html.split('<tr id="record-')[1]
    for text in (
        "qa question 0: what is 0 squared?",
        "The answer is 0.",
        "says: 0, reply 0 of prompts-job.",
        "Builtin.Relevance",
        "The judge on prompt 0: Builtin.Correctness looks like 0.9.",
    ):
        assert text in first, text
    assert "style=" not in html


def test_filter_by_dataset_model_and_range(viewer_client, job):
    response = viewer_client.get(url(job), {"dataset": "summaries"})
    assert positions(response) == [("summaries", 0), ("summaries", 1)]
    response = viewer_client.get(url(job), {"model": "amazon.nova-pro-v1:0"})
    assert positions(response) == [("summaries", 0), ("summaries", 1)]
    response = viewer_client.get(url(job), {"range": "null"})
    assert positions(response) == [("qa", 1), ("qa", 5), ("qa", 9)]
    assert scores_in_order(response) == ["null"] * 3
    response = viewer_client.get(url(job), {"range": "below", "x": "0.3"})
    assert scores_in_order(response) == ["0.100", "0.050"]
    response = viewer_client.get(
        url(job), {"range": "above", "x": "0.5", "metric": "Builtin.Relevance"}
    )
    assert positions(response) == [("summaries", 0), ("summaries", 1)]


def test_lowest_scores_first_and_highest_first_keep_nulls_last(viewer_client, job):
    response = viewer_client.get(url(job), {"sort": "score", "size": "100"})
    assert scores_in_order(response) == [
        "0.050",
        "0.100",
        "0.300",
        "0.400",
        "0.500",
        "0.500",
        "0.500",
        "0.600",
        "0.700",
        "0.900",
        "1.000",
        "null",
        "null",
        "null",
    ]
    response = viewer_client.get(url(job), {"sort": "-score", "size": "100"})
    assert scores_in_order(response)[:2] == ["1.000", "0.900"]
    assert scores_in_order(response)[-4:] == ["0.050", "null", "null", "null"]


@pytest.mark.parametrize("sort", ["score", "-score"])
def test_keyset_pages_forward_and_back_through_ties_and_nulls(viewer_client, job, sort):
    everything = scores_in_order(viewer_client.get(url(job), {"sort": sort, "size": "100"}))
    everything_rows = positions(viewer_client.get(url(job), {"sort": sort, "size": "100"}))
    pages, rows, response = [], [], viewer_client.get(url(job), {"sort": sort, "size": "10"})
    # size 10 pages over 14 records: the ties (0.5 ×3) and the nulls straddle the pages.
    response = viewer_client.get(url(job), {"sort": sort, "size": "10"})
    seen_pages = []
    while True:
        seen_pages.append(response)
        pages += scores_in_order(response)
        rows += positions(response)
        following = link(response, "next")
        if not following:
            break
        response = viewer_client.get(following)
        assert response.status_code == 200
    assert pages == everything and rows == everything_rows
    assert len(seen_pages) == 2
    # And back: the previous page of the last page is the first page again.
    back = viewer_client.get(link(seen_pages[-1], "prev"))
    assert positions(back) == positions(seen_pages[0])


def test_keyset_pages_by_position_forward_and_back(viewer_client, job):
    first = viewer_client.get(url(job), {"size": "10"})
    second = viewer_client.get(link(first, "next"))
    assert positions(first) + positions(second) == [("qa", i) for i in range(12)] + [
        ("summaries", 0),
        ("summaries", 1),
    ]
    assert link(second, "next") is None
    assert positions(viewer_client.get(link(second, "prev"))) == positions(first)


def test_a_page_of_a_metric_sort_pages_inside_the_null_segment(viewer_client, job):
    """The cursor itself is a null: the next page continues among the nulls."""
    # "qa" alone: 9 scores, then 3 nulls; a page of 10 ends on the first null.
    response = viewer_client.get(url(job), {"sort": "score", "size": "10", "dataset": "qa"})
    assert scores_in_order(response)[-1] == "null"
    rest = viewer_client.get(link(response, "next"))
    assert scores_in_order(rest) == ["null", "null"]
    back = viewer_client.get(link(rest, "prev"))
    assert scores_in_order(back) == scores_in_order(response)


def test_htmx_gets_the_table_and_the_short_address(viewer_client, job):
    response = viewer_client.get(
        url(job), {"dataset": "", "model": "", "range": "", "x": "", "sort": "score"}, **HTMX
    )
    html = html_of(response)
    assert html.lstrip().startswith('<div id="record-table"')
    assert response["HX-Push-Url"] == url(job) + "?sort=score"


def test_an_invalid_filter_in_an_htmx_request_shows_in_the_table(viewer_client, job):
    response = viewer_client.get(url(job), {"range": "below", "x": "abc"}, **HTMX)
    assert response.status_code == 200
    assert "Some filters are not valid" in html_of(response)


@pytest.mark.parametrize(
    "params",
    [
        {"dataset": "nope"},
        {"model": "x" * 5000},
        {"metric": "Builtin.Unknown"},
        {"range": "sideways"},
        {"range": "below"},  # no x
        {"range": "below", "x": "1e400"},
        {"range": "below", "x": "nan"},
        {"range": "above", "x": "inf"},
        {"range": "above", "x": "-99999999999999999999"},
        {"range": "above", "x": "١٢"},  # Arabic-Indic digits
        {"range": "above", "x": "0.5\x00"},
        {"sort": "prompt"},
        {"size": "1000000"},
        {"size": "-1"},
        {"size": "２５"},
        {"dataset": "qa\x00"},
    ],
)
def test_bad_parameters_are_a_400_page(viewer_client, job, params):
    response = viewer_client.get(url(job), params)
    assert response.status_code == 400
    assert "Some filters are not valid" in html_of(response)


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "x" * 5000,
        "é",
        "\x00",
        "eyJrIjpbMSwiIiwxXSwiZCI6Im4iLCJzIjoiMCJ9:1tAAAA:AAAA",
    ],
)
def test_tampered_page_tokens_are_a_400_page(viewer_client, job, token):
    response = viewer_client.get(url(job), {"page": token})
    assert response.status_code == 400
    assert "This page link is damaged" in html_of(response)


def test_a_token_of_another_filter_is_a_400(viewer_client, job):
    first = viewer_client.get(url(job), {"sort": "score", "size": "10"})
    token = re.search(r"page=([^&\"]+)", link(first, "next")).group(1)
    response = viewer_client.get(url(job), {"sort": "-score", "size": "10", "page": token})
    assert response.status_code == 400
    assert "belongs to other filters" in html_of(response)


def test_a_forged_key_inside_a_signed_token_is_a_400(viewer_client, job):
    from jobs.pagination import NEXT, token_encode
    from jobs.selectors.results import RecordFilters

    filters = RecordFilters(metric="Builtin.Correctness", sort="score")
    scope = filters.scope(job.results)
    for key in ((0, "not-a-number", 1), (7, "", 1), (0, "0.5"), (1, "", "x")):
        token = token_encode(key=key, direction=NEXT, scope=scope)
        response = viewer_client.get(url(job), {"sort": "score", "page": token})
        assert response.status_code == 400, key


def test_unknown_jobs_and_ids_are_404s(viewer_client):
    assert viewer_client.get("/evaluation-jobs/zzzzzzzzzzzz/results/").status_code == 404
    assert viewer_client.get("/evaluation-jobs/BAD%00ID/results/").status_code == 404
    assert viewer_client.get(f"/evaluation-jobs/{'a' * 300}/results/").status_code == 404


def test_a_job_without_results_says_so(viewer_client):
    job = make_job(status="InProgress")
    response = viewer_client.get(url(job))
    assert response.status_code == 200
    assert "No results to browse yet" in html_of(response)
