"""What the page gives the offline script: its texts, in the user's language."""

from __future__ import annotations

import json

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from betterwork import offline

register = template.Library()


@register.simple_tag
def offline_texts() -> SafeString:
    """The texts as JSON in a data attribute: data, not code, so no inline script is needed."""
    return format_html('<div id="offline-texts" hidden data-texts="{}"></div>', json.dumps(offline.texts()))
