"""Running a batch: one runner per batch under its lease, items claimed and settled with
conditional updates, paced calls with backoff, and the periodic resume of lost batches."""

from __future__ import annotations

import datetime as dt
import logging
import random
import secrets
import threading
import time

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from jobs import locks, publishing
from jobs.bedrock.errors import BedrockError, RetryableError, ThrottledError
from jobs.deletions.batches import _audit_batch
from jobs.deletions.kinds import KINDS, Answer
from jobs.deletions.reads import batch_lock_name, deletion_batch_counts
from jobs.models import AuditEntry, DeletionBatch, DeletionItem

logger = logging.getLogger(__name__)

RESUME_LOCK = "deletions:resume"


# --- Running a batch ------------------------------------------------------------------------


class Pacer:
    """Spaces calls at most `rate` a second (0: no pacing). After throttling it halves its
    rate, and creeps back up to `rate` while calls succeed."""

    def __init__(self, rate: float) -> None:
        self.max_rate = float(rate or 0)
        self.rate = self.max_rate
        self._next = 0.0

    def wait(self) -> None:
        if not self.rate:
            return
        now = time.monotonic()
        if self._next > now:
            time.sleep(self._next - now)
        self._next = max(now, self._next) + 1.0 / self.rate

    def throttled(self) -> None:
        if self.rate:
            self.rate = max(self.max_rate / 8, self.rate / 2)

    def succeeded(self) -> None:
        if self.rate and self.rate < self.max_rate:
            self.rate = min(self.max_rate, self.rate * 1.1)


def _lock_name(batch_id: int) -> str:
    return batch_lock_name(batch_id)


def _lease_seconds() -> float:
    return float(settings.DELETION_LEASE_SECONDS)


class _Heartbeat:
    """Renews a runner's lease, its claims and the batch's resume time every quarter lease
    from a thread of its own, also while the runner waits on a Bedrock call (up to minutes
    with botocore's retries). So the lease can be short: a worker killed mid-batch stops
    renewing, and within one lease the periodic resume hands the batch to another worker.

    Only for a lease other connections can see (taken in autocommit, as the task does): a
    runner inside a transaction (a test's) renews from its own thread as before."""

    def __init__(self, runner: _Runner) -> None:
        self.runner = runner
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"deletion-{runner.batch.pk}-heartbeat", daemon=True
        )

    def start(self) -> _Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        interval = max(0.2, _lease_seconds() / 4)
        try:
            while not self._stop.wait(interval):
                try:
                    self.runner.lease.renew()
                    self.runner.refresh_claims()
                except locks.LockLost:
                    self.lost = True
                    return
                except DatabaseError as exc:  # a hiccup: the next beat tries again
                    logger.warning("deletion batch %s: heartbeat failed: %s", self.runner, exc)
        finally:
            connection.close()  # this thread's own connection


def deletion_batch_run(*, batch_id: int) -> float | None:
    """Work batch `batch_id` until no item is pending. Returns None when there is nothing more
    for this task to do, or the seconds after which the task should run again (Bedrock kept
    failing, or the time budget was spent). Safe to call any number of times, at once."""
    batch = DeletionBatch.objects.filter(pk=batch_id).first()
    if batch is None or batch.is_finished:
        return None
    lease = locks.acquire(_lock_name(batch_id), ttl=_lease_seconds())
    if lease is None:
        logger.info("deletion batch %s: another runner holds it", batch_id)
        return None
    runner = _Runner(batch, lease)
    if not connection.in_atomic_block:
        runner.heartbeat = _Heartbeat(runner).start()
    try:
        return runner.run()
    except locks.LockLost:
        logger.warning("deletion batch %s: lease lost; stopping", batch_id)
        return None
    finally:
        runner.quiet()
        lease.release()


class _Runner:
    def __init__(self, batch: DeletionBatch, lease: locks.Lease) -> None:
        self.batch = batch
        self.kind = KINDS[batch.kind]
        self.lease = lease
        self.token = secrets.token_hex(16)
        self.pacer = Pacer(settings.DELETION_CALLS_PER_SECOND)
        self.deadline = time.monotonic() + settings.DELETION_RUN_BUDGET_SECONDS
        self.heartbeat: _Heartbeat | None = None

    def __str__(self) -> str:
        return str(self.batch.pk)

    def quiet(self) -> None:
        """Stop the heartbeat: before the runner hands the batch to a later task."""
        if self.heartbeat is not None:
            self.heartbeat.stop()

    def keep_alive(self) -> None:
        if self.heartbeat is not None and self.heartbeat.lost:
            raise locks.LockLost(f"lost the {self.lease.name} lock")
        self.lease.keep_alive()

    def refresh_claims(self) -> None:
        """This runner's claims and the batch's resume time, moved one lease on."""
        now = timezone.now()
        DeletionItem.objects.filter(
            batch_id=self.batch.pk, claim_token=self.token, outcome=DeletionItem.PENDING
        ).update(claimed_at=now)
        DeletionBatch.objects.filter(pk=self.batch.pk, finished_at__isnull=True).update(
            resume_after=now + dt.timedelta(seconds=_lease_seconds())
        )

    def run(self) -> float | None:
        DeletionBatch.objects.filter(pk=self.batch.pk, started_at__isnull=True).update(
            started_at=timezone.now()
        )
        while True:
            self.keep_alive()
            items = self._claim()
            if not items:
                break
            self._touch()
            sendable = self._recheck(items)
            if sendable:
                retry_in = self._send(sendable)
                if retry_in is not None:
                    self.quiet()
                    self._release()
                    self._touch(delay=retry_in, grace=settings.DELETION_RESUME_GRACE_SECONDS)
                    return retry_in
            if time.monotonic() > self.deadline:
                self.quiet()
                self._touch()
                return 0.0  # a fresh task carries on: the worker slot is shared
        _finish_if_done(self.batch.pk)
        return None

    # --- claims ----------------------------------------------------------------------------

    def _claim(self) -> list[DeletionItem]:
        now = timezone.now()
        free = Q(claim_token="") | Q(claimed_at__lt=now - dt.timedelta(seconds=_lease_seconds()))
        pending = DeletionItem.objects.filter(
            batch_id=self.batch.pk, outcome=DeletionItem.PENDING
        ).filter(free)
        ids = list(pending.order_by("pk").values_list("pk", flat=True)[: self.kind.chunk_size])
        if not ids:
            return []
        pending.filter(pk__in=ids).update(claim_token=self.token, claimed_at=now)
        return list(self._held(ids))

    def _held(self, ids: list[int]) -> QuerySet[DeletionItem]:
        return DeletionItem.objects.filter(
            pk__in=ids, claim_token=self.token, outcome=DeletionItem.PENDING
        ).order_by("pk")

    def _release(self) -> None:
        DeletionItem.objects.filter(
            batch_id=self.batch.pk, claim_token=self.token, outcome=DeletionItem.PENDING
        ).update(claim_token="", claimed_at=None)

    def _touch(self, *, delay: float = 0, grace: float | None = None) -> None:
        """The batch's resume time: one lease on while this runner works it (it renews that
        as it goes, so the resume finds a dead runner's batch within a lease), or a grace
        period past `delay` when a Celery retry is to carry on."""
        wait = (_lease_seconds() if grace is None else grace) + delay
        DeletionBatch.objects.filter(pk=self.batch.pk).update(
            resume_after=timezone.now() + dt.timedelta(seconds=wait)
        )

    # --- before sending --------------------------------------------------------------------

    def _recheck(self, items: list[DeletionItem]) -> list[DeletionItem]:
        """Settle items the mirror rules out; return the rest."""
        states = self.kind.states([i.arn for i in items])
        sendable, settled = [], {}
        for item in items:
            status, listed = states.get(item.arn, ("", False))
            if item.attempts >= settings.DELETION_MAX_ATTEMPTS:
                settled[item.pk] = Answer(
                    DeletionItem.FAILED,
                    code=item.code or "NoAnswer",
                    reason=f"Gave up after {item.attempts} attempts without an answer from "
                    f"Bedrock. The last error: "
                    f"{item.reason.removeprefix('Retrying: ') or 'none recorded'}",
                )
            elif item.attempts and (not listed or status == "Deleting"):
                # An earlier call carried it and its answer was lost; Bedrock acted on it.
                settled[item.pk] = Answer(
                    DeletionItem.DELETED,
                    reason="An earlier attempt reached Bedrock: the job is "
                    + ("gone." if not listed else "being deleted."),
                )
            elif (skip := self.kind.skip(status, listed)) is not None:
                settled[item.pk] = Answer(DeletionItem.SKIPPED, code=skip.code, reason=skip.reason)
            else:
                sendable.append(item)
        if settled:
            self._settle(items, settled)
        return sendable

    # --- the call --------------------------------------------------------------------------

    def _send(self, items: list[DeletionItem]) -> float | None:
        """One call for `items`, tried again on throttling or 5xx. None when the items are
        settled; else seconds until a later task should try again."""
        attempts = max(1, settings.DELETION_CALL_ATTEMPTS)
        ids = [i.pk for i in items]
        for attempt in range(1, attempts + 1):
            self.keep_alive()
            self.pacer.wait()
            # Count the attempt (and refresh the claim) before the call: should this process
            # die during it, the item shows that a call may have reached Bedrock.
            DeletionItem.objects.filter(
                pk__in=ids, claim_token=self.token, outcome=DeletionItem.PENDING
            ).update(attempts=F("attempts") + 1, claimed_at=timezone.now())
            items = list(self._held(ids))
            if not items:
                return None
            ids = [i.pk for i in items]
            try:
                answers = self.kind.send([i.arn for i in items])
            except RetryableError as exc:
                if isinstance(exc, ThrottledError):
                    self.pacer.throttled()
                logger.info("deletion batch %s: %s (attempt %d)", self.batch.pk, exc, attempt)
                DeletionItem.objects.filter(
                    pk__in=ids, claim_token=self.token, outcome=DeletionItem.PENDING
                ).update(code=exc.code or type(exc).__name__, reason=f"Retrying: {exc.message}")
                if attempt < attempts:
                    self._sleep(_backoff(attempt))
                continue
            except BedrockError as exc:
                # Final for the whole call (validation, access denied...): just these items.
                answer = Answer(DeletionItem.FAILED, exc.code or type(exc).__name__, exc.message)
                self._settle(items, dict.fromkeys(ids, answer))
                return None
            self.pacer.succeeded()
            self._settle(items, self._answers_by_item(items, answers))
            return None
        return _backoff(attempts)

    def _answers_by_item(
        self, items: list[DeletionItem], answers: dict[str, Answer]
    ) -> dict[int, Answer]:
        out = {}
        for item in items:
            answer = answers.get(item.arn)
            if answer is None:
                answer = Answer(
                    DeletionItem.FAILED,
                    code="NoAnswer",
                    reason="Bedrock's answer did not mention this job.",
                )
            elif answer.outcome == DeletionItem.FAILED and item.attempts > 1:
                answer = self._verify(item, answer)
            out[item.pk] = answer
        return out

    def _verify(self, item: DeletionItem, answer: Answer) -> Answer:
        """An earlier call carried the item without an answer we recorded: it may have
        deleted the job, and this call's error only says so. Ask Bedrock."""
        try:
            going = self.kind.is_going(item.arn)
        except BedrockError as exc:
            logger.info("deletion batch %s: checking %s failed: %s", self.batch.pk, item.arn, exc)
            return answer
        if not going:
            return answer
        return Answer(
            DeletionItem.DELETED,
            code=answer.code,
            reason="An earlier attempt reached Bedrock: the job is being deleted or gone "
            f"(this attempt's answer: “{answer.reason}”).",
        )

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(left, max(0.05, self.lease.ttl / 4)))
            self.keep_alive()

    # --- outcomes --------------------------------------------------------------------------

    def _settle(self, items: list[DeletionItem], answers: dict[int, Answer]) -> None:
        """Record outcomes of items this runner still holds, the mirror rows of deleted jobs
        as Deleting, and an audit entry per job Bedrock answered for: one transaction."""
        now = timezone.now()
        groups: dict[Answer, list[int]] = {}
        for pk, answer in answers.items():
            groups.setdefault(answer, []).append(pk)
        by_pk = {i.pk: i for i in items}
        settled: list[DeletionItem] = []
        with transaction.atomic():
            for answer, pks in groups.items():
                mine = list(self._held(pks).values_list("pk", flat=True))
                DeletionItem.objects.filter(pk__in=mine).update(
                    outcome=answer.outcome,
                    code=answer.code[:128],
                    reason=answer.reason,
                    settled_at=now,
                    claim_token="",
                )
                for pk in mine:
                    item = by_pk[pk]
                    item.outcome, item.code, item.reason = (
                        answer.outcome,
                        answer.code,
                        answer.reason,
                    )
                    settled.append(item)
            deleted = [i.arn for i in settled if i.outcome == DeletionItem.DELETED]
            if deleted:
                self.kind.mark_deleting(deleted)
            audited = [i for i in settled if i.outcome != DeletionItem.SKIPPED]
            if audited:
                AuditEntry.objects.bulk_create(
                    [
                        AuditEntry(
                            user_id=self.batch.created_by_id,
                            username=self.batch.created_by_username,
                            action=self.kind.audit_action,
                            target_arn=i.arn,
                            outcome=i.outcome,
                            detail={
                                "name": i.name,
                                "batch": self.batch.pk,
                                "code": i.code,
                                "reason": i.reason,
                            },
                        )
                        for i in audited
                    ]
                )


def _backoff(attempt: int) -> float:
    """base * 2^(attempt-1) seconds, capped, with jitter."""
    base = float(settings.DELETION_RETRY_BASE_SECONDS) * 2 ** max(0, attempt - 1)
    delay = min(float(settings.DELETION_RETRY_MAX_SECONDS), base)
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography


def _finish_if_done(batch_id: int) -> bool:
    """Mark the batch finished once nothing is pending (once: a conditional update)."""
    if DeletionItem.objects.filter(batch_id=batch_id, outcome=DeletionItem.PENDING).exists():
        return False
    with transaction.atomic():
        won = DeletionBatch.objects.filter(pk=batch_id, finished_at__isnull=True).update(
            finished_at=timezone.now()
        )
        if won:
            batch = DeletionBatch.objects.get(pk=batch_id)
            counts = deletion_batch_counts(batch=batch)
            _audit_batch(
                batch,
                outcome="finished" if not counts.failed else "finished_with_failures",
                detail=counts.as_dict(),
            )
            logger.info("deletion batch %s finished: %s", batch_id, counts.as_dict())
    return True


def deletion_batches_resume() -> list[int]:
    """Re-enqueue unfinished batches nobody has touched for a while (their task was lost:
    the broker was down at confirmation, or the worker died). Runs under a lease, so two
    beats never do it twice; returns the batch ids it enqueued."""
    lease = locks.acquire(RESUME_LOCK, ttl=60)
    if lease is None:
        return []
    try:
        now = timezone.now()
        grace = dt.timedelta(seconds=settings.DELETION_RESUME_GRACE_SECONDS)
        due = (
            DeletionBatch.objects.filter(finished_at__isnull=True, resume_after__lte=now)
            .order_by("resume_after")
            .values_list("pk", "resume_after")[:100]
        )
        resumed = []
        for pk, when in due:
            if _finish_if_done(pk):
                continue
            if locks.is_held(_lock_name(pk)):
                continue  # a runner is on it; it touches the batch as it goes
            # Claim it for this run: the next run looks again only after another grace period.
            if DeletionBatch.objects.filter(pk=pk, resume_after=when).update(
                resume_after=now + grace
            ):
                resumed.append(pk)
                publishing.publish_now(publishing.DELETION_BATCH_RUN, pk)
        if resumed:
            logger.info("resumed deletion batches %s", resumed)
        return resumed
    finally:
        lease.release()
