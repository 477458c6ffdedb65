"""Forms of the assessment pages."""

from __future__ import annotations

from typing import Any

import yaml
from django import forms
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from assessments.cases import NEXT_STATUS
from assessments.models import (
    FLAGS,
    AnswerValue,
    CaseStatus,
    CommentKind,
    CommentOutcome,
    EvidenceSource,
    InterviewKind,
    Question,
)


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
    round: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Round"), queryset=None, required=False, empty_label=_("No round")
    )

    def __init__(self, *args: Any, factories: Any, staff: Any, rounds: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["factory"].queryset = factories  # type: ignore[attr-defined]
        self.fields["assessors"].queryset = staff  # type: ignore[attr-defined]
        self.fields["round"].queryset = rounds  # type: ignore[attr-defined]
        if not rounds.exists():
            del self.fields["round"]


class RoundForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, help_text=_('For example "2027 round 1".'))
    starts_on = forms.DateField(label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Ends on"), widget=forms.DateInput(attrs={"type": "date"}))

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


class InterviewNoteForm(forms.Form):
    """One interview of the visit: who, when, what was said (confidential, see the page)."""

    kind = forms.ChoiceField(label=_("Interview"), choices=InterviewKind.choices)
    held_on = forms.DateField(label=_("Held on"), widget=forms.DateInput(attrs={"type": "date"}))
    interviewees = forms.CharField(
        label=_("Interviewees"),
        max_length=300,
        required=False,
        help_text=_('Names or a description of the people, for example "3 sewing operators, line 4".'),
    )
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 6}))


# --- The compliance tool: the global team's pages -------------------------------------------

TOOL_FILE_MAX_BYTES = 2 * 1024 * 1024


class _ToolFileLoader(yaml.SafeLoader):
    """Safe YAML without aliases: a few lines of anchors and aliases (``*name``) can stand for
    billions of values, and a version file never needs them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed", self.peek_event().start_mark
            )
        return super().compose_node(parent, index)


def _tool_file_data(text: str) -> Any:
    loader = _ToolFileLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


class ToolUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Version file"),
        help_text=_("YAML or JSON in the format of an exported version; at most 2 MB."),
    )

    def clean_file(self) -> dict[str, Any]:
        upload = self.cleaned_data["file"]
        if upload.size > TOOL_FILE_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        try:
            data = _tool_file_data(upload.read().decode("utf-8"))
        except (UnicodeDecodeError, yaml.YAMLError) as error:
            raise forms.ValidationError(
                _("This is not a YAML or JSON file in UTF-8: %(error)s") % {"error": str(error)[:300]}
            ) from error
        if not isinstance(data, dict):
            raise forms.ValidationError(_("The file holds no tool version (tool, version, questions)."))
        return data


class ToolCopyForm(forms.Form):
    version = forms.CharField(label=_("New version"), max_length=32)
    effective_from = forms.DateField(
        label=_("Effective from"), widget=forms.DateInput(attrs={"type": "date"})
    )


class ToolReturnForm(forms.Form):
    note = forms.CharField(
        label=_("What should change"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )


class ToolQuestionForm(forms.Form):
    """One question of a draft: its text and guidance in each of the version's languages."""

    legal_reference = forms.CharField(label=_("Legal reference"), max_length=300, required=False)
    flags = forms.MultipleChoiceField(
        label=_("Flags"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[
            ("publicly_reported", _("Publicly reported")),
            ("gender_sensitive", _("Gender-sensitive")),
            ("zero_tolerance", _("Zero tolerance")),
        ],
    )

    def __init__(self, *args: Any, languages: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.languages = languages
        for code in languages:
            try:
                name = get_language_info(code)["name_local"]
            except KeyError:
                name = code
            self.fields[f"text_{code}"] = forms.CharField(
                label=_("Question (%(language)s)") % {"language": name},
                required=code == "en",
                widget=forms.Textarea(attrs={"rows": 2, "lang": code, "dir": "auto"}),
            )
            self.fields[f"guidance_{code}"] = forms.CharField(
                label=_("Guidance (%(language)s)") % {"language": name},
                required=False,
                widget=forms.Textarea(attrs={"rows": 3, "lang": code, "dir": "auto"}),
            )
        self.order_fields([name for name in self.fields if name not in ("legal_reference", "flags")])

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        changes: dict[str, Any] = {
            "text": {c: data[f"text_{c}"].strip() for c in self.languages if data[f"text_{c}"].strip()},
            "guidance": {
                c: data[f"guidance_{c}"].strip() for c in self.languages if data[f"guidance_{c}"].strip()
            },
            "legal_reference": data["legal_reference"].strip(),
        }
        for flag in FLAGS:
            changes[flag] = flag in data["flags"]
        return changes

    @classmethod
    def initial_for(cls, question: Question, languages: list[str]) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "legal_reference": question.legal_reference,
            "flags": [flag for flag in FLAGS if getattr(question, flag)],
        }
        for code in languages:
            initial[f"text_{code}"] = question.text.get(code, "")
            initial[f"guidance_{code}"] = question.guidance.get(code, "")
        return initial
