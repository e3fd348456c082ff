"""Deleting resources in bulk: what a person selected becomes a DeletionBatch with one
DeletionItem per resource, and a Celery task works the batch in Bedrock calls of at most 25.

- **Intent first.** Confirming records the batch and all its items in one transaction (items
  a re-check already rules out are recorded as skipped, with the reason) and enqueues the task
  after commit. The publish has retries off and a short timeout: with the broker down the
  person still lands on the progress page, and the batch waits for the periodic resume.
- **One runner per batch.** A runner takes the batch's lease (jobs/locks.py) and renews it as
  it goes; a second delivery of the task finds it held and returns. Items are claimed with a
  conditional UPDATE (pending, unclaimed or claim expired) under a random token, and settled
  with another (still ours, still pending), so an item is settled once and never sent again
  afterwards.
- **Re-check before sending.** Each claimed item's job is looked up in the mirror: a job that
  is no longer terminal, already Deleting or vanished is skipped with that reason.
- **Outcomes.** Returned as Deleting: deleted (the mirror row shows Deleting until the next
  sweep). Error "404" ("Unable to locate this job to delete."): already gone, so deleted, with
  that note. Any other per-job error: failed with Bedrock's code and message; when an earlier
  call that carried the item went unanswered (a crash or a timeout after Bedrock acted), a Get
  tells whether that call deleted it. Throttling and 5xx: the same call again with backoff,
  then a Celery retry; a final error for the whole call fails just that call's items.
- **Nothing lost.** A worker killed mid-batch leaves claimed items pending; once its lease
  expires, the resume task (or the redelivered task) picks the batch up again. An item is
  sent again only if it is still pending; the re-check and the Get settle one whose earlier
  call reached Bedrock.

https://docs.aws.amazon.com/bedrock/latest/APIReference/API_BatchDeleteEvaluationJob.html
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import CharField, Count, F, Q, QuerySet, Value
from django.utils import timezone

from jobs import locks, publishing
from jobs.bedrock import client as bedrock
from jobs.bedrock.errors import BedrockError, NotFoundError, RetryableError, ThrottledError
from jobs.models import AuditEntry, DeletionBatch, DeletionItem, EvaluationJob, ImportedModel
from jobs.pagination import KeysetPage, keyset_page, page_scope
from jobs.selectors.evaluation_jobs import EvaluationJobFilters, evaluation_job_queryset

__all__ = [
    "CONFIRM_TYPED_ABOVE",
    "BatchCounts",
    "DeletionPreview",
    "Selection",
    "deletion_batch_counts",
    "deletion_batch_create",
    "deletion_batch_get",
    "deletion_batch_items",
    "deletion_batch_list",
    "deletion_batch_retry_failed",
    "deletion_batch_run",
    "deletion_batches_resume",
    "evaluation_job_delete_blocker",
    "evaluation_job_deletable_count",
    "evaluation_job_deletion_preview",
    "evaluation_job_filter_matches",
    "evaluation_job_selected_ids",
    "evaluation_job_selection_count",
]

logger = logging.getLogger(__name__)

KIND_EVALUATION_JOBS = "evaluation_jobs"
KIND_IMPORTED_MODELS = "imported_models"
# Above this many jobs the Admin types the number to confirm: a stray click cannot wipe an
# account.
CONFIRM_TYPED_ABOVE = 100
SAMPLE_SIZE = 10
BATCH_AUDIT = "deletion_batch"
RESUME_LOCK = "deletions:resume"
# Seconds to wait for the broker when enqueueing from a request: the person is waiting.
WRITE_CHUNK = 1000


# --- Selections -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Which evaluation jobs a person picked: every deletable job a list filter matches (less
    the ones unticked since), plus jobs picked one by one (resource ids)."""

    filters: EvaluationJobFilters | None = None
    filter_label: str = ""
    filter_query: str = ""
    ids: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()

    @property
    def is_empty(self) -> bool:
        return self.filters is None and not self.ids

    def describe(self) -> str:
        parts = []
        if self.filters is not None:
            text = f"all deletable jobs matching {self.filter_label or 'the filter'}"
            if self.excluded:
                text += f" except {len(self.excluded):,} unticked"
            parts.append(text)
        if self.ids:
            n = len(self.ids)
            picked = f"{n:,} job{'s' if n != 1 else ''} picked one by one"
            parts.append(picked if not parts else f"{n:,} more picked one by one")
        text = ", plus ".join(parts) or "nothing"
        return text[0].upper() + text[1:]

    def as_record(self) -> dict[str, Any]:
        return {
            "query": self.filter_query,
            "ids": sorted(self.ids),
            "excluded": sorted(self.excluded),
        }


def _deletable(qs: QuerySet[EvaluationJob]) -> QuerySet[EvaluationJob]:
    return qs.filter(listed=True, status__in=EvaluationJob.TERMINAL)


def _filter_part(selection: Selection) -> QuerySet[EvaluationJob] | None:
    if selection.filters is None:
        return None
    qs = _deletable(evaluation_job_queryset(filters=selection.filters))
    if selection.excluded:
        qs = qs.exclude(resource_id__in=selection.excluded)
    return qs


def _selection_queryset(selection: Selection) -> QuerySet[EvaluationJob]:
    parts = []
    matching = _filter_part(selection)
    if matching is not None:
        parts.append(Q(pk__in=matching.values("pk")))
    if selection.ids:
        parts.append(Q(resource_id__in=selection.ids))
    if not parts:
        return EvaluationJob.objects.none()
    return EvaluationJob.objects.filter(reduce(or_, parts))


def evaluation_job_selection_count(*, selection: Selection) -> int:
    """How many jobs the selection holds: the ids alone without a filter (no query), else a
    count of the filter's deletable jobs and the ids together."""
    if selection.filters is None:
        return len(selection.ids)
    return _selection_queryset(selection).count()


def evaluation_job_deletable_count(*, filters: EvaluationJobFilters) -> int:
    """Deletable jobs (listed; Completed, Failed or Stopped) that `filters` matches."""
    return _deletable(evaluation_job_queryset(filters=filters)).count()


def evaluation_job_filter_matches(
    *, filters: EvaluationJobFilters, resource_ids: Iterable[str]
) -> set[str]:
    """Which of `resource_ids` are deletable jobs `filters` matches: one small query."""
    resource_ids = list(resource_ids)
    if not resource_ids:
        return set()
    qs = _deletable(evaluation_job_queryset(filters=filters)).filter(resource_id__in=resource_ids)
    return set(qs.values_list("resource_id", flat=True))


def evaluation_job_selected_ids(*, selection: Selection, resource_ids: Iterable[str]) -> set[str]:
    """Which of `resource_ids` (one page's rows) the selection holds: at most one small query."""
    resource_ids = list(resource_ids)
    chosen = {r for r in resource_ids if r in selection.ids}
    matching = _filter_part(selection)
    rest = [r for r in resource_ids if r not in chosen and r not in selection.excluded]
    if matching is not None and rest:
        chosen |= set(matching.filter(resource_id__in=rest).values_list("resource_id", flat=True))
    return chosen


# --- Why a job cannot be deleted ------------------------------------------------------------


@dataclass(frozen=True)
class Skip:
    code: str
    reason: str


def _evaluation_job_skip(status: str, listed: bool) -> Skip | None:
    """The reason a job in this state is not sent to Bedrock, or None if it may be deleted."""
    if not listed:
        return Skip("Vanished", "Bedrock no longer lists this job: it vanished from the account.")
    if status == "Deleting":
        return Skip("AlreadyDeleting", "Bedrock is already deleting this job.")
    if status not in EvaluationJob.TERMINAL:
        return Skip(
            "NotTerminal",
            f"Not terminal any more: it is {status or 'unknown'}. Only Completed, Failed or "
            "Stopped jobs can be deleted.",
        )
    return None


def evaluation_job_delete_blocker(job: EvaluationJob) -> str:
    """Why `job` cannot be selected for deletion ("" if it can)."""
    skip = _evaluation_job_skip(job.status, job.listed)
    if skip is None:
        return ""
    if skip.code == "NotTerminal":
        return f"{job.status} jobs cannot be deleted: only Completed, Failed or Stopped ones."
    return skip.reason


# --- The confirmation page ------------------------------------------------------------------


@dataclass
class DeletionPreview:
    """What confirming a selection would do, for the confirmation page."""

    selection: Selection
    by_status: list[tuple[str, int]] = field(default_factory=list)
    sample: list[str] = field(default_factory=list)
    not_terminal: int = 0
    not_terminal_statuses: list[str] = field(default_factory=list)
    deleting: int = 0
    vanished: int = 0
    not_found: int = 0

    @property
    def to_delete(self) -> int:
        return sum(n for _, n in self.by_status)

    @property
    def skipped(self) -> int:
        return self.not_terminal + self.deleting + self.vanished + self.not_found

    @property
    def needs_typed_count(self) -> bool:
        return self.to_delete > CONFIRM_TYPED_ABOVE

    @property
    def more_than_sample(self) -> int:
        return max(0, self.to_delete - len(self.sample))

    @property
    def skip_reasons(self) -> list[tuple[int, str]]:
        """(count, why) for each kind of skip, worded for the count."""

        def verb(n: int, one: str, many: str) -> str:
            return one if n == 1 else many

        reasons = []
        if n := self.not_terminal:
            statuses = ", ".join(self.not_terminal_statuses)
            reasons.append((n, f"{verb(n, 'is', 'are')} not terminal any more ({statuses})"))
        if n := self.deleting:
            reasons.append((n, f"{verb(n, 'is', 'are')} already being deleted"))
        if n := self.vanished:
            reasons.append((n, f"{verb(n, 'has', 'have')} vanished from Bedrock"))
        if n := self.not_found:
            reasons.append((n, f"{verb(n, 'is', 'are')} not in the dashboard's mirror at all"))
        return reasons


def evaluation_job_deletion_preview(*, selection: Selection) -> DeletionPreview:
    """Counts by status of what would be deleted, a sample of names, and what would be skipped
    and why. A few queries whatever the selection's size."""
    preview = DeletionPreview(selection=selection)
    qs = _selection_queryset(selection)
    by_status: Counter[str] = Counter()
    not_terminal: Counter[str] = Counter()
    rows = qs.order_by().values_list("status", "listed").annotate(n=Count("pk"))
    for status, listed, n in rows:
        skip = _evaluation_job_skip(status, listed)
        if skip is None:
            by_status[status] += n
        elif skip.code == "Vanished":
            preview.vanished += n
        elif skip.code == "AlreadyDeleting":
            preview.deleting += n
        else:
            not_terminal[status] += n
    order = ["Completed", "Failed", "Stopped"]
    preview.by_status = sorted(by_status.items(), key=lambda kv: order.index(kv[0]))
    preview.not_terminal = sum(not_terminal.values())
    preview.not_terminal_statuses = sorted(not_terminal)
    preview.sample = list(
        _deletable(qs).order_by("-created_at", "-arn").values_list("name", flat=True)[:SAMPLE_SIZE]
    )
    if selection.ids:
        known = (
            EvaluationJob.objects.filter(resource_id__in=selection.ids)
            .values("resource_id")
            .distinct()
            .count()
        )
        preview.not_found = len(selection.ids) - known
    return preview


# --- Recording a batch ----------------------------------------------------------------------


def deletion_batch_create(
    *,
    selection: Selection,
    user: Any,
    idempotency_key: str,
    retry_of: DeletionBatch | None = None,
    description: str = "",
    kind: str = KIND_EVALUATION_JOBS,
) -> tuple[DeletionBatch, bool]:
    """Record a batch deleting every job in `selection`, once per `idempotency_key`, and
    enqueue its task after commit. Returns (batch, created); a key seen before returns its
    batch untouched. Jobs the mirror already rules out are recorded as skipped, with why.
    `kind`: what the selection's ids are (KINDS; imported models take ids only)."""
    existing = DeletionBatch.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    now = timezone.now()
    username = user.get_username() if user is not None else ""
    try:
        with transaction.atomic():
            batch = DeletionBatch.objects.create(
                kind=kind,
                idempotency_key=idempotency_key,
                created_by=user if getattr(user, "pk", None) else None,
                created_by_username=username,
                description=(description or selection.describe())[:500],
                selection=selection.as_record(),
                retry_of=retry_of,
                resume_after=now + dt.timedelta(seconds=settings.DELETION_RESUME_GRACE_SECONDS),
            )
            counts = _record_items(batch, selection, now=now)
            if not counts[DeletionItem.PENDING]:
                batch.finished_at = now
                batch.save(update_fields=["finished_at"])
            _audit_batch(batch, outcome="requested", detail=dict(counts))
            if counts[DeletionItem.PENDING]:
                publishing.publish(publishing.DELETION_BATCH_RUN, batch.pk)
    except IntegrityError:
        # Another request recorded the same key a moment before.
        return DeletionBatch.objects.get(idempotency_key=idempotency_key), False
    logger.info("deletion batch %s recorded by %s: %s", batch.pk, username, dict(counts))
    return batch, True


def _record_items(batch: DeletionBatch, selection: Selection, *, now: dt.datetime) -> Counter:
    counts: Counter[str] = Counter({DeletionItem.PENDING: 0})
    spec = KINDS[batch.kind]
    rows = (
        spec.selected(selection)
        .order_by("-created_at", "-arn")
        .values_list("arn", "resource_id", "name", "status", "listed")
    )
    chunk: list[DeletionItem] = []
    for arn, resource_id, name, status, listed in rows.iterator(chunk_size=WRITE_CHUNK):
        skip = spec.skip(status, listed)
        item = DeletionItem(
            batch=batch,
            arn=arn,
            resource_id=resource_id,
            name=name,
            status_at_selection=status,
        )
        if skip is not None:
            item.outcome, item.code, item.reason, item.settled_at = (
                DeletionItem.SKIPPED,
                skip.code,
                skip.reason,
                now,
            )
        counts[item.outcome] += 1
        chunk.append(item)
        if len(chunk) >= WRITE_CHUNK:
            DeletionItem.objects.bulk_create(chunk)
            chunk = []
    if chunk:
        DeletionItem.objects.bulk_create(chunk)
    return counts


def deletion_batch_retry_failed(*, batch: DeletionBatch, user: Any) -> DeletionBatch | None:
    """A new batch for the failed items of `batch` (None if none failed). Retrying the same
    batch twice (a double click) gives the one retry batch."""
    failed = list(
        batch.items.filter(outcome=DeletionItem.FAILED).values_list("resource_id", flat=True)
    )
    if not failed:
        return None
    retry, _ = deletion_batch_create(
        selection=Selection(ids=frozenset(failed)),
        user=user,
        idempotency_key=f"retry-of-{batch.pk}",
        retry_of=batch,
        kind=batch.kind,
        description=f"The {len(failed):,} failed item{'s' if len(failed) != 1 else ''} "
        f"of deletion #{batch.pk}",
    )
    return retry


# --- Running a batch ------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What Bedrock said about one item of a call."""

    outcome: str
    code: str = ""
    reason: str = ""


@dataclass(frozen=True)
class DeletionKind:
    """How one kind of resource is deleted: generic batches, runner and pages use this."""

    name: str
    label: str
    # One item, as the progress page names it ("No <noun>s in this deletion"), and what
    # becomes of a deleted one.
    noun: str
    after_deletion: str
    # Whether the mirror knows an item's status (the progress page's "Status when selected").
    has_status: bool
    chunk_size: int
    # arns -> {arn: (status, listed)} from the mirror
    states: Callable[[list[str]], dict[str, tuple[str, bool]]]
    skip: Callable[[str, bool], Skip | None]
    # arns -> {arn: Answer}; raises BedrockError for the call as a whole
    send: Callable[[list[str]], dict[str, Answer]]
    # arn -> True if Bedrock is deleting or no longer has it (raises BedrockError)
    is_going: Callable[[str], bool]
    mark_deleting: Callable[[list[str]], None]
    detail_url: Callable[[str], str]
    audit_action: str
    # Selection -> the mirror rows it holds, each with arn, resource_id, name, status, listed
    selected: Callable[[Selection], QuerySet]


def _evaluation_job_states(arns: list[str]) -> dict[str, tuple[str, bool]]:
    rows = EvaluationJob.objects.filter(arn__in=arns).values_list("arn", "status", "listed")
    return {arn: (status, listed) for arn, status, listed in rows}


def _evaluation_jobs_send(arns: list[str]) -> dict[str, Answer]:
    deleted, errors = bedrock.batch_delete_evaluation_jobs(identifiers=arns)
    answers: dict[str, Answer] = {}
    for entry in deleted:
        status = entry.get("jobStatus") or "Deleting"
        answers[entry.get("jobIdentifier", "")] = Answer(
            DeletionItem.DELETED, reason=f"Bedrock accepted the deletion (the job is {status})."
        )
    for entry in errors:
        code, message = str(entry.get("code", "")), entry.get("message", "")
        if code == "404":
            # "Unable to locate this job to delete.": it is already gone.
            answers[entry.get("jobIdentifier", "")] = Answer(
                DeletionItem.DELETED,
                code=code,
                reason=f"Already gone: Bedrock answered “{message}”",
            )
        else:
            answers[entry.get("jobIdentifier", "")] = Answer(
                DeletionItem.FAILED, code=code, reason=message
            )
    return answers


def _evaluation_job_is_going(arn: str) -> bool:
    try:
        status = bedrock.get_evaluation_job(identifier=arn).get("status")
    except NotFoundError:
        return True
    return status == "Deleting"


def _evaluation_jobs_mark_deleting(arns: list[str]) -> None:
    # An empty digest makes the next sweep rewrite the row from Bedrock's own answer.
    EvaluationJob.objects.filter(arn__in=arns, listed=True).update(
        status="Deleting", summary_digest=""
    )


# --- Imported models: DeleteImportedModel, one model a call; ids only, no filter selections.
# https://docs.aws.amazon.com/bedrock/latest/APIReference/API_DeleteImportedModel.html


def _imported_model_states(arns: list[str]) -> dict[str, tuple[str, bool]]:
    rows = ImportedModel.objects.filter(arn__in=arns).values_list("arn", "listed")
    return {arn: ("", listed) for arn, listed in rows}


def _imported_model_skip(status: str, listed: bool) -> Skip | None:
    if not listed:
        return Skip("Vanished", "Bedrock no longer lists this model: it is already gone.")
    return None


def _imported_models_send(arns: list[str]) -> dict[str, Answer]:
    answers: dict[str, Answer] = {}
    for arn in arns:
        try:
            bedrock.delete_imported_model(identifier=arn)
        except NotFoundError as exc:
            answers[arn] = Answer(
                DeletionItem.DELETED,
                code=exc.code,
                reason=f"Already gone: Bedrock answered “{exc.message}”",
            )
        else:
            answers[arn] = Answer(DeletionItem.DELETED, reason="Bedrock deleted the model.")
    return answers


def _imported_model_is_going(arn: str) -> bool:
    try:
        bedrock.get_imported_model(identifier=arn)
    except NotFoundError:
        return True
    return False


def _imported_models_mark_deleted(arns: list[str]) -> None:
    # DeleteImportedModel is done when it answers: the model leaves the list now, as the
    # next sweep would have it.
    now = timezone.now()
    ImportedModel.objects.filter(arn__in=arns, listed=True).update(
        listed=False, vanished_at=now, last_synced_at=now
    )


def _imported_models_selected(selection: Selection) -> QuerySet[ImportedModel]:
    return ImportedModel.objects.filter(resource_id__in=selection.ids).annotate(
        status=Value("", output_field=CharField())
    )


KINDS: dict[str, DeletionKind] = {
    KIND_EVALUATION_JOBS: DeletionKind(
        name=KIND_EVALUATION_JOBS,
        label="evaluation jobs",
        noun="job",
        after_deletion=(
            "Deleted jobs show as Deleting in the list until the next sync confirms they are "
            "gone. Their results in S3 are not deleted."
        ),
        has_status=True,
        # BatchDeleteEvaluationJob takes 1-25 identifiers.
        chunk_size=25,
        states=_evaluation_job_states,
        skip=_evaluation_job_skip,
        send=_evaluation_jobs_send,
        is_going=_evaluation_job_is_going,
        mark_deleting=_evaluation_jobs_mark_deleting,
        detail_url=lambda resource_id: f"/evaluation-jobs/{resource_id}/",
        audit_action="evaluation_job.delete",
        selected=_selection_queryset,
    ),
    KIND_IMPORTED_MODELS: DeletionKind(
        name=KIND_IMPORTED_MODELS,
        label="imported models",
        noun="model",
        after_deletion=(
            "Deleted models leave the list at once. The model files they were imported from "
            "stay in S3."
        ),
        has_status=False,
        # DeleteImportedModel takes one identifier.
        chunk_size=1,
        states=_imported_model_states,
        skip=_imported_model_skip,
        send=_imported_models_send,
        is_going=_imported_model_is_going,
        mark_deleting=_imported_models_mark_deleted,
        detail_url=lambda resource_id: f"/imported-models/{resource_id}/",
        audit_action="imported_model.delete",
        selected=_imported_models_selected,
    ),
}


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
    return f"deletion:{batch_id}"


def _lease_seconds() -> float:
    return float(settings.DELETION_LEASE_SECONDS)


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
    try:
        return _Runner(batch, lease).run()
    except locks.LockLost:
        logger.warning("deletion batch %s: lease lost; stopping", batch_id)
        return None
    finally:
        lease.release()


class _Runner:
    def __init__(self, batch: DeletionBatch, lease: locks.Lease) -> None:
        self.batch = batch
        self.kind = KINDS[batch.kind]
        self.lease = lease
        self.token = secrets.token_hex(16)
        self.pacer = Pacer(settings.DELETION_CALLS_PER_SECOND)
        self.deadline = time.monotonic() + settings.DELETION_RUN_BUDGET_SECONDS

    def run(self) -> float | None:
        DeletionBatch.objects.filter(pk=self.batch.pk, started_at__isnull=True).update(
            started_at=timezone.now()
        )
        while True:
            self.lease.keep_alive()
            items = self._claim()
            if not items:
                break
            self._touch()
            sendable = self._recheck(items)
            if sendable:
                retry_in = self._send(sendable)
                if retry_in is not None:
                    self._release()
                    self._touch(delay=retry_in)
                    return retry_in
            if time.monotonic() > self.deadline:
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

    def _touch(self, *, delay: float = 0) -> None:
        grace = settings.DELETION_RESUME_GRACE_SECONDS + delay
        DeletionBatch.objects.filter(pk=self.batch.pk).update(
            resume_after=timezone.now() + dt.timedelta(seconds=grace)
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
            self.lease.keep_alive()
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
            self.lease.keep_alive()

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


def _audit_batch(batch: DeletionBatch, *, outcome: str, detail: dict[str, Any]) -> None:
    AuditEntry.objects.create(
        user_id=batch.created_by_id,
        username=batch.created_by_username,
        action=f"{BATCH_AUDIT}.{'create' if outcome == 'requested' else 'finish'}",
        target_arn="",
        outcome=outcome,
        detail={
            "batch": batch.pk,
            "kind": batch.kind,
            "description": batch.description,
            **({"retry_of": batch.retry_of_id} if batch.retry_of_id else {}),
            **detail,
        },
    )


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


# --- Reads for the pages --------------------------------------------------------------------


@dataclass(frozen=True)
class BatchCounts:
    pending: int = 0
    deleted: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.deleted + self.failed + self.skipped

    @property
    def settled(self) -> int:
        return self.total - self.pending

    @property
    def percent(self) -> int:
        """Settled share, rounded down: 100 only when nothing is pending."""
        return 100 if not self.total else self.settled * 100 // self.total

    def as_dict(self) -> dict[str, int]:
        return {
            "pending": self.pending,
            "deleted": self.deleted,
            "failed": self.failed,
            "skipped": self.skipped,
        }


def deletion_batch_counts(*, batch: DeletionBatch) -> BatchCounts:
    rows = DeletionItem.objects.filter(batch=batch).values_list("outcome").annotate(n=Count("pk"))
    return BatchCounts(**{outcome: n for outcome, n in rows})


def deletion_batch_for_key(*, idempotency_key: str) -> DeletionBatch | None:
    """The batch a confirmation page (its idempotency key) already recorded, or None."""
    return DeletionBatch.objects.filter(idempotency_key=idempotency_key).first()


def deletion_batch_get(*, batch_id: int) -> DeletionBatch | None:
    return DeletionBatch.objects.select_related("retry_of").filter(pk=batch_id).first()


def deletion_batch_items(
    *, batch: DeletionBatch, outcome: str = "", token: str | None = None, size: int = 100
) -> KeysetPage[DeletionItem]:
    """One page of a batch's items in selection order, optionally of one outcome. Raises
    jobs.pagination.PageTokenError for a bad token."""
    qs = DeletionItem.objects.filter(batch=batch)
    if outcome:
        qs = qs.filter(outcome=outcome)
    scope = page_scope("deletion_items", {"batch": batch.pk, "outcome": outcome})
    return keyset_page(qs, size=size, token=token, scope=scope, descending=False, keys=("id",))


def deletion_batch_list(*, token: str | None = None, size: int = 25) -> KeysetPage[DeletionBatch]:
    """Recent batches, newest first, each with its item counts (pending, deleted, ...)."""

    def count(outcome: str) -> Count:
        return Count("items", filter=Q(items__outcome=outcome))

    qs = DeletionBatch.objects.annotate(
        pending=count(DeletionItem.PENDING),
        deleted=count(DeletionItem.DELETED),
        failed=count(DeletionItem.FAILED),
        skipped=count(DeletionItem.SKIPPED),
        total=Count("items"),
    )
    scope = page_scope("deletion_batches", {})
    return keyset_page(qs, size=size, token=token, scope=scope, keys=("created_at", "id"))


def deletion_item_url(*, batch: DeletionBatch, item: DeletionItem) -> str:
    return KINDS[batch.kind].detail_url(item.resource_id)
