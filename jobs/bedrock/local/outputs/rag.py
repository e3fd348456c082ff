"""Files of RAG (knowledge base) evaluation jobs: retrieve-only and retrieve-and-generate."""

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
    _model_arn,
    _uuid,
    dataset_prompts,
    job_prefix,
    prompt_count,
)
from jobs.bedrock.local.outputs.quality import _clamp, _seeded, model_quality
from jobs.bedrock.local.outputs.scores import _judge_score
from jobs.bedrock.local.outputs.text import _FILLER, _explain, _response

# --- RAG ------------------------------------------------------------------------------------


def _rag_source(rag: Mapping[str, Any], region: str, account: str) -> tuple[str, str | None, bool]:
    """(knowledgeBaseIdentifier, generator modelIdentifier or None, generates?) of a ragConfig."""
    kb = rag.get("knowledgeBaseConfig") or {}
    if "retrieveConfig" in kb:
        return kb["retrieveConfig"].get("knowledgeBaseId", "kb"), None, False
    if "retrieveAndGenerateConfig" in kb:
        config = kb["retrieveAndGenerateConfig"]
        if "knowledgeBaseConfiguration" in config:
            kbc = config["knowledgeBaseConfiguration"]
            model = _model_arn(kbc.get("modelArn", "amazon.nova-pro-v1:0"), region, account)
            return kbc.get("knowledgeBaseId", "kb"), model, True
        external = config.get("externalSourcesConfiguration") or {}
        model = _model_arn(external.get("modelArn", "amazon.nova-pro-v1:0"), region, account)
        return "external-sources", model, True
    for mode, source in (rag.get("precomputedRagSourceConfig") or {}).items():
        ident = source.get("ragSourceIdentifier", "rag-source")
        return (
            ident,
            (ident if mode == "retrieveAndGenerateSourceConfig" else None),
            (mode == "retrieveAndGenerateSourceConfig"),
        )
    return "rag-source", None, False


def _rag_files(
    description: Mapping[str, Any], max_prompts: int
) -> Iterator[tuple[str, Iterator[bytes]]]:
    arn = description["jobArn"]
    region, account, _ = _arn_parts(arn)
    prefix = job_prefix(description)
    automated = description["evaluationConfig"].get("automated") or {}
    judges = _evaluators(description, region, account)
    scales = _custom_scales(description)
    for n, rag in enumerate(description["inferenceConfig"].get("ragConfigs", [])):
        kb, model, generates = _rag_source(rag, region, account)
        retrieval = (
            ((rag.get("knowledgeBaseConfig") or {}).get("retrieveConfig") or {})
            .get("knowledgeBaseRetrievalConfiguration", {})
            .get("vectorSearchConfiguration", {})
            .get("numberOfResults", 3)
        )
        for c, config in enumerate(automated.get("datasetMetricConfigs", [])):
            dataset = _dataset_name(config)
            rng = _seeded("file", arn, str(c), str(n))
            key = f"{prefix}inference_configs/{n}/datasets/{dataset}/{_uuid(rng)}_output.jsonl"
            yield (
                key,
                _rag_lines(
                    rng,
                    config,
                    dataset,
                    kb,
                    model,
                    generates,
                    min(5, max(1, int(retrieval))),
                    judges,
                    scales,
                    max_prompts,
                ),
            )


def _rag_lines(
    rng: random.Random,
    config: Mapping[str, Any],
    dataset: str,
    kb: str,
    model: str | None,
    generates: bool,
    passages: int,
    judges: tuple[str, str],
    scales: Mapping[str, list[float]],
    max_prompts: int,
) -> Iterator[bytes]:
    # Retrieval quality from the knowledge base; answers also depend on the generator.
    retrieval_quality = model_quality("kb:" + kb)
    quality = (
        (retrieval_quality + model_quality(model)) / 2 if generates and model else retrieval_quality
    )
    metrics = list(config.get("metricNames", []))
    count = prompt_count(dataset, max_prompts)
    forced_null = rng.randrange(count) if metrics else -1
    for i, prompt, reference, _category, difficulty in dataset_prompts(dataset, count):
        turns = []
        for t in range(2 if rng.random() < 0.15 else 1):
            p = _clamp(quality + difficulty + rng.gauss(0, 0.1))
            question = (
                prompt if t == 0 else f"And what should I do if that does not work? ({prompt[:60]})"
            )
            retrieved = [
                {
                    "content": {
                        "text": (reference if j == 0 and p > 0.4 else rng.choice(_FILLER))
                        + " "
                        + rng.choice(_FILLER)
                    },
                    "location": {
                        "type": "S3",
                        "s3Location": {
                            "uri": f"s3://kb-{kb.lower()}-docs/doc-{rng.randrange(1000):04d}.txt"
                        },
                    },
                    "score": round(_clamp(p - 0.1 * j + rng.gauss(0, 0.05)), 4),
                }
                for j in range(passages)
            ]
            output: dict[str, Any] = {"knowledgeBaseIdentifier": kb}
            if generates:
                text = _response(reference, p, rng, long=False)
                end = min(len(text), 40 + rng.randrange(40))
                output = {
                    "text": text,
                    "modelIdentifier": model,
                    "knowledgeBaseIdentifier": kb,
                    "retrievedPassages": {"retrievalResults": retrieved},
                    "citations": [
                        {
                            "generatedResponsePart": {
                                "textResponsePart": {
                                    "span": {"start": 0, "end": end},
                                    "text": text[:end],
                                }
                            },
                            "retrievedReferences": [
                                {"content": r["content"], "location": r["location"]}
                                for r in retrieved[: 1 + rng.randrange(2)]
                            ],
                        }
                    ]
                    if p > 0.3
                    else [],
                }
            else:
                output["retrievedPassages"] = {"retrievalResults": retrieved}
            results = []
            for m, metric in enumerate(metrics):
                reason = ""
                value: float | None
                if (i == forced_null and t == 0 and m == 0) or rng.random() < 0.03:
                    value, reason = (
                        None,
                        "The evaluator's output could not be parsed into a rating.",
                    )
                else:
                    value = _judge_score(metric, p, quality, rng, scales.get(metric))
                judge = judges[1] if metric in scales else judges[0]
                results.append(
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
            turns.append(
                {
                    "inputRecord": {
                        "prompt": {"content": [{"text": question}]},
                        "referenceResponses": [{"content": [{"text": reference}]}],
                    },
                    "output": output,
                    "results": results,
                }
            )
        yield _line({"conversationTurns": turns})
