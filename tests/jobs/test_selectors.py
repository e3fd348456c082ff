"""Reads of the evaluation-job mirror: filters, status counts, the detail layout."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from jobs.models import AuditEntry, StatusCount
from jobs.selectors import evaluation_jobs as selectors
from jobs.selectors.evaluation_jobs import EvaluationJobFilters
from jobs.selectors.mirror import audit_entries
from tests.jobs.views.factories import BASE_TIME, description_for, make_job, make_jobs

pytestmark = pytest.mark.django_db


def names(filters: EvaluationJobFilters) -> set[str]:
    return set(selectors.evaluation_job_queryset(filters=filters).values_list("name", flat=True))


def test_filters_normalise_so_equal_filters_share_page_tokens():
    a = EvaluationJobFilters(statuses=("Failed", "Completed", "Failed"), name="  Support ")
    b = EvaluationJobFilters(statuses=("Completed", "Failed"), name="support")
    assert a == b and a.scope() == b.scope()
    assert a.scope() != EvaluationJobFilters(statuses=("Completed", "Failed")).scope()
    assert EvaluationJobFilters().scope() != EvaluationJobFilters(newest_first=False).scope()


def test_each_filter_narrows_the_rows():
    make_job(name="alpha", status="Failed", job_type="Human", task_types=["Custom"])
    make_job(name="beta-rag", application_type="RagEvaluation", models=[])
    make_job(
        name="gamma",
        models=["amazon.nova-pro-v1:0", "meta.llama3-1-70b-instruct-v1:0"],
        task_types=["Summarization", "QuestionAndAnswer"],
    )
    make_job(name="old-one", created_at=BASE_TIME - dt.timedelta(days=30))
    make_job(name="gone", listed=False, vanished_at=timezone.now())
    everything = {"alpha", "beta-rag", "gamma", "old-one"}

    assert names(EvaluationJobFilters()) == everything
    assert names(EvaluationJobFilters(include_vanished=True)) == everything | {"gone"}
    assert names(EvaluationJobFilters(statuses=("Failed",))) == {"alpha"}
    assert names(EvaluationJobFilters(statuses=("Failed", "Completed"))) == everything
    assert names(EvaluationJobFilters(job_type="Human")) == {"alpha"}
    assert names(EvaluationJobFilters(application_type="RagEvaluation")) == {"beta-rag"}
    assert names(EvaluationJobFilters(task_type="QuestionAndAnswer")) == {"gamma"}
    assert names(EvaluationJobFilters(task_type="Custom")) == {"alpha"}
    assert names(EvaluationJobFilters(model="LLAMA3")) == {"gamma"}
    assert names(EvaluationJobFilters(name="BETA")) == {"beta-rag"}
    old_day = (BASE_TIME - dt.timedelta(days=30)).date()
    assert names(EvaluationJobFilters(created_before=old_day)) == {"old-one"}
    assert names(EvaluationJobFilters(created_after=old_day + dt.timedelta(days=1))) == (
        everything - {"old-one"}
    )
    assert names(EvaluationJobFilters(created_after=old_day, created_before=old_day)) == {"old-one"}


def test_list_rows_leave_the_json_columns_in_the_database():
    job = make_job()
    job.description = description_for(job)
    job.save()
    page = selectors.evaluation_job_list(filters=EvaluationJobFilters(), size=10, token=None)
    row = page.items[0]
    assert {"description", "summary"} <= row.get_deferred_fields()


def test_unfiltered_counts_come_from_the_sync_summary():
    make_jobs(3, status="Failed")  # the mirror disagrees: the summary is what is shown
    now = timezone.now()
    StatusCount.objects.bulk_create(
        [
            StatusCount(kind="evaluation_jobs", status="Completed", count=81234, updated_at=now),
            StatusCount(kind="evaluation_jobs", status="Failed", count=17, updated_at=now),
        ]
    )
    chips = selectors.evaluation_job_status_counts(filters=EvaluationJobFilters())
    by_status = {c.status: c for c in chips}
    assert [c.status for c in chips] == list(selectors.STATUSES)
    assert by_status["Completed"].label == "81,234" and by_status["Failed"].label == "17"
    assert by_status["InProgress"].label == "0"
    # A status filter alone still reads the summary, and marks the chosen chip.
    chips = selectors.evaluation_job_status_counts(
        filters=EvaluationJobFilters(statuses=("Failed",))
    )
    assert [c.status for c in chips if c.selected] == ["Failed"]
    assert {c.status: c.count for c in chips}["Completed"] == 81234


def test_filtered_counts_are_bounded():
    make_jobs(7, status="Completed", name="match")
    make_jobs(2, status="Failed", name="match")
    make_jobs(5, status="Failed", name="other")
    StatusCount.objects.create(
        kind="evaluation_jobs", status="Completed", count=999, updated_at=timezone.now()
    )
    chips = selectors.evaluation_job_status_counts(
        filters=EvaluationJobFilters(name="match"), limit=5
    )
    by_status = {c.status: c for c in chips}
    assert by_status["Completed"].capped and by_status["Completed"].label == "5+"
    assert not by_status["Failed"].capped and by_status["Failed"].label == "2"
    exact = selectors.evaluation_job_status_counts(filters=EvaluationJobFilters(name="match"))
    assert {c.status: c.label for c in exact}["Completed"] == "7"


def test_counts_without_a_sync_summary_count_the_mirror():
    make_jobs(4, status="Stopped")
    chips = selectors.evaluation_job_status_counts(filters=EvaluationJobFilters())
    assert {c.status: c.count for c in chips}["Stopped"] == 4


def test_a_job_is_found_by_its_id_listed_rows_first():
    job = make_job()
    assert selectors.evaluation_job_get(resource_id=job.resource_id) == job
    assert selectors.evaluation_job_get(resource_id="nope") is None


def test_audit_entries_of_one_job_newest_first():
    job, other = make_job(), make_job()
    for outcome in ("first", "second"):
        AuditEntry.objects.create(username="u", action="a", target_arn=job.arn, outcome=outcome)
    AuditEntry.objects.create(username="u", action="a", target_arn=other.arn, outcome="x")
    entries = audit_entries(arn=job.arn)
    assert [e.outcome for e in entries] == ["second", "first"]


def test_layout_of_an_undescribed_job():
    layout = selectors.evaluation_job_layout(job=make_job())
    assert layout.described is False


def test_layout_of_an_automated_job():
    job = make_job(status="Failed")
    job.description = description_for(
        job,
        failureMessages=["The role cannot read s3://x"],
        customerEncryptionKeyId="arn:aws:kms:us-east-1:1:key/k",
    )
    layout = selectors.evaluation_job_layout(job=job)
    assert layout.described and layout.evaluation_kind == "Automated"
    assert layout.failure_messages == ["The role cannot read s3://x"]
    assert layout.kms_key.endswith("key/k") and layout.output_uri == "s3://results/evaluations/"
    assert layout.dataset_metric_configs[0].dataset_name == "Builtin.Bold"
    assert layout.dataset_metric_configs[0].metrics == ["Builtin.Toxicity", "Builtin.Robustness"]
    model = layout.models[0]
    assert (
        model.identifier.startswith("anthropic.") and '"maxTokens": 512' in model.inference_params
    )
    assert layout.last_modified == job.created_at
    assert '"jobName"' in layout.raw_json


def test_layout_of_a_human_job_and_a_judge_job():
    job = make_job(job_type="Human")
    job.description = description_for(
        job,
        evaluationConfig={
            "human": {
                "humanWorkflowConfig": {"flowDefinitionArn": "arn:flow", "instructions": "Be fair"},
                "customMetrics": [
                    {"name": "Tone", "description": "Friendly?", "ratingMethod": "ThumbsUpDown"}
                ],
                "datasetMetricConfigs": [],
            }
        },
    )
    layout = selectors.evaluation_job_layout(job=job)
    assert layout.human_flow_arn == "arn:flow" and layout.human_instructions == "Be fair"
    assert layout.custom_metrics[0].rating_method == "ThumbsUpDown"

    judge = make_job()
    judge.description = description_for(
        judge,
        evaluationConfig={
            "automated": {
                "datasetMetricConfigs": [],
                "evaluatorModelConfig": {
                    "bedrockEvaluatorModels": [{"modelIdentifier": "judge-1"}]
                },
                "customMetricConfig": {
                    "customMetrics": [{"customMetricDefinition": {"name": "Empathy"}}],
                    "evaluatorModelConfig": {
                        "bedrockEvaluatorModels": [{"modelIdentifier": "judge-2"}]
                    },
                },
            }
        },
        inferenceConfig={
            "models": [{"precomputedInferenceSource": {"inferenceSourceIdentifier": "bot-v1"}}]
        },
    )
    layout = selectors.evaluation_job_layout(job=judge)
    assert layout.evaluator_models == ["judge-1"] and layout.custom_metric_evaluators == ["judge-2"]
    assert (
        layout.custom_metrics[0].name == "Empathy"
        and '"Empathy"' in layout.custom_metrics[0].definition
    )
    assert layout.models[0].kind == "Precomputed inference source"
