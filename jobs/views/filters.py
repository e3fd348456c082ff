"""A list's query string: a form that validates it, and the links built
from it (pages, status chips, clear filters), so a URL always reproduces the view."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from django import forms
from django.core.validators import RegexValidator

from jobs.models import EvaluationJob, ImportedModel, MirroredResource, ModelImportJob
from jobs.selectors.evaluation_jobs import (
    APPLICATION_TYPES,
    JOB_TYPES,
    STATUSES,
    TASK_TYPES,
    EvaluationJobFilters,
    evaluation_job_models,
)
from jobs.selectors.mirror import MirrorFilters, mirror_places
from jobs.selectors.model_imports import STATUSES as IMPORT_JOB_STATUSES
from jobs.selectors.model_imports import ImportedModelFilters, ModelImportJobFilters

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 50
SORTS = (("newest", "Newest first"), ("oldest", "Oldest first"))


def _any(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [("", "Any"), *((v, v) for v in values)]


class DateInput(forms.DateInput):
    input_type = "date"


# A connection's region and account, as the URL may name them (several of each at once).
REGION_PATTERN = r"[a-z]{2}(-[a-z]+)+-\d"
ACCOUNT_PATTERN = r"\d{12}"
MAX_PLACES = 20  # values per parameter: more is not a filter anyone means


class PatternMultipleField(forms.MultipleChoiceField):
    """Several values, each matching `pattern` (not a fixed list: a region or account that left
    the configuration still filters, to nothing), at most MAX_PLACES of them."""

    widget = forms.SelectMultiple

    def __init__(self, *, pattern: str, message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pattern = re.compile(pattern, re.ASCII)  # \d: 0-9 only, not other scripts
        self.message = message

    def valid_value(self, value: str) -> bool:
        return len(value) <= 32 and self.pattern.fullmatch(value) is not None

    def validate(self, value: Any) -> None:
        if len(value) > MAX_PLACES:
            raise forms.ValidationError(f"Pick at most {MAX_PLACES}.")
        for item in value:
            if not self.valid_value(item):
                raise forms.ValidationError(self.message)


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class FilterField:
    """One filter control, ready for the template: Django's widget templates cost about
    0.3 ms per field, a fifth of the page, so the list page writes its few controls itself."""

    name: str
    label: str
    kind: str  # select | search | date | checkbox
    value: str
    errors: list[str]
    options: tuple[Option, ...] = ()
    placeholder: str = ""

    @property
    def id(self) -> str:
        return f"id_{self.name}"


class MirrorFilterForm(forms.Form):
    """A list's query string: status (when the kind has one), name contains, created
    after/before, vanished, sort and page size. Subclasses add their kind's own filters, set
    `filters_class` and `statuses`, and order the bar with `field_order`."""

    filters_class: type[MirrorFilters] = MirrorFilters
    mirror_model: type[MirroredResource] | None = None  # where the region and account pickers look
    statuses: tuple[str, ...] = ()
    name_placeholder = "e.g. support"

    status = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    region = PatternMultipleField(
        label="Region",
        required=False,
        pattern=REGION_PATTERN,
        message="Pick regions from the list (e.g. us-east-1).",
    )
    account = PatternMultipleField(
        label="Account",
        required=False,
        pattern=ACCOUNT_PATTERN,
        message="Pick accounts from the list (12 digits).",
    )
    name = forms.CharField(
        label="Name contains",
        required=False,
        max_length=63,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    created_after = forms.DateField(label="Created on or after", required=False, widget=DateInput)
    created_before = forms.DateField(label="Created on or before", required=False, widget=DateInput)
    vanished = forms.BooleanField(label="Show vanished", required=False)
    sort = forms.ChoiceField(label="Order", choices=SORTS, required=False)
    size = forms.TypedChoiceField(
        label="Per page",
        choices=[(n, n) for n in PAGE_SIZES],
        coerce=int,
        required=False,
        empty_value=DEFAULT_PAGE_SIZE,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.statuses:
            self.fields["status"].choices = [(s, s) for s in self.statuses]
        else:
            del self.fields["status"]
        self.fields["name"].widget.attrs["placeholder"] = self.name_placeholder

    def clean(self):
        data = super().clean()
        after, before = data.get("created_after"), data.get("created_before")
        if after and before and after > before:
            self.add_error("created_before", "Must be on or after the “created on or after” day.")
        return data

    def kind_filters(self) -> dict[str, Any]:
        """The kind's own filter values, by field name of `filters_class`."""
        return {}

    def picker_choices(self) -> dict[str, list[str]]:
        """Selects whose options come from the mirror, by field name: read only when the bar
        is drawn, never to validate (a value that left the mirror still filters, to nothing)."""
        return {}

    def place_choices(self) -> dict[str, list[str]]:
        """The region and account pickers' options (connections and the mirror)."""
        if self.mirror_model is None:
            return {"region": [], "account": []}
        places = mirror_places(self.mirror_model)
        return {"region": places.regions, "account": places.accounts}

    def to_filters(self) -> MirrorFilters:
        """The normalised filter; call after is_valid()."""
        data = self.cleaned_data
        return self.filters_class(
            statuses=tuple(data.get("status") or ()),
            regions=tuple(data.get("region") or ()),
            accounts=tuple(data.get("account") or ()),
            name=data["name"],
            created_after=data["created_after"],
            created_before=data["created_before"],
            include_vanished=data["vanished"],
            newest_first=data["sort"] != "oldest",
            **self.kind_filters(),
        )

    @property
    def page_size(self) -> int:
        return self.cleaned_data.get("size") or DEFAULT_PAGE_SIZE

    def _raw(self, name: str) -> Any:
        field = self.fields[name]
        return field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))

    def _field_errors(self, name: str) -> list[str]:
        return list(self.errors.get(name, [])) if self.is_bound else []

    def controls(self) -> FilterControls:
        """The filter bar, as plain data for the template (see FilterField)."""
        chosen = set(self._raw("status") or []) if "status" in self.fields else set()
        pickers = self.picker_choices()
        places = self.place_choices()
        fields = []
        for name, field in self.fields.items():
            if name in ("status", "vanished"):
                continue
            raw = self._raw(name)
            value = "" if raw is None else str(raw)
            options: tuple[Option, ...] = ()
            if name in places:
                chosen_places = [v for v in (raw or [])[:MAX_PLACES] if field.valid_value(v)]
                values = sorted({*places[name], *chosen_places})
                options = tuple(Option(v, v, v in chosen_places) for v in values)
                value = ""
                kind = "multi"
            elif name in pickers:
                values = pickers[name]
                if value and value not in values and not self._field_errors(name):
                    values = [value, *values]
                options = tuple(
                    Option(v, lab, v == value)
                    for v, lab in [("", "Any"), *((v, v) for v in values)]
                )
                kind = "select"
            elif isinstance(field, forms.ChoiceField):
                if name == "size" and not value:
                    value = str(DEFAULT_PAGE_SIZE)
                options = tuple(
                    Option(str(v), str(lab), str(v) == value) for v, lab in field.choices
                )
                kind = "select"
            else:
                kind = "date" if isinstance(field, forms.DateField) else "search"
            fields.append(
                FilterField(
                    name=name,
                    label=str(field.label),
                    kind=kind,
                    value=value,
                    errors=self._field_errors(name),
                    options=options,
                    placeholder=field.widget.attrs.get("placeholder", ""),
                )
            )
        status = self.fields.get("status")
        return FilterControls(
            statuses=[Option(v, lab, v in chosen) for v, lab in status.choices] if status else [],
            status_errors=self._field_errors("status"),
            vanished=bool(self._raw("vanished")),
            fields=fields,
        )


class EvaluationJobFilterForm(MirrorFilterForm):
    filters_class = EvaluationJobFilters
    mirror_model = EvaluationJob
    statuses = STATUSES
    field_order = [
        "status",
        "region",
        "account",
        "name",
        "job_type",
        "application_type",
        "task_type",
        "model",
        "model_id",
        "created_after",
        "created_before",
        "vanished",
        "sort",
        "size",
    ]

    job_type = forms.ChoiceField(label="Job type", choices=_any(JOB_TYPES), required=False)
    application_type = forms.ChoiceField(
        label="Application", choices=_any(APPLICATION_TYPES), required=False
    )
    task_type = forms.ChoiceField(label="Task type", choices=_any(TASK_TYPES), required=False)
    model = forms.CharField(
        label="Model contains",
        required=False,
        max_length=2048,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "e.g. claude", "autocomplete": "off"}
        ),
    )

    # The model picker: exact match on one of the mirror's models (a select of them).
    model_id = forms.CharField(
        label="Model",
        required=False,
        max_length=2048,
        validators=[
            RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9:._/+-]*$", "Pick a model from the list.")
        ],
    )

    def kind_filters(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "job_type": data["job_type"],
            "application_type": data["application_type"],
            "task_type": data["task_type"],
            "model": data["model"],
            "model_id": data["model_id"],
        }

    def picker_choices(self) -> dict[str, list[str]]:
        return {"model_id": evaluation_job_models()}


@dataclass(frozen=True)
class FilterControls:
    statuses: list[Option]
    status_errors: list[str]
    vanished: bool
    fields: list[FilterField]


def filter_params(filters: MirrorFilters, *, size: int) -> dict[str, Any]:
    """The query parameters that reproduce `filters` at `size` (for jobs.views.links)."""
    params = filters.as_params()
    if size != DEFAULT_PAGE_SIZE:
        params["size"] = str(size)
    return params


def status_params(filters: MirrorFilters, *, status: str | None, size: int) -> dict[str, Any]:
    """The filter with its statuses replaced by `status` (None: every status)."""
    statuses = (status,) if status else ()
    return filter_params(replace(filters, statuses=statuses), size=size)


def sort_params(filters: MirrorFilters, *, size: int) -> dict[str, Any]:
    """The filter sorted the other way round."""
    return filter_params(replace(filters, newest_first=not filters.newest_first), size=size)


class ModelImportJobFilterForm(MirrorFilterForm):
    filters_class = ModelImportJobFilters
    mirror_model = ModelImportJob
    statuses = IMPORT_JOB_STATUSES
    name_placeholder = "e.g. llama"


class ImportedModelFilterForm(MirrorFilterForm):
    """Imported models have no status: the bar has no status boxes."""

    filters_class = ImportedModelFilters
    mirror_model = ImportedModel
    name_placeholder = "e.g. llama"
