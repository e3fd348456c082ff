"""A violation of the contract (jobs.bedrock.contract): where in the request, what, in
words for people and as AWS words it; and the request paths violations use."""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple


class _Violation(NamedTuple):
    path: str
    message: str


NO_VALUE: Any = object()


class Violation(_Violation):
    """One thing wrong with a request: where (``path``, ours: ``a.b[0]``) and what, in words
    meant for people (``message``: what forms show). Compares and unpacks as (path, message).

    It also carries the same violation as AWS words it, for the wire format of a
    ValidationException (``aws_validation_message``): ``constraint`` ("Member must satisfy
    regular expression pattern: ...", default "Member " + message) and ``value`` (the value
    found, if any).
    """

    constraint: str = ""
    value: Any = NO_VALUE

    def __new__(
        cls, path: str, message: str, *, constraint: str = "", value: Any = NO_VALUE
    ) -> Violation:
        self = super().__new__(cls, path, message)
        if constraint:
            self.constraint = constraint
        if value is not NO_VALUE:
            self.value = value
        return self


PATH_TOKEN = re.compile(r'(\.?)([^.\[\]"]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def path_tokens(path: str) -> list[tuple[str, str | int]]:
    tokens: list[tuple[str, str | int]] = []
    position = 0
    while position < len(path):
        match = PATH_TOKEN.match(path, position)
        if match is None:
            raise KeyError(path)
        dot, name, index, key = match.groups()
        if name is not None:
            # Members are separated by dots; only the first one has none.
            if bool(dot) != bool(tokens):
                raise KeyError(path)
            tokens.append(("member", name))
        elif index is not None:
            tokens.append(("index", int(index)))
        else:
            tokens.append(("key", json.loads(key)))
        position = match.end()
    return tokens
