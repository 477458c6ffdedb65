"""Template tags of reports and the pages that show their charts: bars, language names, bidi isolates."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString
from django.utils.translation import get_language_bidi

from assessments.templatetags.tool_text import in_language_marked, in_language_text
from reporting.charts import share_bar, trend_line

register = template.Library()


@register.simple_tag
def bar(share: float | None, label: str = "") -> SafeString:
    """{% bar cluster.share label %}: the share as an SVG bar, the same on pages and in PDFs."""
    return share_bar(share, label=label, rtl=get_language_bidi())


@register.filter
def language_name(code: str) -> str:
    """A language's own name (Khmer as ខ្មែរ), or its code when Django does not know it."""
    from django.utils.translation import get_language_info

    try:
        return str(get_language_info(code)["name_local"])
    except KeyError:
        return code


@register.filter
def ltr(value: object) -> str:
    """Keep a left-to-right run (a code, "2 / 7") in order inside right-to-left text: WeasyPrint
    has no unicode-bidi, but its text engine honours the Unicode isolates around the run."""
    return f"\u2066{value}\u2069"


@register.filter
def isolate(value: object) -> str:
    """A name or other user text, isolated and set in the direction of its own first letter, so
    "Royal Textile Co., Ltd." keeps its final stop on the right inside Arabic text."""
    return f"\u2068{value}\u2069"


@register.simple_tag
def trend(shares: list[float | None], label: str = "") -> SafeString:
    """{% trend row.shares label %}: a rate across cycles as a small SVG line, pages and PDFs alike."""
    return trend_line(shares, label=label, rtl=get_language_bidi())


# A name or question text kept in every language (a synthesis report's figures), in the active
# language, else English marked as such; unmarked for labels.
register.filter("in_language", in_language_marked)
register.filter("in_language_text", in_language_text)


@register.filter
def shares(rates: list[dict[str, object] | None]) -> list[object]:
    """The shares of a row of rates (None where not assessed), for ``trend``."""
    return [rate["share"] if rate else None for rate in rates]
