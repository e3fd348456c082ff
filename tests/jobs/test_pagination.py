"""Keyset pages behind signed tokens: round trips, no gaps or repeats under inserts, and a
specific error for every kind of bad token."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs.models import EvaluationJob
from jobs.pagination import (
    NEXT,
    PREV,
    ExpiredPageToken,
    MismatchedPageToken,
    TamperedPageToken,
    keyset_page,
    page_scope,
    token_decode,
    token_encode,
)
from tests.jobs.views.factories import BASE_TIME, make_job, make_jobs

SCOPE = page_scope("evaluation_jobs", {"status": ["Completed"]})
KEY = (
    dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC),
    "arn:aws:bedrock:x:1:evaluation-job/a",
)


def test_a_token_round_trips_its_cursor():
    token = token_encode(key=KEY, direction=NEXT, scope=SCOPE)
    cursor = token_decode(token, scope=SCOPE)
    assert cursor.key == KEY and cursor.direction == NEXT
    assert (
        token_decode(token_encode(key=KEY, direction=PREV, scope=SCOPE), scope=SCOPE).direction
        == PREV
    )


def test_a_token_is_opaque_and_url_safe():
    token = token_encode(key=KEY, direction=NEXT, scope=SCOPE)
    assert "arn" not in token and "2026" not in token
    assert all(c.isalnum() or c in "-_:." for c in token)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: t[:10] + ("x" if t[10] != "x" else "y") + t[11:],  # payload changed
        lambda t: t[: len(t) // 2],  # cut short
        lambda t: "not-a-token",
        lambda t: "",
    ],
)
def test_a_tampered_token_is_refused_as_tampered(tamper):
    token = token_encode(key=KEY, direction=NEXT, scope=SCOPE)
    with pytest.raises(TamperedPageToken) as info:
        token_decode(tamper(token) or "x", scope=SCOPE)
    assert "changed" in info.value.explanation


def test_a_token_signed_for_something_else_is_tampered():
    other = signing.dumps({"k": [], "d": "n", "s": SCOPE}, salt="another.salt", compress=True)
    with pytest.raises(TamperedPageToken):
        token_decode(other, scope=SCOPE)
    wrong_shape = signing.dumps({"x": 1}, salt="jobs.pagination.page-token", compress=True)
    with pytest.raises(TamperedPageToken):
        token_decode(wrong_shape, scope=SCOPE)


def test_an_old_token_is_refused_as_expired(monkeypatch):
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 13 * 3600)
    token = token_encode(key=KEY, direction=NEXT, scope=SCOPE)
    monkeypatch.setattr(time, "time", real)
    with pytest.raises(ExpiredPageToken) as info:
        token_decode(token, scope=SCOPE)
    assert "12 hours" in info.value.explanation
    # Within its age it is fine.
    assert token_decode(token, scope=SCOPE, max_age=dt.timedelta(hours=14)).key == KEY


def test_a_token_for_another_filter_is_refused_as_mismatched():
    token = token_encode(key=KEY, direction=NEXT, scope=SCOPE)
    with pytest.raises(MismatchedPageToken):
        token_decode(token, scope=page_scope("evaluation_jobs", {"status": ["Failed"]}))
    with pytest.raises(MismatchedPageToken):
        token_decode(token, scope=page_scope("import_jobs", {"status": ["Completed"]}))


def test_equal_filters_share_a_scope():
    assert page_scope("k", {"a": 1, "b": [1, 2]}) == page_scope("k", {"b": [1, 2], "a": 1})
    assert page_scope("k", {"a": 1}) != page_scope("k", {"a": 2})


# --- keyset_page over real rows -------------------------------------------------------------


def _walk(qs, *, size, descending=True, scope="s"):
    """Pages from the first forward to the last, then back to the first again."""
    forward, page = [], keyset_page(qs, size=size, token=None, scope=scope, descending=descending)
    forward.append(page)
    while page.next_token:
        page = keyset_page(qs, size=size, token=page.next_token, scope=scope, descending=descending)
        forward.append(page)
    backward = [page]
    while page.prev_token:
        page = keyset_page(qs, size=size, token=page.prev_token, scope=scope, descending=descending)
        backward.append(page)
    return forward, backward


def _arns(pages):
    return [[j.arn for j in p.items] for p in pages]


@pytest.mark.django_db
@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("count,size", [(0, 5), (1, 5), (5, 5), (23, 5), (25, 5), (60, 25)])
def test_pages_cover_every_row_once_in_order_both_ways(count, size, descending):
    make_jobs(count)
    qs = EvaluationJob.objects.all()
    forward, backward = _walk(qs, size=size, descending=descending)
    ordering = ("-created_at", "-arn") if descending else ("created_at", "arn")
    expected = list(qs.order_by(*ordering).values_list("arn", flat=True))
    flat = [arn for page in _arns(forward) for arn in page]
    assert flat == expected
    assert len(forward) == max(1, -(-count // size))
    assert _arns(backward) == _arns(forward)[::-1]
    assert forward[0].is_first and not forward[-1].has_next


@pytest.mark.django_db
def test_equal_creation_times_are_ordered_by_arn_without_gaps():
    same = BASE_TIME
    make_jobs(12, created_at=same)
    forward, _ = _walk(EvaluationJob.objects.all(), size=5)
    flat = [arn for page in _arns(forward) for arn in page]
    assert flat == sorted(flat, reverse=True) and len(set(flat)) == 12


@pytest.mark.django_db
def test_no_gaps_or_repeats_while_jobs_are_added_between_pages():
    make_jobs(40)
    original = set(EvaluationJob.objects.values_list("arn", flat=True))
    qs = EvaluationJob.objects.all()
    seen: list[str] = []
    page = keyset_page(qs, size=7, token=None, scope="s")
    first_page = [j.arn for j in page.items]
    seen += first_page
    tokens = []
    while page.next_token:
        # A new job arrives (newest first: it lands on page one) between every page load.
        make_job(created_at=dt.datetime.now(dt.UTC))
        tokens.append(page.next_token)
        page = keyset_page(qs, size=7, token=page.next_token, scope="s")
        seen += [j.arn for j in page.items]
    assert len(seen) == len(set(seen)) == 40 and set(seen) == original
    # Back again: each page is the one seen going forward; page one then offers the new jobs.
    back = []
    while page.prev_token:
        page = keyset_page(qs, size=7, token=page.prev_token, scope="s")
        back.append([j.arn for j in page.items])
        if back[-1] == first_page:
            break
    assert back[-1] == first_page and page.has_prev
    # Before it, only the 5 new jobs: a short page one, no row of the original page repeated.
    newer = keyset_page(qs, size=7, token=page.prev_token, scope="s")
    assert len(newer.items) == 5 and newer.is_first
    assert {j.arn for j in newer.items}.isdisjoint(original)
    again = keyset_page(qs, size=7, token=newer.next_token, scope="s")
    assert [j.arn for j in again.items] == first_page


@pytest.mark.django_db
def test_going_back_to_the_start_after_deletions_gives_page_one():
    jobs = sorted(make_jobs(12), key=lambda j: (j.created_at, j.arn), reverse=True)
    qs = EvaluationJob.objects.all()
    page1 = keyset_page(qs, size=5, token=None, scope="s")
    page2 = keyset_page(qs, size=5, token=page1.next_token, scope="s")
    EvaluationJob.objects.filter(arn__in=[j.arn for j in jobs[:3]]).delete()
    back = keyset_page(qs, size=5, token=page2.prev_token, scope="s")
    assert back.is_first and back.has_next
    assert [j.arn for j in back.items] == [j.arn for j in jobs[3:5]]
    # With every row before the cursor gone, going back shows page one as it is now.
    EvaluationJob.objects.filter(arn__in=[j.arn for j in jobs[3:5]]).delete()
    back = keyset_page(qs, size=5, token=page2.prev_token, scope="s")
    assert back.is_first and [j.arn for j in back.items] == [j.arn for j in jobs[5:10]]


@pytest.mark.django_db
def test_a_page_after_its_rows_vanished_is_empty_but_links_back():
    make_jobs(6)
    qs = EvaluationJob.objects.all()
    page1 = keyset_page(qs, size=5, token=None, scope="s")
    EvaluationJob.objects.exclude(arn__in=[j.arn for j in page1.items]).delete()
    page2 = keyset_page(qs, size=5, token=page1.next_token, scope="s")
    assert page2.items == [] and page2.has_prev and not page2.has_next


@pytest.mark.django_db
def test_a_page_is_one_query_with_a_row_value_comparison_and_no_offset_or_count():
    make_jobs(30)
    qs = EvaluationJob.objects.filter(listed=True)
    token = keyset_page(qs, size=10, token=None, scope="s").next_token
    with CaptureQueriesContext(connection) as ctx:
        keyset_page(qs, size=10, token=token, scope="s")
    assert len(ctx.captured_queries) == 1
    sql = ctx.captured_queries[0]["sql"].upper()
    assert "OFFSET" not in sql and "COUNT(" not in sql and "LIMIT 11" in sql
    if connection.features.supports_tuple_lookups:
        assert '("JOBS_EVALUATIONJOB"."CREATED_AT", "JOBS_EVALUATIONJOB"."ARN") <' in sql


def test_page_size_must_be_positive():
    with pytest.raises(ValueError):
        keyset_page(EvaluationJob.objects.none(), size=0, token=None, scope="s")
