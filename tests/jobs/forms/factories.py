"""Valid form input for every kind of evaluation job, and helpers to change one field of the
POST data and to read back the errors a location got."""

from __future__ import annotations

import copy
import json
from typing import Any

from jobs.forms.evaluation import FORMS, EvaluationJobForm, form_data

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/BedrockEvaluationRole"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
NOVA = "amazon.nova-pro-v1:0"
FLOW = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:flow-definition/support-review"

# A location in a form: a job field ("name"), a formset's own errors ("tags", None), or a row
# field ("datasets", 0, "s3_uri"; field None for the row's non-field errors).
Loc = str | tuple[str, None] | tuple[str, int, str | None]


def _common(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": "Nightly check of the support assistant",
        "role_arn": ROLE,
        "output_s3_uri": "s3://eval-results-111122223333/evaluations/",
        "kms_key": "alias/eval-key",
        "tags": [{"key": "team", "value": "search"}, {"key": "cost-center", "value": "cc-1234"}],
    }


def programmatic(name: str = "qa-programmatic") -> dict[str, Any]:
    return {
        **_common(name),
        "models": [
            {
                "source": "bedrock",
                "model_identifier": HAIKU,
                "inference_params": '{"inferenceConfig": {"maxTokens": 512, "temperature": 0.2}}',
                "latency": "standard",
            }
        ],
        "datasets": [
            {
                "task_type": "Generation",
                "dataset_source": "builtin",
                "builtin_dataset": "Builtin.Wikitext2",
                "metrics": ["Builtin.Accuracy", "Builtin.Toxicity"],
            },
            {
                "task_type": "Classification",
                "dataset_source": "custom",
                "dataset_name": "reviews",
                "s3_uri": "s3://eval-datasets-111122223333/reviews.jsonl",
                "metrics": ["Builtin.Accuracy", "Builtin.Robustness"],
            },
        ],
    }


def judge(name: str = "chat-judge") -> dict[str, Any]:
    return {
        **_common(name),
        "evaluator_model": SONNET,
        "custom_metrics_evaluator_model": HAIKU,
        "models": [{"source": "precomputed", "precomputed_source": "support-bot-v2"}],
        "custom_metrics": [
            {
                "name": "BrandVoice",
                "instructions": "Rate how well {{prediction}} keeps our voice for {{prompt}}.",
                "scale_type": "number",
                "scale_1_value": "0",
                "scale_1_definition": "Off-brand",
                "scale_2_value": "0.5",
                "scale_2_definition": "Acceptable",
                "scale_3_value": "1",
                "scale_3_definition": "On-brand",
            },
            {
                "name": "Tone",
                "instructions": "Is {{prediction}} friendly?",
                "scale_type": "text",
                "scale_1_value": "no",
                "scale_1_definition": "Unfriendly",
                "scale_2_value": "yes",
                "scale_2_definition": "Friendly",
            },
        ],
        "datasets": [
            {
                "task_type": "Custom",
                "dataset_name": "chat-logs",
                "s3_uri": "s3://eval-datasets-111122223333/chat.jsonl",
                "metrics": ["Builtin.Correctness", "Builtin.Helpfulness", "BrandVoice", "Tone"],
            }
        ],
    }


def human(name: str = "support-human") -> dict[str, Any]:
    return {
        **_common(name),
        "flow_definition_arn": FLOW,
        "instructions": "Compare the two answers as a customer would.\nBe strict.",
        "models": [
            {"source": "bedrock", "model_identifier": NOVA},
            {"source": "bedrock", "model_identifier": HAIKU, "inference_params": '{"top_p": 0.9}'},
        ],
        "custom_metrics": [
            {
                "name": "Preference",
                "description": "Which answer is better?",
                "rating_method": "ComparisonChoice",
            },
            {"name": "Helpful", "description": "", "rating_method": "ThumbsUpDown"},
        ],
        "datasets": [
            {
                "task_type": "Generation",
                "dataset_name": "support-prompts",
                "s3_uri": "s3://eval-datasets-111122223333/support.jsonl",
                "metrics": ["Preference", "Helpful"],
            }
        ],
    }


def rag(name: str = "kb-rag", source: str = "kb_retrieve_and_generate") -> dict[str, Any]:
    data: dict[str, Any] = {
        **_common(name),
        "source": source,
        "evaluator_model": SONNET,
        "custom_metrics_evaluator_model": "",
        "custom_metrics": [],
        "datasets": [
            {
                "task_type": "QuestionAndAnswer",
                "dataset_name": "kb-questions",
                "s3_uri": "s3://eval-datasets-111122223333/kb.jsonl",
                "metrics": ["Builtin.Correctness", "Builtin.CitationPrecision"],
            }
        ],
    }
    retrieval = {
        "number_of_results": 5,
        "search_type": "HYBRID",
        "filter_json": json.dumps({"equals": {"key": "year", "value": 2024}}),
    }
    if source == "kb_retrieve":
        data |= {"knowledge_base_id": "KB12345678", **retrieval}
        data["datasets"][0]["metrics"] = ["Builtin.ContextRelevance", "Builtin.ContextCoverage"]
    elif source == "kb_retrieve_and_generate":
        data |= {
            "knowledge_base_id": "KB12345678",
            "generator_model_arn": f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}",
            **retrieval,
            "prompt_template": "Answer $query$ from $search_results$ only.",
            "guardrail_json": json.dumps({"guardrailId": "abc123", "guardrailVersion": "1"}),
            "inference_config_json": json.dumps(
                {"textInferenceConfig": {"temperature": 0.2, "topP": 0.9, "maxTokens": 1024}}
            ),
            "orchestration_json": json.dumps(
                {"queryTransformationConfiguration": {"type": "QUERY_DECOMPOSITION"}}
            ),
        }
        data["custom_metrics"] = [
            {
                "name": "Grounded",
                "instructions": "Is {{prediction}} grounded in the context?",
                "scale_type": "number",
                "scale_1_value": "0",
                "scale_1_definition": "No",
                "scale_2_value": "1",
                "scale_2_definition": "Yes",
            }
        ]
        data["datasets"][0]["metrics"].append("Grounded")
    elif source == "external_sources":
        data["external_sources_json"] = json.dumps(
            {
                "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}",
                "sources": [
                    {
                        "sourceType": "S3",
                        "s3Location": {"uri": "s3://eval-datasets-111122223333/docs/faq.pdf"},
                    }
                ],
            }
        )
    else:
        data["rag_source_identifier"] = "support-rag-v3"
        if source == "precomputed_retrieve":
            data["datasets"][0]["metrics"] = ["Builtin.ContextRelevance"]
    return data


VALID = {"programmatic": programmatic, "judge": judge, "human": human, "rag": rag}


def post(kind: str, initial: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST data of a valid form of `kind` (or of `initial`)."""
    return form_data(kind, initial if initial is not None else VALID[kind]())


def bound(kind: str, data: dict[str, Any], **kwargs: Any) -> EvaluationJobForm:
    return FORMS[kind](data, **kwargs)


def key(loc: Loc) -> str:
    """The POST key of a job field or row field."""
    if isinstance(loc, str):
        return loc
    formset, index, field = loc  # type: ignore[misc]
    return f"{formset}-{index}-{field}"


def with_value(data: dict[str, Any], loc: Loc, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    changed[key(loc)] = value
    return changed


def with_rows(data: dict[str, Any], formset: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """`data` with the formset's rows replaced by `rows`."""
    changed = {k: v for k, v in data.items() if not k.startswith(f"{formset}-")}
    changed[f"{formset}-TOTAL_FORMS"] = str(len(rows))
    changed[f"{formset}-INITIAL_FORMS"] = "0"
    for index, row in enumerate(rows):
        for field, value in row.items():
            changed[f"{formset}-{index}-{field}"] = value
    return changed


def errors_at(form: EvaluationJobForm, loc: Loc) -> list[str]:
    if isinstance(loc, str):
        return list(form.errors.get(loc, []))
    if len(loc) == 2:
        return list(form.formsets[loc[0]].non_form_errors())
    formset, index, field = loc  # type: ignore[misc]
    return list(form.formsets[formset].forms[index].errors.get(field or "__all__", []))


def error_locations(form: EvaluationJobForm) -> set[Loc]:
    """Every location that has an error."""
    out: set[Loc] = {name for name in form.errors}
    for name, formset in form.formsets.items():
        if formset.non_form_errors():
            out.add((name, None))
        for index, row in enumerate(formset.forms):
            for field in row.errors:
                out.add((name, index, None if field == "__all__" else field))
    return out
