"""The review page says what the request does in words above its exact JSON (issue 13 #10)."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.jobs.forms.test_field_errors import base as valid_base
from tests.jobs.views.test_import_jobs import NEW, form_data

pytestmark = pytest.mark.django_db


def summary_of(response) -> str:
    html = response.content.decode()
    match = re.search(r'<p class="review-summary" id="review-summary">(.*?)</p>', html, re.S)
    assert match, html[:3000]
    assert html.index('id="review-summary"') < html.index('id="request-json"')  # above the JSON
    return unescape(match.group(1))


def test_an_automatic_evaluation_is_summarised_in_words(operator_client):
    data = valid_base("programmatic", None)
    response = operator_client.post(
        "/evaluation-jobs/new/programmatic/", {**data, "_action": "review"}
    )
    assert summary_of(response) == (
        "Automatic evaluation of anthropic.claude-3-haiku-20240307-v1:0 on 2 datasets "
        "(Builtin.Wikitext2, reviews) with 3 metrics; results to "
        "s3://eval-results-111122223333/evaluations/."
    )


@pytest.mark.parametrize(
    ("kind", "source", "words"),
    [
        ("judge", None, "LLM-as-a-judge evaluation of your responses from support-bot-v2"),
        ("human", None, "Human evaluation of amazon.nova-pro-v1:0 and anthropic.claude-3-haiku"),
        ("rag", "kb_retrieve", "RAG evaluation of knowledge base KB12345678 on 1 dataset"),
    ],
)
def test_every_kind_is_summarised(operator_client, kind, source, words):
    data = valid_base(kind, source)
    response = operator_client.post(f"/evaluation-jobs/new/{kind}/", {**data, "_action": "review"})
    assert summary_of(response).startswith(words)


def test_an_import_is_summarised_in_words(operator_client):
    response = operator_client.post(NEW, form_data())
    assert summary_of(response) == (
        "Import of the model files in s3://my-models/llama3-8b/ as the imported model "
        "llama-support, by the import job import-llama-1."
    )
