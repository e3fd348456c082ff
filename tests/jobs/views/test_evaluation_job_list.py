"""The evaluation-job list: filters in the URL, keyset pages, bad tokens, htmx partials, the
no-JS form, empty states, status chips, row polling and the sync header."""

from __future__ import annotations

import datetime as dt
import re
import time
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs import sync
from jobs.models import EvaluationJob, StatusCount, SyncRun
from jobs.pagination import page_scope, token_encode
from jobs.selectors import evaluation_jobs as selectors
from tests.jobs.views import live
from tests.jobs.views.factories import BASE_TIME, make_job, make_jobs

pytestmark = pytest.mark.django_db

URL = "/evaluation-jobs/"
HTMX_TABLE = {"HX-Request": "true", "HX-Target": "job-table"}
HTMX_BROWSER = {"HX-Request": "true", "HX-Target": "job-browser"}


def row_names(response) -> list[str]:
    html = response.content.decode()
    return [unescape(n) for n in re.findall(r'<td class="name"><a href="[^"]+">([^<]*)</a>', html)]


def link(response, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)"[^>]*rel="{rel}"', response.content.decode())
    return unescape(match.group(1)) if match else None


@pytest.fixture
def catalogue():
    """Eight jobs that each filter tells apart (newest first by name order a..h)."""
    t = BASE_TIME
    rows = [
        dict(name="a-support-auto", status="InProgress", created_at=t),
        dict(
            name="b-billing-judge",
            status="Failed",
            created_at=t - dt.timedelta(hours=1),
            task_types=["Summarization"],
            models=["amazon.nova-pro-v1:0"],
        ),
        dict(
            name="c-legal-human",
            status="Completed",
            job_type="Human",
            created_at=t - dt.timedelta(days=1),
            task_types=["Generation", "Custom"],
            models=["amazon.nova-pro-v1:0", "meta.llama3-1-70b-instruct-v1:0"],
        ),
        dict(
            name="d-support-rag",
            status="Completed",
            application_type="RagEvaluation",
            created_at=t - dt.timedelta(days=2),
            task_types=["QuestionAndAnswer"],
            models=[],
        ),
        dict(
            name="e-hr-auto",
            status="Stopped",
            created_at=t - dt.timedelta(days=3),
            task_types=["Classification"],
        ),
        dict(name="f-travel-auto", status="Stopping", created_at=t - dt.timedelta(days=10)),
        dict(name="g-support-old", status="Completed", created_at=t - dt.timedelta(days=40)),
        dict(
            name="h-vanished",
            status="Completed",
            created_at=t - dt.timedelta(days=41),
            listed=False,
            vanished_at=timezone.now(),
        ),
    ]
    return [make_job(**row) for row in rows]


@pytest.mark.parametrize(
    "query,expected",
    [
        ("", "abcdefg"),
        ("?status=Completed", "cdg"),
        ("?status=Completed&status=Failed", "bcdg"),
        ("?status=InProgress&status=Stopping", "af"),
        ("?job_type=Human", "c"),
        ("?job_type=Automated", "abdefg"),
        ("?application_type=RagEvaluation", "d"),
        ("?task_type=Custom", "c"),
        ("?task_type=Summarization", "b"),
        ("?model=nova-pro", "bc"),
        ("?model=LLAMA3", "c"),
        ("?name=support", "adg"),
        ("?name=SUPPORT", "adg"),
        ("?created_after=2026-05-30", "abcd"),
        ("?created_before=2026-05-29", "efg"),
        ("?created_after=2026-05-22&created_before=2026-05-31", "cdef"),
        ("?vanished=on", "abcdefgh"),
        ("?vanished=on&status=Completed", "cdgh"),
        ("?sort=oldest", "gfedcba"),
        ("?sort=oldest&vanished=on", "hgfedcba"),
        # Combinations.
        ("?status=Completed&name=support", "dg"),
        ("?status=Completed&name=support&application_type=ModelEvaluation", "g"),
        ("?model=nova&status=Failed&task_type=Summarization", "b"),
        ("?name=support&created_after=2026-05-25&sort=oldest", "da"),
        ("?job_type=Automated&status=Completed&status=Stopped&created_before=2026-05-30", "deg"),
        ("?name=nothing-like-this", ""),
    ],
)
def test_filters_and_sort(viewer_client, catalogue, query, expected):
    response = viewer_client.get(URL + query)
    assert response.status_code == 200
    assert "".join(n[0] for n in row_names(response)) == expected


def test_page_sizes(viewer_client):
    make_jobs(120)
    for size in (25, 50, 100):
        assert len(row_names(viewer_client.get(f"{URL}?size={size}"))) == size
    assert len(row_names(viewer_client.get(URL))) == 50  # the default


def walk(client, first_url: str):
    """Follow Next links to the end, then Previous links back: names per page."""
    forward, url = [], first_url
    while url:
        response = client.get(url)
        assert response.status_code == 200
        forward.append(row_names(response))
        last, url = response, link(response, "next")
    backward, url = [forward[-1]], link(last, "prev")
    while url:
        response = client.get(url)
        backward.append(row_names(response))
        url = link(response, "prev")
    return forward, backward


@pytest.mark.parametrize("sort", ["", "&sort=oldest"])
def test_pages_forward_and_back_with_no_gaps_or_repeats(viewer_client, sort):
    make_jobs(130, status="Completed")
    make_jobs(20, status="Failed")
    forward, backward = walk(viewer_client, f"{URL}?size=25&status=Completed{sort}")
    flat = [n for page in forward for n in page]
    expected = EvaluationJob.objects.filter(status="Completed").order_by(
        *(("created_at", "arn") if sort else ("-created_at", "-arn"))
    )
    assert flat == [j.name for j in expected]
    assert [len(p) for p in forward] == [25, 25, 25, 25, 25, 5]
    assert backward == forward[::-1]


def test_pages_stay_consistent_while_jobs_arrive(viewer_client):
    make_jobs(60)
    original = set(EvaluationJob.objects.values_list("name", flat=True))
    response = viewer_client.get(f"{URL}?size=25")
    seen = row_names(response)
    first_page, url = list(seen), link(response, "next")
    while url:
        make_job(name=f"new-{len(seen)}", created_at=timezone.now())  # the sync added a job
        response = viewer_client.get(url)
        seen += row_names(response)
        url = link(response, "next")
    assert len(seen) == len(set(seen)) == 60 and set(seen) == original
    # Back to the start: the first page again, then the new arrivals before it.
    url = link(response, "prev")
    pages = []
    while url:
        response = viewer_client.get(url)
        pages.append(row_names(response))
        url = link(response, "prev")
    assert first_page in pages
    assert set(pages[-1]) == {"new-25", "new-50"}


def test_next_links_keep_the_filter(viewer_client):
    make_jobs(30, status="Failed", name="x")
    response = viewer_client.get(f"{URL}?status=Failed&size=25&name=X")
    query = parse_qs(urlsplit(link(response, "next")).query)
    assert query["status"] == ["Failed"] and query["size"] == ["25"] and query["name"] == ["x"]
    assert query["page"]


# --- Bad tokens -----------------------------------------------------------------------------


def scope_of(**filters) -> str:
    return selectors.EvaluationJobFilters(**filters).scope()


def assert_bad_token(response, title: str, first_page: str):
    assert response.status_code == 400
    html = response.content.decode()
    assert title in html
    assert f'href="{first_page}"' in html.replace("&amp;", "&")
    assert "Go to the first page" in html


def test_a_tampered_token_gives_a_400_with_a_way_back(viewer_client):
    make_jobs(30, status="Failed")
    response = viewer_client.get(f"{URL}?status=Failed&size=25")
    next_url = link(response, "next")
    broken = next_url[:-3] + ("AAA" if not next_url.endswith("AAA") else "BBB")
    assert_bad_token(
        viewer_client.get(broken), "This page link is damaged", f"{URL}?status=Failed&size=25"
    )
    assert_bad_token(viewer_client.get(f"{URL}?page=garbage"), "damaged", URL)


def test_an_expired_token_gives_a_400(viewer_client, monkeypatch):
    make_jobs(3)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 2 * 86400)
    token = token_encode(key=(BASE_TIME, "arn:x"), direction="next", scope=scope_of())
    monkeypatch.setattr(time, "time", real)
    response = viewer_client.get(f"{URL}?page={token}")
    assert_bad_token(response, "This page link has expired", URL)
    assert "12 hours" in response.content.decode()


def test_a_token_from_another_filter_gives_a_400(viewer_client):
    make_jobs(30, status="Failed")
    next_url = link(viewer_client.get(f"{URL}?status=Failed&size=25"), "next")
    token = parse_qs(urlsplit(next_url).query)["page"][0]
    response = viewer_client.get(f"{URL}?status=Completed&page={token}")
    assert_bad_token(response, "belongs to other filters", f"{URL}?status=Completed")
    # Another sort order is another scope too.
    response = viewer_client.get(f"{URL}?status=Failed&sort=oldest&page={token}")
    assert_bad_token(response, "belongs to other filters", f"{URL}?status=Failed&sort=oldest")
    # A token for another kind of list is refused as well.
    other = token_encode(
        key=(BASE_TIME, "a"), direction="next", scope=page_scope("import_jobs", {})
    )
    assert viewer_client.get(f"{URL}?page={other}").status_code == 400


def test_a_bad_token_in_an_htmx_request_sends_the_browser_to_the_explanation(viewer_client):
    response = viewer_client.get(f"{URL}?page=garbage", headers=HTMX_TABLE)
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{URL}?page=garbage"


# --- htmx partials and the no-JS form ---------------------------------------------------------


def test_a_filter_change_through_htmx_gets_only_the_table(viewer_client, catalogue):
    response = viewer_client.get(f"{URL}?status=Failed", headers=HTMX_TABLE)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="job-table"')
    assert "<html" not in html and 'id="job-filters"' not in html and "sync-state" not in html
    assert row_names(response) == ["b-billing-judge"]
    assert "HX-Request" in response["Vary"]


def test_a_chip_or_clear_filters_through_htmx_gets_the_form_and_the_table(viewer_client, catalogue):
    response = viewer_client.get(f"{URL}?status=Failed", headers=HTMX_BROWSER)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="job-browser"')
    assert 'id="job-filters"' in html and 'id="job-table"' in html and "<html" not in html
    assert re.search(r'<input[^>]*value="Failed"[^>]*checked', html)


def test_a_history_restore_gets_the_whole_page(viewer_client, catalogue):
    headers = {**HTMX_TABLE, "HX-History-Restore-Request": "true"}
    html = viewer_client.get(URL, headers=headers).content.decode()
    assert "<html" in html and 'id="job-filters"' in html


def test_the_page_works_without_javascript(viewer_client, catalogue):
    html = viewer_client.get(f"{URL}?status=Completed&name=support").content.decode()
    form = re.search(r'<form id="job-filters"[^>]*>', html).group(0)
    assert 'method="get"' in form and f'action="{URL}"' in form
    assert re.search(r'<button type="submit"[^>]*>Apply</button>', html)
    assert re.search(r'<input[^>]*value="Completed"[^>]*checked', html)
    assert 'value="support"' in html
    # Every htmx link is also a plain link to the same place.
    for hx_get in re.findall(r'<a href="([^"]+)" hx-get="([^"]+)"', html):
        assert hx_get[0] == hx_get[1]
    assert '<a href="' in html and "hx-get" in html
    # The filter form pushes its URL, so the address bar reproduces the view.
    assert 'hx-push-url="true"' in form


def test_invalid_filters_show_field_errors_not_a_500(viewer_client, catalogue):
    for query in (
        "?status=Bogus",
        "?size=7",
        "?created_after=yesterday",
        "?job_type=Robot",
        "?created_after=2026-06-01&created_before=2026-05-01",
        "?name=" + "x" * 100,
    ):
        response = viewer_client.get(URL + query)
        assert response.status_code == 200, query
        html = response.content.decode()
        assert "Some filters are not valid" in html, query
        assert row_names(response) == []


def test_job_names_and_filters_are_escaped(viewer_client):
    make_job(name='<script>alert("x")</script><b>bold</b>')
    html = viewer_client.get(URL).content.decode()
    assert "<script>alert" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html
    html = viewer_client.get(URL + '?name="><img src=x>').content.decode()
    assert "<img src=x>" not in html


def test_rows_link_by_prefix_and_show_exact_time_on_hover(viewer_client):
    job = make_job(created_at=timezone.now() - dt.timedelta(minutes=5))
    html = viewer_client.get(URL).content.decode()
    assert f'href="/evaluation-jobs/{job.resource_id}/"' in html
    assert re.search(
        r'<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">5 min ago', html
    )


def test_rendering_a_page_costs_the_same_queries_at_25_and_100_rows(viewer_client):
    make_jobs(100, status="InProgress")

    def queries(size):
        with CaptureQueriesContext(connection) as ctx:
            assert viewer_client.get(f"{URL}?size={size}").status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    queries(25)  # the user, permissions, sync header and model picker are cached from here
    small, large = queries(25), queries(100)
    assert len(small) == len(large)
    assert not any("OFFSET" in q.upper() or "COUNT(" in q.upper() for q in large)


# --- Empty states -------------------------------------------------------------------------------


def test_an_empty_mirror_says_no_jobs_yet_and_when_the_sync_runs(viewer_client, settings):
    settings.SYNC_INTERVAL_SECONDS = 45
    html = viewer_client.get(URL).content.decode()
    assert "No evaluation jobs yet" in html and "every 45 s" in html
    assert "No jobs match" not in html


def test_no_match_says_so_with_a_clear_filters_link(viewer_client, catalogue):
    html = viewer_client.get(f"{URL}?name=zzz").content.decode()
    assert "No jobs match these filters" in html and "No evaluation jobs yet" not in html
    assert re.search(rf'<a href="{URL}"[^>]*>Clear filters</a>', html)


def test_tombstones_only_are_hidden_by_default(viewer_client):
    make_job(name="gone", listed=False, vanished_at=timezone.now())
    assert row_names(viewer_client.get(URL)) == []
    response = viewer_client.get(f"{URL}?vanished=on")
    assert row_names(response) == ["gone"] and "Vanished" in response.content.decode()


# --- Status chips ---------------------------------------------------------------------------------


def test_the_table_asks_for_its_counts_after_it_loads(viewer_client, catalogue):
    html = viewer_client.get(f"{URL}?status=Failed&name=b").content.decode()
    chip_box = re.search(r'<div id="status-counts"[^>]*>', html).group(0)
    assert 'hx-trigger="load"' in chip_box
    assert 'hx-get="/evaluation-jobs/counts/?' in chip_box and "name=b" in chip_box


def test_unfiltered_counts_are_exact_from_the_sync_summary(viewer_client, catalogue):
    now = timezone.now()
    StatusCount.objects.bulk_create(
        [
            StatusCount(kind="evaluation_jobs", status="Completed", count=12345, updated_at=now),
            StatusCount(kind="evaluation_jobs", status="Failed", count=3, updated_at=now),
        ]
    )
    html = viewer_client.get("/evaluation-jobs/counts/").content.decode()
    assert re.search(r'data-status="Completed".*?<span class="count">12,345</span>', html, re.S)
    assert re.search(r'data-status="Failed".*?<span class="count">3</span>', html, re.S)
    # Each chip is a link (and an htmx link) to that status with the other filters kept.
    assert 'href="/evaluation-jobs/?status=Failed"' in html
    assert 'hx-target="#job-browser"' in html


def test_filtered_counts_show_a_bound_instead_of_counting_everything(viewer_client, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_LIMIT", 1000)
    make_jobs(1005, status="Completed", name="support-x")
    make_jobs(4, status="Failed", name="support-y")
    html = viewer_client.get("/evaluation-jobs/counts/?name=support&size=25").content.decode()
    assert re.search(r'data-status="Completed".*?<span class="count">1,000\+</span>', html, re.S)
    assert re.search(r'data-status="Failed".*?<span class="count">4</span>', html, re.S)
    assert 'href="/evaluation-jobs/?status=Failed&amp;name=support&amp;size=25"' in html

    monkeypatch.setattr(selectors, "COUNT_LIMIT", 3)
    html = viewer_client.get("/evaluation-jobs/counts/?name=support").content.decode()
    assert re.search(r'data-status="Failed".*?<span class="count">3\+</span>', html, re.S)


def test_counts_for_invalid_filters_are_empty_not_an_error(viewer_client):
    response = viewer_client.get("/evaluation-jobs/counts/?status=Nope")
    assert response.status_code == 200 and "data-status" not in response.content.decode()


# --- Rows of running jobs poll ------------------------------------------------------------------


def test_one_live_channel_names_the_running_rows_and_terminal_rows_never_poll(viewer_client):
    running = make_job(status="InProgress")
    done = make_job(status="Completed")
    html = viewer_client.get(URL).content.decode()
    running_row = live.oob_row(html, running.resource_id)
    done_row = live.oob_row(html, done.resource_id)
    assert "hx-" not in running_row and 'class="running"' in running_row
    assert "hx-" not in done_row and 'class="terminal"' in done_row
    assert live.is_active(html) and 'hx-trigger="every 5s, live-now from:body"' in html
    url = live.live_url(html)
    assert f"row={running.resource_id}." in url and done.resource_id not in url

    # Nothing changed: the answer holds no row, and polls again.
    quiet = live.poll(viewer_client, html).content.decode()
    assert live.oob_row(quiet, running.resource_id) is None and live.is_active(quiet)

    # The job finished: its row comes back out of band, highlighted, and polling stops.
    EvaluationJob.objects.filter(pk=running.pk).update(status="Completed", summary_digest="f" * 32)
    answer = live.poll(viewer_client, quiet).content.decode()
    row = live.oob_row(answer, running.resource_id)
    assert 'hx-swap-oob="true"' in row and "live-changed" in row and "terminal" in row
    assert not live.is_active(answer) and 'hx-trigger="live-now from:body"' in answer
    # A job gone from the mirror is deleted from the page.
    EvaluationJob.objects.filter(pk=running.pk).delete()
    answer = live.poll(viewer_client, html).content.decode()
    assert f'<tr id="job-{running.resource_id}" hx-swap-oob="delete">' in answer


# --- The sync header and Refresh ------------------------------------------------------------------


def finished_run(**values) -> SyncRun:
    now = timezone.now()
    defaults = {
        "kind": "evaluation_jobs",
        "started_at": now - dt.timedelta(seconds=13),
        "finished_at": now - dt.timedelta(seconds=12),
    }
    return SyncRun.objects.create(**(defaults | values))


def test_the_header_says_when_the_mirror_was_synced(viewer_client):
    html = viewer_client.get(URL).content.decode()
    assert "Not synced with Bedrock yet." in html
    finished_run()
    html = viewer_client.get(URL).content.decode()
    # The time is one the page keeps true by itself (static/js/app.js).
    assert re.search(r'Synced <time data-ago datetime="[^"]+">1[23] s ago</time>', html)
    finished_run(error="ThrottlingException: Rate exceeded")
    html = viewer_client.get(URL).content.decode()
    assert "Last sync failed" in html and "Rate exceeded" in html


def test_refresh_without_javascript_requests_a_sweep_and_returns(
    viewer_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = viewer_client.post(
            "/evaluation-jobs/refresh/", {"next": "/evaluation-jobs/?status=Failed"}
        )
    assert response.status_code == 302 and response["Location"] == "/evaluation-jobs/?status=Failed"
    assert len(callbacks) == 1  # the sweep is enqueued when the transaction commits
    page = viewer_client.get(response["Location"]).content.decode()
    assert "Sync requested" in page
    # An outside address is not followed.
    response = viewer_client.post("/evaluation-jobs/refresh/", {"next": "https://evil.example/"})
    assert response["Location"] == URL


def test_refresh_needs_a_post_with_csrf(client, viewer):
    client.force_login(viewer)
    assert client.get("/evaluation-jobs/refresh/").status_code == 405
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(viewer)
    assert strict.post("/evaluation-jobs/refresh/").status_code == 403


def test_refresh_through_htmx_follows_the_sweep_on_the_live_channel_then_reloads_the_table(
    viewer_client, django_capture_on_commit_callbacks
):
    before = finished_run()
    page = viewer_client.get(f"{URL}?status=Failed").content.decode()
    assert not live.is_active(page)  # nothing running: the page does not poll
    with django_capture_on_commit_callbacks():
        response = viewer_client.post("/evaluation-jobs/refresh/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="sync-state"') and "hx-get" not in html
    assert f'data-wait-after="{before.pk}"' in html and "Sync requested" in html
    assert response["HX-Trigger"] == "live-now"  # the page's channel asks at once
    # It sends the wait along (app.js reads it from the header): still running, it polls.
    wait = {"after": before.pk, "since": int(time.time())}
    response = viewer_client.get(live.live_url(page), wait, headers={"HX-Request": "true"})
    answer = response.content.decode()
    assert live.is_active(answer) and "HX-Trigger" not in response
    assert "data-wait-after" in answer and 'hx-swap-oob="true"' in answer

    finished_run()  # the sweep ends
    response = viewer_client.get(live.live_url(page), wait, headers={"HX-Request": "true"})
    assert response["HX-Trigger"] == "jobs-synced"
    answer = response.content.decode()
    assert not live.is_active(answer) and "data-wait-after" not in answer and "Synced" in answer
    # ...which the table listens for, to fetch itself again at its current URL.
    table = viewer_client.get(f"{URL}?status=Failed", headers=HTMX_TABLE).content.decode()
    assert 'hx-trigger="jobs-synced from:body"' in table
    assert 'hx-get="/evaluation-jobs/?status=Failed"' in table


def test_refresh_while_a_sweep_runs_waits_for_that_one(viewer_client, monkeypatch):
    monkeypatch.setattr(sync, "sync_running", lambda kind: True)
    monkeypatch.setattr(sync, "evaluation_jobs_sync_request", lambda: False)
    response = viewer_client.post("/evaluation-jobs/refresh/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "already running" in html and "data-wait-after" in html
    # A page opened during a sweep follows it too, on its live channel.
    page = viewer_client.get(URL).content.decode()
    assert "Syncing with Bedrock" in page and live.is_active(page)


def test_the_400_page_also_serves_django_s_own_bad_requests(client, settings):
    settings.DEBUG = False
    response = client.get("/evaluation-jobs/", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert "That request could not be understood" in response.content.decode()


def test_an_operator_gets_a_new_job_button_and_a_viewer_does_not(client, operator, viewer):
    button = '<a class="button primary new" href="/evaluation-jobs/new/">New evaluation job</a>'
    client.force_login(operator)
    assert button in client.get(URL).content.decode()
    client.force_login(viewer)
    html = client.get(URL).content.decode()
    assert "New evaluation job" not in html and 'href="/evaluation-jobs/new/"' not in html
