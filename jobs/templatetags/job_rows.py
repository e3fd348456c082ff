"""One evaluation-job list row, written in Python: the list's hottest markup (50-100 rows a
page, and every answer of the live channel). Django's template engine spent about 40% of a
list page on the row partial (py-spy, bench/web_load.py at 100k jobs); this writes the same
HTML as that partial did, escaped the same way, in a tenth of the time. The template keeps
the rest of the page; jobs/evaluation_job_list.html#job-row calls {% evaluation_job_row %}.
"""

from __future__ import annotations

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from jobs.deletions import evaluation_job_delete_blocker
from jobs.templatetags.job_format import ago_text, bars, iso, short_model, utc

register = template.Library()


_prefixes: dict[str, str] = {}


def _detail_prefix() -> str:
    """ "/evaluation-jobs/": reversed once per process and script prefix, not once per row."""
    script = get_script_prefix()
    if script not in _prefixes:
        _prefixes[script] = reverse("evaluation_job_detail", args=["x"])[:-2]
    return _prefixes[script]


@register.simple_tag(takes_context=True)
def evaluation_job_row(context, job) -> SafeString:
    rid = escape(job.resource_id)
    name = escape(job.name)
    status = escape(job.status)
    css = "running" if job.is_running else "terminal" if job.is_terminal else ""
    if not job.listed:
        css += " vanished"
    oob = context.get("oob")
    if oob:
        css += " live-changed"
    swap = ' hx-swap-oob="true"' if oob else ""
    out = [f'<tr id="job-{rid}" class="{css}"{swap}>']
    if context.get("selectable"):
        if job.can_delete:
            checked = " checked" if job.resource_id in (context.get("selected_ids") or ()) else ""
            cell = (
                f'<input type="hidden" name="page_job" value="{rid}">'
                f'<input type="checkbox" name="job" value="{rid}" aria-label="Select {name}"'
                f"{checked}>"
            )
        else:
            why = escape(evaluation_job_delete_blocker(job))
            cell = (
                f'<span class="why-not" title="{why}"><input type="checkbox" disabled '
                f'aria-label="{name} cannot be selected: {why}"></span>'
            )
        out.append(f'<td class="select">{cell}</td>')
    if context.get("stoppable"):
        cell = (
            f'<input type="checkbox" class="stop-job" form="stop-select" name="job" '
            f'value="{rid}" aria-label="Stop {name}">'
            if job.can_stop
            else ""
        )
        out.append(f'<td class="select stop">{cell}</td>')
    if context.get("comparable"):
        cell = (
            f'<input type="checkbox" class="compare-job" form="compare-select" name="job" '
            f'value="{rid}" aria-label="Compare {name}">'
            if job.resource_id in (context.get("comparable_ids") or ())
            else ""
        )
        out.append(f'<td class="select compare">{cell}</td>')
    vanished = (
        ""
        if job.listed
        else ' <span class="badge" data-status="Vanished" '
        'title="Bedrock no longer lists this job">Vanished</span>'
    )
    out.append(f'<td class="name"><a href="{_detail_prefix()}{rid}/">{name}</a>{vanished}</td>')
    out.append(f'<td><span class="badge" data-status="{status}">{status}</span></td>')
    out.append(f'<td class="opt place mono">{escape(job.region) or "—"}</td>')
    out.append(f'<td class="opt place mono">{escape(job.account) or "—"}</td>')
    out.append(f'<td class="opt">{escape(job.job_type)}</td>')
    out.append(f'<td class="opt">{escape(job.application_type)}</td>')
    tasks = "".join(f'<span class="tag">{escape(t)}</span>' for t in bars(job.task_types))
    out.append(f'<td class="opt">{tasks}</td>')
    models = (
        "".join(
            f'<span class="tag mono" title="{escape(m)}">{escape(short_model(m))}</span>'
            for m in bars(job.model_identifiers)
        )
        or '<span class="muted">—</span>'
    )
    out.append(f'<td class="models">{models}</td>')
    created = job.created_at
    out.append(
        f'<td class="created"><time datetime="{iso(created)}" title="{utc(created)}">'
        f"{escape(ago_text(created, context['now']))}</time></td>"
    )
    return mark_safe("\n  ".join(out) + "\n</tr>")  # noqa: S308 - every value escaped above
