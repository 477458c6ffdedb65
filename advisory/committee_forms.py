"""Forms of the committee pages: they parse and label; the services in ``advisory.committees``
decide."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from advisory import committee_selectors as selectors
from advisory.models import (
    Candidate,
    CommitteeKind,
    CommitteeMember,
    CommitteeRole,
    EqualSides,
    MemberSex,
    PlanItem,
    Side,
)
from factories.models import Factory

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# Choices are set per request in each form's __init__ (tenant querysets need the request's scope).
NO_KINDS: QuerySet[CommitteeKind] = QuerySet(model=CommitteeKind).none()


class CommitteeKindForm(forms.Form):
    code = forms.SlugField(
        label=gettext_lazy("Code"),
        max_length=30,
        help_text=gettext_lazy("A short name for exports and the API, e.g. picc."),
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    equal_sides = forms.ChoiceField(
        label=gettext_lazy("Equal management and worker members"),
        choices=EqualSides.choices,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Once a committee has its fewest members, changes that leave the sides unequal are refused, or only warned about."
        ),
    )
    min_members = forms.IntegerField(label=gettext_lazy("Fewest members"), min_value=2, max_value=100)
    max_members = forms.IntegerField(label=gettext_lazy("Most members"), min_value=2, max_value=100)


class CommitteeCreateForm(forms.Form):
    kind = forms.ModelChoiceField(label=gettext_lazy("Kind of committee"), queryset=NO_KINDS)
    established_on = forms.DateField(label=gettext_lazy("Established on"), required=False, widget=DATE_INPUT)

    def __init__(self, *args: Any, factory: Factory, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].queryset = selectors.kinds_without_active_committee(factory=factory)  # type: ignore[attr-defined]


class MemberForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    side = forms.ChoiceField(label=gettext_lazy("Side"), choices=Side.choices, widget=forms.RadioSelect)
    sex = forms.ChoiceField(label=gettext_lazy("Sex"), choices=MemberSex.choices)
    role = forms.ChoiceField(label=gettext_lazy("Role on the committee"), choices=CommitteeRole.choices)
    union_member = forms.BooleanField(label=gettext_lazy("Union member"), required=False)
    position = forms.CharField(label=gettext_lazy("Job in the factory"), max_length=120, required=False)
    term_starts_on = forms.DateField(label=gettext_lazy("Term from"), widget=DATE_INPUT)


class MemberRowForm(forms.Form):
    """One line of "record several changes at once": an empty line is skipped."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=120, required=False)
    side = forms.ChoiceField(label=gettext_lazy("Side"), choices=[("", "—"), *Side.choices], required=False)
    sex = forms.ChoiceField(
        label=gettext_lazy("Sex"), choices=[("", "—"), *MemberSex.choices], required=False
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Role on the committee"), choices=CommitteeRole.choices, required=False
    )
    union_member = forms.BooleanField(label=gettext_lazy("Union member"), required=False)
    position = forms.CharField(label=gettext_lazy("Job in the factory"), max_length=120, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A line of a table: each input names itself, with the line's number.
        number = (self.prefix or "0").rsplit("-", 1)[-1]
        line = int(number) + 1 if number.isdigit() else 1
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = _("New member %(n)s: %(field)s") % {
                "n": line,
                "field": field.label,
            }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("name"):
            for key in ("side", "sex"):
                if not data.get(key):
                    self.add_error(key, _("This field is required."))
        return data

    def member(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data.get("name"):
            return None
        return {**data, "role": data.get("role") or CommitteeRole.MEMBER}


MemberRowFormSet = forms.formset_factory(MemberRowForm, extra=6, max_num=30)


class BatchForm(forms.Form):
    end = forms.TypedMultipleChoiceField(
        label=gettext_lazy("End the term of"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    ends_on = forms.DateField(label=gettext_lazy("Terms end on"), required=False, widget=DATE_INPUT)
    term_starts_on = forms.DateField(label=gettext_lazy("New members' terms from"), widget=DATE_INPUT)

    def __init__(self, *args: Any, members: Sequence[CommitteeMember], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = {m.pk: m for m in members}
        self.fields["end"].choices = [(m.pk, _member_label(m)) for m in members]  # type: ignore[attr-defined]

    def ending(self) -> list[CommitteeMember]:
        return [self.members[pk] for pk in self.cleaned_data.get("end") or []]


def _member_label(member: CommitteeMember) -> str:
    return f"{member.name} · {member.get_side_display()} · {member.get_role_display()}"


class EndTermForm(forms.Form):
    term_ends_on = forms.DateField(label=gettext_lazy("Term ended on"), widget=DATE_INPUT)


class DissolveForm(forms.Form):
    on = forms.DateField(label=gettext_lazy("Dissolved on"), widget=DATE_INPUT)


class SignInForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail address"))
    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=200)
    language = forms.ChoiceField(label=gettext_lazy("Language of e-mails"), choices=settings.LANGUAGES)


class ElectionForm(forms.Form):
    held_on = forms.DateField(label=gettext_lazy("Held on"), widget=DATE_INPUT)
    seats = forms.IntegerField(label=gettext_lazy("Seats"), min_value=1, max_value=100)
    voters = forms.IntegerField(label=gettext_lazy("Workers entitled to vote"), min_value=0, required=False)
    ballots_cast = forms.IntegerField(label=gettext_lazy("Ballots cast"), min_value=0, required=False)
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class CandidateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    sex = forms.ChoiceField(label=gettext_lazy("Sex"), choices=MemberSex.choices)
    union_member = forms.BooleanField(label=gettext_lazy("Union member"), required=False)


class VotesForm(forms.Form):
    """The count: one field per candidate (``votes_<id>``) and the turnout."""

    voters = forms.IntegerField(label=gettext_lazy("Workers entitled to vote"), min_value=0, required=False)
    ballots_cast = forms.IntegerField(label=gettext_lazy("Ballots cast"), min_value=0, required=False)

    def __init__(self, *args: Any, candidates: Sequence[Candidate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = list(candidates)
        for candidate in self.candidates:
            self.fields[f"votes_{candidate.pk}"] = forms.IntegerField(
                label=_("Votes for %(name)s") % {"name": candidate.name},
                min_value=0,
                required=False,
                initial=candidate.votes,
            )

    def vote_fields(self) -> list[tuple[Candidate, forms.BoundField]]:
        return [(c, self[f"votes_{c.pk}"]) for c in self.candidates]

    def votes(self) -> dict[int, int | None]:
        return {c.pk: self.cleaned_data.get(f"votes_{c.pk}") for c in self.candidates}


class ResultsForm(forms.Form):
    replace_workers = forms.BooleanField(
        label=gettext_lazy("The elected replace the current worker members"),
        required=False,
        help_text=gettext_lazy("Their terms end the day before the election."),
    )


class MeetingForm(forms.Form):
    held_on = forms.DateField(label=gettext_lazy("Held on"), widget=DATE_INPUT)
    agenda = forms.CharField(
        label=gettext_lazy("Agenda"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    minutes = forms.CharField(
        label=gettext_lazy("Minutes"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    attendees = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Present"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Members serving on the day of the meeting."),
    )

    def __init__(self, *args: Any, members: Sequence[CommitteeMember], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attendees"].choices = [(m.pk, _member_label(m)) for m in members]  # type: ignore[attr-defined]


class DecisionForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    text = forms.CharField(
        label=gettext_lazy("Decision"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    item = forms.TypedChoiceField(
        label=gettext_lazy("About the plan item"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, item_choices: Sequence[tuple[Any, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [("", "—"), *item_choices]  # type: ignore[attr-defined]


def item_choices(items: Sequence[PlanItem]) -> list[tuple[int, str]]:
    """The plan items a decision may name, read once for every line of the form."""
    return [(item.pk, item_label(item)) for item in items]


def item_label(item: PlanItem) -> str:
    text = item.question_key or ""
    finding = " ".join(item.finding.split())
    short = finding[:80] + ("…" if len(finding) > 80 else "")
    return f"{_('Cycle')} {item.plan.cycle} · {text + ' · ' if text else ''}{short}"


DecisionFormSet = forms.formset_factory(DecisionForm, extra=2, max_num=50)
