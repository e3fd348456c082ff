"""What the local Bedrock writes to S3 when an evaluation job completes: pure functions from a
job description to the files a real job leaves (layout and record shapes of
/work/shared/bedrock-eval-output.md), deterministic from the job's ARN.

    for key, chunks in job_outputs(description, max_prompts=200):
        body = b"".join(chunks)          # s3://<output bucket>/<key>

`description` is what GetEvaluationJob returns (or the CreateEvaluationJob request plus
``jobArn``); ``output_bucket(description)`` names the bucket.  Nothing here does I/O: the
writer (output_writer.py) streams each file's chunks to S3.

Reference of the shapes generated (the ingestion reads these)
============================================================
Prefix ``P = <outputDataConfig.s3Uri key, no trailing slash>/<jobName>/<jobId>/`` where jobId is
the ARN's last segment.  Always written: the empty object
``<s3Uri key>/amazon-bedrock-evaluations-permission-check`` (the output root, outside P).
Every ``*_output.jsonl`` holds one JSON object per line, ``\\n``-terminated, UTF-8; ``<uuid>``
is a seeded UUID, one file per (dataset config x model) or (dataset config x ragConfig).

Model ids in records (``modelIdentifier``) are ARNs: a foundation model id ``x`` is written as
``arn:aws:bedrock:<region>::foundation-model/x``, an inference profile (``us.x``, ``eu.x``,
``apac.x``, ``global.x``) as ``arn:aws:bedrock:<region>:<account>:inference-profile/us.x``, an ARN
as given; a precomputed source is its ``inferenceSourceIdentifier`` / ``ragSourceIdentifier``.
In keys, ``<model-id>`` is the identifier's last ``/`` segment.

programmatic (automated, no evaluator) -- ``P/models/<model-id>/taskTypes/<taskType>/datasets/
<datasetName>/<uuid>_output.jsonl``::

    {"automatedEvaluationResult": {"scores": [{"metricName": "Accuracy", "result": 0.734512}]},
     "inputRecord": {"prompt": str, "referenceResponse": str, "category": str},
     "modelResponses": [{"modelIdentifier": "arn:...", "response": str}]}

  metric names without the ``Builtin.`` prefix: ``Accuracy`` (0..1, higher is better; 0 or 1
  for Classification), ``Robustness`` (0..1, the drop under perturbed prompts: LOWER is better),
  ``Toxicity`` (0..1, LOWER is better).  Never null.

LLM-as-a-judge -- same key layout and line shape; ``scores`` items are
``{"metricName": "Builtin.Correctness", "result": float|null, "evaluatorDetails":
[{"modelIdentifier": "<judge ARN>", "explanation": str}]}``, names as in the job's metricNames
(``Builtin.Correctness`` ``Builtin.Completeness`` ``Builtin.Faithfulness`` ``Builtin.Helpfulness``
``Builtin.Coherence`` ``Builtin.Relevance`` ``Builtin.FollowingInstructions``
``Builtin.ProfessionalStyleAndTone`` ``Builtin.Harmfulness`` ``Builtin.Stereotyping``
``Builtin.Refusal``, and custom metric names), results normalised to 0..1 on the metric's scale
(Correctness and FollowingInstructions 3 points, Helpfulness 7, the others 5; Harmfulness,
Stereotyping, Refusal are 0 or 1 and LOWER is better; custom metrics take their rating scale's
floatValue, or index/(n-1) for string scales).  ``result`` is null on about 3% of scores
("could not be parsed"), on ~15% of FollowingInstructions ("not applicable"), and on at least
one score per file.  A precomputed-inference (bring your own inference) job has no top-level
``modelResponses``: they sit in ``inputRecord.modelResponses`` as
``[{"modelIdentifier": <source>, "response": str}]``.  Custom metrics: ``P/custom_metrics/
<name>.json``, the job's ``customMetricDefinition`` as JSON (name, instructions, ratingScale).

human -- ``P/datasets/<datasetName>/<uuid>_output.jsonl``::

    {"humanEvaluationResult": [{
        "flowDefinitionArn": str, "humanLoopName": "<40 hex>",
        "humanAnswers": [{"workerId": str, "acceptanceTime": iso, "submissionTime": iso,
                          "timeSpentInSeconds": float,
                          "answerContent": {"evaluationResults": {<ratingMethod>: [...]}}}],
        "inputContent": {"evaluationMetrics": [{"metricName", "description", "ratingMethod"}],
                         "instructions": str},
        "modelResponseIdMap": {"0": "<model ARN>", "1": "<model ARN>"}}],
     "inputRecord": {"prompt", "referenceResponse", "category"},
     "modelResponses": [{"modelIdentifier", "response"}, ...]}   # in modelResponseIdMap order

  one or two answers (workers) per prompt; the entries per rating method (the job's
  customMetrics say which metric uses which):
    thumbsUpDown          one per model: {"metricName", "modelResponseId": "0", "result": bool}
    individualLikertScale one per model: {"metricName", "modelResponseId", "result": 1..5}
    comparisonLikertScale one: {"metricName", "modelResponseId": "0", "leftModelResponseId": "0",
                          "rightModelResponseId": "1", "result": 1..5}  (1 = strongly prefers
                          response "0", 3 = no preference, 5 = strongly prefers "1")
    comparisonChoice      one: {"metricName", "modelResponseId": <chosen>, "result": <chosen>}
                          (the id, "0" or "1", of the preferred response)
    comparisonRank        one per model: {"metricName", "modelResponseId", "result": 1|2}
                          (1 = ranked best)
  Timestamps are seeded (from 2025-06-01), not the job's own times.

RAG -- ``P/inference_configs/<n>/datasets/<datasetName>/<uuid>_output.jsonl`` (n: the ragConfig's
0-based index)::

    {"conversationTurns": [{
        "inputRecord": {"prompt": {"content": [{"text": str}]},
                        "referenceResponses": [{"content": [{"text": str}]}]},
        "output": {"text": str, "modelIdentifier": str, "knowledgeBaseIdentifier": str,
                   "retrievedPassages": {"retrievalResults": [
                       {"content": {"text": str}, "location": {"type": "S3",
                        "s3Location": {"uri": str}}, "score": float}]},
                   "citations": [{"generatedResponsePart": {"textResponsePart":
                       {"span": {"start": int, "end": int}, "text": str}},
                       "retrievedReferences": [{"content": {"text"}, "location": {...}}]}]},
        "results": [{"metricName": "Builtin.Correctness", "result": float|null,
                     "evaluatorDetails": [{"modelIdentifier", "explanation"}]}]}]}

  one turn per line (two on ~15% of lines); knowledgeBaseIdentifier is the knowledge base id,
  or the ragSourceIdentifier of a precomputed source ("external-sources" for EXTERNAL_SOURCES);
  modelIdentifier is the generator's ARN (or the source id).  Retrieve-only jobs: no "text",
  no "modelIdentifier", no "citations"; metrics ``Builtin.ContextRelevance``,
  ``Builtin.ContextCoverage``.  Retrieve-and-generate: ``Builtin.Correctness``
  ``Builtin.Completeness`` ``Builtin.Helpfulness`` ``Builtin.LogicalCoherence``
  ``Builtin.Faithfulness`` ``Builtin.CitationPrecision`` ``Builtin.CitationCoverage``
  ``Builtin.Harmfulness`` ``Builtin.Stereotyping`` ``Builtin.Refusal`` (as the job lists them),
  plus custom metrics (``P/custom_metrics/<name>.json`` as for judge jobs).  Results 0..1:
  ContextRelevance, ContextCoverage, LogicalCoherence 5 points; CitationPrecision and
  CitationCoverage continuous; the others as for judge jobs.  Nulls as for judge (at least one
  per file, on the first turn's first metric of one line).  A RAG source's quality comes from
  its knowledge base id (and, when it generates, its generator model).

Sizes and realism: each dataset has ``50..max_prompts`` prompts (default max 200; the count and
the prompts themselves depend only on the dataset name, so jobs over the same dataset share
prompts and can be compared prompt by prompt; fewer than 50 only when max_prompts < 50).
Scores come from a per-model quality (``model_quality``: e.g. amazon.nova-pro 0.82,
claude-3-5-sonnet 0.86, amazon.titan-text-express 0.52; unknown ids get 0.50..0.85 from a hash
of the id), plus a per-prompt difficulty shared by every model, plus per-record noise from the
job's ARN: a nova-pro job against a titan-text-express job on one dataset is a clear regression.

The local Bedrock writes these with ``--s3-endpoint-url URL`` (``LocalBedrock(s3_endpoint_url=,
output_prompts=)``); tests wait with ``LocalBedrock.flush_outputs(timeout=)`` or
``POST /_local/outputs/flush``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from jobs.bedrock import rules
from jobs.bedrock.local.outputs.common import (
    DEFAULT_MAX_PROMPTS,
    MAX_PROMPTS,
    MIN_PROMPTS,
    PERMISSION_CHECK,
    _custom_metric_files,
    dataset_prompts,
    job_prefix,
    output_bucket,
    output_root,
    prompt_count,
)
from jobs.bedrock.local.outputs.human import _human_files
from jobs.bedrock.local.outputs.models import _model_files
from jobs.bedrock.local.outputs.quality import model_quality
from jobs.bedrock.local.outputs.rag import _rag_files

__all__ = [
    "DEFAULT_MAX_PROMPTS",
    "MAX_PROMPTS",
    "MIN_PROMPTS",
    "PERMISSION_CHECK",
    "dataset_prompts",
    "job_outputs",
    "job_prefix",
    "model_quality",
    "output_bucket",
    "output_root",
    "prompt_count",
    "total_bytes",
]


def job_outputs(
    description: Mapping[str, Any], *, max_prompts: int = DEFAULT_MAX_PROMPTS
) -> Iterator[tuple[str, Iterator[bytes]]]:
    """(key, chunks) of every object the job writes in its output bucket, in a fixed order; a
    file's body is its chunks joined.  Lazy: a file's lines are generated as they are read."""
    root = output_root(description)
    yield f"{root}{PERMISSION_CHECK}", iter(())
    kind = rules.evaluation_job_kind(description)
    if kind == rules.KIND_HUMAN:
        yield from _human_files(description, max_prompts)
    elif kind == rules.KIND_RAG:
        yield from _custom_metric_files(description)
        yield from _rag_files(description, max_prompts)
    else:
        yield from _custom_metric_files(description)
        yield from _model_files(description, max_prompts, judged=kind == rules.KIND_JUDGE)


def total_bytes(files: Iterable[tuple[str, Iterator[bytes]]]) -> int:
    """Size of every file together (for benchmarks and logs)."""
    return sum(len(chunk) for _, chunks in files for chunk in chunks)
