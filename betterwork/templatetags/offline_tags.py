"""What the page gives the offline script: its texts, in the user's language."""

from __future__ import annotations

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString

from betterwork import offline

register = template.Library()


@register.simple_tag
def offline_texts() -> SafeString:
    """A JSON block (never run as a script, so the Content Security Policy allows it)."""
    return json_script(offline.texts(), "offline-texts")
