"""The first superuser, for `make run` and the compose file's web service."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

ADMIN_USERNAME = "admin"


def admin_user_ensure(*, password: str = "") -> str:
    """Create the superuser 'admin' (in the Admins group) if missing, and say how to log in.

    With `password`, that is its password (also reset on an existing user). Without, a new
    user gets a generated one that is returned in the hint, to be shown once and never stored
    in clear.
    """
    User = get_user_model()
    user = User.objects.filter(username=ADMIN_USERNAME).first()
    if user is None:
        generated = secrets.token_urlsafe(12)
        user = User.objects.create_superuser(ADMIN_USERNAME, password=password or generated)
        user.groups.add(Group.objects.get(name="Admins"))
        if not password:
            return (
                f"Log in as '{ADMIN_USERNAME}' with password: {generated}\n"
                "(generated now and shown only this once; set DASHBOARD_ADMIN_PASSWORD to "
                "choose it)"
            )
    elif password:
        user.set_password(password)
        user.save(update_fields=["password"])
    else:
        return (
            f"Log in as '{ADMIN_USERNAME}' with the password shown when it was created "
            "(to reset it: DASHBOARD_ADMIN_PASSWORD=... make run)."
        )
    return f"Log in as '{ADMIN_USERNAME}' with the password in DASHBOARD_ADMIN_PASSWORD."


# What django-axes records of a sign-in's username (AccessAttempt.username is 255 characters,
# User.username 150): Django's sign-in form does not bound the field it authenticates with.
SIGN_IN_USERNAME_MAX = 150


def axes_username(request, credentials: dict | None = None) -> str | None:
    """The username django-axes counts failures for (settings.AXES_USERNAME_CALLABLE): the
    posted one, cut to what a username can be, so a 10,000-character guess is counted (as
    its first 150 characters) instead of failing to be stored."""
    source = credentials if credentials else getattr(request, "POST", {})
    value = source.get("username") if source else None
    if value is None:
        return None
    return str(value)[:SIGN_IN_USERNAME_MAX].replace("\x00", "")
