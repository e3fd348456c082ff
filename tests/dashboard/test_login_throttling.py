"""Sign-in throttling (django-axes): per username and per address, with a page that says why
and until when; a success resets the count."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def sign_in(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 5
    return 5


def test_after_the_limit_even_the_right_password_is_refused(viewer, limit):
    client = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(limit - 1):
        assert sign_in(client, viewer.username, "wrong").status_code == 200  # form error
    assert sign_in(client, viewer.username, "wrong").status_code == 429  # the limit-th
    response = sign_in(client, viewer.username, "pw-" + viewer.username)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many sign-in attempts" in page and "after 5 failed attempts" in page
    assert "Try again in 15 minutes" in page, page
    assert "_auth_user_id" not in client.session


def test_the_username_is_locked_from_every_address(viewer, limit):
    for i in range(limit):
        sign_in(Client(REMOTE_ADDR=f"10.0.1.{i}"), viewer.username, "wrong")
    response = sign_in(Client(REMOTE_ADDR="10.0.2.1"), viewer.username, "pw-" + viewer.username)
    assert response.status_code == 429


def test_an_address_is_locked_for_every_username(viewer, operator, limit):
    client = Client(REMOTE_ADDR="10.0.3.1")
    for i in range(limit):
        sign_in(client, f"guess-{i}", "wrong")
    assert sign_in(client, operator.username, "pw-" + operator.username).status_code == 429
    # Another address signs the same user in.
    other = Client(REMOTE_ADDR="10.0.3.2")
    response = sign_in(other, operator.username, "pw-" + operator.username)
    assert response.status_code == 302


def test_a_success_resets_the_count(viewer, limit):
    client = Client(REMOTE_ADDR="10.0.4.1")
    for _ in range(limit - 1):
        sign_in(client, viewer.username, "wrong")
    assert sign_in(client, viewer.username, "pw-" + viewer.username).status_code == 302
    client.logout()
    for _ in range(limit - 1):
        sign_in(client, viewer.username, "wrong")
    assert sign_in(client, viewer.username, "pw-" + viewer.username).status_code == 302


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_an_over_long_username_is_counted_not_a_500(viewer, limit, path):
    """Django's sign-in forms authenticate with an unbounded username; axes stores it in 255
    characters (PostgreSQL refused the insert: a 500)."""
    from axes.models import AccessAttempt

    client = Client(REMOTE_ADDR="10.0.5.1")
    guess = "x" * 10_000
    for _ in range(limit - 1):
        response = client.post(path, {"username": guess, "password": "wrong"})
        assert response.status_code == 200
    (attempt,) = AccessAttempt.objects.all()
    assert attempt.username == "x" * 150 and attempt.failures_since_start == limit - 1
    assert client.post(path, {"username": guess, "password": "wrong"}).status_code == 429
