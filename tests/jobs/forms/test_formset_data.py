"""jobs/forms/formset_data.py: rows added and removed in a form's POST data as the no-JS
buttons do, and the filled-in checks of a half-empty form (EvaluationJobForm)."""

from __future__ import annotations

from jobs.forms import formset_data
from jobs.forms.evaluation import FORMS
from tests.jobs.forms import factories as f
from tests.jobs.forms.factories import errors_at


def data_of(kind: str):
    return formset_data.as_querydict(f.post(kind))


def test_a_row_added_starts_from_its_fields_initial_values_up_to_the_maximum():
    data = data_of("human")
    before = formset_data.row_count(FORMS["human"], data, "datasets")
    formset_data.add_row(FORMS["human"], data, "datasets")
    assert formset_data.row_count(FORMS["human"], data, "datasets") == before + 1
    form = FORMS["human"](data)
    assert len(form.formsets["datasets"].forms) == before + 1
    assert form.is_valid(), form.errors  # an untouched new row is left out of the request
    for _ in range(20):
        formset_data.add_row(FORMS["human"], data, "datasets")
    assert (
        formset_data.row_count(FORMS["human"], data, "datasets")
        == FORMS["human"].formset_classes["datasets"].max_num
    )


def test_a_removed_row_leaves_no_gap():
    data = data_of("human")
    models = [m["model_identifier"] for m in f.human()["models"]]
    assert len(models) == 2
    formset_data.remove_row(FORMS["human"], data, "models", 0)
    assert formset_data.row_count(FORMS["human"], data, "models") == 1
    assert data["models-0-model_identifier"] == models[1]
    assert "models-1-model_identifier" not in data
    formset_data.remove_row(FORMS["human"], data, "models", 5)  # out of range: nothing happens
    assert formset_data.row_count(FORMS["human"], data, "models") == 1


def test_rows_posted_with_delete_checked_are_dropped():
    data = data_of("human")
    data["models-0-DELETE"] = "on"
    formset_data.drop_deleted_rows(FORMS["human"], data)
    assert formset_data.row_count(FORMS["human"], data, "models") == 1
    assert "models-0-DELETE" not in data


def test_a_half_empty_form_says_which_rows_are_missing_and_checks_what_is_filled_in():
    data = {"name": "Bad_Name", "role_arn": "arn:aws:iam::1:role/x", "output_s3_uri": ""}
    for prefix in ("tags", "models", "custom_metrics", "datasets"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    human, judge = FORMS["human"](data), FORMS["judge"](data)
    human.check_filled_in()
    judge.check_filled_in()
    assert "must match arn:aws" in errors_at(human, "role_arn")[0]
    assert errors_at(human, ("custom_metrics", None)) == ["Fill in at least one custom metric."]
    assert errors_at(judge, ("custom_metrics", None)) == []  # optional for a judge
    assert errors_at(judge, ("datasets", None)) == ["Fill in at least one dataset."]
