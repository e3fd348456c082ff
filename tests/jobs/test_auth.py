"""Login everywhere, three roles, and 403 for a role that lacks a permission."""

import pytest
from django.contrib.auth.models import Group

from jobs import permissions
from tests.urls import project_urls

PUBLIC = {"/accounts/login/", "/healthz", "/favicon.ico"}
URLS = project_urls()
WRITE_URLS = [
    (path, view)
    for path, view in URLS
    if getattr(view, "required_permission", None)
    in {permissions.OPERATE, permissions.DELETE, permissions.CONNECTIONS}
]


def test_the_project_has_urls_to_check():
    assert len(URLS) >= 3


@pytest.mark.django_db
@pytest.mark.parametrize("path", [p for p, _ in URLS if p not in PUBLIC])
def test_every_page_needs_login(client, path):
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), path


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(PUBLIC))
def test_login_page_and_healthz_are_public(client, path):
    assert client.get(path).status_code != 302


@pytest.mark.django_db
def test_three_groups_with_their_permissions():
    def perms(name):
        return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))

    assert perms("Viewers") == {"browse_jobs"}
    assert perms("Operators") == {"browse_jobs", "operate_jobs"}
    assert perms("Admins") == {"browse_jobs", "operate_jobs", "delete_jobs", "manage_connections"}


@pytest.mark.django_db
def test_role_matrix(viewer, operator, admin_user, nobody):
    table = {
        user.username: [
            user.has_perm(p) for p in (permissions.BROWSE, permissions.OPERATE, permissions.DELETE)
        ]
        for user in (viewer, operator, admin_user, nobody)
    }
    assert table == {
        "vera-viewer": [True, False, False],
        "otto-operator": [True, True, False],
        "ada-admin": [True, True, True],
        "nina-nobody": [False, False, False],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("path", [p for p, _ in WRITE_URLS])
def test_viewer_gets_403_on_every_write_url(viewer_client, path):
    for method in (viewer_client.get, viewer_client.post):
        assert method(path).status_code == 403, path


@pytest.mark.django_db
def test_a_user_in_no_group_is_told_which_role_they_need(client, nobody):
    client.force_login(nobody)
    response = client.get("/")
    assert response.status_code == 403
    assert b"needs the Viewers role" in response.content


@pytest.mark.django_db
def test_login_then_the_shell_page(client, viewer):
    response = client.post(
        "/accounts/login/", {"username": viewer.username, "password": "pw-vera-viewer"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/").content.decode()
    assert "vera-viewer" in page and "Sign out" in page


@pytest.mark.django_db
def test_a_wrong_password_is_refused_with_a_message(client, viewer):
    response = client.post("/accounts/login/", {"username": viewer.username, "password": "no"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


@pytest.mark.django_db
def test_favicon_ico_points_at_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.svg"


def test_a_403_is_logged_as_one_line_without_a_traceback(viewer_client, caplog):
    caplog.set_level("INFO")
    assert viewer_client.get("/evaluation-jobs/new/").status_code == 403
    refusals = [
        r for r in caplog.records if "403" in r.getMessage() or "Forbidden" in r.getMessage()
    ]
    assert len(refusals) == 1, [r.getMessage() for r in caplog.records]
    (record,) = refusals
    assert record.exc_info is None
    assert record.getMessage() == (
        "403: vera-viewer may not GET /evaluation-jobs/new/ (needs jobs.operate_jobs)"
    )
