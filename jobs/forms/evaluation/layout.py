"""How an evaluation job form is laid out on its page: its sections, each formset's title,
"add" label, row name and help, and the error summary at the top, which names each error's
place with the same labels. The view hands these to the template as they are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms

from jobs.bedrock import rules
from jobs.forms.evaluation.base import EvaluationJobForm

# What each kind is for, on the chooser's cards.
KIND_CARDS = [
    (
        rules.KIND_PROGRAMMATIC,
        "Score one model with algorithms: accuracy, robustness and toxicity, on built-in "
        "datasets or your own prompts.",
    ),
    (
        rules.KIND_JUDGE,
        "An evaluator model grades one model's responses: correctness, helpfulness, harmfulness "
        "and more, plus custom metrics with your own rating scales.",
    ),
    (
        rules.KIND_HUMAN,
        "Your work team rates one model, or compares two side by side, on up to ten metrics "
        "you define, through a SageMaker Augmented AI flow.",
    ),
    (
        rules.KIND_RAG,
        "Evaluate a Bedrock knowledge base (retrieval, or retrieve and generate) or your own "
        "RAG system's responses, graded by an evaluator model.",
    ),
]

# Formsets as the page shows them: title, what "add" says, a row's name, what it is for.
FORMSET_TEXT = {
    "tags": ("Tags", "Add tag", "Tag", "Key and value pairs attached to the job; up to 200."),
    "models": ("Models under evaluation", "Add a second model", "Model", ""),
    "custom_metrics": ("Custom metrics", "Add custom metric", "Custom metric", ""),
    "datasets": (
        "Datasets and metrics",
        "Add dataset",
        "Dataset",
        "Up to 5 prompt datasets, each with the task type it tests and the metrics to compute.",
    ),
}
_EVALUATOR_METRICS = (
    "Optional: up to 10 metrics of your own that the evaluator model scores with your "
    "instructions and rating scale."
)
FORMSET_HELP = {
    (rules.KIND_HUMAN, "models"): (
        "One model to rate on its own, or two to compare side by side (the Comparison rating "
        "methods need two)."
    ),
    (rules.KIND_HUMAN, "custom_metrics"): (
        "What workers rate: 1 to 10 metrics, each with its rating method. Datasets list them "
        "by name."
    ),
    (rules.KIND_JUDGE, "custom_metrics"): _EVALUATOR_METRICS,
    (rules.KIND_RAG, "custom_metrics"): _EVALUATOR_METRICS,
}
# Formsets in page order (each shows no Remove button below the rows its form must keep).
FORMSET_ORDER = ["models", "custom_metrics", "datasets", "tags"]

# Main-form fields by section.
JOB_FIELDS = ["name", "description", "role_arn", "output_s3_uri", "kms_key"]
EVALUATOR_FIELDS = ["evaluator_model", "custom_metrics_evaluator_model"]
HUMAN_FIELDS = ["flow_definition_arn", "instructions"]
KB = "kb_retrieve kb_retrieve_and_generate"
KB_RAG = "kb_retrieve_and_generate"
PRECOMPUTED = "precomputed_retrieve precomputed_retrieve_and_generate"
# RAG fields and the sources (the `source` choice) they apply to; CSS hides the others.
RAG_FIELDS = [
    ("knowledge_base_id", KB),
    ("generator_model_arn", KB_RAG),
    ("number_of_results", KB),
    ("search_type", KB),
    ("prompt_template", KB_RAG),
    ("rag_source_identifier", PRECOMPUTED),
    ("external_sources_json", "external_sources"),
]
RAG_ADVANCED = [
    ("filter_json", KB),
    ("implicit_filter_json", KB),
    ("reranking_json", KB),
    ("guardrail_json", KB_RAG),
    ("inference_config_json", KB_RAG),
    ("additional_fields_json", KB_RAG),
    ("orchestration_json", KB_RAG),
]


@dataclass
class FormsetView:
    """A formset as its section of the page shows it."""

    name: str
    formset: Any
    title: str
    add_label: str
    row_label: str
    help: str
    min_rows: int

    @property
    def rows(self) -> list[tuple[int, forms.Form]]:
        return list(enumerate(self.formset.forms))

    @property
    def can_add(self) -> bool:
        return self.formset.total_form_count() < self.formset.max_num

    @property
    def can_remove(self) -> bool:
        return self.formset.total_form_count() > self.min_rows

    @property
    def max_num(self) -> int:
        return self.formset.max_num


def formset_views(form: EvaluationJobForm) -> dict[str, FormsetView]:
    out = {}
    for name in FORMSET_ORDER:
        if name not in form.formsets:
            continue
        title, add, row, help_text = FORMSET_TEXT[name]
        out[name] = FormsetView(
            name=name,
            formset=form.formsets[name],
            title=title,
            add_label=add,
            row_label=row,
            help=FORMSET_HELP.get((form.kind, name), help_text),
            min_rows=form.min_rows.get(name, 0),
        )
    return out


def error_summary(form: EvaluationJobForm) -> list[dict[str, str]]:
    """Every error on the form (after check_all), labelled as the page labels its place."""
    labels = {name: (text[0], text[2]) for name, text in FORMSET_TEXT.items()}
    return form.error_summary(labels)


def sections(form: EvaluationJobForm, *, show_errors: bool) -> dict[str, Any]:
    """The form's fields by section, for the template."""
    fields = form.fields
    return {
        "formsets": formset_views(form),
        "job_fields": [form[n] for n in JOB_FIELDS],
        "evaluator_fields": [form[n] for n in EVALUATOR_FIELDS if n in fields],
        "human_fields": [form[n] for n in HUMAN_FIELDS if n in fields],
        "rag_fields": [(form[n], show) for n, show in RAG_FIELDS if n in fields],
        "rag_advanced": [(form[n], show) for n, show in RAG_ADVANCED if n in fields],
        "rag_advanced_open": any(
            form.is_bound and (form[n].value() or (show_errors and form[n].errors))
            for n, _ in RAG_ADVANCED
            if n in fields
        ),
    }


def choice_fields(form: EvaluationJobForm, *, row: str = "") -> list[forms.BoundField]:
    """The fields whose choices follow other fields: of dataset row `row` ("datasets-0"),
    its built-in datasets and metrics (they follow its task type); of every dataset row
    (no `row`), the metrics (they follow a RAG job's source and the custom metrics' names)."""
    formset = form.formsets.get("datasets")
    out = []
    for dataset in formset.forms if formset is not None else []:
        if row and dataset.prefix != row:
            continue
        names = ["builtin_dataset", "metrics"] if row else ["metrics"]
        out += [dataset[name] for name in names if name in dataset.fields]
    return out


# --- the review page: the request in words ----------------------------------------------------

_KIND_WORDS = {
    rules.KIND_PROGRAMMATIC: "Automatic evaluation",
    rules.KIND_JUDGE: "LLM-as-a-judge evaluation",
    rules.KIND_HUMAN: "Human evaluation",
    rules.KIND_RAG: "RAG evaluation",
}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _first_value(value: Any, keys: tuple[str, ...]) -> str | None:
    """The first of `keys` found anywhere in `value` (depth-first, objects of the request)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in keys:
                if isinstance(item.get(key), str):
                    return item[key]
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return None


def request_in_words(request: dict[str, Any]) -> str:
    """One sentence above the exact JSON on the review page: "Automatic evaluation of
    amazon.nova-pro-v1:0 on 2 datasets (Builtin.BoolQ, my-prompts) with 3 metrics; results to
    s3://...". `request` is a CreateEvaluationJob request the form built."""
    kind = rules.evaluation_job_kind(request)
    inference = request.get("inferenceConfig") or {}
    subjects = []
    for model in inference.get("models") or []:
        if "precomputedInferenceSource" in model:
            source = model["precomputedInferenceSource"].get("inferenceSourceIdentifier")
            subjects.append(f"your responses from {source}")
        else:
            subjects.append(str((model.get("bedrockModel") or {}).get("modelIdentifier")))
    rag = inference.get("ragConfigs") or []
    if rag:
        kb = _first_value(rag, ("knowledgeBaseId",))
        source = _first_value(rag, ("ragSourceIdentifier",))
        subjects.append(f"knowledge base {kb}" if kb else f"your RAG source {source}")
    config = request.get("evaluationConfig") or {}
    part = config.get("human") or config.get("automated") or {}
    datasets = part.get("datasetMetricConfigs") or []
    names = [str((d.get("dataset") or {}).get("name")) for d in datasets]
    metrics = {m for d in datasets for m in d.get("metricNames") or []}
    words = _KIND_WORDS[kind]
    if subjects:
        words += f" of {_and(subjects)}"
    words += f" on {_count(len(names), 'dataset')} ({', '.join(names)})"
    words += f" with {_count(len(metrics), 'metric')}"
    evaluator = _first_value(part.get("evaluatorModelConfig"), ("modelIdentifier",))
    if evaluator:
        words += f", graded by {evaluator}"
    output = (request.get("outputDataConfig") or {}).get("s3Uri")
    return f"{words}; results to {output}."
