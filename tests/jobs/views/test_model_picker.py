"""The evaluation-job list's model picker: exact match on one of the mirror's models, beside
the free-text "Model contains"."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs.selectors import evaluation_jobs as selectors
from tests.jobs.views.factories import make_job

pytestmark = pytest.mark.django_db

URL = "/evaluation-jobs/"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
ARN_MODEL = "arn:aws:bedrock:us-east-1:123456789012:imported-model/abc123"


def names(html: str) -> set[str]:
    return set(re.findall(r'<td class="name"><a href="[^"]+">([^<]+)</a>', html))


def picker_options(html: str) -> list[str]:
    select = re.search(r'<select name="model_id" id="id_model_id">(.*?)</select>', html).group(1)
    return re.findall(r'<option value="([^"]*)"', select)


def test_the_picker_lists_every_model_once_and_filters_exactly(viewer_client):
    make_job(name="haiku-only", models=[HAIKU])
    make_job(name="both", models=[HAIKU, SONNET])
    make_job(name="imported", models=[ARN_MODEL])
    make_job(name="a-longer-haiku", models=[HAIKU + "-extra"])
    html = viewer_client.get(URL).content.decode()
    assert picker_options(html) == ["", *sorted([ARN_MODEL, HAIKU, HAIKU + "-extra", SONNET])]

    html = viewer_client.get(URL, {"model_id": HAIKU}).content.decode()
    # Exact: "…-v1:0-extra" contains the id but is another model.
    assert names(html) == {"haiku-only", "both"}
    assert f'<option value="{HAIKU}" selected>' in html
    html = viewer_client.get(URL, {"model_id": SONNET, "model": "claude"}).content.decode()
    assert names(html) == {"both"}
    html = viewer_client.get(URL, {"model_id": ARN_MODEL}).content.decode()
    assert names(html) == {"imported"}


def test_the_picker_is_read_once_a_minute_not_per_page(viewer_client):
    make_job(models=[HAIKU])
    viewer_client.get(URL)
    with CaptureQueriesContext(connection) as queries:
        viewer_client.get(URL)
    assert not [q for q in queries if "model_identifiers" in q["sql"] and "DISTINCT" in q["sql"]]
    assert not [q for q in queries if "RECURSIVE" in q["sql"]]


def test_a_model_that_left_the_mirror_still_filters_to_nothing(viewer_client):
    make_job(models=[HAIKU])
    html = viewer_client.get(URL, {"model_id": "amazon.nova-pro-v1:0"}).content.decode()
    assert "No jobs match these filters" in html
    assert '<option value="amazon.nova-pro-v1:0" selected>' in html


@pytest.mark.parametrize(
    "garbage", ["<script>", "a b", "x" * 3000, "|pipe|", "'; DROP TABLE x; --", "\x00", "-lead"]
)
def test_garbage_in_the_picker_is_a_field_error_not_a_500(viewer_client, garbage):
    make_job(models=[HAIKU])
    response = viewer_client.get(URL, {"model_id": garbage})
    assert response.status_code == 200
    assert "Some filters are not valid" in response.content.decode()
    for path in ("live/", "counts/"):
        assert viewer_client.get(URL + path, {"model_id": garbage}).status_code == 200


def test_the_models_query_is_a_loose_index_scan_on_postgresql(viewer_client):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plan")
    make_job(models=[HAIKU])
    selectors.evaluation_job_models()  # fills the cache; explain the query itself
    table = connection.ops.quote_name("jobs_evaluationjob")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + selectors._MODELS_SQL.format(table=table), [10])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "evaljob_models_prefix" in plan, plan
