"""Role checks for views. A view's permission is recorded on it, so tests can find every
write URL and prove that a role without the permission gets 403."""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

BROWSE = "jobs.browse_jobs"
OPERATE = "jobs.operate_jobs"
DELETE = "jobs.delete_jobs"

GROUPS = {
    "Viewers": [BROWSE],
    "Operators": [BROWSE, OPERATE],
    "Admins": [BROWSE, OPERATE, DELETE],
}


def requires(permission: str) -> Callable:
    """Refuse with 403 (and a page that says which role is needed) unless the user has it."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied(role_needed(permission))
            return view(request, *args, **kwargs)

        wrapped.required_permission = permission  # type: ignore[attr-defined]
        return wrapped

    return decorator


def role_needed(permission: str) -> str:
    group = next(name for name, perms in GROUPS.items() if permission in perms)
    return f"This needs the {group} role. Ask an administrator to add you to it."
