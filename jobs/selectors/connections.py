"""Reads for the Connections page: each configured connection with what we last learned about
it (ConnectionStatus) and its last sweep per kind (SyncRun, read only). Never calls AWS."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Max

from jobs.connections import Connection, configured_connections, connection_named
from jobs.models import ConnectionStatus, SyncRun

# The kinds a sweep mirrors (jobs/sync.py's KINDS), as the page names them.
SYNC_KINDS = (
    ("evaluation_jobs", "Evaluation jobs"),
    ("import_jobs", "Import jobs"),
    ("imported_models", "Imported models"),
)


@dataclass(frozen=True)
class LastSync:
    kind: str
    label: str
    run: SyncRun | None


@dataclass(frozen=True)
class ConnectionRow:
    connection: Connection
    status: ConnectionStatus | None
    syncs: tuple[LastSync, ...]

    @property
    def identity_current(self) -> bool:
        """The recorded identity was learned under the connection's present configuration."""
        return bool(self.status and self.status.fingerprint == self.connection.fingerprint)


def _last_syncs(names: list[str]) -> dict[str, tuple[LastSync, ...]]:
    """Each connection's last sweep of each kind, by connection name; () for a connection that
    never swept anything. Two queries per kind, however many connections there are."""
    latest: dict[tuple[str, str], SyncRun] = {}
    for kind, _ in SYNC_KINDS:
        # A run's row is created when it starts: the highest pk is the latest start.
        last = (
            SyncRun.objects.filter(kind=kind, connection__in=names)
            .values("connection")
            .annotate(last=Max("pk"))
            .values_list("last", flat=True)
        )
        for run in SyncRun.objects.filter(pk__in=list(last)):
            latest[(run.connection, kind)] = run
    syncs = {}
    for name in names:
        runs = tuple(
            LastSync(kind=kind, label=label, run=latest.get((name, kind)))
            for kind, label in SYNC_KINDS
        )
        syncs[name] = runs if any(s.run for s in runs) else ()
    return syncs


def connection_list() -> list[ConnectionRow]:
    """Every configured connection, in the configuration's order. A fixed number of queries,
    however many connections there are."""
    connections = configured_connections()
    names = [c.name for c in connections]
    statuses = ConnectionStatus.objects.in_bulk(names)
    syncs = _last_syncs(names)
    return [
        ConnectionRow(connection=c, status=statuses.get(c.name), syncs=syncs[c.name])
        for c in connections
    ]


def connection_row(*, name: str) -> ConnectionRow:
    """One connection's row; UnknownConnection if no connection has that name."""
    connection = connection_named(name)
    return ConnectionRow(
        connection=connection,
        status=ConnectionStatus.objects.filter(name=connection.name).first(),
        syncs=_last_syncs([connection.name])[connection.name],
    )
