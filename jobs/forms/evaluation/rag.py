"""Retrieval-augmented generation: a knowledge base (retrieve, or retrieve and generate) or
precomputed responses, judged by an evaluator model."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django import forms

from jobs.bedrock import contract, rules
from jobs.forms.evaluation.base import (
    AUTOMATED,
    COMMON_PATHS,
    OPERATION,
    RAG,
    DatasetMetricFormSet,
    EvaluationJobForm,
    TagFormSet,
    _dataset_paths,
    _evaluator_paths,
    _first,
    _get,
    enum_choices,
)
from jobs.forms.evaluation.custom_metrics import (
    CUSTOM_METRIC_PATHS,
    CustomMetricsMixin,
    JudgeCustomMetricFormSet,
)
from jobs.forms.fields import (
    JSONObjectField,
    OpenChoiceField,
    text_field,
)
from jobs.forms.paths import (
    FormField,
    PathMap,
    Target,
)
from jobs.forms.requests import prune


def _vector_search_paths(prefix: str) -> dict[str, Target]:
    vector = f"{prefix}.vectorSearchConfiguration"
    return {
        prefix: FormField("number_of_results"),
        vector: FormField("number_of_results"),
        f"{vector}.numberOfResults": FormField("number_of_results"),
        f"{vector}.overrideSearchType": FormField("search_type"),
        f"{vector}.filter": FormField("filter_json"),
        f"{vector}.implicitFilterConfiguration": FormField("implicit_filter_json"),
        f"{vector}.rerankingConfiguration": FormField("reranking_json"),
    }


_RETRIEVE = f"{RAG}.knowledgeBaseConfig.retrieveConfig"
_RAG_GENERATE = f"{RAG}.knowledgeBaseConfig.retrieveAndGenerateConfig"
_KB_GENERATE = f"{_RAG_GENERATE}.knowledgeBaseConfiguration"
_GENERATION = f"{_KB_GENERATE}.generationConfiguration"
_PRECOMPUTED = f"{RAG}.precomputedRagSourceConfig"

RAG_PATHS = PathMap(
    {
        **COMMON_PATHS,
        "inferenceConfig": FormField("source"),
        "inferenceConfig.ragConfigs": FormField("source"),
        RAG: FormField("source"),
        f"{RAG}.knowledgeBaseConfig": FormField("source"),
        _RETRIEVE: FormField("knowledge_base_id"),
        f"{_RETRIEVE}.knowledgeBaseId": FormField("knowledge_base_id"),
        **_vector_search_paths(f"{_RETRIEVE}.knowledgeBaseRetrievalConfiguration"),
        _RAG_GENERATE: FormField("source"),
        f"{_RAG_GENERATE}.type": FormField("source"),
        _KB_GENERATE: FormField("knowledge_base_id"),
        f"{_KB_GENERATE}.knowledgeBaseId": FormField("knowledge_base_id"),
        f"{_KB_GENERATE}.modelArn": FormField("generator_model_arn"),
        **_vector_search_paths(f"{_KB_GENERATE}.retrievalConfiguration"),
        _GENERATION: FormField("prompt_template"),
        f"{_GENERATION}.promptTemplate": FormField("prompt_template"),
        f"{_GENERATION}.promptTemplate.textPromptTemplate": FormField("prompt_template"),
        f"{_GENERATION}.guardrailConfiguration": FormField("guardrail_json"),
        f"{_GENERATION}.kbInferenceConfig": FormField("inference_config_json"),
        f"{_GENERATION}.additionalModelRequestFields": FormField("additional_fields_json"),
        f"{_KB_GENERATE}.orchestrationConfiguration": FormField("orchestration_json"),
        f"{_RAG_GENERATE}.externalSourcesConfiguration": FormField("external_sources_json"),
        _PRECOMPUTED: FormField("rag_source_identifier"),
        f"{_PRECOMPUTED}.retrieveSourceConfig": FormField("rag_source_identifier"),
        f"{_PRECOMPUTED}.retrieveSourceConfig.ragSourceIdentifier": FormField(
            "rag_source_identifier"
        ),
        f"{_PRECOMPUTED}.retrieveAndGenerateSourceConfig": FormField("rag_source_identifier"),
        f"{_PRECOMPUTED}.retrieveAndGenerateSourceConfig.ragSourceIdentifier": FormField(
            "rag_source_identifier"
        ),
        **_dataset_paths(AUTOMATED),
        **_evaluator_paths(f"{AUTOMATED}.evaluatorModelConfig", FormField("evaluator_model")),
        **CUSTOM_METRIC_PATHS,
    }
)


class RagEvaluationForm(CustomMetricsMixin, EvaluationJobForm):
    """RAG: evaluate a knowledge base (retrieval, or retrieval and generation) or the
    responses of another RAG system, scored by an evaluator model.

    The fields most jobs set are fields; the long tail of the API (metadata filters,
    reranking, guardrails, inference config...) is one "advanced" JSON field per
    sub-object, checked against the model at its exact path in the request.
    """

    kind = rules.KIND_RAG
    application_type = "RagEvaluation"
    path_map = RAG_PATHS
    field_order = [
        *EvaluationJobForm.base_fields,
        "source",
        "knowledge_base_id",
        "generator_model_arn",
        "number_of_results",
        "search_type",
        "rag_source_identifier",
        "evaluator_model",
        "custom_metrics_evaluator_model",
    ]
    formset_classes = {
        "tags": TagFormSet,
        "custom_metrics": JudgeCustomMetricFormSet,
        "datasets": DatasetMetricFormSet,
    }

    SOURCE_CHOICES = [
        ("kb_retrieve", "Bedrock knowledge base: retrieval only"),
        ("kb_retrieve_and_generate", "Bedrock knowledge base: retrieve and generate"),
        ("external_sources", "External sources: retrieve and generate (advanced JSON)"),
        ("precomputed_retrieve", "My own RAG responses: retrieval only"),
        ("precomputed_retrieve_and_generate", "My own RAG responses: retrieve and generate"),
    ]
    MODES = {
        "kb_retrieve": rules.RAG_RETRIEVE,
        "precomputed_retrieve": rules.RAG_RETRIEVE,
        "kb_retrieve_and_generate": rules.RAG_RETRIEVE_AND_GENERATE,
        "external_sources": rules.RAG_RETRIEVE_AND_GENERATE,
        "precomputed_retrieve_and_generate": rules.RAG_RETRIEVE_AND_GENERATE,
    }

    source = forms.ChoiceField(
        label="What to evaluate",
        choices=SOURCE_CHOICES,
        initial="kb_retrieve",
        widget=forms.RadioSelect,
        help_text="Retrieval-only and retrieve-and-generate evaluations use different metrics.",
    )
    knowledge_base_id = text_field(
        label="Knowledge base ID",
        path=_first(f"{_RETRIEVE}.knowledgeBaseId"),
        help_text="The ID of the knowledge base, e.g. KB12345678.",
    )
    generator_model_arn = text_field(
        label="Generator model ARN",
        path=_first(f"{_KB_GENERATE}.modelArn"),
        help_text="The model that writes the answers from what was retrieved.",
    )
    number_of_results = forms.IntegerField(
        label="Number of results",
        required=False,
        help_text="How many passages to retrieve per query (1-100; Bedrock's default if blank).",
    )
    search_type = OpenChoiceField(
        label="Search type",
        required=False,
        choices=lambda: enum_choices(
            _first(
                f"{_RETRIEVE}.knowledgeBaseRetrievalConfiguration.vectorSearchConfiguration"
                ".overrideSearchType"
            ),
            "Let Bedrock decide",
        ),
        help_text="Hybrid combines semantic and text search, where the vector store supports it.",
    )
    filter_json = JSONObjectField(
        label="Metadata filter (advanced JSON)",
        help_text='A RetrievalFilter, e.g. {"equals": {"key": "year", "value": 2024}}.',
    )
    implicit_filter_json = JSONObjectField(
        label="Implicit filter (advanced JSON)",
        help_text="An ImplicitFilterConfiguration: metadataAttributes and a modelArn.",
    )
    reranking_json = JSONObjectField(
        label="Reranking (advanced JSON)",
        help_text=(
            'A VectorSearchRerankingConfiguration, e.g. {"type": "BEDROCK_RERANKING_MODEL", '
            '"bedrockRerankingConfiguration": {"modelConfiguration": {"modelArn": "..."}}}.'
        ),
    )
    # A plain textarea, not JSON: a prompt is long text. Placeholders:
    # https://docs.aws.amazon.com/bedrock/latest/userguide/kb-test-config.html
    prompt_template = text_field(
        label="Prompt template (optional)",
        textarea=True,
        rows=6,
        path=_first(f"{_GENERATION}.promptTemplate.textPromptTemplate"),
        help_text="Replaces the default generation prompt; use $search_results$ and $query$.",
    )
    guardrail_json = JSONObjectField(
        label="Guardrail (advanced JSON)",
        help_text='A GuardrailConfiguration: {"guardrailId": "...", "guardrailVersion": "1"}.',
    )
    inference_config_json = JSONObjectField(
        label="Generation inference config (advanced JSON)",
        help_text=(
            'A KbInferenceConfig, e.g. {"textInferenceConfig": {"temperature": 0.2, '
            '"topP": 0.9, "maxTokens": 1024}}.'
        ),
    )
    additional_fields_json = JSONObjectField(
        label="Additional model request fields (advanced JSON)",
        help_text="Model-specific fields passed to the generator model.",
    )
    orchestration_json = JSONObjectField(
        label="Orchestration (advanced JSON)",
        help_text=(
            'An OrchestrationConfiguration, e.g. {"queryTransformationConfiguration": '
            '{"type": "QUERY_DECOMPOSITION"}}.'
        ),
    )
    external_sources_json = JSONObjectField(
        label="External sources (advanced JSON)",
        help_text="An ExternalSourcesRetrieveAndGenerateConfiguration: modelArn and sources.",
    )
    rag_source_identifier = text_field(
        label="RAG source name",
        path=_first(f"{_PRECOMPUTED}.retrieveSourceConfig.ragSourceIdentifier"),
        help_text="The knowledgeBaseIdentifier your dataset's responses use for this source.",
    )

    # Advanced JSON fields by the member they fill, relative to their parent object.
    VECTOR_SEARCH_JSON = {
        "filter_json": "filter",
        "implicit_filter_json": "implicitFilterConfiguration",
        "reranking_json": "rerankingConfiguration",
    }
    GENERATION_JSON = {
        "guardrail_json": "guardrailConfiguration",
        "inference_config_json": "kbInferenceConfig",
        "additional_fields_json": "additionalModelRequestFields",
    }

    def row_kwargs(self, formset: str) -> dict[str, Any]:
        kwargs = super().row_kwargs(formset)
        if formset == "datasets":
            kwargs["mode"] = self.MODES.get(str(self["source"].value() or ""))
        return kwargs

    @classmethod
    def json_paths(cls, source: str | None) -> dict[str, str]:
        """Where each advanced JSON field goes in the request, for `source`."""
        rag = _first(RAG)
        retrieve = f"{rag}.knowledgeBaseConfig.retrieveConfig"
        generate = f"{rag}.knowledgeBaseConfig.retrieveAndGenerateConfig"
        kb = f"{generate}.knowledgeBaseConfiguration"
        if source == "kb_retrieve":
            vector = f"{retrieve}.knowledgeBaseRetrievalConfiguration.vectorSearchConfiguration"
            return {f: f"{vector}.{m}" for f, m in cls.VECTOR_SEARCH_JSON.items()}
        if source == "kb_retrieve_and_generate":
            vector = f"{kb}.retrievalConfiguration.vectorSearchConfiguration"
            return {
                **{f: f"{vector}.{m}" for f, m in cls.VECTOR_SEARCH_JSON.items()},
                **{f: f"{kb}.generationConfiguration.{m}" for f, m in cls.GENERATION_JSON.items()},
                "orchestration_json": f"{kb}.orchestrationConfiguration",
            }
        if source == "external_sources":
            return {"external_sources_json": f"{generate}.externalSourcesConfiguration"}
        return {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # Each advanced JSON object is checked on its own, at the path it goes to, so its
        # errors come with the field (and the path inside the object) at once.
        for field, path in self.json_paths(cleaned.get("source")).items():
            value = cleaned.get(field)
            if value is not None:
                shape = contract.shape_for_path(OPERATION, path)
                for violation in contract.validate_shape(shape, value, path):
                    self.report(violation)
        return cleaned

    def build(self) -> dict[str, Any]:
        data = self.cleaned_data
        source = data.get("source")
        vector = prune(
            {
                "numberOfResults": data.get("number_of_results"),
                "overrideSearchType": data.get("search_type"),
                **{m: data.get(f) for f, m in self.VECTOR_SEARCH_JSON.items()},
            }
        )
        if source == "kb_retrieve":
            rag: dict[str, Any] = {
                "knowledgeBaseConfig": {
                    "retrieveConfig": {
                        "knowledgeBaseId": data.get("knowledge_base_id"),
                        "knowledgeBaseRetrievalConfiguration": {
                            "vectorSearchConfiguration": vector
                        },
                    }
                }
            }
        elif source == "kb_retrieve_and_generate":
            template = data.get("prompt_template")
            generation = prune(
                {
                    "promptTemplate": {"textPromptTemplate": template} if template else None,
                    **{m: data.get(f) for f, m in self.GENERATION_JSON.items()},
                }
            )
            configuration = {
                "knowledgeBaseId": data.get("knowledge_base_id"),
                "modelArn": data.get("generator_model_arn"),
                "retrievalConfiguration": {"vectorSearchConfiguration": vector} if vector else None,
                "generationConfiguration": generation or None,
                "orchestrationConfiguration": data.get("orchestration_json"),
            }
            rag = {
                "knowledgeBaseConfig": {
                    "retrieveAndGenerateConfig": {
                        "type": "KNOWLEDGE_BASE",
                        "knowledgeBaseConfiguration": configuration,
                    }
                }
            }
        elif source == "external_sources":
            rag = {
                "knowledgeBaseConfig": {
                    "retrieveAndGenerateConfig": {
                        "type": "EXTERNAL_SOURCES",
                        "externalSourcesConfiguration": data.get("external_sources_json"),
                    }
                }
            }
        else:
            member = (
                "retrieveSourceConfig"
                if source == "precomputed_retrieve"
                else "retrieveAndGenerateSourceConfig"
            )
            identifier = {"ragSourceIdentifier": data.get("rag_source_identifier")}
            rag = {"precomputedRagSourceConfig": {member: identifier}}
        automated = {
            "datasetMetricConfigs": self._dataset_configs(),
            "evaluatorModelConfig": self._evaluator(),
            "customMetricConfig": self._custom_metric_config(),
        }
        return {
            **self._common(),
            "evaluationConfig": {"automated": automated},
            "inferenceConfig": {"ragConfigs": [rag]},
        }

    @classmethod
    def initial_for(cls, request: Mapping[str, Any]) -> dict[str, Any]:
        automated = _get(request, "evaluationConfig", "automated") or {}
        rags = _get(request, "inferenceConfig", "ragConfigs") or [{}]
        rag = rags[0]
        initial: dict[str, Any] = {
            **cls._common_initial(request),
            **cls._custom_metrics_initial(automated),
            "datasets": cls._datasets_initial(automated.get("datasetMetricConfigs", [])),
        }
        kb = rag.get("knowledgeBaseConfig", {})
        precomputed = rag.get("precomputedRagSourceConfig", {})
        generate = kb.get("retrieveAndGenerateConfig", {})
        vector: Mapping[str, Any] = {}
        if "retrieveConfig" in kb:
            retrieve = kb["retrieveConfig"]
            initial["source"] = "kb_retrieve"
            initial["knowledge_base_id"] = retrieve.get("knowledgeBaseId", "")
            vector = _get(
                retrieve, "knowledgeBaseRetrievalConfiguration", "vectorSearchConfiguration"
            )
        elif generate.get("type") == "EXTERNAL_SOURCES":
            initial["source"] = "external_sources"
            initial["external_sources_json"] = generate.get("externalSourcesConfiguration")
        elif generate:
            configuration = generate.get("knowledgeBaseConfiguration", {})
            generation = configuration.get("generationConfiguration", {})
            initial |= {
                "source": "kb_retrieve_and_generate",
                "knowledge_base_id": configuration.get("knowledgeBaseId", ""),
                "generator_model_arn": configuration.get("modelArn", ""),
                "prompt_template": _get(generation, "promptTemplate", "textPromptTemplate") or "",
                "orchestration_json": configuration.get("orchestrationConfiguration"),
                **{f: generation.get(m) for f, m in cls.GENERATION_JSON.items()},
            }
            vector = _get(configuration, "retrievalConfiguration", "vectorSearchConfiguration")
        elif "retrieveSourceConfig" in precomputed:
            initial["source"] = "precomputed_retrieve"
            initial["rag_source_identifier"] = precomputed["retrieveSourceConfig"].get(
                "ragSourceIdentifier", ""
            )
        elif "retrieveAndGenerateSourceConfig" in precomputed:
            initial["source"] = "precomputed_retrieve_and_generate"
            initial["rag_source_identifier"] = precomputed["retrieveAndGenerateSourceConfig"].get(
                "ragSourceIdentifier", ""
            )
        vector = vector or {}
        initial |= {
            "number_of_results": vector.get("numberOfResults"),
            "search_type": vector.get("overrideSearchType", ""),
            **{f: vector.get(m) for f, m in cls.VECTOR_SEARCH_JSON.items()},
        }
        # JSON objects are shown as indented JSON text.
        return {k: _json_text(v) if k.endswith("_json") else v for k, v in initial.items()}


def _json_text(value: Any) -> str:
    return "" if value is None else json.dumps(value, indent=2)
