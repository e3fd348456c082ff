"""Deterministic, realistic seed data: evaluation jobs of every kind and status, model import
jobs and the models they imported.

Every evaluation job is built as the CreateEvaluationJob request a person would have sent
(so it passes the contract and jobs.bedrock.rules), then given a status and a history.  The same
(count, random_seed) always yields the same jobs; only the timestamps move with ``now``.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import string
from dataclasses import dataclass, field
from typing import Any

from jobs.bedrock import rules
from jobs.bedrock.local.store import (
    NOMINAL_SECONDS,
    evaluation_failure,
    import_failure,
    to_datetime,
)

# Model ids in the forms the API accepts: foundation models, cross-region inference profiles,
# foundation-model ARNs.
_MODELS = (
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "us.anthropic.claude-3-5-haiku-20241022-v1:0",
    "amazon.nova-pro-v1:0",
    "amazon.nova-lite-v1:0",
    "amazon.titan-text-express-v1",
    "meta.llama3-1-70b-instruct-v1:0",
    "us.meta.llama3-2-11b-instruct-v1:0",
    "mistral.mistral-large-2402-v1:0",
    "cohere.command-r-plus-v1:0",
    "arn:aws:bedrock:{region}::foundation-model/anthropic.claude-3-sonnet-20240229-v1:0",
)
_JUDGES = (
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "meta.llama3-1-70b-instruct-v1:0",
    "mistral.mistral-large-2402-v1:0",
    "amazon.nova-pro-v1:0",
)
_GENERATOR_ARNS = (
    "arn:aws:bedrock:{region}::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0",
    "arn:aws:bedrock:{region}::foundation-model/amazon.nova-pro-v1:0",
)
_TOPICS = ("support", "billing", "onboarding", "legal", "catalog", "travel", "medical", "hr")
_ALGORITHMIC_TASKS = ("Summarization", "Classification", "QuestionAndAnswer", "Generation")
_RETRIEVE_METRICS = ("Builtin.ContextRelevance", "Builtin.ContextCoverage")
_RAG_GENERATE_METRICS = (
    "Builtin.Correctness",
    "Builtin.Completeness",
    "Builtin.Helpfulness",
    "Builtin.LogicalCoherence",
    "Builtin.Faithfulness",
    "Builtin.Harmfulness",
    "Builtin.CitationPrecision",
    "Builtin.CitationCoverage",
)
_HUMAN_METRICS = (
    ("Helpfulness", "Is the answer useful to the customer?"),
    ("Accuracy", "Are the facts in the answer correct?"),
    ("Tone", "Is the tone friendly and professional?"),
    ("Conciseness", "Is the answer free of padding?"),
)
_FAMILIES = ("llama3", "llama2", "mistral", "mixtral", "flan", "qwen2")

# (status, weight) of seeded evaluation jobs and import jobs.
_EVALUATION_STATUS_WEIGHTS = (
    ("Completed", 60),
    ("Failed", 15),
    ("Stopped", 10),
    ("InProgress", 10),
    ("Stopping", 5),
)
_IMPORT_STATUS_WEIGHTS = (("Completed", 70), ("Failed", 15), ("InProgress", 15))


@dataclass
class SeededEvaluationJob:
    arn: str
    name: str
    request: dict[str, Any]  # a valid CreateEvaluationJob request (with jobTags)
    status: str
    created: dt.datetime
    modified: dt.datetime
    outcome: str
    failure_messages: list[str] | None
    remaining_seconds: float  # nominal seconds until an InProgress/Stopping job moves on


@dataclass
class SeededModel:
    arn: str
    name: str
    created: dt.datetime
    architecture: str
    instruct_supported: bool
    custom_model_units: dict[str, Any]


@dataclass
class SeededImportJob:
    arn: str
    name: str
    request: dict[str, Any]  # a valid CreateModelImportJob request (with tags)
    status: str
    created: dt.datetime
    modified: dt.datetime
    end: dt.datetime | None
    outcome: str
    failure_message: str | None
    remaining_seconds: float
    model: SeededModel | None


@dataclass
class Seed:
    evaluation_jobs: list[SeededEvaluationJob] = field(default_factory=list)
    import_jobs: list[SeededImportJob] = field(default_factory=list)


# A running job drawn when its concurrency quota is full is seeded finished instead.
_FINISHED_INSTEAD = {"InProgress": "Completed", "Stopping": "Stopped"}


class _Gen:
    def __init__(
        self,
        random_seed: int,
        region: str,
        account_id: str,
        now: dt.datetime,
        room: dict[str, int] | None = None,
    ) -> None:
        # Seeded, reproducible data, not secrets: the stdlib generator is the right tool.
        self.rng = random.Random(random_seed)  # noqa: S311
        # Free concurrency slots (running automatic and human evaluation jobs, running imports):
        # seeded data stays within the account's quotas, as a real account's would.
        self.room = {"automatic": math.inf, "human": math.inf, "import": math.inf} | (room or {})
        self.region = region
        self.account = account_id
        self.now = now
        # Names carry a tag of the seed so two different seeds never collide.
        self.tag = "".join(self.rng.choices(string.ascii_lowercase + string.digits, k=4))

    def ident(self) -> str:
        return "".join(self.rng.choices(string.ascii_lowercase + string.digits, k=12))

    def uuid(self) -> str:
        h = "".join(self.rng.choices("0123456789abcdef", k=32))
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def model(self) -> str:
        return self.rng.choice(_MODELS).format(region=self.region)

    def bedrock_model(self) -> dict[str, Any]:
        model: dict[str, Any] = {"modelIdentifier": self.model()}
        if self.rng.random() < 0.4:
            tokens = self.rng.choice((256, 512, 1024))
            temp = self.rng.choice((0.0, 0.2, 0.7))
            model["inferenceParams"] = (
                f'{{"inferenceConfig":{{"maxTokens":{tokens},"temperature":{temp},"topP":0.9}}}}'
            )
        if self.rng.random() < 0.15:
            model["performanceConfig"] = {"latency": self.rng.choice(("standard", "optimized"))}
        return {"bedrockModel": model}

    def judge(self) -> dict[str, Any]:
        return {"bedrockEvaluatorModels": [{"modelIdentifier": self.rng.choice(_JUDGES)}]}

    def dataset(self, topic: str) -> dict[str, Any]:
        return {
            "name": f"{topic}-prompts-v{self.rng.randint(1, 9)}",
            "datasetLocation": {
                "s3Uri": f"s3://bedrock-eval-datasets-{self.account}/prompts/{topic}.jsonl"
            },
        }

    def tags(self) -> list[dict[str, str]]:
        if self.rng.random() < 0.5:
            return []
        tags = [{"key": "team", "value": self.rng.choice(("search", "support", "ml-platform"))}]
        if self.rng.random() < 0.5:
            tags.append({"key": "cost-center", "value": f"cc-{self.rng.randint(1000, 9999)}"})
        return tags

    # --- evaluation requests ---------------------------------------------------------------

    def evaluation_request(self, i: int) -> tuple[str, dict[str, Any]]:
        """(kind, CreateEvaluationJob request) for job number i."""
        roll = self.rng.random()
        topic = self.rng.choice(_TOPICS)
        if roll < 0.35:
            kind, body = "auto", self._algorithmic(topic)
        elif roll < 0.55:
            kind, body = "judge", self._judged(topic)
        elif roll < 0.75:
            kind, body = "human", self._human(topic)
        else:
            kind, body = "rag", self._rag(topic)
        name = f"{topic}-{kind}-{self.tag}-{i:05d}"
        request: dict[str, Any] = {
            "jobName": name,
            "roleArn": f"arn:aws:iam::{self.account}:role/service-role/AmazonBedrock-Evaluation",
            "outputDataConfig": {
                "s3Uri": f"s3://bedrock-eval-results-{self.account}/evaluations/{name}/"
            },
            **body,
        }
        if self.rng.random() < 0.6:
            request["jobDescription"] = f"{kind.title()} evaluation of the {topic} assistant"
        if self.rng.random() < 0.2:
            request["customerEncryptionKeyId"] = (
                f"arn:aws:kms:{self.region}:{self.account}:key/{self.uuid()}"
            )
        tags = self.tags()
        if tags:
            request["jobTags"] = tags
        return kind, request

    def _algorithmic(self, topic: str) -> dict[str, Any]:
        if self.rng.random() < 0.15:
            task = "Custom"
            datasets: list[dict[str, Any]] = [self.dataset(topic)]
        else:
            task = self.rng.choice(_ALGORITHMIC_TASKS)
            builtin = rules.BUILTIN_DATASETS[task]
            picked = self.rng.sample(builtin, self.rng.randint(1, min(2, len(builtin))))
            datasets = [{"name": name} for name in picked]
        metrics = [
            m
            for m in rules.ALGORITHMIC_METRICS
            if not (task == "Classification" and m == "Builtin.Toxicity")
        ]
        configs = [
            {
                "taskType": task,
                "dataset": d,
                "metricNames": self.rng.sample(metrics, self.rng.randint(1, len(metrics))),
            }
            for d in datasets
        ]
        return {
            "applicationType": "ModelEvaluation",
            "evaluationConfig": {"automated": {"datasetMetricConfigs": configs}},
            "inferenceConfig": {"models": [self.bedrock_model()]},
        }

    def _judged(self, topic: str) -> dict[str, Any]:
        task = self.rng.choice(("Generation", "Summarization", "QuestionAndAnswer", "Custom"))
        metrics = self.rng.sample(rules.JUDGE_METRICS, self.rng.randint(2, 6))
        automated: dict[str, Any] = {"evaluatorModelConfig": self.judge()}
        if self.rng.random() < 0.3:
            metric = self.rng.choice(("BrandVoice", "PolicyCompliance", "Empathy"))
            metrics.append(metric)
            automated["customMetricConfig"] = {
                "customMetrics": [
                    {
                        "customMetricDefinition": {
                            "name": metric,
                            "instructions": (
                                f"Rate how well the response shows {metric}.\n"
                                "Prompt: {{prompt}}\nResponse: {{prediction}}"
                            ),
                            "ratingScale": [
                                {"definition": "Poor", "value": {"floatValue": 0.0}},
                                {"definition": "Acceptable", "value": {"floatValue": 0.5}},
                                {"definition": "Good", "value": {"floatValue": 1.0}},
                            ],
                        }
                    }
                ],
                "evaluatorModelConfig": self.judge(),
            }
        automated["datasetMetricConfigs"] = [
            {"taskType": task, "dataset": self.dataset(topic), "metricNames": metrics}
        ]
        if self.rng.random() < 0.25:
            source = f"{topic}-bot-responses-v{self.rng.randint(1, 5)}"
            models = [{"precomputedInferenceSource": {"inferenceSourceIdentifier": source}}]
        else:
            models = [self.bedrock_model()]
        return {
            "applicationType": "ModelEvaluation",
            "evaluationConfig": {"automated": automated},
            "inferenceConfig": {"models": models},
        }

    def _human(self, topic: str) -> dict[str, Any]:
        two = self.rng.random() < 0.5
        methods = (
            ("ComparisonLikertScale", "ComparisonChoice", "ComparisonRank")
            if two
            else ("ThumbsUpDown", "IndividualLikertScale")
        )
        picked = self.rng.sample(_HUMAN_METRICS, self.rng.randint(1, 3))
        custom = [
            {"name": n, "description": d, "ratingMethod": self.rng.choice(methods)}
            for n, d in picked
        ]
        models = [self.bedrock_model()]
        while two and len(models) < 2:
            other = self.bedrock_model()
            if other != models[0]:
                models.append(other)
        flow = (
            f"arn:aws:sagemaker:{self.region}:{self.account}:"
            f"flow-definition/bedrock-eval-{self.ident()}"
        )
        return {
            "applicationType": "ModelEvaluation",
            "evaluationConfig": {
                "human": {
                    "humanWorkflowConfig": {
                        "flowDefinitionArn": flow,
                        "instructions": f"Rate the {topic} answers as a customer would.",
                    },
                    "customMetrics": custom,
                    "datasetMetricConfigs": [
                        {
                            "taskType": self.rng.choice(
                                ("Generation", "QuestionAndAnswer", "Custom")
                            ),
                            "dataset": self.dataset(topic),
                            "metricNames": [m["name"] for m in custom],
                        }
                    ],
                }
            },
            "inferenceConfig": {"models": models},
        }

    def _rag(self, topic: str) -> dict[str, Any]:
        kb_id = "".join(self.rng.choices(string.ascii_uppercase + string.digits, k=10))
        retrieval = {"vectorSearchConfiguration": {"numberOfResults": self.rng.choice((3, 5, 10))}}
        roll = self.rng.random()
        if roll < 0.35:
            rag = {
                "knowledgeBaseConfig": {
                    "retrieveConfig": {
                        "knowledgeBaseId": kb_id,
                        "knowledgeBaseRetrievalConfiguration": retrieval,
                    }
                }
            }
            metrics = list(_RETRIEVE_METRICS)
        elif roll < 0.8:
            rag = {
                "knowledgeBaseConfig": {
                    "retrieveAndGenerateConfig": {
                        "type": "KNOWLEDGE_BASE",
                        "knowledgeBaseConfiguration": {
                            "knowledgeBaseId": kb_id,
                            "modelArn": self.rng.choice(_GENERATOR_ARNS).format(region=self.region),
                            "retrievalConfiguration": retrieval,
                            "generationConfiguration": {
                                "kbInferenceConfig": {
                                    "textInferenceConfig": {
                                        "temperature": 0.2,
                                        "topP": 0.9,
                                        "maxTokens": 1024,
                                    }
                                }
                            },
                        },
                    }
                }
            }
            metrics = self.rng.sample(_RAG_GENERATE_METRICS, self.rng.randint(2, 5))
        else:
            source = f"{topic}-rag-outputs-v{self.rng.randint(1, 5)}"
            if self.rng.random() < 0.5:
                rag = {
                    "precomputedRagSourceConfig": {
                        "retrieveSourceConfig": {"ragSourceIdentifier": source}
                    }
                }
                metrics = list(_RETRIEVE_METRICS)
            else:
                rag = {
                    "precomputedRagSourceConfig": {
                        "retrieveAndGenerateSourceConfig": {"ragSourceIdentifier": source}
                    }
                }
                metrics = self.rng.sample(_RAG_GENERATE_METRICS, self.rng.randint(2, 5))
        return {
            "applicationType": "RagEvaluation",
            "evaluationConfig": {
                "automated": {
                    "datasetMetricConfigs": [
                        {
                            "taskType": self.rng.choice(("QuestionAndAnswer", "Custom")),
                            "dataset": self.dataset(topic),
                            "metricNames": metrics,
                        }
                    ],
                    "evaluatorModelConfig": self.judge(),
                }
            },
            "inferenceConfig": {"ragConfigs": [rag]},
        }

    # --- histories -------------------------------------------------------------------------

    def pick(self, weights: tuple[tuple[str, int], ...]) -> str:
        return self.rng.choices([w[0] for w in weights], [w[1] for w in weights])[0]

    def ago(self, max_days: float) -> dt.datetime:
        return to_datetime(
            (self.now - dt.timedelta(days=self.rng.uniform(0, max_days))).timestamp()
        )

    def evaluation_job(self, i: int) -> SeededEvaluationJob:
        kind, request = self.evaluation_request(i)
        status = self.pick(_EVALUATION_STATUS_WEIGHTS)
        if status in _FINISHED_INSTEAD:
            slot = "human" if kind == "human" else "automatic"
            if self.room[slot] >= 1:
                self.room[slot] -= 1
            else:
                status = _FINISHED_INSTEAD[status]
        nominal = NOMINAL_SECONDS[
            "human" if kind == "human" else "rag" if kind == "rag" else "automated"
        ]
        outcome, failures, remaining = "Completed", None, 0.0
        if status in ("InProgress", "Stopping"):
            # Running work is recent; it moves on after a while, as real jobs do.
            created = self.ago(10 if kind == "human" else 1)
            modified = created
            remaining = (
                self.rng.uniform(2, 20) * nominal
                if status == "InProgress"
                else (self.rng.uniform(0.5, 2) * NOMINAL_SECONDS["stop"])
            )
            if status == "InProgress" and self.rng.random() < 0.15:
                outcome, failures = "Failed", evaluation_failure(request, self.rng.randrange(5))
        else:
            created = self.ago(180)
            hours = self.rng.uniform(24, 240) if kind == "human" else self.rng.uniform(0.2, 6)
            modified = min(created + dt.timedelta(hours=hours), self.now)
            modified = to_datetime(modified.timestamp())
            if status == "Failed":
                outcome, failures = "Failed", evaluation_failure(request, self.rng.randrange(5))
        return SeededEvaluationJob(
            arn=f"arn:aws:bedrock:{self.region}:{self.account}:evaluation-job/{self.ident()}",
            name=request["jobName"],
            request=request,
            status=status,
            created=created,
            modified=modified,
            outcome=outcome,
            failure_messages=failures,
            remaining_seconds=remaining,
        )

    def import_job(self, i: int) -> SeededImportJob:
        family = self.rng.choice(_FAMILIES)
        name = f"import-{family}-{self.tag}-{i:04d}"
        model_name = f"{family}-ft-{self.tag}-{i:04d}"
        run = self.rng.randint(1, 500)
        request: dict[str, Any] = {
            "jobName": name,
            "importedModelName": model_name,
            "roleArn": f"arn:aws:iam::{self.account}:role/service-role/AmazonBedrock-ModelImport",
            "modelDataSource": {
                "s3DataSource": {"s3Uri": f"s3://custom-models-{self.account}/{family}/run-{run}/"}
            },
        }
        if self.rng.random() < 0.25:
            request["vpcConfig"] = {
                "subnetIds": [f"subnet-{self.ident()[:8]}{self.ident()[:9]}"],
                "securityGroupIds": [f"sg-{self.ident()[:8]}{self.ident()[:9]}"],
            }
        if self.rng.random() < 0.2:
            request["importedModelKmsKeyId"] = (
                f"arn:aws:kms:{self.region}:{self.account}:key/{self.uuid()}"
            )
        tags = self.tags()
        if tags:
            request["jobTags"] = tags
            request["importedModelTags"] = tags
        status = self.pick(_IMPORT_STATUS_WEIGHTS)
        if status == "InProgress":
            if self.room["import"] >= 1:
                self.room["import"] -= 1
            else:
                status = "Completed"
        arn = f"arn:aws:bedrock:{self.region}:{self.account}:model-import-job/{self.ident()}"
        if status == "InProgress":
            created = self.ago(0.5)
            return SeededImportJob(
                arn,
                name,
                request,
                status,
                created,
                created,
                None,
                "Completed",
                None,
                self.rng.uniform(2, 10) * NOMINAL_SECONDS["import"],
                None,
            )
        created = self.ago(180)
        end = to_datetime(
            min(created + dt.timedelta(minutes=self.rng.uniform(8, 90)), self.now).timestamp()
        )
        model = None
        failure = None
        if status == "Completed":
            model = SeededModel(
                arn=f"arn:aws:bedrock:{self.region}:{self.account}:imported-model/{self.ident()}",
                name=model_name,
                created=end,
                architecture=family,
                instruct_supported=self.rng.random() < 0.8,
                custom_model_units={
                    "customModelUnitsPerModelCopy": self.rng.randint(1, 4),
                    "customModelUnitsVersion": "v1.0",
                },
            )
        else:
            failure = import_failure(self.rng.randrange(3))
        return SeededImportJob(
            arn, name, request, status, created, end, end, status, failure, 0.0, model
        )


def generate(
    count: int,
    random_seed: int,
    *,
    region: str,
    account_id: str,
    now: dt.datetime,
    room: dict[str, int] | None = None,
) -> Seed:
    """``count`` evaluation jobs plus ``max(1, count // 10)`` import jobs (none for count 0).

    ``room``: free concurrency slots {"automatic", "human", "import"} (unbounded if absent);
    a running job drawn beyond them is seeded finished instead."""
    gen = _Gen(random_seed, region, account_id, now, room)
    seed = Seed()
    seed.evaluation_jobs = [gen.evaluation_job(i) for i in range(count)]
    imports = max(1, count // 10) if count > 0 else 0
    seed.import_jobs = [gen.import_job(i) for i in range(imports)]
    return seed
