"""Forms of the plan and progress report pages: they parse and label; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from advisory.models import CommitteeMember, ItemPriority, ItemStatus

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NO_MEMBERS: QuerySet[CommitteeMember] = QuerySet(model=CommitteeMember).none()
SETTABLE_STATUSES = [(value, label) for value, label in ItemStatus.choices if value != ItemStatus.VERIFIED]


class ItemForm(forms.Form):
    """What the factory and its advisor keep up to date on an item."""

    root_cause = forms.CharField(
        label=gettext_lazy("Root cause"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
    )
    action = forms.CharField(
        label=gettext_lazy("Action"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
    )
    responsible = forms.CharField(label=gettext_lazy("Responsible person"), required=False, max_length=200)
    committee_owner = forms.ModelChoiceField(
        label=gettext_lazy("Committee owner"), queryset=NO_MEMBERS, required=False, empty_label="—"
    )
    due_on = forms.DateField(label=gettext_lazy("Due date"), required=False, widget=DATE_INPUT)
    priority = forms.ChoiceField(label=gettext_lazy("Priority"), choices=ItemPriority.choices)
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=SETTABLE_STATUSES)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, members: QuerySet[CommitteeMember], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["committee_owner"].queryset = members  # type: ignore[attr-defined]


class NewItemForm(ItemForm):
    finding = forms.CharField(
        label=gettext_lazy("What needs improving"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
    )
    field_order = ["finding"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"priority": ItemPriority.MEDIUM})
        super().__init__(*args, **kwargs)
        del self.fields["status"]
        del self.fields["version"]


class CommentForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


class EvidenceForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Evidence (photo or PDF)"),
        help_text=gettext_lazy("JPEG, PNG, WebP or PDF, at most 10 MB. Photos lose their location data."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf"}),
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why is it reopened?"), max_length=2000)


class VerifyForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("What you saw (optional)"), required=False, max_length=2000)


class ProgressSubmitForm(forms.Form):
    statement = forms.CharField(
        label=gettext_lazy("The factory's statement"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=8000,
        help_text=gettext_lazy(
            "What the factory wants the programme (and buyers it shares reports with) to know."
        ),
    )
