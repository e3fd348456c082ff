"""Evaluation outputs written by hand from /work/shared/bedrock-eval-output.md (not by the local
Bedrock): one job of each kind, with the awkward cases the document warns of. Each builder
returns {key below the job's prefix: file body}; the tests put them in the local S3 and
assert aggregates computed by hand in the comments."""

from __future__ import annotations

import json
from typing import Any

BUCKET = "eval-out"
BASE = "runs"  # the jobs' outputDataConfig.s3Uri is s3://eval-out/runs/
CLAUDE = "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-v2"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
NOVA = "amazon.nova-pro-v1:0"
BYOI = "my-own-chatbot"
KB = "KB12345678"
KB_RETRIEVE = "KBRETRIEVE1"
MARKER = "amazon-bedrock-evaluations-permission-check"


def jsonl(*lines: Any) -> bytes:
    """Objects as JSON lines; bytes and str are written as they are (malformed lines)."""
    out = []
    for line in lines:
        if isinstance(line, bytes):
            out.append(line)
        elif isinstance(line, str):
            out.append(line.encode())
        else:
            out.append(json.dumps(line).encode())
    return b"\n".join(out) + b"\n"


# --- automatic (programmatic metrics) ---------------------------------------------------------


def auto_line(prompt: str, scores: list[dict], model: str = CLAUDE) -> dict:
    return {
        "automatedEvaluationResult": {"scores": scores},
        "inputRecord": {"prompt": prompt, "referenceResponse": f"ref {prompt}", "category": "c"},
        "modelResponses": [{"modelIdentifier": model, "response": f"answer to {prompt}"}],
    }


def automatic() -> dict[str, bytes]:
    """Builtin.BoolQ, one model:
    Accuracy 0.2, 0.4, 0.6, 1.0 -> prompts 4, scored 4, mean 0.55, sample sd 0.341565,
      histogram (10 bins over [0, 1]) [0,0,1,0,1,0,1,0,0,1];
    Robustness 0.9, null, 0.7, (absent) -> prompts 4, scored 2, mean 0.8, sd 0.141421.
    Lines: 4 good + 1 not JSON + 1 of no known shape; the third good line also has a score of
    an unknown shape (no metricName): 6 lines, 3 bad. A blank line is not a line.
    Builtin.TriviaQA: Accuracy 1, 0 -> mean 0.5, sd 0.707107; one record in a second file."""
    d = "models/anthropic.claude-v2/taskTypes/QuestionAndAnswer/datasets"
    boolq = jsonl(
        auto_line(
            "q1",
            [
                {"metricName": "Accuracy", "result": 0.2},
                {"metricName": "Robustness", "result": 0.9},
            ],
        ),
        auto_line(
            "q2",
            [
                {"metricName": "Accuracy", "result": 0.4},
                {"metricName": "Robustness", "result": None},
            ],
        ),
        "{not json",
        "",
        auto_line(
            "q3",
            [
                {"metricName": "Accuracy", "result": 0.6},
                {"metricName": "Robustness", "result": 0.7},
                {"name": "Mystery", "value": 3},
            ],
        ),
        {"somethingElse": {"scores": []}},
        auto_line("q4", [{"metricName": "Accuracy", "result": 1}]),
    )
    trivia_a = jsonl(auto_line("t1", [{"metricName": "Accuracy", "result": 1}]))
    trivia_b = jsonl(auto_line("t2", [{"metricName": "Accuracy", "result": 0}]))
    return {
        f"{d}/Builtin.BoolQ/1b7c0e8e_output.jsonl": boolq,
        f"{d}/Builtin.TriviaQA/0a11aa11_output.jsonl": trivia_a,
        f"{d}/Builtin.TriviaQA/0b22bb22_output.jsonl": trivia_b,
    }


# --- LLM-as-a-judge, bring your own inference, one more directory level -----------------------


def judge_line(prompt: str, correctness, completeness, explanation: str) -> dict:
    judge = "anthropic.claude-3-5-sonnet-20240620-v1:0"
    return {
        "automatedEvaluationResult": {
            "scores": [
                {
                    "metricName": "Builtin.Correctness",
                    "result": correctness,
                    "evaluatorDetails": [{"modelIdentifier": judge, "explanation": explanation}],
                },
                {"metricName": "Builtin.Completeness", "result": completeness},
            ]
        },
        # Bring-your-own-inference: the responses sit inside inputRecord.
        "inputRecord": {
            "prompt": prompt,
            "referenceResponse": "ref",
            "modelResponses": [{"modelIdentifier": BYOI, "response": f"byoi {prompt}"}],
        },
    }


def judge() -> dict[str, bytes]:
    """Dataset "support", model my-own-chatbot (from the records):
    Builtin.Correctness 1.0, null, 0.0 -> prompts 3, scored 2, mean 0.5, sd 0.707107;
    Builtin.Completeness 0.5, 0.75, 1.0 -> scored 3, mean 0.75, sd 0.25, bins 5, 7 and 9.
    Written one level deeper (<jobName>/<jobName>/<jobId>/), with custom metric definitions."""
    return {
        "models/my-own-chatbot/taskTypes/General/datasets/support/77e1_output.jsonl": jsonl(
            judge_line("p1", 1.0, 0.5, "Right."),
            judge_line("p2", None, 0.75, "The judge's answer could not be parsed."),
            judge_line("p3", 0.0, 1.0, "Wrong."),
        ),
        "custom_metrics/tone.json": b'{"customMetricDefinition": {"name": "tone"}}',
    }


# --- human, two models ------------------------------------------------------------------------


def human_answer(worker: str, results: dict[str, list[dict]]) -> dict:
    return {
        "workerId": worker,
        "submissionTime": "2026-06-01T12:00:00Z",
        "timeSpentInSeconds": 42.0,
        "answerContent": {"evaluationResults": results},
    }


def human_line(prompt: str, answers: list[dict]) -> dict:
    return {
        "humanEvaluationResult": [
            {
                "flowDefinitionArn": "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/f",
                "humanLoopName": "loop-" + prompt,
                "humanAnswers": answers,
                "inputContent": {
                    "evaluationMetrics": [
                        {"name": "Helpfulness", "ratingMethod": "ThumbsUpDown"},
                        {"name": "Style", "ratingMethod": "IndividualLikertScale"},
                        {"name": "Preference", "ratingMethod": "ComparisonChoice"},
                        {"name": "Rank", "ratingMethod": "ComparisonRank"},
                    ],
                    "instructions": "Be fair.",
                },
                "modelResponseIdMap": {"0": HAIKU, "1": NOVA},
            }
        ],
        "inputRecord": {"prompt": prompt, "referenceResponse": "ref " + prompt},
        "modelResponses": [
            {"modelIdentifier": HAIKU, "response": "haiku says " + prompt},
            {"modelIdentifier": NOVA, "response": "nova says " + prompt},
        ],
    }


def _per_model(metric: str, first, second) -> list[dict]:
    return [
        {"metricName": metric, "modelResponseId": "0", "result": first},
        {"metricName": metric, "modelResponseId": "1", "result": second},
    ]


def human() -> dict[str, bytes]:
    """Dataset "support-prompts", two models (0: haiku, 1: nova); line 2 has two workers.

    Helpfulness (thumbs): haiku 1 | 1, 0 | 1 -> up 3 down 1, mean 0.75, sd 0.5;
                          nova 0 | 1, 1 | null -> up 2 down 1, scored 3, mean 2/3, sd 0.57735.
    Style (Likert): haiku 5 | 4, 3 | "excellent" (unreadable) -> scored 3, mean 4, sd 1;
                    nova 3 | 4, 5 | 2 -> scored 4, mean 3.5, sd 1.290994.
    Preference (choice): line 1 chooses haiku (its entry true); line 2 worker A names "1"
      (nova), worker B marks nova's entry 1; line 3 marks both (a tie) ->
      haiku wins 1 losses 2 ties 1 (mean 1/3); nova wins 2 losses 1 ties 1 (mean 2/3).
    Rank: haiku 1 | 2, 2 | 1, nova 2 | 1, 1 | 2 -> both {"1": 2, "2": 2}, mean 1.5.
    Lines: 3 good + 1 whose humanEvaluationResult is not a list; bad: that one and line 3."""
    line1 = human_line(
        "h1",
        [
            human_answer(
                "w1",
                {
                    "thumbsUpDown": _per_model("Helpfulness", 1, 0),
                    "individualLikertScale": _per_model("Style", 5, 3),
                    "comparisonChoice": [
                        {"metricName": "Preference", "modelResponseId": "0", "result": True}
                    ],
                    "comparisonRank": _per_model("Rank", 1, 2),
                },
            )
        ],
    )
    line2 = human_line(
        "h2",
        [
            human_answer(
                "w1",
                {
                    "thumbsUpDown": _per_model("Helpfulness", 1, 1),
                    "individualLikertScale": _per_model("Style", 4, 4),
                    "comparisonChoice": [{"metricName": "Preference", "result": "1"}],
                    "comparisonRank": _per_model("Rank", 2, 1),
                },
            ),
            human_answer(
                "w2",
                {
                    "thumbsUpDown": _per_model("Helpfulness", 0, 1),
                    "individualLikertScale": _per_model("Style", 3, 5),
                    "comparisonChoice": _per_model("Preference", 0, 1),
                    "comparisonRank": _per_model("Rank", 2, 1),
                },
            ),
        ],
    )
    line3 = human_line(
        "h3",
        [
            human_answer(
                "w3",
                {
                    "thumbsUpDown": _per_model("Helpfulness", 1, None),
                    "individualLikertScale": _per_model("Style", "excellent", 2),
                    "comparisonChoice": _per_model("Preference", 1, 1),
                    "comparisonRank": _per_model("Rank", 1, 2),
                },
            )
        ],
    )
    broken = {"humanEvaluationResult": "oops", "inputRecord": {"prompt": "h4"}}
    return {"datasets/support-prompts/5e5e_output.jsonl": jsonl(line1, line2, line3, broken)}


# --- RAG --------------------------------------------------------------------------------------


def rag_turn(prompt: str, results: list[dict], *, text: str | None, kb: str) -> dict:
    output: dict[str, Any] = {
        "knowledgeBaseIdentifier": kb,
        "retrievedPassages": {
            "retrievalResults": [
                {"content": {"text": f"passage A for {prompt}"}},
                {"content": {"text": f"passage B for {prompt}"}},
            ]
        },
    }
    if text is not None:
        output |= {
            "text": text,
            "modelIdentifier": "anthropic.claude-3-haiku-20240307-v1:0",
            "citations": [
                {
                    "generatedResponsePart": {
                        "textResponsePart": {"span": {"start": 0, "end": 4}, "text": text[:4]}
                    },
                    "retrievedReferences": [],
                }
            ],
        }
    return {
        "inputRecord": {
            "prompt": {"content": [{"text": prompt}]},
            "referenceResponses": [{"content": [{"text": f"reference for {prompt}"}]}],
        },
        "output": output,
        "results": results,
    }


def _r(metric: str, result, explanation: str = "") -> dict:
    entry: dict[str, Any] = {"metricName": metric, "result": result}
    if explanation:
        entry["evaluatorDetails"] = [{"modelIdentifier": "judge", "explanation": explanation}]
    return entry


def rag_generate() -> dict[str, bytes]:
    """Retrieve-and-generate, knowledge base KB12345678, dataset kb-questions:
    Builtin.Correctness 1.0, 0.5 (turns 1-2 of line 1), 0.0 -> prompts 3, mean 0.5, sd 0.5;
    Builtin.Faithfulness 0.8, null, 0.9 -> scored 2, mean 0.85, sd 0.070711.
    Lines: 2 good + 1 with no turns (bad)."""
    c, f = "Builtin.Correctness", "Builtin.Faithfulness"
    line1 = {
        "conversationTurns": [
            rag_turn("r1", [_r(c, 1.0), _r(f, 0.8, "Grounded.")], text="Paris.", kb=KB),
            rag_turn("r1 follow-up", [_r(c, 0.5), _r(f, None)], text="It is big.", kb=KB),
        ]
    }
    line2 = {"conversationTurns": [rag_turn("r2", [_r(c, 0.0), _r(f, 0.9)], text="No.", kb=KB)]}
    return {
        "inference_configs/0/datasets/kb-questions/9f9f_output.jsonl": jsonl(
            line1, {"conversationTurns": []}, line2
        )
    }


def rag_retrieve() -> dict[str, bytes]:
    """Retrieve only (no generated text), knowledge base KBRETRIEVE1, dataset kb-q:
    Builtin.ContextRelevance 0.25, 0.75 -> mean 0.5, sd 0.353553, bins 2 and 7;
    Builtin.ContextCoverage 1.0, null -> scored 1, mean 1.0, sd None."""
    cr, cc = "Builtin.ContextRelevance", "Builtin.ContextCoverage"
    return {
        "inference_configs/0/datasets/kb-q/1234_output.jsonl": jsonl(
            {
                "conversationTurns": [
                    rag_turn("k1", [_r(cr, 0.25), _r(cc, 1.0)], text=None, kb=KB_RETRIEVE)
                ]
            },
            {
                "conversationTurns": [
                    rag_turn("k2", [_r(cr, 0.75), _r(cc, None)], text=None, kb=KB_RETRIEVE)
                ]
            },
        )
    }


# --- hostile ----------------------------------------------------------------------------------


def _raw_result(literal: bytes) -> bytes:
    """An automatic line whose Accuracy result is `literal`, as written (not valid JSON for
    NaN and Infinity, which Python's json module nevertheless reads)."""
    return (
        b'{"automatedEvaluationResult": {"scores": [{"metricName": "Accuracy", "result": '
        + literal
        + b'}]}, "modelResponses": [{"modelIdentifier": "m"}]}'
    )


def hostile() -> dict[str, bytes]:
    """Dataset "hostile": only the first and last lines are sound; Accuracy over the whole
    file: 0.5 and 1 scored (mean 0.75), seven prompts (the deep line and the one that is not
    UTF-8 give none). Lines: 9, bad 7."""
    deep = b'{"a":' * 200_000 + b"1" + b"}" * 200_000
    sound = auto_line(
        "ok \x00 with a NUL and a lone \ud800 surrogate",
        [{"metricName": "Accuracy", "result": 0.5}],
        model="m",
    )
    return {
        "models/m/taskTypes/General/datasets/hostile/6666_output.jsonl": jsonl(
            sound,
            deep,
            _raw_result(b"1e400"),
            _raw_result(b"NaN"),
            _raw_result(b"-Infinity"),
            auto_line("string", [{"metricName": "Accuracy", "result": "0.9"}], model="m"),
            _raw_result(b"9" * 5000),
            b"\xff\xfe not utf-8",
            auto_line("last", [{"metricName": "Accuracy", "result": 1}], model="m"),
        )
    }
