"""Shared fixtures: users in each role, a fresh local Bedrock per test and the local S3 over real
HTTP, and the settings that point the dashboard at them."""

from __future__ import annotations

import socket

import pytest
from django.contrib.auth.models import Group, Permission

from jobs import permissions


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users are made per test; the default PBKDF2 costs ~1 s each on these machines."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def own_cache_keys(settings):
    """Each test its own key space on the real cache (Redis): cached sessions and permission
    sets of one test's user 1 never reach another's, and nothing has to be flushed."""
    import uuid

    settings.CACHES = {
        alias: {**conf, "KEY_PREFIX": uuid.uuid4().hex[:12]}
        for alias, conf in settings.CACHES.items()
    }


@pytest.fixture
def local_bedrock(settings):
    """A fresh, empty local Bedrock on a free port, with the control API on; the dashboard's
    settings point at it for the test."""
    from jobs.bedrock.local.server import LocalBedrock

    server = LocalBedrock(control=True).start(host="127.0.0.1", port=0)
    settings.BEDROCK_ENDPOINT_URL = server.url
    settings.AWS_REGION = server.region
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _local_s3_server():
    """One moto server for the session (starting one costs about a second); each test that
    uses `local_s3` empties it first."""
    from jobs.bedrock.local.s3 import LocalS3

    server = LocalS3().start(host="127.0.0.1", port=0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def local_s3(_local_s3_server, settings):
    """The local S3 (moto's server over real HTTP), emptied, with the dashboard's settings
    pointing at it for the test."""
    _local_s3_server.reset()
    settings.S3_ENDPOINT_URL = _local_s3_server.url
    return _local_s3_server


def role_group(name: str) -> Group:
    """The role's group. The data migration creates them, but transactional tests flush the
    database between tests, so put them back as the migration would."""
    group, created = Group.objects.get_or_create(name=name)
    if created:
        for perm in permissions.GROUPS[name]:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    return group


def _user(django_user_model, username: str, group: str | None):
    user = django_user_model.objects.create_user(username=username, password="pw-" + username)
    if group:
        user.groups.add(role_group(group))
    return user


@pytest.fixture
def viewer(django_user_model):
    return _user(django_user_model, "vera-viewer", "Viewers")


@pytest.fixture
def operator(django_user_model):
    return _user(django_user_model, "otto-operator", "Operators")


@pytest.fixture
def admin_user(django_user_model):
    return _user(django_user_model, "ada-admin", "Admins")


@pytest.fixture
def nobody(django_user_model):
    """Signed in, but in no group."""
    return _user(django_user_model, "nina-nobody", None)


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def admin_client_(client, admin_user):
    client.force_login(admin_user)
    return client
