"""Connections (accounts × regions): their configuration is in config.py (no boto3, no
database), the identity check in services.py. Import from here."""

from jobs.connections.config import (
    Connection,
    ConnectionsFileError,
    CredentialsKind,
    UnknownConnection,
    configured_connections,
    connection_named,
    default_connection,
    load_connections,
    settings_connection,
)

__all__ = [
    "Connection",
    "ConnectionsFileError",
    "CredentialsKind",
    "UnknownConnection",
    "configured_connections",
    "connection_named",
    "default_connection",
    "load_connections",
    "settings_connection",
]
