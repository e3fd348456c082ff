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

import hashlib
import json
import random
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from jobs.bedrock import rules

DEFAULT_MAX_PROMPTS = 200
MIN_PROMPTS = 50
MAX_PROMPTS = 1000
PERMISSION_CHECK = "amazon-bedrock-evaluations-permission-check"

# --- model quality --------------------------------------------------------------------------

# Substring of a model id -> its quality (0..1): the mean score it tends to get.
_KNOWN_QUALITY = (
    ("claude-3-5-sonnet", 0.86),
    ("claude-3-sonnet", 0.80),
    ("claude-3-5-haiku", 0.79),
    ("claude-3-haiku", 0.72),
    ("nova-pro", 0.82),
    ("nova-lite", 0.70),
    ("nova-micro", 0.62),
    ("titan-text-express", 0.52),
    ("titan-text-lite", 0.45),
    ("llama3-1-70b", 0.78),
    ("llama3-2-11b", 0.64),
    ("mistral-large", 0.76),
    ("command-r-plus", 0.74),
)


def _unit(text: str) -> float:
    """A stable number in [0, 1) from a string (not Python's salted hash)."""
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def model_quality(identifier: str) -> float:
    """How good a model (or a RAG source) is on average, derived from its id alone."""
    lowered = identifier.lower()
    for needle, quality in _KNOWN_QUALITY:
        if needle in lowered:
            return quality
    return round(0.50 + 0.35 * _unit("quality:" + identifier), 3)


def _clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return min(high, max(low, value))


def _seeded(*parts: str) -> random.Random:
    # Seeded from strings (sha512 inside random), so the same inputs give the same draws on
    # any machine and any PYTHONHASHSEED.
    return random.Random("|".join(parts))  # noqa: S311 - fake data, not secrets


# --- text -----------------------------------------------------------------------------------

_SUBJECTS = (
    "the city council",
    "a regional airline",
    "the central bank",
    "a local school board",
    "the football club",
    "a technology start-up",
    "the health ministry",
    "a coastal village",
    "the national museum",
    "a shipping company",
    "the university hospital",
    "a wind farm operator",
)
_EVENTS = (
    "announced a new plan to cut costs",
    "reported record profits for the quarter",
    "postponed the opening of its new site",
    "agreed to a settlement after a long dispute",
    "launched an investigation into the delays",
    "hired two hundred new staff",
    "warned of higher prices next year",
    "won an award for its recycling scheme",
)
_MENUS = ("Account", "Settings", "Help", "Orders", "Requests")
_PLACES = ("Lisbon", "Osaka", "Nairobi", "Calgary", "Tromso", "Valparaiso", "Gdansk", "Perth")
_TOPIC_QUESTIONS = {
    "support": (
        "How do I reset my password if I no longer have access to my email?",
        "My order arrived damaged. What are my options?",
        "Why was my account locked after three login attempts?",
        "Can I change the delivery address after the order has shipped?",
    ),
    "billing": (
        "Why was I charged twice this month?",
        "How do I download an invoice for last year?",
        "Can I switch from monthly to annual billing mid-cycle?",
        "What happens if my card payment fails?",
    ),
    "onboarding": (
        "What do I need to prepare for my first day?",
        "How do I get access to the team's shared drive?",
        "Who approves my equipment request?",
        "Where can I find the onboarding checklist?",
    ),
    "legal": (
        "Can a customer cancel a contract within fourteen days?",
        "What must a privacy notice contain?",
        "Is an e-mail confirmation a binding acceptance?",
        "How long must invoices be kept?",
    ),
    "catalog": (
        "Which of these jackets is waterproof?",
        "Is the blue model available in size M?",
        "What is the difference between the pro and the standard version?",
        "Does this kettle have an automatic shut-off?",
    ),
    "travel": (
        "Can I bring a second bag on a basic fare?",
        "What documents do I need for a connecting flight?",
        "How do I change the name on a booking?",
        "Is breakfast included in the hotel rate?",
    ),
    "medical": (
        "When should a fever in an adult be checked by a doctor?",
        "What are common side effects of ibuprofen?",
        "How much water should I drink per day?",
        "Can I take paracetamol with antibiotics?",
    ),
    "hr": (
        "How many days of annual leave do I have?",
        "How do I report a change of address?",
        "What is the parental leave policy?",
        "Can I carry unused leave into next year?",
    ),
}
_GOOD_OPENERS = (
    "Here is a short answer.",
    "Based on the information given,",
    "In short:",
    "The key point is this:",
)
_FILLER = (
    "This depends on the details of the situation.",
    "Please check the latest policy for specifics.",
    "There are a few other factors worth noting.",
    "Several sources give slightly different figures.",
    "It is worth confirming this with the relevant team.",
    "The answer may change if the circumstances differ.",
)
_WRONG = (
    "I am not sure, but it might be something else entirely.",
    "The information provided is not enough to answer.",
    "It is probably unrelated to the question asked.",
    "I cannot help with that request.",
)
_CATEGORIES = ("news", "science", "sports", "finance", "culture", "policy", "health", "travel")


def _topic_of(dataset: str) -> str:
    head = dataset.split("-", 1)[0].lower()
    return head if head in _TOPIC_QUESTIONS else "support"


def _prompt(dataset: str, rng: random.Random) -> tuple[str, str, str]:
    """(prompt, reference, category) of the next prompt of a dataset."""
    name = dataset.lower()
    subject, event, place = rng.choice(_SUBJECTS), rng.choice(_EVENTS), rng.choice(_PLACES)
    category = rng.choice(_CATEGORIES)
    year = rng.randint(1990, 2024)
    if "gigaword" in name:
        text = (
            f"{subject} of {place} {event} on {rng.choice(('monday', 'thursday', 'friday'))}, "
            f"officials said, adding that the decision followed months of talks and would "
            f"take effect from {year}."
        )
        return f"Summarize the following text: {text}", f"{place} {subject} {event}", category
    if "boolq" in name:
        passage = f"In {year}, {subject} in {place} {event}."
        question = f"did {subject} in {place} {event.split(' ', 1)[1]}"
        answer = rng.choice(("yes", "no"))
        return f"{passage} Question: {question}?", answer, category
    if "naturalquestions" in name or "triviaqa" in name:
        return (
            f"In which year did {subject} in {place} first make headlines when it {event}?",
            str(year),
            category,
        )
    if "t-rex" in name:
        return f"{subject.capitalize()} is based in", place, category
    if "womensecommerce" in name:
        quality = rng.choice(("loved", "liked", "returned", "was disappointed by"))
        rating = {"loved": "5", "liked": "4", "returned": "2", "was disappointed by": "1"}[quality]
        review = f"I {quality} this {rng.choice(('dress', 'top', 'skirt', 'jacket'))}."
        return f"Classify the rating (1-5) of this review: {review}", rating, "clothing"
    if "bold" in name or "wikitext" in name or "toxicity" in name:
        return (
            f"Continue the text: In {year}, {subject} in {place}",
            f"{event} and drew attention from across the region.",
            category,
        )
    topic = _topic_of(dataset)
    question = rng.choice(_TOPIC_QUESTIONS[topic])
    reference = (
        f"Open the self-service portal and go to {rng.choice(_MENUS)} > {topic.title()}; if that "
        f"does not work, contact the {topic} team with reference {rng.randint(1000, 9999)}."
    )
    return question, reference, topic


def _response(reference: str, quality: float, rng: random.Random, *, long: bool = True) -> str:
    """A model's answer: good answers carry the reference, weak ones hedge or miss."""
    parts: list[str] = []
    if quality >= 0.55:
        parts += [rng.choice(_GOOD_OPENERS), reference]
    elif quality >= 0.3:
        parts += [reference.split(" ", 3)[-1], rng.choice(_FILLER)]
    else:
        parts.append(rng.choice(_WRONG))
    for _ in range(rng.randint(0, 4) if long else rng.randint(0, 1)):
        parts.append(rng.choice(_FILLER))
    return " ".join(parts)


_EXPLAIN_HIGH = (
    "The response addresses the question directly and manages to {aspect}.",
    "All claims in the response are supported; it does {aspect}.",
    "The answer matches the reference closely: it does {aspect}.",
)
_EXPLAIN_MID = (
    "The response is partly right: it tries to {aspect} but succeeds only in part.",
    "Some details are missing, so the response only partly manages to {aspect}.",
    "The answer is on topic, yet it does not fully {aspect}.",
)
_EXPLAIN_LOW = (
    "The response fails to answer the question and does not {aspect}.",
    "The answer contradicts the reference and does not {aspect}.",
    "The response is vague and does not {aspect}.",
)
_ASPECTS = {
    "Correctness": "state the correct facts",
    "Completeness": "cover every part of the question",
    "Faithfulness": "stay faithful to the given context",
    "Helpfulness": "help the user reach their goal",
    "Coherence": "follow a logical structure",
    "LogicalCoherence": "follow a logical structure",
    "Relevance": "stay relevant to the prompt",
    "FollowingInstructions": "follow the explicit instructions",
    "ProfessionalStyleAndTone": "keep a professional tone",
    "ContextRelevance": "retrieve passages relevant to the question",
    "ContextCoverage": "retrieve passages that cover the reference answer",
    "CitationPrecision": "cite passages that support its claims",
    "CitationCoverage": "back its statements with citations",
}
_HARM_EXPLAIN = {
    "Harmfulness": (
        "The response contains no harmful content.",
        "The response includes harmful advice.",
    ),
    "Stereotyping": (
        "The response contains no stereotypes about any group.",
        "The response generalises about a group of people.",
    ),
    "Refusal": ("The response answers the request.", "The response declines to answer."),
}


def _explain(metric: str, value: float | None, rng: random.Random, reason: str = "") -> str:
    short = metric.removeprefix("Builtin.")
    if value is None:
        return reason
    if short in _HARM_EXPLAIN:
        return _HARM_EXPLAIN[short][1 if value >= 0.5 else 0]
    aspect = _ASPECTS.get(short, f"meet the '{short}' criterion")
    pool = _EXPLAIN_HIGH if value >= 0.7 else _EXPLAIN_MID if value >= 0.35 else _EXPLAIN_LOW
    verdict = f" Rating: {value:g} on a 0-1 scale."
    return rng.choice(pool).format(aspect=aspect) + " " + rng.choice(_FILLER) + verdict


# --- scores ---------------------------------------------------------------------------------

# metric (without Builtin.) -> (points on its scale or 0 for continuous, offset)
_SCALES = {
    "Correctness": (3, 0.0),
    "Completeness": (5, -0.05),
    "Faithfulness": (5, 0.05),
    "Helpfulness": (7, 0.0),
    "Coherence": (5, 0.1),
    "LogicalCoherence": (5, 0.1),
    "Relevance": (5, 0.08),
    "FollowingInstructions": (3, 0.0),
    "ProfessionalStyleAndTone": (5, 0.05),
    "ContextRelevance": (5, 0.0),
    "ContextCoverage": (5, -0.05),
    "CitationPrecision": (0, 0.0),
    "CitationCoverage": (0, -0.1),
}
# Binary judge metrics where 1 is bad: how often they fire grows as quality falls.
_BAD_BINARY = frozenset({"Harmfulness", "Stereotyping", "Refusal"})


def _on_scale(value: float, points: int) -> float:
    if points <= 1:
        return round(_clamp(value), 6)
    step = round(_clamp(value) * (points - 1))
    return round(step / (points - 1), 6)


def _judge_score(metric: str, p: float, quality: float, rng: random.Random, custom: Any) -> float:
    short = metric.removeprefix("Builtin.")
    if short in _BAD_BINARY:
        return 1.0 if rng.random() < 0.01 + 0.12 * (1 - quality) else 0.0
    if custom is not None:
        values = custom
        index = round(_clamp(p + rng.gauss(0, 0.08)) * (len(values) - 1))
        return values[index]
    points, offset = _SCALES.get(short, (5, 0.0))
    return _on_scale(p + offset + rng.gauss(0, 0.08), points)


def _custom_values(definition: Mapping[str, Any]) -> list[float]:
    """The results a custom metric's rating scale allows, worst first."""
    scale = list(definition.get("ratingScale") or [])
    floats = [item.get("value", {}).get("floatValue") for item in scale]
    if scale and all(isinstance(v, (int, float)) for v in floats):
        return sorted(float(v) for v in floats)
    n = max(len(scale), 2)
    return [round(i / (n - 1), 6) for i in range(n)]


def _programmatic_score(metric: str, task: str, p: float, rng: random.Random) -> float:
    short = metric.removeprefix("Builtin.")
    if short == "Accuracy":
        if task == "Classification":
            return 1.0 if rng.random() < p else 0.0
        return round(_clamp(p + rng.gauss(0, 0.1)), 6)
    if short == "Robustness":  # a drop under perturbation: lower is better
        return round(_clamp((1 - p) * 0.35 + abs(rng.gauss(0, 0.05))), 6)
    if short == "Toxicity":  # lower is better
        return round(_clamp(abs(rng.gauss(0, 0.02)) + (1 - p) * 0.08 * rng.random()), 6)
    return round(_clamp(p + rng.gauss(0, 0.1)), 6)


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


def total_bytes(files: Iterable[tuple[str, Iterator[bytes]]]) -> int:
    """Size of every file together (for benchmarks and logs)."""
    return sum(len(chunk) for _, chunks in files for chunk in chunks)
