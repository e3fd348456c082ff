"""A form's POST data in Django's formset layout (``<prefix>-TOTAL_FORMS``,
``<prefix>-<index>-<field>``...), edited the way the form page's Add and Remove buttons do
without JavaScript: a row added with its fields' initial values, a row removed and the rows
after it renumbered, so the formset never has gaps."""

from __future__ import annotations

import re
from typing import Any

from django.http import QueryDict

from jobs.forms.requests import RequestForm

_ROW_KEY = re.compile(r"^(?P<prefix>[a-z_]+)-(?P<index>\d+)-(?P<field>.+)$")


def as_querydict(data: dict[str, Any]) -> QueryDict:
    """Flat form data (``form_data()``: lists for repeated keys) as a QueryDict."""
    out = QueryDict(mutable=True)
    for key, value in data.items():
        out.setlist(key, [str(v) for v in value] if isinstance(value, list) else [str(value)])
    return out


def row_count(data: QueryDict, prefix: str) -> int:
    try:
        return max(0, int(data.get(f"{prefix}-TOTAL_FORMS") or 0))
    except ValueError:
        return 0


def _initial_count(data: QueryDict, prefix: str) -> int:
    try:
        return max(0, int(data.get(f"{prefix}-INITIAL_FORMS") or 0))
    except ValueError:
        return 0


def add_row(form_class: type[RequestForm], data: QueryDict, prefix: str) -> None:
    """One more row in formset `prefix`, unless it has its maximum already."""
    formset_class = form_class.formset_classes[prefix]
    total = row_count(data, prefix)
    if total >= formset_class.max_num:
        return
    # A new row starts from its fields' initial values (the radios' defaults), as an empty
    # form would show them; unchanged, it is left out of the request.
    for name, field in formset_class.form.base_fields.items():
        if field.initial is not None and not callable(field.initial):
            data.setlist(f"{prefix}-{total}-{name}", [str(field.initial)])
    data[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
    data.setdefault(f"{prefix}-INITIAL_FORMS", "0")


def remove_row(data: QueryDict, prefix: str, index: int) -> None:
    """Drop row `index` and renumber the rows after it, so the formset has no gaps."""
    total = row_count(data, prefix)
    if not 0 <= index < total:
        return
    moved: dict[str, list[str]] = {}
    for key in list(data.keys()):
        match = _ROW_KEY.match(key)
        if not match or match["prefix"] != prefix:
            continue
        values = data.getlist(key)
        del data[key]
        row = int(match["index"])
        if row != index:
            moved[f"{prefix}-{row - 1 if row > index else row}-{match['field']}"] = values
    for key, values in moved.items():
        data.setlist(key, values)
    data[f"{prefix}-TOTAL_FORMS"] = str(total - 1)
    initial = _initial_count(data, prefix)
    if index < initial:
        data[f"{prefix}-INITIAL_FORMS"] = str(initial - 1)


def drop_deleted_rows(form_class: type[RequestForm], data: QueryDict) -> None:
    """Rows posted with DELETE checked (a page without our Remove buttons) are removed."""
    for prefix in form_class.formset_classes:
        for index in reversed(range(row_count(data, prefix))):
            if data.get(f"{prefix}-{index}-DELETE"):
                remove_row(data, prefix, index)
