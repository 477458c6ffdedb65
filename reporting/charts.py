"""Charts drawn on the server as SVG, so a page and its PDF show the same picture (WeasyPrint runs
no JavaScript). Labels stay in HTML beside the bars: the browser and WeasyPrint shape and order
every script there (Khmer, Arabic right to left), which SVG text does less reliably."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 200, 14
# Colours are attributes, not classes: WeasyPrint draws SVG without the page's stylesheet.


def share_bar(share: float | None, *, label: str, rtl: bool = False) -> SafeString:
    """One horizontal bar: the share (0-1) filled over a pale track, from the start of the line
    (the right in Arabic); no share, an empty track."""
    filled = round(max(0.0, min(1.0, share or 0.0)) * WIDTH, 1)
    return format_html(
        '<svg class="bar" viewBox="0 0 {w} {h}" preserveAspectRatio="none" width="{w}" height="{h}" role="img" aria-label="{label}">'
        '<rect class="bar__track" x="0" y="0" width="{w}" height="{h}" rx="2" fill="#e6ebf1"></rect>'
        '<rect class="bar__fill" x="{start}" y="0" width="{filled}" height="{h}" rx="2" fill="#c0392b"></rect></svg>',
        w=WIDTH,
        h=HEIGHT,
        filled=filled,
        start=round(WIDTH - filled, 1) if rtl else 0,
        label=label,
    )
