"""A resource's tags, for its page and for Clone.

Tags are the one thing those pages read from Bedrock rather than the mirror: the sweep does
not mirror them (ListTagsForResource is one call per resource). The call is bounded (see
jobs.bedrock.client.list_tags_for_resource: short timeouts, one retry) and its failure is
returned, not raised, so the page always renders: with the tags, or with why they are missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from jobs.bedrock import client as bedrock
from jobs.bedrock.errors import BedrockError
from jobs.models import MirroredResource


@dataclass(frozen=True)
class Tags:
    """`tags` is None when they were not read: the resource is gone, or Bedrock failed
    (`error`)."""

    tags: dict[str, str] | None = None
    error: BedrockError | None = None


def resource_tags(*, obj: MirroredResource) -> Tags:
    """The resource's tags now, from Bedrock; nothing for one Bedrock no longer lists."""
    if not obj.listed:
        return Tags()
    try:
        return Tags(tags=bedrock.list_tags_for_resource(arn=obj.arn))
    except BedrockError as exc:
        return Tags(error=exc)
