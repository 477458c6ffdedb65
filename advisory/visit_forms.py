"""Forms of the advisory-visit pages: they parse and label; the services decide."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from advisory import visit_selectors as selectors
from advisory.models import PlanItem, VisitMode
from betterwork.models import Programme, User
from factories.models import Factory

# Choices are set per programme in each form's __init__ (tenant querysets need the request's scope).
NO_ITEMS: QuerySet[PlanItem] = QuerySet(model=PlanItem).none()
NO_USERS: QuerySet[User] = QuerySet(model=User).none()
NO_FACTORIES: QuerySet[Factory] = QuerySet(model=Factory).none()
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PlanItemChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        finding = " ".join(obj.finding.split())
        finding = finding if len(finding) <= 90 else finding[:89] + "…"
        key = f"{obj.question_key}: " if obj.question_key else ""
        return _("Cycle %(cycle)s · %(key)s%(finding)s (%(status)s)") % {
            "cycle": obj.plan.cycle,
            "key": key,
            "finding": finding,
            "status": obj.get_status_display(),
        }


class VisitForm(forms.Form):
    visited_on = forms.DateField(label=gettext_lazy("Date of the visit"), widget=DATE_INPUT)
    mode = forms.ChoiceField(
        label=gettext_lazy("How"),
        choices=VisitMode.choices,
        widget=forms.RadioSelect,
        initial=VisitMode.ON_SITE,
    )
    with_labour_inspector = forms.BooleanField(
        label=gettext_lazy("Joint with a labour inspector"), required=False
    )
    with_union = forms.BooleanField(label=gettext_lazy("Joint with the union"), required=False)
    advisors = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Advisors"),
        queryset=NO_USERS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Who made the visit. When you tick nobody, you did."),
    )
    topics = forms.CharField(
        label=gettext_lazy("Topics"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("What was discussed, observed or advised."),
    )
    follow_ups = forms.CharField(
        label=gettext_lazy("Agreed follow-ups"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=gettext_lazy("What the factory and the advisor agreed to do next, and by when."),
    )
    items = PlanItemChoice(
        label=gettext_lazy("Improvement plan items followed up"),
        queryset=NO_ITEMS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self, *args: Any, factory: Factory, keep_advisors: Collection[int] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["advisors"].queryset = selectors.visit_advisor_choices(  # type: ignore[attr-defined]
            programme=factory.programme, keep=keep_advisors
        )
        self.fields["items"].queryset = selectors.plan_items_of(factory=factory)  # type: ignore[attr-defined]

    @property
    def has_items(self) -> bool:
        return bool(self.fields["items"].choices)  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            key: data[key]
            for key in ("visited_on", "mode", "with_labour_inspector", "with_union", "topics", "follow_ups")
        }


JOINT_CHOICES = [
    ("", gettext_lazy("All visits")),
    ("joint", gettext_lazy("Joint visits")),
    ("inspector", gettext_lazy("With a labour inspector")),
    ("union", gettext_lazy("With the union")),
    ("not_joint", gettext_lazy("Not joint")),
]


class VisitFilterForm(forms.Form):
    advisor = forms.ModelChoiceField(label=gettext_lazy("Advisor"), queryset=NO_USERS, required=False)
    factory = forms.ModelChoiceField(label=gettext_lazy("Factory"), queryset=NO_FACTORIES, required=False)
    year = forms.IntegerField(label=gettext_lazy("Year"), required=False, min_value=2000, max_value=2100)
    month = forms.CharField(
        label=gettext_lazy("Month (YYYY-MM)"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "2026-03", "pattern": r"\d{4}-\d{2}", "size": 8}),
    )
    joint = forms.ChoiceField(label=gettext_lazy("Joint"), choices=JOINT_CHOICES, required=False)

    def __init__(self, *args: Any, programme: Programme, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        advisor = self.fields["advisor"]
        advisor.queryset = selectors.visit_advisor_choices(programme=programme)  # type: ignore[attr-defined]
        advisor.empty_label = _("All advisors")  # type: ignore[attr-defined]
        factory = self.fields["factory"]
        factory.queryset = selectors.factories_for_choice(programme=programme)  # type: ignore[attr-defined]
        factory.empty_label = _("All factories")  # type: ignore[attr-defined]

    def clean_month(self) -> dt.date | None:
        text = (self.cleaned_data.get("month") or "").strip()
        if not text:
            return None
        try:
            return dt.date.fromisoformat(f"{text}-01")
        except ValueError as error:
            raise forms.ValidationError(
                _("“%(value)s” is not a month like 2026-03.") % {"value": text}
            ) from error

    def filters(self) -> selectors.VisitFilters:
        if not self.is_bound or not self.is_valid():
            return selectors.VisitFilters()
        data = self.cleaned_data
        return selectors.VisitFilters(
            advisor_id=data["advisor"].pk if data.get("advisor") else None,
            factory_id=data["factory"].pk if data.get("factory") else None,
            year=data.get("year"),
            month=data.get("month"),
            joint=data.get("joint") or "",
        )
