"""From a violation's request path back to the form field that produced the value.

Each form kind has one table of request-path patterns (``{i}``, ``{j}``... stand for list
indexes) to targets: a field of the main form, a field of a formset row, a formset's own
errors, or the form's non-field errors. A path with no entry of its own falls to its
nearest ancestor that has one (so anything inside an "advanced JSON" sub-object lands on
that JSON field, with the rest of the path named in the message); a path with no mapped
ancestor at all becomes a non-field error naming the path. No violation is ever dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jobs.bedrock.contract import Violation, shape_for_path

__all__ = [
    "NON_FIELD",
    "FormField",
    "FormsetErrors",
    "NonField",
    "PathMap",
    "RowField",
    "Target",
    "humanize",
]

Note = Callable[[Mapping[str, int]], str]


@dataclass(frozen=True)
class FormField:
    """A field of the main form."""

    name: str
    note: Note | None = None


@dataclass(frozen=True)
class RowField:
    """A field of one formset row (None: the row's non-field errors). `row` names the
    placeholder whose index is the row's position in the request's list."""

    formset: str
    field: str | None = None
    row: str = "i"
    note: Note | None = None


@dataclass(frozen=True)
class FormsetErrors:
    """A formset's own errors (too many or too few rows, ...)."""

    formset: str
    note: Note | None = None


@dataclass(frozen=True)
class NonField:
    """The main form's non-field errors; the message names the path."""

    note: Note | None = None


NON_FIELD = NonField()

# A resolver picks the target from the form's state, e.g. the dataset name of a row goes to
# its built-in choice or its custom name field, whichever the row uses.
Resolver = Callable[[Any, Mapping[str, int]], "FormField | RowField | FormsetErrors | NonField"]
Target = FormField | RowField | FormsetErrors | NonField | Resolver

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_TOKEN = re.compile(r'\.?[^.\[\]"]+|\[\d+\]|\["(?:[^"\\]|\\.)*"\]')


def _compile(pattern: str) -> re.Pattern[str]:
    out, position = [], 0
    for match in _PLACEHOLDER.finditer(pattern):
        out.append(re.escape(pattern[position : match.start()]))
        out.append(f"(?P<{match.group(1)}>\\d+)")
        position = match.end()
    out.append(re.escape(pattern[position:]))
    return re.compile("".join(out))


@dataclass(frozen=True)
class Hit:
    target: Target
    indexes: dict[str, int]
    rest: str  # the part of the path below the matched entry ("" for an exact match)


class PathMap:
    def __init__(self, table: Mapping[str, Target]) -> None:
        self.table = dict(table)
        self._entries = [(_compile(pattern), target) for pattern, target in self.table.items()]

    def lookup(self, path: str) -> Hit | None:
        """The entry for `path`, or for its nearest mapped ancestor."""
        ends = [0]
        position = 0
        while position < len(path):
            match = _TOKEN.match(path, position)
            if match is None:
                break  # not a path we produce: try the ancestors parsed so far
            position = match.end()
            ends.append(position)
        for end in reversed(ends):
            prefix = path[:end]
            for regex, target in self._entries:
                match = regex.fullmatch(prefix)
                if match:
                    indexes = {k: int(v) for k, v in match.groupdict().items()}
                    return Hit(target, indexes, path[end:].lstrip("."))
        return None


# What a pattern in the model means, by shape name, so "must match <regex>" reads as advice
# in words; the regex follows on a details line (DETAILS), because it is the rule Bedrock
# applies.
_PATTERN_HINTS = {
    "EvaluationJobName": (
        "lower-case letters, digits and hyphens, starting and ending with a letter or digit"
    ),
    "EvaluationJobDescription": "a single line of text",
    "EvaluationMetricDescription": "a single line of text",
    "RoleArn": "an IAM role ARN such as arn:aws:iam::111122223333:role/BedrockEvaluationRole",
    "KmsKeyId": "a KMS key ARN, key ID or alias such as alias/my-key",
    "TagKey": "letters, digits, spaces and _ . : / = + @ -",
    "TagValue": "letters, digits, spaces and _ . : / = + @ -",
    "EvaluationDatasetName": "letters, digits, hyphens, underscores and dots",
    "EvaluationMetricName": "letters, digits, hyphens, underscores and dots",
    "MetricName": "letters, digits, hyphens, underscores and dots",
    "EvaluationRatingMethod": "letters, digits, hyphens and underscores",
    "EvaluationBedrockModelIdentifier": (
        "a model ID, inference profile or model ARN such as anthropic.claude-3-haiku-20240307-v1:0"
    ),
    "EvaluatorModelIdentifier": (
        "a model ID, inference profile or model ARN such as "
        "anthropic.claude-3-5-sonnet-20240620-v1:0"
    ),
    "EvaluationPrecomputedInferenceSourceIdentifier": (
        "letters, digits, dots, underscores and hyphens, starting with a letter or digit"
    ),
    "EvaluationPrecomputedRagSourceIdentifier": (
        "letters, digits, dots, underscores and hyphens, starting with a letter or digit"
    ),
    "SageMakerFlowDefinitionArn": (
        "a SageMaker flow definition ARN such as "
        "arn:aws:sagemaker:us-east-1:111122223333:flow-definition/my-flow"
    ),
    "KnowledgeBaseId": "the knowledge base ID: letters and digits only",
    # CreateModelImportJob
    "JobName": (
        "letters, digits and hyphens (also + . after the first), starting with a letter or digit"
    ),
    "ImportedModelName": "letters and digits, with single _ or - between them",
    "SubnetId": "a subnet ID such as subnet-0123456789abcdef0",
    "SecurityGroupId": "a security group ID such as sg-0123456789abcdef0",
    "BedrockModelArn": (
        "a model ARN such as "
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
    ),
}

# An example S3 URI that fits the field it is shown on.
_S3_EXAMPLES = [
    ("CreateModelImportJob", "", "s3://my-bucket/models/my-model/"),
    ("CreateEvaluationJob", "datasetLocation", "s3://my-bucket/datasets/prompts.jsonl"),
    ("CreateEvaluationJob", "", "s3://my-bucket/evaluations/"),
]
# Where a message's words end and its details (the regex) begin; templates show the details
# on a line of their own (the `error_words` and `error_details` filters).
DETAILS = "\nDetails: "

_AT_LEAST_ONE = re.compile(r"\b1 items\b")


def _hint(operation: str, path: str) -> str | None:
    shape = _shape_name(operation, path) or ""
    if shape == "S3Uri":
        example = next(
            (e for op, where, e in _S3_EXAMPLES if op == operation and where in path),
            "s3://my-bucket/prefix/",
        )
        return f"an S3 URI like {example}, lower-case bucket name"
    return _PATTERN_HINTS.get(shape)


def humanize(
    violation: Violation,
    *,
    rest: str = "",
    note: str | None = None,
    operation: str = "CreateEvaluationJob",
) -> str:
    """The violation's message as a sentence for the field it lands on (a path of
    `operation`'s request)."""
    message = violation.message
    details = ""
    if message == "is required":
        message = "this field is required"
    elif message.startswith("must match "):
        hint = _hint(operation, violation.path)
        if hint:
            message, details = f"use {hint}", message
    message = _AT_LEAST_ONE.sub("1 item", message)
    message = message[:1].upper() + message[1:]
    if not message.endswith((".", "?", "!")):
        message += "."
    if rest:
        message = f"{rest}: {message}"
    if note:
        message = f"{note}: {message}"
    if details:
        message += f"{DETAILS}{details}."
    return message


def _shape_name(operation: str, path: str) -> str | None:
    try:
        return shape_for_path(operation, path).name
    except KeyError:
        return None
