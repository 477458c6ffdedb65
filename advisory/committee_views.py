"""Committee pages (PICC and kin): thin views over ``committee_selectors`` and ``committees``.

Who: the programme's staff and the factory's own users keep the records
(``can_manage_committees``); the factory's committee members who were given a sign-in read
them (``can_view_committees``): no form is shown to them, and every form page and POST answers
404, as for anyone else who may not. Kinds of committee are the programme managers'.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from advisory import committee_selectors as selectors
from advisory import committees as services
from advisory.committee_forms import (
    BatchForm,
    CandidateForm,
    CommitteeCreateForm,
    CommitteeKindForm,
    DecisionFormSet,
    DissolveForm,
    ElectionForm,
    EndTermForm,
    MeetingForm,
    MemberForm,
    MemberRowFormSet,
    ResultsForm,
    SignInForm,
    VotesForm,
    item_choices,
    item_label,
)
from advisory.exports import committee_member_sheet
from advisory.models import Committee, CommitteeMember, Election, Meeting, Side
from betterwork import permissions
from betterwork.forms import add_service_error
from betterwork.middleware import principal_of, programme_of
from betterwork.permissions import Principal
from betterwork.replica import reads_from_replica
from betterwork.spreadsheets import Format, export_response

# --- Helpers ----------------------------------------------------------------------------------


def _committee(request: HttpRequest, pk: int, *, manage: bool = False) -> tuple[Committee, Principal]:
    """A committee the principal may read (or, with ``manage``, keep); else 404."""
    programme, principal = programme_of(request), principal_of(request)
    committee = selectors.access_committee(principal=principal, programme=programme, committee_id=pk)
    if manage and not permissions.can_manage_committees(principal, committee.factory):
        raise Http404
    return committee, principal


def _to_committee(committee: Committee) -> HttpResponse:
    return redirect(
        "committees:factory", programme_code=committee.programme.code, factory_id=committee.factory_id
    )


def _warn(request: HttpRequest, warnings: list[str]) -> None:
    for text in warnings:
        messages.warning(request, text)


# --- Kinds of committee (programme managers) --------------------------------------------------


def _kinds_programme(request: HttpRequest) -> tuple[Any, Principal]:
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_configure_committee_kinds(principal, programme.pk):
        raise Http404
    return programme, principal


@login_required
@reads_from_replica
def committees_export(request: HttpRequest, programme_code: str) -> HttpResponse:
    """Every member the programme's committees have had, one row each, as CSV or XLSX."""
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_export_programme_data(principal, programme.pk):
        raise Http404
    columns, rows = committee_member_sheet(selectors.programme_committee_members(programme=programme))
    fmt: Format = "csv" if request.GET.get("format") == "csv" else "xlsx"
    return export_response(f"committees-{programme.code}-{programme.today().isoformat()}", columns, rows, fmt)


@login_required
def kinds(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, principal = _kinds_programme(request)
    rows = list(selectors.committee_kinds(programme=programme))
    return render(
        request,
        "advisory/committees/kinds.html",
        {
            "programme": programme,
            "kinds": rows,
            "suggested": services.suggested_kinds(programme=programme, existing_codes={k.code for k in rows}),
        },
    )


@login_required
def kind_edit(request: HttpRequest, programme_code: str, pk: int | None = None) -> HttpResponse:
    programme, principal = _kinds_programme(request)
    kind = selectors.access_kind(programme=programme, kind_id=pk) if pk else None
    initial = (
        {key: getattr(kind, key) for key in services.KIND_FIELDS}
        if kind
        else {"min_members": 4, "max_members": 16}
    )
    form = CommitteeKindForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.committee_kind_save(
                actor=principal, programme=programme, kind=kind, data=form.cleaned_data
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Kind of committee saved."))
            return redirect("committees:kinds", programme_code=programme.code)
    return render(
        request, "advisory/committees/kind_form.html", {"programme": programme, "form": form, "kind": kind}
    )


@login_required
@require_POST
def kind_add_suggested(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, principal = _kinds_programme(request)
    try:
        kind = services.committee_kind_add_suggested(
            actor=principal, programme=programme, code=request.POST.get("code", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("“%(name)s” added: adjust it if the programme's rules differ.") % {"name": kind.name}
        )
    return redirect("committees:kinds", programme_code=programme.code)


# --- A factory's committees -------------------------------------------------------------------


def _factory_page(
    request: HttpRequest, factory: Any, principal: Principal, create_form: CommitteeCreateForm | None = None
) -> HttpResponse:
    programme = factory.programme
    can_manage = permissions.can_manage_committees(principal, factory)
    if can_manage:
        services.committee_kinds_ensure(programme, actor=principal)
    return render(
        request,
        "advisory/committees/factory.html",
        {
            "programme": programme,
            "factory": factory,
            "pictures": selectors.factory_committees(factory=factory),
            "can_manage": can_manage,
            "can_configure": permissions.can_configure_committee_kinds(principal, programme.pk),
            "create_form": create_form or (CommitteeCreateForm(factory=factory) if can_manage else None),
            "today": programme.today(),
        },
    )


@login_required
def factory_committees(request: HttpRequest, programme_code: str, factory_id: int) -> HttpResponse:
    """Each active committee of a factory: members by side, figures, the rules' checks."""
    principal = principal_of(request)
    factory = selectors.access_committee_factory(
        principal=principal, programme=programme_of(request), factory_id=factory_id
    )
    return _factory_page(request, factory, principal)


@login_required
@require_POST
def committee_create(request: HttpRequest, programme_code: str, factory_id: int) -> HttpResponse:
    principal = principal_of(request)
    factory = selectors.access_committee_factory(
        principal=principal, programme=programme_of(request), factory_id=factory_id
    )
    if not permissions.can_manage_committees(principal, factory):
        raise Http404
    form = CommitteeCreateForm(request.POST, factory=factory)
    if form.is_valid():
        try:
            committee = services.committee_create(
                actor=principal,
                factory=factory,
                kind=form.cleaned_data["kind"],
                established_on=form.cleaned_data["established_on"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("%(kind)s formed: add its members.") % {"kind": committee.kind.name})
            return redirect(
                "committees:factory", programme_code=factory.programme.code, factory_id=factory.pk
            )
    return _factory_page(request, factory, principal, create_form=form)


@login_required
def committee_detail(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    """Everyone the committee has had (current and former members) and its elections."""
    committee, principal = _committee(request, pk)
    members = selectors.committee_members(committee=committee)
    return render(
        request,
        "advisory/committees/committee.html",
        {
            "programme": committee.programme,
            "committee": committee,
            "current": [m for m in members if m.term_ends_on is None],
            "former": [m for m in members if m.term_ends_on is not None],
            "elections": selectors.committee_elections(committee=committee),
            "can_manage": permissions.can_manage_committees(principal, committee.factory),
        },
    )


@login_required
def committee_dissolve(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    committee, principal = _committee(request, pk, manage=True)
    form = DissolveForm(request.POST or None, initial={"on": committee.programme.today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.committee_dissolve(actor=principal, committee=committee, on=form.cleaned_data["on"])
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Committee dissolved; its records are kept."))
            return _to_committee(committee)
    return render(
        request,
        "advisory/committees/dissolve.html",
        {"programme": committee.programme, "committee": committee, "form": form},
    )


# --- Members ----------------------------------------------------------------------------------


def _member_form_page(
    request: HttpRequest, committee: Committee, form: Any, member: CommitteeMember | None
) -> HttpResponse:
    return render(
        request,
        "advisory/committees/member_form.html",
        {"programme": committee.programme, "committee": committee, "form": form, "member": member},
    )


@login_required
def member_add(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    committee, principal = _committee(request, pk, manage=True)
    initial = {"term_starts_on": committee.programme.today(), "role": "member"}
    if request.GET.get("side") in Side.values:
        initial["side"] = request.GET["side"]
    form = MemberForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            change = services.member_add(actor=principal, committee=committee, data=form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("%(name)s added.") % {"name": change.added[0].name})
            _warn(request, change.warnings)
            return _to_committee(committee)
    return _member_form_page(request, committee, form, None)


@login_required
def member_edit(request: HttpRequest, programme_code: str, pk: int, member_id: int) -> HttpResponse:
    committee, principal = _committee(request, pk, manage=True)
    member = selectors.access_member(committee=committee, member_id=member_id)
    initial = {key: getattr(member, key) for key in services.MEMBER_FIELDS}
    form = MemberForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            change = services.member_update(actor=principal, member=member, data=form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Changes saved."))
            _warn(request, change.warnings)
            return _to_committee(committee)
    return _member_form_page(request, committee, form, member)


@login_required
def member_end(request: HttpRequest, programme_code: str, pk: int, member_id: int) -> HttpResponse:
    committee, principal = _committee(request, pk, manage=True)
    member = selectors.access_member(committee=committee, member_id=member_id)
    if member.term_ends_on is not None:
        raise Http404
    form = EndTermForm(request.POST or None, initial={"term_ends_on": committee.programme.today()})
    if request.method == "POST" and form.is_valid():
        try:
            change = services.member_end(
                actor=principal, member=member, ends_on=form.cleaned_data["term_ends_on"]
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("%(name)s's term ended.") % {"name": member.name})
            _warn(request, change.warnings)
            return _to_committee(committee)
    return render(
        request,
        "advisory/committees/member_end.html",
        {"programme": committee.programme, "committee": committee, "member": member, "form": form},
    )


@login_required
def members_change(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    """Record several members joining and leaving at once; the rules see the final state."""
    committee, principal = _committee(request, pk, manage=True)
    today = committee.programme.today()
    current = selectors.current_members(committee=committee)
    data = request.POST if request.method == "POST" else None
    form = BatchForm(data, members=current, initial={"ends_on": today, "term_starts_on": today})
    rows = MemberRowFormSet(data, prefix="new")
    if request.method == "POST" and form.is_valid() and rows.is_valid():
        start = form.cleaned_data["term_starts_on"]
        add = [{**m, "term_starts_on": start} for row in rows if (m := row.member()) is not None]
        try:
            change = services.members_change(
                actor=principal,
                committee=committee,
                add=add,
                end=form.ending(),
                ends_on=form.cleaned_data["ends_on"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _("Saved: %(added)s joined, %(ended)s left.")
                % {"added": len(change.added), "ended": len(change.ended)},
            )
            _warn(request, change.warnings)
            return _to_committee(committee)
    return render(
        request,
        "advisory/committees/members_change.html",
        {
            "programme": committee.programme,
            "committee": committee,
            "form": form,
            "rows": rows,
            "composition": selectors.Composition.of(committee.kind, current),
        },
    )


def _programme_language(programme: Any) -> str:
    """The programme's first language the platform speaks (e-mails go out in it)."""
    offered = {code for code, _name in settings.LANGUAGES}
    return next((code for code in programme.languages or [] if code in offered), "en")


@login_required
def member_sign_in(request: HttpRequest, programme_code: str, pk: int, member_id: int) -> HttpResponse:
    """Give a worker member a read-only sign-in (the committee-member role for this factory)."""
    committee, principal = _committee(request, pk, manage=True)
    member = selectors.access_member(committee=committee, member_id=member_id)
    if member.term_ends_on is not None:
        raise Http404
    form = SignInForm(
        request.POST or None,
        initial={"full_name": member.name, "language": _programme_language(committee.programme)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.member_give_sign_in(
                actor=principal,
                member=member,
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                language=form.cleaned_data["language"],
                base_url=request.build_absolute_uri("/"),
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _("%(name)s can now sign in with %(email)s to read the committee's records.")
                % {"name": member.name, "email": form.cleaned_data["email"]},
            )
            return _to_committee(committee)
    return render(
        request,
        "advisory/committees/sign_in.html",
        {"programme": committee.programme, "committee": committee, "member": member, "form": form},
    )


@login_required
@require_POST
def member_sign_in_remove(request: HttpRequest, programme_code: str, pk: int, member_id: int) -> HttpResponse:
    committee, principal = _committee(request, pk, manage=True)
    member = selectors.access_member(committee=committee, member_id=member_id)
    services.member_remove_sign_in(actor=principal, member=member)
    messages.success(request, _("%(name)s can no longer sign in.") % {"name": member.name})
    return _to_committee(committee)


# --- Elections --------------------------------------------------------------------------------


@login_required
def election_create(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    committee, principal = _committee(request, pk, manage=True)
    workers = sum(1 for m in selectors.current_members(committee=committee) if m.side == Side.WORKER)
    form = ElectionForm(
        request.POST or None,
        initial={"held_on": committee.programme.today(), "seats": workers or committee.kind.min_members // 2},
    )
    if request.method == "POST" and form.is_valid():
        try:
            election = services.election_create(actor=principal, committee=committee, data=form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Election recorded: add the candidates."))
            return redirect(
                "committees:election",
                programme_code=committee.programme.code,
                pk=committee.pk,
                election_id=election.pk,
            )
    return render(
        request,
        "advisory/committees/election_form.html",
        {"programme": committee.programme, "committee": committee, "form": form},
    )


def _election_page(
    request: HttpRequest, committee: Committee, election: Election, principal: Principal, **forms: Any
) -> HttpResponse:
    candidates = selectors.election_candidates(election=election)
    can_manage = permissions.can_manage_committees(principal, committee.factory)
    is_open = can_manage and election.results_recorded_at is None
    votes = [c.votes for c in candidates if c.votes is not None]
    return render(
        request,
        "advisory/committees/election.html",
        {
            "programme": committee.programme,
            "committee": committee,
            "election": election,
            "candidates": sorted(candidates, key=lambda c: (-(c.votes or 0), c.name.casefold())),
            "votes_total": sum(votes),
            "turnout": election.ballots_cast / election.voters
            if election.voters and election.ballots_cast is not None
            else None,
            "can_manage": can_manage,
            "is_open": is_open,
            "candidate_form": forms.get("candidate_form") or (CandidateForm() if is_open else None),
            "votes_form": forms.get("votes_form")
            or (
                VotesForm(
                    candidates=candidates,
                    initial={"voters": election.voters, "ballots_cast": election.ballots_cast},
                )
                if is_open and candidates
                else None
            ),
            "results_form": forms.get("results_form") or (ResultsForm() if is_open and candidates else None),
        },
    )


def _election(
    request: HttpRequest, pk: int, election_id: int, *, manage: bool = False
) -> tuple[Committee, Election, Principal]:
    committee, principal = _committee(request, pk, manage=manage)
    return committee, selectors.access_election(committee=committee, election_id=election_id), principal


def _to_election(committee: Committee, election: Election) -> HttpResponse:
    return redirect(
        "committees:election",
        programme_code=committee.programme.code,
        pk=committee.pk,
        election_id=election.pk,
    )


@login_required
def election_detail(request: HttpRequest, programme_code: str, pk: int, election_id: int) -> HttpResponse:
    committee, election, principal = _election(request, pk, election_id)
    return _election_page(request, committee, election, principal)


@login_required
@require_POST
def candidate_add(request: HttpRequest, programme_code: str, pk: int, election_id: int) -> HttpResponse:
    committee, election, principal = _election(request, pk, election_id, manage=True)
    form = CandidateForm(request.POST)
    if form.is_valid():
        try:
            candidate = services.candidate_add(actor=principal, election=election, data=form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("%(name)s nominated.") % {"name": candidate.name})
            return _to_election(committee, election)
    return _election_page(request, committee, election, principal, candidate_form=form)


@login_required
@require_POST
def candidate_remove(
    request: HttpRequest, programme_code: str, pk: int, election_id: int, candidate_id: int
) -> HttpResponse:
    committee, election, principal = _election(request, pk, election_id, manage=True)
    candidate = selectors.access_candidate(election=election, candidate_id=candidate_id)
    try:
        services.candidate_remove(actor=principal, candidate=candidate)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(name)s removed.") % {"name": candidate.name})
    return _to_election(committee, election)


@login_required
@require_POST
def election_votes(request: HttpRequest, programme_code: str, pk: int, election_id: int) -> HttpResponse:
    committee, election, principal = _election(request, pk, election_id, manage=True)
    form = VotesForm(request.POST, candidates=selectors.election_candidates(election=election))
    if form.is_valid():
        try:
            services.election_votes_record(
                actor=principal,
                election=election,
                votes=form.votes(),
                ballots_cast=form.cleaned_data["ballots_cast"],
                voters=form.cleaned_data["voters"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Votes saved."))
            return _to_election(committee, election)
    return _election_page(request, committee, election, principal, votes_form=form)


@login_required
@require_POST
def election_results(request: HttpRequest, programme_code: str, pk: int, election_id: int) -> HttpResponse:
    committee, election, principal = _election(request, pk, election_id, manage=True)
    form = ResultsForm(request.POST)
    if form.is_valid():
        try:
            result = services.election_results_record(
                actor=principal, election=election, replace_workers=form.cleaned_data["replace_workers"]
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                ngettext(
                    "%(n)s candidate elected and added to the worker side: %(names)s.",
                    "%(n)s candidates elected and added to the worker side: %(names)s.",
                    len(result.elected),
                )
                % {"n": len(result.elected), "names": ", ".join(c.name for c in result.elected)},
            )
            _warn(request, result.change.warnings)
            return _to_committee(committee)
    return _election_page(request, committee, election, principal, results_form=form)


# --- Meetings ---------------------------------------------------------------------------------


@login_required
def meetings(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    """The committee's meetings with attendance rate and quorum (members present per side)."""
    committee, principal = _committee(request, pk)
    rows = selectors.committee_meetings(committee=committee)
    rates = [row.rate for row in rows if row.rate is not None]
    return render(
        request,
        "advisory/committees/meetings.html",
        {
            "programme": committee.programme,
            "committee": committee,
            "rows": rows,
            "average_rate": sum(rates) / len(rates) if rates else None,
            "can_manage": permissions.can_manage_committees(principal, committee.factory),
        },
    )


@login_required
def meeting_detail(request: HttpRequest, programme_code: str, pk: int, meeting_id: int) -> HttpResponse:
    committee, principal = _committee(request, pk)
    meeting = selectors.access_meeting(committee=committee, meeting_id=meeting_id)
    present = selectors.meeting_attendee_ids(meeting=meeting)
    members = selectors.committee_members(committee=committee)
    serving = selectors.serving_on(members, meeting.held_on)
    sides: list[dict[str, Any]] = []
    counts: list[int] = []
    for side, label in Side.choices:
        on_side = [m for m in serving if m.side == side]
        counts += [sum(1 for m in on_side if m.pk in present), len(on_side)]
        sides.append(
            {
                "label": label,
                "members": [(m, m.pk in present) for m in on_side],
                "present": sum(1 for m in on_side if m.pk in present),
                "serving": len(on_side),
            }
        )
    return render(
        request,
        "advisory/committees/meeting.html",
        {
            "programme": committee.programme,
            "committee": committee,
            "meeting": meeting,
            "sides": sides,
            "quorate": selectors.quorate(*counts),
            "decisions": [
                (d, item_label(d.item) if d.item else "")
                for d in selectors.meeting_decisions(meeting=meeting)
            ],
            "can_manage": permissions.can_manage_committees(principal, committee.factory),
        },
    )


def _meeting_form(
    request: HttpRequest, committee: Committee, principal: Principal, meeting: Meeting | None
) -> HttpResponse:
    today = committee.programme.today()
    members = selectors.members_for_attendance(
        committee=committee, day=meeting.held_on if meeting else None, since=today - dt.timedelta(days=365)
    )
    choices = item_choices(list(selectors.plan_items_for(factory=committee.factory)))
    data = request.POST if request.method == "POST" else None
    if meeting is not None:
        initial: dict[str, Any] = {
            "held_on": meeting.held_on,
            "agenda": meeting.agenda,
            "minutes": meeting.minutes,
            "attendees": sorted(selectors.meeting_attendee_ids(meeting=meeting)),
        }
        decisions_initial = [
            {"id": d.pk, "text": d.text, "item": d.item_id}
            for d in selectors.meeting_decisions(meeting=meeting)
        ]
    else:
        initial, decisions_initial = {"held_on": today}, []
    form = MeetingForm(data, members=members, initial=initial)
    decisions = DecisionFormSet(
        data, prefix="decisions", initial=decisions_initial, form_kwargs={"item_choices": choices}
    )
    if request.method == "POST" and form.is_valid() and decisions.is_valid():
        try:
            saved = services.meeting_save(
                actor=principal,
                committee=committee,
                meeting=meeting,
                data=form.cleaned_data,
                attendee_ids=form.cleaned_data["attendees"],
                decisions=[d.cleaned_data for d in decisions if d.cleaned_data],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Meeting saved."))
            return redirect(
                "committees:meeting",
                programme_code=committee.programme.code,
                pk=committee.pk,
                meeting_id=saved.pk,
            )
    return render(
        request,
        "advisory/committees/meeting_form.html",
        {
            "programme": committee.programme,
            "committee": committee,
            "meeting": meeting,
            "form": form,
            "decisions": decisions,
            "has_items": bool(choices),
        },
    )


@login_required
def meeting_create(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    committee, principal = _committee(request, pk, manage=True)
    return _meeting_form(request, committee, principal, None)


@login_required
def meeting_edit(request: HttpRequest, programme_code: str, pk: int, meeting_id: int) -> HttpResponse:
    committee, principal = _committee(request, pk, manage=True)
    meeting = selectors.access_meeting(committee=committee, meeting_id=meeting_id)
    return _meeting_form(request, committee, principal, meeting)
