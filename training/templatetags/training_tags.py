from django import template

from betterwork.forms import LANGUAGE_NAMES

register = template.Library()


@register.filter
def language_name(code: str) -> str:
    """The name of a language of training, in the reader's language."""
    return str(LANGUAGE_NAMES.get(code, code)) if code else ""
