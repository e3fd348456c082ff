"""Every URL the project serves, with sample arguments, for tests that must cover them all."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

SAMPLE_KWARGS = {
    "pk": 1,
    "id": 1,
    "job_id": "abcdefghijkl",
    "model_id": "abcdefghijkl",
    "batch_id": 1,
}


def iter_patterns(resolver=None, prefix: str = ""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if getattr(entry, "app_name", None) == "admin":
                continue  # Django's admin has its own staff login
            yield from iter_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def project_urls() -> list[tuple[str, object]]:
    """(path, view) for each of our URL patterns, with sample values in place of converters."""
    import re

    urls = []
    for route, entry in iter_patterns():
        path = "/" + re.sub(
            r"<(?:\w+:)?(\w+)>", lambda m: str(SAMPLE_KWARGS.get(m.group(1), "x")), route
        )
        urls.append((path, entry.callback))
    return urls
