"""Demo training: global course templates, each programme's adapted catalogue, a training
officer, a year and a half of sessions with attendance and evaluations (and some to come), and
each active factory's training-day entitlement per cycle."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from betterwork.demo import DEMO_DOMAIN, DemoContext
from betterwork.models import Programme, Role, RoleGrant, User
from factories.models import EnrolmentStatus, Factory
from training.models import (
    Attendance,
    Audience,
    Course,
    CourseTemplate,
    Entitlement,
    Evaluation,
    Participant,
    ParticipantRole,
    Session,
    SessionDay,
    SessionMode,
    SessionTrainer,
    Sex,
)

TEMPLATES = (
    (
        "supervisory-skills",
        "Supervisory skills",
        4,
        Audience.SUPERVISORS,
        "Communicating with workers\nGiving instructions and feedback\nSolving problems on the line\nPreventing harassment",
    ),
    (
        "hr-management",
        "Human resources management",
        2,
        Audience.HR,
        "Recruitment without discrimination\nContracts and wages\nGrievance handling\nDiscipline and dismissal",
    ),
    (
        "negotiation-skills",
        "Negotiation skills",
        2,
        Audience.COMMITTEE,
        "Preparing a negotiation\nInterest-based bargaining\nReaching and recording an agreement",
    ),
    (
        "workers-rights",
        "Workers' rights and responsibilities",
        1,
        Audience.WORKERS,
        "Wages, hours and leave\nFreedom of association\nRaising a grievance",
    ),
    (
        "osh-basics",
        "Occupational safety and health",
        2,
        Audience.MIXED,
        "Risk assessment\nFire safety and emergency exits\nChemical handling\nThe OSH committee",
    ),
    (
        "committee-training",
        "Working as a bipartite committee",
        1,
        Audience.COMMITTEE,
        "The committee's role\nRunning meetings and minutes\nFollowing the improvement plan",
    ),
    (
        "harassment-prevention",
        "Preventing sexual harassment",
        1,
        Audience.MIXED,
        "What harassment is\nPolicies and reporting channels\nSupporting those who report",
    ),
)
# Programmes adapt the templates: the supervisory course runs three days here, four elsewhere.
SHORTER_SUPERVISORY = {"KH", "HT", "NI"}
ENTITLEMENT_DAYS = {"JO": 12, "ET": 10}
NAMES = {
    "KH": (
        ("Sokha", "Dara", "Srey Mom", "Vanna", "Chenda", "Pisey", "Rith", "Sophea", "Bopha", "Kosal"),
        ("Chan", "Sok", "Kim", "Heng", "Meas", "Phan", "Sam", "Keo"),
    ),
    "VN": (
        ("Lan", "Huong", "Minh", "Thu", "Hai", "Mai", "Tuan", "Linh", "Hoa", "Nam"),
        ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang", "Bui"),
    ),
    "BD": (
        ("Rina", "Shirin", "Karim", "Nasrin", "Rahim", "Moushumi", "Jamal", "Taslima", "Farid", "Sumi"),
        ("Akter", "Begum", "Hossain", "Islam", "Rahman", "Khatun", "Uddin", "Sarkar"),
    ),
    "JO": (
        ("Rania", "Omar", "Layla", "Ahmad", "Nour", "Priya", "Kamal", "Sara", "Anjali", "Yousef"),
        ("Haddad", "Khalil", "Nasser", "Perera", "Saleh", "Kumari", "Odeh", "Fernando"),
    ),
}
DEFAULT_NAMES = (
    ("Marie", "Jean", "Ana", "Luis", "Sari", "Budi", "Hana", "Abebe", "Rosa", "Dewi"),
    ("Joseph", "Lopez", "Pierre", "Santoso", "Tesfaye", "Garcia", "Wati", "Alemu"),
)
ROLE_MIX = {
    Audience.SUPERVISORS: ((ParticipantRole.SUPERVISOR, 0.85), (ParticipantRole.MANAGER, 0.15)),
    Audience.HR: ((ParticipantRole.MANAGER, 0.7), (ParticipantRole.SUPERVISOR, 0.3)),
    Audience.COMMITTEE: ((ParticipantRole.COMMITTEE_MEMBER, 0.8), (ParticipantRole.MANAGER, 0.2)),
    Audience.WORKERS: ((ParticipantRole.WORKER, 0.9), (ParticipantRole.SUPERVISOR, 0.1)),
    Audience.MIXED: (
        (ParticipantRole.WORKER, 0.4),
        (ParticipantRole.SUPERVISOR, 0.3),
        (ParticipantRole.MANAGER, 0.15),
        (ParticipantRole.COMMITTEE_MEMBER, 0.15),
    ),
}
OUTSIDE = ("Garment workers' union", "Ministry of Labour", "Neighbouring supplier mill")


def seed(ctx: DemoContext) -> Iterator[str]:
    templates = _templates()
    for code, (facts, programme) in ctx.programmes.items():
        officer = _officer(ctx, programme, facts.country)
        courses = _catalogue(programme, templates)
        factories = list(
            Factory.objects.filter(
                programme=programme, legacy_id__startswith="DEMO-", enrolment_status=EnrolmentStatus.ACTIVE
            ).order_by("public_id")
        )
        if not factories:
            continue
        today = programme.today()
        entitlements = _entitlements(programme, factories, today, ctx.rng("entitlements", code))
        if Session.objects.filter(programme=programme).exists():
            yield f"{code}: training already seeded"
            continue
        advisor = User.objects.filter(email=f"advisor.{code.lower()}@{DEMO_DOMAIN}").first()
        trainers = [u for u in (officer, advisor) if u is not None]
        count = max(8, round(60 * ctx.scale * 1.6))  # about 60 sessions a year per programme
        sessions = _sessions(programme, courses, factories, trainers, today, count, ctx.rng("training", code))
        yield f"{code}: {len(courses)} courses, {sessions} sessions, {entitlements} entitlements"


def _templates() -> list[CourseTemplate]:
    templates = []
    for slug, title, days, audience, topics in TEMPLATES:
        template, _ = CourseTemplate.objects.get_or_create(
            code=slug, defaults={"title": title, "days": days, "audience": audience, "topics": topics}
        )
        templates.append(template)
    return templates


def _officer(ctx: DemoContext, programme: Programme, country: str) -> User:
    user = ctx.user(f"trainer.{programme.code.lower()}@{DEMO_DOMAIN}", f"{country} Training Officer")
    RoleGrant.objects.get_or_create(
        user=user, role=Role.ADVISOR, programme=programme, defaults={"manages_training": True}
    )
    ctx.login(user, "Training officer (advisor)", programme.name)
    return user


def _catalogue(programme: Programme, templates: list[CourseTemplate]) -> list[Course]:
    courses = []
    for template in templates:
        days = template.days
        if template.code == "supervisory-skills" and programme.code in SHORTER_SUPERVISORY:
            days = 3
        course, _ = Course.objects.get_or_create(
            programme=programme,
            template=template,
            defaults={
                "title": template.title,
                "days": days,
                "audience": template.audience,
                "topics": template.topics,
            },
        )
        courses.append(course)
    return courses


def _a_year_on(start: dt.date) -> dt.date:
    return start.replace(year=start.year + 1) - dt.timedelta(days=1)


def _entitlements(programme: Programme, factories: list[Factory], today: dt.date, rng: random.Random) -> int:
    existing = set(Entitlement.objects.filter(programme=programme).values_list("factory_id", flat=True))
    days = ENTITLEMENT_DAYS.get(programme.code, 15)
    new = []
    for factory in factories:
        start = dt.date(today.year - 2, rng.randint(1, 12), 1)
        cycle = 1
        while start <= today:
            if factory.pk not in existing:
                new.append(
                    Entitlement(
                        programme=programme,
                        factory=factory,
                        cycle=cycle,
                        days=days,
                        starts_on=start,
                        ends_on=_a_year_on(start),
                    )
                )
            start, cycle = _a_year_on(start) + dt.timedelta(days=1), cycle + 1
    Entitlement.objects.bulk_create(new)
    return len(new)


def _pick(rng: random.Random, weighted: tuple[tuple[Any, float], ...]) -> Any:
    return rng.choices([value for value, _ in weighted], weights=[weight for _, weight in weighted])[0]


def _sessions(
    programme: Programme,
    courses: list[Course],
    factories: list[Factory],
    trainers: list[User],
    today: dt.date,
    count: int,
    rng: random.Random,
) -> int:
    first_names, family_names = NAMES.get(programme.code, DEFAULT_NAMES)
    # The first factory is the demo factory user's: it always takes part.
    favoured = factories[0]
    start = today - dt.timedelta(days=540)
    for n in range(count):
        course = rng.choice(courses)
        first = start + dt.timedelta(days=round(n * 600 / count) + rng.randint(0, 6))
        dates = [first + dt.timedelta(days=d) for d in range(course.days)]
        for_one = rng.random() < 0.35
        factory = (favoured if n % 5 == 0 else rng.choice(factories)) if for_one else None
        session = Session.objects.create(
            programme=programme,
            course=course,
            mode=SessionMode.FACTORY if for_one else SessionMode.OPEN,
            factory=factory,
            starts_on=dates[0],
            ends_on=dates[-1],
            venue=f"{factory.name}, training room" if factory else f"{programme.country} programme office",
            capacity=rng.choice((20, 25, 30)),
            # Entitlements buy seats in open courses; training held in a factory is arranged apart.
            counts_toward_entitlement=not for_one,
        )
        SessionTrainer.objects.bulk_create(
            [
                SessionTrainer(programme=programme, session=session, user=user)
                for user in rng.sample(trainers, k=1)
            ]
        )
        days = SessionDay.objects.bulk_create(
            [SessionDay(programme=programme, session=session, date=d) for d in dates]
        )
        # In-factory sessions fill up from that factory; open ones take a few people from each of
        # several factories (the favoured one now and then) and a few from outside.
        if for_one:
            seats: list[Factory | None] = [factory] * rng.randint(10, session.capacity)
        else:
            senders = rng.sample(factories, k=min(len(factories), rng.randint(2, 6)))
            if n % 4 == 0 and favoured not in senders:
                senders.append(favoured)
            seats = [f for f in senders for _ in range(rng.randint(1, 2 if f == favoured else 4))]
            seats += [None] * rng.randint(0, 2)
        participants = []
        names: set[tuple[str, int | None, str]] = set()
        for source in seats[: session.capacity]:
            name = f"{rng.choice(first_names)} {rng.choice(family_names)}"
            organisation = rng.choice(OUTSIDE) if source is None else ""
            key = (name.casefold(), source.pk if source else None, organisation)
            if key in names:
                continue
            names.add(key)
            participants.append(
                Participant(
                    programme=programme,
                    session=session,
                    name=name,
                    sex=_pick(rng, ((Sex.FEMALE, 0.62), (Sex.MALE, 0.37), (Sex.NOT_STATED, 0.01))),
                    role=_pick(rng, ROLE_MIX[Audience(course.audience)]),
                    factory=source,
                    organisation=organisation,
                )
            )
        Participant.objects.bulk_create(participants)
        held = [day for day in days if day.date <= today]
        Attendance.objects.bulk_create(
            [
                Attendance(programme=programme, participant=p, day=day)
                for p in participants
                for day in held
                if rng.random() < 0.92
            ]
        )
        if held and dates[-1] <= today:
            Evaluation.objects.bulk_create(
                [
                    Evaluation(
                        programme=programme,
                        participant=p,
                        overall=rng.choice((3, 4, 4, 5, 5)),
                        content=rng.choice((3, 4, 4, 5)),
                        trainers=rng.choice((3, 4, 5, 5)),
                        usefulness=rng.choice((2, 3, 4, 4, 5)),
                    )
                    for p in participants
                    if rng.random() < 0.7
                ]
            )
    return count
