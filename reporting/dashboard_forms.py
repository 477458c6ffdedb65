"""The dashboard's filters: they parse and label; the selectors count."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from factories.models import Sector
from reporting.dashboard import Filters
from reporting.models import SizeBand

UNION_CHOICES = [
    ("", gettext_lazy("Any")),
    ("yes", gettext_lazy("Union present")),
    ("no", gettext_lazy("No union")),
]


class DashboardFilterForm(forms.Form):
    cycle = forms.TypedChoiceField(label=gettext_lazy("Cycle"), required=False, coerce=int, empty_value=None)
    year = forms.TypedChoiceField(
        label=gettext_lazy("Year of the visit"), required=False, coerce=int, empty_value=None
    )
    region = forms.ChoiceField(label=gettext_lazy("Region or zone"), required=False)
    sector = forms.ChoiceField(label=gettext_lazy("Sector"), required=False)
    size = forms.ChoiceField(label=gettext_lazy("Size"), required=False)
    union = forms.ChoiceField(label=gettext_lazy("Union"), required=False, choices=UNION_CHOICES)

    def __init__(self, *args: Any, choices: dict[str, list[Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        every = gettext_lazy("All")
        sectors = dict(Sector.choices)
        sizes = dict(SizeBand.choices)
        fields: dict[str, Any] = self.fields
        fields["cycle"].choices = [("", every), *((c, c) for c in choices["cycle"])]
        fields["year"].choices = [("", every), *((y, y) for y in choices["year"])]
        fields["region"].choices = [("", every), *((r, r) for r in choices["region"])]
        fields["sector"].choices = [("", every), *((s, sectors.get(s, s)) for s in choices["sector"])]
        fields["size"].choices = [
            ("", every),
            *((s, sizes[s]) for s in SizeBand.values if s in choices["size"]),
        ]

    def filters(self) -> Filters:
        """The filters chosen; all figures when the form is not valid."""
        if not self.is_valid():
            return Filters()
        data = self.cleaned_data
        return Filters(
            cycle=data["cycle"],
            year=data["year"],
            region=data["region"],
            sector=data["sector"],
            size=data["size"],
            union_present={"yes": True, "no": False}.get(data["union"]),
        )
