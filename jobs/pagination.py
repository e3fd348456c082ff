"""Keyset pagination behind our own opaque, signed page tokens.

A page token is a cursor: the sort key of the row it starts after, which way to go (next or
previous), and a hash of the filter and sort it belongs to, signed with `django.core.signing`
(its own salt) and timestamped so it expires. A page is then one indexed range scan:

    WHERE (created_at, arn) < (%s, %s) ORDER BY created_at DESC, arn DESC LIMIT size + 1

whatever the depth: no OFFSET, no COUNT(*). The extra row says whether there is more. The
previous page runs the same query the other way round and reverses the rows. A row-value
comparison is what PostgreSQL turns into an index condition; Django expands it for backends
without row values.

Generic over the queryset: import jobs and imported models page the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import TupleGreaterThan, TupleLessThan

SALT = "jobs.pagination.page-token"
# Long enough for a person reading through pages over a working day; a bookmarked token older
# than this gets a 400 with a link to page one instead of a page from a stale cursor.
TOKEN_MAX_AGE = dt.timedelta(hours=12)
DEFAULT_KEYS = ("created_at", "arn")
NEXT, PREV = "next", "prev"
# Far above any token we write (a key of a datetime, an ARN and a scope: ~300 characters).
MAX_TOKEN_LENGTH = 4096


class PageTokenError(Exception):
    """The `page` parameter cannot be used. Subclasses say why, for the 400 page."""

    title = "This page link cannot be used"
    explanation = "The page link is not valid."

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.explanation)
        self.detail = detail


class TamperedPageToken(PageTokenError):
    title = "This page link is damaged"
    explanation = (
        "The page token in the address was changed or cut short, so it no longer carries our "
        "signature. Page links are only valid exactly as the dashboard wrote them."
    )


class ExpiredPageToken(PageTokenError):
    title = "This page link has expired"
    explanation = (
        "Page links stay valid for {hours} hours, and this one is older. The jobs may have "
        "changed since; start again from the first page."
    )

    def __init__(self, detail: str = "", *, max_age: dt.timedelta = TOKEN_MAX_AGE) -> None:
        super().__init__(detail)
        self.explanation = self.explanation.format(hours=round(max_age.total_seconds() / 3600))


class MismatchedPageToken(PageTokenError):
    title = "This page link belongs to other filters"
    explanation = (
        "The page token was made for a different filter or sort order than the one in the "
        "address, so it cannot say where this page starts."
    )


def page_scope(kind: str, params: Mapping[str, Any]) -> str:
    """A short hash of what a token is valid for: the list (`kind`) and its normalised filter
    and sort. Normalise first (sorted lists, no empty values) so equal filters hash equal."""
    canonical = json.dumps([kind, params], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Cursor:
    key: tuple[Any, ...]
    direction: str  # NEXT: rows after `key` in display order; PREV: rows before it


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, str | int):
        return value
    raise TypeError(f"cannot put a {type(value).__name__} in a page token")


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        return dt.datetime.fromisoformat(value["t"])
    if isinstance(value, str | int):
        return value
    raise ValueError("unexpected value in page token")


def token_encode(*, key: Sequence[Any], direction: str, scope: str) -> str:
    if direction not in (NEXT, PREV):
        raise ValueError(f"direction must be {NEXT!r} or {PREV!r}")
    payload = {"k": [_encode_value(v) for v in key], "d": direction[0], "s": scope}
    return signing.dumps(payload, salt=SALT, compress=True)


def token_decode(token: str, *, scope: str, max_age: dt.timedelta = TOKEN_MAX_AGE) -> Cursor:
    """The cursor in `token`, or a PageTokenError saying why it cannot be used."""
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        # Ours are a few hundred characters; a long one could unpack to anything.
        raise TamperedPageToken("not a token the dashboard wrote")
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise ExpiredPageToken(str(exc), max_age=max_age) from exc
    except (signing.BadSignature, ValueError) as exc:
        # ValueError: a signature that checks out over bytes that do not decompress or parse.
        raise TamperedPageToken(str(exc)) from exc
    try:
        key = tuple(_decode_value(v) for v in payload["k"])
        direction = {"n": NEXT, "p": PREV}[payload["d"]]
        token_scope = payload["s"]
    except (KeyError, TypeError, ValueError) as exc:
        raise TamperedPageToken("unexpected token contents") from exc
    if token_scope != scope:
        raise MismatchedPageToken(f"token scope {token_scope} is not {scope}")
    return Cursor(key=key, direction=direction)


# The widest integer a key column holds (PostgreSQL's bigint).
BIGINT = 2**63


def _fits(field: models.Field | None, value: Any) -> bool:
    """Whether `value` is what `field` holds: a cursor must be a row's own key."""
    if isinstance(field, models.DateTimeField):
        return (
            isinstance(value, dt.datetime)
            and value.tzinfo is not None
            and dt.datetime.min.replace(tzinfo=dt.UTC) + dt.timedelta(days=2)
            <= value
            <= dt.datetime.max.replace(tzinfo=dt.UTC) - dt.timedelta(days=2)
        )
    if isinstance(field, models.IntegerField | models.AutoField):
        return isinstance(value, int) and not isinstance(value, bool) and -BIGINT <= value < BIGINT
    if isinstance(field, models.CharField | models.TextField):
        limit = field.max_length or 10_000
        if not isinstance(value, str) or len(value) > limit or "\x00" in value:
            return False
        try:
            value.encode("utf-8")  # a lone surrogate does not encode
        except UnicodeEncodeError:
            return False
        return True
    return False


def check_key(model: type[models.Model], keys: Sequence[str], key: tuple[Any, ...]) -> None:
    """A decoded cursor's key has the shape of `keys` on `model`, or TamperedPageToken: a
    token signed with the right key (the public development key, say) but written by hand
    must not reach the query."""
    if len(key) != len(keys):
        raise TamperedPageToken(f"a key of {len(key)} values for {len(keys)} columns")
    for name, value in zip(keys, key, strict=True):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        if not _fits(field, value):
            raise TamperedPageToken(f"an unexpected value for {name} in the page token")


@dataclass
class KeysetPage[T]:
    items: list[T]
    next_token: str | None
    prev_token: str | None

    @property
    def has_next(self) -> bool:
        return self.next_token is not None

    @property
    def has_prev(self) -> bool:
        return self.prev_token is not None

    @property
    def is_first(self) -> bool:
        return self.prev_token is None


def keyset_page(
    queryset: QuerySet,
    *,
    size: int,
    token: str | None,
    scope: str,
    descending: bool = True,
    keys: Sequence[str] = DEFAULT_KEYS,
    max_age: dt.timedelta = TOKEN_MAX_AGE,
) -> KeysetPage:
    """One page of `queryset` ordered by `keys` (together unique), starting where `token`
    says. Raises PageTokenError for a token that is tampered, expired or for another scope.

    One query reading at most size + 1 rows through the keys' index; a second only when going
    back finds nothing before the cursor (its rows were deleted), to show page one instead.
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    cursor = token_decode(token, scope=scope, max_age=max_age) if token else None
    if cursor is not None:
        check_key(queryset.model, keys, cursor.key)
    forward = [f"-{k}" if descending else k for k in keys]
    backward = [k if descending else f"-{k}" for k in keys]

    def key_of(item: Any) -> tuple[Any, ...]:
        return tuple(getattr(item, k) for k in keys)

    def page(items: list, *, more_after: bool, more_before: bool, anchor=None) -> KeysetPage:
        next_token = prev_token = None
        if more_after and items:
            next_token = token_encode(key=key_of(items[-1]), direction=NEXT, scope=scope)
        if more_before:
            start = key_of(items[0]) if items else anchor
            if start is not None:
                prev_token = token_encode(key=start, direction=PREV, scope=scope)
        return KeysetPage(items=items, next_token=next_token, prev_token=prev_token)

    if cursor is None:
        rows = list(queryset.order_by(*forward)[: size + 1])
        return page(rows[:size], more_after=len(rows) > size, more_before=False)

    columns = tuple(F(k) for k in keys)
    if descending:
        after, before = TupleLessThan, TupleGreaterThan
    else:
        after, before = TupleGreaterThan, TupleLessThan
    if cursor.direction == NEXT:
        rows = list(queryset.filter(after(columns, cursor.key)).order_by(*forward)[: size + 1])
        # The cursor's own row came before; if it is gone, going back still lands on page one.
        return page(rows[:size], more_after=len(rows) > size, more_before=True, anchor=cursor.key)

    rows = list(queryset.filter(before(columns, cursor.key)).order_by(*backward)[: size + 1])
    if rows:
        # Fewer than a full page before the cursor: this is page one. It stays short rather
        # than repeat rows from the page the person came from ("First" gives a full one).
        return page(rows[:size][::-1], more_after=True, more_before=len(rows) > size)
    # Nothing before the cursor any more (those rows were deleted): show page one as it is.
    return keyset_page(
        queryset, size=size, token=None, scope=scope, descending=descending, keys=keys
    )
