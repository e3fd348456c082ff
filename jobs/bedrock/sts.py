"""The STS side of the gateway: who a connection's credentials are. One function per operation,
`sts_<verb>`, through the same client settings, retries and error mapping as Bedrock (client.py,
errors.py). Assuming a connection's role is not here: botocore does it inside the connection's
session (client.py), refreshing the credentials before they expire.

GetCallerIdentity needs no IAM permission: any valid credentials may ask who they are.
https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
"""

from __future__ import annotations

from dataclasses import dataclass

from jobs.bedrock.client import _call, get_client
from jobs.connections import Connection


@dataclass(frozen=True)
class CallerIdentity:
    """What STS says the credentials are: the account (the connection's account is learned
    here, never taken from its configuration), the caller's ARN (for a role:
    arn:aws:sts::<account>:assumed-role/<role>/<session>) and its unique id."""

    account: str
    arn: str
    user_id: str


def sts_get_caller_identity(
    *, connection: Connection | None = None, timeout: float | None = None
) -> CallerIdentity:
    """GetCallerIdentity with the connection's credentials (for a role: after assuming it).
    `timeout`: seconds to connect and to read, with one retry, for a caller that waits (a
    page's button); None keeps the settings' timeouts and retries."""
    overrides = (
        {"max_attempts": 2, "connect_timeout": timeout, "read_timeout": timeout}
        if timeout is not None
        else {}
    )
    client = get_client("sts", connection=connection, **overrides)
    response = _call("get_caller_identity", client=client)
    return CallerIdentity(
        account=response.get("Account", ""),
        arn=response.get("Arn", ""),
        user_id=response.get("UserId", ""),
    )
