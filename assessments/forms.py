"""Forms of the assessment pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from assessments.cases import NEXT_STATUS
from assessments.models import AnswerValue, CaseStatus, CommentKind, CommentOutcome, EvidenceSource


class PlanForm(forms.Form):
    factory: forms.ModelChoiceField = forms.ModelChoiceField(label=_("Factory"), queryset=None)
    planned_date = forms.DateField(
        label=_("Planned visit date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    due_date = forms.DateField(
        label=_("Report due"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    assessors: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        label=_("Assessors"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("At least two; the first chosen leads."),
    )

    def __init__(self, *args: Any, factories: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["factory"].queryset = factories  # type: ignore[attr-defined]
        self.fields["assessors"].queryset = staff  # type: ignore[attr-defined]

    def clean_assessors(self) -> Any:
        assessors = self.cleaned_data["assessors"]
        if len(assessors) < 2:
            raise forms.ValidationError(_("Assessments are done in pairs: choose at least two assessors."))
        return assessors


class AnswerForm(forms.Form):
    """One question's answer, saved on its own (autosave) or with the page's button."""

    question = forms.IntegerField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    value = forms.ChoiceField(
        label=_("Answer"), choices=AnswerValue.choices, required=False, widget=forms.RadioSelect
    )
    finding = forms.CharField(label=_("Finding"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.MultipleChoiceField(
        label=_("Evidence"),
        choices=EvidenceSource.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("value") == AnswerValue.NON_COMPLIANT and not (data.get("finding") or "").strip():
            self.add_error("finding", _("A non-compliance needs its finding."))
        return data


class TransitionForm(forms.Form):
    to = forms.CharField(widget=forms.HiddenInput)
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    comments = forms.CharField(label=_("Comments"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CaseNoteForm(forms.Form):
    text = forms.CharField(label=_("Investigation note"), widget=forms.Textarea(attrs={"rows": 3}))


class CaseStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"))
    remediation = forms.CharField(
        label=_("Remediation steps"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, case: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(s, CaseStatus(s).label) for s in sorted(NEXT_STATUS[case.status])]  # type: ignore[attr-defined]
        self.initial.setdefault("remediation", case.remediation)


class FindingCommentForm(forms.Form):
    question = forms.IntegerField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=CommentKind.choices, initial=CommentKind.COMMENT, widget=forms.RadioSelect
    )
    text = forms.CharField(label=_("Your comment"), widget=forms.Textarea(attrs={"rows": 3}))


class CommentResponseForm(forms.Form):
    response = forms.CharField(label=_("Response"), widget=forms.Textarea(attrs={"rows": 2}))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CommentOutcome.choices)


class VisitForm(forms.Form):
    visit_started_on = forms.DateField(
        label=_("Visit started"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    visit_ended_on = forms.DateField(
        label=_("Visit ended"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    person_days = forms.DecimalField(
        label=_("Person-days"), required=False, min_value=0, max_value=99, decimal_places=1
    )
    access_restricted = forms.BooleanField(label=_("Access was restricted"), required=False)
    documents_on_time = forms.BooleanField(label=_("Documents were provided on time"), required=False)
    management = forms.IntegerField(label=_("Managers interviewed"), min_value=0, required=False)
    workers = forms.IntegerField(label=_("Workers interviewed"), min_value=0, required=False)
    union = forms.IntegerField(label=_("Union representatives interviewed"), min_value=0, required=False)

    INTERVIEWS = ("management", "workers", "union")

    def visit_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.INTERVIEWS}
        data["interviews"] = {k: self.cleaned_data[k] or 0 for k in self.INTERVIEWS}
        return data
