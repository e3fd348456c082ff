"""The sync against the local Bedrock over real HTTP, counting the calls that reach it: sweeps,
descriptions, vanished jobs, locks, throttling and failures, and `manage.py sync_bedrock`."""

from __future__ import annotations

import dataclasses
import io
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from jobs import locks, sync
from jobs.bedrock import client as bedrock
from jobs.bedrock import errors
from jobs.models import EvaluationJob, ImportedModel, ModelImportJob, StatusCount, SyncRun

pytestmark = pytest.mark.django_db

LIST, GET = "ListEvaluationJobs", "GetEvaluationJob"


@pytest.fixture
def bedrock_jobs(local_bedrock, settings):
    """The local Bedrock with its clock stopped (status changes only when a test forces one),
    and quick retries for tests that fail on purpose."""
    local_bedrock.set_faults(time_scale=1e9)
    settings.SYNC_RETRY_BASE_SECONDS = 0.01

    def seed(count: int, random_seed: int = 1) -> None:
        local_bedrock.seed(count=count, random_seed=random_seed)
        local_bedrock.reset_call_counts()

    local_bedrock.seed_jobs = seed
    return local_bedrock


def calls(server) -> dict[str, int]:
    return {op: n for op, n in server.call_counts().items() if n}


def bedrock_statuses() -> dict[str, str]:
    """What Bedrock lists now, through the gateway (costs list calls: count before this)."""
    return {s["jobArn"]: s["status"] for p in bedrock.iter_evaluation_job_pages() for s in p}


def mirror_statuses() -> dict[str, str]:
    return dict(EvaluationJob.objects.filter(listed=True).values_list("arn", "status"))


def mirror_snapshot() -> list[tuple]:
    fields = [f.attname for f in EvaluationJob._meta.concrete_fields]
    return list(EvaluationJob.objects.order_by("pk").values_list(*fields))


def status_counts() -> dict[str, int]:
    return dict(
        StatusCount.objects.filter(kind="evaluation_jobs", count__gt=0).values_list(
            "status", "count"
        )
    )


# --- sweeps and call counts -----------------------------------------------------------------


def test_first_sweep_only_lists_then_a_sweep_gets_exactly_the_new_and_changed(bedrock_jobs):
    bedrock_jobs.seed_jobs(2500)

    run = sync.evaluation_jobs_sync()

    assert calls(bedrock_jobs) == {LIST: 3}
    assert (run.list_calls, run.get_calls, run.seen, run.added) == (3, 0, 2500, 2500)
    assert run.error == "" and run.finished_at is not None
    assert EvaluationJob.objects.count() == 2500
    assert not EvaluationJob.objects.filter(needs_description=False).exists()
    truth = bedrock_statuses()
    assert mirror_statuses() == truth
    assert sum(status_counts().values()) == 2500

    completed = [arn for arn, status in truth.items() if status == "Completed"][:7]
    for arn in completed:
        bedrock_jobs.force_status(arn, "Failed")
    bedrock_jobs.seed_jobs(4, random_seed=2)
    new = set(bedrock_statuses()) - set(truth)
    assert len(new) == 4
    bedrock_jobs.reset_call_counts()

    run = sync.evaluation_jobs_sync()

    # Each described job's tags are read with it (the detail page reads them from the mirror).
    assert calls(bedrock_jobs) == {LIST: 3, GET: 11, "ListTagsForResource": 11}
    assert (run.list_calls, run.get_calls) == (3, 11)
    assert (run.seen, run.added, run.changed, run.vanished) == (2504, 4, 7, 0)
    truth = bedrock_statuses()
    assert mirror_statuses() == truth
    described = EvaluationJob.objects.filter(needs_description=False)
    assert set(described.values_list("arn", flat=True)) == set(completed) | new
    for job in described:
        assert job.description["jobArn"] == job.arn
        assert job.description["status"] == job.status == truth[job.arn]
        assert job.described_at is not None
    counts = status_counts()
    assert sum(counts.values()) == 2504
    assert counts == {s: list(truth.values()).count(s) for s in set(truth.values())}
    bedrock_jobs.reset_call_counts()

    run = sync.evaluation_jobs_sync()

    assert calls(bedrock_jobs) == {LIST: 3}
    assert (run.added, run.changed, run.vanished, run.get_calls) == (0, 0, 0, 0)


def test_mirror_columns_come_from_the_summary(bedrock_jobs):
    bedrock_jobs.seed_jobs(40)
    sync.evaluation_jobs_sync()
    summaries = {s["jobArn"]: s for p in bedrock.iter_evaluation_job_pages() for s in p}
    for job in EvaluationJob.objects.all():
        s = summaries[job.arn]
        assert job.name == s["jobName"]
        assert job.created_at == s["creationTime"]
        assert job.job_type == s["jobType"]
        assert job.application_type == s["applicationType"]
        assert job.region == "us-east-1" and job.account == "123456789012"
        assert job.arn.endswith("/" + job.resource_id)
        for task_type in s["evaluationTaskTypes"]:
            assert f"|{task_type}|" in job.task_types
        for model in s["modelIdentifiers"]:
            assert f"|{model}|" in job.model_identifiers
        assert job.summary["creationTime"] == s["creationTime"].isoformat()


# --- descriptions ---------------------------------------------------------------------------


def test_the_fill_describes_every_missing_job_and_keeps_to_its_rate(bedrock_jobs):
    bedrock_jobs.seed_jobs(30)
    sync.evaluation_jobs_sync()
    bedrock_jobs.reset_call_counts()
    rate = 25

    started = time.monotonic()
    described = sync.evaluation_jobs_describe_missing(rate=rate, budget_seconds=30)
    took = time.monotonic() - started

    assert described == 30
    assert calls(bedrock_jobs) == {GET: 30, "ListTagsForResource": 30}  # tags with each
    assert took >= (30 - 1) / rate
    assert not EvaluationJob.objects.filter(needs_description=True).exists()
    assert all(job.description["jobArn"] == job.arn for job in EvaluationJob.objects.all())
    # Nothing left: the next fill makes no call.
    assert sync.evaluation_jobs_describe_missing(rate=rate) == 0
    assert calls(bedrock_jobs) == {GET: 30, "ListTagsForResource": 30}


def test_the_fill_stops_at_its_time_budget(bedrock_jobs):
    bedrock_jobs.seed_jobs(30)
    sync.evaluation_jobs_sync()

    described = sync.evaluation_jobs_describe_missing(rate=10, budget_seconds=0.35)

    assert 1 <= described <= 5
    assert EvaluationJob.objects.filter(needs_description=True).count() == 30 - described


def test_the_fill_runs_once_at_a_time(bedrock_jobs):
    bedrock_jobs.seed_jobs(5)
    sync.evaluation_jobs_sync()
    lease = locks.acquire(sync.KINDS["evaluation_jobs"].fill_lock_name("default"), ttl=60)

    assert sync.evaluation_jobs_describe_missing(rate=100) == 0
    assert calls(bedrock_jobs) == {LIST: 1}
    lease.release()


def test_opening_one_job_describes_it_at_once_and_refreshes_its_status(bedrock_jobs):
    bedrock_jobs.seed_jobs(5)
    sync.evaluation_jobs_sync()
    job = EvaluationJob.objects.exclude(status="Stopped").first()
    bedrock_jobs.force_status(job.arn, "Stopped")
    bedrock_jobs.reset_call_counts()

    job = sync.evaluation_job_describe(job=job)

    assert calls(bedrock_jobs) == {GET: 1}
    assert job.description["jobArn"] == job.arn and not job.needs_description
    assert job.status == job.description["status"] == "Stopped"
    assert EvaluationJob.objects.filter(needs_description=True).count() == 4
    # The change was fetched already: the next sweep does not get it again.
    run = sync.evaluation_jobs_sync()
    assert (run.changed, run.get_calls) == (0, 0)
    assert calls(bedrock_jobs) == {GET: 1, LIST: 1}
    assert status_counts()["Stopped"] == list(bedrock_statuses().values()).count("Stopped")


def test_describing_a_job_bedrock_no_longer_has_flags_it_vanished(bedrock_jobs):
    bedrock_jobs.seed_jobs(3)
    sync.evaluation_jobs_sync()
    job = EvaluationJob.objects.first()
    ghost = EvaluationJob.objects.create(
        arn=job.arn[:-12] + "zzzzzzzzzzzz",
        resource_id="zzzzzzzzzzzz",
        region="us-east-1",
        account="123456789012",
        name="ghost",
        created_at=job.created_at,
        last_synced_at=job.last_synced_at,
        status="Completed",
        job_type="Automated",
    )

    with pytest.raises(errors.NotFoundError):
        sync.evaluation_job_describe(job=ghost)

    assert ghost.listed is False and ghost.vanished_at is not None


# --- vanished jobs --------------------------------------------------------------------------


def test_vanished_jobs_are_flagged_and_unflagged_when_they_reappear(bedrock_jobs):
    bedrock_jobs.seed_jobs(20, random_seed=3)
    sync.evaluation_jobs_sync()
    doomed = list(
        EvaluationJob.objects.filter(status__in=EvaluationJob.TERMINAL).values_list(
            "arn", flat=True
        )[:3]
    )
    deleting, refused = bedrock.batch_delete_evaluation_jobs(identifiers=doomed)
    assert len(deleting) == 3 and not refused
    # Let the deletions finish (10 nominal seconds), then stop the clock again.
    bedrock_jobs.set_faults(time_scale=0.001)
    deadline = time.monotonic() + 10
    while set(doomed) & set(bedrock_statuses()):
        assert time.monotonic() < deadline, "the deleted jobs never disappeared"
        time.sleep(0.05)
    bedrock_jobs.set_faults(time_scale=1e9)

    run = sync.evaluation_jobs_sync()

    assert run.vanished == 3
    gone = EvaluationJob.objects.filter(arn__in=doomed)
    assert all(not job.listed and job.vanished_at is not None for job in gone.all())
    assert mirror_statuses() == bedrock_statuses()
    assert sum(status_counts().values()) == 17
    # The same seed puts the deleted jobs back (same ARNs, new creation times).
    bedrock_jobs.seed_jobs(20, random_seed=3)

    run = sync.evaluation_jobs_sync()

    assert run.vanished == 0 and run.added == 0
    assert all(job.listed and job.vanished_at is None for job in gone.all())
    assert mirror_statuses() == bedrock_statuses()
    assert sum(status_counts().values()) == 20


# --- locks ----------------------------------------------------------------------------------


def test_a_held_lock_keeps_a_second_sweep_out(bedrock_jobs, django_capture_on_commit_callbacks):
    bedrock_jobs.seed_jobs(10)
    lease = locks.acquire("sync:evaluation_jobs:default", ttl=60)
    assert lease is not None

    with pytest.raises(sync.SyncAlreadyRunning):
        sync.evaluation_jobs_sync()
    with django_capture_on_commit_callbacks() as callbacks:
        assert sync.evaluation_jobs_sync_request() is False
    assert sync.sync_running(kind="evaluation_jobs")

    assert callbacks == [] and calls(bedrock_jobs) == {}
    assert not SyncRun.objects.exists()
    lease.release()
    assert not sync.sync_running(kind="evaluation_jobs")
    assert sync.evaluation_jobs_sync().added == 10


def test_a_crashed_holder_blocks_only_until_its_lease_expires(bedrock_jobs):
    bedrock_jobs.seed_jobs(10)
    crashed = locks.acquire("sync:evaluation_jobs:default", ttl=0.05)
    time.sleep(0.1)

    assert sync.evaluation_jobs_sync().added == 10
    # The old holder can neither extend nor release a lease taken over by someone else.
    mine = locks.acquire("sync:evaluation_jobs:default", ttl=60)
    with pytest.raises(locks.LockLost):
        crashed.renew()
    crashed.release()
    assert locks.acquire("sync:evaluation_jobs:default", ttl=60) is None
    mine.release()


def test_a_refresh_asks_for_a_sweep_when_the_transaction_commits(
    bedrock_jobs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        assert sync.evaluation_jobs_sync_request() is True
    # Running the callback would enqueue on the broker: that a task was asked for is enough.
    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_make_one_sweep(bedrock_jobs):
    bedrock_jobs.seed_jobs(300)
    bedrock_jobs.set_faults(latency_ms=400)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def sweep() -> None:
        try:
            barrier.wait()
            outcomes.append(sync.evaluation_jobs_sync())
        except sync.SyncAlreadyRunning as exc:
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(type(o).__name__ for o in outcomes) == ["SyncAlreadyRunning", "SyncRun"]
    assert calls(bedrock_jobs) == {LIST: 1}
    assert SyncRun.objects.count() == 1
    assert EvaluationJob.objects.count() == 300


# --- throttling and failures ----------------------------------------------------------------


def test_a_sweep_under_30_percent_throttling_completes(bedrock_jobs):
    bedrock_jobs.seed_jobs(2500)
    sync.evaluation_jobs_sync()
    truth = bedrock_statuses()
    changed = [arn for arn, status in truth.items() if status == "Completed"][:5]
    for arn in changed:
        bedrock_jobs.force_status(arn, "Failed")
    bedrock_jobs.set_faults(throttle_rate=0.3)

    run = sync.evaluation_jobs_sync()

    bedrock_jobs.set_faults(throttle_rate=0.0)
    assert run.error == "" and run.changed == 5
    assert mirror_statuses() == bedrock_statuses()
    # Some calls were throttled and retried (botocore retries reach the server as calls).
    assert sum(bedrock_jobs.call_counts().values()) > 3 + 5


def test_a_failing_sweep_records_the_error_and_leaves_the_mirror_as_it_was(bedrock_jobs, settings):
    bedrock_jobs.seed_jobs(1500)
    sync.evaluation_jobs_sync()
    for arn in list(bedrock_statuses())[:3]:
        bedrock_jobs.force_status(arn, "Stopped")
    bedrock_jobs.seed_jobs(2, random_seed=5)
    before, counts_before = mirror_snapshot(), status_counts()
    settings.BEDROCK_MAX_ATTEMPTS = 1
    settings.SYNC_LIST_ATTEMPTS = 2
    bedrock_jobs.set_faults(error_rate=1.0)

    run = sync.evaluation_jobs_sync()

    assert "InternalServerException" in run.error
    assert run.finished_at is not None and run.list_calls == 2
    assert bedrock_jobs.call_counts()[LIST] == 2
    assert mirror_snapshot() == before and status_counts() == counts_before
    assert sync.sync_state(kind="evaluation_jobs") == run
    with pytest.raises(errors.ServiceError):
        sync.evaluation_jobs_sync(raise_errors=True)
    assert SyncRun.objects.exclude(error="").count() == 2


def test_a_sweep_failing_after_its_first_page_applies_nothing(bedrock_jobs, settings):
    bedrock_jobs.seed_jobs(2500)
    sync.evaluation_jobs_sync()
    for arn in list(bedrock_statuses())[:4]:  # on the first page: newest first
        bedrock_jobs.force_status(arn, "Stopped")
    before = mirror_snapshot()
    settings.BEDROCK_MAX_ATTEMPTS = 1
    settings.SYNC_LIST_ATTEMPTS = 1

    def pages_then_outage(**params):
        for i, page in enumerate(bedrock.iter_evaluation_job_pages(**params)):
            yield page
            if i == 0:
                bedrock_jobs.set_faults(error_rate=1.0)

    kind = dataclasses.replace(sync.KINDS["evaluation_jobs"], list_pages=pages_then_outage)

    run = sync.sweep(kind=kind)

    assert "InternalServerException" in run.error and run.list_calls == 2
    assert mirror_snapshot() == before


def test_a_get_that_fails_leaves_that_job_waiting_not_the_sweep_failed(bedrock_jobs, settings):
    bedrock_jobs.seed_jobs(20)
    sync.evaluation_jobs_sync()
    arn = next(iter(bedrock_statuses()))
    bedrock_jobs.force_status(arn, "Stopped")
    settings.BEDROCK_MAX_ATTEMPTS = 1

    def listing_then_outage(**params):
        yield from bedrock.iter_evaluation_job_pages(**params)
        bedrock_jobs.set_faults(error_rate=1.0)

    kind = dataclasses.replace(sync.KINDS["evaluation_jobs"], list_pages=listing_then_outage)

    run = sync.sweep(kind=kind)

    assert run.error == "" and (run.changed, run.get_calls) == (1, 1)
    job = EvaluationJob.objects.get(arn=arn)
    assert job.status == "Stopped" and job.needs_description


# --- the other kinds ------------------------------------------------------------------------


def test_import_jobs_and_imported_models_sweep_the_same_way(bedrock_jobs):
    bedrock_jobs.seed_jobs(100)  # and 10 import jobs, with a model for each completed one

    jobs_run = sync.import_jobs_sync()
    models_run = sync.imported_models_sync()

    assert calls(bedrock_jobs) == {"ListModelImportJobs": 1, "ListImportedModels": 1}
    assert jobs_run.added == ModelImportJob.objects.count() == 10
    assert models_run.added == ImportedModel.objects.count() >= 1
    running = ModelImportJob.objects.filter(status="InProgress").first() or (
        ModelImportJob.objects.first()
    )
    target = "Failed" if running.status == "InProgress" else "InProgress"
    bedrock_jobs.force_status(running.arn, target)
    bedrock_jobs.reset_call_counts()

    jobs_run = sync.import_jobs_sync()

    assert calls(bedrock_jobs) == {
        "ListModelImportJobs": 1,
        "GetModelImportJob": 1,
        "ListTagsForResource": 1,  # read with the description
    }
    running.refresh_from_db()
    assert running.status == target and running.description["jobArn"] == running.arn
    total = sum(StatusCount.objects.filter(kind="import_jobs").values_list("count", flat=True))
    assert total == 10
    model = ImportedModel.objects.first()
    model = sync.imported_model_describe(model=model)
    assert model.description["modelArn"] == model.arn


# --- the command ----------------------------------------------------------------------------


def test_sync_bedrock_prints_each_sweeps_record(bedrock_jobs):
    bedrock_jobs.seed_jobs(20)
    out = io.StringIO()

    call_command("sync_bedrock", stdout=out)

    text = out.getvalue()
    assert "evaluation_jobs: ok" in text
    assert "1 list calls, 0 get calls; seen 20, added 20, changed 0, vanished 0" in text
    assert "import_jobs: ok" in text and "imported_models: ok" in text
    assert SyncRun.objects.count() == 3


def test_sync_bedrock_reports_a_failed_sweep_and_exits_non_zero(bedrock_jobs, settings):
    settings.BEDROCK_MAX_ATTEMPTS = 1
    settings.SYNC_LIST_ATTEMPTS = 1
    bedrock_jobs.set_faults(error_rate=1.0)
    out = io.StringIO()

    with pytest.raises(CommandError, match="evaluation_jobs"):
        call_command("sync_bedrock", "--kind", "evaluation_jobs", stdout=out)

    assert "evaluation_jobs: FAILED" in out.getvalue()
    assert "InternalServerException" in out.getvalue()
