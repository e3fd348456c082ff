"""Formatting filters for job pages. Plain string work, cheap enough to run on every row of
a 100-row page (Django's `date`, `timesince` and `naturaltime` cost several times more)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

register = template.Library()


def ago_text(when: dt.datetime | None, now: dt.datetime) -> str:
    """How long ago, shortly: 12 s ago, 5 min ago, 3 h ago, 4 d ago; a date past 60 days."""
    if when is None:
        return ""
    seconds = int((now - when).total_seconds())
    if seconds < 0:
        return "just now"
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 90 * 60:
        return f"{seconds // 60} min ago"
    if seconds < 36 * 3600:
        return f"{seconds // 3600} h ago"
    if seconds < 60 * 86400:
        return f"{seconds // 86400} d ago"
    return when.strftime("%Y-%m-%d")


@register.filter
def ago(when: dt.datetime | None, now: dt.datetime) -> str:
    return ago_text(when, now)


@register.filter
def utc(when: dt.datetime | None) -> str:
    """The exact time, in UTC, to the second."""
    if when is None:
        return ""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@register.filter
def iso(when: dt.datetime | None) -> str:
    return when.isoformat() if when else ""


@register.filter
def bars(value: str) -> list[str]:
    """A list column stored as "|A|B|" as ["A", "B"]."""
    return [item for item in value.split("|") if item] if value else []


@register.filter
def short_model(identifier: str) -> str:
    """A model ARN's last segment (foundation-model/x -> x); other identifiers as they are."""
    return identifier.rsplit("/", 1)[-1]


@register.filter
def span(value: dt.timedelta | None) -> str:
    """A duration in words, largest unit first: 15 minutes, 1 hour 30 minutes, 45 seconds."""
    if value is None:
        return ""
    seconds = max(0, int(value.total_seconds()))
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts[:2]) or "0 seconds"


# A form error's words and, on a line of its own, its details (the regex Bedrock applies):
# jobs.forms.paths.DETAILS joins them.
_DETAILS = "\nDetails: "


@register.filter
def error_words(message: Any) -> str:
    return str(message).split(_DETAILS, 1)[0]


@register.filter
def error_details(message: Any) -> str:
    parts = str(message).split(_DETAILS, 1)
    return parts[1] if len(parts) > 1 else ""
