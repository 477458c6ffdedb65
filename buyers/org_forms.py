"""Forms of the buyer organisation pages: they parse and label; the services decide."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy

from buyers.models import BuyerKind


class BuyerForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=BuyerKind.choices,
        help_text=gettext_lazy("Partners also commit to drop their own audits."),
    )
    headquarters_country = forms.CharField(
        label=gettext_lazy("Headquarters country"), max_length=100, required=False
    )
    contact_name = forms.CharField(label=gettext_lazy("Contact person"), max_length=200, required=False)
    contact_email = forms.EmailField(label=gettext_lazy("Contact e-mail"), required=False)


class BuyerInviteForm(forms.Form):
    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=200)
    email = forms.EmailField(label=gettext_lazy("E-mail address"))
    language = forms.ChoiceField(label=gettext_lazy("Language of e-mails"), choices=settings.LANGUAGES)
    is_admin = forms.BooleanField(
        label=gettext_lazy("Manages this buyer's users"),
        required=False,
        help_text=gettext_lazy("May invite colleagues of this buyer."),
    )
