"""Demo committees: each active demo factory (at most 40 a programme, always the first factory,
the demo factory user's) gets a PICC of 3+3 to 5+5 members with co-chairs or a chair, the worker
election that chose its worker side, and two to six meetings with attendance, minutes and
decisions (on items of the factory's plan when it has one). A worker member of each first
factory signs in as the demo committee member. Factories that have a committee are skipped."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.utils import timezone

from advisory import committees as services
from advisory.models import (
    Candidate,
    Committee,
    CommitteeMember,
    CommitteeRole,
    Decision,
    Election,
    Meeting,
    MeetingAttendance,
    MemberSex,
    PlanItem,
    Side,
)
from betterwork.demo import DEMO_DOMAIN, DemoContext
from betterwork.models import Programme, Role
from factories.models import EnrolmentStatus, Factory
from training.demo import DEFAULT_NAMES, NAMES

MAX_FACTORIES = 40
MANAGEMENT_JOBS = (
    "HR manager",
    "Production manager",
    "Compliance officer",
    "Finance manager",
    "Welfare officer",
)
WORKER_JOBS = ("Sewing operator", "Quality checker", "Cutter", "Packer", "Ironing operator", "Line leader")
AGENDAS = (
    "Review of the improvement plan\nOvertime and the production schedule\nCanteen and drinking water",
    "Fire drill results\nPersonal protective equipment\nFollow-up of the last advisory visit",
    "Leave and wage slips\nWorkers' questions on the bonus\nTraining of new committee members",
    "Progress on publicly reported issues\nGrievance box: new cases\nHeat in the sewing hall",
)
MINUTES = (
    "The committee reviewed the open items of the plan. Management reported the new exit signs are "
    "installed; worker members confirmed the exits stayed unlocked during the night shift.",
    "Worker members raised complaints about overtime before the shipment. Management agreed to publish "
    "the overtime schedule a week ahead and to ask for volunteers first.",
    "The fire drill took four minutes. Two exits were partly blocked by boxes; the production manager "
    "will have them cleared and checked daily.",
    "Members discussed the results of the canteen survey and agreed to add a second water point on "
    "each floor. The secretary will share the minutes on the notice board.",
)
DECISIONS = (
    "Publish the overtime schedule one week ahead.",
    "Check that exits are clear at the start of each shift.",
    "Add a drinking-water point on each floor.",
    "Train line leaders on the grievance procedure.",
    "Report progress on the plan at the next meeting.",
)


def seed_committees(ctx: DemoContext) -> Iterator[str]:
    for code, (_facts, programme) in ctx.programmes.items():
        kinds = services.committee_kinds_ensure(programme)
        picc = next((k for k in kinds if k.code == services.PICC.code), kinds[0])
        factories = _factories(programme)
        if not factories:
            continue
        have = set(Committee.objects.filter(factory__in=factories).values_list("factory_id", flat=True))
        todo = [f for f in factories if f.pk not in have]
        if not todo:
            _committee_login(ctx, programme, factories[0])
            yield f"{code}: committees already seeded"
            continue
        counts = _seed(programme, picc, todo, ctx.rng("committees", code))
        _committee_login(ctx, programme, factories[0])
        yield f"{code}: {counts['committees']} committees, {counts['members']} members, {counts['meetings']} meetings"


def _factories(programme: Programme) -> list[Factory]:
    demo = Factory.objects.filter(programme=programme, legacy_id__startswith="DEMO-").order_by("public_id")
    first = demo.first()
    if first is None:
        return []
    active = [
        f for f in demo.filter(enrolment_status=EnrolmentStatus.ACTIVE)[:MAX_FACTORIES] if f.pk != first.pk
    ]
    return [first, *active[: MAX_FACTORIES - 1]]


def _name(rng: random.Random, names: tuple[tuple[str, ...], tuple[str, ...]], taken: set[str]) -> str:
    first_names, family_names = names
    for _ in range(50):
        name = f"{rng.choice(first_names)} {rng.choice(family_names)}"
        if name not in taken:
            taken.add(name)
            return name
    name = f"{rng.choice(first_names)} {rng.choice(family_names)} {len(taken)}"
    taken.add(name)
    return name


def _seed(programme: Programme, kind: Any, factories: list[Factory], rng: random.Random) -> dict[str, int]:
    today = programme.today()
    names = NAMES.get(programme.code, DEFAULT_NAMES)
    plan_items: dict[int, list[int]] = defaultdict(list)
    for factory_id, item_id in PlanItem.objects.filter(plan__factory__in=factories).values_list(
        "plan__factory_id", "pk"
    ):
        plan_items[factory_id].append(item_id)

    committees = Committee.objects.bulk_create(
        [
            Committee(
                programme=programme,
                factory=f,
                kind=kind,
                established_on=today - dt.timedelta(days=rng.randint(200, 900)),
            )
            for f in factories
        ]
    )
    elections = Election.objects.bulk_create(
        [_election(programme, c, rng, rng.randint(3, 5)) for c in committees]
    )
    candidates: list[Candidate] = []
    members: list[CommitteeMember] = []
    for committee, election, factory in zip(committees, elections, factories, strict=True):
        taken: set[str] = set()
        seats = election.seats
        assert committee.established_on is not None
        co_chairs = rng.random() < 0.6
        union = 0.5 if factory.union_present else 0.1
        for n in range(seats):
            members.append(
                CommitteeMember(
                    programme=programme,
                    committee=committee,
                    name=_name(rng, names, taken),
                    side=Side.MANAGEMENT,
                    sex=MemberSex.FEMALE if rng.random() < 0.45 else MemberSex.MALE,
                    role=(CommitteeRole.CO_CHAIR if co_chairs else CommitteeRole.CHAIR)
                    if n == 0
                    else (CommitteeRole.SECRETARY if n == 1 else CommitteeRole.MEMBER),
                    position=rng.choice(MANAGEMENT_JOBS),
                    term_starts_on=committee.established_on,
                )
            )
        ballots = election.ballots_cast or 0
        running = []
        for _n in range(seats + rng.randint(1, 3)):
            running.append(
                Candidate(
                    programme=programme,
                    election=election,
                    name=_name(rng, names, taken),
                    sex=MemberSex.FEMALE if rng.random() < 0.7 else MemberSex.MALE,
                    union_member=rng.random() < union,
                )
            )
        # Distinct counts, so the seats go without a tie.
        counts = sorted(rng.sample(range(ballots // 10, ballots // 2), len(running)), reverse=True)
        for candidate, votes in zip(running, counts, strict=True):
            candidate.votes = votes
        for n, candidate in enumerate(running[:seats]):
            candidate.elected = True
            members.append(
                CommitteeMember(
                    programme=programme,
                    committee=committee,
                    name=candidate.name,
                    side=Side.WORKER,
                    sex=candidate.sex,
                    union_member=candidate.union_member,
                    role=CommitteeRole.CO_CHAIR if co_chairs and n == 0 else CommitteeRole.MEMBER,
                    position=rng.choice(WORKER_JOBS),
                    term_starts_on=election.held_on,
                    elected_in=election,
                )
            )
        candidates += running
    Candidate.objects.bulk_create(candidates)
    members = CommitteeMember.objects.bulk_create(members)

    by_committee: dict[int, list[CommitteeMember]] = defaultdict(list)
    for member in members:
        by_committee[member.committee_id].append(member)
    meetings: list[Meeting] = []
    for committee, election in zip(committees, elections, strict=True):
        start = election.held_on + dt.timedelta(days=14)
        count = rng.randint(2, 6)
        span = max((today - start).days, count)
        for n in range(count):
            day = start + dt.timedelta(days=round(n * span / count) + rng.randint(0, 5))
            meetings.append(
                Meeting(
                    programme=programme,
                    committee=committee,
                    held_on=min(day, today),
                    agenda=rng.choice(AGENDAS),
                    minutes=rng.choice(MINUTES),
                )
            )
    meetings = Meeting.objects.bulk_create(meetings)
    attendance = []
    decisions = []
    factory_of = {c.pk: c.factory_id for c in committees}
    for meeting in meetings:
        for member in by_committee[meeting.committee_id]:
            if rng.random() < 0.85:
                attendance.append(MeetingAttendance(programme=programme, meeting=meeting, member=member))
        items = plan_items[factory_of[meeting.committee_id]]
        for text in rng.sample(DECISIONS, rng.randint(1, 2)):
            decisions.append(
                Decision(
                    programme=programme,
                    meeting=meeting,
                    text=text,
                    item_id=rng.choice(items) if items and rng.random() < 0.6 else None,
                )
            )
    MeetingAttendance.objects.bulk_create(attendance)
    Decision.objects.bulk_create(decisions)
    return {"committees": len(committees), "members": len(members), "meetings": len(meetings)}


def _election(programme: Programme, committee: Committee, rng: random.Random, seats: int) -> Election:
    assert committee.established_on is not None
    voters = rng.randint(300, 3000)
    return Election(
        programme=programme,
        committee=committee,
        held_on=committee.established_on + dt.timedelta(days=rng.randint(7, 30)),
        seats=seats,
        voters=voters,
        ballots_cast=round(voters * rng.uniform(0.55, 0.9)),
        notes="Secret ballot in the canteen, counted by the worker candidates' observers.",
        results_recorded_at=timezone.now(),
    )


def _committee_login(ctx: DemoContext, programme: Programme, factory: Factory) -> None:
    """A worker member of the first factory's committee signs in to read its records."""
    member = (
        CommitteeMember.objects.filter(
            committee__factory=factory, side=Side.WORKER, term_ends_on__isnull=True
        )
        .order_by("id")
        .first()
    )
    if member is None:
        return
    language = "ar" if "ar" in (programme.languages or []) else "en"
    user = ctx.user(f"committee.{programme.code.lower()}@{DEMO_DOMAIN}", member.name, language)
    ctx.grant(user, Role.COMMITTEE_MEMBER, programme=programme, factory=factory)
    if member.user_id is None:
        CommitteeMember.objects.filter(pk=member.pk).update(user=user)
    ctx.login(user, Role.COMMITTEE_MEMBER.label, f"{factory.name} ({factory.public_id})")
