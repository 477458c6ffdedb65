"""The price bands form: one row per step; empty rows are dropped."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from buyers import selectors
from buyers.models import Buyer

ROWS = 8


class PriceBandsForm(forms.Form):
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3, initial="USD")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for row in range(ROWS):
            self.fields[f"from_{row}"] = forms.IntegerField(
                label=gettext_lazy("Band %(n)s: from this many subscriptions") % {"n": row + 1},
                min_value=1,
                required=False,
            )
            self.fields[f"price_{row}"] = forms.DecimalField(
                label=gettext_lazy("Band %(n)s: price") % {"n": row + 1},
                max_digits=9,
                decimal_places=2,
                required=False,
            )

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"from_{row}"], self[f"price_{row}"]) for row in range(ROWS)]

    def bands(self) -> list[tuple[int, Decimal]]:
        steps: list[tuple[int, Decimal]] = []
        for row in range(ROWS):
            count, price = self.cleaned_data.get(f"from_{row}"), self.cleaned_data.get(f"price_{row}")
            if count is None and price is None:
                continue
            if count is None or price is None:
                self.add_error(f"from_{row}", gettext_lazy("Give both the step and its price."))
                continue
            steps.append((count, price))
        return steps


class CreditPurchaseForm(forms.Form):
    buyer: forms.ModelChoiceField[Buyer] = forms.ModelChoiceField(
        label=gettext_lazy("Buyer"), queryset=QuerySet(model=Buyer).none()
    )
    credits = forms.IntegerField(label=gettext_lazy("Credits"), min_value=1, max_value=1000)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount paid"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=gettext_lazy("Leave empty to charge the price bands in force."),
    )
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3, required=False)
    purchased_on = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    reference = forms.CharField(
        label=gettext_lazy("Reference"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("An invoice or payment number."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["buyer"].queryset = selectors.buyer_choices()  # type: ignore[attr-defined]
