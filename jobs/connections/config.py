"""Connections: the accounts × regions the dashboard reads and writes, and how it gets
credentials for each. Declared in a TOML file named by `DASHBOARD_CONNECTIONS`, one table per
connection (like the AWS CLI's config file, one section per profile):

    [dev]
    region = "eu-west-1"
    profile = "dev"                       # a profile in the shared config/credentials files

    [prod]
    region = "us-east-1"
    role_arn = "arn:aws:iam::210987654321:role/BedrockDashboard"
    external_id = "…"                     # optional, as the role's trust policy demands
    role_session_name = "bedrock-dashboard"  # optional

    [local]
    region = "us-west-2"                  # no profile, no role: boto3's default chain
    bedrock_endpoint_url = "http://127.0.0.1:4599"

The file holds no secrets (keys that look like credentials are refused): the secrets stay where
boto3 finds them, and the role's temporary credentials live only in the process's memory. With
no file there is exactly one connection, `default`, built from the plain settings
(AWS_REGION, BEDROCK_ENDPOINT_URL, S3_ENDPOINT_URL, STS_ENDPOINT_URL), as before connections.

This module is pure configuration: no boto3 (that is jobs/bedrock/), no database.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

CredentialsKind = Literal["default", "profile", "role"]

DEFAULT_NAME = "default"
DEFAULT_SESSION_NAME = "bedrock-dashboard"
SERVICES = ("bedrock", "s3", "sts")

# Connection names appear in URLs, task arguments and lock names: short and plain.
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")
# An IAM role ARN in any partition: arn:<partition>:iam::<account>:role/<path/>name
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).
ROLE_ARN = re.compile(
    r"arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/([\w+=,.@-]+/)*[\w+=,.@-]{1,64}", re.ASCII
)
# STS AssumeRole's own patterns and lengths for these members.
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
PROFILE = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
DURATION = (900, 43_200)

STRING_KEYS = {
    "region",
    "profile",
    "role_arn",
    "external_id",
    "role_session_name",
    "source_profile",
    "bedrock_endpoint_url",
    "s3_endpoint_url",
    "sts_endpoint_url",
}
KEYS = STRING_KEYS | {"duration_seconds"}
ROLE_ONLY_KEYS = ("external_id", "role_session_name", "source_profile", "duration_seconds")
SECRET_KEYS = {"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "password"}


@dataclass(frozen=True, kw_only=True)
class Connection:
    """One account × region and how to get its credentials: boto3's default chain, a named
    profile, or a role to assume (from the default chain or `source_profile`). Hashable, so
    the gateway keeps one boto3 session and its clients per connection."""

    name: str
    region: str
    profile: str = ""
    role_arn: str = ""
    # Not a secret in AWS's sense, but nothing anyone needs to read: kept out of repr and pages.
    external_id: str = field(default="", repr=False)
    role_session_name: str = DEFAULT_SESSION_NAME
    source_profile: str = ""
    duration_seconds: int | None = None
    bedrock_endpoint_url: str | None = None
    s3_endpoint_url: str | None = None
    sts_endpoint_url: str | None = None
    # Where it was declared (0: built from settings); not part of its identity.
    line: int = field(default=0, compare=False)

    @property
    def credentials_kind(self) -> CredentialsKind:
        if self.role_arn:
            return "role"
        if self.profile:
            return "profile"
        return "default"

    @property
    def credentials_label(self) -> str:
        """How credentials are found, for people: never a secret."""
        if self.role_arn:
            via = f" (from profile {self.source_profile})" if self.source_profile else ""
            return f"assume role {self.role_arn}{via}"
        if self.profile:
            return f"profile {self.profile}"
        return "default credential chain"

    @property
    def role_account(self) -> str:
        """The account the role ARN names ("" without a role): what the file claims, which
        the identity check confirms or not."""
        return self.role_arn.split(":")[4] if self.role_arn else ""

    def endpoint_url(self, service: str) -> str | None:
        """The endpoint override for `service` (bedrock, s3, sts); None: AWS's own."""
        if service not in SERVICES:
            return None
        return getattr(self, f"{service}_endpoint_url")

    @property
    def endpoints(self) -> dict[str, str | None]:
        return {service: self.endpoint_url(service) for service in SERVICES}

    @property
    def fingerprint(self) -> str:
        """A digest of what decides which identity the connection gets: an identity recorded
        under another fingerprint may no longer be this connection's."""
        parts = [
            self.region,
            self.profile,
            self.role_arn,
            self.external_id,
            self.role_session_name if self.role_arn else "",
            self.source_profile,
            self.sts_endpoint_url or "",
        ]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class ConnectionsFileError(ImproperlyConfigured):
    """The connections file is missing, not TOML, or has entries we refuse. `problems` are
    (line, message) pairs; line 0 is the file as a whole."""

    def __init__(self, path: Path | str, problems: list[tuple[int, str]]) -> None:
        self.path = str(path)
        self.problems = sorted(problems)
        lines = [
            f"{self.path}:{line}: {message}" if line else f"{self.path}: {message}"
            for line, message in self.problems
        ]
        super().__init__("Bad connections file (DASHBOARD_CONNECTIONS):\n  " + "\n  ".join(lines))


class UnknownConnection(LookupError):
    """No connection has this name."""


# --- Reading the file -----------------------------------------------------------------------

_HEADER = re.compile(r"""\s*\[\s*(?P<key>"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*\]\s*(#.*)?""")
_KEY = re.compile(r"""\s*(?P<key>"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*(?P<sep>[=.])""")
_SUBKEY = re.compile(r"""\.\s*(?P<key>"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")


def _unquote(key: str) -> str:
    if key[:1] in "\"'":
        return key[1:-1]
    return key


def _line_index(text: str) -> dict[tuple[str, str], int]:
    """Where each table and key was written: {(table, ""): line, (table, key): line}. tomllib
    gives no positions, so this reads the (already valid) text for the usual forms: [name]
    headers, `key = value` in a table, `name.key = value` at the top; anything fancier falls
    back to its table's line."""
    index: dict[tuple[str, str], int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.fullmatch(line)
        if header:
            table = _unquote(header["key"])
            index.setdefault((table, ""), number)
            continue
        if line.lstrip().startswith("["):
            table = "\0"  # a header we do not follow (dotted, array of tables)
            continue
        key = _KEY.match(line)
        if not key or table == "\0":
            continue
        name = _unquote(key["key"])
        if table:
            index.setdefault((table, name), number)
        elif key["sep"] == "=":
            index.setdefault((name, ""), number)  # name = { inline table } or a stray key
        else:
            index.setdefault((name, ""), number)
            sub = _SUBKEY.match(line, key.end() - 1)
            if sub:
                index.setdefault((name, _unquote(sub["key"])), number)
    return index


def _valid_url(value: str) -> str:
    """Why `value` is not an endpoint URL we accept ("" when it is)."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        return f"is not a URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL with a host"
    if parts.username or parts.password:
        # Credentials never belong in this file, not even in a URL.
        return "must not carry a user name or password"
    if parts.query or parts.fragment:
        return "must not have a query or fragment"
    if port == 0:
        return "has port 0"
    return ""


def _entry(
    name: str, entry: Any, where: dict[tuple[str, str], int]
) -> tuple[Connection | None, list[tuple[int, str]]]:
    line = where.get((name, ""), 0)
    problems: list[tuple[int, str]] = []

    def at(key: str) -> int:
        return where.get((name, key), line)

    if not isinstance(entry, dict):
        return None, [
            (line, f"{name!r} must be a table ([{name}] with its keys below), not a single value")
        ]
    if not NAME.fullmatch(name):
        problems.append(
            (
                line,
                f"connection name {name!r} must be 1-40 characters of a-z, 0-9, '-' and '_', "
                "starting with a letter or digit",
            )
        )
    values: dict[str, Any] = {}
    for key, value in entry.items():
        if key.lower() in SECRET_KEYS:
            problems.append(
                (
                    at(key),
                    f"[{name}] {key}: credentials do not belong in this file; use a profile "
                    "(shared credentials file), a role, or boto3's default chain",
                )
            )
            continue
        if key not in KEYS:
            close = difflib.get_close_matches(key, sorted(KEYS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                (at(key), f"[{name}] unknown key {key!r}{hint}; known: {', '.join(sorted(KEYS))}")
            )
            continue
        if key == "duration_seconds":
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append((at(key), f"[{name}] duration_seconds must be a whole number"))
            elif not DURATION[0] <= value <= DURATION[1]:
                problems.append(
                    (at(key), f"[{name}] duration_seconds must be {DURATION[0]}-{DURATION[1]}")
                )
            else:
                values[key] = value
            continue
        if not isinstance(value, str):
            problems.append((at(key), f"[{name}] {key} must be a string"))
            continue
        value = value.strip()
        if not value:
            problems.append((at(key), f"[{name}] {key} is empty (leave it out instead)"))
            continue
        values[key] = value

    region = values.get("region")
    if "region" not in entry:
        problems.append((line, f'[{name}] has no region (e.g. region = "us-east-1")'))
    elif region is not None and not REGION.fullmatch(region):
        problems.append((at("region"), f"[{name}] region {region!r} is not a region name"))
    if "role_arn" in values and not ROLE_ARN.fullmatch(values["role_arn"]):
        problems.append(
            (
                at("role_arn"),
                f"[{name}] role_arn {values['role_arn']!r} is not an IAM role ARN "
                "(arn:aws:iam::123456789012:role/name)",
            )
        )
    if "profile" in values and "role_arn" in values:
        problems.append(
            (
                at("role_arn"),
                f"[{name}] has both profile and role_arn: use profile alone, or role_arn with "
                "source_profile for the credentials that assume it",
            )
        )
    for key in ROLE_ONLY_KEYS:
        if key in entry and "role_arn" not in entry:
            problems.append((at(key), f"[{name}] {key} needs role_arn"))
    for key, pattern in (
        ("profile", PROFILE),
        ("source_profile", PROFILE),
        ("role_session_name", SESSION_NAME),
        ("external_id", EXTERNAL_ID),
    ):
        if key in values and not pattern.fullmatch(values[key]):
            # The value itself is not repeated: an external id is nobody's business.
            shown = "" if key == "external_id" else f" {values[key]!r}"
            problems.append(
                (at(key), f"[{name}] {key}{shown} has characters or a length STS refuses")
            )
    for service in SERVICES:
        key = f"{service}_endpoint_url"
        if key in values:
            why = _valid_url(values[key])
            if why:
                problems.append((at(key), f"[{name}] {key} {why}"))
    if problems:
        return None, problems
    return Connection(name=name, line=line, **values), []


_TOML_AT = re.compile(r"(?P<msg>.*) \(at (?:line (?P<line>\d+), column \d+|end of document)\)")


def _toml_error(exc: tomllib.TOMLDecodeError, text: str) -> tuple[int, str]:
    """(line, message) of tomllib's error: attributes from Python 3.14, the message's
    "(at line N, column M)" suffix before."""
    if hasattr(exc, "lineno") and hasattr(exc, "msg"):
        return exc.lineno, exc.msg
    match = _TOML_AT.fullmatch(str(exc))
    if not match:
        return 0, str(exc)
    line = int(match["line"]) if match["line"] else max(1, len(text.splitlines()))
    return line, match["msg"]


def load_connections(path: str | Path) -> tuple[Connection, ...]:
    """Read and validate a connections file: the connections in file order, or
    ConnectionsFileError naming the file, the line and every problem found."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConnectionsFileError(path, [(0, f"cannot be read ({exc.strerror or exc})")]) from None
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise ConnectionsFileError(path, [(0, "is not UTF-8 text")]) from None
    except tomllib.TOMLDecodeError as exc:
        line, message = _toml_error(exc, text)
        if message.startswith(("Cannot declare", "Cannot overwrite")):
            message += " (a connection name or key given twice)"
        raise ConnectionsFileError(path, [(line, f"not valid TOML: {message}")]) from None
    where = _line_index(text)
    connections: list[Connection] = []
    problems: list[tuple[int, str]] = []
    for name, entry in data.items():
        connection, found = _entry(name, entry, where)
        problems += found
        if connection:
            connections.append(connection)
    if not data:
        problems.append((0, "declares no connection (add a [name] table with a region)"))
    if problems:
        raise ConnectionsFileError(path, problems)
    return tuple(connections)


# --- The connections in use ------------------------------------------------------------------


def settings_connection() -> Connection:
    """The one connection of a dashboard without a connections file, from the plain settings
    (read now, so tests and `override_settings` see their own values)."""
    return Connection(
        name=DEFAULT_NAME,
        region=settings.AWS_REGION,
        bedrock_endpoint_url=settings.BEDROCK_ENDPOINT_URL or None,
        s3_endpoint_url=settings.S3_ENDPOINT_URL or None,
        sts_endpoint_url=settings.STS_ENDPOINT_URL or None,
    )


@lru_cache(maxsize=8)
def _from_file(path: str) -> tuple[Connection, ...]:
    return load_connections(path)


def configured_connections() -> tuple[Connection, ...]:
    """Every connection, in the file's order (the first is the default); without a file, the
    one built from settings. Read once per process (jobs.apps validates it at start)."""
    path = settings.DASHBOARD_CONNECTIONS
    if not path:
        return (settings_connection(),)
    return _from_file(str(path))


def default_connection() -> Connection:
    """The first connection: what a form preselects."""
    return configured_connections()[0]


def connection_named(name: str) -> Connection:
    """The connection called `name`, or UnknownConnection (any string is safe to pass)."""
    if isinstance(name, str) and NAME.fullmatch(name):
        for connection in configured_connections():
            if connection.name == name:
                return connection
    raise UnknownConnection(f"no connection named {str(name)[:60]!r}")


@receiver(setting_changed)
def _forget_file(*, setting: str, **kwargs: Any) -> None:
    if setting == "DASHBOARD_CONNECTIONS":
        _from_file.cache_clear()
