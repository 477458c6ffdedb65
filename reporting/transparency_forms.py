"""Forms of the transparency list: the public page's filters and the factory's response."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from reporting.transparency import Rules
from reporting.transparency_services import RESPONSE_MAX_LENGTH


class PublicFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Factory name or factory id"),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    status = forms.ChoiceField(label=_("Compliance"), required=False)

    def __init__(self, *args: Any, rules: Rules, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All factories")), *rules.status_choices()]  # type: ignore[attr-defined]

    def filters(self) -> tuple[str, str]:
        """The search text and status to apply: none of a value the form refuses."""
        if not self.is_bound or not self.is_valid():
            return "", ""
        return self.cleaned_data["q"].strip(), self.cleaned_data["status"]


class ResponseForm(forms.Form):
    text = forms.CharField(
        label=_("Your response"),
        required=False,
        max_length=RESPONSE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "What the factory has done or says about these issues. It is public once published: "
            "do not name workers or other people."
        ),
    )
    published = forms.BooleanField(
        label=_("Publish beside the entry"),
        required=False,
        help_text=_("Shown on the public list while this entry is there, from the day it appears."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
