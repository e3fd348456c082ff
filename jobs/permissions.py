"""Role checks for views. A view's permission is recorded on it, so tests can find every
write URL and prove that a role without the permission gets 403."""

import logging
from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

BROWSE = "jobs.browse_jobs"
OPERATE = "jobs.operate_jobs"
DELETE = "jobs.delete_jobs"
CONNECTIONS = "jobs.manage_connections"

logger = logging.getLogger(__name__)

GROUPS = {
    "Viewers": [BROWSE],
    "Operators": [BROWSE, OPERATE],
    "Admins": [BROWSE, OPERATE, DELETE, CONNECTIONS],
}


def requires(permission: str) -> Callable:
    """Refuse with 403 (and a page that says which role is needed) unless the user has it."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perm(permission):
                logger.warning(
                    "403: %s may not %s %s (needs %s)",
                    request.user.get_username() or "anonymous",
                    request.method,
                    request.path,
                    permission,
                )
                raise PermissionDenied(role_needed(permission))
            return view(request, *args, **kwargs)

        wrapped.required_permission = permission  # type: ignore[attr-defined]
        return wrapped

    return decorator


def role_needed(permission: str) -> str:
    group = next(name for name, perms in GROUPS.items() if permission in perms)
    return f"This needs the {group} role. Ask an administrator to add you to it."


class DropPermissionDeniedTraceback(logging.Filter):
    """django.request logs every 403 with a whole traceback; `requires` has already logged
    one line saying who, where and which permission. (Set on the django.request logger.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, PermissionDenied)
