"""Bad input that once reached a query or an overflow (issue 13 #12): dates at the end of the
calendar, ids with bytes no resource id has, page tokens signed right but shaped wrong; and
our 404 page for an unknown id, also with DEBUG on (#7)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing

from jobs.pagination import SALT, page_scope, token_encode
from jobs.selectors.evaluation_jobs import EvaluationJobFilters
from tests.conftest import free_port
from tests.jobs.views.factories import make_import_job, make_imported_model, make_job

pytestmark = pytest.mark.django_db

LISTS = ("/evaluation-jobs/", "/import-jobs/", "/imported-models/")


@pytest.fixture(autouse=True)
def no_broker(settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_last_and_first_days_of_the_calendar_filter_every_list(admin_client_, day):
    job = make_job(status="Failed")
    make_import_job()
    make_imported_model()
    for base in LISTS:
        for param in ("created_before", "created_after"):
            response = admin_client_.get(f"{base}?{param}={day}")
            assert response.status_code == 200, (base, param)
    page = admin_client_.get(f"/evaluation-jobs/?created_before={day}").content.decode()
    assert (job.name in page) == (day == "9999-12-31")
    for url in ("/evaluation-jobs/counts/", "/import-jobs/counts/"):
        assert admin_client_.get(f"{url}?created_before={day}&name=j").status_code == 200
    # The selection bar counts the list's filter, and "select all matching" takes it.
    bar = admin_client_.get(f"/deletions/evaluation/selection/?created_before={day}")
    assert bar.status_code == 200
    response = admin_client_.post(
        "/deletions/evaluation/selection/",
        {"action": "all", "query": f"?created_before={day}&status=Failed"},
    )
    assert response.status_code == 302
    assert admin_client_.get("/deletions/evaluation/confirm/").status_code == 200


SUFFIXES = ("", "status/", "row/")


@pytest.mark.parametrize(
    "path",
    [
        f"/evaluation-jobs/{bad}/{s}"
        for bad in ("%00", "a%00b", "%ED%A0%80", "ABC")
        for s in SUFFIXES
    ]
    + [f"/evaluation-jobs/%00/{s}" for s in ("clone/", "stop/", "results/", "results.csv")]
    + [f"/import-jobs/%00/{s}" for s in SUFFIXES]
    + [f"/imported-models/%00/{s}" for s in SUFFIXES]
    + [
        "/connections/%00/check/",
        "/evaluation-jobs/new/%00/",
        "/evaluation-jobs/" + "a" * 65 + "/",
    ],
)
def test_an_id_no_resource_can_have_is_a_404(admin_client_, path):
    for method in (admin_client_.get, admin_client_.post):
        assert method(path).status_code in (404, 405), path
    assert admin_client_.get(path).status_code == 404


def _forged(payload) -> str:
    """A token signed as the dashboard signs (with the key in settings: in development the
    public one), with whatever inside."""
    return signing.dumps(payload, salt=SALT, compress=True)


def _scope() -> str:
    return EvaluationJobFilters().scope()


@pytest.mark.parametrize(
    "key",
    [
        [],
        [{"t": "2026-01-01T00:00:00+00:00"}],
        [{"t": "2026-01-01T00:00:00+00:00"}, "arn", "extra"],
        ["not a time", "arn"],
        [{"t": "2026-01-01T00:00:00"}, "arn"],  # naive
        [{"t": "0001-01-01T00:00:00+00:00"}, "arn"],
        [{"t": "9999-12-31T23:59:59+00:00"}, "arn"],
        [{"t": "2026-01-01T00:00:00+00:00"}, 10**30],
        [{"t": "2026-01-01T00:00:00+00:00"}, "a\x00b"],
        [{"t": "2026-01-01T00:00:00+00:00"}, "\ud800"],
        [{"t": "2026-01-01T00:00:00+00:00"}, "x" * 5000],
        [{"t": "2026-01-01T00:00:00+00:00"}, True],
        [{"t": 5}, "arn"],
    ],
)
def test_a_token_signed_right_but_shaped_wrong_is_a_400(admin_client_, key):
    make_job()
    token = _forged({"k": key, "d": "n", "s": _scope()})
    response = admin_client_.get("/evaluation-jobs/", {"page": token})
    assert response.status_code == 400
    assert "This page link is damaged" in response.content.decode()


def test_a_token_of_the_right_shape_still_pages(admin_client_):
    make_job()
    key = [dt.datetime(2027, 1, 1, tzinfo=dt.UTC), "arn:zzz"]
    token = token_encode(key=key, direction="next", scope=_scope())
    assert admin_client_.get("/evaluation-jobs/", {"page": token}).status_code == 200


@pytest.mark.parametrize(
    "url, scope",
    [
        ("/deletions/", page_scope("deletion_batches", {})),
        ("/imported-models/", None),
        ("/import-jobs/", None),
    ],
)
def test_forged_tokens_on_the_other_lists_are_400s(admin_client_, url, scope):
    if scope is None:
        from jobs.selectors.model_imports import ImportedModelFilters, ModelImportJobFilters

        filters = ImportedModelFilters() if "models" in url else ModelImportJobFilters()
        scope = filters.scope()
    for key in ([1, 2, 3], ["x", {"t": "2026-01-01T00:00:00"}], [10**20, "y"]):
        token = _forged({"k": key, "d": "p", "s": scope})
        assert admin_client_.get(url, {"page": token}).status_code == 400, key


def test_a_huge_token_is_refused_before_it_is_unpacked(admin_client_):
    token = _forged({"k": ["x" * 200_000], "d": "n", "s": _scope()})
    response = admin_client_.get("/evaluation-jobs/", {"page": token})
    assert response.status_code == 400


# --- 404 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "path",
    [
        "/evaluation-jobs/abcdefghijkl/",
        "/import-jobs/abcdefghijkl/",
        "/imported-models/abcdefghijkl/",
        "/deletions/999999/",
        "/evaluation-jobs/UPPER/",
        "/no-such-page/",
    ],
)
def test_an_unknown_id_gets_our_404_page_also_with_debug_on(
    settings, admin_user, client, path, debug
):
    settings.DEBUG = debug
    client.force_login(admin_user)
    response = client.get(path)
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Not found</h1>" in html
    assert "Back to the overview" in html
    assert "URLconf" not in html and "Raised by" not in html


# --- Found by the fuzz (tests/jobs/views/test_fuzz.py) ------------------------------------------


@pytest.mark.parametrize("target", ["NaN", "9999-12-31", "a\x00b", "//evil.example/", "x" * 3000])
@pytest.mark.parametrize(
    "url", ["/evaluation-jobs/refresh/", "/import-jobs/refresh/", "/imported-models/refresh/"]
)
def test_refresh_without_javascript_returns_only_to_a_path_of_ours(admin_client_, url, target):
    """redirect() took a bare word for a view name (NoReverseMatch: a 500)."""
    response = admin_client_.post(url, {"next": target})
    assert response.status_code == 302
    assert response["Location"] == url.removesuffix("refresh/")


def test_the_selection_returns_only_to_a_path_of_ours(admin_client_):
    response = admin_client_.post("/deletions/evaluation/selection/", {"next": "NaN"})
    assert response.status_code == 302 and response["Location"] == "/evaluation-jobs/"
    response = admin_client_.post(
        "/deletions/evaluation/selection/", {"next": "/evaluation-jobs/?status=Failed"}
    )
    assert response["Location"] == "/evaluation-jobs/?status=Failed"


@pytest.mark.parametrize("value", ["²", "١٢٣", "9" * 5000])
def test_digits_int_cannot_read_are_not_numbers(admin_client_, value):
    for url in ("/evaluation-jobs/new/programmatic/", "/import-jobs/new/"):
        assert admin_client_.get(url, {"submission": value}).status_code == 200
    response = admin_client_.post(
        "/evaluation-jobs/new/programmatic/",
        {"_action": f"remove:tags:{value}", "tags-TOTAL_FORMS": "1", "tags-INITIAL_FORMS": "0"},
    )
    assert response.status_code == 200
    # The typed count on the confirmation page (a batch above CONFIRM_TYPED_ABOVE jobs).
    from jobs.views.deletions import _typed_number

    assert _typed_number(value) is None
    assert _typed_number("1,234") == 1234
