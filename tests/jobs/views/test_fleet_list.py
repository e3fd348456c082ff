"""Lists over every connection (issue 15): region and account columns, the region and account
filters (several at once) in keyset pages, page tokens, status chips, the live channel and
"select all matching", and garbage in those parameters."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from jobs.models import EvaluationJob, ImportedModel, ModelImportJob
from tests.jobs.views import live
from tests.jobs.views.factories import (
    BASE_TIME,
    make_import_job,
    make_imported_model,
    make_jobs,
)
from tests.jobs.views.test_evaluation_job_list import link, row_names

pytestmark = pytest.mark.django_db

URL = "/evaluation-jobs/"
SELECT = "/deletions/evaluation/selection/"
HTMX = {"HX-Request": "true"}
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
ACCOUNTS = ("111111111111", "222222222222", "333333333333")
# Two regions and two accounts at once: 4 of the 9 places.
FILTER = "region=us-east-1&region=eu-west-1&account=111111111111&account=333333333333"


def in_filter(obj) -> bool:
    return obj.region in ("us-east-1", "eu-west-1") and obj.account in (
        "111111111111",
        "333333333333",
    )


@pytest.fixture
def fleet():
    """Evaluation jobs in three regions × three accounts, interleaved in time (ties in
    created_at across places too, so the keyset's ARN tiebreak is exercised)."""
    jobs = []
    for region in REGIONS:
        for account in ACCOUNTS:
            jobs += make_jobs(
                13, region=region, account=account, status="Completed", created_at=BASE_TIME
            )
            jobs += make_jobs(4, region=region, account=account, status="Failed")
    return jobs


def walk(client, first_url: str):
    """Follow Next links to the end, then Previous links back: names per page."""
    forward, url = [], first_url
    while url:
        response = client.get(url)
        assert response.status_code == 200
        forward.append(row_names(response))
        last, url = response, link(response, "next")
    backward, url = [forward[-1]], link(last, "prev")
    while url:
        response = client.get(url)
        assert response.status_code == 200
        backward.append(row_names(response))
        url = link(response, "prev")
    return forward, backward


@pytest.mark.parametrize("sort", ["", "&sort=oldest"])
def test_a_list_filtered_by_regions_and_accounts_pages_forward_and_back(viewer_client, fleet, sort):
    forward, backward = walk(viewer_client, f"{URL}?{FILTER}&size=25{sort}")
    order = ("created_at", "arn") if sort else ("-created_at", "-arn")
    expected = [j.name for j in EvaluationJob.objects.order_by(*order) if in_filter(j)]
    assert len(expected) == 4 * 17
    assert [n for page in forward for n in page] == expected
    assert [len(p) for p in forward] == [25, 25, 18]
    # Back from the last page lands on the same pages in reverse, ending on page one.
    assert backward == forward[::-1]


def test_the_filter_combines_with_status_and_name(viewer_client, fleet):
    response = viewer_client.get(f"{URL}?{FILTER}&status=Failed&size=100")
    names = set(row_names(response))
    assert names == {j.name for j in fleet if in_filter(j) and j.status == "Failed"}
    assert len(names) == 16
    one = viewer_client.get(f"{URL}?region=ap-southeast-2&account=222222222222&size=100")
    assert len(row_names(one)) == 17


def test_the_rows_show_region_and_account_and_the_pickers_offer_them(viewer_client, fleet):
    html = viewer_client.get(f"{URL}?region=eu-west-1&account=222222222222&size=25").content
    html = html.decode()
    assert '<td class="opt place mono">eu-west-1</td>' in html
    assert '<td class="opt place mono">222222222222</td>' in html
    assert "us-east-1</td>" not in html  # no row of another region
    region_picker = re.search(r'<select name="region"[^>]*multiple.*?</select>', html, re.S)
    account_picker = re.search(r'<select name="account"[^>]*multiple.*?</select>', html, re.S)
    assert region_picker and account_picker
    for region in REGIONS:
        assert f'value="{region}"' in region_picker.group(0)
    for account in ACCOUNTS:
        assert f'value="{account}"' in account_picker.group(0)
    assert '<option value="eu-west-1" selected>' in region_picker.group(0)
    assert '<option value="us-east-1">' in region_picker.group(0)
    assert '<option value="222222222222" selected>' in account_picker.group(0)


def test_a_token_from_another_region_or_account_filter_is_refused(viewer_client, fleet):
    next_url = link(viewer_client.get(f"{URL}?{FILTER}&size=25"), "next")
    token = parse_qs(urlsplit(next_url).query)["page"][0]
    assert viewer_client.get(f"{URL}?{FILTER}&size=25&page={token}").status_code == 200
    # The same parameters in another order are the same filter.
    same = "account=333333333333&account=111111111111&region=eu-west-1&region=us-east-1"
    assert viewer_client.get(f"{URL}?{same}&size=25&page={token}").status_code == 200
    for other in (
        "region=us-east-1&account=111111111111&account=333333333333",
        "region=us-east-1&region=eu-west-1&account=111111111111",
        "",
    ):
        response = viewer_client.get(f"{URL}?{other}&size=25&page={token}")
        assert response.status_code == 400
        assert "belongs to other filters" in response.content.decode()


def test_status_chips_count_within_the_filter(viewer_client, fleet):
    html = viewer_client.get(f"/evaluation-jobs/counts/?{FILTER}").content.decode()
    assert re.search(r'data-status="Completed".*?<span class="count">52</span>', html, re.S)
    assert re.search(r'data-status="Failed".*?<span class="count">16</span>', html, re.S)
    # Each chip keeps the region and account filter.
    chip = re.search(r'<a class="chip[^"]*" data-status="Failed" href="([^"]+)"', html).group(1)
    assert "region=eu-west-1&amp;region=us-east-1" in chip
    assert "account=111111111111&amp;account=333333333333" in chip


def test_the_live_channel_carries_the_filter(viewer_client):
    running = make_jobs(2, region="eu-west-1", account="111111111111", status="InProgress")
    make_jobs(2, region="us-east-1", account="111111111111", status="InProgress")
    html = viewer_client.get(f"{URL}?region=eu-west-1").content.decode()
    url = live.live_url(html)
    assert parse_qs(urlsplit(url).query)["region"] == ["eu-west-1"]
    assert sorted(r.split(".")[0] for r in parse_qs(urlsplit(url).query)["row"]) == sorted(
        j.resource_id for j in running
    )
    # A row that changed comes back; the next #live keeps the filter.
    EvaluationJob.objects.filter(pk=running[0].pk).update(
        status="Completed", summary_digest="changed"
    )
    answer = live.poll(viewer_client, html)
    assert answer.status_code == 200
    body = answer.content.decode()
    assert live.oob_row(body, running[0].resource_id)
    assert parse_qs(urlsplit(live.live_url(body)).query)["region"] == ["eu-west-1"]
    # Garbage in the live channel's filter is no error.
    assert viewer_client.get("/evaluation-jobs/live/?region=<x>", headers=HTMX).status_code == 200


def test_select_all_matching_never_crosses_the_filter(admin_client_, fleet):
    bar = admin_client_.get(f"{SELECT}?{FILTER}").content.decode()
    # 4 places × (13 Completed + 4 Failed): 68 deletable jobs.
    assert "Select all 68 matching jobs" in bar
    admin_client_.post(SELECT, {"action": "all", "query": f"?{FILTER}&size=25"}, headers=HTMX)
    bar = admin_client_.get(SELECT).content.decode()
    assert (
        "68 selected: all deletable jobs matching region eu-west-1 or us-east-1, "
        "account 111111111111 or 333333333333." in bar
    )
    page = admin_client_.get(f"{URL}?size=100").content.decode()
    ticked = set(re.findall(r'name="job" value="([a-z0-9]+)"[^>]* checked', page))
    inside = {j.resource_id for j in fleet if in_filter(j)}
    shown = set(re.findall(r'name="job" value="([a-z0-9]+)"', page))
    assert ticked == inside & shown and shown - inside  # rows outside the filter stay unticked


@pytest.mark.parametrize(
    "query",
    [
        "region=US-EAST-1",
        "region=us-east-1x",
        "region=../../etc/passwd",
        "region=us-east-" + "1" * 200,
        "region=%00",
        "region=%E2%80%AEus-east-1",
        "account=12345678901",
        "account=1234567890123",
        "account=12345678901a",
        "account=%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91"
        "%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91",  # fullwidth digits
        "account=" + "&account=".join(f"{n:012d}" for n in range(21)),
    ],
)
@pytest.mark.parametrize("path", [URL, "/import-jobs/", "/imported-models/"])
def test_garbage_regions_and_accounts_give_a_form_error_never_a_500(viewer_client, query, path):
    make_jobs(1)
    response = viewer_client.get(f"{path}?{query}")
    assert response.status_code in (200, 400)
    html = response.content.decode()
    assert "errorlist" in html or response.status_code == 400
    assert row_names(response) == []
    for sub in ("counts/", "live/"):
        if path == "/imported-models/" and sub == "counts/":
            continue  # imported models have no status chips
        assert viewer_client.get(f"{path}{sub}?{query}", headers=HTMX).status_code in (200, 400)
    assert admin_ok(viewer_client, query)


def admin_ok(client, query: str) -> bool:
    """The selection bar (admins only: a viewer gets 403) never 500s either."""
    return client.get(f"{SELECT}?{query}").status_code in (200, 400, 403)


def test_twenty_values_are_accepted(viewer_client):
    make_jobs(1, account="000000000007")
    query = "&".join(f"account={n:012d}" for n in range(20))
    response = viewer_client.get(f"{URL}?{query}")
    assert response.status_code == 200 and len(row_names(response)) == 1


@pytest.mark.parametrize(
    "path,make,model",
    [
        ("/import-jobs/", make_import_job, ModelImportJob),
        ("/imported-models/", make_imported_model, ImportedModel),
    ],
)
def test_import_lists_filter_and_page_by_region_and_account(viewer_client, path, make, model):
    t = BASE_TIME
    for i in range(30):
        for region, account in (
            ("us-east-1", "111111111111"),
            ("eu-west-1", "333333333333"),
            ("us-west-2", "111111111111"),
        ):
            make(
                region=region,
                account=account,
                name=f"{region}-{account[0]}-{i:02d}",
                created_at=t - dt.timedelta(minutes=i),
            )
    forward, backward = walk(viewer_client, f"{path}?{FILTER}&size=25")
    expected = [o.name for o in model.objects.order_by("-created_at", "-arn") if in_filter(o)]
    assert len(expected) == 60
    assert [n for page in forward for n in page] == expected
    assert backward == forward[::-1]
    html = viewer_client.get(f"{path}?region=us-west-2").content.decode()
    assert '<td class="opt place mono">us-west-2</td>' in html
    assert "eu-west-1</td>" not in html
