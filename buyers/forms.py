"""Forms of the buyer pages: they parse and label; the services decide."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from buyers import selectors
from buyers.models import Buyer, PaidBy

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NO_BUYERS: QuerySet[Buyer] = QuerySet(model=Buyer).none()


STATUS_CHOICES = [
    ("", gettext_lazy("Any")),
    (selectors.SHARED, gettext_lazy("Reports shared")),
    (selectors.AWAITING_CONSENT, gettext_lazy("Awaiting consent")),
    (selectors.NOT_ACTIVE, gettext_lazy("Consented, subscription not active")),
]


class PortalFilterForm(forms.Form):
    programme = forms.ChoiceField(label=gettext_lazy("Programme"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False, choices=STATUS_CHOICES)
    cluster = forms.ChoiceField(label=gettext_lazy("Non-compliant in"), required=False)
    new = forms.BooleanField(label=gettext_lazy("New reports only"), required=False)

    def __init__(self, *args: Any, programmes: list[Any], clusters: Iterable[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", gettext_lazy("All programmes")), *((p.code, p.name) for p in programmes)]
        self.fields["programme"].choices = choices  # type: ignore[attr-defined]
        self.fields["cluster"].choices = [  # type: ignore[attr-defined]
            ("", gettext_lazy("Any cluster")),
            *((c.code, str(c)) for c in clusters),
        ]


class ConsentForm(forms.Form):
    granted = forms.TypedChoiceField(
        label=gettext_lazy("Decision"),
        choices=[("1", gettext_lazy("Share our reports")), ("0", gettext_lazy("Stop sharing our reports"))],
        coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
    )
    note = forms.CharField(
        label=gettext_lazy("Note (optional)"),
        required=False,
        max_length=300,
        help_text=gettext_lazy("Kept in the consent history."),
    )
    confirm = forms.BooleanField(label=gettext_lazy("I confirm this decision"), required=True)


class SubscriptionRequestForm(forms.Form):
    buyer = forms.ModelChoiceField(label=gettext_lazy("Buyer"), queryset=NO_BUYERS)
    cycle = forms.IntegerField(label=gettext_lazy("Cycle"), min_value=1, max_value=99)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["buyer"].queryset = selectors.buyer_choices()  # type: ignore[attr-defined]


class ActivateForm(forms.Form):
    starts_on = forms.DateField(label=gettext_lazy("From"), widget=DATE_INPUT)
    ends_on = forms.DateField(label=gettext_lazy("Until"), widget=DATE_INPUT)
    paid_by = forms.ChoiceField(
        label=gettext_lazy("Paid by"), choices=PaidBy.choices, required=False, widget=forms.RadioSelect
    )

    def clean_paid_by(self) -> str:
        return self.cleaned_data.get("paid_by") or PaidBy.INVOICE


class CancelForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)
