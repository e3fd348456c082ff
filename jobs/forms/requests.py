"""The base of every form that builds one Bedrock request: its fields and formsets build the
request, the contract (and a kind's own rules) judge it, and each violation lands on the
field, or formset row field, whose value produced it (the kind's path table, paths.py).

Subclasses set `operation` and `path_map`, may hold formsets (`formset_classes`), and
implement `build()`; `more_violations()` adds what the contract cannot express.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.formsets import BaseFormSet

from jobs.bedrock import contract
from jobs.bedrock.contract import Violation
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
                form_kwargs=self.row_kwargs(name),
            )
        self.violations: list[Violation] = []  # every contract and rules violation found
        self.unmapped: list[Violation] = []  # those that became non-field errors
        self._rows: dict[str, list[int]] = {}
        self._request: dict[str, Any] | None = None
        self._valid: bool | None = None

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
        hit = self.path_map.lookup(violation.path)
        target: Any = hit.target if hit else NON_FIELD
        indexes = hit.indexes if hit else {}
        rest = hit.rest if hit else ""
        if not isinstance(target, (FormField, RowField, FormsetErrors, NonField)):
            target = target(self, indexes)
        note = target.note(indexes) if target.note else None
        message = self.humanize(violation, rest=rest, note=note)
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
