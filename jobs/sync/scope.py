"""Which connection a sweep, a fill or a Get runs for, and which mirror rows are that
connection's: those of its region and its account. The account is learned, not configured: from
STS (ConnectionStatus, jobs/connections/services.py) when its identity was checked under the
connection's present configuration, else from the ARNs its last sweep listed (SyncRun.account).

With a single connection (no connections file, or a file of one) every row is its own, exactly
as before connections: no filter, no lookups.
"""

from __future__ import annotations

from django.db.models import QuerySet

from jobs.bedrock.errors import CredentialsError
from jobs.connections import Connection, configured_connections, connection_named
from jobs.models import ConnectionStatus, MirroredResource, SyncRun


class AccountMismatch(Exception):
    """Bedrock listed a resource of another account than the connection's: its credentials or
    endpoint are not what the connection was checked with. The sweep applies nothing."""


def resolve(connection: Connection | str | None) -> Connection:
    """A Connection from one, its name (UnknownConnection if none has it), or None: the
    default (first) connection."""
    if isinstance(connection, Connection):
        return connection
    if connection is None:
        return configured_connections()[0]
    return connection_named(connection)


def single() -> bool:
    return len(configured_connections()) == 1


def learned_account(connection: Connection) -> str:
    """The account STS gave for the connection's present configuration; "" if never checked
    (or checked under another configuration, or failing)."""
    return (
        ConnectionStatus.objects.filter(name=connection.name, fingerprint=connection.fingerprint)
        .exclude(account="")
        .values_list("account", flat=True)
        .first()
        or ""
    )


def known_account(connection: Connection) -> str:
    """The learned account, else the one the connection's last sweeps listed; "" if neither."""
    account = learned_account(connection)
    if account:
        return account
    return (
        SyncRun.objects.filter(connection=connection.name)
        .exclude(account="")
        .order_by("-started_at")
        .values_list("account", flat=True)
        .first()
        or ""
    )


def rows_of(
    model: type[MirroredResource], connection: Connection, *, account: str | None = None
) -> QuerySet:
    """The mirror rows of `model` that are the connection's (all of them with one connection;
    none while its account is unknown)."""
    if single():
        return model.objects.all()
    account = account if account is not None else known_account(connection)
    if not account:
        return model.objects.none()
    return model.objects.filter(region=connection.region, account=account)


def connection_for(*, region: str, account: str) -> Connection:
    """The connection a mirror row of `region` and `account` belongs to: the one of that region
    whose account is known to be `account`, else the only one of that region. A row no
    connection reaches is a CredentialsError (final): guessing could Get it from another
    account, and a NotFound there would flag it as vanished."""
    connections = configured_connections()
    if len(connections) == 1:
        return connections[0]
    in_region = [c for c in connections if c.region == region]
    for connection in in_region:
        if known_account(connection) == account:
            return connection
    if len(in_region) == 1 and not known_account(in_region[0]):
        return in_region[0]
    raise CredentialsError(
        f"no configured connection reaches account {account or '?'} in {region or '?'}",
        code="NoConnection",
        operation="describe",
    )
