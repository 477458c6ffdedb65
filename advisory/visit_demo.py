"""Demo advisory visits and self-diagnoses.

Visits: for the programme's active demo factories (at most ``MAX_FACTORIES``, always with the
first by public id, the demo factory user's), 6 to 10 visits a year over the last 18 months by
the programme's demo advisor, now and then with the team leader, about 15% joint with a labour
inspector or the union. Self-diagnoses: a submitted one for a handful of factories in initial
advisory, on the tool in force. Idempotent: factories with visits, or with a self-diagnosis,
are left as they are.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from datetime import UTC

from django.core.exceptions import ValidationError

from advisory import diagnosis_selectors
from advisory.models import (
    AdvisoryVisit,
    DiagnosisAnswer,
    DiagnosisStatus,
    PlanItem,
    SelfDiagnosis,
    VisitAdvisor,
    VisitItem,
    VisitMode,
)
from assessments.lifecycle import tool_for
from assessments.models import Question
from betterwork.demo import DEMO_DOMAIN, DemoContext
from betterwork.models import Programme, Role, RoleGrant, User
from factories.models import EnrolmentStatus, Factory

MAX_FACTORIES = 60
HISTORY_DAYS = 548  # about 18 months
JOINT_SHARE = 0.15
DIAGNOSES_PER_PROGRAMME = 5
TOPICS = (
    "Reviewed the improvement plan with the PICC: {item}.",
    "Walk-through of the sewing floor and the warehouse: emergency exits, fire extinguishers and first-aid kits.",
    "Coached the HR team on the overtime register and the consent forms for overtime.",
    "Supported the PICC meeting: agenda, minutes and follow-up of last month's decisions.",
    "Explained the payslip format and how deductions must be shown to workers.",
    "Chemical storage and labelling in the printing section; safety data sheets.",
    "Prepared the worker representatives' election with management and the union.",
    "Grievance procedure: how complaints are received, recorded and answered.",
    "Heat in the cutting section: ventilation, drinking water and rest breaks.",
    "Checked the young-worker register and the age-verification procedure.",
    "Progress on the publicly reported issues before the next assessment.",
    "Leave records and the calculation of annual leave pay.",
)
ITEM_HINTS = ("overtime", "emergency exits", "chemicals", "wage deductions", "leave pay", "the committee")
FOLLOW_UPS = (
    "HR to update the overtime register weekly; advisor to check it at the next visit.",
    "Safety officer to clear the blocked exit and post the evacuation map by the end of the month.",
    "PICC to add the item to its next meeting and report back.",
    "Management to share the revised payslip with the workers' representatives.",
    "Factory to send photos of the new chemical labels.",
    "",
)
NOTES = (
    "Found while checking the records of the last three months.",
    "Workers' representatives raised this in the committee.",
    "Seen during our own walk-through of the production floor.",
    "",
)


def seed_visits(ctx: DemoContext) -> Iterator[str]:
    for code, (_facts, programme) in ctx.programmes.items():
        advisor = User.objects.filter(email=f"advisor.{code.lower()}@{DEMO_DOMAIN}").first()
        if advisor is None:
            yield f"{code}: no demo advisor, no advisory visits"
            continue
        leader = User.objects.filter(email=f"teamleader.{code.lower()}@{DEMO_DOMAIN}").first()
        visits = _visits(programme, advisor, leader, ctx)
        diagnoses = _diagnoses(programme, advisor, ctx)
        yield f"{code}: {visits} advisory visits, {diagnoses} self-diagnoses"


def _demo_factories(programme: Programme) -> list[Factory]:
    demo = Factory.objects.filter(programme=programme, legacy_id__startswith="DEMO-").order_by("public_id")
    first = demo.first()
    if first is None:
        return []
    active = list(
        demo.filter(enrolment_status=EnrolmentStatus.ACTIVE).exclude(pk=first.pk)[: MAX_FACTORIES - 1]
    )
    return [first, *active]


def _visits(programme: Programme, advisor: User, leader: User | None, ctx: DemoContext) -> int:
    factories = _demo_factories(programme)
    visited = set(
        AdvisoryVisit.objects.filter(factory__in=factories).values_list("factory_id", flat=True).distinct()
    )
    items: dict[int, list[int]] = {}
    for factory_id, item_id in PlanItem.objects.filter(plan__factory__in=factories).values_list(
        "plan__factory_id", "id"
    ):
        items.setdefault(factory_id, []).append(item_id)
    today = programme.today()
    new: list[AdvisoryVisit] = []
    people: list[list[User]] = []
    linked: list[list[int]] = []
    for factory in factories:
        if factory.pk in visited:
            continue
        rng = ctx.rng("visits", factory.public_id)  # one stream per factory: reruns choose the same
        count = round(rng.uniform(6, 10) * HISTORY_DAYS / 365)
        days = sorted({today - dt.timedelta(days=rng.randint(0, HISTORY_DAYS)) for _ in range(count)})
        for day in days:
            joint = rng.random() < JOINT_SHARE
            inspector = joint and (not factory.union_present or rng.random() < 0.6)
            union = joint and factory.union_present and (not inspector or rng.random() < 0.3)
            new.append(
                AdvisoryVisit(
                    programme=programme,
                    factory=factory,
                    visited_on=day,
                    mode=VisitMode.VIRTUAL if rng.random() < 0.12 else VisitMode.ON_SITE,
                    with_labour_inspector=inspector,
                    with_union=union,
                    topics=rng.choice(TOPICS).format(item=rng.choice(ITEM_HINTS)),
                    follow_ups=rng.choice(FOLLOW_UPS),
                    created_by=advisor,
                )
            )
            people.append([advisor, leader] if leader is not None and rng.random() < 0.2 else [advisor])
            own = items.get(factory.pk, [])
            linked.append(rng.sample(own, k=min(len(own), rng.randint(0, 2))) if own else [])
    AdvisoryVisit.objects.bulk_create(new)
    VisitAdvisor.objects.bulk_create(
        [
            VisitAdvisor(programme=programme, visit=visit, user=user)
            for visit, users in zip(new, people, strict=True)
            for user in users
        ]
    )
    VisitItem.objects.bulk_create(
        [
            VisitItem(programme=programme, visit=visit, item_id=pk)
            for visit, pks in zip(new, linked, strict=True)
            for pk in pks
        ]
    )
    return len(new)


def _diagnoses(programme: Programme, advisor: User, ctx: DemoContext) -> int:
    try:
        version = tool_for(programme_code=programme.code, on=programme.today())
    except ValidationError:
        return 0  # no published tool: the assessments demo loads it
    if SelfDiagnosis.objects.filter(programme=programme).exists():
        return 0  # seeded before: a handful is enough
    factories = list(
        Factory.objects.filter(
            programme=programme,
            legacy_id__startswith="DEMO-",
            enrolment_status=EnrolmentStatus.INITIAL_ADVISORY,
        ).order_by("public_id")[:DIAGNOSES_PER_PROGRAMME]
    )
    if not factories:
        return 0
    questions: list[Question] = list(diagnosis_selectors.diagnosis_questions(version=version))
    factory_users = dict(
        RoleGrant.objects.filter(role=Role.FACTORY, factory__in=factories).values_list(
            "factory_id", "user_id"
        )
    )
    users = {u.pk: u for u in User.objects.filter(pk__in=factory_users.values())}
    made = 0
    for factory in factories:
        rng = ctx.rng("self-diagnosis", factory.public_id)
        submitted = programme.today() - dt.timedelta(days=rng.randint(5, 60))
        diagnosis = SelfDiagnosis.objects.create(
            programme=programme,
            factory=factory,
            tool_version=version,
            status=DiagnosisStatus.SUBMITTED,
            submitted_at=dt.datetime.combine(submitted, dt.time(10, 0), tzinfo=UTC),
            submitted_by=users.get(factory_users.get(factory.pk, 0), advisor),
        )
        DiagnosisAnswer.objects.bulk_create([_answer(programme, diagnosis, q, rng) for q in questions])
        made += 1
    return made


def _answer(
    programme: Programme, diagnosis: SelfDiagnosis, question: Question, rng: random.Random
) -> DiagnosisAnswer:
    cluster = question.point.cluster.code
    # Factories find few core-standard breaches in themselves, more in safety and health.
    chance = 0.03 if cluster in ("CL", "FL") else 0.22 if cluster == "OSH" else 0.08
    draw = rng.random()
    value = "NC" if draw < chance else "NA" if draw > 0.95 else "C"
    return DiagnosisAnswer(
        programme=programme,
        diagnosis=diagnosis,
        question=question,
        value=value,
        note=rng.choice(NOTES) if value == "NC" else "",
    )
