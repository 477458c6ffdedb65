"""Compliance-tool content (names of clusters and points, questions, guidance) in the reader's
language. A country's tool version may lack a translation: the English shows then, marked as
English (its ``lang`` for screen readers and hyphenation, and a note for the eye)."""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, get_language_info
from django.utils.translation import gettext as _

from assessments.models import in_language

register = template.Library()


@register.filter(name="in_language")
def in_language_marked(texts: dict[str, str] | None) -> SafeString | str:
    """{{ question.text|in_language }}: the text in the active language, else marked English."""
    if not texts:
        return ""
    language = (get_language() or "en").split("-")[0]
    if texts.get(language):
        return conditional_escape(texts[language])
    shown = "en" if texts.get("en") else next((code for code, text in texts.items() if text), None)
    if shown is None:
        return ""
    try:
        note = _("in English") if shown == "en" else get_language_info(shown)["name_local"]
    except KeyError:
        note = shown
    return format_html(
        '<span lang="{}">{}</span> <span class="fallback-note">({})</span>', shown, texts[shown], note
    )


@register.filter(name="in_language_text")
def in_language_text(texts: dict[str, str] | None) -> str:
    """The same text unmarked, for labels and attributes."""
    return in_language(texts) if texts else ""
