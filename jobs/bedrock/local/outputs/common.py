"""Job-level helpers shared by every kind of job: ARN parts, output URIs, prompt counts,
the prompts of a dataset, JSON lines, seeded UUIDs, evaluators, custom metrics, sources."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping
from typing import Any

from jobs.bedrock.local.outputs.quality import _seeded, _unit
from jobs.bedrock.local.outputs.scores import _custom_values
from jobs.bedrock.local.outputs.text import _prompt

DEFAULT_MAX_PROMPTS = 200
MIN_PROMPTS = 50
MAX_PROMPTS = 1000
PERMISSION_CHECK = "amazon-bedrock-evaluations-permission-check"

# --- the job --------------------------------------------------------------------------------


def _arn_parts(arn: str) -> tuple[str, str, str]:
    """(region, account, job id) of an evaluation-job ARN."""
    fields = arn.split(":")
    region = fields[3] if len(fields) > 5 else "us-east-1"
    account = fields[4] if len(fields) > 5 else "123456789012"
    return region, account, arn.rsplit("/", 1)[-1]


def _split_uri(uri: str) -> tuple[str, str]:
    rest = uri.removeprefix("s3://")
    bucket, _, key = rest.partition("/")
    return bucket, key.strip("/")


def output_bucket(description: Mapping[str, Any]) -> str:
    return _split_uri(description["outputDataConfig"]["s3Uri"])[0]


def output_root(description: Mapping[str, Any]) -> str:
    """The key prefix of the job's output location, "" or ending in "/"."""
    key = _split_uri(description["outputDataConfig"]["s3Uri"])[1]
    return f"{key}/" if key else ""


def job_prefix(description: Mapping[str, Any]) -> str:
    """``<s3Uri key>/<jobName>/<jobId>/``: where the job's files lie in the output bucket."""
    _, _, job_id = _arn_parts(description["jobArn"])
    return f"{output_root(description)}{description['jobName']}/{job_id}/"


def prompt_count(dataset: str, max_prompts: int = DEFAULT_MAX_PROMPTS) -> int:
    """How many prompts a dataset has: 50..max_prompts, fixed by its name."""
    high = max(1, min(MAX_PROMPTS, int(max_prompts)))
    low = min(MIN_PROMPTS, high)
    return low + int(_unit("count:" + dataset) * (high - low + 1))


def dataset_prompts(dataset: str, count: int) -> Iterator[tuple[int, str, str, str, float]]:
    """(index, prompt, reference, category, difficulty) of a dataset's first ``count`` prompts;
    the same for every job that uses the dataset."""
    rng = _seeded("dataset", dataset)
    for i in range(count):
        prompt, reference, category = _prompt(dataset, rng)
        difficulty = rng.gauss(0, 0.15)
        yield i, prompt, reference, category, difficulty


def _model_arn(identifier: str, region: str, account: str) -> str:
    if identifier.startswith("arn:"):
        return identifier
    if identifier.split(".", 1)[0] in ("us", "eu", "apac", "global", "us-gov", "ca", "jp", "au"):
        return f"arn:aws:bedrock:{region}:{account}:inference-profile/{identifier}"
    return f"arn:aws:bedrock:{region}::foundation-model/{identifier}"


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"


def _line(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _dataset_name(config: Mapping[str, Any]) -> str:
    return config.get("dataset", {}).get("name") or "dataset"


def _custom_metric_files(description: Mapping[str, Any]) -> Iterator[tuple[str, Iterator[bytes]]]:
    automated = description["evaluationConfig"].get("automated") or {}
    for item in (automated.get("customMetricConfig") or {}).get("customMetrics", []):
        definition = item.get("customMetricDefinition")
        if definition:
            body = json.dumps(definition, indent=2, ensure_ascii=False).encode() + b"\n"
            key = f"{job_prefix(description)}custom_metrics/{definition['name']}.json"
            yield key, iter((body,))


def _evaluators(description: Mapping[str, Any], region: str, account: str) -> tuple[str, str]:
    """(judge ARN for built-in metrics, judge ARN for custom metrics)."""
    automated = description["evaluationConfig"].get("automated") or {}

    def first(config: Mapping[str, Any] | None) -> str | None:
        models = (config or {}).get("bedrockEvaluatorModels") or []
        return models[0]["modelIdentifier"] if models else None

    builtin = first(automated.get("evaluatorModelConfig"))
    custom = first((automated.get("customMetricConfig") or {}).get("evaluatorModelConfig"))
    builtin = builtin or custom or "anthropic.claude-3-5-sonnet-20240620-v1:0"
    custom = custom or builtin
    return _model_arn(builtin, region, account), _model_arn(custom, region, account)


def _custom_scales(description: Mapping[str, Any]) -> dict[str, list[float]]:
    automated = description["evaluationConfig"].get("automated") or {}
    out = {}
    for item in (automated.get("customMetricConfig") or {}).get("customMetrics", []):
        definition = item.get("customMetricDefinition")
        if definition:
            out[definition["name"]] = _custom_values(definition)
    return out


def _sources(
    description: Mapping[str, Any], region: str, account: str
) -> list[tuple[str, str, bool]]:
    """(identifier in records, id in keys, precomputed?) per model of the inference config."""
    out = []
    for model in description["inferenceConfig"].get("models", []):
        if "bedrockModel" in model:
            ident = model["bedrockModel"]["modelIdentifier"]
            out.append((_model_arn(ident, region, account), ident.rsplit("/", 1)[-1], False))
        elif "precomputedInferenceSource" in model:
            ident = model["precomputedInferenceSource"]["inferenceSourceIdentifier"]
            out.append((ident, ident, True))
    return out
