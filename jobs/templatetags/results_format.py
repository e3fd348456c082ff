"""Numbers on the results pages: scores to three decimals, signed differences."""

from __future__ import annotations

from django import template

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


@register.filter
def get_item(mapping: object, key: str) -> object:
    """mapping[key], or None (a record's explanation of one metric)."""
    return mapping.get(key) if isinstance(mapping, dict) else None
