"""Forms of the factory registry pages. Validation messages are per field and in plain words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from betterwork import selectors
from betterwork.models import Programme
from factories.models import EnrolmentStatus, Factory
from factories.services import EDITABLE_FIELDS


class FactoryForm(forms.ModelForm):
    class Meta:
        model = Factory
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "buyers_supplied": forms.Textarea(attrs={"rows": 4}),
            "enrolled_on": forms.DateInput(attrs={"type": "date"}),
        }

    FIELDSETS = (
        (_("Identity"), ("name", "legacy_id", "manufacturing_group", "designated_advisor")),
        (_("Location"), ("address", "region")),
        (_("Business"), ("sector", "factory_type", "ownership", "ownership_country", "enrolled_on")),
        (_("Workforce"), ("workers_female", "workers_male", "workers_migrant", "union_present")),
        (_("Buyers"), ("buyers_supplied",)),
    )

    def __init__(self, *args: Any, programme: Programme, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programme = programme
        advisor = self.fields["designated_advisor"]
        advisor.queryset = selectors.programme_staff(programme=programme)  # type: ignore[attr-defined]
        advisor.empty_label = _("— none —")  # type: ignore[attr-defined]

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(str(legend), [self[name] for name in names]) for legend, names in self.FIELDSETS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        total = (data.get("workers_female") or 0) + (data.get("workers_male") or 0)
        if (data.get("workers_migrant") or 0) > total:
            self.add_error(
                "workers_migrant",
                _("Migrant workers are counted within the workforce: at most %(total)s here.")
                % {"total": total},
            )
        return data

    def _post_clean(self) -> None:
        # The service builds and validates the instance; the form only checks its own fields.
        pass


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=EnrolmentStatus.choices)
    on = forms.DateField(
        label=_("From"), initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def clean_on(self) -> Any:
        on = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return on


class StaffInviteForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    email = forms.EmailField(label=_("E-mail address"))
    language = forms.ChoiceField(label=_("Language of e-mails"), choices=settings.LANGUAGES)
    is_admin = forms.BooleanField(label=_("May manage this factory's users"), required=False)
