"""Template filters for bulk deletion: the state rules live in jobs/deletions/."""

from __future__ import annotations

from django import template

from jobs.deletions import evaluation_job_delete_blocker

register = template.Library()


@register.filter
def delete_blocker(job) -> str:
    """Why this job cannot be selected for deletion ("" if it can)."""
    return evaluation_job_delete_blocker(job)


@register.filter
def thousands(value) -> str:
    """1234567 -> "1,234,567" (without django.contrib.humanize)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "" if value is None else str(value)
