import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Left, Upper
from django.urls import reverse


class TrigramIndex(GinIndex):
    """A PostgreSQL trigram index over UPPER(field): serves `field__icontains` (Django writes
    it as UPPER(field) LIKE UPPER('%...%')) without a table scan. Elsewhere (SQLite, the
    embedded default) it is a no-op, in migrations and in SQLite's table rebuilds alike, and the
    search stays a scan."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return _NoOp()
        return super().create_sql(model, schema_editor, using=using, **kwargs)

    def remove_sql(self, model, schema_editor, **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return _NoOp()
        return super().remove_sql(model, schema_editor, **kwargs)


class _NoOp:
    """A statement that changes nothing, for the schema editor to run in place of DDL."""

    def references_table(self, table: str) -> bool:
        return False

    def references_column(self, table: str, column: str) -> bool:
        return False

    def rename_table_references(self, old_table: str, new_table: str) -> None:
        pass

    def rename_column_references(self, table: str, old_column: str, new_column: str) -> None:
        pass

    def __str__(self) -> str:
        return "SELECT 1"


def trigram_index(field: str, name: str) -> TrigramIndex:
    return TrigramIndex(OpClass(Upper(field), name="gin_trgm_ops"), name=name)


class Access(models.Model):
    """Carries the dashboard's permissions; it has no table and no rows.

    Groups (created by a data migration): Viewers browse; Operators also create and stop jobs;
    Admins also delete and see the connections.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("browse_jobs", "Can browse jobs and models"),
            ("operate_jobs", "Can create and stop jobs"),
            ("delete_jobs", "Can delete jobs and models"),
            ("manage_connections", "Can see and check connections"),
        ]

    def __str__(self) -> str:
        return "access"


class Heartbeat(models.Model):
    """When a periodic task last ran, per name: proof that beat schedules and a worker works."""

    name = models.CharField(max_length=100, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"


class ConnectionStatus(models.Model):
    """What we last learned about one connection (jobs/connections/): who its credentials are,
    per STS GetCallerIdentity, or why asking failed. Never a credential: the connection itself
    (and how it gets credentials) lives in its configuration, not here."""

    name = models.CharField(max_length=40, primary_key=True)
    # The connection's fingerprint when checked: an identity learned under another
    # configuration (another role, region or STS endpoint) is shown as out of date.
    fingerprint = models.CharField(max_length=64, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    # The last identity STS gave, kept through later failures (with when it was learned).
    account = models.CharField(max_length=12, blank=True)
    caller_arn = models.CharField(max_length=2048, blank=True)
    identified_at = models.DateTimeField(null=True, blank=True)
    # The last check's failure ("" after a success).
    error_code = models.CharField(max_length=128, blank=True)
    error_message = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.account or 'unknown account'}"

    @property
    def ok(self) -> bool:
        return self.checked_at is not None and not self.error_code and bool(self.account)


class MirroredResource(models.Model):
    """What we last saw of one Bedrock resource. Pages read these rows, never Bedrock, so a
    page costs the same at 100 jobs as at 100,000; the sync keeps them fresh."""

    arn = models.CharField(max_length=2048, unique=True)
    # The ARN's last segment: short, URL-safe, what our URLs use.
    resource_id = models.CharField(max_length=64, db_index=True)
    region = models.CharField(max_length=32)
    account = models.CharField(max_length=12)
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField()
    # The list operation's summary as last seen (JSON-safe), to tell what changed.
    summary = models.JSONField(default=dict)
    # A digest of `summary`: a sweep tells changed rows from unchanged ones by reading this
    # short column instead of parsing every summary in the table.
    summary_digest = models.CharField(max_length=32, blank=True)
    # The Get operation's full answer (JSON-safe); empty until fetched.
    description = models.JSONField(null=True, blank=True)
    described_at = models.DateTimeField(null=True, blank=True)
    needs_description = models.BooleanField(default=True)
    # When Bedrock's data last changed this row (it appeared, its summary changed, it vanished
    # or reappeared, or it was described). A listed row is as fresh as the last successful
    # SyncRun of its kind: unchanged rows are not rewritten on every sweep.
    last_synced_at = models.DateTimeField()
    # Its tags (ListTagsForResource), fetched with the description and refreshed by a task:
    # its page reads them here, never from Bedrock. None: not fetched yet.
    tags = models.JSONField(null=True, blank=True)
    tags_synced_at = models.DateTimeField(null=True, blank=True)
    # False: Bedrock no longer lists it. Kept as a tombstone, hidden by default.
    listed = models.BooleanField(default=True)
    vanished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name


class EvaluationJob(MirroredResource):
    TERMINAL = frozenset({"Completed", "Failed", "Stopped"})
    RUNNING = frozenset({"InProgress", "Stopping"})

    status = models.CharField(max_length=16)
    job_type = models.CharField(max_length=16)
    application_type = models.CharField(max_length=32, blank=True)
    # Lists kept as "|A|B|" so one indexed-free `contains="|A|"` filter works on every backend.
    task_types = models.CharField(max_length=512, blank=True)
    model_identifiers = models.TextField(blank=True)

    class Meta:
        indexes = [
            # Keyset pagination: (created_at, arn) in either direction, alone or per status.
            models.Index(fields=["created_at", "arn"], name="evaljob_created_arn"),
            models.Index(
                fields=["region", "account", "created_at", "arn"], name="evaljob_place_created"
            ),
            models.Index(fields=["status", "created_at", "arn"], name="evaljob_status_created"),
            models.Index(fields=["listed", "created_at", "arn"], name="evaljob_listed_created"),
            models.Index(fields=["needs_description"], name="evaljob_needs_desc"),
            trigram_index("name", "evaljob_name_trgm"),
            trigram_index("model_identifiers", "evaljob_models_trgm"),
            # The model picker's distinct values, read by a loose index scan
            # (jobs.selectors.evaluation_jobs.evaluation_job_models); a prefix keeps every
            # entry under btree's size limit.
            models.Index(Left("model_identifiers", 512), name="evaljob_models_prefix"),
        ]

    def get_absolute_url(self) -> str:
        return reverse("evaluation_job_detail", args=[self.resource_id])

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    @property
    def can_stop(self) -> bool:
        return self.listed and self.status == "InProgress"

    @property
    def can_delete(self) -> bool:
        return self.listed and self.status in self.TERMINAL


class ModelImportJob(MirroredResource):
    TERMINAL = frozenset({"Completed", "Failed"})

    status = models.CharField(max_length=16)
    imported_model_arn = models.CharField(max_length=2048, blank=True)
    imported_model_name = models.CharField(max_length=255, blank=True)
    last_modified_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at", "arn"], name="importjob_created_arn"),
            models.Index(
                fields=["region", "account", "created_at", "arn"], name="importjob_place_created"
            ),
            models.Index(fields=["status", "created_at", "arn"], name="importjob_status_created"),
            models.Index(fields=["needs_description"], name="importjob_needs_desc"),
            trigram_index("name", "importjob_name_trgm"),
        ]

    def get_absolute_url(self) -> str:
        return reverse("model_import_job_detail", args=[self.resource_id])

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def is_running(self) -> bool:
        return self.status == "InProgress"


class ImportedModel(MirroredResource):
    model_architecture = models.CharField(max_length=64, blank=True)
    instruct_supported = models.BooleanField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at", "arn"], name="model_created_arn"),
            models.Index(
                fields=["region", "account", "created_at", "arn"], name="model_place_created"
            ),
            models.Index(fields=["needs_description"], name="model_needs_desc"),
            trigram_index("name", "model_name_trgm"),
        ]

    def get_absolute_url(self) -> str:
        return reverse("imported_model_detail", args=[self.resource_id])

    @property
    def can_delete(self) -> bool:
        return self.listed


class SyncRun(models.Model):
    """One sweep of one kind of resource: what it cost and what it found."""

    kind = models.CharField(max_length=32)
    # The connection swept (jobs/connections/), and the account its listing's ARNs named:
    # each connection × kind sweeps on its own, so each has its own runs and errors.
    connection = models.CharField(max_length=40, default="default")
    account = models.CharField(max_length=12, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    list_calls = models.PositiveIntegerField(default=0)
    get_calls = models.PositiveIntegerField(default=0)
    seen = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    vanished = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["kind", "-started_at"], name="syncrun_kind_started"),
            models.Index(
                fields=["kind", "connection", "-started_at"], name="syncrun_kind_conn_started"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} sync at {self.started_at:%Y-%m-%d %H:%M:%S}"

    @property
    def ok(self) -> bool:
        return self.finished_at is not None and not self.error


class TaskLock(models.Model):
    """A lease on a named piece of work (see jobs/locks.py): one row while it is held."""

    name = models.CharField(max_length=100, primary_key=True)
    token = models.CharField(max_length=64)
    # A holder that crashed stops blocking others at this time.
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} until {self.expires_at:%Y-%m-%d %H:%M:%S}"


class StatusCount(models.Model):
    """Jobs per status of one kind, as of the last sweep: the unfiltered status chips read
    these few rows instead of counting the whole table."""

    kind = models.CharField(max_length=32)
    status = models.CharField(max_length=16)
    count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "status"], name="statuscount_kind_status")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.status}: {self.count}"


class AuditEntry(models.Model):
    """Who did what, when, and how it ended: every submission, stop and deletion."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    username = models.CharField(max_length=150)  # kept if the user is deleted
    action = models.CharField(max_length=64)
    target_arn = models.CharField(max_length=2048, blank=True, db_index=True)
    outcome = models.CharField(max_length=32)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.username} {self.action} {self.target_arn} {self.outcome}"


class CreatedBy(models.Model):
    """Who asked for it; the username is kept if the user is deleted."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by_username = models.CharField(max_length=150)  # kept if the user is deleted

    class Meta:
        abstract = True


class EvaluationJobSubmission(CreatedBy):
    """One CreateEvaluationJob the dashboard was asked to make, recorded before Bedrock is
    called (see jobs/submissions.py). The idempotency key comes from the review page, so a
    double click, a resubmitted page or a second tab finds this row instead of making another;
    the client request token goes to Bedrock with every attempt, so retries make one job."""

    SUBMITTING = "Submitting"
    SUBMITTED = "Submitted"
    FAILED = "Failed"
    STATUSES = [(s, s) for s in (SUBMITTING, SUBMITTED, FAILED)]

    idempotency_key = models.CharField(max_length=64, unique=True)
    client_request_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16)  # programmatic | judge | human | rag
    job_name = models.CharField(max_length=63)
    # The CreateEvaluationJob request as built by the form, without clientRequestToken.
    request = models.JSONField()
    status = models.CharField(max_length=16, choices=STATUSES, default=SUBMITTING)
    job_arn = models.CharField(max_length=2048, blank=True)
    # Bedrock's last error: the final one when Failed, the latest transient one while retrying.
    error_code = models.CharField(max_length=128, blank=True)
    error_message = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # An attempt in flight holds the row until then (a worker that died frees it at this time).
    attempt_lease_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # When the next retry is due; the periodic resume task picks up rows long past it.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="submission_status_next"),
            models.Index(fields=["job_name", "status"], name="submission_name_status"),
        ]

    def __str__(self) -> str:
        return f"{self.job_name} ({self.status})"

    @property
    def is_submitting(self) -> bool:
        return self.status == self.SUBMITTING

    @property
    def is_submitted(self) -> bool:
        return self.status == self.SUBMITTED

    @property
    def is_failed(self) -> bool:
        return self.status == self.FAILED

    @property
    def job_resource_id(self) -> str:
        """The job's id in our URLs (the ARN's last segment), once Bedrock gave an ARN."""
        return self.job_arn.rsplit("/", 1)[-1] if self.job_arn else ""


class DeletionBatch(CreatedBy):
    """One confirmed deletion: what an Admin selected, recorded with one DeletionItem per
    resource before any Bedrock call (see jobs/deletions/). Generic over `kind`, so other
    deletable resources (imported models) reuse the same batches, runner and pages."""

    KINDS = [("evaluation_jobs", "Evaluation jobs"), ("imported_models", "Imported models")]

    kind = models.CharField(max_length=32, choices=KINDS)
    # One per confirmation page shown: a double click, a resubmitted or replayed POST finds
    # this batch instead of making another.
    idempotency_key = models.CharField(max_length=64, unique=True)
    # What was selected, for people ("All jobs matching status Failed, plus 3 picked") and for
    # the record (the filter's query string, the picked ids, the excluded ids).
    description = models.CharField(max_length=500)
    selection = models.JSONField(default=dict, blank=True)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A batch with pending items not touched by then is resumed by the periodic task (its
    # task was lost: the broker was down at confirmation, or the worker died).
    resume_after = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["-created_at", "-id"], name="deletionbatch_created")]

    def __str__(self) -> str:
        return f"deletion #{self.pk} ({self.kind})"

    def get_absolute_url(self) -> str:
        return reverse("deletion_batch_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None

    @property
    def state(self) -> str:
        """Queued (no worker has started it yet), Running, or Finished."""
        if self.finished_at is not None:
            return "Finished"
        return "Running" if self.started_at is not None else "Queued"


class DeletionItem(models.Model):
    """One resource in a DeletionBatch and what became of it."""

    PENDING = "pending"
    DELETED = "deleted"
    FAILED = "failed"
    SKIPPED = "skipped"
    OUTCOMES = [(o, o.capitalize()) for o in (PENDING, DELETED, FAILED, SKIPPED)]

    batch = models.ForeignKey(DeletionBatch, on_delete=models.CASCADE, related_name="items")
    arn = models.CharField(max_length=2048)
    resource_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    status_at_selection = models.CharField(max_length=16, blank=True)
    outcome = models.CharField(max_length=16, choices=OUTCOMES, default=PENDING)
    # Bedrock's error code ("404", "400", ThrottlingException...) or ours for a skip.
    code = models.CharField(max_length=128, blank=True)
    reason = models.TextField(blank=True)
    # Bedrock calls that carried this item (a retried call counts again).
    attempts = models.PositiveIntegerField(default=0)
    # A runner holds the item from claimed_at, under its token, until it settles it; a claim
    # older than the lease is free again (its runner died).
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "arn"], name="deletionitem_batch_arn")
        ]
        indexes = [models.Index(fields=["batch", "outcome", "id"], name="deletionitem_outcome")]

    def __str__(self) -> str:
        return f"{self.name}: {self.outcome}"

    @property
    def is_settled(self) -> bool:
        return self.outcome != self.PENDING


# --- Evaluation results (read from each completed job's S3 output; see jobs/results/) -------


class EvaluationResultSet(models.Model):
    """What we read of one evaluation job's S3 output, and how that went. One row per job;
    a re-ingest replaces its aggregates and records in one transaction."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be read"
        FETCHING = "fetching", "Being read"
        READY = "ready", "Ready"
        FAILED = "failed", "Could not be read"

    # Kept when the job becomes a tombstone: results of a deleted job stay readable.
    job = models.OneToOneField(EvaluationJob, on_delete=models.CASCADE, related_name="results")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # s3://bucket/prefix/<jobName>/<jobId>/ that was listed.
    s3_uri = models.CharField(max_length=2048, blank=True)
    # Why the last attempt failed, as the gateway said it (e.g. AccessDenied, NoSuchBucket).
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    # A digest of the output files' (key, size, ETag): a fetch that finds the same files
    # changes nothing.
    fingerprint = models.CharField(max_length=64, blank=True)
    files = models.PositiveIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0)
    # Lines that were not JSON or had no shape we know; counted and shown, never fatal.
    bad_lines = models.PositiveIntegerField(default=0)
    # Per-prompt records stored, and whether RESULTS_MAX_RECORDS cut them short (the
    # aggregates always cover every line).
    records = models.PositiveIntegerField(default=0)
    records_truncated = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    requested_at = models.DateTimeField(null=True, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["state", "updated_at"], name="resultset_state")]

    def __str__(self) -> str:
        return f"results of {self.job_id}: {self.state}"

    @property
    def is_ready(self) -> bool:
        return self.state == self.State.READY

    @property
    def is_settled(self) -> bool:
        """Nothing more will happen without a Retry: polling can stop."""
        return self.state in (self.State.READY, self.State.FAILED)


class ResultAggregate(models.Model):
    """One dataset × model-or-RAG-source × metric of one job: the numbers of a score card."""

    result_set = models.ForeignKey(
        EvaluationResultSet, on_delete=models.CASCADE, related_name="aggregates"
    )
    dataset = models.CharField(max_length=255)
    # The model identifier as the records give it, or the knowledge base / RAG source
    # identifier for RAG jobs.
    model = models.CharField(max_length=2048)
    metric = models.CharField(max_length=255)
    # Human jobs: thumbsUpDown, individualLikertScale, comparisonLikertScale,
    # comparisonChoice or comparisonRank; empty for automatic, judge and RAG jobs.
    rating_method = models.CharField(max_length=32, blank=True)
    prompts = models.PositiveIntegerField(default=0)
    scored = models.PositiveIntegerField(default=0)
    mean = models.FloatField(null=True, blank=True)
    stddev = models.FloatField(null=True, blank=True)
    # {"edges": [e0, ..., en], "counts": [c1, ..., cn]} over the scored results.
    histogram = models.JSONField(default=dict, blank=True)
    # Human metrics: counts per answer ({"up": n, "down": n}, {"1": n, ... "5": n},
    # {"wins": n, "losses": n, "ties": n}, ...), empty otherwise.
    distribution = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["dataset", "model", "metric"]
        constraints = [
            models.UniqueConstraint(
                fields=["result_set", "dataset", "model", "metric"], name="resultagg_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dataset} {self.model} {self.metric}: {self.mean}"


class ResultRecord(models.Model):
    """One prompt's outcome for one model (or RAG source): one line of an output file (one
    turn of a RAG conversation), per model for two-model human jobs."""

    result_set = models.ForeignKey(
        EvaluationResultSet, on_delete=models.CASCADE, related_name="result_records"
    )
    dataset = models.CharField(max_length=255)
    model = models.CharField(max_length=2048)
    # Order in the output (file, line, turn): a stable key for paging and for matching the
    # same prompt across jobs together with prompt_hash.
    position = models.PositiveIntegerField()
    prompt = models.TextField(blank=True)
    # sha256 of the prompt text: joins the same prompt across jobs without comparing texts.
    prompt_hash = models.CharField(max_length=64)
    reference = models.TextField(blank=True)
    response = models.TextField(blank=True)
    # {metric: number or null}, {metric: judge's explanation}.
    scores = models.JSONField(default=dict, blank=True)
    explanations = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["result_set", "dataset", "position"], name="resultrec_pos"),
            models.Index(fields=["prompt_hash"], name="resultrec_prompt"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} #{self.position} {self.model}"


class ResultScore(models.Model):
    """One metric's result of one record, as a row: the prompts table filters and sorts by
    any metric through this index, not through JSON."""

    record = models.ForeignKey(ResultRecord, on_delete=models.CASCADE, related_name="score_rows")
    result_set = models.ForeignKey(
        EvaluationResultSet, on_delete=models.CASCADE, related_name="score_rows"
    )
    metric = models.CharField(max_length=255)
    value = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["result_set", "metric", "value", "record"], name="resultscore_v"),
        ]

    def __str__(self) -> str:
        return f"{self.metric}={self.value}"
