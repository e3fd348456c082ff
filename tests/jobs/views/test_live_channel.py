"""The live channel's URL parameters are bounded: garbage gets an answer, never a 500."""

from __future__ import annotations

import pytest

from tests.jobs.views import live
from tests.jobs.views.factories import make_job, make_jobs

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "params",
    [
        {"row": "../../etc"},
        {"row": ["x" * 5000] * 3},
        {"row": "abc.<script>"},
        {"rev": "9" * 40},
        {"after": "nope", "since": "x"},
        {"after": "99999999999999999999999"},
        {"cmp": "\x00", "prep": "2"},
        {"status": "Bogus", "row": "abc.0l"},
    ],
)
@pytest.mark.parametrize("base", ["/evaluation-jobs/live/", "/import-jobs/live/"])
def test_garbage_in_the_live_channel_is_ignored(viewer_client, base, params):
    response = viewer_client.get(base, params)
    assert response.status_code == 200
    assert '<div id="live"' in response.content.decode()


def test_a_live_answer_reads_a_page_of_rows_in_a_fixed_number_of_queries(
    viewer_client, django_assert_max_num_queries
):
    jobs = make_jobs(100, status="InProgress")
    html = viewer_client.get("/evaluation-jobs/?size=100").content.decode()
    assert live.live_url(html).count("row=") == 100
    with django_assert_max_num_queries(8):
        answer = live.poll(viewer_client, html).content.decode()
    assert live.is_active(answer) and live.oob_row(answer, jobs[0].resource_id) is None


def test_a_detail_page_of_a_finished_job_has_no_live_channel(viewer_client):
    job = make_job(status="Completed", description={"jobName": "x"})
    html = viewer_client.get(job.get_absolute_url()).content.decode()
    assert not live.is_active(html) and "hx-get" not in live.live_element(html)
