"""Reads for the Connections page: each configured connection with what we last learned about
it (ConnectionStatus) and its last sweep per kind (SyncRun, read only). Never calls AWS."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from jobs.connections import Connection, configured_connections, connection_named
from jobs.connections.config import DEFAULT_NAME, settings_connection
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


def _sweeps_owner(connections: tuple[Connection, ...]) -> str | None:
    """Sweeps record no connection yet: they run with the one built from settings, so their
    runs belong to the first connection configured exactly like it (the only one, without a
    file); None if no connection is."""
    plain = settings_connection()
    for connection in connections:
        if dataclasses.replace(connection, name=DEFAULT_NAME) == plain:
            return connection.name
    return None


def _last_syncs() -> tuple[LastSync, ...]:
    return tuple(
        LastSync(
            kind=kind,
            label=label,
            # One indexed read per kind (syncrun_kind_started).
            run=SyncRun.objects.filter(kind=kind).order_by("-started_at").first(),
        )
        for kind, label in SYNC_KINDS
    )


def connection_list() -> list[ConnectionRow]:
    """Every configured connection, in the configuration's order. A fixed number of queries,
    however many connections there are."""
    connections = configured_connections()
    statuses = ConnectionStatus.objects.in_bulk([c.name for c in connections])
    owner = _sweeps_owner(connections)
    syncs = _last_syncs() if owner else ()
    return [
        ConnectionRow(
            connection=c, status=statuses.get(c.name), syncs=syncs if c.name == owner else ()
        )
        for c in connections
    ]


def connection_row(*, name: str) -> ConnectionRow:
    """One connection's row; UnknownConnection if no connection has that name."""
    connection = connection_named(name)
    owner = _sweeps_owner(configured_connections())
    return ConnectionRow(
        connection=connection,
        status=ConnectionStatus.objects.filter(name=connection.name).first(),
        syncs=_last_syncs() if connection.name == owner else (),
    )
