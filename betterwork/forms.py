"""Forms of user and programme administration."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from betterwork import spreadsheets
from betterwork.models import Programme, Role
from betterwork.services import PLATFORM_LANGUAGES, TRANSPARENCY_LIMITS

LANGUAGE_NAMES = {
    "en": _("English"),
    "km": _("Khmer"),
    "vi": _("Vietnamese"),
    "bn": _("Bengali"),
    "ar": _("Arabic"),
    "am": _("Amharic"),
    "id": _("Indonesian"),
    "fr": _("French"),
    "es": _("Spanish"),
    "ht": _("Haitian Creole"),
}


class InviteForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"))
    language = forms.ChoiceField(label=_("Language of e-mails"), choices=settings.LANGUAGES)
    manages_training = forms.BooleanField(
        label=_("Training officer"),
        required=False,
        help_text=_("Manages the programme's course catalogue, all training sessions and entitlements."),
    )

    def __init__(self, *args: Any, roles: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in roles]  # type: ignore[attr-defined]


class ProgrammeForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=[(c, LANGUAGE_NAMES[c]) for c in PLATFORM_LANGUAGES],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The first chosen is the programme's main language."),
    )

    class Meta:
        model = Programme
        fields = [
            "code",
            "name",
            "country",
            "languages",
            "time_zone",
            "currency",
            "started_on",
            "factory_review_days",
            "transparency_notice_days",
            "transparency_min_cycles",
            "transparency_persisting_cycles",
            "is_active",
        ]
        widgets = {"started_on": forms.DateInput(attrs={"type": "date"})}
        # Shown inside the "Public transparency list" fieldset: no need to repeat its name.
        labels = {
            "transparency_notice_days": _("Notice period (days)"),
            "transparency_min_cycles": _("Listed from assessment number"),
            "transparency_persisting_cycles": _("Persisting issues only (assessments)"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The browser knows the limits too; the service checks them again.
        for name, low, high in TRANSPARENCY_LIMITS:
            self.fields[name].widget.attrs.update(min=low, max=high)

    def general_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith("transparency_")]

    def transparency_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("transparency_")]

    def _post_clean(self) -> None:
        # The service validates codes, time zones and currencies and builds the instance.
        pass


class AuditFilterForm(forms.Form):
    """The audit trail's search: every field narrows it, empty ones do not."""

    who = forms.CharField(label=_("Who (name or e-mail)"), required=False, max_length=200)
    action = forms.CharField(label=_("Action"), required=False, max_length=64)
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=100)
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    text = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=200,
        help_text=_("Found in the object's name, the values before or after, or the reason."),
    )
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end date is before the start date."))
        return data


def add_service_error(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's refusal on the form: on the field it names when the form has that field,
    else above the form (a service may name a field the page does not show)."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


class SpreadsheetUploadForm(forms.Form):
    """The upload of a spreadsheet to import; ``betterwork.imports`` checks what is inside."""

    spreadsheet = forms.FileField(
        label=_("Spreadsheet (CSV or XLSX)"),
        widget=forms.FileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def __init__(
        self,
        *args: Any,
        max_bytes: int = spreadsheets.MAX_BYTES,
        max_rows: int = spreadsheets.MAX_ROWS,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes
        self.fields["spreadsheet"].help_text = _(
            "At most %(size)s MB and %(rows)s rows. The first row holds the column names."
        ) % {"size": max_bytes // (1024 * 1024), "rows": f"{max_rows:,}"}
        # The upload partial lists the expected columns under the field, in an element of this id.
        field_id = self["spreadsheet"].auto_id
        self.fields["spreadsheet"].widget.attrs["aria-describedby"] = (
            f"{field_id}_helptext {field_id}_columns"
        )

    def clean_spreadsheet(self) -> Any:
        upload = self.cleaned_data["spreadsheet"]
        name = (upload.name or "").lower()
        if name.endswith(".xls"):
            raise ValidationError(_("Old .xls files cannot be read: save the file as .xlsx or .csv first."))
        if not name.endswith(spreadsheets.EXTENSIONS):
            raise ValidationError(_("Upload a .csv or .xlsx file."))
        if upload.size > self.max_bytes:
            raise ValidationError(
                _("This file is larger than %(max)s MB. Split it into smaller files.")
                % {"max": self.max_bytes // (1024 * 1024)}
            )
        return upload

    def upload(self) -> tuple[bytes, str]:
        """The valid upload's content and file name, as ``imports.import_preview`` takes them."""
        upload = self.cleaned_data["spreadsheet"]
        upload.seek(0)
        return upload.read(), upload.name


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=10,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
