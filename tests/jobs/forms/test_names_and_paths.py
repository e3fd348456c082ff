"""The live name check, clone names, and the path tables' coverage and fallback."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.bedrock.contract import Violation
from jobs.forms.evaluation import FORMS, name_check, suggest_clone_name
from jobs.forms.paths import NON_FIELD, FormField, PathMap, RowField, humanize

from . import factories as f
from .factories import bound, error_locations


def test_a_good_free_name_passes():
    assert name_check("nightly-qa-2") is None
    assert name_check("nightly-qa-2", lambda n: False) is None


@pytest.mark.parametrize(
    ("name", "expect"),
    [
        ("", "Enter a job name"),
        ("Nightly", "must match [a-z0-9](-*[a-z0-9]){0,62}"),
        ("nightly-", "must match [a-z0-9](-*[a-z0-9]){0,62}"),
        ("a" * 64, "at most 63 characters"),
    ],
)
def test_a_bad_name_says_the_rule(name, expect):
    assert expect in name_check(name)


def test_a_taken_name_is_refused_but_only_looked_up_when_well_formed():
    looked_up = []

    def taken(name):
        looked_up.append(name)
        return name == "nightly"

    assert "already exists" in name_check("nightly", taken)
    assert "must match" in name_check("Nightly", taken)
    assert looked_up == ["nightly"]


@pytest.mark.parametrize(
    ("name", "taken", "expect"),
    [
        ("nightly", set(), "nightly-copy"),
        ("nightly", {"nightly-copy"}, "nightly-copy-2"),
        ("nightly", {"nightly-copy", "nightly-copy-2"}, "nightly-copy-3"),
        ("nightly-copy", {"nightly-copy"}, "nightly-copy-2"),
        ("nightly-copy-7", set(), "nightly-copy"),
        ("a" * 63, set(), "a" * 58 + "-copy"),
        ("a" * 57 + "-" + "b" * 5, set(), "a" * 57 + "-copy"),
    ],
)
def test_a_clone_gets_a_free_name_within_the_limit(name, taken, expect):
    assert suggest_clone_name(name, taken.__contains__) == expect


@settings(max_examples=200, deadline=None)
@given(
    name=st.from_regex(r"[a-z0-9](-*[a-z0-9]){0,62}", fullmatch=True).filter(
        lambda n: len(n) <= 63
    ),
    taken_count=st.integers(0, 3),
)
def test_a_suggested_clone_name_is_always_valid_and_free(name, taken_count):
    taken = {name} | {suggest_clone_name(name, None)}
    for _ in range(taken_count):
        taken.add(suggest_clone_name(name, taken.__contains__))
    suggested = suggest_clone_name(name, taken.__contains__)
    assert name_check(suggested) is None
    assert suggested not in taken


def test_a_path_falls_to_its_nearest_mapped_ancestor_with_the_rest_named():
    table = PathMap(
        {
            "a": FormField("a"),
            "a.b[{i}]": RowField("rows", "b"),
        }
    )
    assert table.lookup("a").target == FormField("a")
    hit = table.lookup("a.b[3].c.d")
    assert (hit.target, hit.indexes, hit.rest) == (RowField("rows", "b"), {"i": 3}, "c.d")
    hit = table.lookup('a.x["key.with.dots"]')
    assert (hit.target, hit.rest) == (FormField("a"), 'x["key.with.dots"]')
    assert table.lookup("zzz") is None


def test_messages_read_as_sentences_and_keep_the_rule():
    assert humanize(Violation("jobName", "is required")) == "This field is required."
    assert humanize(Violation("x", "must have at least 1 items")) == "Must have at least 1 item."
    assert humanize(
        Violation("roleArn", "must match arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+")
    ) == (
        "Use an IAM role ARN such as arn:aws:iam::111122223333:role/BedrockEvaluationRole."
        "\nDetails: must match arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+."
    )
    assert humanize(Violation("x.y", "must be at most 1"), rest="y", note="Level 2") == (
        "Level 2: y: Must be at most 1."
    )


def test_a_violation_at_a_path_no_table_knows_becomes_a_non_field_error_naming_it():
    form = bound("programmatic", f.post("programmatic"))
    assert form.is_valid()
    form.report(Violation("somethingNew.inner", "is not a known member"))
    assert form.unmapped == [Violation("somethingNew.inner", "is not a known member")]
    assert form.errors["__all__"] == ["somethingNew.inner: Is not a known member."]


def _leaf_paths(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaf_paths(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaf_paths(item, f"{path}[{index}]")
    else:
        yield path


@pytest.mark.parametrize(
    ("kind", "source"),
    [
        ("programmatic", None),
        ("judge", None),
        ("human", None),
        ("rag", "kb_retrieve"),
        ("rag", "kb_retrieve_and_generate"),
        ("rag", "external_sources"),
        ("rag", "precomputed_retrieve"),
        ("rag", "precomputed_retrieve_and_generate"),
    ],
)
def test_every_value_a_form_sends_has_a_field_in_its_kinds_table(kind, source):
    form = bound(kind, f.post(kind, f.rag(source=source) if source else None))
    assert form.is_valid(), error_locations(form)
    for path in _leaf_paths(form.build_request()):
        if path == "applicationType":
            continue  # fixed by the kind, not typed
        hit = FORMS[kind].path_map.lookup(path)
        assert hit is not None and hit.target is not NON_FIELD, path


def test_an_s3_uri_error_is_in_words_with_an_example_that_fits_its_form():
    """Issue 13 #1: the words first (the regex only on the details line), and the example is
    the form's own: a model folder on the import form, a results prefix or a dataset file on
    the evaluation form."""
    cases = [
        (
            "CreateModelImportJob",
            "modelDataSource.s3DataSource.s3Uri",
            "s3://my-bucket/models/my-model/",
        ),
        ("CreateEvaluationJob", "outputDataConfig.s3Uri", "s3://my-bucket/evaluations/"),
        (
            "CreateEvaluationJob",
            "evaluationConfig.automated.datasetMetricConfigs[0].dataset.datasetLocation.s3Uri",
            "s3://my-bucket/datasets/prompts.jsonl",
        ),
    ]
    for operation, path, example in cases:
        message = humanize(
            Violation(path, "must match s3://[a-z0-9][-.a-z0-9]{1,61}.*"), operation=operation
        )
        words, details = message.split("\nDetails: ")
        assert words == f"Use an S3 URI like {example}, lower-case bucket name."
        assert "[" not in words and details.startswith("must match s3://[a-z0-9]")
