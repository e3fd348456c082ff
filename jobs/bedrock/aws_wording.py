"""Violations as AWS words them in a ValidationException ("1 validation error detected:
Value ... at '...' failed to satisfy constraint: ..."), for the local Bedrock's answers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jobs.bedrock.violations import NO_VALUE, Violation, path_tokens


def aws_validation_message(violations: list[Violation], request: Any = None) -> str:
    """A ValidationException message as AWS writes one: ``1 validation error detected: Value
    'x' at 'jobName' failed to satisfy constraint: Member must satisfy regular expression
    pattern: ...``, or ``N validation errors detected: ...; ...``, one clause per violation.
    Paths are AWS's (``aws_path``); a violation without its value takes it from `request`."""
    clauses = []
    for v in violations:
        value = v.value
        if value is NO_VALUE:
            value = _value_at(request, v.path)
        shown = "" if value is NO_VALUE else f"Value {_aws_value(value)} "
        constraint = v.constraint or f"Member {v.message}"
        clauses.append(
            f"{shown}at '{aws_path(v.path) or 'request'}' failed to satisfy constraint: "
            f"{constraint}"
        )
    count = len(clauses)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(clauses)


def aws_path(path: str) -> str:
    """Our path as AWS writes member paths: list items 1-based as ``.N.member``
    (``models[0].bedrockModel`` -> ``models.1.member.bedrockModel``), map entries ``.key``."""
    out = []
    for kind, token in path_tokens(path):
        if kind == "member":
            out.append(f".{token}" if out else str(token))
        elif kind == "index":
            out.append(f".{int(token) + 1}.member")
        else:
            out.append(f".{token}")
    return "".join(out)


def _aws_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, default=str, ensure_ascii=False, separators=(", ", "="))
        except (TypeError, ValueError):
            text = repr(value)
    if len(text) > 200:
        text = text[:200] + "..."
    return f"'{text}'"


def _value_at(request: Any, path: str) -> Any:
    value = request
    if value is None:
        return NO_VALUE
    try:
        tokens = path_tokens(path)
    except KeyError:
        return NO_VALUE
    for kind, token in tokens:
        if kind == "index":
            if not isinstance(value, (list, tuple)) or not 0 <= int(token) < len(value):
                return NO_VALUE
            value = value[int(token)]
        elif isinstance(value, Mapping) and token in value:
            value = value[token]
        else:
            return NO_VALUE
    return value
