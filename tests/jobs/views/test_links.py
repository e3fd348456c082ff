"""jobs/views/links.py: the one helper that builds filter, tab and page links."""

from django.core import signing

from jobs.views.links import link, query_string


def test_params_in_order_lists_repeated_and_empty_values_left_out():
    params = {"status": ["Failed", "Stopped"], "name": "a b&c", "model": "", "sort": None}
    assert query_string(params) == "?status=Failed&status=Stopped&name=a+b%26c"
    assert query_string({}) == "" and link("/x/", {"outcome": ""}) == "/x/"


def test_a_page_token_comes_last_and_unchanged():
    token = signing.dumps({"k": [1, "arn:aws:bedrock:x"]}, salt="s", compress=True)
    assert link("/jobs/", {"size": "50"}, page=token) == f"/jobs/?size=50&page={token}"
    assert link("/jobs/", page=token) == f"/jobs/?page={token}"
    # A model id's colon in a filter is encoded, as a form would send it.
    assert query_string({"model": "claude-v1:0"}) == "?model=claude-v1%3A0"
