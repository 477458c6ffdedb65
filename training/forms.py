"""Forms of the training pages: they parse and label; the services decide."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from betterwork import selectors as people_selectors
from betterwork.forms import LANGUAGE_NAMES
from betterwork.models import Programme
from training import selectors
from training.models import Course, CourseTemplate, ParticipantRole, SessionMode, Sex
from training.services import MAX_SESSION_DAYS

# Choices are set per programme in each form's __init__ (tenant querysets need the request's scope).
NO_CHOICES: QuerySet[Course] = QuerySet(model=Course).none()
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CourseTemplateForm(forms.ModelForm):
    class Meta:
        model = CourseTemplate
        fields = ["code", "title", "topics", "days", "audience", "is_active"]
        widgets = {"topics": forms.Textarea(attrs={"rows": 5})}


class CourseForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = ["title", "topics", "days", "audience", "is_active"]
        widgets = {"topics": forms.Textarea(attrs={"rows": 5})}

    def validate_unique(self) -> None:
        pass  # the service checks the title within the programme and says so on the field


def parse_dates(text: str) -> list[dt.date]:
    dates = []
    for token in re.split(r"[\s,;]+", text.strip()):
        if not token:
            continue
        try:
            dates.append(dt.date.fromisoformat(token))
        except ValueError as error:
            raise forms.ValidationError(
                _("“%(value)s” is not a date like 2026-12-01.") % {"value": token}
            ) from error
    return sorted(dates)


class SessionForm(forms.Form):
    course = forms.ModelChoiceField(label=gettext_lazy("Course"), queryset=NO_CHOICES)
    mode = forms.ChoiceField(
        label=gettext_lazy("Who may attend"), choices=SessionMode.choices, widget=forms.RadioSelect
    )
    factory = forms.ModelChoiceField(
        label=gettext_lazy("Factory"),
        queryset=NO_CHOICES,
        required=False,
        help_text=gettext_lazy("For a session held for one factory."),
    )
    first_day = forms.DateField(label=gettext_lazy("First day"), required=False, widget=DATE_INPUT)
    dates = forms.CharField(
        label=gettext_lazy("Days the session meets"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "Dates like 2026-12-01, 2026-12-03. Leave empty for consecutive days from the first day, as long as the course."
        ),
    )
    trainers = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Trainers"),
        queryset=NO_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("When you schedule a session and tick nobody, you are its trainer."),
    )
    other_trainers = forms.CharField(
        label=gettext_lazy("Other trainers"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("Trainers from outside the programme."),
    )
    venue = forms.CharField(label=gettext_lazy("Venue"), max_length=200, required=False)
    online = forms.BooleanField(label=gettext_lazy("Online"), required=False)
    online_link = forms.URLField(
        label=gettext_lazy("Online meeting link"), required=False, assume_scheme="https"
    )
    capacity = forms.IntegerField(
        label=gettext_lazy("Number of places"), min_value=1, max_value=500, initial=25
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language"), choices=[("", "—"), *LANGUAGE_NAMES.items()], required=False
    )
    counts_toward_entitlement = forms.BooleanField(
        label=gettext_lazy("Counts toward entitlements"),
        required=False,
        initial=True,
        help_text=gettext_lazy("Days attended use the participants' factories' training-day entitlements."),
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, programme: Programme, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = selectors.course_list(programme=programme, active_only=True)  # type: ignore[attr-defined]
        self.fields["factory"].queryset = selectors.factories_for_choice(programme=programme)  # type: ignore[attr-defined]
        self.fields["factory"].empty_label = "—"  # type: ignore[attr-defined]
        self.fields["trainers"].queryset = people_selectors.programme_staff(programme=programme)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = data.get("dates") or ""
        if text.strip():
            try:
                data["day_list"] = parse_dates(text)
            except forms.ValidationError as error:
                self.add_error("dates", error)
                return data
        elif data.get("first_day") and data.get("course"):
            start = data["first_day"]
            data["day_list"] = [
                start + dt.timedelta(days=n) for n in range(min(data["course"].days, MAX_SESSION_DAYS))
            ]
        else:
            self.add_error("first_day", _("Give the first day, or list the days the session meets."))
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why is the session cancelled?"), max_length=300)


class ParticipantForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    sex = forms.ChoiceField(label=gettext_lazy("Sex"), choices=Sex.choices)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=ParticipantRole.choices)
    factory = forms.ModelChoiceField(label=gettext_lazy("Factory"), queryset=NO_CHOICES, required=False)
    organisation = forms.CharField(
        label=gettext_lazy("Or organisation"),
        max_length=200,
        required=False,
        help_text=gettext_lazy(
            "For someone from outside the programme's factories (another factory, a union, a ministry)."
        ),
    )

    def __init__(self, *args: Any, programme: Programme, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["factory"].queryset = selectors.factories_for_choice(programme=programme)  # type: ignore[attr-defined]
        self.fields["factory"].empty_label = "—"  # type: ignore[attr-defined]


RATING_CHOICES = [("", "—")] + [(str(n), str(n)) for n in range(1, 6)]


class EntitlementForm(forms.Form):
    factory = forms.ModelChoiceField(label=gettext_lazy("Factory"), queryset=NO_CHOICES)
    cycle = forms.IntegerField(label=gettext_lazy("Cycle"), min_value=1, max_value=99)
    days = forms.IntegerField(label=gettext_lazy("Training days"), min_value=0, max_value=365, initial=15)
    starts_on = forms.DateField(label=gettext_lazy("From"), widget=DATE_INPUT)
    ends_on = forms.DateField(label=gettext_lazy("Until"), widget=DATE_INPUT)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, programme: Programme, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["factory"].queryset = selectors.factories_for_choice(programme=programme)  # type: ignore[attr-defined]
        self.fields["factory"].empty_label = "—"  # type: ignore[attr-defined]


class FigureFilterForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=DATE_INPUT)
    end = forms.DateField(label=gettext_lazy("Until"), required=False, widget=DATE_INPUT)
    course = forms.ModelChoiceField(label=gettext_lazy("Course"), queryset=NO_CHOICES, required=False)
    factory = forms.ModelChoiceField(label=gettext_lazy("Factory"), queryset=NO_CHOICES, required=False)
    sex = forms.ChoiceField(
        label=gettext_lazy("Sex"), choices=[("", gettext_lazy("All")), *Sex.choices], required=False
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Role"),
        choices=[("", gettext_lazy("All")), *ParticipantRole.choices],
        required=False,
    )

    def __init__(self, *args: Any, programme: Programme, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = selectors.course_list(programme=programme)  # type: ignore[attr-defined]
        self.fields["course"].empty_label = gettext_lazy("All courses")  # type: ignore[attr-defined]
        self.fields["factory"].queryset = selectors.factories_for_choice(programme=programme)  # type: ignore[attr-defined]
        self.fields["factory"].empty_label = gettext_lazy("All factories")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The period ends before it starts."))
        return data

    def filters(self) -> selectors.FigureFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return selectors.FigureFilters(
            start=data.get("start"),
            end=data.get("end"),
            course_id=data["course"].pk if data.get("course") else None,
            factory_id=data["factory"].pk if data.get("factory") else None,
            sex=data.get("sex") or "",
            role=data.get("role") or "",
        )
