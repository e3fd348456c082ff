"""Properties: whatever is typed into any field, every violation the contract or the rules
report for the request the form builds lands on a field (never lost, never only a non-field
error), and a form that says it is valid builds a request with no violations."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from jobs.bedrock import contract, rules

from . import factories as f
from .factories import bound, error_locations

CASES = [
    ("programmatic", None),
    ("judge", None),
    ("human", None),
    *[
        ("rag", source)
        for source in (
            "kb_retrieve",
            "kb_retrieve_and_generate",
            "external_sources",
            "precomputed_retrieve_and_generate",
        )
    ],
]

# Keys that choose the form's structure rather than hold a value of the request.
_STRUCTURAL = ("-TOTAL_FORMS", "-INITIAL_FORMS", "-DELETE", "source", "-scale_type")

# Member names of the sub-objects behind the advanced JSON fields, so generated objects
# reach past "is not a known member" into the shapes.
_MEMBERS = [
    "equals",
    "andAll",
    "orAll",
    "key",
    "value",
    "type",
    "modelArn",
    "metadataAttributes",
    "description",
    "bedrockRerankingConfiguration",
    "modelConfiguration",
    "numberOfRerankedResults",
    "guardrailId",
    "guardrailVersion",
    "textInferenceConfig",
    "temperature",
    "topP",
    "maxTokens",
    "stopSequences",
    "queryTransformationConfiguration",
    "sources",
    "sourceType",
    "s3Location",
    "uri",
]
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(_MEMBERS) | st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
_json_objects = st.dictionaries(st.sampled_from(_MEMBERS), _json_values, max_size=4)

_texts = st.one_of(
    st.text(max_size=30),
    st.text(min_size=60, max_size=300),
    st.text(alphabet="abc-_.:/0123456789 ABC", max_size=70),
    st.sampled_from(["", " ", "Builtin.Bold", "Builtin.Nope", "-", "a" * 64, "0", "101"]),
)


def value_keys(data: dict[str, Any]) -> list[str]:
    return [k for k in data if not k.endswith(_STRUCTURAL)]


def values_for(key: str) -> st.SearchStrategy[Any]:
    if key.endswith("_json"):
        return _texts | _json_objects.map(json.dumps)
    if key.endswith("-metrics"):
        return st.lists(_texts, max_size=4)
    return _texts


PROPERTY = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize(("kind", "source"), CASES)
@PROPERTY
@given(data=st.data())
def test_every_violation_lands_on_a_field(kind, source, data):
    valid = f.post(kind, f.rag(source=source) if source else None)
    keys = data.draw(st.lists(st.sampled_from(value_keys(valid)), min_size=1, max_size=3))
    post = dict(valid)
    for key in keys:
        post[key] = data.draw(values_for(key), label=key)

    form = bound(kind, post)
    valid_now = form.is_valid()
    event("valid" if valid_now else "invalid")

    assert form.unmapped == []
    assert "__all__" not in error_locations(form)
    if valid_now:
        request = form.build_request()
        assert contract.validate("CreateEvaluationJob", request) == []
        assert rules.evaluation_job_rules(request) == []
    else:
        assert error_locations(form)


@pytest.mark.parametrize(
    "field",
    [
        "filter_json",
        "implicit_filter_json",
        "reranking_json",
        "guardrail_json",
        "inference_config_json",
        "additional_fields_json",
        "orchestration_json",
    ],
)
@PROPERTY
@given(value=_json_objects)
def test_whatever_is_wrong_inside_an_advanced_json_field_is_reported_on_that_field(field, value):
    post = f.post("rag")
    post[field] = json.dumps(value)
    form = bound("rag", post)
    if not form.is_valid():
        assert error_locations(form) == {field}, form.violations
        assert form.unmapped == []
