"""Bulk deletion (jobs/deletions/) against the local Bedrock over real HTTP: batches recorded
up front, calls of at most 25, each item's outcome and reason, throttling and 5xx, and the
runner's claims; then a real worker killed mid-batch, and a batch confirmed with Redis down.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time

import pytest
from django.utils import timezone

from jobs import deletions, publishing, sync
from jobs.bedrock import client as bedrock
from jobs.models import AuditEntry, DeletionBatch, DeletionItem, EvaluationJob
from jobs.selectors.evaluation_jobs import EvaluationJobFilters
from tests.conftest import free_port
from tests.jobs.views.factories import make_job

pytest_plugins = ["tests.worker"]

OP = "BatchDeleteEvaluationJob"
TERMINAL = ("Completed", "Failed", "Stopped")


@pytest.fixture(autouse=True)
def deletion_settings(settings):
    """Fast and unpaced, and a broker nobody listens on: a publish from a test that forgot to
    point at its own Redis fails instead of reaching someone's worker."""
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    settings.DELETION_CALLS_PER_SECOND = 0
    settings.DELETION_RETRY_BASE_SECONDS = 0.005
    settings.DELETION_RETRY_MAX_SECONDS = 0.05
    settings.DELETION_RESUME_GRACE_SECONDS = 60
    return settings


def terminal_jobs(local_bedrock, count: int, *, seed: int = 7) -> list[str]:
    """`count` jobs in Bedrock, each Completed, Failed or Stopped, mirrored by one sweep."""
    local_bedrock.seed(count, random_seed=seed)
    arns = sorted(local_bedrock.store.evaluation_jobs)
    for arn, status in zip(arns, itertools.cycle(TERMINAL), strict=False):
        local_bedrock.force_status(arn, status)
    sync.evaluation_jobs_sync(raise_errors=True)
    local_bedrock.reset_call_counts()
    return arns


def all_terminal() -> deletions.Selection:
    filters = EvaluationJobFilters(statuses=TERMINAL)
    return deletions.Selection(filters=filters, filter_label="status Completed, Failed or Stopped")


def create(user=None, *, selection: deletions.Selection, key: str = "k" * 32) -> DeletionBatch:
    batch, created = deletions.deletion_batch_create(
        selection=selection, user=user, idempotency_key=key
    )
    assert created
    return batch


def run_to_the_end(batch: DeletionBatch, *, rounds: int = 20) -> None:
    """What the task does, retries included (Celery would wait `retry_in` between)."""
    for _ in range(rounds):
        if deletions.deletion_batch_run(batch_id=batch.pk) is None:
            break
    batch.refresh_from_db()


def outcomes(batch: DeletionBatch) -> dict[str, tuple[str, str]]:
    return {i.arn: (i.outcome, i.code) for i in batch.items.all()}


def sent_after_settled(local_bedrock, batch: DeletionBatch) -> list[str]:
    """ARNs the local Bedrock saw in a call after their item was settled."""
    sends = local_bedrock.sends()
    late = []
    for item in batch.items.exclude(settled_at=None):
        if any(t > item.settled_at.timestamp() for t in sends.get(item.arn, [])):
            late.append(item.arn)
    return late


# --- the numbers the issue asks for ---------------------------------------------------------


@pytest.mark.django_db
def test_deleting_1000_matching_jobs_takes_exactly_40_calls(local_bedrock, admin_user):
    arns = terminal_jobs(local_bedrock, 1000)

    batch = create(admin_user, selection=all_terminal())
    assert batch.items.count() == 1000
    assert local_bedrock.call_counts() == {}  # recording the batch calls nobody

    run_to_the_end(batch)

    assert local_bedrock.call_counts() == {OP: 40}
    assert batch.is_finished
    assert set(batch.items.values_list("outcome", flat=True)) == {DeletionItem.DELETED}
    assert all(len(times) == 1 for times in local_bedrock.sends().values())
    assert sorted(local_bedrock.sends()) == arns
    # The mirror shows them Deleting until the next sweep; Bedrock agrees.
    assert set(EvaluationJob.objects.values_list("status", flat=True)) == {"Deleting"}
    assert {j.status for j in local_bedrock.store.evaluation_jobs.values()} == {"Deleting"}
    counts = deletions.deletion_batch_counts(batch=batch)
    assert (counts.deleted, counts.pending, counts.percent) == (1000, 0, 100)


@pytest.mark.django_db
def test_a_mix_of_terminal_running_and_missing_jobs_ends_with_the_right_reasons(
    local_bedrock, admin_user
):
    local_bedrock.seed(12, random_seed=3)
    sync.evaluation_jobs_sync(raise_errors=True)
    rows = list(EvaluationJob.objects.order_by("arn"))
    completed, failed, stopped, stale, running, deleting, vanished, later = rows[:8]
    for job, status in (
        (completed, "Completed"),
        (failed, "Failed"),
        (stopped, "Stopped"),
        (stale, "Completed"),
        (running, "InProgress"),
        (deleting, "Deleting"),
        (vanished, "Completed"),
        (later, "Failed"),
    ):
        local_bedrock.force_status(job.arn, status)
    sync.evaluation_jobs_sync(raise_errors=True)
    # The mirror is behind Bedrock: it still thinks `stale` is Completed, but Bedrock runs it.
    local_bedrock.force_status(stale.arn, "InProgress")
    local_bedrock.reset_call_counts()
    EvaluationJob.objects.filter(pk=vanished.pk).update(listed=False)
    # In the mirror, gone from Bedrock (deleted elsewhere, the sweep has not seen it yet).
    missing = make_job(name="missing-job", status="Failed")
    ids = [j.resource_id for j in (completed, failed, stopped, stale, running, deleting)]
    ids += [vanished.resource_id, later.resource_id, missing.resource_id, "nosuchjob123"]

    preview = deletions.evaluation_job_deletion_preview(
        selection=deletions.Selection(ids=frozenset(ids))
    )
    assert preview.to_delete == 6 and dict(preview.by_status) == {
        "Completed": 2,
        "Failed": 3,
        "Stopped": 1,
    }
    assert (preview.not_terminal, preview.deleting, preview.vanished, preview.not_found) == (
        1,
        1,
        1,
        1,
    )
    assert preview.not_terminal_statuses == ["InProgress"]

    batch = create(admin_user, selection=deletions.Selection(ids=frozenset(ids)))
    # Between confirming and running, a job starts again (as the mirror sees it).
    EvaluationJob.objects.filter(pk=later.pk).update(status="InProgress")
    run_to_the_end(batch)

    items = {i.arn: i for i in batch.items.all()}
    got = {arn: (i.outcome, i.code) for arn, i in items.items()}
    assert got == {
        completed.arn: ("deleted", ""),
        failed.arn: ("deleted", ""),
        stopped.arn: ("deleted", ""),
        stale.arn: ("failed", "400"),
        missing.arn: ("deleted", "404"),
        running.arn: ("skipped", "NotTerminal"),
        deleting.arn: ("skipped", "AlreadyDeleting"),
        vanished.arn: ("skipped", "Vanished"),
        later.arn: ("skipped", "NotTerminal"),
    }
    assert "InProgress" in items[stale.arn].reason  # Bedrock's own message
    assert items[missing.arn].reason.startswith("Already gone")
    assert "Unable to locate this job to delete." in items[missing.arn].reason
    assert "it is InProgress" in items[later.arn].reason
    assert "vanished" in items[vanished.arn].reason
    assert all(i.settled_at for i in items.values())
    # One call: the five jobs that passed the re-check.
    assert local_bedrock.call_counts() == {OP: 1}
    assert sorted(local_bedrock.sends()) == sorted(
        [completed.arn, failed.arn, stopped.arn] + [stale.arn, missing.arn]
    )
    assert EvaluationJob.objects.get(pk=completed.pk).status == "Deleting"
    assert EvaluationJob.objects.get(pk=stale.pk).status == "Completed"  # the sweep corrects it
    assert batch.is_finished


@pytest.mark.django_db
def test_under_throttling_and_500s_every_job_ends_deleted_and_nothing_is_sent_after_settling(
    local_bedrock, admin_user, settings
):
    settings.BEDROCK_MAX_ATTEMPTS = 1  # no botocore retries: ours meet every fault
    terminal_jobs(local_bedrock, 300)
    local_bedrock.set_faults(throttle_rate=0.3, error_rate=0.1)
    batch = create(admin_user, selection=all_terminal())

    run_to_the_end(batch, rounds=50)

    assert batch.is_finished
    assert set(batch.items.values_list("outcome", flat=True)) == {DeletionItem.DELETED}
    assert sent_after_settled(local_bedrock, batch) == []
    calls = local_bedrock.call_counts()[OP]
    assert calls > 12  # the faults did happen, and were retried
    sends = local_bedrock.sends()
    assert len(sends) == 300 and sum(len(t) for t in sends.values()) <= 25 * calls
    assert {j.status for j in local_bedrock.store.evaluation_jobs.values()} == {"Deleting"}


# --- recording a batch ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_batch_is_recorded_once_per_key_with_an_audit_entry(local_bedrock, admin_user):
    terminal_jobs(local_bedrock, 30)
    selection = all_terminal()
    batch, created = deletions.deletion_batch_create(
        selection=selection, user=admin_user, idempotency_key="a" * 32
    )
    again, created_again = deletions.deletion_batch_create(
        selection=selection, user=admin_user, idempotency_key="a" * 32
    )
    assert created and not created_again and again.pk == batch.pk
    assert DeletionBatch.objects.count() == 1 and batch.items.count() == 30
    assert batch.kind == "evaluation_jobs" and batch.created_by == admin_user
    assert batch.description.startswith("All deletable jobs matching status Completed")
    assert batch.selection["query"] == "" and batch.state == "Queued"
    entry = AuditEntry.objects.get(action="deletion_batch.create")
    assert entry.username == "ada-admin" and entry.outcome == "requested"
    assert entry.detail["batch"] == batch.pk and entry.detail["pending"] == 30

    run_to_the_end(batch)
    finish = AuditEntry.objects.get(action="deletion_batch.finish")
    assert finish.outcome == "finished" and finish.detail["deleted"] == 30
    per_job = AuditEntry.objects.filter(action="evaluation_job.delete", outcome="deleted")
    assert per_job.count() == 30 and per_job.first().detail["batch"] == batch.pk


@pytest.mark.django_db
def test_the_task_is_enqueued_only_after_commit(
    local_bedrock, admin_user, django_capture_on_commit_callbacks
):
    terminal_jobs(local_bedrock, 3)
    with django_capture_on_commit_callbacks() as callbacks:
        create(admin_user, selection=all_terminal())
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_a_selection_with_nothing_deletable_is_recorded_finished(local_bedrock, admin_user):
    job = make_job(status="InProgress")
    batch = create(admin_user, selection=deletions.Selection(ids=frozenset([job.resource_id])))
    assert batch.is_finished
    assert outcomes(batch) == {job.arn: ("skipped", "NotTerminal")}


# --- the runner -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_running_again_sends_nothing(local_bedrock, admin_user):
    terminal_jobs(local_bedrock, 30)
    batch = create(admin_user, selection=all_terminal())
    run_to_the_end(batch)
    assert local_bedrock.call_counts() == {OP: 2}

    assert deletions.deletion_batch_run(batch_id=batch.pk) is None  # redelivered
    DeletionBatch.objects.filter(pk=batch.pk).update(finished_at=None)  # even if unfinished
    assert deletions.deletion_batch_run(batch_id=batch.pk) is None
    assert local_bedrock.call_counts() == {OP: 2}


@pytest.mark.django_db
def test_a_second_runner_leaves_a_held_batch_alone(local_bedrock, admin_user):
    from jobs import locks

    terminal_jobs(local_bedrock, 5)
    batch = create(admin_user, selection=all_terminal())
    lease = locks.acquire(f"deletion:{batch.pk}", ttl=60)
    assert deletions.deletion_batch_run(batch_id=batch.pk) is None
    assert local_bedrock.call_counts() == {}
    lease.release()
    run_to_the_end(batch)
    assert batch.is_finished


@pytest.mark.django_db
def test_items_a_dead_runner_sent_are_recognised_not_failed(local_bedrock, admin_user):
    """A worker sent a call and died before recording the answer: Bedrock is deleting those
    jobs, the items are pending with an expired claim. The next runner sends them again,
    Bedrock says they are Deleting (an error), and a Get shows the first call worked."""
    arns = terminal_jobs(local_bedrock, 3)
    batch = create(admin_user, selection=all_terminal())
    bedrock.batch_delete_evaluation_jobs(identifiers=arns)  # the call whose answer was lost
    long_ago = timezone.now() - dt.timedelta(hours=1)
    batch.items.update(attempts=1, claim_token="dead" * 8, claimed_at=long_ago)
    local_bedrock.reset_call_counts()

    run_to_the_end(batch)

    assert {i.outcome for i in batch.items.all()} == {DeletionItem.DELETED}
    assert all("earlier attempt reached Bedrock" in i.reason for i in batch.items.all())
    assert local_bedrock.call_counts() == {OP: 1, "GetEvaluationJob": 3}


@pytest.mark.django_db
def test_a_claim_that_has_not_expired_is_left_to_its_runner(local_bedrock, admin_user, settings):
    terminal_jobs(local_bedrock, 3)
    batch = create(admin_user, selection=all_terminal())
    first = batch.items.order_by("pk").first()
    DeletionItem.objects.filter(pk=first.pk).update(claim_token="x" * 32, claimed_at=timezone.now())

    assert deletions.deletion_batch_run(batch_id=batch.pk) is None

    assert local_bedrock.call_counts() == {OP: 1}
    assert len(local_bedrock.sends()) == 2 and first.arn not in local_bedrock.sends()
    batch.refresh_from_db()
    assert not batch.is_finished  # one item is still someone else's


@pytest.mark.django_db
def test_a_final_error_fails_only_the_items_of_that_call(local_bedrock, admin_user):
    terminal_jobs(local_bedrock, 29)
    # An ARN Bedrock's pattern refuses (upper case): its whole call is a ValidationException.
    bad = make_job(
        arn="arn:aws:bedrock:us-east-1:123456789012:evaluation-job/BADJOB000001",
        resource_id="badjob000001",
        status="Failed",
        created_at=timezone.now() + dt.timedelta(days=1),  # newest: in the first call
    )
    batch = create(admin_user, selection=all_terminal())

    run_to_the_end(batch)

    items = list(batch.items.order_by("pk"))
    assert items[0].arn == bad.arn
    assert {(i.outcome, i.code) for i in items[:25]} == {("failed", "ValidationException")}
    assert {i.outcome for i in items[25:]} == {"deleted"} and len(items) == 30
    assert local_bedrock.call_counts() == {OP: 2}
    assert batch.is_finished


@pytest.mark.django_db
def test_when_bedrock_keeps_failing_the_task_is_asked_to_retry_later(
    local_bedrock, admin_user, settings
):
    settings.BEDROCK_MAX_ATTEMPTS = 1
    settings.DELETION_CALL_ATTEMPTS = 3
    terminal_jobs(local_bedrock, 5)
    batch = create(admin_user, selection=all_terminal())
    local_bedrock.set_faults(error_rate=1.0)

    retry_in = deletions.deletion_batch_run(batch_id=batch.pk)

    assert retry_in is not None and retry_in > 0
    assert local_bedrock.call_counts() == {OP: 3}
    item = batch.items.first()
    assert (item.outcome, item.claim_token, item.attempts) == ("pending", "", 3)
    assert item.code == "InternalServerException" and item.reason.startswith("Retrying")
    batch.refresh_from_db()
    assert batch.resume_after > timezone.now() + dt.timedelta(seconds=50)

    local_bedrock.set_faults(error_rate=0.0)
    run_to_the_end(batch)
    assert {i.outcome for i in batch.items.all()} == {"deleted"}


@pytest.mark.django_db
def test_an_item_that_never_gets_an_answer_gives_up(local_bedrock, admin_user, settings):
    settings.BEDROCK_MAX_ATTEMPTS = 1
    settings.DELETION_CALL_ATTEMPTS = 2
    settings.DELETION_MAX_ATTEMPTS = 4
    terminal_jobs(local_bedrock, 2)
    batch = create(admin_user, selection=all_terminal())
    local_bedrock.set_faults(throttle_rate=1.0)

    run_to_the_end(batch)

    assert local_bedrock.call_counts() == {OP: 4}
    assert {(i.outcome, i.code) for i in batch.items.all()} == {("failed", "ThrottlingException")}
    assert all("Gave up after 4 attempts" in i.reason for i in batch.items.all())
    assert batch.is_finished


@pytest.mark.django_db
def test_the_time_budget_hands_over_to_a_fresh_task(local_bedrock, admin_user, settings):
    settings.DELETION_RUN_BUDGET_SECONDS = 0
    terminal_jobs(local_bedrock, 60)
    batch = create(admin_user, selection=all_terminal())

    assert deletions.deletion_batch_run(batch_id=batch.pk) == 0.0  # one call, then yields
    assert local_bedrock.call_counts() == {OP: 1}
    run_to_the_end(batch, rounds=5)
    assert local_bedrock.call_counts() == {OP: 3} and batch.is_finished


def test_the_pacer_spaces_calls():
    pacer = deletions.Pacer(20)
    started = time.monotonic()
    for _ in range(5):
        pacer.wait()
    assert 0.19 <= time.monotonic() - started < 0.5
    pacer.throttled()
    assert pacer.rate == 10
    for _ in range(20):
        pacer.succeeded()
    assert pacer.rate == 20
    assert deletions.Pacer(0).rate == 0


# --- retry and resume -----------------------------------------------------------------------


@pytest.mark.django_db
def test_retrying_failures_makes_one_new_batch_of_them(local_bedrock, admin_user):
    arns = terminal_jobs(local_bedrock, 4)
    local_bedrock.force_status(arns[0], "InProgress")  # Bedrock refuses this one (400)
    batch = create(admin_user, selection=all_terminal())
    run_to_the_end(batch)
    assert deletions.deletion_batch_counts(batch=batch).failed == 1

    retry = deletions.deletion_batch_retry_failed(batch=batch, user=admin_user)
    again = deletions.deletion_batch_retry_failed(batch=batch, user=admin_user)

    assert retry.pk == again.pk and retry.retry_of == batch
    assert list(retry.items.values_list("arn", "outcome")) == [(arns[0], "pending")]
    local_bedrock.force_status(arns[0], "Stopped")
    run_to_the_end(retry)
    assert outcomes(retry) == {arns[0]: ("deleted", "")}
    assert deletions.deletion_batch_retry_failed(batch=retry, user=admin_user) is None


@pytest.mark.django_db
def test_resume_picks_up_untouched_batches_only(local_bedrock, admin_user, settings):
    terminal_jobs(local_bedrock, 4)
    stalled = create(admin_user, selection=all_terminal(), key="s" * 32)
    fresh = create(admin_user, selection=all_terminal(), key="f" * 32)
    DeletionBatch.objects.filter(pk=stalled.pk).update(
        resume_after=timezone.now() - dt.timedelta(seconds=1)
    )

    # The broker (settings) is down: the batch is claimed for this round all the same.
    assert deletions.deletion_batches_resume() == [stalled.pk]
    assert deletions.deletion_batches_resume() == []  # not again before another grace period
    stalled.refresh_from_db()
    assert stalled.resume_after > timezone.now() + dt.timedelta(seconds=50)
    assert not fresh.is_finished

    # A batch with nothing pending any more is just marked finished.
    stalled.items.update(outcome="deleted")
    DeletionBatch.objects.filter(pk=stalled.pk).update(resume_after=timezone.now())
    assert deletions.deletion_batches_resume() == []
    stalled.refresh_from_db()
    assert stalled.is_finished


@pytest.mark.django_db
def test_enqueueing_with_the_broker_down_fails_fast_and_quietly(settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    assert publishing.publish_now(publishing.DELETION_BATCH_RUN, 12345) is False
    assert time.monotonic() - started < 3


# --- with real processes --------------------------------------------------------------------


def wait_until(predicate, nodes, *, timeout: float = 60):
    return nodes.wait_for(predicate, timeout=timeout)


def settled_count(batch_id: int) -> int:
    return DeletionItem.objects.filter(batch_id=batch_id).exclude(outcome="pending").count()


RESUME_FAST = {
    "DELETION_LEASE_SECONDS": "3",
    "DELETION_RESUME_GRACE_SECONDS": "1",
    "DELETION_RESUME_INTERVAL_SECONDS": "1",
}


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_and_restarted_finishes_the_batch(
    local_bedrock, admin_user, private_redis, celery_node, settings
):
    settings.CELERY_BROKER_URL = private_redis.url
    settings.DELETION_RESUME_GRACE_SECONDS = 1
    terminal_jobs(local_bedrock, 600)
    # Calls take most of the time between them, so the kill most likely lands mid-call.
    local_bedrock.set_faults(latency_ms=80)
    env = {"DELETION_CALLS_PER_SECOND": "10", **RESUME_FAST}
    worker = celery_node("worker", **env)
    celery_node("beat", **env)
    celery_node.wait_for(lambda: "ready." in celery_node.output)

    batch = create(admin_user, selection=all_terminal())
    celery_node.wait_for(lambda: settled_count(batch.pk) >= 100)
    worker.kill()
    left = batch.items.filter(outcome="pending").count()
    assert 0 < left <= 500, "killed mid-batch"

    celery_node("worker", **env)
    celery_node.wait_for(
        lambda: DeletionBatch.objects.filter(pk=batch.pk, finished_at__isnull=False).exists(),
        timeout=90,
    )

    assert set(batch.items.values_list("outcome", flat=True)) == {"deleted"}
    assert sent_after_settled(local_bedrock, batch) == []
    # At most the one call in flight at the kill went out twice.
    twice = [arn for arn, times in local_bedrock.sends().items() if len(times) > 1]
    assert len(twice) <= 25
    assert local_bedrock.call_counts()[OP] <= 24 + 1
    # A re-sent item Bedrock was already deleting is checked with a Get, not failed.
    assert local_bedrock.call_counts().get("GetEvaluationJob", 0) <= 25
    assert "Traceback" not in celery_node.output, celery_node.output


@pytest.mark.django_db(transaction=True)
def test_a_batch_confirmed_while_redis_is_down_completes_once_it_is_back(
    local_bedrock, admin_user, private_redis, celery_node, settings, client
):
    settings.CELERY_BROKER_URL = private_redis.url
    settings.DELETION_RESUME_GRACE_SECONDS = 1
    terminal_jobs(local_bedrock, 60)
    env = {"DELETION_CALLS_PER_SECOND": "0", **RESUME_FAST}
    celery_node("worker", **env)
    celery_node("beat", **env)
    celery_node.wait_for(lambda: "ready." in celery_node.output)
    client.force_login(admin_user)
    client.post(
        "/deletions/evaluation/selection/",
        {"action": "all", "query": "?status=Completed&status=Failed&status=Stopped"},
    )
    page = client.get("/deletions/evaluation/confirm/").content.decode()
    rev = page.split('name="rev" value="')[1].split('"')[0]

    private_redis.stop()
    started = time.monotonic()
    response = client.post(
        "/deletions/evaluation/confirm/", {"key": "b" * 32, "rev": rev, "typed": ""}
    )
    assert time.monotonic() - started < 5, "the person was kept waiting for the broker"
    batch = DeletionBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/deletions/{batch.pk}/"
    assert client.get(response["Location"]).status_code == 200
    time.sleep(1.5)
    assert batch.items.filter(outcome="pending").count() == 60  # nobody could start it
    private_redis.start()

    celery_node.wait_for(
        lambda: DeletionBatch.objects.filter(pk=batch.pk, finished_at__isnull=False).exists(),
        timeout=90,
    )
    assert set(batch.items.values_list("outcome", flat=True)) == {"deleted"}
    assert local_bedrock.call_counts()[OP] == 3


def test_the_tasks_ack_late_and_beat_resumes_on_the_interval_from_settings():
    from django.conf import settings as django_settings

    from jobs import tasks

    entry = django_settings.CELERY_BEAT_SCHEDULE["deletion_batches_resume"]
    assert entry["task"] == tasks.deletion_batches_resume.name
    assert entry["schedule"] == dt.timedelta(
        seconds=django_settings.DELETION_RESUME_INTERVAL_SECONDS
    )
    assert tasks.deletion_batch_run.acks_late and tasks.deletion_batches_resume.acks_late
    assert tasks.deletion_batch_run.name == "jobs.tasks.deletion_batch_run"


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_call_is_replaced_within_30_s_and_the_page_says_so(
    local_bedrock, admin_user, private_redis, celery_node, settings, client
):
    """With the default lease, grace and resume interval (issue 13 #13: it took 3 min 47 s,
    the lease, and the page said nothing)."""
    settings.CELERY_BROKER_URL = private_redis.url
    terminal_jobs(local_bedrock, 100)
    # Each call is in flight for 1.5 s, so the kill lands mid-call, as in the report.
    local_bedrock.set_faults(latency_ms=1500)
    # The seeded completed jobs would queue a results fetch each (1.5 s apiece here) ahead of
    # the deletion in the one-slot worker: not what this measures.
    env = {"DELETION_CALLS_PER_SECOND": "0", "RESULTS_PENDING_INTERVAL_SECONDS": "3600"}
    worker = celery_node("worker", **env)
    celery_node("beat", **env)
    celery_node.wait_for(lambda: "ready." in celery_node.output)
    client.force_login(admin_user)

    batch = create(admin_user, selection=all_terminal())
    celery_node.wait_for(lambda: settled_count(batch.pk) >= 25)
    time.sleep(0.5)  # the second call is on its way
    worker.kill()
    killed = time.time()
    assert 0 < batch.items.filter(outcome="pending").count() <= 75

    def page() -> str:
        return client.get(f"/deletions/{batch.pk}/").content.decode()

    # Within a lease the page says why nothing moves.
    celery_node.wait_for(lambda: "No worker has picked this up for" in page(), timeout=45)
    assert "the worker working it stopped" in page()

    celery_node("worker", **env)
    celery_node.wait_for(lambda: celery_node.output.count("ready.") >= 2, timeout=60)
    ready = time.time()

    def resumed() -> float | None:
        later = [t for times in local_bedrock.sends().values() for t in times if t > killed]
        return min(later) if later else None

    first_call = celery_node.wait_for(resumed, timeout=45)
    assert first_call - ready < 30, f"resumed {first_call - ready:.1f} s after the worker"
    celery_node.wait_for(
        lambda: DeletionBatch.objects.filter(pk=batch.pk, finished_at__isnull=False).exists(),
        timeout=60,
    )
    assert set(batch.items.values_list("outcome", flat=True)) == {"deleted"}
    assert "No worker has picked this up" not in page()
    # At most the call in flight at the kill went out twice.
    assert len([a for a, times in local_bedrock.sends().items() if len(times) > 1]) <= 25
    assert "Traceback" not in celery_node.output, celery_node.output
