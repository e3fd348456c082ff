"""Reading completed jobs' outputs (written by hand in outputs.py, put in the local S3 over real
HTTP) into aggregates and records: exact figures per kind, idempotency, replacement, errors,
truncation and tombstones."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs.bedrock.client import get_client
from jobs.bedrock.s3 import s3_put_object
from jobs.models import EvaluationResultSet, ResultAggregate, ResultRecord, ResultScore
from jobs.results.ingest import evaluation_results_fetch
from tests.jobs.results import outputs
from tests.jobs.results.conftest import aggregates, put_outputs

pytestmark = pytest.mark.django_db

UNIT = [0] * 10


def bins(*indexes: int) -> list[int]:
    counts = list(UNIT)
    for i in indexes:
        counts[i] += 1
    return counts


def auto(prompts, scored, mean, stddev, counts):
    return {
        "prompts": prompts,
        "scored": scored,
        "mean": mean,
        "stddev": stddev,
        "counts": counts,
        "method": "",
        "distribution": {},
    }


# --- the four kinds ---------------------------------------------------------------------------


def test_an_automatic_job_gives_exact_aggregates_and_counts_bad_lines(job_with_outputs):
    job = job_with_outputs("auto-eval", outputs.automatic())

    result_set = evaluation_results_fetch(job_id=job.pk)

    assert result_set.state == "ready", result_set.error_message
    assert (result_set.files, result_set.lines, result_set.bad_lines) == (3, 8, 3)
    assert result_set.records == 6 and not result_set.records_truncated
    assert result_set.s3_uri == f"s3://eval-out/runs/auto-eval/{job.resource_id}/"
    claude = outputs.CLAUDE
    assert aggregates(result_set) == {
        ("Builtin.BoolQ", claude, "Accuracy"): auto(
            4, 4, 0.55, 0.3416, [0, 0, 1, 0, 1, 0, 1, 0, 0, 1]
        ),
        ("Builtin.BoolQ", claude, "Robustness"): auto(4, 2, 0.8, 0.1414, bins(7, 9)),
        ("Builtin.TriviaQA", claude, "Accuracy"): auto(2, 2, 0.5, 0.7071, bins(0, 9)),
    }
    q2 = result_set.result_records.get(prompt="q2")
    assert (q2.dataset, q2.model, q2.position) == ("Builtin.BoolQ", claude, 2)
    assert (q2.reference, q2.response) == ("ref q2", "answer to q2")
    assert q2.scores == {"Accuracy": 0.4, "Robustness": None}
    import hashlib

    assert q2.prompt_hash == hashlib.sha256(b"q2").hexdigest()
    # One score row per metric of each record, nulls included ("only nulls" filters on them).
    assert ResultScore.objects.filter(result_set=result_set).count() == 4 * 2 - 1 + 2
    assert set(ResultScore.objects.filter(record=q2).values_list("metric", "value")) == {
        ("Accuracy", 0.4),
        ("Robustness", None),
    }
    # Positions follow (file, line) within each dataset, across files.
    assert list(
        result_set.result_records.filter(dataset="Builtin.TriviaQA")
        .order_by("position")
        .values_list("prompt", "position")
    ) == [("t1", 1), ("t2", 2)]


def test_a_judge_job_with_its_own_inference_nested_one_level_deeper(job_with_outputs):
    job = job_with_outputs("judge-eval", outputs.judge(), nested=True)
    # Another job of the same name (deleted, then the name reused) shares the prefix.
    other = {
        "models/x/taskTypes/General/datasets/support/1_output.jsonl": outputs.jsonl(
            outputs.judge_line("other", 0.0, 0.0, "other job")
        )
    }
    for key, body in other.items():
        s3_put_object(bucket="eval-out", key=f"runs/judge-eval/zzzzotherjob/{key}", body=body)
        # And a job whose name starts with this one's.
        s3_put_object(
            bucket="eval-out", key=f"runs/judge-eval-v2/{job.resource_id}/{key}", body=body
        )

    result_set = evaluation_results_fetch(job_id=job.pk)

    assert result_set.state == "ready", result_set.error_message
    assert (result_set.files, result_set.lines, result_set.bad_lines, result_set.records) == (
        1,
        3,
        0,
        3,
    )
    assert aggregates(result_set) == {
        ("support", outputs.BYOI, "Builtin.Completeness"): auto(3, 3, 0.75, 0.25, bins(5, 7, 9)),
        ("support", outputs.BYOI, "Builtin.Correctness"): auto(3, 2, 0.5, 0.7071, bins(0, 9)),
    }
    p2 = result_set.result_records.get(prompt="p2")
    assert p2.response == "byoi p2"
    assert p2.scores == {"Builtin.Correctness": None, "Builtin.Completeness": 0.75}
    assert p2.explanations == {"Builtin.Correctness": "The judge's answer could not be parsed."}


def test_a_two_model_human_job_gives_distributions_per_rating_method(job_with_outputs):
    job = job_with_outputs("human-eval", outputs.human(), job_type="Human")

    result_set = evaluation_results_fetch(job_id=job.pk)

    assert result_set.state == "ready", result_set.error_message
    assert (result_set.lines, result_set.bad_lines, result_set.records) == (4, 2, 6)
    ds, haiku, nova = "support-prompts", outputs.HAIKU, outputs.NOVA

    def human(scored, mean, stddev, counts, method, distribution):
        return {
            "prompts": 3,
            "scored": scored,
            "mean": mean,
            "stddev": stddev,
            "counts": counts,
            "method": method,
            "distribution": distribution,
        }

    likert = {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}
    assert aggregates(result_set) == {
        (ds, haiku, "Helpfulness"): human(
            4, 0.75, 0.5, [1, 3], "thumbsUpDown", {"up": 3, "down": 1}
        ),
        (ds, nova, "Helpfulness"): human(
            3, 0.6667, 0.5774, [1, 2], "thumbsUpDown", {"up": 2, "down": 1}
        ),
        (ds, haiku, "Style"): human(
            3, 4.0, 1.0, [0, 0, 1, 1, 1], "individualLikertScale", likert | {"3": 1, "4": 1, "5": 1}
        ),
        (ds, nova, "Style"): human(
            4,
            3.5,
            1.291,
            [0, 1, 1, 1, 1],
            "individualLikertScale",
            likert | {"2": 1, "3": 1, "4": 1, "5": 1},
        ),
        (ds, haiku, "Preference"): human(
            3, 0.3333, 0.5774, [2, 1], "comparisonChoice", {"wins": 1, "losses": 2, "ties": 1}
        ),
        (ds, nova, "Preference"): human(
            3, 0.6667, 0.5774, [1, 2], "comparisonChoice", {"wins": 2, "losses": 1, "ties": 1}
        ),
        (ds, haiku, "Rank"): human(4, 1.5, 0.5774, [2, 2], "comparisonRank", {"1": 2, "2": 2}),
        (ds, nova, "Rank"): human(4, 1.5, 0.5774, [2, 2], "comparisonRank", {"1": 2, "2": 2}),
    }
    # One record per model and prompt, sharing the position; scores average the workers.
    h2 = {r.model: r for r in result_set.result_records.filter(prompt="h2")}
    assert {r.position for r in h2.values()} == {2}
    assert h2[haiku].response == "haiku says h2" and h2[nova].response == "nova says h2"
    assert h2[haiku].scores == {
        "Helpfulness": 0.5,
        "Style": 3.5,
        "Preference": 0.0,
        "Rank": 2.0,
    }
    h3 = result_set.result_records.get(prompt="h3", model=haiku)
    assert h3.scores["Style"] is None and h3.scores["Preference"] is None


def test_a_retrieve_and_generate_rag_job_counts_every_turn(job_with_outputs):
    job = job_with_outputs("rag-eval", outputs.rag_generate(), application_type="RagEvaluation")

    result_set = evaluation_results_fetch(job_id=job.pk)

    assert result_set.state == "ready", result_set.error_message
    assert (result_set.lines, result_set.bad_lines, result_set.records) == (3, 1, 3)
    assert aggregates(result_set) == {
        ("kb-questions", outputs.KB, "Builtin.Correctness"): auto(3, 3, 0.5, 0.5, bins(0, 5, 9)),
        ("kb-questions", outputs.KB, "Builtin.Faithfulness"): auto(3, 2, 0.85, 0.0707, bins(8, 9)),
    }
    turns = list(result_set.result_records.order_by("position"))
    assert [(r.position, r.prompt, r.response) for r in turns] == [
        (1, "r1", "Paris."),
        (2, "r1 follow-up", "It is big."),
        (3, "r2", "No."),
    ]
    assert turns[0].reference == "reference for r1"
    assert turns[0].explanations == {"Builtin.Faithfulness": "Grounded."}


def test_a_retrieve_only_rag_job_shows_the_retrieved_passages(job_with_outputs):
    job = job_with_outputs("rag-retrieve", outputs.rag_retrieve())

    result_set = evaluation_results_fetch(job_id=job.pk)

    assert aggregates(result_set) == {
        ("kb-q", outputs.KB_RETRIEVE, "Builtin.ContextCoverage"): auto(2, 1, 1.0, None, bins(9)),
        ("kb-q", outputs.KB_RETRIEVE, "Builtin.ContextRelevance"): auto(
            2, 2, 0.5, 0.3536, bins(2, 7)
        ),
    }
    k1 = result_set.result_records.get(prompt="k1")
    assert k1.response == "passage A for k1\n\npassage B for k1"


def test_hostile_lines_are_counted_never_fatal(job_with_outputs):
    job = job_with_outputs("hostile", outputs.hostile())

    result_set = evaluation_results_fetch(job_id=job.pk)

    assert result_set.state == "ready", result_set.error_message
    assert (result_set.lines, result_set.bad_lines, result_set.records) == (9, 7, 7)
    assert aggregates(result_set) == {
        ("hostile", "m", "Accuracy"): auto(7, 2, 0.75, 0.3536, bins(5, 9)),
    }
    first = result_set.result_records.get(position=1)
    # No NUL (PostgreSQL refuses it), the lone surrogate replaced: storable on any backend.
    assert first.prompt == "ok  with a NUL and a lone ? surrogate"


# --- idempotency and replacement --------------------------------------------------------------


def test_fetching_the_same_files_again_writes_nothing(job_with_outputs):
    job = job_with_outputs("auto-eval", outputs.automatic())
    first = evaluation_results_fetch(job_id=job.pk)
    ids = (
        sorted(ResultAggregate.objects.values_list("pk", flat=True)),
        sorted(ResultRecord.objects.values_list("pk", flat=True)),
        sorted(ResultScore.objects.values_list("pk", flat=True)),
    )

    with CaptureQueriesContext(connection) as queries:
        again = evaluation_results_fetch(job_id=job.pk)

    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")
        and "jobs_tasklock" not in q["sql"]  # the per-job lease
    ]
    assert writes == []
    assert again.pk == first.pk and again.updated_at == first.updated_at
    assert ids == (
        sorted(ResultAggregate.objects.values_list("pk", flat=True)),
        sorted(ResultRecord.objects.values_list("pk", flat=True)),
        sorted(ResultScore.objects.values_list("pk", flat=True)),
    )


def test_force_reads_the_same_files_again(job_with_outputs):
    job = job_with_outputs("auto-eval", outputs.automatic())
    first = evaluation_results_fetch(job_id=job.pk)
    old_records = set(ResultRecord.objects.values_list("pk", flat=True))

    again = evaluation_results_fetch(job_id=job.pk, force=True)

    assert aggregates(again) == aggregates(first)
    assert old_records.isdisjoint(ResultRecord.objects.values_list("pk", flat=True))
    assert ResultRecord.objects.count() == 6


def test_changed_files_replace_the_previous_results_whole(job_with_outputs):
    job = job_with_outputs("auto-eval", outputs.automatic())
    evaluation_results_fetch(job_id=job.pk)
    old_records = set(ResultRecord.objects.values_list("pk", flat=True))
    # The TriviaQA files are rewritten with other results; BoolQ stays.
    files = outputs.automatic()
    key = next(k for k in files if "TriviaQA/0b22" in k)
    put_outputs(
        job,
        {key: outputs.jsonl(outputs.auto_line("t2", [{"metricName": "Accuracy", "result": 1}]))},
    )

    result_set = evaluation_results_fetch(job_id=job.pk)

    got = aggregates(result_set)
    assert got[("Builtin.TriviaQA", outputs.CLAUDE, "Accuracy")] == auto(2, 2, 1.0, 0.0, bins(9, 9))
    assert len(got) == 3
    assert ResultRecord.objects.count() == 6
    assert old_records.isdisjoint(ResultRecord.objects.values_list("pk", flat=True))
    assert ResultScore.objects.filter(result_set=result_set).count() == 9


def test_a_failed_refetch_leaves_the_previous_results_untouched(job_with_outputs):
    job = job_with_outputs("auto-eval", outputs.automatic())
    first = evaluation_results_fetch(job_id=job.pk)
    before = aggregates(first), sorted(ResultRecord.objects.values_list("pk", flat=True))
    prefix = f"runs/auto-eval/{job.resource_id}/"
    # The listing finds a new file, then reading it is forbidden (botocore's Stubber: the
    # local S3 grants every read).
    client = get_client("s3")
    with Stubber(client) as stub:
        stub.add_response(
            "list_objects_v2",
            {
                "Contents": [
                    {"Key": prefix + "datasets/new/x_output.jsonl", "Size": 9, "ETag": '"e"'}
                ],
                "IsTruncated": False,
            },
        )
        stub.add_client_error("get_object", service_error_code="AccessDenied", http_status_code=403)
        result_set = evaluation_results_fetch(job_id=job.pk)

    assert result_set.state == "failed"
    assert result_set.error_code == "AccessDenied"
    assert (
        result_set.error_message
        == f"AccessDenied on s3://eval-out/{prefix}datasets/new/x_output.jsonl"
    )
    assert (
        aggregates(result_set),
        sorted(ResultRecord.objects.values_list("pk", flat=True)),
    ) == before


# --- errors -----------------------------------------------------------------------------------


def test_access_denied_on_the_listing_fails_the_set_saying_where(job_with_outputs):
    job = job_with_outputs("auto-eval", outputs.automatic())
    with Stubber(get_client("s3")) as stub:
        stub.add_client_error(
            "list_objects_v2", service_error_code="AccessDenied", http_status_code=403
        )
        result_set = evaluation_results_fetch(job_id=job.pk)

    assert result_set.state == "failed" and result_set.is_settled
    assert result_set.error_code == "AccessDenied"
    assert result_set.error_message == "AccessDenied on s3://eval-out/runs/auto-eval/"
    assert not result_set.aggregates.exists()


def test_a_missing_bucket_fails_the_set(job_with_outputs, local_s3):
    job = job_with_outputs("auto-eval", outputs.automatic())
    job.description["outputDataConfig"]["s3Uri"] = "s3://no-such-bucket/runs/"
    job.save()

    result_set = evaluation_results_fetch(job_id=job.pk)

    assert (result_set.state, result_set.error_code) == ("failed", "NoSuchBucket")
    assert result_set.error_message == "NoSuchBucket on s3://no-such-bucket/runs/auto-eval/"


def test_a_job_without_output_fails_the_set(job_with_outputs):
    job = job_with_outputs("empty-eval", {"custom_metrics/tone.json": b"{}"})

    result_set = evaluation_results_fetch(job_id=job.pk)

    assert (result_set.state, result_set.error_code) == ("failed", "NoOutput")
    assert result_set.error_message == (
        f"No evaluation output (*_output.jsonl) under s3://eval-out/runs/empty-eval/{job.resource_id}/"
    )


def test_a_job_that_is_not_completed_is_left_alone(job_with_outputs):
    job = job_with_outputs("auto-eval", outputs.automatic(), status="InProgress")

    assert evaluation_results_fetch(job_id=job.pk) is None
    assert not EvaluationResultSet.objects.exists()


def test_records_stop_at_the_cap_but_aggregates_cover_every_line(job_with_outputs, settings):
    settings.RESULTS_MAX_RECORDS = 3
    job = job_with_outputs("auto-eval", outputs.automatic())

    result_set = evaluation_results_fetch(job_id=job.pk)

    assert (result_set.records, result_set.records_truncated) == (3, True)
    assert ResultRecord.objects.count() == 3
    assert aggregates(result_set)[("Builtin.TriviaQA", outputs.CLAUDE, "Accuracy")]["scored"] == 2


def test_a_tombstone_keeps_its_results(job_with_outputs):
    job = job_with_outputs("auto-eval", outputs.automatic())
    first = evaluation_results_fetch(job_id=job.pk)
    job.listed = False  # Bedrock no longer lists it (deleted)
    job.save()

    again = evaluation_results_fetch(job_id=job.pk)

    assert again.state == "ready" and aggregates(again) == aggregates(first)
