"""Model import jobs and imported models, beyond what every mirrored kind does (jobs.sync):
keeping a running import fresh while someone watches it, and putting the model a completed
import created into the mirror at once, so the models list shows it without waiting for the
next sweep.

Bedrock runs one import at a time, so "every running import job" is one, rarely a few: a
page that polls while an import runs costs one GetModelImportJob a poll.
https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-import-model.html
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import cast

from django.utils import timezone

from jobs import sync
from jobs.bedrock import client as bedrock
from jobs.bedrock.errors import BedrockError
from jobs.models import ImportedModel, ModelImportJob

logger = logging.getLogger(__name__)

# A running import's description older than this is fetched again by a page that polls.
RUNNING_MAX_AGE = dt.timedelta(seconds=3)
# At most this many running imports are refreshed per poll (Bedrock runs one at a time).
RUNNING_LIMIT = 5
# ListImportedModels' summary members, all of which GetImportedModel also returns.
MODEL_SUMMARY_KEYS = (
    "modelArn",
    "modelName",
    "creationTime",
    "instructSupported",
    "modelArchitecture",
)


def model_import_job_describe(*, job: ModelImportJob) -> ModelImportJob:
    """GetModelImportJob now; once the job has completed, the model it created goes into the
    mirror too. Raises the gateway's BedrockError subclasses."""
    job = sync.import_job_describe(job=job)
    if job.status == "Completed" and job.imported_model_arn:
        imported_model_adopt(arn=job.imported_model_arn)
    return job


def imported_model_adopt(*, arn: str) -> ImportedModel | None:
    """The imported model `arn` in the mirror: as it is, or fetched from Bedrock now (None if
    Bedrock does not answer; the next sweep brings it)."""
    existing = ImportedModel.objects.filter(arn=arn).first()
    if existing is not None:
        return existing
    try:
        description = bedrock.get_imported_model(identifier=arn)
    except BedrockError as exc:
        logger.info("imported model %s not adopted: %s", arn, exc)
        return None
    summary = {k: description[k] for k in MODEL_SUMMARY_KEYS if description.get(k) is not None}
    model = sync.mirror_created(kind="imported_models", summary=summary, description=description)
    return cast(ImportedModel, model)


def _stale(job: ModelImportJob, now: dt.datetime) -> bool:
    return job.described_at is None or now - job.described_at > RUNNING_MAX_AGE


def model_import_job_freshen(*, job: ModelImportJob) -> ModelImportJob:
    """A running job described again if what we have is older than RUNNING_MAX_AGE (a polled
    row); anything else as it is. A Bedrock failure leaves it as it was."""
    if not (job.listed and job.is_running and _stale(job, timezone.now())):
        return job
    try:
        return model_import_job_describe(job=job)
    except BedrockError as exc:
        logger.info("refreshing import job %s failed: %s", job.arn, exc)
        return job


def model_import_jobs_freshen() -> bool:
    """Every running import job freshened (model_import_job_freshen), so a model list that
    polls while one runs shows its model once it completes. Whether any still runs."""
    running = ModelImportJob.objects.filter(listed=True, status="InProgress")
    still = False
    for job in running.order_by("-created_at")[:RUNNING_LIMIT]:
        still |= model_import_job_freshen(job=job).is_running
    return still
