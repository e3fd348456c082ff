"""The sync per connection (issue 15): four connections, each a local Bedrock of its own (its
own port, account and region) named by an endpoint override in a connections file, swept one
task per connection × kind, in parallel on a real worker, each with its own lock, its own calls
and its own SyncRun; a connection that fails fails alone."""

from __future__ import annotations

import io
import math

import pytest
from django.core.management import CommandError, call_command

from jobs import publishing, sync
from jobs.bedrock.local.server import LocalBedrock
from jobs.connections import connection_named
from jobs.models import ConnectionStatus, EvaluationJob, SyncRun

pytest_plugins = ["tests.worker"]

LIST, GET = "ListEvaluationJobs", "GetEvaluationJob"
# Read with each background description, for the job's page (issue 12).
TAGS = "ListTagsForResource"
# name -> (account, region, jobs seeded): two connections share a region, two an account.
FLEET = {
    "dev": ("123456789012", "us-east-1", 1001),
    "dev-west": ("123456789012", "us-west-2", 40),
    "prod": ("210987654321", "us-east-1", 150),
    "prod-eu": ("210987654321", "eu-west-1", 7),
}


@pytest.fixture
def fleet(local_bedrock, tmp_path, settings):
    """Four local Bedrocks (the test's own `local_bedrock` is dev's) with their clocks stopped,
    seeded, and a connections file naming each by its endpoint: {name: server}."""
    servers = {"dev": local_bedrock}
    started = []
    for name, (account, region, _) in FLEET.items():
        if name not in servers:
            server = LocalBedrock(control=True, account_id=account, region=region, random_seed=7)
            servers[name] = server.start(host="127.0.0.1", port=0)
            started.append(server)
    assert (local_bedrock.account_id, local_bedrock.region) == FLEET["dev"][:2]
    entries = []
    for name, server in servers.items():
        server.set_faults(time_scale=1e9)
        server.seed(count=FLEET[name][2], random_seed=len(entries) + 1)
        server.reset_call_counts()
        entries.append(
            f'[{name}]\nregion = "{server.region}"\nbedrock_endpoint_url = "{server.url}"\n'
        )
    path = tmp_path / "connections.toml"
    path.write_text("\n".join(entries))
    settings.DASHBOARD_CONNECTIONS = str(path)
    settings.SYNC_RETRY_BASE_SECONDS = 0.01
    try:
        yield servers
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def worker_broker(settings):
    """This process publishes to the test worker's broker (tests/worker.py's Redis database)."""
    from tests.worker import REDIS_URL

    settings.CELERY_BROKER_URL = REDIS_URL


def calls(server) -> dict[str, int]:
    return {op: n for op, n in server.call_counts().items() if n}


def floor(name: str) -> dict[str, int]:
    """A first sweep's calls: one ListEvaluationJobs per 1,000 jobs (at least one)."""
    return {LIST: max(1, math.ceil(FLEET[name][2] / 1000))}


def latest_runs() -> dict[str, SyncRun]:
    runs = SyncRun.objects.filter(kind="evaluation_jobs", finished_at__isnull=False)
    return {run.connection: run for run in runs.order_by("started_at")}


def assert_mirrors_its_own(name: str) -> None:
    account, region, count = FLEET[name]
    rows = EvaluationJob.objects.filter(account=account, region=region)
    assert rows.count() == count
    assert all(f":{region}:{account}:" in arn for arn in rows.values_list("arn", flat=True))


# --- in this process ------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_connection_sweeps_its_own_account_and_region_with_its_own_calls(fleet):
    for name in FLEET:
        run = sync.sweep(kind="evaluation_jobs", connection=name)
        assert run.error == "" and run.connection == name
        assert (run.seen, run.added, run.account) == (
            FLEET[name][2],
            FLEET[name][2],
            FLEET[name][0],
        )

    for name, server in fleet.items():
        assert calls(server) == floor(name), name
        assert_mirrors_its_own(name)
        server.reset_call_counts()
    # One job changes in prod: only prod's next sweep Gets it, and no connection's sweep
    # flags another connection's rows as vanished.
    changed = EvaluationJob.objects.filter(account=FLEET["prod"][0], region="us-east-1")
    changed = changed.exclude(status="Stopped").first()
    fleet["prod"].force_status(changed.arn, "Stopped")
    fleet["prod"].reset_call_counts()

    runs = {name: sync.sweep(kind="evaluation_jobs", connection=name) for name in FLEET}

    assert {name: (r.changed, r.vanished, r.get_calls) for name, r in runs.items()} == {
        "dev": (0, 0, 0),
        "dev-west": (0, 0, 0),
        "prod": (1, 0, 1),
        "prod-eu": (0, 0, 0),
    }
    assert calls(fleet["prod"]) == {LIST: 1, GET: 1, TAGS: 1}
    assert calls(fleet["prod-eu"]) == {LIST: 1}
    changed.refresh_from_db()
    assert changed.status == "Stopped" and changed.description["jobArn"] == changed.arn
    assert EvaluationJob.objects.filter(listed=False).count() == 0


@pytest.mark.django_db
def test_a_detail_page_describe_and_the_fill_go_to_the_rows_own_connection(fleet):
    for name in FLEET:
        sync.sweep(kind="evaluation_jobs", connection=name)
    for server in fleet.values():
        server.reset_call_counts()
    job = EvaluationJob.objects.filter(region="eu-west-1").first()

    sync.evaluation_job_describe(job=job)

    assert calls(fleet["prod-eu"]) == {GET: 1}
    assert sum(sum(calls(s).values()) for s in fleet.values()) == 1

    described = sync.describe_missing(kind="evaluation_jobs", connection="dev-west", rate=1000)

    assert described == FLEET["dev-west"][2]
    assert calls(fleet["dev-west"]) == {GET: FLEET["dev-west"][2], TAGS: FLEET["dev-west"][2]}
    assert calls(fleet["dev"]) == {} and calls(fleet["prod"]) == {}
    assert not sync.missing_descriptions(kind="evaluation_jobs", connection="dev-west")
    assert sync.missing_descriptions(kind="evaluation_jobs", connection="dev")


@pytest.mark.django_db
def test_a_listing_of_another_account_than_sts_gave_is_that_connections_error(fleet):
    prod = connection_named("prod")
    ConnectionStatus.objects.create(
        name="prod", fingerprint=prod.fingerprint, account="999999999999"
    )

    run = sync.sweep(kind="evaluation_jobs", connection="prod")
    other = sync.sweep(kind="evaluation_jobs", connection="prod-eu")

    assert "prod is account 999999999999" in run.error and "210987654321" in run.error
    assert run.finished_at is not None and run.account == ""
    assert not EvaluationJob.objects.filter(region="us-east-1").exists()
    assert other.error == "" and other.added == FLEET["prod-eu"][2]


@pytest.mark.django_db
def test_the_command_sweeps_every_connection_and_one_denied_fails_alone(fleet):
    fleet["dev-west"].inject_error(LIST, "AccessDeniedException", rate=1.0)
    out = io.StringIO()

    with pytest.raises(CommandError, match=r"evaluation_jobs \(dev-west\)"):
        call_command("sync_bedrock", "--kind", "evaluation_jobs", stdout=out)

    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    assert [line for line in lines if "FAILED" in line] == [
        line for line in lines if line.endswith("connection dev-west")
    ]
    assert "AccessDeniedException" in out.getvalue() or "not authorized" in out.getvalue()
    for name in ("dev", "prod", "prod-eu"):
        assert_mirrors_its_own(name)
    assert calls(fleet["dev-west"]) == {LIST: 1}  # a final error: not retried


@pytest.mark.django_db
def test_locks_are_per_connection(fleet):
    from jobs import locks

    lease = locks.acquire("sync:evaluation_jobs:prod", ttl=60)
    try:
        with pytest.raises(sync.SyncAlreadyRunning, match="of prod"):
            sync.sweep(kind="evaluation_jobs", connection="prod")
        assert sync.sweep(kind="evaluation_jobs", connection="dev").error == ""
        assert sync.sync_running(kind="evaluation_jobs")
        assert sync.sync_running(kind="evaluation_jobs", connection="prod")
        assert not sync.sync_running(kind="evaluation_jobs", connection="dev")
    finally:
        lease.release()
    assert calls(fleet["prod"]) == {}


# --- on a real worker -----------------------------------------------------------------------


def start_worker(celery_processes, settings):
    return celery_processes(
        DASHBOARD_CONNECTIONS=settings.DASHBOARD_CONNECTIONS,
        SYNC_INTERVAL_SECONDS="3600",
        SYNC_DESCRIBE_INTERVAL_SECONDS="3600",
        SYNC_DESCRIBE_RATE="1000",
        DASHBOARD_HEARTBEAT_SECONDS="3600",
    )


@pytest.mark.django_db(transaction=True)
def test_four_connections_sync_in_parallel_on_a_worker_each_with_its_own_calls(
    fleet, celery_processes, worker_broker, settings
):
    for server in fleet.values():
        server.set_faults(latency_ms=300)  # each sweep takes a while: parallel ones overlap
    procs = start_worker(celery_processes, settings)

    # What beat does on the interval: the kind's task publishes one sweep per connection.
    assert publishing.publish_now(publishing.SYNC["evaluation_jobs"])

    runs = procs.wait_for(lambda: len(latest_runs()) == 4 and latest_runs(), timeout=90)
    for server in fleet.values():
        server.set_faults(latency_ms=0)
    for name, run in runs.items():
        assert run.error == "" and run.added == FLEET[name][2], procs.output
        # Its own listing, exactly; its own fill may have begun (Gets, counted below).
        assert calls(fleet[name])[LIST] == floor(name)[LIST]
        assert set(calls(fleet[name])) <= {LIST, GET, TAGS}
        assert_mirrors_its_own(name)
    overlapping = [
        (a, b)
        for a in runs.values()
        for b in runs.values()
        if a.connection < b.connection
        and a.started_at < b.finished_at
        and b.started_at < a.finished_at
    ]
    assert overlapping, [(r.connection, r.started_at, r.finished_at) for r in runs.values()]
    # Each first sweep asked for its own connection's fill: every job described, each from its
    # own Bedrock, once.
    procs.wait_for(
        lambda: not EvaluationJob.objects.filter(needs_description=True).exists(), timeout=120
    )
    for name, server in fleet.items():
        assert calls(server) == floor(name) | {GET: FLEET[name][2], TAGS: FLEET[name][2]}, name
    assert SyncRun.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_connection_denied_on_a_worker_shows_its_error_and_the_others_sync(
    fleet, celery_processes, worker_broker, settings, admin_client_
):
    fleet["prod"].inject_error(LIST, "AccessDeniedException", rate=1.0)
    procs = start_worker(celery_processes, settings)

    assert publishing.publish_now(publishing.SYNC["evaluation_jobs"])

    runs = procs.wait_for(lambda: len(latest_runs()) == 4 and latest_runs(), timeout=90)
    assert "not authorized" in runs["prod"].error and runs["prod"].seen == 0
    assert calls(fleet["prod"]) == {LIST: 1}
    for name in ("dev", "dev-west", "prod-eu"):
        assert runs[name].error == "" and runs[name].added == FLEET[name][2], procs.output
        assert_mirrors_its_own(name)
    assert not EvaluationJob.objects.filter(region="us-east-1", account=FLEET["prod"][0]).exists()
    page = admin_client_.get("/connections/").content.decode()
    row = page[page.index('id="connection-prod"') :]
    row = row[: row.index("</tr>")]
    assert "Evaluation jobs: " in row and "failed" in row and "not authorized" in row
