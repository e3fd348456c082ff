"""One output line to normalized records (parse.py), and the accumulators (aggregate.py)."""

from __future__ import annotations

import json
import math
import statistics

import pytest

from jobs.results import aggregate, parse
from tests.jobs.results import outputs


def line(obj) -> bytes:
    return json.dumps(obj).encode()


# --- shapes -----------------------------------------------------------------------------------


def test_an_automatic_line_gives_one_record_with_scores_as_written():
    parsed = parse.parse_line(
        line(
            outputs.auto_line(
                "q",
                [
                    {"metricName": "Builtin.Accuracy", "result": 0.25},
                    {"metricName": "Accuracy", "result": None},
                ],
            )
        )
    )
    assert parsed.kind == "automatic" and parsed.problems == 0
    [item] = parsed.items
    assert (item.model, item.prompt, item.reference, item.response) == (
        outputs.CLAUDE,
        "q",
        "ref q",
        "answer to q",
    )
    # Metric names are kept exactly as written: these are two metrics.
    assert item.scores == {"Builtin.Accuracy": 0.25, "Accuracy": None}


def test_the_key_path_names_the_model_when_the_record_does_not():
    raw = line({"automatedEvaluationResult": {"scores": []}, "inputRecord": {"prompt": "p"}})
    assert parse.parse_line(raw, model_hint="amazon.nova-pro-v1:0").items[0].model == (
        "amazon.nova-pro-v1:0"
    )


def test_a_judge_line_keeps_the_explanations_and_nulls():
    [item] = parse.parse_line(line(outputs.judge_line("p", None, 1, "Unparseable."))).items
    assert item.model == outputs.BYOI and item.response == "byoi p"
    assert item.scores == {"Builtin.Correctness": None, "Builtin.Completeness": 1.0}
    assert item.explanations == {"Builtin.Correctness": "Unparseable."}


def test_a_rag_line_gives_one_record_per_turn_up_to_five():
    turn = outputs.rag_turn(
        "x", [{"metricName": "Builtin.Correctness", "result": 1}], text="y", kb="KB1"
    )
    parsed = parse.parse_line(line({"conversationTurns": [turn] * 7}))
    assert parsed.kind == "rag" and [i.turn for i in parsed.items] == [0, 1, 2, 3, 4]
    assert parsed.problems == 1  # more than five turns is not a shape Bedrock writes
    assert parsed.items[0].model == "KB1" and parsed.items[0].prompt == "x"


def test_a_human_line_without_an_id_map_takes_the_models_from_the_responses():
    obj = outputs.human_line(
        "h",
        [
            outputs.human_answer(
                "w",
                {"thumbsUpDown": [{"metricName": "Ok", "modelResponseId": "0", "result": True}]},
            )
        ],
    )
    del obj["humanEvaluationResult"][0]["modelResponseIdMap"]
    obj["modelResponses"] = obj["modelResponses"][:1]
    [item] = parse.parse_line(line(obj)).items
    assert item.model == outputs.HAIKU and item.scores == {"Ok": 1.0}
    assert [(a.metric, a.method, a.value, a.label) for a in item.answers] == [
        ("Ok", "thumbsUpDown", 1.0, "up")
    ]


def test_an_unknown_rating_method_is_a_problem_not_a_crash():
    obj = outputs.human_line(
        "h", [outputs.human_answer("w", {"starRating": [{"metricName": "S", "result": 3}]})]
    )
    parsed = parse.parse_line(line(obj))
    assert parsed.problems == 1 and all(i.scores == {} for i in parsed.items)


# --- hostile lines ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b"[" * 100_000 + b"]" * 100_000,
        b"{not json",
        b"[1, 2]",
        b'"just a string"',
        b"\xff\xfe\x00",
        b'{"unknown": {"scores": []}}',
        b'{"conversationTurns": []}',
        b'{"conversationTurns": [1, 2]}',
        b'{"humanEvaluationResult": 5}',
    ],
)
def test_lines_that_cannot_be_read_raise_a_parse_error(raw):
    with pytest.raises(parse.ParseError):
        parse.parse_line(raw)


@pytest.mark.parametrize(
    "literal",
    [
        b"1e400",
        b"-1e400",
        b"NaN",
        b"Infinity",
        b"-Infinity",
        b'"0.5"',
        b"true",
        b"{}",
        b"[]",
        b"1e13",
        b"9" * 5000,
    ],
)
def test_results_that_are_not_finite_numbers_are_unscored_problems(literal):
    raw = (
        b'{"automatedEvaluationResult": {"scores": [{"metricName": "A", "result": '
        + literal
        + b"}]}}"
    )
    parsed = parse.parse_line(raw)
    assert parsed.problems == 1 and parsed.items[0].scores == {"A": None}


@pytest.mark.parametrize("metric", [None, 3, "", "  ", ["A"], "x" * 256])
def test_scores_without_a_usable_metric_name_are_problems(metric):
    raw = line({"automatedEvaluationResult": {"scores": [{"metricName": metric, "result": 1}]}})
    parsed = parse.parse_line(raw)
    assert parsed.problems == 1 and parsed.items[0].scores == {}


def test_text_is_made_storable():
    raw = line(outputs.auto_line("a\x00b\ud800c" + "z" * 100_000, []))
    item = parse.parse_line(raw).items[0]
    assert item.prompt.startswith("ab?c") and len(item.prompt) == parse.MAX_TEXT_CHARS - 1


# --- aggregates -------------------------------------------------------------------------------


def stats_of(values, method=""):
    stats = aggregate.MetricStats(method)
    for v in values:
        stats.add(v)
    return stats


def test_the_standard_deviation_is_the_sample_one():
    values = [0.1, 0.4, 0.4, 0.9, None]
    stats = stats_of(values)
    present = [v for v in values if v is not None]
    assert stats.n == 4
    assert math.isclose(stats.mean, statistics.fmean(present))
    assert math.isclose(stats.stddev, statistics.stdev(present))
    assert stats_of([0.3]).stddev is None and stats_of([]).as_fields()["mean"] is None


def test_histograms_have_fixed_edges_by_kind_of_metric():
    assert stats_of([0.0, 0.1, 0.95, 1.0]).histogram() == {
        "edges": aggregate.UNIT_EDGES,
        "counts": [1, 1, 0, 0, 0, 0, 0, 0, 0, 2],
    }
    assert stats_of([1, 5, 5], "individualLikertScale").histogram() == {
        "edges": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5],
        "counts": [1, 0, 0, 0, 2],
    }
    assert stats_of([1, 1, 3], "comparisonRank").histogram() == {
        "edges": [0.5, 1.5, 2.5, 3.5],
        "counts": [2, 0, 1],
    }
    assert stats_of([0, 1, 1], "thumbsUpDown").histogram() == {
        "edges": [0.0, 0.5, 1.0],
        "counts": [1, 2],
    }
    # A custom metric on 0..10: one bin per integer; continuous beyond [0, 1]: ten bins.
    assert stats_of([0, 7, 10]).histogram()["counts"] == [1] + [0] * 6 + [1, 0, 0, 1]
    assert stats_of([-1.5, 0.5, 8.5]).histogram() == {
        "edges": [-1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5],
        "counts": [1, 0, 1, 0, 0, 0, 0, 0, 0, 1],
    }
    many = stats_of([2 + i / 10_000 for i in range(aggregate.MAX_DISTINCT + 1)])
    assert many.histogram() == {"edges": [2.0, many.max], "counts": [aggregate.MAX_DISTINCT + 1]}
    assert stats_of([None]).histogram() == {"edges": [], "counts": []}
