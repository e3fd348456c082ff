"""Names (taken, a clone's suggestion), a job's description back into a form's initial
data, and that data in the form's POST layout."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jobs.bedrock import contract, rules
from jobs.forms.evaluation.base import _JOB_NAME_PATH, OPERATION, EvaluationJobForm
from jobs.forms.evaluation.kinds import FORMS

_JOB_NAME_MAX = int(contract.shape_for_path(OPERATION, _JOB_NAME_PATH).metadata["max"])
_COPY_SUFFIX = re.compile(r"-copy(?:-\d+)?$")


def suggest_clone_name(name: str, taken: Callable[[str], bool] | None = None) -> str:
    """A free name for a copy of job `name`: name-copy, name-copy-2, ... within 63 chars."""
    base = _COPY_SUFFIX.sub("", name) or name or "evaluation"
    candidate = base
    for n in itertools.count(1):
        suffix = "-copy" if n == 1 else f"-copy-{n}"
        candidate = base[: _JOB_NAME_MAX - len(suffix)].rstrip("-") + suffix
        if taken is None or not taken(candidate) or n >= 10_000:
            break
    return candidate


def initial_from_description(
    description: Mapping[str, Any],
    *,
    taken: Callable[[str], bool] | None = None,
    tags: Mapping[str, str] | Iterable[Mapping[str, str]] | None = None,
) -> tuple[str, dict[str, Any]]:
    """(kind, initial) to clone a job: its GetEvaluationJob description as initial data for
    ``FORMS[kind](initial=initial)``, with a new unique name suggested (`taken` tells which
    names are in use). GetEvaluationJob does not return tags: pass them (a key-to-value
    mapping as ListTagsForResource gives, or a list of {"key", "value"}) to copy them."""
    kind = rules.evaluation_job_kind(description)
    initial = FORMS[kind].initial_for(description)
    initial["name"] = suggest_clone_name(str(description.get("jobName", "")), taken)
    if tags is not None:
        pairs = (
            tags.items() if isinstance(tags, Mapping) else ((t["key"], t["value"]) for t in tags)
        )
        initial["tags"] = [{"key": key, "value": value} for key, value in pairs]
    return kind, initial


def form_data(kind: str | type[EvaluationJobForm], initial: Mapping[str, Any]) -> dict[str, Any]:
    """`initial` as the POST data the form's page would send (job fields, then each
    formset's management form and rows), e.g. to submit a clone unchanged in a test."""
    form_class = FORMS[kind] if isinstance(kind, str) else kind
    data: dict[str, Any] = {}
    for key, value in initial.items():
        if key not in form_class.formset_classes:
            data[key] = _post_value(value)
    for name in form_class.formset_classes:
        rows = initial.get(name) or []
        data[f"{name}-TOTAL_FORMS"] = str(len(rows))
        data[f"{name}-INITIAL_FORMS"] = "0"
        for index, row in enumerate(rows):
            for field, value in row.items():
                data[f"{name}-{index}-{field}"] = _post_value(value)
    return data


def _post_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if isinstance(value, bool):
        return "on" if value else ""
    return str(value)
