"""Applying a listing to the mirror in bounded memory: each page is compared with the mirror
as it arrives (digests from a values_list, no model instances), only new and changed summaries
are kept (spooled), and the apply writes them a chunk at a time in one transaction, then flags
reappeared and vanished rows and recounts the status chips."""

from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
from collections.abc import Iterable, Iterator
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connections, reset_queries, transaction
from django.db.models import Count, Max
from django.utils import timezone

from jobs.connections import Connection
from jobs.models import MirroredResource, StatusCount, SyncRun
from jobs.sync import scope
from jobs.sync.kinds import (
    COMMON_COLUMNS,
    WRITE_BATCH,
    Kind,
    _canonical,
    _digest,
    _row,
    arn_account,
)

logger = logging.getLogger(__name__)


class Listing:
    """What a sweep keeps of a listing while it lists, in bounded memory: it compares each
    page with the mirror as the page arrives (one indexed read per page of ARNs, digests only,
    no model instances) and keeps only what differs. Unchanged rows cost a primary key in
    `seen`; new and changed summaries go to a spool (a temporary file past a few MiB) that the
    apply reads back a chunk at a time."""

    SPOOL_IN_MEMORY = 8 * 1024 * 1024

    def __init__(self, spec: Kind, connection: Connection) -> None:
        self.spec = spec
        self.connection = connection
        model = spec.model
        # Rows created after this (by this sweep, or a submission meanwhile) are never
        # vanished by it: only rows that existed when the listing began can have gone.
        self.max_pk = model.objects.aggregate(top=Max("pk"))["top"] or 0
        self.empty = self.max_pk == 0  # nothing to compare with at all
        # The connection's first sweep: its rows are left to the fill to describe.
        self.first = self.empty or not scope.rows_of(model, connection).exists()
        # The account STS gave for the connection, which every listed ARN must name; and the
        # account the ARNs do name.
        self.expected_account = scope.learned_account(connection)
        self.account = ""
        self.seen: set[int] = set()  # pks of listed rows already in the mirror
        self.reappeared: list[int] = []
        self.new = self.changed = self.count = 0
        self.spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by close()
            max_size=self.SPOOL_IN_MEMORY, mode="w+", encoding="utf-8"
        )

    def close(self) -> None:
        self.spool.close()

    def take(self, page: list[dict[str, Any]]) -> None:
        arn_key = self.spec.arn_key
        texts = {summary[arn_key]: _canonical(summary) for summary in page}
        self.count += len(page)
        for arn in texts:
            self._check_account(arn)
        known: dict[str, tuple[int, str, bool]] = {}
        if not self.empty and texts:
            known = {arn: (pk, digest, listed) for arn, pk, digest, listed in self._known(texts)}
            reset_queries()  # under DEBUG, the query log would keep every page's SQL
        write = self.spool.write
        for arn, text in texts.items():
            digest = _digest(text)
            old = known.get(arn)
            if old is None:
                self.new += 1
            else:
                pk, old_digest, listed = old
                if pk in self.seen:
                    continue  # listed twice (pages shifted): the first answer stands
                self.seen.add(pk)
                if old_digest == digest:
                    if not listed:
                        self.reappeared.append(pk)
                    continue
                self.changed += 1
            write(f"{arn}\t{digest}\t{text}\n")

    def _known(self, arns: Iterable[str]) -> Iterable[tuple[str, int, str, bool]]:
        """(arn, pk, digest, listed) of the mirror rows among `arns` (a page: 1,000)."""
        model = self.spec.model
        connection = connections[model.objects.db]
        if connection.vendor != "postgresql":
            rows = model.objects.filter(arn__in=list(arns))
            return rows.values_list("arn", "pk", "summary_digest", "listed")
        # One array parameter rather than IN of 1,000 placeholders, which psycopg's
        # client-side binding splits and quotes one by one (half of this read's time).
        meta, quote = model._meta, connection.ops.quote_name
        fields = (meta.get_field("arn"), meta.pk, meta.get_field("summary_digest"))
        columns = ", ".join(quote(f.column) for f in (*fields, meta.get_field("listed")))
        arn = quote(meta.get_field("arn").column)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {arn} = ANY(%s)",  # noqa: S608
                [list(arns)],
            )
            return cursor.fetchall()

    def _check_account(self, arn: str) -> None:
        account = arn_account(arn)
        if account == self.account:
            return
        name = self.connection.name
        if self.account:
            raise scope.AccountMismatch(
                f"connection {name}: Bedrock listed resources of accounts {self.account} and "
                f"{account}"
            )
        if self.expected_account and account != self.expected_account:
            raise scope.AccountMismatch(
                f"connection {name} is account {self.expected_account} (STS), but Bedrock "
                f"listed {arn} of account {account}: check its credentials and endpoint"
            )
        self.account = account

    def spooled(self, size: int) -> Iterator[list[tuple[str, str, str]]]:
        """The new and changed rows, `size` at a time: (arn, digest, canonical text)."""
        self.spool.seek(0)
        chunk: list[tuple[str, str, str]] = []
        for line in self.spool:
            arn, digest, text = line.rstrip("\n").split("\t", 2)
            chunk.append((arn, digest, text))
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def apply_listing(spec: Kind, run: SyncRun, listing: Listing) -> list[tuple[str, str]]:
    """Write what the listing found to the mirror in one transaction, a chunk at a time: new
    and changed rows (read back from the spool), reappeared and vanished ones. Return (arn,
    digest) of the rows to describe now (none on the first sweep into an empty mirror)."""
    model = spec.model
    now = timezone.now()
    # What a changed row gets; description and described_at stay until the new Get.
    fields = [*COMMON_COLUMNS, *spec.column_names, "summary_digest", "needs_description"]
    fields += ["last_synced_at", "listed", "vanished_at"]
    limit = settings.SYNC_SWEEP_DESCRIBE_MAX
    to_describe: list[tuple[str, str]] = []
    vanished = 0
    with transaction.atomic():
        for chunk in listing.spooled(WRITE_BATCH):
            # An ARN listed twice (pages shifted while listing) is written once per statement.
            chunk = list({arn: (arn, digest, text) for arn, digest, text in chunk}.values())
            rows = [
                {
                    **_row(spec, json.loads(text), region=listing.connection.region),
                    "summary": text,  # already JSON: written as it is
                    "summary_digest": digest,
                    "needs_description": True,
                    "last_synced_at": now,
                    "listed": True,
                    "vanished_at": None,
                }
                for arn, digest, text in chunk
            ]
            _upsert(model, rows, update_fields=fields)
            reset_queries()  # under DEBUG, each statement's SQL text is ~1 MB
            if not listing.first and len(to_describe) < limit:
                to_describe += [(arn, digest) for arn, digest, _ in chunk]
        _update_in_batches(model, listing.reappeared, now, listed=True, vanished_at=None)
        gone: list[int] = []
        candidates = (
            scope.rows_of(model, listing.connection, account=listing.account or None)
            .filter(listed=True, pk__lte=listing.max_pk)
            .values_list("pk", flat=True)
            .iterator(chunk_size=10_000)
        )
        for pk in candidates:
            if pk not in listing.seen:
                gone.append(pk)
        vanished = len(gone)
        _update_in_batches(model, gone, now, listed=False, vanished_at=now)
    run.account = listing.account
    run.seen = listing.count
    run.added = listing.new
    run.changed = listing.changed + len(listing.reappeared)
    run.vanished = vanished
    changes = listing.new + listing.changed
    if not listing.first and changes > limit:
        logger.warning(
            "%s: %d rows changed; describing %d now, the fill gets the rest",
            spec.name,
            changes,
            limit,
        )
    return to_describe[:limit]


def _upsert(
    model: type[MirroredResource], rows: list[dict[str, Any]], *, update_fields: list[str]
) -> None:
    """INSERT ... ON CONFLICT (arn) DO UPDATE SET <update_fields> for rows given as column
    values (the summary as JSON text), without model instances. Columns a row does not name
    get their field's default on insert (a column added later needs nothing here).

    Why not bulk_create: on PostgreSQL, Django (5.2+) sends a bulk insert as UNNEST of one array
    per column, and psycopg quotes those arrays in Python (a third of a 100k-row first sweep in
    the profile); a multi-row VALUES of 17,000 placeholders costs as much again in psycopg's
    client-side query splitting. So PostgreSQL gets COPY into a temporary table (psycopg's C
    code) and one INSERT ... SELECT; SQLite, whose driver binds natively, a multi-row VALUES.
    The summary, already serialized for its digest, is not serialized again."""
    connection = connections[model.objects.db]
    quote = connection.ops.quote_name
    columns = [f for f in model._meta.concrete_fields if not f.primary_key]
    preps = []
    for field in columns:
        kind = field.get_internal_type()
        if field.name == "summary" or kind in ("CharField", "TextField", "BooleanField"):
            preps.append(None)  # already the database's value (the summary: JSON text)
        else:
            preps.append(partial(field.get_db_prep_save, connection=connection))
    defaults = {f.name: f.get_default() for f in columns}
    names = [f.name for f in columns]

    def values(row: dict[str, Any]) -> list[Any]:
        out = []
        for name, prep in zip(names, preps, strict=True):
            value = row[name] if name in row else defaults[name]
            # prep: the database's form of a datetime or a JSON default.
            out.append(value if prep is None else prep(value))
        return out

    table = quote(model._meta.db_table)
    column_list = ", ".join(quote(f.column) for f in columns)
    sets = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in _columns(model, update_fields))
    # Identifiers from the model's own meta, quoted; every value is a parameter.
    conflict = f"ON CONFLICT ({quote(model._meta.get_field('arn').column)}) DO UPDATE SET {sets}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            staging = quote(f"sync_upsert_{model._meta.db_table}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS "  # noqa: S608
                f"SELECT {column_list} FROM {table} WITH NO DATA"
            )
            with cursor.cursor.copy(f"COPY {staging} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(values(row))
            cursor.execute(
                f"INSERT INTO {table} ({column_list}) "  # noqa: S608
                f"SELECT {column_list} FROM {staging} {conflict}"
            )
            cursor.execute(f"TRUNCATE {staging}")
            return
        per_statement = max(1, min(WRITE_BATCH, connection.ops.bulk_batch_size(columns, rows)))
        row_sql = f"({', '.join(['%s'] * len(columns))})"
        for i in range(0, len(rows), per_statement):
            batch = rows[i : i + per_statement]
            params = [value for row in batch for value in values(row)]
            cursor.execute(
                f"INSERT INTO {table} ({column_list}) VALUES "  # noqa: S608
                f"{', '.join([row_sql] * len(batch))} {conflict}",
                params,
            )


def _columns(model: type[MirroredResource], names: list[str]) -> list[str]:
    return [model._meta.get_field(name).column for name in names]


def _update_in_batches(
    model: type[MirroredResource], pks: list[int], now: dt.datetime, **values: Any
) -> None:
    for i in range(0, len(pks), WRITE_BATCH):
        model.objects.filter(pk__in=pks[i : i + WRITE_BATCH]).update(last_synced_at=now, **values)


def count_statuses(spec: Kind) -> None:
    """StatusCount rows for the kind, counted from the mirror's listed rows."""
    if not spec.statuses:
        return
    counts = dict.fromkeys(spec.statuses, 0)
    rows = spec.model.objects.filter(listed=True).values_list("status").annotate(n=Count("pk"))
    counts.update(dict(rows))
    now = timezone.now()
    StatusCount.objects.bulk_create(
        [StatusCount(kind=spec.name, status=s, count=n, updated_at=now) for s, n in counts.items()],
        update_conflicts=True,
        unique_fields=["kind", "status"],
        update_fields=["count", "updated_at"],
    )
