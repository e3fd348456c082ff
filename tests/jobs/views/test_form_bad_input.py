"""Hostile input to the submit forms (issue 13 #11, #12): every count a request gives is
bounded by the formsets' own machinery, and garbage in an id, an action or a JSON box gets a
clear answer, never a 500 or a loop over a trillion rows."""

from __future__ import annotations

import json

import pytest

from tests.jobs.forms.factories import errors_at, with_value
from tests.jobs.forms.test_field_errors import base as valid_base

pytestmark = pytest.mark.django_db

FORM = "/evaluation-jobs/new/programmatic/"
HUGE = "1000000000000"


def review(client, data, **extra):
    return client.post(FORM, {**data, "_action": "review", **extra})


@pytest.mark.parametrize("action", ["review", "add:tags", "remove:tags:0", "refresh"])
def test_a_trillion_rows_are_refused_at_once_with_a_clear_error(operator_client, action):
    data = valid_base("programmatic", None) | {"tags-TOTAL_FORMS": HUGE, "tags-INITIAL_FORMS": HUGE}
    response = operator_client.post(FORM, {**data, "_action": action})
    assert response.status_code == 200
    tags = response.context["form"].formsets["tags"]
    # The formset builds no more rows than its absolute_max: one past what the form offers.
    assert len(tags.forms) <= tags.max_num + 1
    if action == "review":
        assert any(
            "at most 200 items" in e for e in errors_at(response.context["form"], ("tags", None))
        )
        assert "payload" not in response.content.decode()


@pytest.mark.parametrize(
    "action",
    [
        "remove:tags:" + "9" * 5000,
        "remove:tags:²",
        "remove:tags:-1",
        "add:nope",
        "remove:" + "x" * 10_000,
    ],
)
def test_a_garbled_action_changes_no_row(operator_client, action):
    data = valid_base("programmatic", None)
    response = operator_client.post(FORM, {**data, "_action": action})
    assert response.status_code == 200
    form = response.context["form"]
    assert len(form.formsets["models"].forms) == int(data["models-TOTAL_FORMS"])


@pytest.mark.parametrize("value", ["²", "9" * 5000, "-1", "1e3", "\x00"])
@pytest.mark.parametrize("url", [FORM, "/import-jobs/new/"])
def test_a_garbled_submission_id_opens_the_empty_form(operator_client, url, value):
    response = operator_client.get(url, {"submission": value})
    assert response.status_code == 200
    assert not response.context["form"].is_bound


JSON_CASES = [
    ('{"a":' * 500 + "1" + "}" * 500, "more than 32 levels deep"),
    ("[" * 100_000, "more than 32 levels deep"),
    ('{"a": "x\\u0000y"}', "NUL character"),
    ('{"\\u0000": 1}', "NUL character"),
    ('{"a": "\\ud800"}', "unpaired surrogate"),
    ('{"a": ["ok", {"b": "\\udfff"}]}', "unpaired surrogate"),
]


@pytest.mark.parametrize(("text", "expect"), JSON_CASES)
def test_json_no_database_or_page_could_hold_is_refused_on_its_field_at_review(
    operator_client, text, expect
):
    data = with_value(valid_base("programmatic", None), ("models", 0, "inference_params"), text)
    response = review(operator_client, data)
    assert response.status_code == 200
    errors = errors_at(response.context["form"], ("models", 0, "inference_params"))
    assert any(expect in e for e in errors), errors
    assert "payload" not in response.content.decode()


def test_deep_json_in_a_rag_box_is_refused_too(operator_client):
    data = with_value(
        valid_base("rag", "kb_retrieve"),
        "filter_json",
        json.dumps({"a": 1})[:-1] + ', "b":' + "[" * 60 + "]" * 60 + "}",
    )
    response = operator_client.post("/evaluation-jobs/new/rag/", {**data, "_action": "review"})
    assert response.status_code == 200
    assert any("levels deep" in e for e in errors_at(response.context["form"], "filter_json"))
