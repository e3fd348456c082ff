"""The floor under the list page, for bench/web_load.py's "bare" case: the dashboard's own URLs
plus one bare view that reads the same 50 rows as /evaluation-jobs/ (the same query, the same
columns) and renders them with the same row partial, and nothing else: no permission check,
no session or user read, no sync header, chips, filters, selection or base template. What
the list page costs above it is what the dashboard adds.

Used as gunicorn's settings module (DJANGO_SETTINGS_MODULE=bench.bare_site): the dashboard's
settings with bench/bare_urls.py as the URLconf.
"""

from __future__ import annotations

from dashboard.settings import *  # noqa: F403 - the dashboard's settings, unchanged

ROOT_URLCONF = "bench.bare_urls"
