"""Valid forms of every kind build requests that pass the contract and the rules, that the
local Bedrock accepts and gives back unchanged, and that a clone rebuilds exactly."""

from __future__ import annotations

import pytest

from jobs.bedrock import client, contract, rules
from jobs.forms.evaluation import FORMS, initial_from_description

from .factories import HAIKU, ROLE, bound, error_locations, post, programmatic, rag

KINDS = ["programmatic", "judge", "human", "rag"]
RAG_SOURCES = [
    "kb_retrieve",
    "kb_retrieve_and_generate",
    "external_sources",
    "precomputed_retrieve",
    "precomputed_retrieve_and_generate",
]
CASES = [(kind, None) for kind in KINDS if kind != "rag"] + [("rag", s) for s in RAG_SOURCES]


def valid_post(kind: str, source: str | None) -> dict:
    return post(kind, rag(source=source) if source else None)


def valid_form(kind: str, source: str | None):
    form = bound(kind, valid_post(kind, source))
    assert form.is_valid(), (error_locations(form), form.violations)
    return form


@pytest.mark.parametrize(("kind", "source"), CASES)
def test_a_valid_form_builds_a_request_that_passes_contract_and_rules(kind, source):
    request = valid_form(kind, source).build_request()
    assert contract.validate("CreateEvaluationJob", request) == []
    assert rules.evaluation_job_rules(request) == []
    assert rules.evaluation_job_kind(request) == kind
    assert "clientRequestToken" not in request


def test_the_programmatic_request_is_exactly_what_was_entered():
    request = valid_form("programmatic", None).build_request()
    assert request == {
        "jobName": "qa-programmatic",
        "jobDescription": "Nightly check of the support assistant",
        "roleArn": ROLE,
        "customerEncryptionKeyId": "alias/eval-key",
        "applicationType": "ModelEvaluation",
        "outputDataConfig": {"s3Uri": "s3://eval-results-111122223333/evaluations/"},
        "jobTags": [
            {"key": "team", "value": "search"},
            {"key": "cost-center", "value": "cc-1234"},
        ],
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "Generation",
                        "dataset": {"name": "Builtin.Wikitext2"},
                        "metricNames": ["Builtin.Accuracy", "Builtin.Toxicity"],
                    },
                    {
                        "taskType": "Classification",
                        "dataset": {
                            "name": "reviews",
                            "datasetLocation": {
                                "s3Uri": "s3://eval-datasets-111122223333/reviews.jsonl"
                            },
                        },
                        "metricNames": ["Builtin.Accuracy", "Builtin.Robustness"],
                    },
                ]
            }
        },
        "inferenceConfig": {
            "models": [
                {
                    "bedrockModel": {
                        "modelIdentifier": HAIKU,
                        "inferenceParams": (
                            '{"inferenceConfig": {"maxTokens": 512, "temperature": 0.2}}'
                        ),
                        "performanceConfig": {"latency": "standard"},
                    }
                }
            ]
        },
    }


def test_the_judge_request_carries_rating_scales_of_numbers_and_of_text():
    request = valid_form("judge", None).build_request()
    config = request["evaluationConfig"]["automated"]["customMetricConfig"]
    scales = [m["customMetricDefinition"]["ratingScale"] for m in config["customMetrics"]]
    assert scales[0] == [
        {"definition": "Off-brand", "value": {"floatValue": 0.0}},
        {"definition": "Acceptable", "value": {"floatValue": 0.5}},
        {"definition": "On-brand", "value": {"floatValue": 1.0}},
    ]
    assert scales[1] == [
        {"definition": "Unfriendly", "value": {"stringValue": "no"}},
        {"definition": "Friendly", "value": {"stringValue": "yes"}},
    ]
    assert config["evaluatorModelConfig"] == {
        "bedrockEvaluatorModels": [{"modelIdentifier": HAIKU}]
    }


def test_builtin_dataset_names_are_accepted_in_any_case_and_sent_as_the_api_spells_them():
    initial = programmatic()
    initial["datasets"][0]["builtin_dataset"] = "builtin.WikiText2"
    request = valid_form_from(initial).build_request()
    dataset = request["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["dataset"]
    assert dataset == {"name": "Builtin.Wikitext2"}


def valid_form_from(initial):
    form = bound("programmatic", post("programmatic", initial))
    assert form.is_valid(), error_locations(form)
    return form


def test_blank_optional_fields_and_untouched_extra_rows_are_left_out():
    initial = programmatic()
    initial.update(description="", kms_key="", tags=[{"key": "", "value": ""}])
    initial["models"][0].update(inference_params="", latency="")
    initial["datasets"].append({"task_type": "", "dataset_source": "builtin", "metrics": []})
    request = valid_form_from(initial).build_request()
    assert {"jobDescription", "customerEncryptionKeyId", "jobTags"}.isdisjoint(request)
    assert request["inferenceConfig"]["models"] == [{"bedrockModel": {"modelIdentifier": HAIKU}}]
    assert len(request["evaluationConfig"]["automated"]["datasetMetricConfigs"]) == 2


def test_deleted_rows_are_left_out():
    data = post("programmatic")
    data["datasets-1-DELETE"] = "on"
    data["tags-0-DELETE"] = "on"
    form = bound("programmatic", data)
    assert form.is_valid(), error_locations(form)
    request = form.build_request()
    assert len(request["evaluationConfig"]["automated"]["datasetMetricConfigs"]) == 1
    assert request["jobTags"] == [{"key": "cost-center", "value": "cc-1234"}]


@pytest.mark.parametrize(("kind", "source"), CASES)
def test_the_local_bedrock_accepts_the_request_and_returns_what_the_form_built(
    local_bedrock, kind, source
):
    request = valid_form(kind, source).build_request()
    arn = client.create_evaluation_job(**request)
    job = client.get_evaluation_job(identifier=arn)
    for member, value in request.items():
        if member == "jobTags":
            assert client.list_tags_for_resource(arn=arn) == {t["key"]: t["value"] for t in value}
        else:
            assert job[member] == value, member


@pytest.mark.parametrize(("kind", "source"), CASES)
def test_a_clone_of_a_created_job_rebuilds_the_same_request_under_a_new_name(
    local_bedrock, kind, source
):
    request = valid_form(kind, source).build_request()
    arn = client.create_evaluation_job(**request)
    description = client.get_evaluation_job(identifier=arn)
    taken = {request["jobName"]}

    clone_kind, initial = initial_from_description(
        description, taken=taken.__contains__, tags=client.list_tags_for_resource(arn=arn)
    )

    assert clone_kind == kind
    assert initial["name"] == f"{request['jobName']}-copy"
    # The unbound form shows it; posted back unchanged it rebuilds the request.
    assert FORMS[kind](initial=initial)["name"].value() == initial["name"]
    clone = bound(kind, post(kind, initial))
    assert clone.is_valid(), (error_locations(clone), clone.violations)
    rebuilt = clone.build_request()
    assert rebuilt.pop("jobName") == f"{request['jobName']}-copy"
    request.pop("jobName")
    assert rebuilt == request


def test_a_clone_of_a_job_with_the_other_spelling_of_a_builtin_dataset_uses_the_catalogues():
    request = valid_form("programmatic", None).build_request()
    config = request["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]
    config["dataset"]["name"] = "Builtin.WikiText2"
    kind, initial = initial_from_description(request)
    assert initial["datasets"][0]["builtin_dataset"] == "Builtin.Wikitext2"
    assert bound(kind, post(kind, initial)).is_valid()


def test_build_request_refuses_when_the_fields_themselves_are_invalid():
    data = post("programmatic")
    data["models-0-inference_params"] = "{oops"
    form = bound("programmatic", data)
    assert not form.is_valid()
    with pytest.raises(ValueError, match="invalid"):
        form.build_request()


def test_a_request_with_violations_is_still_built_for_review():
    data = post("programmatic")
    data["name"] = "Not_Valid"
    form = bound("programmatic", data)
    assert not form.is_valid()
    assert form.build_request()["jobName"] == "Not_Valid"
