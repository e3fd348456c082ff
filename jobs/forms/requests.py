"""The base of every form that builds one Bedrock request: its fields and formsets build the
request, the contract (and a kind's own rules) judge it, and each violation lands on the
field, or formset row field, whose value produced it (the kind's path table, paths.py).

Subclasses set `operation` and `path_map`, may hold formsets (`formset_classes`), and
implement `build()`; `more_violations()` adds what the contract cannot express.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.formsets import BaseFormSet

from jobs.bedrock import contract
from jobs.bedrock.contract import Violation
from jobs.forms.fields import OpenChoiceField
from jobs.forms.paths import NON_FIELD, FormField, FormsetErrors, NonField, PathMap, RowField
from jobs.forms.paths import humanize as _humanize

__all__ = ["RequestForm", "prune"]


def prune(value: Any) -> Any:
    """The request without unset (None) members, as boto3 wants it."""
    if isinstance(value, dict):
        return {k: prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


def add_error(form: forms.Form, field: str | None, message: str) -> None:
    # One value can break the same rule twice; say it once.
    if message not in form.errors.get(field or NON_FIELD_ERRORS, []):
        form.add_error(field, message)


class RequestForm(forms.Form):
    """A form whose ``is_valid()`` checks the fields, then the request they build.

    ``initial`` takes the fields by name and each formset's rows (a list of dicts) under the
    formset's name. ``name_taken`` (optional) tells whether a job name is in use.
    """

    operation: ClassVar[str]
    path_map: ClassVar[PathMap]
    formset_classes: ClassVar[dict[str, type[BaseFormSet]]] = {}
    # Rows a formset must keep: fewer, and Review says "Fill in at least one <noun>." (a
    # request without them cannot be checked as a whole).
    min_rows: ClassVar[dict[str, int]] = {}
    ROW_NOUNS: ClassVar[dict[str, str]] = {}
    # No browser-side `required`: the no-JS Add and Remove buttons submit half-filled forms,
    # and the server says what is missing (all of it, in one round: check_all()).
    use_required_attribute = False

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        initial: Mapping[str, Any] | None = None,
        name_taken: Callable[[str], bool] | None = None,
        **kwargs: Any,
    ) -> None:
        initial = dict(initial or {})
        rows = {name: initial.pop(name, None) for name in self.formset_classes}
        super().__init__(data, initial=initial, **kwargs)
        self.name_taken = name_taken
        self.formsets: dict[str, BaseFormSet] = {}
        for name, formset_class in self.formset_classes.items():
            self.formsets[name] = formset_class(
                data if self.is_bound else None,
                prefix=name,
                initial=rows[name],
                form_kwargs={"use_required_attribute": False, **self.row_kwargs(name)},
            )
        self.violations: list[Violation] = []  # every contract and rules violation found
        self.unmapped: list[Violation] = []  # those that became non-field errors
        self._rows: dict[str, list[int]] = {}
        self._request: dict[str, Any] | None = None
        self._valid: bool | None = None
        self._checked_all = False

    # --- hooks for subclasses ---

    def row_kwargs(self, formset: str) -> dict[str, Any]:
        return {}

    def build(self) -> dict[str, Any]:
        raise NotImplementedError

    def more_violations(self, request: dict[str, Any]) -> list[Violation]:
        """What is wrong with `request` beyond the contract (rules, names in use)."""
        return []

    def taken_message(self, name: str) -> str:
        return f"the name {name} is in use"

    # --- the public API ---

    def is_valid(self) -> bool:
        if self._valid is None:
            self._valid = self._check()
        return self._valid

    def build_request(self) -> dict[str, Any]:
        """The exact request (boto3 kwargs, no clientRequestToken).

        Runs ``is_valid()`` if it has not run. ValueError if the fields themselves are
        invalid; a request with contract or rules violations is returned (``is_valid()``
        says False), e.g. to show it.
        """
        self.is_valid()
        if self._request is None:
            raise ValueError("the form's fields are invalid; no request can be built")
        return copy.deepcopy(self._request)

    def row_form(self, formset: str, position: int | None) -> forms.Form | None:
        """The formset form that produced item `position` of its request list."""
        rows = self._rows.get(formset, [])
        if position is None or position >= len(rows):
            return None
        return self.formsets[formset].forms[rows[position]]

    def humanize(self, violation: Violation, **kwargs: Any) -> str:
        return _humanize(violation, operation=self.operation, **kwargs)

    def report(self, violation: Violation) -> None:
        """Put a violation on the field that produced its path (see the kind's path table)."""
        self.violations.append(violation)
        target, indexes, message = self._place(violation)
        if isinstance(target, FormField) and target.name in self.fields:
            add_error(self, target.name, message)
            return
        if isinstance(target, RowField) and target.formset in self.formsets:
            form = self.row_form(target.formset, indexes.get(target.row))
            if form is not None and (target.field is None or target.field in form.fields):
                add_error(form, target.field, message)
                return
        if isinstance(target, FormsetErrors) and target.formset in self.formsets:
            self.formsets[target.formset].non_form_errors().append(ValidationError(message))
            return
        self.unmapped.append(violation)
        self.add_error(None, f"{violation.path or 'The request'}: {self.humanize(violation)}")

    def _place(self, violation: Violation) -> tuple[Any, dict[str, int], str]:
        """Where a violation lands (its path's entry in the kind's table) and its message."""
        hit = self.path_map.lookup(violation.path)
        target: Any = hit.target if hit else NON_FIELD
        indexes = hit.indexes if hit else {}
        rest = hit.rest if hit else ""
        if not isinstance(target, (FormField, RowField, FormsetErrors, NonField)):
            target = target(self, indexes)
        note = target.note(indexes) if target.note else None
        return target, indexes, self.humanize(violation, rest=rest, note=note)

    # --- every error in one round, and one field at a time (as the user types) ---

    def bound_fields(self) -> Iterator[forms.BoundField]:
        """The form's fields, then every formset row's (without their DELETE boxes)."""
        yield from self
        for formset in self.formsets.values():
            for row in formset.forms:
                for bound in row:
                    if bound.name != "DELETE":
                        yield bound

    def find_field(self, html_name: str) -> forms.BoundField | None:
        for bound in self.bound_fields():
            if bound.html_name == html_name:
                return bound
        return None

    def check_all(self) -> bool:
        """``is_valid()``, and every error in one round: while some field is missing or
        unparsable the request cannot be checked as a whole, so each value that is filled in
        is checked at its own path in the request (and the name against the names in use),
        and the required rows that are missing are named. The field errors, the error
        summary and the live check of one field all read what this leaves on the form."""
        if self.is_valid():
            return True
        if self._checked_all or self.violations:
            return False  # the contract and the rules ran: their errors are on the form
        self._checked_all = True
        for bound in list(self.bound_fields()):
            if not bound.errors:
                for message in self._contract_errors(bound):
                    add_error(bound.form, bound.name, message)
        name = self.cleaned_data.get("name") if "name" in self.fields else None
        taken = isinstance(name, str) and self.name_taken is not None and self.name_taken(name)
        if taken and not self.errors.get("name"):
            violation = Violation("jobName", self.taken_message(name))
            add_error(self, "name", self.humanize(violation))
        for name, formset in self.formsets.items():
            if (
                self.min_rows.get(name, 0)
                and not formset.non_form_errors()
                and not formset.included_forms()
            ):
                message = f"Fill in at least one {self.ROW_NOUNS.get(name, name)}."
                formset.non_form_errors().append(ValidationError(message))
        return False

    # The first Review used to call it this.
    check_filled_in = check_all

    def field_errors(self, bound: forms.BoundField) -> list[str]:
        """The errors of one field, judged with the whole form (check_all)."""
        self.check_all()
        return list(bound.errors)

    def error_summary(self, labels: Mapping[str, tuple[str, str]] | None = None) -> list[dict]:
        """Every error on the form, each with where it is (label, message, anchor id), for
        the summary at the top; `labels` names each formset and its rows (title, row)."""
        labels = labels or {}
        out = [{"label": "", "message": str(e), "anchor": ""} for e in self.non_field_errors()]
        for bound in self:
            for error in bound.errors:
                out.append({"label": str(bound.label), "message": error, "anchor": bound.auto_id})
        for name, formset in self.formsets.items():
            title, row_label = labels.get(name, (name, name))
            for error in formset.non_form_errors():
                out.append({"label": title, "message": error, "anchor": f"formset-{name}"})
            for index, row in enumerate(formset.forms):
                where = f"{row_label} {index + 1}"
                for error in row.non_field_errors():
                    out.append({"label": where, "message": error, "anchor": f"row-{row.prefix}"})
                for bound in row:
                    for error in bound.errors:
                        label = f"{where}: {bound.label}"
                        out.append({"label": label, "message": error, "anchor": bound.auto_id})
        return out

    def _contract_errors(self, bound: forms.BoundField) -> list[str]:
        """What the contract says of this field's value at its own path in the request."""
        row = bound.form
        value = getattr(row, "cleaned_data", {}).get(bound.name)
        if value is None or isinstance(value, dict):
            return []
        field = bound.field
        if isinstance(field, forms.ChoiceField) and not isinstance(field, OpenChoiceField):
            return []  # the form's own choices (which source, ...), not a value of the request
        formset = row.prefix.rsplit("-", 1)[0] if row.prefix else None
        for pattern, target in self.path_map.table.items():
            placeholders = re.findall(r"\{(\w+)\}", pattern)
            if callable(target) and not isinstance(target, (FormField, RowField)):
                target = target(self, dict.fromkeys(placeholders, 0))
            if formset is None:
                hit = isinstance(target, FormField) and target.name == bound.name
            else:
                hit = (
                    isinstance(target, RowField)
                    and target.formset == formset
                    and target.field == bound.name
                )
            if not hit or target.note is not None:
                continue
            path = re.sub(r"\{\w+\}", "0", pattern)
            try:
                shape = contract.shape_for_path(self.operation, path)
            except KeyError:
                continue
            if shape.type_name in {"structure", "map"}:
                continue
            if shape.type_name == "list" and not isinstance(value, list):
                continue
            if shape.type_name != "list" and isinstance(value, list):
                continue
            violations = contract.validate_shape(shape, value, path)
            return [self._place(v)[2] for v in violations]
        return []

    # --- internals ---

    def _check(self) -> bool:
        results = [super().is_valid()]
        results += [formset.is_valid() for formset in self.formsets.values()]
        if not all(results):
            return False
        self._rows = {
            name: [index for index, _ in formset.included_forms()]
            for name, formset in self.formsets.items()
        }
        self._request = prune(self.build())
        violations = contract.validate(self.operation, self._request)
        violations += self.more_violations(self._request)
        name = self._request.get("jobName")
        name_ok = isinstance(name, str) and not any(v.path == "jobName" for v in violations)
        if name_ok and self.name_taken is not None and self.name_taken(name):
            violations.append(Violation("jobName", self.taken_message(name)))
        for violation in dict.fromkeys(violations):
            self.report(violation)
        return not violations

    def _row_data(self, formset: str) -> list[dict[str, Any]]:
        forms_ = self.formsets[formset].forms
        return [forms_[index].cleaned_data for index in self._rows.get(formset, [])]
