"""Files of automatic jobs: programmatic (no evaluator) and LLM-as-a-judge."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from typing import Any

from jobs.bedrock.local.outputs.common import (
    _arn_parts,
    _custom_scales,
    _dataset_name,
    _evaluators,
    _line,
    _sources,
    _uuid,
    dataset_prompts,
    job_prefix,
    prompt_count,
)
from jobs.bedrock.local.outputs.quality import _clamp, _seeded, model_quality
from jobs.bedrock.local.outputs.scores import _judge_score, _programmatic_score
from jobs.bedrock.local.outputs.text import _explain, _response


def _model_files(
    description: Mapping[str, Any], max_prompts: int, *, judged: bool
) -> Iterator[tuple[str, Iterator[bytes]]]:
    arn = description["jobArn"]
    region, account, _ = _arn_parts(arn)
    prefix = job_prefix(description)
    automated = description["evaluationConfig"].get("automated") or {}
    judge, custom_judge = _evaluators(description, region, account) if judged else ("", "")
    scales = _custom_scales(description)
    for c, config in enumerate(automated.get("datasetMetricConfigs", [])):
        dataset, task = _dataset_name(config), config.get("taskType", "Custom")
        for record_id, key_id, precomputed in _sources(description, region, account):
            rng = _seeded("file", arn, str(c), record_id)
            key = (
                f"{prefix}models/{key_id}/taskTypes/{task}/datasets/{dataset}/"
                f"{_uuid(rng)}_output.jsonl"
            )
            lines = _model_lines(
                rng,
                config,
                dataset,
                task,
                record_id,
                precomputed,
                max_prompts,
                judged=judged,
                judges=(judge, custom_judge),
                scales=scales,
            )
            yield key, lines


def _model_lines(
    rng: random.Random,
    config: Mapping[str, Any],
    dataset: str,
    task: str,
    model: str,
    precomputed: bool,
    max_prompts: int,
    *,
    judged: bool,
    judges: tuple[str, str],
    scales: Mapping[str, list[float]],
) -> Iterator[bytes]:
    quality = model_quality(model)
    metrics = list(config.get("metricNames", []))
    count = prompt_count(dataset, max_prompts)
    forced_null = rng.randrange(count) if judged and metrics else -1
    for i, prompt, reference, category, difficulty in dataset_prompts(dataset, count):
        p = _clamp(quality + difficulty + rng.gauss(0, 0.1))
        response = _response(reference, p, rng)
        scores: list[dict[str, Any]] = []
        for m, metric in enumerate(metrics):
            if not judged:
                name = metric.removeprefix("Builtin.")
                scores.append(
                    {"metricName": name, "result": _programmatic_score(metric, task, p, rng)}
                )
                continue
            value: float | None
            reason = ""
            if i == forced_null and m == 0 or rng.random() < 0.03:
                value, reason = None, "The evaluator's output could not be parsed into a rating."
            elif metric == "Builtin.FollowingInstructions" and rng.random() < 0.15:
                value = None
                reason = "Not applicable: the prompt gives no explicit instructions to follow."
            else:
                value = _judge_score(metric, p, quality, rng, scales.get(metric))
            judge = judges[1] if metric in scales else judges[0]
            scores.append(
                {
                    "metricName": metric,
                    "result": value,
                    "evaluatorDetails": [
                        {
                            "modelIdentifier": judge,
                            "explanation": _explain(metric, value, rng, reason),
                        }
                    ],
                }
            )
        record: dict[str, Any] = {
            "automatedEvaluationResult": {"scores": scores},
            "inputRecord": {"prompt": prompt, "referenceResponse": reference, "category": category},
        }
        answer = [{"modelIdentifier": model, "response": response}]
        if precomputed:
            record["inputRecord"]["modelResponses"] = answer
        else:
            record["modelResponses"] = answer
        yield _line(record)
