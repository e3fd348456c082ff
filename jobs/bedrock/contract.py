"""Validate Bedrock requests against botocore's service model for ``bedrock``.

Every rule (required and unknown members, types, lengths, item counts, numeric ranges,
patterns, enums, unions) is read from the model botocore ships, so upgrading botocore
updates the contract. botocore's client-side validation checks only members, types,
minimums and unions; maximums, patterns and enums are enforced by Bedrock itself. This
module enforces all of them before a request leaves (forms) or when one arrives (the local
Bedrock), with messages meant for people.

Conventions:
- Paths: ``a.b``, ``a[0]``, ``a["key"]`` (map entries); the request root is ``""``.
- A member whose value is ``None`` counts as not set (JSON ``null`` from forms and HTTP
  bodies means "absent"; boto3 callers strip ``None`` before sending).
- One violation per value and rule; a value of the wrong type is not looked into.
- Map entries are checked at ``name["key"]``: the key's own violations there too, as
  "key must ...", and a null map value is a violation.
- Violations come in model member order; unknown members after the known ones.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from botocore.loaders import Loader
from botocore.model import (
    ListShape,
    MapShape,
    NoShapeFoundError,
    OperationNotFoundError,
    ServiceModel,
    Shape,
    StructureShape,
)

from jobs.bedrock.aws_wording import aws_path, aws_validation_message
from jobs.bedrock.patterns import compile_pattern
from jobs.bedrock.violations import Violation, path_tokens

__all__ = [
    "EXTRA_ENUM_VALUES",
    "Violation",
    "aws_path",
    "aws_validation_message",
    "compile_pattern",
    "enum_values",
    "service_model",
    "shape_for_path",
    "validate",
    "validate_shape",
]


# Values AWS is known to accept beyond a model's enum. botocore's model is the contract; a
# value here is one the service accepts (and sends back) although the model's enum does not
# list it. Read by the contract (input and output), the forms' choices and the local Bedrock.
# - EvaluationTaskType "General": the LLM-as-a-judge and RAG examples send it, and real jobs
#   write taskTypes/General/ in their output; the shape's pattern [A-Za-z0-9]+ allows it.
#   https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-judge-create.html
#   https://docs.aws.amazon.com/bedrock/latest/userguide/knowledge-base-evaluation-create-randg.html
EXTRA_ENUM_VALUES: dict[str, tuple[str, ...]] = {
    "EvaluationTaskType": ("General",),
}


def enum_values(shape: str | Shape) -> tuple[str, ...]:
    """A string shape's enum as the service accepts it: the model's values, then the
    EXTRA_ENUM_VALUES of that shape; () for a shape without an enum."""
    if isinstance(shape, str):
        shape = service_model().shape_for(shape)
    enum = tuple(shape.metadata.get("enum") or ())
    if not enum:
        return ()
    return enum + tuple(v for v in EXTRA_ENUM_VALUES.get(shape.name, ()) if v not in enum)


# A compiled check appends what is wrong with `value` (found at `path`) to `out`.
_Check = Callable[[Any, str, list[Violation]], None]

# Smithy's integer and long are 32- and 64-bit; Bedrock rejects anything wider even where
# the model sets no explicit range.
_INT_RANGES = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


@functools.cache
def service_model() -> ServiceModel:
    # Only botocore's bundled data: ~/.aws/models or AWS_DATA_PATH must not change the contract.
    loader = Loader(
        include_default_search_paths=False, extra_search_paths=[Loader.BUILTIN_DATA_PATH]
    )
    return ServiceModel(loader.load_service_model("bedrock", "service-2"), service_name="bedrock")


def validate(operation_name: str, params: dict) -> list[Violation]:
    """Violations of `params` (boto3 kwargs) for `operation_name`; KeyError if no such operation."""
    shape = _operation(operation_name).input_shape
    if shape is None:
        return [
            Violation(key, "is not a known member")
            for key, item in params.items()
            if item is not None
        ]
    return validate_shape(shape, params)


def validate_shape(shape: str | Shape, value: Any, path: str = "") -> list[Violation]:
    """Violations of `value` against a bedrock shape (or its name), paths prefixed with `path`."""
    name = shape if isinstance(shape, str) else shape.name
    out: list[Violation] = []
    _checker(name)(value, path, out)
    return out


def shape_for_path(operation_name: str, path: str) -> Shape:
    """Shape at `path` in the operation's input, e.g. ``"evaluationConfig.automated"``.

    Any index (``[3]``) selects a list's member shape, any key (``["k"]``) a map's value
    shape. KeyError if the operation or the path does not exist.
    """
    shape = _operation(operation_name).input_shape
    if shape is None:
        raise KeyError(path)
    for kind, token in path_tokens(path):
        if kind == "member" and isinstance(shape, StructureShape) and token in shape.members:
            shape = shape.members[token]
        elif kind == "index" and isinstance(shape, ListShape):
            shape = shape.member
        elif kind == "key" and isinstance(shape, MapShape):
            shape = shape.value
        else:
            raise KeyError(path)
    return shape


# --- compiled checks, one per shape name --------------------------------------------------


@functools.cache
def _checker(shape_name: str) -> _Check:
    try:
        shape = service_model().shape_for(shape_name)
    except NoShapeFoundError:
        raise KeyError(shape_name) from None
    if getattr(shape, "is_document_type", False):
        return _document_check
    builder = _BUILDERS.get(shape.type_name)
    if builder is None:
        raise KeyError(f"{shape_name}: unsupported shape type {shape.type_name!r}")
    return builder(shape)


def _structure_check(shape: Shape) -> _Check:
    assert isinstance(shape, StructureShape)
    # Target names, not checks: the check is looked up at call time so recursive shapes
    # (RetrievalFilter.andAll -> RetrievalFilter) don't recurse while being built.
    members = {name: member.name for name, member in shape.members.items()}
    required = frozenset(shape.required_members)
    union = bool(shape.metadata.get("union"))
    union_message = "must set exactly one of: " + ", ".join(members)

    def check(value: Any, path: str, out: list[Violation]) -> None:
        if not isinstance(value, Mapping):
            out.append(Violation(path, "must be an object"))
            return
        if union:
            chosen = [name for name in members if value.get(name) is not None]
            if len(chosen) != 1:
                out.append(Violation(path, union_message))
            else:
                name = chosen[0]
                _checker(members[name])(value[name], _join(path, name), out)
        else:
            for name, target in members.items():
                item = value.get(name)
                if item is not None:
                    _checker(target)(item, _join(path, name), out)
                elif name in required:
                    out.append(
                        Violation(
                            _join(path, name),
                            "is required",
                            constraint="Member must not be null",
                            value=None,
                        )
                    )
        for key, item in value.items():
            if key not in members and item is not None:
                out.append(Violation(_join(path, str(key)), "is not a known member"))

    return check


def _list_check(shape: Shape) -> _Check:
    assert isinstance(shape, ListShape)
    target = shape.member.name
    counted = _count_check(shape)

    def check(value: Any, path: str, out: list[Violation]) -> None:
        if not isinstance(value, (list, tuple)):
            out.append(Violation(path, "must be a list"))
            return
        counted(len(value), path, out)
        item_check = _checker(target)
        for index, item in enumerate(value):
            item_check(item, f"{path}[{index}]", out)

    return check


def _map_check(shape: Shape) -> _Check:
    assert isinstance(shape, MapShape)
    key_target, value_target = shape.key.name, shape.value.name
    counted = _count_check(shape)

    def check(value: Any, path: str, out: list[Violation]) -> None:
        if not isinstance(value, Mapping):
            out.append(Violation(path, "must be an object"))
            return
        counted(len(value), path, out)
        key_check, value_check = _checker(key_target), _checker(value_target)
        for key, item in value.items():
            label = json.dumps(key, ensure_ascii=False) if isinstance(key, str) else repr(key)
            entry = f"{path}[{label}]"
            # A key has no path of its own: its violations sit on the entry, marked "key".
            key_out: list[Violation] = []
            key_check(key, entry, key_out)
            out.extend(Violation(entry, f"key {v.message}") for v in key_out)
            if item is None:
                out.append(Violation(entry, "must not be null"))
            else:
                value_check(item, entry, out)

    return check


def _count_check(shape: Shape) -> Callable[[int, str, list[Violation]], None]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")

    def check(count: int, path: str, out: list[Violation]) -> None:
        if low is not None and count < low:
            out.append(
                Violation(
                    path,
                    f"must have at least {low} items",
                    constraint=f"Member must have length greater than or equal to {low}",
                )
            )
        if high is not None and count > high:
            out.append(
                Violation(
                    path,
                    f"must have at most {high} items",
                    constraint=f"Member must have length less than or equal to {high}",
                )
            )

    return check


def _string_check(shape: Shape) -> _Check:
    meta = shape.metadata
    enum = meta.get("enum")
    if enum:
        # Every enum value in the model satisfies its shape's length and pattern (a test
        # checks this), so a non-member gets the one message that says what is allowed.
        # The message lists the model's values only: an EXTRA_ENUM_VALUES value is accepted,
        # not advertised.
        values = enum_values(shape)
        allowed = frozenset(values)
        enum_message = "must be one of: " + ", ".join(enum)
        enum_constraint = "Member must satisfy enum value set: [" + ", ".join(enum) + "]"

        def check_enum(value: Any, path: str, out: list[Violation]) -> None:
            if not isinstance(value, str):
                out.append(Violation(path, "must be a string", value=value))
            elif value not in allowed:
                out.append(Violation(path, enum_message, constraint=enum_constraint, value=value))

        return check_enum

    low, high = meta.get("min"), meta.get("max")
    pattern = meta.get("pattern")
    regex = compile_pattern(pattern) if pattern is not None else None

    def check(value: Any, path: str, out: list[Violation]) -> None:
        if not isinstance(value, str):
            out.append(Violation(path, "must be a string", value=value))
            return
        # Smithy lengths count Unicode code points, as len() does.
        if low is not None and len(value) < low:
            out.append(
                Violation(
                    path,
                    f"must be at least {low} characters",
                    constraint=f"Member must have length greater than or equal to {low}",
                    value=value,
                )
            )
        if high is not None and len(value) > high:
            out.append(
                Violation(
                    path,
                    f"must be at most {high} characters",
                    constraint=f"Member must have length less than or equal to {high}",
                    value=value,
                )
            )
        if regex is not None and regex.fullmatch(value) is None:
            out.append(
                Violation(
                    path,
                    f"must match {pattern}",
                    constraint=f"Member must satisfy regular expression pattern: {pattern}",
                    value=value,
                )
            )

    return check


def _number_check(shape: Shape) -> _Check:
    integral = shape.type_name in _INT_RANGES
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    floor, ceiling = _INT_RANGES.get(shape.type_name, (None, None))
    type_message = "must be an integer" if integral else "must be a number"

    def check(value: Any, path: str, out: list[Violation]) -> None:
        if isinstance(value, bool) or not isinstance(
            value, int if integral else (int, float, decimal.Decimal)
        ):
            out.append(Violation(path, type_message))
            return
        if not integral and not math.isfinite(value):
            out.append(Violation(path, "must be a finite number"))
            return
        bottom = _number(low) if low is not None else floor
        if bottom is not None and value < (low if low is not None else floor):
            out.append(
                Violation(
                    path,
                    f"must be at least {bottom}",
                    constraint=f"Member must have value greater than or equal to {bottom}",
                    value=value,
                )
            )
        top = _number(high) if high is not None else ceiling
        if top is not None and value > (high if high is not None else ceiling):
            out.append(
                Violation(
                    path,
                    f"must be at most {top}",
                    constraint=f"Member must have value less than or equal to {top}",
                    value=value,
                )
            )

    return check


def _boolean_check(shape: Shape) -> _Check:
    def check(value: Any, path: str, out: list[Violation]) -> None:
        if not isinstance(value, bool):
            out.append(Violation(path, "must be a boolean"))

    return check


def _timestamp_check(shape: Shape) -> _Check:
    def check(value: Any, path: str, out: list[Violation]) -> None:
        if isinstance(value, dt.datetime):
            return
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.isfinite(value):  # seconds since the epoch, as boto3 accepts
                return
        elif isinstance(value, str):
            try:
                dt.datetime.fromisoformat(value)
                return
            except ValueError:
                pass
        out.append(Violation(path, "must be a timestamp"))

    return check


def _blob_check(shape: Shape) -> _Check:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")

    def check(value: Any, path: str, out: list[Violation]) -> None:
        if isinstance(value, str):
            size = len(value.encode())  # boto3 sends a str blob as its UTF-8 bytes
        elif isinstance(value, (bytes, bytearray, memoryview)):
            size = len(value)
        elif hasattr(value, "read"):
            return  # a file-like body: its size is only known when it is sent
        else:
            out.append(Violation(path, "must be bytes"))
            return
        if low is not None and size < low:
            out.append(Violation(path, f"must be at least {low} bytes"))
        if high is not None and size > high:
            out.append(Violation(path, f"must be at most {high} bytes"))

    return check


def _document_check(value: Any, path: str, out: list[Violation]) -> None:
    # Document shapes (e.g. FilterValue) take any JSON value.
    if not _is_json(value):
        out.append(Violation(path, "must be a JSON value"))


def _is_json(value: Any) -> bool:
    if value is None or isinstance(value, (bool, str)):
        return True
    if isinstance(value, (int, float, decimal.Decimal)):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_is_json(item) for item in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


_BUILDERS: dict[str, Callable[[Shape], _Check]] = {
    "structure": _structure_check,
    "list": _list_check,
    "map": _map_check,
    "string": _string_check,
    "integer": _number_check,
    "long": _number_check,
    "float": _number_check,
    "double": _number_check,
    "bigdecimal": _number_check,
    "boolean": _boolean_check,
    "timestamp": _timestamp_check,
    "blob": _blob_check,
}


# --- helpers --------------------------------------------------------------------------------


def _operation(operation_name: str):
    try:
        return service_model().operation_model(operation_name)
    except OperationNotFoundError:
        raise KeyError(operation_name) from None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _number(bound: int | float) -> str:
    return str(int(bound)) if isinstance(bound, float) and bound.is_integer() else str(bound)
