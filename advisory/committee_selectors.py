"""Read queries of the committees (PICC and kin), and the figures their pages show.

``Composition`` is pure: the pages read it from a committee's current members, and the services
read it from the members a change would leave, so that the page's banners and the services'
refusals say the same thing in the same words.

A member is *current* while their term has not ended (``term_ends_on`` empty); ending a term
records that it ended, on a day that has come. A member *serves on* a day inside their term.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from advisory.models import (
    Candidate,
    Committee,
    CommitteeKind,
    CommitteeMember,
    CommitteeRole,
    Decision,
    Election,
    EqualSides,
    Meeting,
    MeetingAttendance,
    MemberSex,
    PlanItem,
    Side,
)
from advisory.selectors import access_advisory_factory
from betterwork import permissions
from betterwork.models import Programme
from betterwork.permissions import Principal
from factories.models import Factory

# --- Composition: the rules a committee's members must keep -----------------------------------

OK, INFO, WARNING, REFUSED = "ok", "info", "warning", "refused"


@dataclass(frozen=True)
class Check:
    """One line of a committee's health: ``level`` is ok, info, warning or refused."""

    level: str
    message: str

    @property
    def css(self) -> str:
        """The page's message style for this level."""
        return {REFUSED: "message--error", WARNING: "message--warning", OK: "message--success"}.get(
            self.level, ""
        )


@dataclass
class SideFigures:
    side: str
    label: str
    members: list[Any] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.members)

    @property
    def women(self) -> int:
        return sum(1 for m in self.members if m.sex == MemberSex.FEMALE)

    @property
    def men(self) -> int:
        return sum(1 for m in self.members if m.sex == MemberSex.MALE)

    @property
    def union(self) -> int:
        return sum(1 for m in self.members if m.union_member)

    @property
    def women_share(self) -> float | None:
        return self.women / self.total if self.total else None


# Members are listed chair first, then co-chair, secretary and the others by name.
ROLE_ORDER = {
    CommitteeRole.CHAIR: 0,
    CommitteeRole.CO_CHAIR: 1,
    CommitteeRole.SECRETARY: 2,
    CommitteeRole.MEMBER: 3,
}


def _side_label(side: str) -> str:
    return str(dict(Side.choices)[side])


@dataclass
class Composition:
    """The current members of one committee of one kind, with their figures and rule checks.

    The rules (see docs in ``advisory/committees.py``):
    - size: more than ``max_members`` is refused; fewer than ``min_members`` is a warning;
    - equal sides: apply once the committee is *constituted* (at least ``min_members``
      members); while it is being formed, unequal sides are only shown as what is missing;
    - chairs: at most one chair; co-chairs come one from each side; never a chair and co-chairs.
    """

    kind: CommitteeKind
    management: SideFigures
    workers: SideFigures

    @classmethod
    def of(cls, kind: CommitteeKind, members: Iterable[Any]) -> Composition:
        management = SideFigures(Side.MANAGEMENT, _side_label(Side.MANAGEMENT))
        workers = SideFigures(Side.WORKER, _side_label(Side.WORKER))
        for member in sorted(
            members, key=lambda m: (ROLE_ORDER.get(m.role, 9), m.name.casefold(), m.pk or 0)
        ):
            (workers if member.side == Side.WORKER else management).members.append(member)
        return cls(kind=kind, management=management, workers=workers)

    @property
    def sides(self) -> tuple[SideFigures, SideFigures]:
        return (self.management, self.workers)

    @property
    def members(self) -> list[Any]:
        return [*self.management.members, *self.workers.members]

    @property
    def total(self) -> int:
        return self.management.total + self.workers.total

    @property
    def women(self) -> int:
        return self.management.women + self.workers.women

    @property
    def men(self) -> int:
        return self.management.men + self.workers.men

    @property
    def union(self) -> int:
        return self.management.union + self.workers.union

    @property
    def women_share(self) -> float | None:
        return self.women / self.total if self.total else None

    @property
    def constituted(self) -> bool:
        return self.total >= self.kind.min_members

    @property
    def balanced(self) -> bool:
        return self.management.total == self.workers.total

    @property
    def enforces(self) -> bool:
        return self.kind.equal_sides == EqualSides.ENFORCE

    def balance_message(self) -> str:
        """ "Balanced" or what is missing, e.g. "2 more worker members needed"."""
        gap = self.management.total - self.workers.total
        if gap == 0:
            return _("Balanced: %(m)s management and %(w)s worker members.") % {
                "m": self.management.total,
                "w": self.workers.total,
            }
        if gap > 0:
            return ngettext(
                "%(n)s more worker member needed for equal sides.",
                "%(n)s more worker members needed for equal sides.",
                gap,
            ) % {"n": gap}
        return ngettext(
            "%(n)s more management member needed for equal sides.",
            "%(n)s more management members needed for equal sides.",
            -gap,
        ) % {"n": -gap}

    def size_checks(self) -> list[Check]:
        kind = self.kind
        if self.total > kind.max_members:
            return [
                Check(
                    REFUSED,
                    _("%(n)s members: a %(kind)s has at most %(max)s.")
                    % {"n": self.total, "kind": kind.name, "max": kind.max_members},
                )
            ]
        if self.total < kind.min_members:
            missing = kind.min_members - self.total
            return [
                Check(
                    WARNING,
                    ngettext(
                        "Below the minimum: %(n)s more member needed (a %(kind)s has at least %(min)s).",
                        "Below the minimum: %(n)s more members needed (a %(kind)s has at least %(min)s).",
                        missing,
                    )
                    % {"n": missing, "kind": kind.name, "min": kind.min_members},
                )
            ]
        return []

    def balance_check(self) -> Check:
        if self.balanced:
            return Check(OK, self.balance_message())
        if not self.constituted:  # being formed: what is missing, not a fault yet
            return Check(INFO, self.balance_message())
        return Check(REFUSED if self.enforces else WARNING, self.balance_message())

    def role_refusals(self) -> list[str]:
        chairs = [m for m in self.members if m.role == CommitteeRole.CHAIR]
        co_chairs = [m for m in self.members if m.role == CommitteeRole.CO_CHAIR]
        problems = []
        if len(chairs) > 1:
            problems.append(
                _("A committee has one chair (now: %(names)s).")
                % {"names": ", ".join(m.name for m in chairs)}
            )
        if chairs and co_chairs:
            problems.append(_("A committee has either a chair or two co-chairs, not both."))
        for side in self.sides:
            own = [m for m in side.members if m.role == CommitteeRole.CO_CHAIR]
            if len(own) > 1:
                problems.append(
                    _("Co-chairs come one from each side; the %(side)s side would have %(n)s.")
                    % {"side": side.label.lower(), "n": len(own)}
                )
        return problems

    def role_checks(self) -> list[Check]:
        refusals = [Check(REFUSED, text) for text in self.role_refusals()]
        if refusals:
            return refusals
        co_sides = {m.side for m in self.members if m.role == CommitteeRole.CO_CHAIR}
        if len(co_sides) == 1:
            missing = next(s for s in self.sides if s.side not in co_sides)
            return [
                Check(
                    WARNING,
                    _("Co-chairs come in pairs: name the co-chair of the %(side)s side.")
                    % {"side": missing.label.lower()},
                )
            ]
        if self.constituted and not co_sides and not any(m.role == CommitteeRole.CHAIR for m in self.members):
            return [Check(WARNING, _("No chair or co-chairs named yet."))]
        return []

    def checks(self) -> list[Check]:
        """Every line the committee's page shows, worst first."""
        if not self.total:
            return [Check(INFO, _("No members recorded yet."))]
        found = [*self.size_checks(), self.balance_check(), *self.role_checks()]
        order = {REFUSED: 0, WARNING: 1, INFO: 2, OK: 3}
        return sorted(found, key=lambda check: order[check.level])


# --- Access -----------------------------------------------------------------------------------


def access_committee_factory(*, principal: Principal, programme: Programme, factory_id: int) -> Factory:
    """A factory whose committees this principal may read (committee members included), else 404."""
    return access_advisory_factory(
        principal=principal, programme=programme, factory_id=factory_id, may=permissions.can_view_committees
    )


def access_committee(*, principal: Principal, programme: Programme, committee_id: int) -> Committee:
    committee = (
        Committee.objects.filter(programme=programme, pk=committee_id)
        .select_related("kind", "factory", "programme")
        .first()
    )
    if committee is None or not permissions.can_view_committees(principal, committee.factory):
        raise Http404
    return committee


def access_member(*, committee: Committee, member_id: int) -> CommitteeMember:
    member = CommitteeMember.objects.filter(committee=committee, pk=member_id).select_related("user").first()
    if member is None:
        raise Http404
    return member


def access_election(*, committee: Committee, election_id: int) -> Election:
    election = Election.objects.filter(committee=committee, pk=election_id).first()
    if election is None:
        raise Http404
    return election


def access_candidate(*, election: Election, candidate_id: int) -> Candidate:
    candidate = Candidate.objects.filter(election=election, pk=candidate_id).first()
    if candidate is None:
        raise Http404
    return candidate


def access_meeting(*, committee: Committee, meeting_id: int) -> Meeting:
    meeting = Meeting.objects.filter(committee=committee, pk=meeting_id).select_related("created_by").first()
    if meeting is None:
        raise Http404
    return meeting


def access_kind(*, programme: Programme, kind_id: int) -> CommitteeKind:
    kind = CommitteeKind.objects.filter(programme=programme, pk=kind_id).first()
    if kind is None:
        raise Http404
    return kind


# --- Kinds ------------------------------------------------------------------------------------


def committee_kinds(*, programme: Programme) -> QuerySet[CommitteeKind]:
    return CommitteeKind.objects.filter(programme=programme).annotate(
        committees_count=Count("committees", filter=Q(committees__is_active=True))
    )


def kinds_without_active_committee(*, factory: Factory) -> QuerySet[CommitteeKind]:
    """The kinds of committee the factory could still form (one active committee per kind)."""
    active = Committee.objects.filter(kind=OuterRef("pk"), factory=factory, is_active=True)
    return (
        CommitteeKind.objects.filter(programme_id=factory.programme_id)
        .exclude(Exists(active))
        .order_by("name")
    )


# --- Members ----------------------------------------------------------------------------------


def current_members_qs() -> QuerySet[CommitteeMember]:
    return CommitteeMember.objects.filter(term_ends_on__isnull=True)


def current_members(*, committee: Committee) -> list[CommitteeMember]:
    return list(current_members_qs().filter(committee=committee).select_related("user"))


def serving_on(members: Iterable[CommitteeMember], day: dt.date) -> list[CommitteeMember]:
    return [
        m for m in members if m.term_starts_on <= day and (m.term_ends_on is None or m.term_ends_on >= day)
    ]


def committee_members(*, committee: Committee) -> list[CommitteeMember]:
    """Every member the committee has had: current first, then by when their term ended."""
    members = list(CommitteeMember.objects.filter(committee=committee).select_related("user", "elected_in"))
    return sorted(
        members,
        key=lambda m: (
            m.term_ends_on is not None,
            -(m.term_ends_on or dt.date.min).toordinal(),
            m.side,
            m.name,
        ),
    )


def programme_committee_members(*, programme: Programme) -> Iterator[CommitteeMember]:
    """Every member the programme's committees have had, with the committee, its factory and kind
    and the election they came from; by factory and committee, current members first; read 2,000
    at a time (the same queries for any number of members)."""
    return (
        CommitteeMember.objects.filter(programme=programme)
        .select_related("committee__factory", "committee__kind", "elected_in")
        .order_by(
            "committee__factory__name",
            "committee__factory_id",
            "committee__kind__name",
            "committee_id",
            F("term_ends_on").desc(nulls_first=True),
            "side",
            "name",
            "id",
        )
        .iterator(chunk_size=2000)
    )


# --- A factory's committees page --------------------------------------------------------------


@dataclass
class CommitteePicture:
    committee: Committee
    composition: Composition
    latest_election: Election | None
    meetings_count: int
    last_meeting_on: dt.date | None
    former_members: int

    @property
    def checks(self) -> list[Check]:
        return self.composition.checks()


def factory_committees(*, factory: Factory) -> list[CommitteePicture]:
    """Each active committee of the factory with its current members and figures; three queries
    however many committees, members and meetings there are."""
    return _pictures(Committee.objects.filter(factory=factory, is_active=True))


def committee_picture(*, committee: Committee) -> CommitteePicture:
    return _pictures(Committee.objects.filter(pk=committee.pk))[0]


def _pictures(committees: QuerySet[Committee]) -> list[CommitteePicture]:
    rows = list(
        committees.select_related("kind")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=current_members_qs().select_related("user").order_by("side", "name", "id"),
                to_attr="current",
            ),
            Prefetch("elections", queryset=Election.objects.order_by("-held_on", "-id"), to_attr="by_date"),
        )
        .annotate(
            meetings_count=Count("meetings", distinct=True),
            last_meeting_on=Max("meetings__held_on"),
            former_members=Count("members", filter=Q(members__term_ends_on__isnull=False), distinct=True),
        )
        .order_by("kind__name", "id")
    )
    return [
        CommitteePicture(
            committee=c,
            composition=Composition.of(c.kind, c.current),  # type: ignore[attr-defined]
            latest_election=c.by_date[0] if c.by_date else None,  # type: ignore[attr-defined]
            meetings_count=c.meetings_count,  # type: ignore[attr-defined]
            last_meeting_on=c.last_meeting_on,  # type: ignore[attr-defined]
            former_members=c.former_members,  # type: ignore[attr-defined]
        )
        for c in rows
    ]


# --- Elections --------------------------------------------------------------------------------


def committee_elections(*, committee: Committee) -> QuerySet[Election]:
    return Election.objects.filter(committee=committee).annotate(candidates_count=Count("candidates"))


def election_candidates(*, election: Election) -> list[Candidate]:
    return list(Candidate.objects.filter(election=election).order_by("name", "id"))


# --- Meetings ---------------------------------------------------------------------------------


@dataclass
class MeetingRow:
    meeting: Meeting
    serving: int
    present: int
    present_management: int
    present_workers: int
    serving_management: int
    serving_workers: int
    decisions: int

    @property
    def rate(self) -> float | None:
        return self.present / self.serving if self.serving else None

    @property
    def quorate(self) -> bool:
        return quorate(
            self.present_management, self.serving_management, self.present_workers, self.serving_workers
        )


def quorate(
    present_management: int, serving_management: int, present_workers: int, serving_workers: int
) -> bool:
    """Quorum: more than half of each side's members serving on the day are present."""
    return (
        serving_management > 0
        and serving_workers > 0
        and present_management * 2 > serving_management
        and present_workers * 2 > serving_workers
    )


def committee_meetings(
    *, committee: Committee, members: Sequence[CommitteeMember] | None = None
) -> list[MeetingRow]:
    """The committee's meetings, newest first, with attendance by side against the members who
    served on each date: two queries whatever the number of meetings (three without ``members``)."""
    if members is None:
        members = list(CommitteeMember.objects.filter(committee=committee))
    meetings = Meeting.objects.filter(committee=committee).annotate(
        present=Count("attendance", distinct=True),
        present_management=Count(
            "attendance", filter=Q(attendance__member__side=Side.MANAGEMENT), distinct=True
        ),
        present_workers=Count("attendance", filter=Q(attendance__member__side=Side.WORKER), distinct=True),
        decisions_count=Count("decisions", distinct=True),
    )
    rows = []
    for meeting in meetings:
        serving = serving_on(members, meeting.held_on)
        rows.append(
            MeetingRow(
                meeting=meeting,
                serving=len(serving),
                present=meeting.present,  # type: ignore[attr-defined]
                present_management=meeting.present_management,  # type: ignore[attr-defined]
                present_workers=meeting.present_workers,  # type: ignore[attr-defined]
                serving_management=sum(1 for m in serving if m.side == Side.MANAGEMENT),
                serving_workers=sum(1 for m in serving if m.side == Side.WORKER),
                decisions=meeting.decisions_count,  # type: ignore[attr-defined]
            )
        )
    return rows


def meeting_attendee_ids(*, meeting: Meeting) -> set[int]:
    return set(MeetingAttendance.objects.filter(meeting=meeting).values_list("member_id", flat=True))


def meeting_decisions(*, meeting: Meeting) -> list[Decision]:
    return list(Decision.objects.filter(meeting=meeting).select_related("item", "item__plan"))


def plan_items_for(*, factory: Factory) -> QuerySet[PlanItem]:
    """Items of any of the factory's improvement plans, for a decision to name."""
    return (
        PlanItem.objects.filter(plan__factory=factory).select_related("plan").order_by("-plan__cycle", "id")
    )


def members_for_attendance(
    *, committee: Committee, day: dt.date | None, since: dt.date | None = None
) -> list[CommitteeMember]:
    """The members to tick for a meeting: those current, those who served on ``day`` (the
    meeting's, when it is changed), and those whose term ended ``since`` (minutes written late)."""
    members = list(CommitteeMember.objects.filter(committee=committee).order_by("side", "name", "id"))
    served = {m.pk for m in serving_on(members, day)} if day is not None else set()
    return [
        m
        for m in members
        if m.term_ends_on is None or m.pk in served or (since is not None and m.term_ends_on >= since)
    ]
