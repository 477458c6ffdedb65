"""Small template filters for figures, in the active language's number format."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def number(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return number_format(value, decimal_pos=0, force_grouping=True)


@register.filter
def money(value: Any) -> str:
    """An amount with two decimals and grouped thousands (1,400.00)."""
    if value is None or value == "":
        return "—"
    return number_format(value, decimal_pos=2, force_grouping=True)


@register.filter
def percent(value: Any) -> str:
    """A share between 0 and 1 as a whole percentage."""
    if value is None or value == "":
        return "—"
    return f"{number_format(round(float(value) * 100), decimal_pos=0)}%"


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    """``mapping[key]`` in a template, or an empty list when absent."""
    return mapping.get(key, []) if mapping else []
