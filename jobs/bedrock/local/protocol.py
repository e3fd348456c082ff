"""Bedrock's REST-JSON wire protocol, driven entirely by botocore's service model.

Routing comes from each operation's ``http.method`` and ``http.requestUri``; request members are
read from their modelled locations (URI label, querystring, header, JSON body) into a dict keyed
exactly like boto3's keyword arguments; responses are written per the output shape.  Nothing
here knows about evaluation jobs: the same code would serve any rest-json service.

Protocol reference: https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from botocore.model import NoShapeFoundError, OperationModel, ServiceModel, Shape

UTC = dt.UTC

# Error codes we may answer that are not modelled as shapes of the service (so their status
# cannot come from the model).  A rest-json service answers malformed JSON with
# SerializationException and an unknown route with UnknownOperationException.
_UNMODELLED_STATUS = {
    "SerializationException": 400,
    "UnknownOperationException": 404,
}


class ServiceError(Exception):
    """An error answered in the service's wire format: x-amzn-ErrorType + {"message": ...}."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int | None = None,
        *,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        # Other members of the error shape (e.g. TooManyTagsException's resourceName).
        self.extra = extra or {}


def error_status(service: ServiceModel, code: str) -> int:
    """The HTTP status the model gives an error code.  Note ConflictException and
    ServiceQuotaExceededException are 400 there, as in the API reference, not 409/402:
    https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateEvaluationJob.html#API_CreateEvaluationJob_Errors"""
    try:
        shape = service.shape_for(code)
    except NoShapeFoundError:
        return _UNMODELLED_STATUS.get(code, 500 if code.startswith("Internal") else 400)
    return int(shape.metadata.get("error", {}).get("httpStatusCode", 400))


def error_response(service: ServiceModel, err: ServiceError) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) for an error.  botocore's rest-json parser takes the code from
    the x-amzn-ErrorType header and the message from the body's "message" key."""
    status = err.status or error_status(service, err.code)
    headers = {"x-amzn-ErrorType": err.code, "Content-Type": "application/json"}
    return status, headers, json.dumps({**err.extra, "message": err.message}).encode()


# --- Routing -------------------------------------------------------------------------------------

_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Route:
    operation: OperationModel
    method: str
    regex: re.Pattern[str]
    labels: tuple[str, ...]
    fixed_query: tuple[tuple[str, str], ...]
    specificity: tuple[int, int]


class Router:
    """Maps (method, raw path) to an operation and its URI labels.

    Matching is done on the raw, still percent-encoded path: botocore encodes a label with
    only ``-._~`` left as is, so an ARN arrives as ``arn%3Aaws%3Abedrock%3A...%2F<id>``;
    decoding first would split it over two path segments.  Each label value is decoded after
    the match.  https://smithy.io/2.0/spec/http-bindings.html#httplabel-trait
    """

    def __init__(self, service: ServiceModel, operation_names: Iterable[str]) -> None:
        routes = [self._route(service.operation_model(name)) for name in operation_names]
        # Literal text beats labels: "/evaluation-jobs/batch-delete" before "/evaluation-jobs/{x}".
        self._routes = sorted(routes, key=lambda r: r.specificity, reverse=True)

    @staticmethod
    def _route(op: OperationModel) -> Route:
        template, _, query = op.http["requestUri"].partition("?")
        pattern, labels, pos, literal = "", [], 0, 0
        for match in _LABEL.finditer(template):
            text = template[pos : match.start()]
            pattern += re.escape(text)
            literal += len(text)
            name = match.group(1)
            greedy = name.endswith("+")
            labels.append(name.rstrip("+"))
            pattern += f"(?P<l{len(labels) - 1}>{'.+' if greedy else '[^/]+'})"
            pos = match.end()
        pattern += re.escape(template[pos:])
        literal += len(template) - pos
        fixed = tuple((k, v) for k, _, v in (p.partition("=") for p in query.split("&") if p))
        return Route(
            operation=op,
            method=op.http["method"].upper(),
            regex=re.compile(pattern + "/?"),
            labels=tuple(labels),
            fixed_query=fixed,
            specificity=(literal, -len(labels)),
        )

    def match(
        self, method: str, raw_path: str, query: Mapping[str, list[str]]
    ) -> tuple[OperationModel, dict[str, str]] | None:
        for route in self._routes:
            if route.method != method.upper():
                continue
            m = route.regex.fullmatch(raw_path)
            if m is None:
                continue
            if any(v not in query.get(k, []) for k, v in route.fixed_query):
                continue
            labels = {name: unquote(m.group(f"l{i}")) for i, name in enumerate(route.labels)}
            return route.operation, labels
        return None


def parse_query(raw_query: str) -> dict[str, list[str]]:
    """Querystring into {name: [values]}.  '+' stays a plus: botocore percent-encodes with
    quote(), not quote_plus(), and AWS reads the querystring the same way."""
    out: dict[str, list[str]] = {}
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        out.setdefault(unquote(key), []).append(unquote(value))
    return out


# --- Timestamps ----------------------------------------------------------------------------------


def parse_timestamp(value: Any) -> dt.datetime:
    """ISO-8601 (what botocore sends in querystrings) or epoch seconds, as an aware datetime."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise ValueError("not a timestamp")
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(float(value), UTC)
    text = str(value).strip()
    try:
        return dt.datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    parsed = dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_iso8601(value: dt.datetime) -> str:
    """Smithy's date-time: RFC 3339, UTC, millisecond precision ("2024-08-22T17:41:23.409Z")."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + f".{value.microsecond // 1000:03d}Z"


def _format_timestamp(value: Any, fmt: str) -> Any:
    if isinstance(value, str):  # already on the wire (cached)
        return value
    if not isinstance(value, dt.datetime):
        value = parse_timestamp(value)
    if fmt == "iso8601":
        return format_iso8601(value)
    if fmt == "rfc822":
        return value.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    return round(value.timestamp(), 3)


# --- Requests ------------------------------------------------------------------------------------


def _scalar_from_text(shape: Shape, text: str, where: str) -> Any:
    """A querystring/header/label string as the member's Python type."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
        if kind == "boolean":
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        if kind == "timestamp":
            return parse_timestamp(text)
        if kind == "blob":
            return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise ServiceError(
            "ValidationException", f"{where}: cannot read {text!r} as {kind}"
        ) from exc
    return text


def _from_wire(shape: Shape, value: Any) -> Any:
    """A JSON body value as boto3 would have passed it (timestamps as datetimes, blobs as
    bytes).  Values of the wrong JSON type are left alone for validate() to report."""
    kind = shape.type_name
    if kind == "structure":
        if shape.metadata.get("document") or not isinstance(value, dict):
            return value
        wire_names = {m.serialization.get("name", n): n for n, m in shape.members.items()}
        out = {}
        for key, item in value.items():
            name = wire_names.get(key)
            # Unknown members are dropped, as a Smithy server does with members it does not know.
            if name is not None and item is not None:
                out[name] = _from_wire(shape.members[name], item)
        return out
    if kind == "list":
        return [_from_wire(shape.member, v) for v in value] if isinstance(value, list) else value
    if kind == "map":
        if not isinstance(value, dict):
            return value
        return {k: _from_wire(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        try:
            return parse_timestamp(value)
        except (ValueError, TypeError, OverflowError):
            return value
    if kind == "blob" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (ValueError, binascii.Error):
            return value
    if kind in ("float", "double") and value in ("NaN", "Infinity", "-Infinity"):
        return float(value)
    return value


def parse_request(
    op: OperationModel,
    labels: Mapping[str, str],
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    """The request as boto3 keyword arguments (member names), ready for validate()."""
    shape = op.input_shape
    params: dict[str, Any] = {}
    if shape is None:
        return params
    lower_headers = {k.lower(): v for k, v in headers.items()}
    claimed_query: set[str] = set()
    query_map_member: str | None = None
    body_members = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri":
            if wire in labels:
                params[name] = _scalar_from_text(member, labels[wire], name)
        elif location == "querystring":
            if member.type_name == "map":
                query_map_member = name
                continue
            claimed_query.add(wire)
            values = query.get(wire)
            if not values:
                continue
            if member.type_name == "list":
                params[name] = [_scalar_from_text(member.member, v, name) for v in values]
            else:
                params[name] = _scalar_from_text(member, values[0], name)
        elif location == "header":
            if wire.lower() in lower_headers:
                params[name] = _scalar_from_text(member, lower_headers[wire.lower()], name)
        elif location == "headers":
            prefix = wire.lower()
            found = {k[len(prefix) :]: v for k, v in lower_headers.items() if k.startswith(prefix)}
            if found:
                params[name] = found
        else:
            body_members[name] = member
    if query_map_member is not None:
        rest = {k: v[0] for k, v in query.items() if k not in claimed_query}
        if rest:
            params[query_map_member] = rest

    payload = shape.serialization.get("payload")
    if payload is not None:
        member = shape.members[payload]
        if member.type_name in ("blob", "string"):
            if body:
                params[payload] = body if member.type_name == "blob" else body.decode()
            return params
        document = _json_body(body)
        if document is not None:
            params[payload] = _from_wire(member, document)
        return params
    document = _json_body(body)
    if document is None:
        return params
    if not isinstance(document, dict):
        raise ServiceError("SerializationException", "The request body must be a JSON object.")
    wire_names = {m.serialization.get("name", n): n for n, m in body_members.items()}
    for key, value in document.items():
        name = wire_names.get(key)
        if name is not None and value is not None:
            params[name] = _from_wire(body_members[name], value)
    return params


def _json_body(body: bytes) -> Any:
    if not body or not body.strip():
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ServiceError("SerializationException", f"Malformed JSON body: {exc}") from exc


# --- Responses -----------------------------------------------------------------------------------


class CachedStructure(dict):
    """A structure value that keeps its wire form once computed.  List pages hand out the same
    summaries again and again; a record replaces its summary when it changes, so the cache
    never goes stale.  (Two threads may compute it at once; both get the same result.)"""

    __slots__ = ("wire", "wire_shape")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wire: Any = None
        self.wire_shape: str | None = None


def _to_wire(shape: Shape, value: Any) -> Any:
    """A Python value as the JSON the output shape describes.  Members not in the shape are
    left out, so handlers may return richer records than the operation exposes."""
    kind = shape.type_name
    if kind == "structure":
        if shape.metadata.get("document"):
            return value
        if type(value) is CachedStructure:
            if value.wire is None or value.wire_shape != shape.name:
                value.wire = _structure_to_wire(shape, value)
                value.wire_shape = shape.name
            return value.wire
        return _structure_to_wire(shape, value)
    if kind == "list":
        return [_to_wire(shape.member, v) for v in value]
    if kind == "map":
        return {k: _to_wire(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        # rest-json's default for body timestamps is epoch seconds, but every Bedrock timestamp
        # carries timestampFormat "iso8601" in the model, so that is what this writes.
        return _format_timestamp(value, shape.serialization.get("timestampFormat", "unixtimestamp"))
    if kind == "blob":
        raw = value.encode() if isinstance(value, str) else value
        return base64.b64encode(raw).decode()
    if kind in ("float", "double") and isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _structure_to_wire(shape: Shape, value: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for name, member in shape.members.items():
        item = value.get(name)
        if item is not None:
            out[member.serialization.get("name", name)] = _to_wire(member, item)
    return out


def serialize_response(
    op: OperationModel, result: Mapping[str, Any]
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) for a successful call; the status is ``http.responseCode``
    (CreateEvaluationJob and BatchDeleteEvaluationJob answer 202, CreateModelImportJob 201)."""
    status = int(op.http.get("responseCode", 200))
    headers = {"Content-Type": "application/json"}
    shape = op.output_shape
    if shape is None:
        return status, headers, b"{}"
    body_members = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        value = result.get(name)
        if location is None:
            body_members[name] = member
        elif value is None:
            continue
        elif location == "statusCode":
            status = int(value)
        elif location == "header":
            wire = member.serialization.get("name", name)
            headers[wire] = _header_text(member, value)
        elif location == "headers":
            prefix = member.serialization.get("name", name)
            for k, v in value.items():
                headers[prefix + k] = str(v)
    payload = shape.serialization.get("payload")
    if payload is not None:
        member = shape.members[payload]
        value = result.get(payload)
        if member.type_name in ("blob", "string"):
            raw = value or b""
            return status, headers, raw.encode() if isinstance(raw, str) else raw
        return status, headers, _dumps(_to_wire(member, value) if value is not None else {})
    document = {}
    for name, member in body_members.items():
        value = result.get(name)
        if value is not None:
            document[member.serialization.get("name", name)] = _to_wire(member, value)
    return status, headers, _dumps(document)


def _header_text(member: Shape, value: Any) -> str:
    if member.type_name == "timestamp":
        return str(_format_timestamp(value, member.serialization.get("timestampFormat", "rfc822")))
    if member.type_name == "boolean":
        return "true" if value else "false"
    return str(value)


def _dumps(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
