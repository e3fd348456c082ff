"""Checking a connection: ask STS who its credentials are and record the answer (or why there
was none) in ConnectionStatus. The account of a connection is learned here, not read from its
configuration. Nothing secret is recorded or logged: the account, the caller's ARN, and our
exceptions' codes and messages (which name profiles and roles, never keys)."""

from __future__ import annotations

import logging

from django.utils import timezone

from jobs.bedrock import sts
from jobs.bedrock.errors import BedrockError
from jobs.connections.config import connection_named
from jobs.models import ConnectionStatus

logger = logging.getLogger(__name__)

# A person waits for "Check now": seconds to connect and to read, per attempt.
CHECK_TIMEOUT_SECONDS = 5.0
ERROR_MESSAGE_MAX = 2000


def connection_check(*, name: str, timeout: float = CHECK_TIMEOUT_SECONDS) -> ConnectionStatus:
    """GetCallerIdentity for the connection called `name` (UnknownConnection if none is) and
    its status row updated: the account and caller ARN, or the error (the last identity is
    kept, with when it was learned). Bedrock-side failures are an outcome, not an exception."""
    connection = connection_named(name)
    now = timezone.now()
    try:
        identity = sts.sts_get_caller_identity(connection=connection, timeout=timeout)
    except BedrockError as exc:
        code = (exc.code or type(exc).__name__)[:128]
        status, _ = ConnectionStatus.objects.update_or_create(
            name=connection.name,
            defaults={
                "fingerprint": connection.fingerprint,
                "checked_at": now,
                "error_code": code,
                "error_message": exc.message[:ERROR_MESSAGE_MAX],
            },
        )
        logger.warning("connection %s: identity check failed: %s", connection.name, code)
        return status
    status, _ = ConnectionStatus.objects.update_or_create(
        name=connection.name,
        defaults={
            "fingerprint": connection.fingerprint,
            "checked_at": now,
            "account": identity.account[:12],
            "caller_arn": identity.arn[:2048],
            "identified_at": now,
            "error_code": "",
            "error_message": "",
        },
    )
    logger.info("connection %s: account %s (%s)", connection.name, identity.account, identity.arn)
    return status
