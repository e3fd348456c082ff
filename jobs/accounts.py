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
