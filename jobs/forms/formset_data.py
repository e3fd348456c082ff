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


def row_count(form_class: type[RequestForm], data: QueryDict, prefix: str) -> int:
    """The rows formset `prefix` has in `data`, as Django's formset counts them: from its
    management form, and never more than its ``absolute_max`` (a ``TOTAL_FORMS`` of a
    trillion counts as that), so no loop here runs longer than the form allows."""
    formset_class = form_class.formset_classes[prefix]
    return formset_class(data, prefix=prefix).total_form_count()


def _initial_count(form_class: type[RequestForm], data: QueryDict, prefix: str) -> int:
    formset_class = form_class.formset_classes[prefix]
    return formset_class(data, prefix=prefix).initial_form_count()


def parse_action(form_class: type[RequestForm], action: str) -> tuple[str, str, int | None]:
    """``_action`` of the form page as (verb, formset, row): "add:tags", "remove:tags:3",
    "refresh", "review"... A formset the form does not have, or a row index that is not a
    small number of ASCII digits, comes back as "" and None (nothing to edit)."""
    verb, _, target = action[:100].partition(":")
    prefix, _, index = target.partition(":")
    if prefix not in form_class.formset_classes:
        prefix = ""
    row = int(index) if re.fullmatch(r"[0-9]{1,4}", index) else None
    return verb, prefix, row


def add_row(form_class: type[RequestForm], data: QueryDict, prefix: str) -> None:
    """One more row in formset `prefix`, unless it has its maximum already."""
    formset_class = form_class.formset_classes[prefix]
    total = row_count(form_class, data, prefix)
    if total >= formset_class.max_num:
        return
    # A new row starts from its fields' initial values (the radios' defaults), as an empty
    # form would show them; unchanged, it is left out of the request.
    for name, field in formset_class.form.base_fields.items():
        if field.initial is not None and not callable(field.initial):
            data.setlist(f"{prefix}-{total}-{name}", [str(field.initial)])
    data[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
    data.setdefault(f"{prefix}-INITIAL_FORMS", "0")


def remove_row(form_class: type[RequestForm], data: QueryDict, prefix: str, index: int) -> None:
    """Drop row `index` and renumber the rows after it, so the formset has no gaps."""
    total = row_count(form_class, data, prefix)
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
    initial = _initial_count(form_class, data, prefix)
    if index < initial:
        data[f"{prefix}-INITIAL_FORMS"] = str(initial - 1)


def drop_deleted_rows(form_class: type[RequestForm], data: QueryDict) -> None:
    """Rows posted with DELETE checked (a page without our Remove buttons) are removed."""
    for prefix in form_class.formset_classes:
        for index in reversed(range(row_count(form_class, data, prefix))):
            if data.get(f"{prefix}-{index}-DELETE"):
                remove_row(form_class, data, prefix, index)
