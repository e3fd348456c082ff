"""The local Bedrock writes each completed evaluation job's outputs into a real (local) S3, in
the layout and record shapes of bedrock-eval-output.md, read back through the product's S3
gateway (jobs/bedrock/s3.py)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from jobs.bedrock import errors
from jobs.bedrock.local import outputs
from jobs.bedrock.local.server import LocalBedrock
from jobs.bedrock.s3 import s3_iter_lines, s3_list_objects
from tests.conftest import free_port
from tests.jobs.bedrock.support import ROLE, automated_request, client_for, wait_for
from tests.jobs.bedrock.test_local_faults import call
from tests.jobs.bedrock.test_local_server import ROOT

PROMPTS = 12  # --output-prompts in these tests: every dataset gets exactly 12 prompts
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
JUDGE = "anthropic.claude-3-5-sonnet-20240620-v1:0"
NOVA = "amazon.nova-pro-v1:0"
TITAN = "amazon.titan-text-express-v1"
FLOW = "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/bedrock-eval-flow"


@pytest.fixture
def lb(local_s3):
    server = LocalBedrock(
        control=True, s3_endpoint_url=local_s3.url, output_prompts=PROMPTS, random_seed=11
    )
    with server.start():
        yield server


@pytest.fixture
def bedrock(lb):
    return client_for(lb.url)


def complete(lb, bedrock, request: dict) -> tuple[str, str]:
    """Create the job, force it Completed, wait for its writes: (ARN, job prefix)."""
    arn = bedrock.create_evaluation_job(**request)["jobArn"]
    lb.force_status(arn, "Completed")
    assert lb.flush_outputs(timeout=30)
    root = request["outputDataConfig"]["s3Uri"].removeprefix("s3://my-bucket/").strip("/")
    return arn, f"{root}/{request['jobName']}/{arn.rsplit('/', 1)[1]}/"


def listing(prefix: str, bucket: str = "my-bucket") -> dict[str, int]:
    return {o["key"]: o["size"] for o in s3_list_objects(bucket=bucket, prefix=prefix)}


def records(key: str, bucket: str = "my-bucket") -> list[dict]:
    return [json.loads(line) for line in s3_iter_lines(bucket=bucket, key=key)]


def only(keys, pattern: str) -> str:
    matched = [k for k in keys if re.fullmatch(pattern, k)]
    assert len(matched) == 1, (pattern, sorted(keys))
    return matched[0]


def test_programmatic_job_writes_scores_per_dataset_in_the_documented_layout(lb, bedrock):
    request = automated_request(
        "prog-out",
        task_type="Generation",
        dataset="Builtin.T-Rex",
        metrics=("Builtin.Accuracy", "Builtin.Robustness", "Builtin.Toxicity"),
        model=NOVA,
    )
    request["evaluationConfig"]["automated"]["datasetMetricConfigs"].append(
        {
            "taskType": "Generation",
            "dataset": {"name": "Builtin.Bold"},
            "metricNames": ["Builtin.Toxicity"],
        }
    )
    arn, prefix = complete(lb, bedrock, request)
    assert prefix.startswith("out/prog-out/")

    # The empty permission marker at the output root, outside the job's prefix.
    assert listing("out/amazon-bedrock-evaluations-permission-check") == {
        "out/amazon-bedrock-evaluations-permission-check": 0
    }
    keys = listing(prefix)
    assert len(keys) == 2
    base = re.escape(f"{prefix}models/{NOVA}/taskTypes/Generation/datasets/")
    trex = only(keys, f"{base}Builtin\\.T-Rex/{UUID}_output\\.jsonl")
    bold = only(keys, f"{base}Builtin\\.Bold/{UUID}_output\\.jsonl")

    lines = records(trex)
    assert len(lines) == PROMPTS
    for line in lines:
        assert set(line) == {"automatedEvaluationResult", "inputRecord", "modelResponses"}
        scores = line["automatedEvaluationResult"]["scores"]
        assert [s["metricName"] for s in scores] == ["Accuracy", "Robustness", "Toxicity"]
        assert all(0 <= s["result"] <= 1 for s in scores)
        assert line["inputRecord"]["prompt"] and line["inputRecord"]["referenceResponse"]
        assert line["inputRecord"]["category"]
        (response,) = line["modelResponses"]
        assert response["modelIdentifier"] == f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA}"
        assert response["response"]
    assert [
        s["metricName"] for r in records(bold) for s in r["automatedEvaluationResult"]["scores"]
    ] == ["Toxicity"] * PROMPTS


def judge_request(name: str, model: str = NOVA, dataset: str = "support-prompts-v1") -> dict:
    return {
        "jobName": name,
        "roleArn": ROLE,
        "applicationType": "ModelEvaluation",
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "QuestionAndAnswer",
                        "dataset": {
                            "name": dataset,
                            "datasetLocation": {"s3Uri": "s3://my-bucket/prompts/support.jsonl"},
                        },
                        "metricNames": [
                            "Builtin.Correctness",
                            "Builtin.Helpfulness",
                            "Builtin.FollowingInstructions",
                            "Builtin.Harmfulness",
                            "BrandVoice",
                        ],
                    }
                ],
                "evaluatorModelConfig": {"bedrockEvaluatorModels": [{"modelIdentifier": JUDGE}]},
                "customMetricConfig": {
                    "customMetrics": [
                        {
                            "customMetricDefinition": {
                                "name": "BrandVoice",
                                "instructions": "Rate the brand voice.\nPrompt: {{prompt}}\n"
                                "Response: {{prediction}}",
                                "ratingScale": [
                                    {"definition": "Poor", "value": {"floatValue": 0.0}},
                                    {"definition": "Fine", "value": {"floatValue": 0.5}},
                                    {"definition": "Good", "value": {"floatValue": 1.0}},
                                ],
                            }
                        }
                    ],
                    "evaluatorModelConfig": {
                        "bedrockEvaluatorModels": [{"modelIdentifier": JUDGE}]
                    },
                },
            }
        },
        "inferenceConfig": {"models": [{"bedrockModel": {"modelIdentifier": model}}]},
        "outputDataConfig": {"s3Uri": "s3://my-bucket/judged"},
    }


def test_judge_job_completed_by_its_timer_writes_explained_scores_with_some_nulls(lb, bedrock):
    lb.set_faults(time_scale=0.001)
    arn = bedrock.create_evaluation_job(**judge_request("judge-out"))["jobArn"]
    wait_for(lambda: bedrock.get_evaluation_job(jobIdentifier=arn)["status"] == "Completed")
    assert lb.flush_outputs(timeout=30)
    prefix = f"judged/judge-out/{arn.rsplit('/', 1)[1]}/"
    keys = listing(prefix)
    assert set(keys) == {
        f"{prefix}custom_metrics/BrandVoice.json",
        only(
            keys,
            re.escape(
                f"{prefix}models/{NOVA}/taskTypes/QuestionAndAnswer/datasets/support-prompts-v1/"
            )
            + f"{UUID}_output\\.jsonl",
        ),
    }
    assert "judged/amazon-bedrock-evaluations-permission-check" in listing("judged/")
    definition = json.loads(
        b"\n".join(s3_iter_lines(bucket="my-bucket", key=f"{prefix}custom_metrics/BrandVoice.json"))
    )
    assert definition["name"] == "BrandVoice" and len(definition["ratingScale"]) == 3

    lines = records(next(k for k in keys if k.endswith("_output.jsonl")))
    assert len(lines) == PROMPTS
    nulls = 0
    for line in lines:
        scores = line["automatedEvaluationResult"]["scores"]
        assert [s["metricName"] for s in scores] == [
            "Builtin.Correctness",
            "Builtin.Helpfulness",
            "Builtin.FollowingInstructions",
            "Builtin.Harmfulness",
            "BrandVoice",
        ]
        for score in scores:
            (detail,) = score["evaluatorDetails"]
            assert detail["modelIdentifier"].endswith(f"foundation-model/{JUDGE}")
            assert detail["explanation"]
            if score["result"] is None:
                nulls += 1
            else:
                assert 0 <= score["result"] <= 1
        assert scores[3]["result"] in (0.0, 1.0, None)  # Harmfulness is yes or no
        assert scores[4]["result"] in (0.0, 0.5, 1.0, None)  # the custom metric's own scale
    assert nulls >= 1


def human_request(name: str, models: tuple[str, ...], metrics: list[tuple[str, str]]) -> dict:
    return {
        "jobName": name,
        "roleArn": ROLE,
        "evaluationConfig": {
            "human": {
                "humanWorkflowConfig": {"flowDefinitionArn": FLOW, "instructions": "Be fair."},
                "customMetrics": [
                    {"name": n, "description": f"{n} of the answer", "ratingMethod": m}
                    for n, m in metrics
                ],
                "datasetMetricConfigs": [
                    {
                        "taskType": "Generation",
                        "dataset": {
                            "name": "travel-prompts-v2",
                            "datasetLocation": {"s3Uri": "s3://my-bucket/prompts/travel.jsonl"},
                        },
                        "metricNames": [n for n, _ in metrics],
                    }
                ],
            }
        },
        "inferenceConfig": {"models": [{"bedrockModel": {"modelIdentifier": m}} for m in models]},
        "outputDataConfig": {"s3Uri": "s3://my-bucket/human/"},
    }


def test_two_model_human_job_writes_answers_per_rating_method_and_comparisons(lb, bedrock):
    metrics = [
        ("Helpfulness", "ThumbsUpDown"),
        ("Accuracy", "IndividualLikertScale"),
        ("Preference", "ComparisonChoice"),
        ("Strength", "ComparisonLikertScale"),
        ("Order", "ComparisonRank"),
    ]
    arn, prefix = complete(lb, bedrock, human_request("human-two", (NOVA, TITAN), metrics))
    keys = listing(prefix)
    key = only(keys, re.escape(f"{prefix}datasets/travel-prompts-v2/") + f"{UUID}_output\\.jsonl")
    assert len(keys) == 1
    lines = records(key)
    assert len(lines) == PROMPTS
    arns = [f"arn:aws:bedrock:us-east-1::foundation-model/{m}" for m in (NOVA, TITAN)]
    choices = []
    for line in lines:
        assert set(line) == {"humanEvaluationResult", "inputRecord", "modelResponses"}
        (result,) = line["humanEvaluationResult"]
        assert result["flowDefinitionArn"] == FLOW
        assert re.fullmatch(r"[0-9a-f]{40}", result["humanLoopName"])
        assert result["modelResponseIdMap"] == {"0": arns[0], "1": arns[1]}
        assert [m["metricName"] for m in result["inputContent"]["evaluationMetrics"]] == [
            n for n, _ in metrics
        ]
        assert result["inputContent"]["instructions"] == "Be fair."
        assert [r["modelIdentifier"] for r in line["modelResponses"]] == arns
        assert 1 <= len(result["humanAnswers"]) <= 2
        for answer in result["humanAnswers"]:
            assert answer["workerId"] and answer["submissionTime"] >= answer["acceptanceTime"]
            assert answer["timeSpentInSeconds"] > 0
            got = answer["answerContent"]["evaluationResults"]
            assert set(got) == {
                "thumbsUpDown",
                "individualLikertScale",
                "comparisonChoice",
                "comparisonLikertScale",
                "comparisonRank",
            }
            assert [(e["metricName"], e["modelResponseId"]) for e in got["thumbsUpDown"]] == [
                ("Helpfulness", "0"),
                ("Helpfulness", "1"),
            ]
            assert all(isinstance(e["result"], bool) for e in got["thumbsUpDown"])
            assert all(1 <= e["result"] <= 5 for e in got["individualLikertScale"])
            (choice,) = got["comparisonChoice"]
            assert choice["metricName"] == "Preference"
            assert choice["result"] == choice["modelResponseId"] in ("0", "1")
            choices.append(choice["result"])
            (likert,) = got["comparisonLikertScale"]
            assert 1 <= likert["result"] <= 5
            assert (likert["leftModelResponseId"], likert["rightModelResponseId"]) == ("0", "1")
            ranks = {e["modelResponseId"]: e["result"] for e in got["comparisonRank"]}
            assert sorted(ranks.values()) == [1, 2] and set(ranks) == {"0", "1"}
    # nova-pro is the better model: workers prefer response "0" most of the time.
    assert choices.count("0") > choices.count("1")


def test_one_model_human_job_rates_only_that_model(lb, bedrock):
    metrics = [("Helpfulness", "ThumbsUpDown"), ("Tone", "IndividualLikertScale")]
    _, prefix = complete(lb, bedrock, human_request("human-one", (NOVA,), metrics))
    (key,) = listing(prefix)
    for line in records(key):
        (result,) = line["humanEvaluationResult"]
        assert result["modelResponseIdMap"] == {
            "0": f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA}"
        }
        for answer in result["humanAnswers"]:
            got = answer["answerContent"]["evaluationResults"]
            assert set(got) == {"thumbsUpDown", "individualLikertScale"}
            assert {e["modelResponseId"] for v in got.values() for e in v} == {"0"}


def rag_request(name: str, mode: str, metrics: list[str]) -> dict:
    kb = {
        "knowledgeBaseId": "KB12345678",
        "retrievalConfiguration" if mode == "generate" else "knowledgeBaseRetrievalConfiguration": {
            "vectorSearchConfiguration": {"numberOfResults": 3}
        },
    }
    if mode == "generate":
        rag = {
            "retrieveAndGenerateConfig": {
                "type": "KNOWLEDGE_BASE",
                "knowledgeBaseConfiguration": {
                    **kb,
                    "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA}",
                },
            }
        }
    else:
        rag = {"retrieveConfig": kb}
    return {
        "jobName": name,
        "roleArn": ROLE,
        "applicationType": "RagEvaluation",
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "QuestionAndAnswer",
                        "dataset": {
                            "name": "hr-questions",
                            "datasetLocation": {"s3Uri": "s3://my-bucket/prompts/hr.jsonl"},
                        },
                        "metricNames": metrics,
                    }
                ],
                "evaluatorModelConfig": {"bedrockEvaluatorModels": [{"modelIdentifier": JUDGE}]},
            }
        },
        "inferenceConfig": {"ragConfigs": [{"knowledgeBaseConfig": rag}]},
        "outputDataConfig": {"s3Uri": "s3://my-bucket/rag/"},
    }


def rag_turns(prefix: str) -> list[dict]:
    keys = listing(prefix)
    key = only(
        keys,
        re.escape(f"{prefix}inference_configs/0/datasets/hr-questions/") + f"{UUID}_output\\.jsonl",
    )
    assert len(keys) == 1
    lines = records(key)
    assert len(lines) == PROMPTS
    turns = []
    for line in lines:
        assert set(line) == {"conversationTurns"}
        assert 1 <= len(line["conversationTurns"]) <= 5
        turns += line["conversationTurns"]
    for turn in turns:
        assert turn["inputRecord"]["prompt"]["content"][0]["text"]
        assert turn["inputRecord"]["referenceResponses"][0]["content"][0]["text"]
        assert turn["output"]["knowledgeBaseIdentifier"] == "KB12345678"
        passages = turn["output"]["retrievedPassages"]["retrievalResults"]
        assert len(passages) == 3 and all(p["content"]["text"] for p in passages)
        for result in turn["results"]:
            assert result["evaluatorDetails"][0]["explanation"]
    return turns


def test_retrieve_only_rag_job_has_context_metrics_and_no_generated_text(lb, bedrock):
    metrics = ["Builtin.ContextRelevance", "Builtin.ContextCoverage"]
    _, prefix = complete(lb, bedrock, rag_request("rag-retrieve", "retrieve", metrics))
    turns = rag_turns(prefix)
    for turn in turns:
        assert "text" not in turn["output"] and "citations" not in turn["output"]
        assert "modelIdentifier" not in turn["output"]
        assert [r["metricName"] for r in turn["results"]] == metrics
    assert any(r["result"] is None for t in turns for r in t["results"])


def test_retrieve_and_generate_rag_job_has_answers_with_citations(lb, bedrock):
    metrics = ["Builtin.Correctness", "Builtin.Faithfulness", "Builtin.CitationPrecision"]
    _, prefix = complete(lb, bedrock, rag_request("rag-generate", "generate", metrics))
    turns = rag_turns(prefix)
    for turn in turns:
        output = turn["output"]
        assert output["text"]
        assert output["modelIdentifier"] == f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA}"
        for citation in output["citations"]:
            part = citation["generatedResponsePart"]["textResponsePart"]
            assert output["text"][part["span"]["start"] : part["span"]["end"]] == part["text"]
            assert citation["retrievedReferences"][0]["content"]["text"]
        assert [r["metricName"] for r in turn["results"]] == metrics
    assert any(t["output"]["citations"] for t in turns)


def test_seeded_completed_jobs_have_outputs_and_others_none(lb, bedrock):
    lb.seed(count=24, random_seed=5)
    assert lb.flush_outputs(timeout=60)
    jobs = bedrock.list_evaluation_jobs(maxResults=100)["jobSummaries"]
    by_status = {}
    for job in jobs:
        by_status.setdefault(job["status"] == "Completed", []).append(job)
    assert by_status[True] and by_status[False]
    for job in jobs:
        full = bedrock.get_evaluation_job(jobIdentifier=job["jobArn"])
        bucket, root = full["outputDataConfig"]["s3Uri"].removeprefix("s3://").split("/", 1)
        prefix = f"{root.rstrip('/')}/{full['jobName']}/{job['jobArn'].rsplit('/', 1)[1]}/"
        try:
            files = [k for k in listing(prefix, bucket) if k.endswith("_output.jsonl")]
        except errors.NotFoundError:
            files = []
        assert bool(files) == (job["status"] == "Completed"), job
    assert lb.outputs_status()["jobs_failed"] == 0


def test_the_same_arn_always_gives_byte_identical_files(local_s3):
    request = judge_request("same-arn")
    contents = []
    for _ in range(2):
        local_s3.reset()
        with LocalBedrock(
            s3_endpoint_url=local_s3.url, output_prompts=PROMPTS, random_seed=3
        ).start() as server:
            arn = client_for(server.url).create_evaluation_job(**request)["jobArn"]
            server.force_status(arn, "Completed")
            assert server.flush_outputs(timeout=30)
        contents.append(
            (
                arn,
                {
                    o["key"]: b"\n".join(s3_iter_lines(bucket="my-bucket", key=o["key"]))
                    for o in s3_list_objects(bucket="my-bucket", prefix="")
                },
            )
        )
    assert contents[0][0] == contents[1][0]  # the same ARN: the same random seed
    assert len(contents[0][1]) == 3
    assert contents[0][1] == contents[1][1]


def test_outputs_are_a_pure_function_of_the_description():
    description = {
        **judge_request("pure"),
        "jobArn": "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/abcdefabcdef",
    }
    first = [(k, b"".join(c)) for k, c in outputs.job_outputs(description, max_prompts=60)]
    again = [(k, b"".join(c)) for k, c in outputs.job_outputs(description, max_prompts=60)]
    assert first == again
    other = {**description, "jobArn": description["jobArn"][:-1] + "x"}
    assert [b"".join(c) for _, c in outputs.job_outputs(other, max_prompts=60)] != [
        b for _, b in first
    ]


def test_prompt_counts_stay_within_50_and_1000():
    names = [f"dataset-{i}" for i in range(200)]
    default = [outputs.prompt_count(n) for n in names]
    assert min(default) >= 50 and max(default) <= outputs.DEFAULT_MAX_PROMPTS <= 1000
    assert len(set(default)) > 20  # datasets differ in size
    widest = [outputs.prompt_count(n, 1000) for n in names]
    assert min(widest) >= 50 and max(widest) <= 1000 and max(widest) > 600
    assert outputs.prompt_count("x", 5000) <= 1000
    assert outputs.prompt_count("x", 7) == 7  # a test's smaller knob


def test_a_better_model_scores_clearly_higher_on_the_same_prompts(lb, bedrock):
    _, good = complete(lb, bedrock, judge_request("judge-nova", NOVA, "shared-prompts"))
    _, weak = complete(lb, bedrock, judge_request("judge-titan", TITAN, "shared-prompts"))

    def correctness(prefix: str) -> tuple[list[str], float]:
        (key,) = [k for k in listing(prefix) if k.endswith("_output.jsonl")]
        lines = records(key)
        values = [
            s["result"]
            for r in lines
            for s in r["automatedEvaluationResult"]["scores"]
            if s["metricName"] == "Builtin.Correctness" and s["result"] is not None
        ]
        return [r["inputRecord"]["prompt"] for r in lines], sum(values) / len(values)

    good_prompts, good_mean = correctness(good)
    weak_prompts, weak_mean = correctness(weak)
    assert good_prompts == weak_prompts  # one dataset, the same prompts in both jobs
    assert good_mean - weak_mean > 0.2


def test_without_the_flag_nothing_is_written(local_s3):
    with LocalBedrock(control=True).start() as server:
        bedrock = client_for(server.url)
        arn = bedrock.create_evaluation_job(**automated_request("no-flag"))["jobArn"]
        server.force_status(arn, "Completed")
        assert server.flush_outputs(timeout=5)
        assert call(server, "GET", "/_local/outputs")[2] == {"enabled": False, "pending": 0}
    with pytest.raises(errors.NotFoundError):
        list(s3_list_objects(bucket="my-bucket", prefix=""))


def test_control_api_reports_and_flushes_pending_writes(lb, bedrock):
    arn = bedrock.create_evaluation_job(**automated_request("via-http"))["jobArn"]
    lb.force_status(arn, "Completed")
    status, _, body = call(lb, "POST", "/_local/outputs/flush", {"timeout": 30})
    assert status == 200 and body["flushed"] is True and body["pending"] == 0
    assert body["jobs_written"] == 1 and body["files_written"] == 2 and body["jobs_failed"] == 0
    status, _, body = call(lb, "GET", "/_local/outputs")
    assert (
        status == 200
        and body["enabled"] is True
        and body["endpoint_url"] == lb.outputs.endpoint_url
    )
    for garbage in ("soon", -1, 10**9, None, [1], float("nan")):
        status, headers, body = call(lb, "POST", "/_local/outputs/flush", {"timeout": garbage})
        assert status == 400, garbage
        assert headers["x-amzn-ErrorType"].startswith("ValidationException")


class _Refusing(BaseHTTPRequestHandler):
    """An S3 endpoint where the role may not write: AccessDenied to everything."""

    def _deny(self) -> None:
        body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(0 if self.command == "HEAD" else len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _deny

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def refusing_s3():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("where", ["access-denied", "unreachable"])
def test_a_failed_write_is_logged_and_the_server_keeps_serving(where, refusing_s3, caplog):
    endpoint = refusing_s3 if where == "access-denied" else f"http://127.0.0.1:{free_port()}"
    with LocalBedrock(
        control=True, s3_endpoint_url=endpoint, output_prompts=PROMPTS
    ).start() as server:
        bedrock = client_for(server.url)
        arn = bedrock.create_evaluation_job(**automated_request("cannot-write"))["jobArn"]
        assert server.force_status(arn, "Completed")["status"] == "Completed"
        assert server.flush_outputs(timeout=30)
        status = server.outputs_status()
        assert (status["jobs_failed"], status["jobs_written"], status["pending"]) == (1, 0, 0)
        assert arn in status["last_error"]
        if where == "access-denied":
            assert "AccessDenied" in status["last_error"] or "403" in status["last_error"]
        assert any(arn in r.getMessage() for r in caplog.records)
        # The API is untouched: the job reads Completed and new jobs are accepted.
        assert bedrock.get_evaluation_job(jobIdentifier=arn)["status"] == "Completed"
        other = bedrock.create_evaluation_job(**automated_request("still-serving"))["jobArn"]
        server.force_status(other, "Completed")
        assert server.flush_outputs(timeout=30)
        assert server.outputs_status()["jobs_failed"] == 2


def test_management_command_writes_the_seeds_outputs_with_the_flag(local_s3):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dashboard.settings", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "bedrock_local",
            "--port",
            "0",
            "--seed",
            "10",
            "--control",
            "--s3-endpoint-url",
            local_s3.url,
            "--output-prompts",
            "5",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Completed evaluation jobs write outputs to"):
                break
        output = "".join(lines)
        assert f"write outputs to {local_s3.url}" in output, output
        url = re.search(r"http://127\.0\.0\.1:\d+", output).group(0)
        status, _, body = call(
            SimpleNamespace(url=url), "POST", "/_local/outputs/flush", {"timeout": 30}
        )
        assert status == 200 and body["flushed"] and body["jobs_failed"] == 0
        completed = client_for(url).list_evaluation_jobs(statusEquals="Completed")["jobSummaries"]
        assert body["jobs_written"] == len(completed) > 0
        jsonl = [
            o["key"]
            for o in s3_list_objects(
                bucket="bedrock-eval-results-123456789012", prefix="evaluations/"
            )
            if o["key"].endswith("_output.jsonl")
        ]
        assert len(jsonl) >= len(completed)
        assert all(len(records(k, "bedrock-eval-results-123456789012")) == 5 for k in jsonl)
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0, rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_bring_your_own_inference_responses_sit_in_the_input_record():
    request = judge_request("byoi")
    request["inferenceConfig"] = {
        "models": [{"precomputedInferenceSource": {"inferenceSourceIdentifier": "my-bot-v2"}}]
    }
    description = {
        **request,
        "jobArn": "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/byoi00000001",
    }
    files = {k: b"".join(c) for k, c in outputs.job_outputs(description, max_prompts=8)}
    (key,) = [k for k in files if k.endswith("_output.jsonl")]
    assert key.startswith("judged/byoi/byoi00000001/models/my-bot-v2/taskTypes/QuestionAndAnswer/")
    for line in files[key].splitlines():
        record = json.loads(line)
        assert "modelResponses" not in record
        (response,) = record["inputRecord"]["modelResponses"]
        assert response["modelIdentifier"] == "my-bot-v2" and response["response"]


def test_rag_job_with_custom_metrics_writes_their_definitions_and_scores():
    request = rag_request("rag-custom", "generate", ["Builtin.Correctness", "Tone"])
    request["evaluationConfig"]["automated"]["customMetricConfig"] = judge_request("x")[
        "evaluationConfig"
    ]["automated"]["customMetricConfig"]
    request["evaluationConfig"]["automated"]["customMetricConfig"]["customMetrics"][0][
        "customMetricDefinition"
    ]["name"] = "Tone"
    description = {
        **request,
        "jobArn": "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/ragcustom001",
    }
    files = {k: b"".join(c) for k, c in outputs.job_outputs(description, max_prompts=8)}
    assert (
        json.loads(files["rag/rag-custom/ragcustom001/custom_metrics/Tone.json"])["name"] == "Tone"
    )
    (key,) = [k for k in files if k.endswith("_output.jsonl")]
    for line in files[key].splitlines():
        for turn in json.loads(line)["conversationTurns"]:
            assert [r["metricName"] for r in turn["results"]] == ["Builtin.Correctness", "Tone"]
            assert turn["results"][1]["result"] in (0.0, 0.5, 1.0, None)


@pytest.mark.parametrize("bad", [0, -5, 1001])
def test_output_prompts_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match="output_prompts"):
        LocalBedrock(s3_endpoint_url="http://127.0.0.1:9", output_prompts=bad)
