"""Numbers on the results pages: scores to three decimals, signed differences."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def score(value: float | None) -> str:
    """0.81234 -> "0.812"; None -> "—"."""
    if value is None:
        return "—"
    return f"{value:.3f}"


@register.filter
def signed(value: float | None) -> str:
    """A difference with its sign: +0.042, −0.130 (a real minus sign), 0.000."""
    if value is None:
        return "—"
    text = f"{abs(value):.3f}"
    if text == "0.000":
        return text
    return ("+" if value > 0 else "−") + text


@register.filter
def svgnum(value: float) -> str:
    """A coordinate for an SVG attribute, never localised."""
    return f"{value:g}"


@register.simple_tag
def compare_cell(cell) -> str:
    """One cell of the compare table: mean and n, and against the baseline the difference
    (its 95% interval as a tooltip) and the flag. Built here rather than in the template: a
    10-job table has hundreds of cells, and this keeps the page well inside its time budget."""
    if cell is None:
        return mark_safe('<span class="muted">—</span>')  # noqa: S308 - a constant
    html = format_html(
        '<span class="mean">{}</span> <span class="muted small">n={}</span>',
        score(cell.mean),
        cell.scored,
    )
    if cell.diff is None:
        return html
    if cell.testable:
        title = f"95% interval {signed(cell.low)} to {signed(cell.high)}"
    else:
        title = "Too few scored prompts to test"
    html += format_html('<br><span class="diff" title="{}">{}</span>', title, signed(cell.diff))
    if cell.flag:
        html += format_html(' <span class="flag" data-flag="{}">{}</span>', cell.flag, cell.flag)
    return html
