"""Path converters that accept only what our URLs can hold, so anything else is a 404 before a
view or a query sees it (a NUL byte in a path reaches PostgreSQL as a DataError otherwise).

https://docs.djangoproject.com/en/6.1/topics/http/urls/#registering-custom-path-converters
"""

from __future__ import annotations


class ResourceIdConverter:
    """The last segment of a Bedrock ARN (evaluation-job/…, model-import-job/…,
    imported-model/…): lower-case letters and digits, what MirroredResource.resource_id
    holds (at most 64 characters)."""

    regex = "[a-z0-9]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ConnectionNameConverter(ResourceIdConverter):
    """A connection's name: 1-40 characters of a-z 0-9 - _ (jobs/connections)."""

    regex = "[a-z0-9][a-z0-9_-]{0,39}"


class FormKindConverter(ResourceIdConverter):
    """An evaluation form's kind (jobs.bedrock.rules.KIND_*): an unknown one is still a 404
    from the view."""

    regex = "[a-z0-9_-]{1,32}"
