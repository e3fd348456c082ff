"""The import form's errors (issue 13 #1, #2): all of them in one round, checked live on
leaving a field as on the evaluation form, in words, the summary following the fields, and a
tag line without "=" an error."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.jobs.views.test_import_jobs import NEW, form_data

pytestmark = pytest.mark.django_db
VALIDATE = "/import-jobs/new/validate/"


def errors_of(html: str, field: str) -> list[str]:
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error"[^>]*>(.*?)</ul>', html, re.S)
    return [unescape(e) for e in re.findall(r"<li>(.*?)</li>", match.group(1))] if match else []


def test_the_first_review_shows_every_field_error_at_once(operator_client):
    data = form_data(name="Bad_Name!", imported_model_name="", role_arn="", model_data_uri="S3://X")
    response = operator_client.post(NEW, data)
    form = response.context["form"]
    # Required fields and the patterns of what is filled in, in the same round.
    assert set(form.errors) == {"name", "imported_model_name", "role_arn", "model_data_uri"}
    summary = response.context["error_summary"]
    assert {e["anchor"] for e in summary} == {f"id_{n}" for n in form.errors}


def test_errors_are_in_words_with_an_example_that_fits_the_import_form(operator_client):
    html = operator_client.post(NEW, form_data(model_data_uri="S3://Models/x")).content.decode()
    (error,) = errors_of(html, "model_data_uri")
    words, _, details = error.partition('<span class="error-details">')
    assert words == "Use an S3 URI like s3://my-bucket/models/my-model/, lower-case bucket name."
    assert "must match s3://" in details and "evaluations" not in error


def test_a_field_is_checked_live_as_review_would_check_it(operator_client):
    data = form_data(imported_model_name="two  spaces", field="imported_model_name")
    response = operator_client.post(VALIDATE, data, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.startswith('<ul class="errorlist" id="id_imported_model_name_error"')
    assert "single _ or -" in html
    assert 'id="error-summary"' not in html  # no summary on the page yet: none sent

    # With the summary of a Review on the page, it follows the fields: fixing the one error
    # empties it, out of band.
    data = form_data(imported_model_name="fixed-name", field="imported_model_name", _summary="1")
    html = operator_client.post(VALIDATE, data, headers={"HX-Request": "true"}).content.decode()
    assert errors_of(html, "imported_model_name") == []
    assert re.search(r'id="error-summary"[^>]*hx-swap-oob="true"[^>]*hidden', html)
    data = form_data(name="", field="imported_model_name", _summary="1")
    html = operator_client.post(VALIDATE, data, headers={"HX-Request": "true"}).content.decode()
    assert "1 problem to fix" in html and "Import job name" in html


def test_the_import_form_wires_each_field_for_a_live_check(operator_client):
    html = operator_client.get(NEW).content.decode()
    assert 'hx-target="find .errorlist"' in html  # declared once, on the form
    assert html.count(f'hx-post="{VALIDATE}"') == 9  # one per field box
    assert 'hx-trigger="input changed delay:500ms, change"' in html


@pytest.mark.parametrize(
    ("tags", "expect"),
    [
        ("team=ml\nowner", "Line 2 has no “=”"),
        ("team", "Line 1 has no “=”"),
        ("team=\n", None),  # key= is an empty value, on purpose
    ],
)
def test_a_tag_line_without_equals_is_an_error(operator_client, tags, expect):
    response = operator_client.post(NEW, form_data(job_tags=tags))
    errors = (
        response.context["form"].errors.get("job_tags", []) if "form" in response.context else []
    )
    if expect is None:
        assert errors == [] and "payload" in response.content.decode()
    else:
        assert any(expect in e for e in errors), errors


def test_the_evaluation_forms_summary_follows_its_fields_too(operator_client):
    from tests.jobs.forms.factories import with_value
    from tests.jobs.forms.test_field_errors import base as valid_base

    url = "/evaluation-jobs/new/programmatic/validate/"
    data = with_value(valid_base("programmatic", None), "name", "Bad_Name")
    data |= {"field": "role_arn", "_summary": "1"}
    html = operator_client.post(url, data, headers={"HX-Request": "true"}).content.decode()
    # The field asked about has no error; the summary (out of band) still names the job name's.
    assert errors_of(html, "role_arn") == []
    assert re.search(r'id="error-summary"[^>]*hx-swap-oob="true"', html)
    assert "1 problem to fix" in html and "Job name" in html
    html = operator_client.post(
        url, {**data, "name": "good-name"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert re.search(r'id="error-summary"[^>]*hidden', html) and "0 problems" in html


def test_inputs_point_at_their_help_and_errors_with_djangos_aria_describedby(operator_client):
    html = operator_client.get("/evaluation-jobs/new/programmatic/").content.decode()
    (name,) = re.findall(r'<input type="text" name="name"[^>]*>', html)
    assert 'aria-describedby="id_name_helptext"' in name and "aria-invalid" not in name
    # Checkbox and radio groups: on their fieldset.
    fieldset = r'<fieldset class="choices" aria-describedby="id_datasets-0-metrics_helptext"'
    assert re.search(fieldset, html)
    data = {"_action": "review", "name": "Bad_Name"}
    html = operator_client.post("/evaluation-jobs/new/programmatic/", data).content.decode()
    (name,) = re.findall(r'<input type="text" name="name"[^>]*>', html)
    assert 'aria-describedby="id_name_helptext id_name_error"' in name
    assert '<ul class="errorlist" id="id_name_error"' in html
