"""The overview (home page): counts per kind and status from the sync's StatusCount rows,
running jobs, recent failures with their messages, the last sweep per kind (and connection),
deletions in progress, each linking to its filtered list; a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from html import unescape

import pytest
from django.utils import timezone

from jobs import deletions
from jobs.models import DeletionItem, StatusCount, SyncRun
from jobs.sync.apply import count_statuses
from jobs.sync.kinds import KINDS
from tests.jobs.views.factories import (
    BASE_TIME,
    description_for,
    make_import_job,
    make_imported_model,
    make_job,
    make_jobs,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(settings):
    """Deletion batches are made here without a worker: publishing goes nowhere."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"


def html_of(response) -> str:
    assert response.status_code == 200
    return unescape(response.content.decode())


def section(html: str, kind: str) -> str:
    match = re.search(rf'<section[^>]*id="overview-{kind}".*?</section>', html, re.S)
    assert match, kind
    return match.group(0)


def sweep(kind: str, *, connection: str = "default", ago: int = 60, **values) -> SyncRun:
    """A finished sweep of the kind, as the sync records it, and the counts it keeps."""
    now = timezone.now()
    if kind in ("evaluation_jobs", "import_jobs"):
        count_statuses(KINDS[kind])
    return SyncRun.objects.create(
        kind=kind,
        connection=connection,
        started_at=now - dt.timedelta(seconds=ago + 2),
        finished_at=now - dt.timedelta(seconds=ago),
        **values,
    )


def test_before_the_first_sync_every_block_says_what_will_happen(viewer_client, settings):
    settings.SYNC_INTERVAL_SECONDS = 30
    html = html_of(viewer_client.get("/"))
    for kind, noun in (
        ("evaluation_jobs", "evaluation jobs"),
        ("import_jobs", "import jobs"),
        ("imported_models", "imported models"),
    ):
        block = section(html, kind)
        assert f"No {noun} yet — the first sync runs within 30 s of start." in block
        assert "not yet — the first runs within 30 s of start." in block
    assert "Nothing running." in section(html, "evaluation_jobs")
    assert "No failed import jobs." in section(html, "import_jobs")


def test_counts_per_status_come_from_the_sync_and_link_to_the_filtered_list(viewer_client):
    make_jobs(3, status="Completed")
    make_jobs(2, status="Failed")
    make_job(status="InProgress")
    make_job(status="Failed", listed=False)  # a tombstone is not counted
    make_import_job(status="Completed")
    sweep("evaluation_jobs")
    sweep("import_jobs")
    make_jobs(4, status="Completed")  # after the sweep: not in the counts until the next one
    html = html_of(viewer_client.get("/"))
    block = section(html, "evaluation_jobs")
    assert '<a href="/evaluation-jobs/"><strong>6</strong> evaluation jobs</a>' in block
    assert re.search(r'href="/evaluation-jobs/\?status=Completed">Completed <strong>3<', block)
    assert re.search(r'href="/evaluation-jobs/\?status=Failed">Failed <strong>2<', block)
    assert re.search(r'href="/evaluation-jobs/\?status=InProgress">InProgress <strong>1<', block)
    assert "status=Stopped" not in block  # zero counts are left out
    imports = section(html, "import_jobs")
    assert '<a href="/import-jobs/"><strong>1</strong> import jobs</a>' in imports
    assert re.search(r'href="/import-jobs/\?status=Completed">Completed <strong>1<', imports)


def test_an_empty_account_says_so_rather_than_waiting_for_a_sync(viewer_client):
    sweep("evaluation_jobs")
    html = html_of(viewer_client.get("/"))
    assert "No evaluation jobs in Bedrock; new ones show up here within" in html
    assert "No evaluation jobs yet" not in html


def test_running_jobs_newest_first_linked_and_bounded(viewer_client):
    for i in range(7):
        make_job(status="InProgress", name=f"run-{i}", created_at=BASE_TIME + dt.timedelta(hours=i))
    stopping = make_job(status="Stopping", name="stopping-one", created_at=BASE_TIME)
    make_job(status="Completed", name="done-one")
    running = make_import_job(status="InProgress", name="import-running")
    block = section(html_of(viewer_client.get("/")), "evaluation_jobs")
    names = re.findall(r'<a href="/evaluation-jobs/[a-z0-9]+/">(run-\d)</a>', block)
    assert names == ["run-6", "run-5", "run-4", "run-3", "run-2"]
    assert "stopping-one" not in block and "done-one" not in block
    assert 'href="/evaluation-jobs/?status=InProgress&status=Stopping">All running' in block
    make_job(status="Stopping", name="newest-stopping", created_at=BASE_TIME + dt.timedelta(1))
    block = section(html_of(viewer_client.get("/")), "evaluation_jobs")
    assert "newest-stopping" in block and stopping.name not in block
    imports = section(html_of(viewer_client.get("/")), "import_jobs")
    assert f'<a href="/import-jobs/{running.resource_id}/">import-running</a>' in imports
    assert 'href="/import-jobs/?status=InProgress">All running import jobs' in imports


def test_recent_failures_show_their_message_and_link(viewer_client):
    described = make_job(status="Failed", name="bad-eval", created_at=BASE_TIME)
    described.description = description_for(
        described, status="Failed", failureMessages=["Access denied to <s3://out>", "Retry"]
    )
    described.save()
    make_job(status="Failed", name="not-described", created_at=BASE_TIME - dt.timedelta(1))
    failed_import = make_import_job(
        status="Failed", name="bad-import", description={"failureMessage": "Weights missing"}
    )
    html = html_of(viewer_client.get("/"))
    block = section(html, "evaluation_jobs")
    assert f'<a href="/evaluation-jobs/{described.resource_id}/">bad-eval</a>' in block
    assert "Access denied to <s3://out>; Retry" in block
    assert "&lt;s3://out&gt;" in viewer_client.get("/").content.decode()  # escaped
    assert "not-described" in block and "No message read yet." in block
    assert block.index("bad-eval") < block.index("not-described")
    assert 'href="/evaluation-jobs/?status=Failed">All failed evaluation jobs' in block
    imports = section(html, "import_jobs")
    assert f'<a href="/import-jobs/{failed_import.resource_id}/">bad-import</a>' in imports
    assert "Weights missing" in imports
    assert 'href="/import-jobs/?status=Failed">All failed import jobs' in imports


def test_the_last_sync_per_kind_says_when_and_what_it_found(viewer_client):
    sweep("evaluation_jobs", ago=3600, seen=1)
    sweep("evaluation_jobs", ago=120, seen=12, added=2, changed=1, vanished=3)
    SyncRun.objects.create(kind="import_jobs", started_at=timezone.now())
    make_imported_model()
    sweep("imported_models", ago=600, seen=9, error="AccessDeniedException: no ListImportedModels")
    html = html_of(viewer_client.get("/"))
    assert re.search(r"2 min ago</time> <span[^>]*>\(saw 12, 2 new, 1 changed, 3 gone\)", html)
    assert re.search(r"running, started <time[^>]*>\d s ago</time>.", section(html, "import_jobs"))
    models = section(html, "imported_models")
    assert re.search(r"failed <time[^>]*>10 min ago</time>: AccessDeniedException: no List", models)
    # No status to count, and the only sweep failed: no figure is made up.
    assert "No count of imported models yet: no sync has finished without an error" in models
    assert "No imported models yet" not in models


def test_imported_models_count_what_the_last_good_sweep_saw(viewer_client):
    sweep("imported_models", seen=4)
    block = section(html_of(viewer_client.get("/")), "imported_models")
    assert '<a href="/imported-models/"><strong>4</strong> imported models</a>' in block
    assert "as of the last sync" in block


def test_several_connections_each_have_their_last_sync(viewer_client, settings, tmp_path):
    path = tmp_path / "connections.toml"
    path.write_text(
        textwrap.dedent(
            """\
            [east]
            region = "us-east-1"

            [west]
            region = "us-west-2"
            """
        )
    )
    settings.DASHBOARD_CONNECTIONS = str(path)
    sweep("evaluation_jobs", connection="east", seen=5)
    sweep("evaluation_jobs", connection="west", error="ThrottlingException: slow down")
    sweep("evaluation_jobs", connection="retired", seen=99)  # not configured any more
    block = section(html_of(viewer_client.get("/")), "evaluation_jobs")
    assert "<strong>east</strong>:" in block and "(saw 5," in block
    assert "<strong>west</strong>:" in block and "ThrottlingException: slow down" in block
    assert "retired" not in block and "saw 99" not in block


def test_one_connection_is_not_named(viewer_client):
    sweep("evaluation_jobs", seen=5)
    assert "<strong>default</strong>:" not in html_of(viewer_client.get("/"))


def test_deletions_in_progress_for_those_who_may_delete(client, admin_user, operator, viewer):
    jobs = make_jobs(3, status="Completed")
    batch, _ = deletions.deletion_batch_create(
        selection=deletions.Selection(ids=frozenset(j.resource_id for j in jobs)),
        user=admin_user,
        idempotency_key="a" * 32,
    )
    DeletionItem.objects.filter(pk=batch.items.order_by("pk")[0].pk).update(
        outcome="deleted", settled_at=timezone.now()
    )
    done, _ = deletions.deletion_batch_create(
        selection=deletions.Selection(ids=frozenset([make_job(status="Failed").resource_id])),
        user=admin_user,
        idempotency_key="b" * 32,
    )
    done.finished_at = timezone.now()
    done.save()
    client.force_login(admin_user)
    block = section(html_of(client.get("/")), "deletions")
    assert f'<a href="/deletions/{batch.pk}/">Deletion #{batch.pk}</a>' in block
    assert "2 of 3 left, by ada-admin" in block and "Queued" in block
    assert f"/deletions/{done.pk}/" not in block
    assert '<a href="/deletions/">Deletions in progress</a>' in block
    for user in (operator, viewer):  # the nav hides deletions from them; so does the overview
        client.force_login(user)
        html = html_of(client.get("/"))
        assert 'id="overview-deletions"' not in html and 'href="/deletions/"' not in html


def test_no_deletion_in_progress_says_so(admin_client_):
    block = section(html_of(admin_client_.get("/")), "deletions")
    assert "No deletion in progress." in block


def test_a_user_in_no_group_is_still_told_which_role_they_need(client, nobody):
    client.force_login(nobody)
    response = client.get("/")
    assert response.status_code == 403 and b"needs the Viewers role" in response.content


def test_the_overview_is_for_signed_in_users(client):
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def _fill(n: int) -> None:
    make_jobs(n, status="InProgress")
    make_jobs(n, status="Failed", description={"failureMessages": ["x" * 50]})
    for _ in range(n):
        make_import_job(status="Failed", description={"failureMessage": "no"})
        make_import_job(status="InProgress")
    for kind in ("evaluation_jobs", "import_jobs", "imported_models"):
        sweep(kind, seen=n)


def test_the_number_of_queries_does_not_grow_with_the_data(
    client, admin_user, django_assert_max_num_queries
):
    client.force_login(admin_user)
    _fill(2)
    html_of(client.get("/"))  # the session and user are read once, then cached
    with django_assert_max_num_queries(16) as small:
        html_of(client.get("/"))
    _fill(30)
    jobs = make_jobs(20, status="Completed")
    for key in "cdefgh":
        deletions.deletion_batch_create(
            selection=deletions.Selection(ids=frozenset(j.resource_id for j in jobs[:3])),
            user=admin_user,
            idempotency_key=key * 32,
        )
    with django_assert_max_num_queries(16) as big:
        html = html_of(client.get("/"))
    assert len(big.captured_queries) == len(small.captured_queries)
    assert StatusCount.objects.get(kind="evaluation_jobs", status="Failed").count == 32
    assert html.count("/deletions/") >= 6
