"""Form fields for building Bedrock requests.

Fields here parse (text to JSON, to lists, to canonical spellings) but leave what Bedrock
allows to the contract and the rules: a choice field still offers its choices, but a value
outside them gets the contract's or the rules' message ("must be one of: ..."), which says
what is allowed, instead of Django's generic "Select a valid choice".
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from jobs.bedrock.contract import shape_for_path

__all__ = [
    "CanonicalChoiceField",
    "JSONObjectField",
    "JSONTextField",
    "MetricNamesField",
    "OpenChoiceField",
    "kms_key_field",
    "role_arn_field",
    "text_field",
]


def _model_max_length(path: str | None, operation: str) -> int | None:
    if path is None:
        return None
    return shape_for_path(operation, path).metadata.get("max")


def text_field(
    *,
    label: str,
    help_text: str = "",
    required: bool = False,
    path: str | None = None,
    textarea: bool = False,
    rows: int = 4,
    strip: bool = True,
    empty_value: str | None = None,
    placeholder: str | None = None,
    operation: str = "CreateEvaluationJob",
) -> forms.CharField:
    """A CharField that returns None when blank (the contract's "not set"). `path` is the
    member of `operation`'s request it fills: its model maximum becomes the widget's
    maxlength, a typing aid only; the contract checks the length on the server."""
    attrs: dict[str, Any] = {}
    max_length = _model_max_length(path, operation)
    if max_length is not None and max_length < 1_000_000:
        attrs["maxlength"] = str(max_length)
    if placeholder:
        attrs["placeholder"] = placeholder
    if textarea:
        widget = forms.Textarea(attrs={"rows": rows, "spellcheck": "true", **attrs})
    else:
        widget = forms.TextInput(attrs)
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=required,
        strip=strip,
        empty_value=empty_value,
        widget=widget,
    )


def role_arn_field(*, operation: str, example_role: str, help_text: str) -> forms.CharField:
    """The IAM service role every create request names (roleArn)."""
    return text_field(
        label="IAM service role ARN",
        required=True,
        path="roleArn",
        operation=operation,
        placeholder=f"arn:aws:iam::111122223333:role/{example_role}",
        help_text=help_text,
    )


def kms_key_field(*, operation: str, path: str, what: str) -> forms.CharField:
    """An optional customer managed KMS key that encrypts `what` ("the job's data")."""
    return text_field(
        label="KMS key (optional)",
        path=path,
        operation=operation,
        help_text=(
            f"A customer managed key (ARN, key ID or alias/...) to encrypt {what}; blank for an "
            "AWS owned key."
        ),
    )


class OpenChoiceField(forms.ChoiceField):
    """Offers `choices`; any non-blank value passes, for the contract or rules to judge."""

    def validate(self, value: Any) -> None:
        forms.Field.validate(self, value)

    def to_python(self, value: Any) -> str | None:
        text = super().to_python(value).strip()
        return text or None


class CanonicalChoiceField(OpenChoiceField):
    """An open choice whose value is respelled by `canonical` (e.g. case-insensitively
    matched to the catalogue's spelling); values it does not know pass through as typed."""

    def __init__(self, *, canonical: Callable[[str], str | None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.canonical = canonical

    def to_python(self, value: Any) -> str | None:
        text = super().to_python(value)
        if text is None:
            return None
        return self.canonical(text) or text


class MetricNamesField(forms.MultipleChoiceField):
    """Metric names, offered as checkboxes; order kept, blanks dropped, and any name passes
    to the rules, which say which metrics the task type and kind allow."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, str):  # one value from a plain dict rather than a QueryDict
            value = [value]
        return [name for name in (str(v).strip() for v in super().to_python(value)) if name]

    def validate(self, value: Any) -> None:
        forms.Field.validate(self, value)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# Deeper than any object of the API nests; also keeps parsing and every later walk of the
# value (finite numbers, the contract, the review page) far from Python's recursion limit.
MAX_JSON_DEPTH = 32


def _nesting_depth(text: str, limit: int) -> int:
    """How deep `text`'s arrays and objects nest (outside strings), counted up to `limit` + 1."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def _text_problem(value: Any) -> str | None:
    """What in a parsed JSON value's strings (keys too) could not be stored or shown: a NUL
    (PostgreSQL's JSON refuses it) or an unpaired surrogate such as \\ud800 (not text)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return "Text in the JSON may not contain the NUL character (\\u0000)."
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return (
                    "Text in the JSON may not contain an unpaired surrogate escape such as "
                    "\\ud800: write the character itself."
                )
    return None


def _parse_json_object(text: str) -> dict[str, Any]:
    if _nesting_depth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise ValidationError(
            "The JSON nests more than %(limit)d levels deep; no request of Bedrock's does.",
            code="too_deep",
            params={"limit": MAX_JSON_DEPTH},
        )
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValidationError("The JSON nests too deep.", code="too_deep") from None
    except ValueError as exc:
        raise ValidationError(
            "Not valid JSON: %(error)s.", code="invalid_json", params={"error": exc}
        ) from None
    if not isinstance(value, dict):
        raise ValidationError('Must be a JSON object, e.g. {"key": "value"}.', code="not_object")
    if not _finite(value):
        raise ValidationError("Numbers must be finite.", code="not_finite")
    problem = _text_problem(value)
    if problem:
        raise ValidationError(problem, code="bad_text")
    return value


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


class JSONObjectField(forms.CharField):
    """JSON object text (a textarea); cleans to the parsed dict, None when blank."""

    def __init__(self, *, rows: int = 6, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows, "spellcheck": "false"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dict[str, Any] | None:
        text = super().to_python(value)
        if not text:
            return None
        return _parse_json_object(text)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, (dict, list)):
            return json.dumps(value, indent=2)
        return value


class JSONTextField(forms.CharField):
    """JSON object text kept as typed (the API takes it as a string); None when blank."""

    def __init__(self, *, rows: int = 3, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows, "spellcheck": "false"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str | None:
        text = super().to_python(value)
        if not text:
            return None
        _parse_json_object(text)
        return text
