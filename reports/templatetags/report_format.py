"""Filters of the unit's numbers: a share as a percentage, and as the chart reads it."""

from django import template

register = template.Library()


@register.filter
def percent(value) -> str:
    """0.8342 → "83.4 %"; None (nothing to divide by) → "—"."""
    return "—" if value is None else f"{value * 100:.1f} %"


@register.filter
def share_value(value) -> str:
    """The raw share for the chart's data attribute ("" when there is none)."""
    return "" if value is None else f"{value:.4f}"
