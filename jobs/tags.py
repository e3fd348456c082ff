"""A resource's tags, for its page and for Clone.

A resource's page reads them from the mirror (`mirrored_tags`): the sync reads them with the
description (`tags_store`, one ListTagsForResource per described resource) and a task reads
them again when a page shows none or old ones (`tags_refresh_request`), so a page view is never
Bedrock traffic. Clone still reads them live (`resource_tags`): the call is bounded (see
jobs.bedrock.client.list_tags_for_resource: short timeouts, one retry) and its failure is
returned, not raised, so the page always renders: with the tags, or with why they are missing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone

from jobs import publishing
from jobs.bedrock import client as bedrock
from jobs.bedrock.errors import BedrockError
from jobs.connections import Connection
from jobs.models import MirroredResource

logger = logging.getLogger(__name__)


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


# --- Tags in the mirror (issue 12): the detail page never calls Bedrock for them ------------

# A page showing tags older than this asks a worker to read them again.
TAGS_MAX_AGE = dt.timedelta(hours=1)
# A page asks at most once per resource in this many seconds, however often it is opened.
REQUEST_EVERY = 60


@dataclass(frozen=True)
class MirroredTags:
    """A resource's tags as the mirror holds them: `tags` None until a worker read them."""

    tags: dict[str, str] | None
    synced_at: dt.datetime | None


def mirrored_tags(*, obj: MirroredResource) -> MirroredTags:
    return MirroredTags(tags=obj.tags, synced_at=obj.tags_synced_at)


def tags_store(
    *, model: type[MirroredResource], arn: str, connection: Connection | None = None
) -> bool:
    """Read a resource's tags from Bedrock into its mirror row (the sync's describe step and
    the refresh task). False, logged, when Bedrock failed: a later describe or refresh tries
    again."""
    try:
        tags = bedrock.list_tags_for_resource(arn=arn, connection=connection)
    except BedrockError as exc:
        logger.info("reading the tags of %s failed: %s", arn, exc)
        return False
    model.objects.filter(arn=arn).update(tags=tags, tags_synced_at=timezone.now())
    return True


def tags_refresh_request(*, kind: str, obj: MirroredResource) -> bool:
    """Ask a worker for the tags of a resource whose page shows none or old ones (after
    commit, bounded, never raising: jobs.publishing). At most once per REQUEST_EVERY seconds
    per resource; True if asked."""
    if not obj.listed:
        return False
    fresh = obj.tags_synced_at and timezone.now() - obj.tags_synced_at < TAGS_MAX_AGE
    if obj.tags is not None and fresh:
        return False
    if not cache.add(f"tags-refresh:{obj.arn}", 1, REQUEST_EVERY):
        return False
    publishing.publish(publishing.TAGS_REFRESH, kind, obj.arn)
    return True
