from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from reporting.charts import share_bar

register = template.Library()


@register.simple_tag
def bar(share: float | None, label: str = "") -> SafeString:
    """{% bar cluster.share label %}: the share as an SVG bar, the same on pages and in PDFs."""
    return share_bar(share, label=label)


@register.filter
def language_name(code: str) -> str:
    """A language's own name (Khmer as ខ្មែរ), or its code when Django does not know it."""
    from django.utils.translation import get_language_info

    try:
        return str(get_language_info(code)["name_local"])
    except KeyError:
        return code
