"""Files of human-evaluation jobs: workers' answers per rating method."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from typing import Any

from jobs.bedrock.local.outputs.common import (
    _arn_parts,
    _dataset_name,
    _line,
    _sources,
    _uuid,
    dataset_prompts,
    job_prefix,
    prompt_count,
)
from jobs.bedrock.local.outputs.quality import _clamp, _seeded, model_quality
from jobs.bedrock.local.outputs.text import _response

# --- human ----------------------------------------------------------------------------------

_METHOD_KEYS = {
    "ThumbsUpDown": "thumbsUpDown",
    "IndividualLikertScale": "individualLikertScale",
    "ComparisonLikertScale": "comparisonLikertScale",
    "ComparisonChoice": "comparisonChoice",
    "ComparisonRank": "comparisonRank",
}
_EPOCH_2025_06 = 1748736000  # 2025-06-01T00:00:00Z


def _iso(epoch: float) -> str:
    import datetime as dt

    moment = dt.datetime.fromtimestamp(round(epoch, 3), tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _human_files(
    description: Mapping[str, Any], max_prompts: int
) -> Iterator[tuple[str, Iterator[bytes]]]:
    arn = description["jobArn"]
    region, account, _ = _arn_parts(arn)
    prefix = job_prefix(description)
    human = description["evaluationConfig"]["human"]
    for c, config in enumerate(human.get("datasetMetricConfigs", [])):
        dataset = _dataset_name(config)
        rng = _seeded("file", arn, str(c), "human")
        key = f"{prefix}datasets/{dataset}/{_uuid(rng)}_output.jsonl"
        yield key, _human_lines(rng, description, config, dataset, region, account, max_prompts)


def _human_lines(
    rng: random.Random,
    description: Mapping[str, Any],
    config: Mapping[str, Any],
    dataset: str,
    region: str,
    account: str,
    max_prompts: int,
) -> Iterator[bytes]:
    human = description["evaluationConfig"]["human"]
    workflow = human.get("humanWorkflowConfig", {})
    defined = {m["name"]: m for m in human.get("customMetrics", [])}
    metrics = [defined[n] for n in config.get("metricNames", []) if n in defined]
    sources = _sources(description, region, account)
    ids = [str(n) for n in range(len(sources))]
    qualities = [model_quality(s[0]) for s in sources]
    id_map = {ident: s[0] for ident, s in zip(ids, sources, strict=True)}
    workers = [f"{_uuid(rng).replace('-', '')[:20]}" for _ in range(3)]
    per_prompt = 1 + (rng.random() < 0.4)
    evaluation_metrics = [
        {
            "metricName": m["name"],
            "description": m.get("description", m["name"]),
            "ratingMethod": m["ratingMethod"],
        }
        for m in metrics
    ]
    count = prompt_count(dataset, max_prompts)
    clock = _EPOCH_2025_06 + rng.randrange(0, 180 * 86400)
    for _, prompt, reference, category, difficulty in dataset_prompts(dataset, count):
        base = [q + difficulty for q in qualities]
        responses = [_response(reference, _clamp(b + rng.gauss(0, 0.1)), rng) for b in base]
        answers = []
        for w in range(per_prompt):
            ps = [_clamp(b + rng.gauss(0, 0.12)) for b in base]
            results: dict[str, list[dict[str, Any]]] = {}
            for metric in metrics:
                method, name = metric["ratingMethod"], metric["name"]
                entries = _human_entries(method, name, ids, ps, rng)
                if entries:
                    results.setdefault(_METHOD_KEYS[method], []).extend(entries)
            spent = round(rng.uniform(8, 180), 1)
            accepted = clock + rng.uniform(0, 600)
            clock = accepted + spent
            answers.append(
                {
                    "workerId": workers[w],
                    "acceptanceTime": _iso(accepted),
                    "submissionTime": _iso(accepted + spent),
                    "timeSpentInSeconds": spent,
                    "answerContent": {"evaluationResults": results},
                }
            )
        record: dict[str, Any] = {
            "humanEvaluationResult": [
                {
                    "flowDefinitionArn": workflow.get("flowDefinitionArn", ""),
                    "humanLoopName": f"{rng.getrandbits(160):040x}",
                    "humanAnswers": answers,
                    "inputContent": {
                        "evaluationMetrics": evaluation_metrics,
                        "instructions": workflow.get("instructions", ""),
                    },
                    "modelResponseIdMap": id_map,
                }
            ],
            "inputRecord": {"prompt": prompt, "referenceResponse": reference, "category": category},
        }
        model_responses = [
            {"modelIdentifier": s[0], "response": r}
            for s, r in zip(sources, responses, strict=True)
        ]
        if any(s[2] for s in sources):
            record["inputRecord"]["modelResponses"] = model_responses
        else:
            record["modelResponses"] = model_responses
        yield _line(record)


def _human_entries(
    method: str, name: str, ids: list[str], ps: list[float], rng: random.Random
) -> list[dict[str, Any]]:
    if method == "ThumbsUpDown":
        return [
            {"metricName": name, "modelResponseId": i, "result": rng.random() < 0.15 + 0.8 * p}
            for i, p in zip(ids, ps, strict=True)
        ]
    if method == "IndividualLikertScale":
        return [
            {"metricName": name, "modelResponseId": i, "result": 1 + round(_clamp(p) * 4)}
            for i, p in zip(ids, ps, strict=True)
        ]
    if len(ids) < 2:
        return []  # comparisons need two responses (Bedrock refuses such a job anyway)
    diff = ps[1] - ps[0] + rng.gauss(0, 0.05)
    if method == "ComparisonLikertScale":
        result = 3 + max(-2, min(2, round(diff * 6)))
        return [
            {
                "metricName": name,
                "modelResponseId": "0",
                "leftModelResponseId": "0",
                "rightModelResponseId": "1",
                "result": result,
            }
        ]
    if method == "ComparisonChoice":
        chosen = "1" if diff > 0 else "0"
        return [{"metricName": name, "modelResponseId": chosen, "result": chosen}]
    if method == "ComparisonRank":
        first = "1" if diff > 0 else "0"
        return [
            {"metricName": name, "modelResponseId": i, "result": 1 if i == first else 2}
            for i in ids
        ]
    return []
