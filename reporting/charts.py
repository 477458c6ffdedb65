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


def trend_line(
    shares: list[float | None], *, label: str, width: int = 120, height: int = 28, rtl: bool = False
) -> SafeString:
    """A cluster's rate across cycles as a small line with a dot per cycle (gaps where a cycle has
    no figure), on a 0-100% scale; in right-to-left pages the first cycle is on the right, like
    the table's columns."""
    if not shares:
        return format_html("")
    step = width / max(len(shares) - 1, 1)
    points = [
        (round(width - i * step if rtl else i * step, 1), round(height - 2 - share * (height - 4), 1))
        for i, share in enumerate(shares)
        if share is not None
    ]
    path = " ".join(f"{x},{y}" for x, y in points)
    dots = "".join(f'<circle cx="{x}" cy="{y}" r="2.5" fill="#c0392b"></circle>' for x, y in points)
    return format_html(
        '<svg class="trend" viewBox="-3 -3 {vw} {vh}" width="{vw}" height="{vh}" role="img" aria-label="{label}">'
        '<line x1="0" y1="{base}" x2="{w}" y2="{base}" stroke="#d0d5dd" stroke-width="1"></line>'
        '<polyline points="{path}" fill="none" stroke="#c0392b" stroke-width="1.5"></polyline>{dots}</svg>',
        vw=width + 6,
        vh=height + 6,
        w=width,
        base=height - 2,
        path=path,
        dots=SafeString(dots),
        label=label,
    )
