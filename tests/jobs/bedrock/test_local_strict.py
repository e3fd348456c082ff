"""What AWS does that the local Bedrock and the contract now do too: AWS-shaped validation
messages, idempotency tokens done right, "General" task types, and the imported model's
customModelUnitsVersion."""

from __future__ import annotations

import re

import pytest

from jobs.bedrock import rules
from jobs.bedrock.contract import (
    EXTRA_ENUM_VALUES,
    Violation,
    aws_path,
    aws_validation_message,
    compile_pattern,
    enum_values,
    service_model,
    validate,
)
from jobs.forms.evaluation import FORMS
from tests.jobs.bedrock.support import automated_request, wait_for
from tests.jobs.forms import factories as f

# --- AWS's wording, structured paths kept -----------------------------------------------------


def test_one_violation_reads_as_aws_writes_it():
    violations = validate("CreateEvaluationJob", automated_request("Bad_Name"))
    assert violations == [Violation("jobName", "must match [a-z0-9](-*[a-z0-9]){0,62}")]
    assert aws_validation_message(violations) == (
        "1 validation error detected: Value 'Bad_Name' at 'jobName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [a-z0-9](-*[a-z0-9]){0,62}"
    )


def test_several_violations_are_one_clause_each_with_aws_paths_and_wording():
    request = automated_request("x" * 64, roleArn=None)
    request["inferenceConfig"]["models"][0]["bedrockModel"]["modelIdentifier"] = ""
    request["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["taskType"] = "Poetry"
    violations = validate("CreateEvaluationJob", request)
    # The structured API the forms use is unchanged: our paths, our words.
    assert [v.path for v in violations] == [
        "jobName",
        "jobName",
        "roleArn",
        "evaluationConfig.automated.datasetMetricConfigs[0].taskType",
        "inferenceConfig.models[0].bedrockModel.modelIdentifier",
        "inferenceConfig.models[0].bedrockModel.modelIdentifier",
    ]
    message = aws_validation_message(violations)
    assert message.startswith("6 validation errors detected: ")
    clauses = message.removeprefix("6 validation errors detected: ").split("; ")
    assert clauses[0] == (
        f"Value '{'x' * 64}' at 'jobName' failed to satisfy constraint: "
        "Member must have length less than or equal to 63"
    )
    assert clauses[1].endswith(
        "at 'jobName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-z0-9](-*[a-z0-9]){0,62}"
    )
    assert clauses[2] == (
        "Value null at 'roleArn' failed to satisfy constraint: Member must not be null"
    )
    assert clauses[3] == (
        "Value 'Poetry' at 'evaluationConfig.automated.datasetMetricConfigs.1.member.taskType' "
        "failed to satisfy constraint: Member must satisfy enum value set: "
        "[Summarization, Classification, QuestionAndAnswer, Generation, Custom]"
    )
    assert clauses[4] == (
        "Value '' at 'inferenceConfig.models.1.member.bedrockModel.modelIdentifier' "
        "failed to satisfy constraint: Member must have length greater than or equal to 1"
    )


def test_aws_paths_are_one_based_members():
    assert aws_path("a.b[0].c[11]") == "a.b.1.member.c.12.member"
    assert aws_path("jobName") == "jobName"


def test_a_rule_violation_takes_its_value_from_the_request():
    request = automated_request("ok", task_type="QuestionAndAnswer", dataset="Builtin.Gigaword")
    violations = rules.evaluation_job_rules(request)
    message = aws_validation_message(violations, request)
    assert message.startswith(
        "1 validation error detected: Value 'Builtin.Gigaword' at "
        "'evaluationConfig.automated.datasetMetricConfigs.1.member.dataset.name' "
        "failed to satisfy constraint: Member Builtin.Gigaword is not a built-in dataset"
    )


def test_the_local_bedrock_answers_rule_violations_in_aws_form(bedrock):
    request = automated_request("ok", task_type="QuestionAndAnswer", dataset="Builtin.Gigaword")
    with pytest.raises(bedrock.exceptions.ValidationException) as caught:
        bedrock.create_evaluation_job(**request)
    assert re.match(
        r"1 validation error detected: Value 'Builtin.Gigaword' at '\S+\.dataset\.name' failed",
        caught.value.response["Error"]["Message"],
    )


def test_the_dashboard_reads_the_paths_back_from_aws_messages_with_semicolons():
    from jobs import submissions

    request = automated_request("ok", task_type="QuestionAndAnswer", dataset="Builtin.Gigaword")
    request["inferenceConfig"]["models"].append(request["inferenceConfig"]["models"][0])
    message = aws_validation_message(rules.evaluation_job_rules(request), request)
    assert message.startswith("3 validation errors detected")
    found = submissions.error_violations(
        code="ValidationException", message=message, request=request
    )
    assert [v.path for v in found] == [
        "inferenceConfig.models",
        "inferenceConfig.models[1].bedrockModel.modelIdentifier",
        "evaluationConfig.automated.datasetMetricConfigs[0].dataset.name",
    ]
    assert found[1].message.startswith("Member amazon.nova-pro-v1:0 is already model 1")
    assert found[1].message.endswith("each model may be listed only once")  # past the "; "


# --- idempotency ------------------------------------------------------------------------------


def test_the_same_token_and_body_return_the_same_job(bedrock):
    request = automated_request("idem", clientRequestToken="token-1")
    first = bedrock.create_evaluation_job(**request)["jobArn"]
    assert bedrock.create_evaluation_job(**request)["jobArn"] == first
    assert len(bedrock.list_evaluation_jobs()["jobSummaries"]) == 1


def test_the_same_token_with_another_body_is_a_conflict(bedrock):
    bedrock.create_evaluation_job(**automated_request("idem", clientRequestToken="token-2"))
    other = automated_request("idem-other", clientRequestToken="token-2")
    with pytest.raises(bedrock.exceptions.ConflictException, match="different request"):
        bedrock.create_evaluation_job(**other)
    assert len(bedrock.list_evaluation_jobs()["jobSummaries"]) == 1


def test_a_token_whose_job_was_deleted_creates_nothing_and_says_so(lb, bedrock):
    request = automated_request("gone", clientRequestToken="token-3")
    arn = bedrock.create_evaluation_job(**request)["jobArn"]
    lb.force_status(arn, "Completed")
    bedrock.batch_delete_evaluation_job(jobIdentifiers=[arn])
    with pytest.raises(bedrock.exceptions.ConflictException, match="deleted"):
        bedrock.create_evaluation_job(**request)
    lb.set_faults(time_scale=0.001)
    wait_for(lambda: bedrock.list_evaluation_jobs()["jobSummaries"] == [])
    with pytest.raises(bedrock.exceptions.ConflictException, match="deleted"):
        bedrock.create_evaluation_job(**request)
    assert bedrock.list_evaluation_jobs()["jobSummaries"] == []
    # A new token is a new request.
    bedrock.create_evaluation_job(**{**request, "clientRequestToken": "token-4"})


def test_import_tokens_follow_the_same_rules(bedrock):
    request = {
        "jobName": "imp",
        "importedModelName": "imp-model",
        "roleArn": "arn:aws:iam::123456789012:role/ImportRole",
        "modelDataSource": {"s3DataSource": {"s3Uri": "s3://my-models/llama3/"}},
        "clientRequestToken": "imp-token",
    }
    arn = bedrock.create_model_import_job(**request)["jobArn"]
    assert bedrock.create_model_import_job(**request)["jobArn"] == arn
    with pytest.raises(bedrock.exceptions.ConflictException, match="different request"):
        bedrock.create_model_import_job(**{**request, "importedModelName": "another"})


# --- General ----------------------------------------------------------------------------------


def test_general_is_the_one_documented_value_beyond_the_task_type_enum():
    assert EXTRA_ENUM_VALUES == {"EvaluationTaskType": ("General",)}
    shape = service_model().shape_for("EvaluationTaskType")
    assert "General" not in shape.enum  # botocore still lacks it; drop the entry once it lists it
    assert enum_values(shape) == (*shape.enum, "General")
    for name, extra in EXTRA_ENUM_VALUES.items():
        meta = service_model().shape_for(name).metadata
        for value in extra:
            assert compile_pattern(meta["pattern"]).fullmatch(value)
            assert meta["min"] <= len(value) <= meta["max"]


def test_values_in_neither_list_stay_refused():
    request = automated_request("x", task_type="general")
    assert [v.message for v in validate("CreateEvaluationJob", request)] == [
        "must be one of: Summarization, Classification, QuestionAndAnswer, Generation, Custom"
    ]


@pytest.mark.parametrize("kind", ["judge", "rag"])
def test_judge_and_rag_jobs_with_general_pass_the_forms_the_contract_and_the_local_bedrock(
    kind, lb, bedrock
):
    # The form offers General first and by default.
    formset = FORMS[kind]().formsets["datasets"]
    for row in [*formset.forms, formset.empty_form]:
        assert row["task_type"].value() == "General"
        assert row.fields["task_type"].choices[1][0] == "General"
    initial = f.VALID[kind](f"{kind}-general")
    initial["datasets"][0]["task_type"] = "General"
    form = FORMS[kind](f.post(kind, initial))
    assert form.is_valid(), form.errors
    request = form.build_request()
    section = request["evaluationConfig"]["automated"]
    assert section["datasetMetricConfigs"][0]["taskType"] == "General"
    assert validate("CreateEvaluationJob", request) == []
    arn = bedrock.create_evaluation_job(**request)["jobArn"]
    job = bedrock.get_evaluation_job(jobIdentifier=arn)
    assert job["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["taskType"] == "General"
    (summary,) = bedrock.list_evaluation_jobs()["jobSummaries"]
    assert summary["evaluationTaskTypes"] == ["General"]


def test_programmatic_and_human_forms_keep_the_models_task_types():
    assert rules.task_types_for("programmatic") == rules.task_types()
    assert rules.task_types_for("human") == rules.task_types()
    assert rules.task_types_for("judge")[0] == "General"


# --- imported models ----------------------------------------------------------------------------


def test_custom_model_units_version_matches_the_models_pattern(lb, bedrock):
    lb.seed(count=40, random_seed=2)
    pattern = service_model().shape_for("CustomModelUnits").members["customModelUnitsVersion"]
    regex = compile_pattern(pattern.metadata["pattern"])
    models = bedrock.list_imported_models()["modelSummaries"]
    assert models
    for summary in models:
        model = bedrock.get_imported_model(modelIdentifier=summary["modelArn"])
        assert regex.fullmatch(model["customModelUnits"]["customModelUnitsVersion"])
