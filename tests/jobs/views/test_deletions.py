"""Bulk deletion pages: roles and CSRF, the selection on the list (with and without htmx,
across pages and filters), the confirmation page, progress, retry and the list of batches."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs import deletions
from jobs.models import DeletionBatch, DeletionItem, EvaluationJob
from jobs.permissions import DELETE
from jobs.views import deletions as deletion_views
from tests.conftest import free_port
from tests.jobs.views.factories import BASE_TIME, make_imported_model, make_job, make_jobs
from tests.urls import project_urls

pytestmark = pytest.mark.django_db

LIST = "/evaluation-jobs/"
SELECT = "/deletions/evaluation/selection/"
CONFIRM = "/deletions/evaluation/confirm/"
HTMX = {"HX-Request": "true"}
DELETION_URLS = sorted(p for p, _ in project_urls() if p.startswith("/deletions/"))


@pytest.fixture(autouse=True)
def no_broker(settings):
    """Nothing listens on this port: a batch confirmed here is never run by a worker."""
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"


def html_of(response) -> str:
    return response.content.decode()


def ticked(response) -> set[str]:
    """Resource ids of the ticked row checkboxes on a list page."""
    return set(re.findall(r'name="job" value="([a-z0-9]+)"[^>]* checked', html_of(response)))


def tickable(response) -> set[str]:
    return set(re.findall(r'name="job" value="([a-z0-9]+)"', html_of(response)))


def form_value(response, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html_of(response))
    assert match, f"no {name} in the page"
    return unescape(match.group(1))


def next_link(response) -> str:
    match = re.search(r'<a href="([^"]+)"[^>]*rel="next"', html_of(response))
    return unescape(match.group(1))


def confirm(client, **extra):
    """GET the confirmation page, then POST its form (with `extra` fields)."""
    page = client.get(CONFIRM)
    data = {"key": form_value(page, "key")}
    if 'name="rev"' in html_of(page):
        data["rev"] = form_value(page, "rev")
    data.update(extra)
    return client.post(CONFIRM, data)


# --- Roles and CSRF -------------------------------------------------------------------------


def test_every_deletion_url_needs_the_delete_permission():
    assert len(DELETION_URLS) >= 5
    views = {p: v for p, v in project_urls()}
    assert all(views[p].required_permission == DELETE for p in DELETION_URLS)


@pytest.mark.parametrize("path", DELETION_URLS)
def test_viewers_and_operators_get_403_on_every_deletion_url(client, viewer, operator, path):
    for user in (viewer, operator):
        client.force_login(user)
        for method in (client.get, client.post):
            response = method(path, {"action": "all", "key": "a" * 32})
            assert response.status_code == 403, (user.username, path)
            assert b"needs the Admins role" in response.content
    assert not DeletionBatch.objects.exists()


def test_a_post_without_csrf_is_refused(admin_user):
    job = make_job(status="Failed")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    form = {"key": "c" * 32, "job": job.resource_id}
    assert client.post(CONFIRM, form).status_code == 403
    assert client.post(SELECT, {"action": "page", "page_job": job.resource_id}).status_code == 403
    assert client.post("/deletions/1/retry/").status_code == 403
    assert not DeletionBatch.objects.exists()


def test_a_replayed_post_is_refused_elsewhere_and_harmless_in_its_own_session(admin_user):
    """A captured confirmation replayed from another browser (its own session and CSRF
    cookie, the captured token) is refused; replayed in the same session it lands on the
    batch it already made."""
    job = make_job(status="Failed")
    victim = Client(enforce_csrf_checks=True)
    victim.force_login(admin_user)
    page = victim.get(f"{CONFIRM}?job={job.resource_id}")
    form = {
        "csrfmiddlewaretoken": form_value(page, "csrfmiddlewaretoken"),
        "key": form_value(page, "key"),
        "job": job.resource_id,
    }
    first = victim.post(CONFIRM, form)
    assert first.status_code == 302
    batch = DeletionBatch.objects.get()

    attacker = Client(enforce_csrf_checks=True)
    attacker.force_login(admin_user)  # even signed in as the same person
    assert attacker.post(CONFIRM, {**form, "key": "d" * 32}).status_code == 403

    again = victim.post(CONFIRM, form)
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert DeletionBatch.objects.count() == 1 and batch.items.count() == 1


# --- The list: checkboxes and the selection -------------------------------------------------


def test_checkboxes_only_for_admins_and_only_enabled_for_terminal_jobs(client, viewer, admin_user):
    done = make_job(status="Completed", name="done")
    running = make_job(status="InProgress", name="running")
    deleting = make_job(status="Deleting", name="going")
    client.force_login(viewer)
    html = html_of(client.get(LIST))
    assert 'type="checkbox" name="job"' not in html and 'id="job-select"' not in html

    client.force_login(admin_user)
    response = client.get(LIST)
    html = html_of(response)
    assert tickable(response) == {done.resource_id}
    assert 'id="job-select"' in html and f'action="{SELECT}"' in html
    assert "InProgress jobs cannot be deleted: only Completed, Failed or Stopped ones." in html
    assert "Bedrock is already deleting this job." in html
    assert f'aria-label="{running.name} cannot be selected' in html
    assert f'aria-label="{deleting.name} cannot be selected' in html
    assert "Select this page" in html and "Delete selected…" in html
    # No filter: nothing to "select all matching", and no count to make.
    assert (
        "matching" not in html
        and 'hx-trigger="load" hx-swap="outerHTML"'
        not in (html.split('id="selection-bar"')[1].split(">")[0])
    )


def test_ticks_are_posted_as_they_happen_and_shown_again(admin_client_):
    jobs = make_jobs(3, status="Failed")
    ids = [j.resource_id for j in jobs]
    page = {"page_job": ids, "query": "", "next": LIST}

    response = admin_client_.post(SELECT, {**page, "job": [ids[0], ids[2]]}, headers=HTMX)
    assert response.status_code == 200
    assert "2 jobs selected." in html_of(response)
    assert 'id="selection-bar"' in html_of(response)
    assert ticked(admin_client_.get(LIST)) == {ids[0], ids[2]}

    response = admin_client_.post(SELECT, {**page, "job": [ids[2]]}, headers=HTMX)
    assert "1 job selected." in html_of(response)
    assert ticked(admin_client_.get(LIST)) == {ids[2]}


def test_the_selection_survives_paging(admin_client_):
    make_jobs(60, status="Completed")
    first = admin_client_.get(f"{LIST}?size=25")
    page_one = sorted(tickable(first))
    admin_client_.post(SELECT, {"action": "page", "page_job": page_one}, headers=HTMX)
    second = admin_client_.get(next_link(first))
    page_two = sorted(tickable(second))
    admin_client_.post(
        SELECT, {"page_job": page_two, "job": page_two[:3]}, headers=HTMX
    )  # three ticks on page two

    assert ticked(admin_client_.get(f"{LIST}?size=25")) == set(page_one)
    assert ticked(admin_client_.get(next_link(first))) == set(page_two[:3])
    bar = html_of(admin_client_.get(SELECT))
    assert "28 jobs selected." in bar


def test_select_this_page_and_clear_reload_the_table_in_place(admin_client_):
    ids = [j.resource_id for j in make_jobs(4, status="Stopped")]
    back = f"{LIST}?size=25"
    response = admin_client_.post(
        SELECT, {"action": "page", "page_job": ids, "next": back}, headers=HTMX
    )
    assert json.loads(response["HX-Location"]) == {
        "path": back,
        "target": "#job-table",
        "swap": "outerHTML",
        "push": "false",
    }
    assert ticked(admin_client_.get(LIST)) == set(ids)
    response = admin_client_.post(SELECT, {"action": "clear", "next": back}, headers=HTMX)
    assert json.loads(response["HX-Location"])["path"] == back
    assert ticked(admin_client_.get(LIST)) == set()


def test_select_all_matching_selects_the_filter_not_ids(admin_client_):
    failed = make_jobs(70, status="Failed")
    done = make_jobs(5, status="Completed")
    picked = [failed[0].resource_id, done[0].resource_id]
    admin_client_.post(SELECT, {"page_job": picked, "job": picked})
    make_jobs(3, status="InProgress")
    response = admin_client_.get(f"{LIST}?status=Failed&size=25")
    html = html_of(response)
    # The table comes first; the bar counts in a request of its own.
    assert f'hx-get="{SELECT}?status=Failed"' in html
    bar = html_of(admin_client_.get(f"{SELECT}?status=Failed"))
    assert "Select all 70 matching jobs" in bar

    admin_client_.post(SELECT, {"action": "all", "query": "?status=Failed&size=25"}, headers=HTMX)
    session = admin_client_.session["deletions.evaluation_jobs.selection"]  # a filter, not 70 ids
    assert session["query"] == "status=Failed" and session["ids"] == [done[0].resource_id]

    # Every page of that filter shows its rows ticked; other filters do not.
    page_one = admin_client_.get(f"{LIST}?status=Failed&size=25")
    assert ticked(page_one) == tickable(page_one) and len(ticked(page_one)) == 25
    page_three = admin_client_.get(next_link(admin_client_.get(next_link(page_one))))
    assert len(ticked(page_three)) == 20
    assert ticked(admin_client_.get(f"{LIST}?status=Completed")) == {done[0].resource_id}
    bar = html_of(admin_client_.get(f"{SELECT}?status=Failed"))
    assert (
        "71 selected: all deletable jobs matching status Failed, plus 1 more picked one by one."
        in bar
    )
    assert "Select all" not in bar  # it is the selection already

    # A job that fails later matches too: the filter is resolved when confirming.
    make_job(status="Failed", name="late")
    assert "72 selected" in html_of(admin_client_.get(SELECT))


def test_the_selection_bar_never_counts_past_its_bound(admin_client_, monkeypatch):
    """Bounded like the status chips: the bar says "N+" past SELECTION_COUNT_LIMIT (the
    confirmation page counts exactly), so a million matching jobs cost no full COUNT."""
    monkeypatch.setattr(deletion_views, "SELECTION_COUNT_LIMIT", 5)
    make_jobs(8, status="Failed")
    bar = html_of(admin_client_.get(f"{SELECT}?status=Failed"))
    assert "Select all 5+ matching jobs" in bar
    admin_client_.post(SELECT, {"action": "all", "query": "?status=Failed"}, headers=HTMX)
    with CaptureQueriesContext(connection) as queries:
        bar = html_of(admin_client_.get(SELECT))
    assert "5+ selected: all deletable jobs matching status Failed." in bar
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 6" in sql for sql in counts), counts


def test_unticking_a_row_of_a_selected_filter_excludes_it(admin_client_):
    jobs = make_jobs(30, status="Failed")
    admin_client_.post(SELECT, {"action": "all", "query": "?status=Failed"}, headers=HTMX)
    page = admin_client_.get(f"{LIST}?status=Failed")
    ids = sorted(tickable(page))
    response = admin_client_.post(
        SELECT, {"page_job": ids, "job": ids[1:], "query": "?status=Failed"}, headers=HTMX
    )
    assert "29 selected" in html_of(response) and "except 1 unticked" in html_of(response)
    assert ids[0] not in ticked(admin_client_.get(f"{LIST}?status=Failed"))
    # Plus one picked from another filter.
    other = make_job(status="Stopped")
    admin_client_.post(SELECT, {"page_job": [other.resource_id], "job": [other.resource_id]})
    preview = html_of(admin_client_.get(CONFIRM))
    assert "Delete 30 evaluation jobs?" in preview
    assert "plus 1 more picked one by one" in preview
    assert len(jobs) == 30


def test_without_javascript_the_buttons_post_the_page_and_come_back(admin_client_):
    ids = [j.resource_id for j in make_jobs(3, status="Completed")]
    back = f"{LIST}?size=25"
    response = admin_client_.post(
        SELECT, {"action": "save", "page_job": ids, "job": ids[:2], "next": back}
    )
    assert response.status_code == 302 and response["Location"] == back
    assert ticked(admin_client_.get(LIST)) == set(ids[:2])

    response = admin_client_.post(
        SELECT, {"action": "review", "page_job": ids, "job": ids, "next": back}
    )
    assert response.status_code == 302 and response["Location"] == CONFIRM
    assert "Delete 3 evaluation jobs?" in html_of(admin_client_.get(CONFIRM))

    response = admin_client_.post(SELECT, {"action": "clear", "next": "https://evil.example/"})
    assert response["Location"] == LIST  # only our own pages


def test_picking_too_many_one_by_one_is_refused_with_a_way_out(admin_client_, monkeypatch):
    monkeypatch.setattr("jobs.views.deletions.MAX_PICKED", 3)
    ids = [j.resource_id for j in make_jobs(4, status="Completed")]
    response = admin_client_.post(SELECT, {"page_job": ids, "job": ids}, headers=HTMX)
    assert "At most 3 jobs can be picked one by one" in html_of(response)
    assert ticked(admin_client_.get(LIST)) == set()


def test_a_polled_row_that_finished_gets_its_checkbox(admin_client_):
    job = make_job(status="InProgress")
    row = html_of(admin_client_.get(f"{LIST}{job.resource_id}/row/"))
    assert "disabled" in row
    EvaluationJob.objects.filter(pk=job.pk).update(status="Completed")
    row = html_of(admin_client_.get(f"{LIST}{job.resource_id}/row/"))
    assert f'name="job" value="{job.resource_id}"' in row and "disabled" not in row


# --- Confirmation ---------------------------------------------------------------------------


def select_ids(client, ids):
    client.post(SELECT, {"page_job": ids, "job": ids})


def test_the_confirmation_page_says_what_will_happen(admin_client_):
    done = make_jobs(3, status="Completed")
    failed = make_jobs(2, status="Failed")
    running = make_job(status="InProgress")
    deleting = make_job(status="Deleting")
    vanished = make_job(status="Completed", listed=False, vanished_at=timezone.now())
    ids = [j.resource_id for j in [*done, *failed, running, deleting, vanished]]
    select_ids(admin_client_, ids)

    html = html_of(admin_client_.get(CONFIRM))

    assert "Delete 5 evaluation jobs?" in html
    assert re.search(r'data-status="Completed">Completed</span></td><td class="num">3<', html)
    assert re.search(r'data-status="Failed">Failed</span></td><td class="num">2<', html)
    for job in [*done, *failed]:
        assert job.name in html
    assert "Will be skipped: 3 selected jobs" in html
    assert "<strong>1</strong> is not terminal any more (InProgress)." in html
    assert "1</strong> is already being deleted" in html and "has vanished from Bedrock" in html
    assert "Results in S3 are not deleted." in html
    assert 'name="typed"' not in html  # 100 or fewer
    assert 'method="post"' in html and "csrfmiddlewaretoken" in html


def test_confirming_records_the_batch_and_lands_on_its_page(admin_client_, admin_user):
    ids = [j.resource_id for j in make_jobs(4, status="Failed")]
    select_ids(admin_client_, ids)

    response = confirm(admin_client_)

    batch = DeletionBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/deletions/{batch.pk}/"
    assert batch.items.count() == 4 and batch.created_by == admin_user
    assert batch.description == "4 jobs picked one by one"
    # The selection is used up.
    assert "No jobs selected." in html_of(admin_client_.get(SELECT))
    assert ticked(admin_client_.get(LIST)) == set()


def test_above_100_jobs_the_number_must_be_typed(admin_client_):
    make_jobs(101, status="Completed")
    admin_client_.post(SELECT, {"action": "all", "query": "?status=Completed"})
    page = html_of(admin_client_.get(CONFIRM))
    assert "Delete 101 evaluation jobs?" in page
    assert 'name="typed"' in page and 'data-confirm-count="101"' in page
    assert "…and 91 more." in page

    for typed in ("", "100", "1O1", "all", "²", "¹⁰¹", "1" * 5000):  # no 500s
        response = confirm(admin_client_, typed=typed)
        assert response.status_code == 200
        assert "Type the number of jobs to delete, 101, to confirm." in html_of(response)
    assert not DeletionBatch.objects.exists()

    response = confirm(admin_client_, typed=" 101 ")
    assert response.status_code == 302
    assert DeletionBatch.objects.get().items.count() == 101


def test_a_selection_changed_in_another_tab_is_shown_again(admin_client_):
    ids = [j.resource_id for j in make_jobs(3, status="Completed")]
    select_ids(admin_client_, ids[:2])
    page = admin_client_.get(CONFIRM)
    select_ids(admin_client_, ids)  # another tab adds one
    response = admin_client_.post(
        CONFIRM, {"key": form_value(page, "key"), "rev": form_value(page, "rev")}
    )
    assert response.status_code == 200
    assert "The selection changed since this page was shown" in html_of(response)
    assert "Delete 3 evaluation jobs?" in html_of(response)
    assert not DeletionBatch.objects.exists()


def test_nothing_selected_or_nothing_deletable_has_no_form(admin_client_):
    html = html_of(admin_client_.get(CONFIRM))
    assert "Nothing to delete" in html and "No jobs are selected." in html
    assert "csrfmiddlewaretoken" not in html.split("<main")[1]
    running = make_job(status="InProgress")
    html = html_of(admin_client_.get(f"{CONFIRM}?job={running.resource_id}"))
    assert "None of the selected jobs can be deleted now." in html
    response = admin_client_.post(CONFIRM, {"key": "e" * 32, "job": running.resource_id})
    assert "Nothing in this selection can be deleted." in html_of(response)
    assert not DeletionBatch.objects.exists()


def test_a_jobs_delete_link_confirms_that_job_alone(admin_client_):
    job = make_job(status="Stopped", name="only-this-one")
    others = [j.resource_id for j in make_jobs(2, status="Completed")]
    select_ids(admin_client_, others)  # the list's selection is left alone
    detail = html_of(admin_client_.get(f"{LIST}{job.resource_id}/"))
    assert f'href="{CONFIRM}?job={job.resource_id}"' in detail

    page = admin_client_.get(f"{CONFIRM}?job={job.resource_id}")
    assert "Delete 1 evaluation job?" in html_of(page) and "only-this-one" in html_of(page)
    response = admin_client_.post(
        CONFIRM, {"key": form_value(page, "key"), "job": form_value(page, "job")}
    )
    assert response.status_code == 302
    assert list(DeletionBatch.objects.get().items.values_list("arn", flat=True)) == [job.arn]
    assert "2 jobs selected." in html_of(admin_client_.get(SELECT))


def test_a_damaged_key_is_a_400(admin_client_):
    job = make_job(status="Failed")
    response = admin_client_.post(CONFIRM, {"key": "not-hex", "job": job.resource_id})
    assert response.status_code == 400


# --- Progress, retry, the list of batches ---------------------------------------------------


def batch_of(admin_user, jobs, *, key="f" * 32) -> DeletionBatch:
    batch, _ = deletions.deletion_batch_create(
        selection=deletions.Selection(ids=frozenset(j.resource_id for j in jobs)),
        user=admin_user,
        idempotency_key=key,
    )
    return batch


def test_the_progress_page_polls_until_the_batch_is_done(admin_client_, admin_user):
    jobs = make_jobs(4, status="Completed")
    batch = batch_of(admin_user, jobs)
    items = list(batch.items.order_by("pk"))
    DeletionItem.objects.filter(pk=items[0].pk).update(
        outcome="deleted", reason="Bedrock accepted the deletion", settled_at=timezone.now()
    )
    DeletionItem.objects.filter(pk=items[1].pk).update(
        outcome="failed", code="400", reason="it is <b>InProgress</b>", settled_at=timezone.now()
    )
    url = f"/deletions/{batch.pk}/"

    html = html_of(admin_client_.get(url))
    assert '<progress id="batch-progress" max="4" value="2"' in html
    assert "<strong>50%</strong> · 2 of 4 settled" in html
    assert 'hx-trigger="every 2s"' in html and "Queued" in html
    assert "it is &lt;b&gt;InProgress&lt;/b&gt;" in html  # Bedrock's words, as text
    assert html.count('<tr data-outcome="') == 4
    assert f'href="{LIST}{jobs[0].resource_id}/"' in html
    assert "Retry the" not in html  # not before it is finished
    assert ' style="' not in html and "<style" not in html  # CSP: no inline styles

    live = admin_client_.get(url, headers={**HTMX, "HX-Target": "batch-live"})
    assert html_of(live).lstrip().startswith('<section id="batch-live"')

    batch.items.filter(outcome="pending").update(outcome="skipped", settled_at=timezone.now())
    DeletionBatch.objects.filter(pk=batch.pk).update(finished_at=timezone.now())
    live = html_of(admin_client_.get(url, headers={**HTMX, "HX-Target": "batch-live"}))
    assert "hx-trigger" not in live.split(">")[0]  # polling stops
    assert "100%" in live and "Retry the 1 failed item" in live

    failed = html_of(admin_client_.get(f"{url}?outcome=failed"))
    assert failed.count('<tr data-outcome="') == 1


def test_items_page_through(admin_client_, admin_user):
    batch = batch_of(admin_user, make_jobs(130, status="Completed"))
    first = admin_client_.get(f"/deletions/{batch.pk}/")
    assert html_of(first).count('<tr data-outcome="') == 100
    second = admin_client_.get(next_link(first))
    assert html_of(second).count('<tr data-outcome="') == 30
    assert admin_client_.get(f"/deletions/{batch.pk}/?page=junk").status_code == 400


def test_retry_failed_items_makes_a_new_batch(admin_client_, admin_user):
    jobs = make_jobs(3, status="Completed")
    batch = batch_of(admin_user, jobs)
    batch.items.update(outcome="deleted", settled_at=timezone.now())
    DeletionItem.objects.filter(arn=jobs[1].arn).update(outcome="failed", code="500")
    url = f"/deletions/{batch.pk}/retry/"

    response = admin_client_.post(url)  # still running
    assert response["Location"] == f"/deletions/{batch.pk}/"
    assert DeletionBatch.objects.count() == 1

    DeletionBatch.objects.filter(pk=batch.pk).update(finished_at=timezone.now())
    response = admin_client_.post(url)
    retry = DeletionBatch.objects.exclude(pk=batch.pk).get()
    assert response["Location"] == f"/deletions/{retry.pk}/"
    assert retry.retry_of_id == batch.pk
    assert list(retry.items.values_list("arn", flat=True)) == [jobs[1].arn]
    assert admin_client_.post(url)["Location"] == f"/deletions/{retry.pk}/"  # once
    assert f'retries the failures of <a href="/deletions/{batch.pk}/">' in html_of(
        admin_client_.get(f"/deletions/{retry.pk}/")
    )


def test_the_list_of_batches_says_who_ran_them(admin_client_, admin_user, client):
    assert "No deletions yet" in html_of(admin_client_.get("/deletions/"))
    batch_of(admin_user, make_jobs(2, status="Completed"))
    html = html_of(admin_client_.get("/deletions/"))
    assert "ada-admin" in html and "2 jobs picked one by one" in html
    assert re.search(r'<td class="num">2</td>', html)
    assert admin_client_.get("/deletions/9999/").status_code == 404


def test_the_nav_links_deletions_for_admins_only(client, admin_user, operator):
    client.force_login(admin_user)
    assert 'href="/deletions/"' in html_of(client.get("/"))
    client.force_login(operator)
    assert 'href="/deletions/"' not in html_of(client.get("/"))


def test_list_pages_make_no_count_query_for_a_plain_selection(
    admin_client_, django_assert_max_num_queries
):
    make_jobs(60, status="Completed", created_at=BASE_TIME)
    select_ids(admin_client_, [j.resource_id for j in EvaluationJob.objects.all()[:5]])
    # session, user, groups/perms, the page, (no selection query: ids are compared in Python)
    with django_assert_max_num_queries(8):
        admin_client_.get(f"{LIST}?size=25", headers={**HTMX, "HX-Target": "job-table"})


def test_the_progress_page_of_imported_models_speaks_of_models(admin_client_, admin_user):
    models = [make_imported_model(name=f"model-{n}") for n in range(2)]
    batch, _ = deletions.deletion_batch_create(
        selection=deletions.Selection(ids=frozenset(m.resource_id for m in models)),
        user=admin_user,
        idempotency_key="m" * 32,
        kind=deletions.KIND_IMPORTED_MODELS,
    )
    html = html_of(admin_client_.get(f"/deletions/{batch.pk}/"))
    assert "Deleted models leave the list at once" in html and "Deleting" not in html
    assert "Status when selected" not in html and 'class="badge" data-status' not in html
    assert html.count('<tr data-outcome="') == 2
    assert f'href="/imported-models/{models[0].resource_id}/"' in html
    assert "No models with this outcome" in html_of(
        admin_client_.get(f"/deletions/{batch.pk}/?outcome=failed")
    )


def test_the_progress_page_of_evaluation_jobs_speaks_of_jobs(admin_client_, admin_user):
    batch = batch_of(admin_user, make_jobs(2, status="Completed"))
    html = html_of(admin_client_.get(f"/deletions/{batch.pk}/"))
    assert "Deleted jobs show as Deleting" in html and "Status when selected" in html
    assert 'class="badge" data-status="Completed"' in html
    assert "No jobs with this outcome" in html_of(
        admin_client_.get(f"/deletions/{batch.pk}/?outcome=failed")
    )


# --- What a batch waits for -------------------------------------------------------------------


def _recorded(admin_user) -> DeletionBatch:
    job = make_job(status="Failed")
    batch, _ = deletions.deletion_batch_create(
        selection=deletions.Selection(ids=frozenset([job.resource_id])),
        user=admin_user,
        idempotency_key=uuid.uuid4().hex,
    )
    return batch


def test_a_batch_no_worker_has_picked_up_says_for_how_long(admin_client_, admin_user):
    batch = _recorded(admin_user)
    url = f"/deletions/{batch.pk}/"
    assert "No worker has picked this up" not in html_of(admin_client_.get(url))  # just now
    DeletionBatch.objects.filter(pk=batch.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=40)
    )
    html = html_of(admin_client_.get(url))
    assert "No worker has picked this up for 40 s" in html
    assert 'data-waiting="worker"' in html


def test_a_batch_whose_worker_died_says_so_and_one_being_worked_says_nothing(
    admin_client_, admin_user
):
    from jobs import locks

    batch = _recorded(admin_user)
    long_ago = timezone.now() - dt.timedelta(seconds=95)
    DeletionBatch.objects.filter(pk=batch.pk).update(created_at=long_ago, started_at=long_ago)
    lease = locks.acquire(f"deletion:{batch.pk}", ttl=60)
    assert "No worker has picked this up" not in html_of(
        admin_client_.get(f"/deletions/{batch.pk}/")
    )
    lease.release()
    batch.items.update(claim_token="x" * 32, claimed_at=timezone.now() - dt.timedelta(seconds=50))
    html = html_of(admin_client_.get(f"/deletions/{batch.pk}/"))
    assert "No worker has picked this up for 50 s" in html
    assert "the worker working it stopped" in html


def test_a_batch_waiting_out_throttling_says_so(admin_client_, admin_user):
    batch = _recorded(admin_user)
    DeletionBatch.objects.filter(pk=batch.pk).update(
        started_at=timezone.now() - dt.timedelta(seconds=30),
        resume_after=timezone.now() + dt.timedelta(seconds=60),
    )
    batch.items.update(code="ThrottlingException", reason="Retrying: Rate exceeded")
    html = html_of(admin_client_.get(f"/deletions/{batch.pk}/"))
    assert "Bedrock did not answer the last call (ThrottlingException)" in html
