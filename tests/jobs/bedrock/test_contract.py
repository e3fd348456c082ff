"""The contract validator against botocore's real `bedrock` model (no mocks, no database)."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.bedrock.contract import (
    Violation,
    compile_pattern,
    service_model,
    shape_for_path,
    validate,
    validate_shape,
)

ROLE = "arn:aws:iam::123456789012:role/BedrockEvaluationRole"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
HAIKU_ARN = f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"
RERANK_ARN = "arn:aws:bedrock:us-west-2::foundation-model/amazon.rerank-v1:0"
JOB_NAME_PATTERN = "[a-z0-9](-*[a-z0-9]){0,62}"


def automated_job() -> dict:
    return {
        "jobName": "claude-haiku-boolq",
        "jobDescription": "Accuracy and robustness of Claude 3 Haiku",
        "clientRequestToken": "5f1c2a9e-6b1d-4c2e-9a7b-0c8d9e1f2a3b",
        "roleArn": ROLE,
        "customerEncryptionKeyId": "arn:aws:kms:us-east-1:123456789012:key/"
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "jobTags": [{"key": "team", "value": "ml-platform"}, {"key": "cost-center", "value": ""}],
        "applicationType": "ModelEvaluation",
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "QuestionAndAnswer",
                        "dataset": {"name": "Builtin.BoolQ"},
                        "metricNames": ["Builtin.Accuracy", "Builtin.Robustness"],
                    },
                    {
                        "taskType": "Generation",
                        "dataset": {
                            "name": "support-prompts",
                            "datasetLocation": {"s3Uri": "s3://my-eval-bucket/datasets/p.jsonl"},
                        },
                        "metricNames": ["Builtin.Toxicity"],
                    },
                ]
            }
        },
        "inferenceConfig": {
            "models": [
                {
                    "bedrockModel": {
                        "modelIdentifier": HAIKU,
                        "inferenceParams": '{"inferenceConfig":{"maxTokens":512}}',
                        "performanceConfig": {"latency": "standard"},
                    }
                }
            ]
        },
        "outputDataConfig": {"s3Uri": "s3://my-eval-bucket/results/"},
    }


def judge_job() -> dict:
    return {
        "jobName": "judge-correctness",
        "roleArn": ROLE,
        "applicationType": "ModelEvaluation",
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "Generation",
                        "dataset": {
                            "name": "qa-set",
                            "datasetLocation": {"s3Uri": "s3://my-eval-bucket/qa.jsonl"},
                        },
                        "metricNames": [
                            "Builtin.Correctness",
                            "Builtin.Completeness",
                            "Builtin.Harmfulness",
                            "Tone",
                        ],
                    }
                ],
                "evaluatorModelConfig": {"bedrockEvaluatorModels": [{"modelIdentifier": SONNET}]},
                "customMetricConfig": {
                    "customMetrics": [
                        {
                            "customMetricDefinition": {
                                "name": "Tone",
                                "instructions": "Rate the tone of {{prediction}} for {{prompt}}.",
                                "ratingScale": [
                                    {"definition": "Rude", "value": {"floatValue": 0.0}},
                                    {"definition": "Polite", "value": {"stringValue": "polite"}},
                                ],
                            }
                        }
                    ],
                    "evaluatorModelConfig": {
                        "bedrockEvaluatorModels": [{"modelIdentifier": SONNET}]
                    },
                },
            }
        },
        "inferenceConfig": {
            "models": [
                {"precomputedInferenceSource": {"inferenceSourceIdentifier": "my-own-model"}}
            ]
        },
        "outputDataConfig": {"s3Uri": "s3://my-eval-bucket/judge/"},
    }


def human_job() -> dict:
    return {
        "jobName": "human-side-by-side",
        "roleArn": ROLE,
        "evaluationConfig": {
            "human": {
                "humanWorkflowConfig": {
                    "flowDefinitionArn": "arn:aws:sagemaker:us-east-1:123456789012:"
                    "flow-definition/bedrock-eval-flow",
                    "instructions": "Compare both answers.\nPick the more helpful one.",
                },
                "customMetrics": [
                    {
                        "name": "Helpfulness",
                        "description": "Which answer helps more",
                        "ratingMethod": "ComparisonChoice",
                    },
                    {"name": "Friendliness", "ratingMethod": "ThumbsUpDown"},
                ],
                "datasetMetricConfigs": [
                    {
                        "taskType": "Custom",
                        "dataset": {
                            "name": "prompts",
                            "datasetLocation": {"s3Uri": "s3://my-eval-bucket/prompts.jsonl"},
                        },
                        "metricNames": ["Helpfulness", "Friendliness"],
                    }
                ],
            }
        },
        "inferenceConfig": {
            "models": [
                {"bedrockModel": {"modelIdentifier": HAIKU}},
                {"bedrockModel": {"modelIdentifier": f"us.{HAIKU}"}},
            ]
        },
        "outputDataConfig": {"s3Uri": "s3://my-eval-bucket/human/"},
    }


def rag_job() -> dict:
    return {
        "jobName": "rag-faithfulness",
        "roleArn": ROLE,
        "applicationType": "RagEvaluation",
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "QuestionAndAnswer",
                        "dataset": {
                            "name": "rag-questions",
                            "datasetLocation": {"s3Uri": "s3://my-eval-bucket/rag.jsonl"},
                        },
                        "metricNames": ["Builtin.Correctness", "Builtin.Faithfulness"],
                    }
                ],
                "evaluatorModelConfig": {"bedrockEvaluatorModels": [{"modelIdentifier": SONNET}]},
            }
        },
        "inferenceConfig": {
            "ragConfigs": [
                {
                    "knowledgeBaseConfig": {
                        "retrieveAndGenerateConfig": {
                            "type": "KNOWLEDGE_BASE",
                            "knowledgeBaseConfiguration": {
                                "knowledgeBaseId": "KB12345678",
                                "modelArn": HAIKU_ARN,
                                "retrievalConfiguration": retrieval_configuration(),
                                "generationConfiguration": {
                                    "promptTemplate": {
                                        "textPromptTemplate": "Answer from $search_results$"
                                    },
                                    "guardrailConfiguration": {
                                        "guardrailId": "abc123def456",
                                        "guardrailVersion": "DRAFT",
                                    },
                                    "kbInferenceConfig": {
                                        "textInferenceConfig": {
                                            "temperature": 0.2,
                                            "topP": 0.9,
                                            "maxTokens": 1024,
                                            "stopSequences": ["\n\nHuman:"],
                                        }
                                    },
                                    "additionalModelRequestFields": {"top_k": 50},
                                },
                                "orchestrationConfiguration": {
                                    "queryTransformationConfiguration": {
                                        "type": "QUERY_DECOMPOSITION"
                                    }
                                },
                            },
                        }
                    }
                }
            ]
        },
        "outputDataConfig": {"s3Uri": "s3://my-eval-bucket/rag/"},
    }


def retrieval_configuration() -> dict:
    return {
        "vectorSearchConfiguration": {
            "numberOfResults": 5,
            "overrideSearchType": "HYBRID",
            "filter": {
                "andAll": [
                    {"equals": {"key": "category", "value": "faq"}},
                    {
                        "orAll": [
                            {"greaterThan": {"key": "year", "value": 2020}},
                            {"in": {"key": "tags", "value": ["billing", "refunds"]}},
                        ]
                    },
                ]
            },
            "rerankingConfiguration": {
                "type": "BEDROCK_RERANKING_MODEL",
                "bedrockRerankingConfiguration": {
                    "modelConfiguration": {
                        "modelArn": RERANK_ARN,
                        "additionalModelRequestFields": {"truncate": {"mode": "end"}},
                    },
                    "numberOfRerankedResults": 3,
                    "metadataConfiguration": {"selectionMode": "ALL"},
                },
            },
        }
    }


def rag_retrieve_job() -> dict:
    job = rag_job()
    job["jobName"] = "rag-retrieve-only"
    job["inferenceConfig"] = {
        "ragConfigs": [
            {
                "knowledgeBaseConfig": {
                    "retrieveConfig": {
                        "knowledgeBaseId": "KB12345678",
                        "knowledgeBaseRetrievalConfiguration": retrieval_configuration(),
                    }
                }
            }
        ]
    }
    return job


def model_import_job() -> dict:
    return {
        "jobName": "import-llama-3.1-8b",
        "importedModelName": "my-llama-3_1-8b",
        "roleArn": ROLE,
        "modelDataSource": {"s3DataSource": {"s3Uri": "s3://my-models/llama-3.1-8b/"}},
        "jobTags": [{"key": "team", "value": "ml"}],
        "importedModelTags": [{"key": "stage", "value": "dev"}],
        "clientRequestToken": "import-0001",
        "vpcConfig": {
            "subnetIds": ["subnet-0123456789abcdef0"],
            "securityGroupIds": ["sg-0123456789abcdef0"],
        },
        "importedModelKmsKeyId": "alias/my-import-key",
    }


DMC = "evaluationConfig.automated.datasetMetricConfigs"
KB = "inferenceConfig.ragConfigs[0].knowledgeBaseConfig.retrieveAndGenerateConfig"
RETRIEVAL = f"{KB}.knowledgeBaseConfiguration.retrievalConfiguration"


# --- valid requests -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "operation, request_factory",
    [
        ("CreateEvaluationJob", automated_job),
        ("CreateEvaluationJob", judge_job),
        ("CreateEvaluationJob", human_job),
        ("CreateEvaluationJob", rag_job),
        ("CreateEvaluationJob", rag_retrieve_job),
        ("CreateModelImportJob", model_import_job),
    ],
)
def test_valid_request_has_no_violations(operation: str, request_factory: Callable) -> None:
    assert validate(operation, request_factory()) == []


def test_valid_list_and_delete_requests() -> None:
    assert validate("ListEvaluationJobs", {}) == []
    assert (
        validate(
            "ListEvaluationJobs",
            {
                "creationTimeAfter": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                "statusEquals": "Completed",
                "nameContains": "claude",
                "maxResults": 1000,
                "nextToken": "opaque-token==",
                "sortBy": "CreationTime",
                "sortOrder": "Descending",
            },
        )
        == []
    )
    arn = "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/abcdefghij12"
    assert validate("BatchDeleteEvaluationJob", {"jobIdentifiers": [arn] * 25}) == []
    assert validate("ListImportedModels", {"nameContains": "llama", "maxResults": 1}) == []


# --- one rule at a time, each with the model's own example -------------------------------


def test_pattern_is_a_full_match() -> None:
    for name in ("My_Job", "job-", "-job", "job name"):
        job = automated_job() | {"jobName": name}
        assert validate("CreateEvaluationJob", job) == [
            Violation("jobName", f"must match {JOB_NAME_PATTERN}")
        ]
    # re.search would find "ok" inside each of those; only the whole value counts.
    assert validate("CreateEvaluationJob", automated_job() | {"jobName": "a--b"}) == []


def test_string_length() -> None:
    # 64 characters that fit the pattern: only the length is wrong.
    too_long = "a" + "-" * 62 + "b"
    assert validate("CreateEvaluationJob", automated_job() | {"jobName": too_long}) == [
        Violation("jobName", "must be at most 63 characters")
    ]
    # Every rule a value breaks is reported.
    assert validate("CreateEvaluationJob", automated_job() | {"jobName": ""}) == [
        Violation("jobName", "must be at least 1 characters"),
        Violation("jobName", f"must match {JOB_NAME_PATTERN}"),
    ]


def test_list_item_pattern() -> None:
    job = automated_job()
    job["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["metricNames"][1] = "Bad Name"
    assert validate("CreateEvaluationJob", job) == [
        Violation(f"{DMC}[0].metricNames[1]", "must match [0-9a-zA-Z-_.]+")
    ]


def test_list_item_counts() -> None:
    job = automated_job()
    configs = job["evaluationConfig"]["automated"]["datasetMetricConfigs"]
    configs.extend(copy.deepcopy(configs[0]) for _ in range(4))
    assert validate("CreateEvaluationJob", job) == [Violation(DMC, "must have at most 5 items")]
    configs.clear()
    assert validate("CreateEvaluationJob", job) == [Violation(DMC, "must have at least 1 items")]


def test_enum() -> None:
    job = automated_job()
    job["evaluationConfig"]["automated"]["datasetMetricConfigs"][1]["taskType"] = "Translation"
    assert validate("CreateEvaluationJob", job) == [
        Violation(
            f"{DMC}[1].taskType",
            "must be one of: Summarization, Classification, QuestionAndAnswer, Generation, Custom",
        )
    ]
    assert validate("ListEvaluationJobs", {"sortOrder": "descending"}) == [
        Violation("sortOrder", "must be one of: Ascending, Descending")
    ]


def test_union_needs_exactly_one_member() -> None:
    message = "must set exactly one of: automated, human"
    job = automated_job() | {"evaluationConfig": {}}
    assert validate("CreateEvaluationJob", job) == [Violation("evaluationConfig", message)]
    both = automated_job()
    both["evaluationConfig"]["human"] = human_job()["evaluationConfig"]["human"]
    assert validate("CreateEvaluationJob", both) == [Violation("evaluationConfig", message)]
    # A member set to None counts as not set.
    assert (
        validate(
            "CreateEvaluationJob",
            both
            | {
                "evaluationConfig": {
                    "automated": both["evaluationConfig"]["automated"],
                    "human": None,
                }
            },
        )
        == []
    )


def test_union_member_is_validated() -> None:
    job = automated_job()
    job["inferenceConfig"]["models"][0] = {"bedrockModel": {}}
    assert validate("CreateEvaluationJob", job) == [
        Violation("inferenceConfig.models[0].bedrockModel.modelIdentifier", "is required")
    ]


def test_required_member() -> None:
    job = automated_job()
    del job["roleArn"]
    assert validate("CreateEvaluationJob", job) == [Violation("roleArn", "is required")]
    assert validate("CreateEvaluationJob", automated_job() | {"roleArn": None}) == [
        Violation("roleArn", "is required")
    ]
    assert validate("BatchDeleteEvaluationJob", {}) == [Violation("jobIdentifiers", "is required")]


def test_numeric_range() -> None:
    assert validate("ListEvaluationJobs", {"maxResults": 0}) == [
        Violation("maxResults", "must be at least 1")
    ]
    assert validate("ListEvaluationJobs", {"maxResults": 1001}) == [
        Violation("maxResults", "must be at most 1000")
    ]
    assert validate("ListEvaluationJobs", {"maxResults": 1}) == []
    job = rag_job()
    text = job["inferenceConfig"]["ragConfigs"][0]["knowledgeBaseConfig"][
        "retrieveAndGenerateConfig"
    ]["knowledgeBaseConfiguration"]["generationConfiguration"]["kbInferenceConfig"][
        "textInferenceConfig"
    ]
    text["temperature"] = 1.5
    text["maxTokens"] = -1
    base = f"{KB}.knowledgeBaseConfiguration.generationConfiguration.kbInferenceConfig"
    assert validate("CreateEvaluationJob", job) == [
        Violation(f"{base}.textInferenceConfig.temperature", "must be at most 1"),
        Violation(f"{base}.textInferenceConfig.maxTokens", "must be at least 0"),
    ]


def test_integer_without_range_is_still_32_bit() -> None:
    # MaxTokens has a range; an integer shape without one is still a Smithy 32-bit integer.
    unbounded = [
        name
        for name in service_model().shape_names
        if service_model().shape_for(name).type_name == "integer"
        and "max" not in service_model().shape_for(name).metadata
    ]
    assert unbounded, "no unbounded integer in the model any more"
    assert validate_shape(unbounded[0], 2**31) == [Violation("", "must be at most 2147483647")]


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2024, 5, 1, 12, 0),
        dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC),
        "2024-05-01T12:00:00Z",
        "2024-05-01T12:00:00.123+02:00",
        "2024-05-01",
        1714564800,
        1714564800.5,
    ],
)
def test_timestamp_accepts(value: Any) -> None:
    assert validate("ListEvaluationJobs", {"creationTimeAfter": value}) == []


@pytest.mark.parametrize("value", ["yesterday", "", True, [], {"y": 2024}, float("nan")])
def test_timestamp_rejects(value: Any) -> None:
    assert validate("ListImportedModels", {"creationTimeBefore": value}) == [
        Violation("creationTimeBefore", "must be a timestamp")
    ]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"nameContains": 5}, Violation("nameContains", "must be a string")),
        ({"maxResults": "10"}, Violation("maxResults", "must be an integer")),
        ({"maxResults": True}, Violation("maxResults", "must be an integer")),
        ({"maxResults": 10.0}, Violation("maxResults", "must be an integer")),
        ({"sortOrder": ["Ascending"]}, Violation("sortOrder", "must be a string")),
    ],
)
def test_types(params: dict, expected: Violation) -> None:
    assert validate("ListEvaluationJobs", params) == [expected]


def test_wrong_type_is_not_looked_into() -> None:
    for value, message in [("tags", "must be a list"), ({"key": "a"}, "must be a list")]:
        job = automated_job() | {"jobTags": value}
        assert validate("CreateEvaluationJob", job) == [Violation("jobTags", message)]
    job = automated_job() | {"evaluationConfig": ["automated"]}
    assert validate("CreateEvaluationJob", job) == [
        Violation("evaluationConfig", "must be an object")
    ]
    job = automated_job() | {"jobTags": [{"key": "a", "value": "b"}, "team=ml"]}
    assert validate("CreateEvaluationJob", job) == [Violation("jobTags[1]", "must be an object")]


def test_number_types() -> None:
    job = rag_job()
    text = job["inferenceConfig"]["ragConfigs"][0]["knowledgeBaseConfig"][
        "retrieveAndGenerateConfig"
    ]["knowledgeBaseConfiguration"]["generationConfiguration"]["kbInferenceConfig"][
        "textInferenceConfig"
    ]
    text.update(temperature="0.5", topP=float("inf"), maxTokens=1)
    base = f"{KB}.knowledgeBaseConfiguration.generationConfiguration.kbInferenceConfig"
    assert validate("CreateEvaluationJob", job) == [
        Violation(f"{base}.textInferenceConfig.temperature", "must be a number"),
        Violation(f"{base}.textInferenceConfig.topP", "must be a finite number"),
    ]
    text.update(temperature=1, topP=0)  # ints are numbers too
    assert validate("CreateEvaluationJob", job) == []


def test_unknown_member() -> None:
    job = automated_job() | {"jobname": "typo"}
    assert validate("CreateEvaluationJob", job) == [Violation("jobname", "is not a known member")]
    job = automated_job()
    job["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["dataset"]["uri"] = "s3://x"
    assert validate("CreateEvaluationJob", job) == [
        Violation(f"{DMC}[0].dataset.uri", "is not a known member")
    ]


def test_map_keys_and_values() -> None:
    job = rag_job()
    fields = job["inferenceConfig"]["ragConfigs"][0]["knowledgeBaseConfig"][
        "retrieveAndGenerateConfig"
    ]["knowledgeBaseConfiguration"]["generationConfiguration"]["additionalModelRequestFields"]
    fields.update({"": 1, "k" * 101: 2, 'say "hi"': {"any": ["json", 1, None]}, "bad": object()})
    path = f"{KB}.knowledgeBaseConfiguration.generationConfiguration.additionalModelRequestFields"
    assert validate("CreateEvaluationJob", job) == [
        Violation(f'{path}[""]', "key must be at least 1 characters"),
        Violation(f'{path}["{"k" * 101}"]', "key must be at most 100 characters"),
        Violation(f'{path}["bad"]', "must be a JSON value"),
    ]


def test_recursive_shape() -> None:
    job = rag_job()
    kb = job["inferenceConfig"]["ragConfigs"][0]["knowledgeBaseConfig"][
        "retrieveAndGenerateConfig"
    ]["knowledgeBaseConfiguration"]
    or_all = kb["retrievalConfiguration"]["vectorSearchConfiguration"]["filter"]["andAll"][1]
    or_all["orAll"][1] = {"startsWith": {"key": "", "value": "x"}}
    or_all["orAll"].append({"andAll": [{"equals": {"key": "a", "value": 1}}]})
    path = f"{RETRIEVAL}.vectorSearchConfiguration.filter.andAll[1].orAll"
    assert validate("CreateEvaluationJob", job) == [
        Violation(f"{path}[1].startsWith.key", "must be at least 1 characters"),
        Violation(f"{path}[2].andAll", "must have at least 2 items"),
    ]


def test_blob_length() -> None:
    job = rag_job()
    config = job["inferenceConfig"]["ragConfigs"][0]["knowledgeBaseConfig"][
        "retrieveAndGenerateConfig"
    ]
    config["type"] = "EXTERNAL_SOURCES"
    del config["knowledgeBaseConfiguration"]
    source = {"identifier": "doc.txt", "contentType": "text/plain", "data": b""}
    config["externalSourcesConfiguration"] = {
        "modelArn": HAIKU_ARN,
        "sources": [{"sourceType": "BYTE_CONTENT", "byteContent": source}],
    }
    path = f"{KB}.externalSourcesConfiguration.sources[0].byteContent.data"
    assert validate("CreateEvaluationJob", job) == [Violation(path, "must be at least 1 bytes")]
    source["data"] = "text"
    assert validate("CreateEvaluationJob", job) == []
    source["data"] = 7
    assert validate("CreateEvaluationJob", job) == [Violation(path, "must be bytes")]


def test_violations_come_in_model_order() -> None:
    job = automated_job() | {"zzz": 1, "jobName": "X", "outputDataConfig": {}}
    del job["roleArn"]
    assert validate("CreateEvaluationJob", job) == [
        Violation("jobName", f"must match {JOB_NAME_PATTERN}"),
        Violation("roleArn", "is required"),
        Violation("outputDataConfig.s3Uri", "is required"),
        Violation("zzz", "is not a known member"),
    ]


def test_request_must_be_an_object() -> None:
    assert validate("ListEvaluationJobs", []) == [Violation("", "must be an object")]


def test_unknown_operation() -> None:
    with pytest.raises(KeyError):
        validate("CreateEvaluationJobs", {})


# --- validate_shape and shape_for_path -------------------------------------------------


def test_validate_shape_prefixes_paths() -> None:
    config = retrieval_configuration()
    config["vectorSearchConfiguration"]["numberOfResults"] = 0
    config["vectorSearchConfiguration"]["overrideSearchType"] = "KEYWORD"
    prefix = f"{RETRIEVAL}"
    expected = [
        Violation(f"{prefix}.vectorSearchConfiguration.numberOfResults", "must be at least 1"),
        Violation(
            f"{prefix}.vectorSearchConfiguration.overrideSearchType",
            "must be one of: HYBRID, SEMANTIC",
        ),
    ]
    assert validate_shape("KnowledgeBaseRetrievalConfiguration", config, prefix) == expected
    shape = shape_for_path("CreateEvaluationJob", prefix)
    assert shape.name == "KnowledgeBaseRetrievalConfiguration"
    assert validate_shape(shape, config, prefix) == expected
    assert validate_shape(shape, retrieval_configuration()) == []
    assert validate_shape("EvaluationJobName", "Nope") == [
        Violation("", f"must match {JOB_NAME_PATTERN}")
    ]


@pytest.mark.parametrize(
    "path, shape_name",
    [
        ("", "CreateEvaluationJobRequest"),
        ("jobName", "EvaluationJobName"),
        ("jobTags[3].key", "TagKey"),
        (f"{DMC}[0]", "EvaluationDatasetMetricConfig"),
        (f"{DMC}[4].metricNames[24]", "EvaluationMetricName"),
        (
            f"{RETRIEVAL}.vectorSearchConfiguration.filter.andAll[0].orAll[1].in.value",
            "FilterValue",
        ),
        (
            f"{KB}.knowledgeBaseConfiguration.generationConfiguration"
            f'.additionalModelRequestFields["top.k[0]"]',
            "AdditionalModelRequestFieldsValue",
        ),
    ],
)
def test_shape_for_path(path: str, shape_name: str) -> None:
    assert shape_for_path("CreateEvaluationJob", path).name == shape_name


@pytest.mark.parametrize(
    "operation, path",
    [
        ("CreateEvaluationJob", "jobname"),
        ("CreateEvaluationJob", "jobName.x"),
        ("CreateEvaluationJob", "jobTags.key"),
        ("CreateEvaluationJob", "jobTags[0]key"),
        ("CreateEvaluationJob", ".jobName"),
        ("CreateEvaluationJob", "jobTags[x]"),
        ("CreateEvaluationJob", 'jobTags["0"]'),
        ("CreateEvaluationJob", "evaluationConfig..automated"),
        ("NoSuchOperation", "jobName"),
    ],
)
def test_shape_for_path_raises_key_error(operation: str, path: str) -> None:
    with pytest.raises(KeyError):
        shape_for_path(operation, path)


# --- the model itself ---------------------------------------------------------------------


def _all_shapes() -> list[Shape]:
    model = service_model()
    return [model.shape_for(name) for name in model.shape_names]


def test_every_model_pattern_compiles() -> None:
    patterns = {s.metadata["pattern"] for s in _all_shapes() if "pattern" in s.metadata}
    assert len(patterns) > 50
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. FutureWarning for Java-style nested sets
        for pattern in patterns:
            compile_pattern(pattern)


def test_unicode_property_classes_are_translated() -> None:
    pattern = r"\p{L}[\p{L}\p{M}0-9_]*( [\p{L}\p{M}0-9_]+)*"
    assert pattern in {s.metadata.get("pattern") for s in _all_shapes()}
    regex = compile_pattern(pattern)
    for ok in ("Größe", "état_2 naïve", "e\u0301t\u00e9", "変数 名前"):
        assert regex.fullmatch(ok), ok
    for bad in ("2nd", "_x", "a  b", "a-b", "a ", "\u0301a"):
        assert not regex.fullmatch(bad), bad
    assert compile_pattern(r"\P{L}+").fullmatch("1 2")
    assert not compile_pattern(r"\P{L}+").fullmatch("1a")
    with pytest.raises(ValueError):
        compile_pattern(r"[\P{L}]")
    with pytest.raises(ValueError):
        compile_pattern(r"\p{Alpha}")


def test_patterns_use_ascii_classes() -> None:
    # \d in LambdaArn is [0-9] for the service, not Python's Unicode digits.
    lambda_arn = service_model().shape_for("LambdaArn").metadata["pattern"]
    assert compile_pattern(lambda_arn).fullmatch("arn:aws:lambda:us-east-1:123456789012:function:f")
    assert not compile_pattern(lambda_arn).fullmatch(
        "arn:aws:lambda:us-east-\u0661:123456789012:function:f"
    )


def test_enum_values_satisfy_their_own_length_and_pattern() -> None:
    # Why contract.py reports only "must be one of" for a string enum shape.
    for shape in _all_shapes():
        for value in shape.metadata.get("enum", []):
            meta = dict(shape.metadata)
            del meta["enum"]
            assert len(value) >= meta.get("min", 0), (shape.name, value)
            assert len(value) <= meta.get("max", len(value)), (shape.name, value)
            if "pattern" in meta:
                assert compile_pattern(meta["pattern"]).fullmatch(value), (shape.name, value)


def test_validation_is_cached_and_fast() -> None:
    job = rag_job()
    validate("CreateEvaluationJob", job)
    start = time.perf_counter()
    for _ in range(200):
        validate("CreateEvaluationJob", job)
    # ~0.1 ms a request in practice; the bound only catches a lost cache.
    assert (time.perf_counter() - start) / 200 < 0.005


# --- property tests: strategies built from the model ---------------------------------------

EXTRA_CHARS = 20  # beyond a string's minimum, to keep examples small
EXTRA_ITEMS = 2  # beyond a list's or map's minimum
RECURSION = 2  # how often one shape may appear on its own path (RetrievalFilter.andAll)
OPERATIONS = [
    "CreateEvaluationJob",
    "ListEvaluationJobs",
    "BatchDeleteEvaluationJob",
    "CreateModelImportJob",
    "ListImportedModels",
]
PROPERTY_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
).filter(lambda value: value is not None)  # a null member counts as not set
INT_BOUNDS = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


def strategy_for(shape: Shape, stack: tuple[str, ...] = ()) -> st.SearchStrategy | None:
    """Valid values for `shape`, or None where the recursion limit leaves none."""
    meta = shape.metadata
    low, high = meta.get("min"), meta.get("max")
    if getattr(shape, "is_document_type", False):
        return JSON
    if shape.type_name in ("structure", "list", "map"):
        if stack.count(shape.name) >= RECURSION:
            return None
        stack = (*stack, shape.name)
    match shape.type_name:
        case "structure":
            assert isinstance(shape, StructureShape)
            members = {name: strategy_for(m, stack) for name, m in shape.members.items()}
            if meta.get("union"):
                choices = [
                    st.fixed_dictionaries({n: s}) for n, s in members.items() if s is not None
                ]
                return st.one_of(choices) if choices else None
            required = {n: members[n] for n in shape.required_members}
            if any(s is None for s in required.values()):
                return None
            optional = {n: s for n, s in members.items() if n not in required and s is not None}
            return st.fixed_dictionaries(required, optional=optional)
        case "list" | "map":
            low = low or 0
            size = {"min_size": low, "max_size": min(high or low + EXTRA_ITEMS, low + EXTRA_ITEMS)}
            if isinstance(shape, ListShape):
                item = strategy_for(shape.member, stack)
                if item is None:
                    return st.just([]) if low == 0 else None
                return st.lists(item, **size)
            assert isinstance(shape, MapShape)
            key, value = strategy_for(shape.key, stack), strategy_for(shape.value, stack)
            if key is None or value is None:
                return st.just({}) if low == 0 else None
            return st.dictionaries(key, value, **size)
        case "string":
            if "enum" in meta:
                return st.sampled_from(meta["enum"])
            low = low or 0
            if "pattern" not in meta:
                return st.text(
                    min_size=low, max_size=min(high or low + EXTRA_CHARS, low + EXTRA_CHARS)
                )
            regex = compile_pattern(meta["pattern"])
            return st.from_regex(regex, fullmatch=True).filter(
                lambda v: low <= len(v) <= (high if high is not None else len(v))
            )
        case "integer" | "long":
            floor, ceiling = INT_BOUNDS[shape.type_name]
            return st.integers(
                low if low is not None else floor, high if high is not None else ceiling
            )
        case "float" | "double":
            return st.floats(low, high, allow_nan=False, allow_infinity=False)
        case "boolean":
            return st.booleans()
        case "timestamp":
            moment = st.datetimes(min_value=dt.datetime(1971, 1, 1))
            return st.one_of(moment, moment.map(dt.datetime.isoformat), st.integers(0, 2**32))
        case "blob":
            low = low or 0
            return st.binary(min_size=low, max_size=min(high or low + 16, low + 16))
    raise AssertionError(f"no strategy for {shape.type_name}")


@functools.cache
def request_strategy(operation: str) -> st.SearchStrategy:
    strategy = strategy_for(service_model().operation_model(operation).input_shape)
    assert strategy is not None
    return strategy


@pytest.mark.parametrize("operation", OPERATIONS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_generated_requests_are_valid(operation: str, data: st.DataObject) -> None:
    request = data.draw(request_strategy(operation), label="request")
    assert validate(operation, request) == []


# One mutation: set parent[key] to what `make` draws (or delete it); `expected` is then the
# only violation. `kind` groups mutations so each kind gets drawn, not just the first few.
_DELETE = object()


@dataclass(frozen=True)
class Mutation:
    kind: str
    parent: tuple[str | int, ...]
    key: str | int
    make: Callable[[st.DataObject], Any]
    expected: Violation

    def apply(self, request: dict, data: st.DataObject) -> dict:
        request = copy.deepcopy(request)
        container: Any = request
        for step in self.parent:
            container = container[step]
        value = self.make(data)
        if value is _DELETE:
            del container[self.key]
        else:
            container[self.key] = value
        return request


WRONG_TYPE = {
    "string": (12345, "must be a string"),
    "integer": ("1", "must be an integer"),
    "long": (1.5, "must be an integer"),
    "float": ("0.5", "must be a number"),
    "double": ("1", "must be a number"),
    "boolean": ("true", "must be a boolean"),
    "timestamp": ("not a time", "must be a timestamp"),
    "blob": (12, "must be bytes"),
    "list": ("x", "must be a list"),
    "structure": (["x"], "must be an object"),
    "map": (["x"], "must be an object"),
}


def _fmt(bound: int | float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _fits(shape: Shape, value: str) -> bool:
    """Whether a string satisfies the shape's pattern (lengths aside)."""
    pattern = shape.metadata.get("pattern")
    return pattern is None or compile_pattern(pattern).fullmatch(value) is not None


def _set(value: Any) -> Callable[[st.DataObject], Any]:
    return lambda data: value


@functools.cache
def _named_strategy(shape_name: str) -> st.SearchStrategy | None:
    return strategy_for(service_model().shape_for(shape_name))


def _draw_member(shape_name: str, data: st.DataObject) -> Any:
    return data.draw(_named_strategy(shape_name), label="second union member")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def mutations(shape: Shape, value: Any, path: str, keys: tuple = ()) -> list[Mutation]:
    """Every single-violation change the model allows at or below `value` (found at `keys`)."""
    found: list[Mutation] = []
    meta = shape.metadata
    low, high = meta.get("min"), meta.get("max")

    def replace(kind: str, new: Any, message: str, where: str = path) -> None:
        if keys:  # the request itself is never replaced
            found.append(Mutation(kind, keys[:-1], keys[-1], _set(new), Violation(where, message)))

    if getattr(shape, "is_document_type", False):
        return found  # any JSON value is valid
    replace("type", *WRONG_TYPE[shape.type_name])

    if shape.type_name == "string" and "enum" in meta:
        replace("enum", "not-" + meta["enum"][0], "must be one of: " + ", ".join(meta["enum"]))
    elif shape.type_name == "string":
        if high is not None:
            # Too long but still matching the pattern: pad at the end or after the first char.
            extra = high + 1 - len(value)
            candidates = [
                padded
                for pad in (value[-1:], value[:1], "a", "0", "-")
                if pad
                for padded in (value + pad * extra, value[:1] + pad * extra + value[1:])
                if _fits(shape, padded)
            ]
            if candidates:
                replace("too long", candidates[0], f"must be at most {high} characters")
        if low and _fits(shape, value[: low - 1]):
            replace("too short", value[: low - 1], f"must be at least {low} characters")
        if "pattern" in meta and value:
            for char in ("\n", " ", "~", "\x00", "A", "a", "0"):
                if not _fits(shape, char * len(value)):
                    replace("pattern", char * len(value), f"must match {meta['pattern']}")
                    break
    elif shape.type_name in ("integer", "long", "float", "double"):
        if high is not None:
            replace("range", high + 1, f"must be at most {_fmt(high)}")
        if low is not None:
            replace("range", low - 1, f"must be at least {_fmt(low)}")
    elif isinstance(shape, ListShape):
        if high is not None and value:
            more = value + [value[0]] * (high + 1 - len(value))
            replace("items", more, f"must have at most {high} items")
        if low:
            replace("items", value[: low - 1], f"must have at least {low} items")
        for index, item in enumerate(value):
            found += mutations(shape.member, item, f"{path}[{index}]", (*keys, index))
    elif isinstance(shape, MapShape):
        if low:
            replace(
                "items", dict(list(value.items())[: low - 1]), f"must have at least {low} items"
            )
        key_min = shape.key.metadata.get("min")
        if key_min and value and "" not in value:
            # Blank out the first key: its violation sits on the entry it names.
            first = next(iter(value))
            renamed = {("" if k == first else k): v for k, v in value.items()}
            message = f"key must be at least {key_min} characters"
            replace("map key", renamed, message, where=f'{path}[""]')
        for key, item in value.items():
            entry = f"{path}[{json.dumps(key, ensure_ascii=False)}]"
            found += mutations(shape.value, item, entry, (*keys, key))
    elif isinstance(shape, StructureShape):
        members = shape.members
        unknown = "zzNotAMember"
        found.append(
            Mutation(
                "unknown",
                keys,
                unknown,
                _set("x"),
                Violation(_join(path, unknown), "is not a known member"),
            )
        )
        if meta.get("union"):
            (chosen,) = value
            message = "must set exactly one of: " + ", ".join(members)
            found.append(Mutation("union", keys, chosen, _set(_DELETE), Violation(path, message)))
            for other, other_shape in members.items():
                if other != chosen and _named_strategy(other_shape.name) is not None:
                    make = functools.partial(_draw_member, other_shape.name)
                    found.append(Mutation("union", keys, other, make, Violation(path, message)))
            found += mutations(members[chosen], value[chosen], _join(path, chosen), (*keys, chosen))
        else:
            for name, item in value.items():
                child = _join(path, name)
                if name in shape.required_members:
                    found.append(
                        Mutation(
                            "required", keys, name, _set(_DELETE), Violation(child, "is required")
                        )
                    )
                found += mutations(members[name], item, child, (*keys, name))
    return found


@pytest.mark.parametrize("operation", OPERATIONS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_one_mutation_gives_exactly_its_violation(operation: str, data: st.DataObject) -> None:
    request = data.draw(request_strategy(operation), label="request")
    shape = service_model().operation_model(operation).input_shape
    candidates = mutations(shape, request, "")
    kind = data.draw(st.sampled_from(sorted({m.kind for m in candidates})), label="kind")
    mutation = data.draw(
        st.sampled_from([m for m in candidates if m.kind == kind]), label="mutation"
    )
    assert validate(operation, mutation.apply(request, data)) == [mutation.expected]


def test_every_mutation_of_the_examples_gives_exactly_its_violation() -> None:
    # The property above is only as good as the mutations it can pick from: every kind must
    # be on offer, and each one must hold on the hand-written requests too.
    shape = service_model().operation_model("CreateEvaluationJob").input_shape
    kinds = set()
    for factory in (automated_job, judge_job, human_job, rag_job, rag_retrieve_job):
        for mutation in mutations(shape, factory(), ""):
            kinds.add(mutation.kind)
            if not isinstance(mutation.make, functools.partial):  # needs no Hypothesis draw
                mutated = mutation.apply(factory(), None)
                assert validate("CreateEvaluationJob", mutated) == [mutation.expected]
    assert kinds == {
        "type",
        "enum",
        "too long",
        "too short",
        "pattern",
        "range",
        "items",
        "map key",
        "unknown",
        "union",
        "required",
    }
