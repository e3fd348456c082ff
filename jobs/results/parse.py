"""One line of an evaluation job's `_output.jsonl` -> the records it holds, normalized.

The shapes are those of /work/shared/bedrock-eval-output.md (AWS's "Review model evaluation
job reports and metrics"):

- automatic and LLM-as-a-judge: `automatedEvaluationResult.scores` beside `inputRecord` and
  `modelResponses` (inside `inputRecord` for bring-your-own-inference jobs): one item;
- human: `humanEvaluationResult[].humanAnswers[].answerContent.evaluationResults.<method>` with
  `modelResponseIdMap`: one item per model (two for a two-model job), with every answer;
- RAG: `conversationTurns` (up to 5): one item per turn, the knowledge base (or RAG source) as
  its "model"; retrieve-only turns have no generated text, their retrieved passages stand in.

Lines come from files we do not control: a line that is not JSON, too deep, or of no shape we
know raises ParseError (counted by the caller, never fatal). A line whose shape we know but
with parts we cannot read (a score without a metric name, a result that is a string, NaN,
Infinity, 1e400 or beyond ±1e12) still gives what it can: the unreadable result counts as
unscored, and `problems` tells the caller to count the line as bad too.

Metric names are kept exactly as written ("Builtin.Accuracy" and "Accuracy" stay distinct):
they are what the user configured and what the console shows.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

# Longer lines are not parsed (a line is held in memory whole; nothing real comes near this).
MAX_LINE_BYTES = 32 * 1024 * 1024
# Text kept per field of a record (prompt, reference, response, explanation).
MAX_TEXT_CHARS = 64 * 1024
# Column widths of ResultAggregate / ResultRecord.
MAX_METRIC_CHARS = 255
MAX_MODEL_CHARS = 2048
# A RAG conversation has at most 5 turns; more is not a shape Bedrock writes.
MAX_TURNS = 5
# Results beyond this magnitude are not scores (and would overflow the variance).
MAX_ABS_RESULT = 1e12

HUMAN_METHODS = (
    "thumbsUpDown",
    "individualLikertScale",
    "comparisonLikertScale",
    "comparisonChoice",
    "comparisonRank",
)

AUTOMATIC, HUMAN, RAG = "automatic", "human", "rag"


class ParseError(ValueError):
    """The line cannot be read at all: counted as a bad line."""


@dataclass(slots=True)
class Answer:
    """One human worker's answer on one metric for one model. `label` is the distribution's
    key ("up"/"down", "1".."5", "wins"/"losses"/"ties", a rank); `value` the number the mean
    is taken over (thumbs: 1/0, choice: 1 for a win, 0 for a loss, None for a tie)."""

    metric: str
    method: str
    value: float | None
    label: str


@dataclass(slots=True)
class Item:
    """One record: one prompt's outcome for one model (or RAG source)."""

    model: str
    prompt: str = ""
    reference: str = ""
    response: str = ""
    # Position offset within the line: the turn of a RAG conversation, else 0.
    turn: int = 0
    scores: dict[str, float | None] = field(default_factory=dict)
    explanations: dict[str, str] = field(default_factory=dict)
    # Human jobs only: every answer (the aggregates count answers; `scores` holds their mean).
    answers: list[Answer] | None = None


@dataclass(slots=True)
class Parsed:
    kind: str
    items: list[Item]
    # Parts of the line that could not be read (the line is counted as bad when > 0).
    problems: int = 0


# --- scalars ----------------------------------------------------------------------------------


def clean(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Text safe for any database column: no NUL (PostgreSQL refuses it), no lone surrogates
    (not encodable as UTF-8), at most `limit` characters."""
    text = text[:limit]
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _text(value: Any, depth: int = 0) -> str:
    """A text field of any of the documented forms: "…", {"text": "…"},
    {"content": [{"text": "…"}]}, or a list of those (joined by blank lines)."""
    if isinstance(value, str):
        return value
    if depth > 6 or value is None or isinstance(value, bool):
        return ""
    if isinstance(value, dict):
        for key in ("text", "content", "response"):
            if key in value:
                return _text(value[key], depth + 1)
        return ""
    if isinstance(value, list):
        return "\n\n".join(t for t in (_text(v, depth + 1) for v in value[:100]) if t)
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:g}"
    return ""


def _number(value: Any) -> tuple[float | None, bool]:
    """(the result as a float or None, whether it was readable). null is readable: the metric
    did not apply or the judge's answer could not be parsed."""
    if value is None:
        return None, True
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, False
    value = float(value)
    if not math.isfinite(value) or abs(value) > MAX_ABS_RESULT:
        return None, False
    return value, True


def _name(value: Any, limit: int) -> str:
    return clean(value.strip(), limit) if isinstance(value, str) else ""


def _metric(entry: Any) -> str:
    """The entry's metricName, or "" if it has none we can store (cut, two long names could
    become one metric)."""
    name = entry.get("metricName") if isinstance(entry, dict) else None
    if not isinstance(name, str) or len(name.strip()) > MAX_METRIC_CHARS:
        return ""
    return _name(name, MAX_METRIC_CHARS)


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


# --- the line ---------------------------------------------------------------------------------


def parse_line(raw: bytes | str, *, model_hint: str = "", source_hint: str = "") -> Parsed:
    """The records of one line. `model_hint` (from the key path, `models/<id>/`) names the
    model when the record does not; `source_hint` the RAG source likewise."""
    if len(raw) > MAX_LINE_BYTES:
        raise ParseError(f"line longer than {MAX_LINE_BYTES} bytes")
    try:
        # Integers parsed as floats: a 5,000-digit integer is inf (rejected below) rather than
        # a ValueError, and huge integers cost no quadratic conversion.
        obj = json.loads(raw, parse_int=float)
    except RecursionError as exc:
        raise ParseError("nested too deeply") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"not JSON: {str(exc)[:100]}") from exc
    if not isinstance(obj, dict):
        raise ParseError("not a JSON object")
    if "automatedEvaluationResult" in obj:
        return _automatic(obj, model_hint)
    if "humanEvaluationResult" in obj:
        return _human(obj, model_hint)
    if "conversationTurns" in obj:
        return _rag(obj, source_hint)
    raise ParseError("no known record shape")


def _scores(entries: Any, item: Item) -> int:
    """Fill item.scores / explanations from a documented scores list; return the problems."""
    if not isinstance(entries, list):
        return 1
    problems = 0
    for entry in entries:
        metric = _metric(entry)
        if not metric:
            problems += 1  # an unknown metric shape
            continue
        if metric in item.scores:
            continue  # the first of duplicates counts
        value, ok = _number(entry.get("result"))
        problems += not ok
        item.scores[metric] = value
        explanation = "\n\n".join(
            t
            for t in (_text(d.get("explanation")) for d in _list(entry.get("evaluatorDetails")))
            if isinstance(t, str) and t
        )
        if explanation:
            item.explanations[metric] = clean(explanation)
    return problems


def _automatic(obj: dict, model_hint: str) -> Parsed:
    result = obj["automatedEvaluationResult"]
    record = _dict(obj.get("inputRecord"))
    # Bring-your-own-inference jobs carry the responses inside inputRecord.
    responses = _list(obj.get("modelResponses")) or _list(record.get("modelResponses"))
    first = _dict(responses[0]) if responses else {}
    model = _name(first.get("modelIdentifier"), MAX_MODEL_CHARS) or model_hint
    item = Item(
        model=model,
        prompt=clean(_text(record.get("prompt"))),
        reference=clean(_text(record.get("referenceResponse"))),
        response=clean(_text(first.get("response"))),
    )
    if not isinstance(result, dict):
        raise ParseError("automatedEvaluationResult is not an object")
    problems = _scores(result.get("scores"), item)
    return Parsed(kind=AUTOMATIC, items=[item], problems=problems)


def _rag(obj: dict, source_hint: str) -> Parsed:
    turns = obj["conversationTurns"]
    if not isinstance(turns, list) or not turns:
        raise ParseError("conversationTurns is not a list of turns")
    problems = 0
    if len(turns) > MAX_TURNS:
        problems += 1
        turns = turns[:MAX_TURNS]
    items = []
    for index, turn in enumerate(turns):
        if not isinstance(turn, dict):
            problems += 1
            continue
        record = _dict(turn.get("inputRecord"))
        output = _dict(turn.get("output"))
        source = (
            _name(output.get("knowledgeBaseIdentifier"), MAX_MODEL_CHARS)
            or _name(output.get("ragSourceIdentifier"), MAX_MODEL_CHARS)
            or source_hint
            or _name(output.get("modelIdentifier"), MAX_MODEL_CHARS)
        )
        response = _text(output.get("text"))
        if not response:  # retrieve-only: what was retrieved is the answer under evaluation
            passages = _dict(output.get("retrievedPassages")).get("retrievalResults")
            response = _text(
                [_dict(p).get("content") for p in _list(passages)[:100] if isinstance(p, dict)]
            )
        item = Item(
            model=source,
            prompt=clean(_text(record.get("prompt"))),
            reference=clean(_text(record.get("referenceResponses"))),
            response=clean(response),
            turn=index,
        )
        problems += _scores(turn.get("results"), item)
        items.append(item)
    if not items:
        raise ParseError("no readable conversation turn")
    return Parsed(kind=RAG, items=items, problems=problems)


def _human(obj: dict, model_hint: str) -> Parsed:
    results = obj["humanEvaluationResult"]
    if isinstance(results, dict):
        results = [results]
    if not isinstance(results, list):
        raise ParseError("humanEvaluationResult is not a list")
    record = _dict(obj.get("inputRecord"))
    responses = [
        _dict(r)
        for r in (_list(obj.get("modelResponses")) or _list(record.get("modelResponses")))[:10]
    ]
    problems = 0

    # Which model each modelResponseId stands for: modelResponseIdMap, else the order of
    # modelResponses.
    models: dict[str, str] = {}
    for result in results:
        for rid, model in _dict(_dict(result).get("modelResponseIdMap")).items():
            name = _name(model, MAX_MODEL_CHARS)
            if name and len(models) < 10:
                models.setdefault(str(rid), name)
    if not models:
        for index, response in enumerate(responses):
            models[str(index)] = _name(response.get("modelIdentifier"), MAX_MODEL_CHARS)
    if not models:
        models["0"] = model_hint
    for rid, name in models.items():
        models[rid] = name or model_hint or f"model {rid}"

    items: dict[str, Item] = {}
    prompt = clean(_text(record.get("prompt")))
    reference = clean(_text(record.get("referenceResponse")))
    for rid, model in models.items():
        if model in items:
            continue
        response = next(
            (r for r in responses if _name(r.get("modelIdentifier"), MAX_MODEL_CHARS) == model),
            None,
        )
        if response is None and rid.isdigit() and int(rid) < len(responses):
            response = responses[int(rid)]
        items[model] = Item(
            model=model,
            prompt=prompt,
            reference=reference,
            response=clean(_text((response or {}).get("response") or (response or {}).get("text"))),
            answers=[],
        )

    for result in results:
        if not isinstance(result, dict):
            problems += 1
            continue
        for answer in _list(result.get("humanAnswers")):
            evaluation = _dict(_dict(_dict(answer).get("answerContent")).get("evaluationResults"))
            for method, entries in evaluation.items():
                if method not in HUMAN_METHODS or not isinstance(entries, list):
                    problems += 1
                    continue
                if method == "comparisonChoice":
                    problems += _choice(entries, models, items)
                else:
                    problems += _ratings(method, entries, models, items)

    for item in items.values():
        sums: dict[str, list[float]] = {}
        for answer in item.answers:
            values = sums.setdefault(answer.metric, [])
            if answer.value is not None:
                values.append(answer.value)
        item.scores = {m: (sum(v) / len(v) if v else None) for m, v in sums.items()}
    return Parsed(kind=HUMAN, items=list(items.values()), problems=problems)


def _entry_model(entry: dict, models: dict[str, str]) -> str | None:
    rid = entry.get("modelResponseId", "0")
    if isinstance(rid, float) and rid.is_integer():
        rid = int(rid)
    return models.get(str(rid))


def _ratings(method: str, entries: list, models: dict[str, str], items: dict[str, Item]) -> int:
    problems = 0
    for entry in entries:
        metric = _metric(entry)
        model = _entry_model(entry, models) if metric else None
        if model is None:
            problems += 1
            continue
        raw = entry.get("result")
        if method == "thumbsUpDown" and isinstance(raw, bool):
            raw = float(raw)
        if isinstance(raw, str) and raw.strip().lstrip("-").replace(".", "", 1).isdigit():
            raw = float(raw)  # "4": a number written as text
        value, ok = _number(raw)
        if method == "thumbsUpDown" and value not in (None, 0.0, 1.0):
            value, ok = None, False
        problems += not ok
        if value is None:
            label = ""
        elif method == "thumbsUpDown":
            label = "up" if value == 1.0 else "down"
        else:
            label = f"{value:g}"
        items[model].answers.append(Answer(metric, method, value, label))
    return problems


def _choice(entries: list, models: dict[str, str], items: dict[str, Item]) -> int:
    """comparisonChoice: the chosen response, either as an entry's result naming a
    modelResponseId ("1"), or as the entry of the chosen response with a true/1 result. Each
    model gets a win or a loss; no single choice is a tie for all."""
    problems = 0
    chosen: dict[str, set[str]] = {}
    for entry in entries:
        metric = _metric(entry)
        if not metric:
            problems += 1
            continue
        picks = chosen.setdefault(metric, set())
        raw = entry.get("result")
        if isinstance(raw, str) and raw in models:
            picks.add(models[raw])
        elif isinstance(raw, bool | int | float) and _entry_model(entry, models) is not None:
            if raw:
                picks.add(_entry_model(entry, models))
        elif raw is not None:
            problems += 1
    for metric, picks in chosen.items():
        for model, item in items.items():
            if len(picks) == 1:
                win = model in picks
                item.answers.append(
                    Answer(metric, "comparisonChoice", float(win), "wins" if win else "losses")
                )
            else:
                item.answers.append(Answer(metric, "comparisonChoice", None, "ties"))
    return problems
