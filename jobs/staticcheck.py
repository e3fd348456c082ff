"""Production serves static files by their hashed names from the manifest `collectstatic`
writes; without it every page fails. The web server refuses to start instead (dashboard/wsgi.py)
and `manage.py check --deploy` says so."""

from __future__ import annotations

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

MESSAGE = (
    "Static files have not been collected: run `python manage.py collectstatic --noinput` "
    "(STATIC_ROOT is {root}). Without them every page would fail."
)


def static_missing() -> str | None:
    """Why production would fail to serve static files, or None."""
    if not isinstance(staticfiles_storage, ManifestFilesMixin):
        return None  # DEBUG: files are served from the source folders
    if staticfiles_storage.exists(staticfiles_storage.manifest_name):
        return None
    return MESSAGE.format(root=settings.STATIC_ROOT)


def require_collected_static() -> None:
    problem = static_missing()
    if problem:
        raise ImproperlyConfigured(problem)


@checks.register(checks.Tags.staticfiles, deploy=True)
def check_collected_static(app_configs, **kwargs):
    problem = static_missing()
    return [checks.Error(problem, id="jobs.E001")] if problem else []
