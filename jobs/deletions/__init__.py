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
- **Nothing lost.** A worker killed mid-batch leaves claimed items pending and stops its
  heartbeat (a thread renewing the lease and the claims every few seconds, also during a
  call); once its short lease expires, the periodic resume task picks the batch up again, so
  it carries on within 30 s of a worker being available. Its page says what it waits for. An item is
  sent again only if it is still pending; the re-check and the Get settle one whose earlier
  call reached Bedrock.

https://docs.aws.amazon.com/bedrock/latest/APIReference/API_BatchDeleteEvaluationJob.html

The package, in the order a batch meets it: `selection` (what was selected, why a job cannot
be deleted), `preview` (the confirmation page's numbers), `batches` (recording a batch and
publishing its task), `kinds` (how each kind of resource is deleted), `runner` (working a
batch, and the periodic resume), `reads` (the progress pages' reads). Import the names below
from `jobs.deletions`, not from its modules.
"""

from jobs.deletions.batches import deletion_batch_create, deletion_batch_retry_failed
from jobs.deletions.kinds import KIND_EVALUATION_JOBS, KIND_IMPORTED_MODELS, KINDS, DeletionKind
from jobs.deletions.preview import (
    CONFIRM_TYPED_ABOVE,
    DeletionPreview,
    evaluation_job_deletion_preview,
)
from jobs.deletions.reads import (
    BatchCounts,
    deletion_batch_counts,
    deletion_batch_for_key,
    deletion_batch_get,
    deletion_batch_items,
    deletion_batch_list,
    deletion_batch_wait,
    deletion_item_url,
)
from jobs.deletions.runner import Pacer, deletion_batch_run, deletion_batches_resume
from jobs.deletions.selection import (
    Selection,
    evaluation_job_deletable_count,
    evaluation_job_delete_blocker,
    evaluation_job_filter_matches,
    evaluation_job_selected_ids,
    evaluation_job_selection_count,
)

__all__ = [
    "CONFIRM_TYPED_ABOVE",
    "KINDS",
    "KIND_EVALUATION_JOBS",
    "KIND_IMPORTED_MODELS",
    "BatchCounts",
    "DeletionKind",
    "DeletionPreview",
    "Pacer",
    "Selection",
    "deletion_batch_counts",
    "deletion_batch_create",
    "deletion_batch_for_key",
    "deletion_batch_get",
    "deletion_batch_items",
    "deletion_batch_list",
    "deletion_batch_retry_failed",
    "deletion_batch_wait",
    "deletion_batch_run",
    "deletion_batches_resume",
    "deletion_item_url",
    "evaluation_job_deletable_count",
    "evaluation_job_delete_blocker",
    "evaluation_job_deletion_preview",
    "evaluation_job_filter_matches",
    "evaluation_job_selected_ids",
    "evaluation_job_selection_count",
]
