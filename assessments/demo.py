"""Demo assessments: the published global tool, and two cycles for many demo factories, with
the non-compliance patterns programmes report (overtime, emergency exits, chemicals and pay are
common; child and forced labour rare), fewer in the second cycle."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from django.db.models import Count
from django.utils import timezone

from assessments import services
from assessments.models import (
    Answer,
    AnswerValue,
    Assessment,
    AssessmentAssessor,
    AssessmentStatus,
    EvidenceSource,
    InterviewKind,
    InterviewNote,
    Question,
    Round,
    ToolVersion,
)
from betterwork.demo import DEMO_DOMAIN, DemoContext
from betterwork.models import User
from factories.models import EnrolmentStatus, Factory

TOOL_DIR = Path(__file__).resolve().parent / "tool"
# How often a question is found non-compliant in a first assessment; the rest use BASE_RATE.
COMMON_ISSUES = {
    "WT-05": 0.62,
    "CO-05": 0.34,
    "CO-06": 0.28,
    "OSH-30": 0.48,
    "OSH-31": 0.36,
    "OSH-33": 0.31,
    "OSH-35": 0.30,
    "OSH-07": 0.42,
    "OSH-06": 0.35,
    "OSH-11": 0.33,
    "OSH-10": 0.27,
    "OSH-34": 0.25,
    "CO-23": 0.22,
    "CO-15": 0.20,
    "CH-12": 0.24,
    "CH-01": 0.12,
    "OSH-14": 0.26,
    "OSH-24": 0.21,
    "WT-02": 0.18,
    "CO-19": 0.16,
    "CO-14": 0.09,
    "DI-10": 0.19,
}
BASE_RATE = 0.05
RARE = ("CL", "FL")  # core-standard breaches are rare, and each one opens a case
SECOND_CYCLE_FACTOR = 0.6
FINDINGS = (
    "Seen during the walk-through of building {n}, confirmed by {k} workers interviewed.",
    "Records for the last three months show this on {k} of the sampled weeks.",
    "Management confirmed it; it affects about {k}0 workers on line {n}.",
)
# Interview notes of a visit: who (described, as assessors often do, or a made-up name) and what.
INTERVIEWS = (
    (
        InterviewKind.MANAGEMENT,
        "HR manager and payroll clerk",
        "Overtime is planned a week ahead and posted on the board; the clerk showed the register.",
    ),
    (
        InterviewKind.WORKERS,
        "{k} sewing operators, line {n} (chosen at random, met away from supervisors)",
        "Most said overtime is asked before shipments and refusing is hard; pay slips arrive on time.",
    ),
    (
        InterviewKind.UNION,
        "Demo Sophea, union shop steward",
        "Meetings are held without management present; dues are deducted on request.",
    ),
)
STATES_OF_LATEST = (
    (AssessmentStatus.PUBLISHED, 45),
    (AssessmentStatus.FINAL, 20),
    (AssessmentStatus.FACTORY_REVIEW, 8),
    (AssessmentStatus.IN_REVIEW, 6),
    (AssessmentStatus.SUBMITTED, 5),
    (AssessmentStatus.IN_PROGRESS, 8),
    (AssessmentStatus.PLANNED, 8),
)


def seed(ctx: DemoContext) -> Iterator[str]:
    services.points_load(data=yaml.safe_load((TOOL_DIR / "points.yaml").read_text(encoding="utf-8")))
    tool, _ = services.tool_load(
        data=yaml.safe_load((TOOL_DIR / "global.yaml").read_text(encoding="utf-8")), publish=True
    )
    tool.effective_from = min(tool.effective_from, dt.date(2020, 1, 1))  # the demo's history uses it too
    tool.save(update_fields=["effective_from"])
    for path in sorted(TOOL_DIR.glob("[A-Z][A-Z]-*.yaml")):  # country versions, for the programmes here
        country = yaml.safe_load(path.read_text(encoding="utf-8"))
        if country["tool"] in ctx.programmes:
            services.tool_load(data=country, publish=True)
    for path in sorted((TOOL_DIR / "translations").glob("global-*.yaml")):  # the template in more languages
        services.tool_translation_load(data=yaml.safe_load(path.read_text(encoding="utf-8")))
    questions = list(Question.objects.filter(version=tool).select_related("point"))
    for code, (_facts, programme) in ctx.programmes.items():
        staff = list(
            User.objects.filter(
                email__in=[
                    f"advisor.{code.lower()}@{DEMO_DOMAIN}",
                    f"teamleader.{code.lower()}@{DEMO_DOMAIN}",
                ]
            )
        )
        factories = (
            Factory.objects.filter(
                programme=programme,
                legacy_id__startswith="DEMO-",
                enrolment_status__in=[EnrolmentStatus.ACTIVE, EnrolmentStatus.SUSPENDED],
            )
            .annotate(assessed=Count("assessments"))
            .order_by("public_id")
        )
        rounds = _rounds(programme)
        created = 0
        # The demo factory user's factory (the first) always has a history to show.
        first = (
            Factory.objects.filter(programme=programme, legacy_id__startswith="DEMO-")
            .order_by("public_id")
            .first()
        )
        for factory in factories:
            # One random stream per factory: a second run makes the same choices and skips it.
            rng = ctx.rng("assessments", factory.public_id)
            not_yet = rng.random() > 0.6  # not every factory has been assessed yet
            if factory.assessed or (not_yet and factory != first):
                continue
            created += _factory_history(factory, tool, questions, staff, rng, rounds)
        yield f"{code}: {created} assessments created"


def _rounds(programme: Any) -> list[Round]:
    """Half-year rounds from 2024 to 2027, as many programmes plan their visits."""
    rounds = []
    for year in range(2024, 2028):
        for half, (start, end) in enumerate(
            ((dt.date(year, 1, 1), dt.date(year, 6, 30)), (dt.date(year, 7, 1), dt.date(year, 12, 31))),
            start=1,
        ):
            found, _created = Round.objects.get_or_create(
                programme=programme,
                name=f"{year} round {half}",
                defaults={"starts_on": start, "ends_on": end},
            )
            rounds.append(found)
            # Demo visits planned before rounds existed join the round of their date.
            Assessment.objects.filter(
                programme=programme,
                factory__legacy_id__startswith="DEMO-",
                round__isnull=True,
                planned_date__range=(found.starts_on, found.ends_on),
            ).update(round=found)
    return rounds


def _factory_history(
    factory: Factory,
    tool: ToolVersion,
    questions: list[Question],
    staff: list[User],
    rng: random.Random,
    rounds: list[Round],
) -> int:
    first_visit = dt.date(2024, rng.randint(1, 12), rng.randint(1, 28))
    cycles = [(1, first_visit, AssessmentStatus.PUBLISHED)]
    if rng.random() < 0.8:
        states = STATES_OF_LATEST
        latest = rng.choices([s for s, _ in states], weights=[w for _, w in states])[0]
        cycles.append((2, first_visit + dt.timedelta(days=rng.randint(330, 420)), latest))
    previous_nc: set[int] = set()
    for cycle, visit, status in cycles:
        in_round = next((r for r in rounds if r.starts_on <= visit <= r.ends_on), None)
        assessment = _assessment(factory, tool, cycle, visit, status, staff, in_round)
        if status != AssessmentStatus.PLANNED:
            previous_nc = _answers(assessment, questions, cycle, previous_nc, status, rng)
            _interview_notes(assessment, visit, staff)
    return len(cycles)


def _interview_notes(assessment: Assessment, visit: dt.date, staff: list[User]) -> None:
    """The confidential notes of the visit's interviews (only the team reads them). A random
    stream of their own: the factory's stream, and so the rest of the demo, stays as it was."""
    rng = random.Random(f"interviews {assessment.factory.public_id} {assessment.cycle}")
    kinds = INTERVIEWS if rng.random() >= 0.4 else INTERVIEWS[:2]  # not every factory has a union
    InterviewNote.objects.bulk_create(
        InterviewNote(
            programme_id=assessment.programme_id,
            assessment=assessment,
            kind=kind,
            held_on=visit + dt.timedelta(days=min(n, 1)),
            interviewees=who.format(k=rng.randint(3, 8), n=rng.randint(1, 9)),
            notes=notes,
            author=staff[n % len(staff)] if staff else None,
        )
        for n, (kind, who, notes) in enumerate(kinds)
    )


def _assessment(
    factory: Factory,
    tool: ToolVersion,
    cycle: int,
    visit: dt.date,
    status: str,
    staff: list[User],
    in_round: Round | None,
) -> Assessment:
    done = status in (AssessmentStatus.FINAL, AssessmentStatus.PUBLISHED, AssessmentStatus.FACTORY_REVIEW)
    moment = timezone.make_aware(dt.datetime.combine(visit + dt.timedelta(days=56), dt.time(10)))
    assessment = Assessment(
        programme_id=factory.programme_id,
        factory=factory,
        tool_version=tool,
        cycle=cycle,
        round=in_round,
        status=status,
        planned_date=visit,
        due_date=visit + dt.timedelta(days=56),
        visit_started_on=None if status == AssessmentStatus.PLANNED else visit,
        visit_ended_on=None if status == AssessmentStatus.PLANNED else visit + dt.timedelta(days=1),
        person_days=None if status == AssessmentStatus.PLANNED else 4,
        interviews={} if status == AssessmentStatus.PLANNED else {"management": 3, "workers": 24, "union": 2},
        submitted_at=moment if done else None,
        factory_review_until=visit + dt.timedelta(days=70) if done else None,
        final_at=moment + dt.timedelta(days=21)
        if status in (AssessmentStatus.FINAL, AssessmentStatus.PUBLISHED)
        else None,
        published_at=moment + dt.timedelta(days=28) if status == AssessmentStatus.PUBLISHED else None,
    )
    assessment.save()
    for n, user in enumerate(staff):
        AssessmentAssessor(
            programme_id=factory.programme_id, assessment=assessment, user=user, lead=n == 0
        ).save()
    return assessment


def _answers(
    assessment: Assessment,
    questions: list[Question],
    cycle: int,
    previous_nc: set[int],
    status: str,
    rng: random.Random,
) -> set[int]:
    partial = status == AssessmentStatus.IN_PROGRESS
    factor = SECOND_CYCLE_FACTOR if cycle > 1 else 1.0
    answers: list[Answer] = []
    non_compliant: set[int] = set()
    for question in questions:
        if partial and rng.random() < 0.45:
            continue  # an assessment in progress is partly answered
        rate = COMMON_ISSUES.get(question.key, BASE_RATE) * factor
        if question.key.split("-")[0] in RARE:
            rate = 0.01
        if question.pk in previous_nc:
            rate = min(0.9, rate + 0.35)  # persisting issues are the likeliest
        value = (
            AnswerValue.NON_COMPLIANT
            if rng.random() < rate
            else (AnswerValue.NOT_APPLICABLE if rng.random() < 0.04 else AnswerValue.COMPLIANT)
        )
        values: dict[str, Any] = {"value": value, "evidence": rng.sample(list(EvidenceSource.values), 2)}
        if value == AnswerValue.NON_COMPLIANT:
            non_compliant.add(question.pk)
            values["finding"] = rng.choice(FINDINGS).format(n=rng.randint(1, 4), k=rng.randint(2, 9))
        answers.append(
            Answer(programme_id=assessment.programme_id, assessment=assessment, question=question, **values)
        )
    Answer.objects.bulk_create(answers)
    return non_compliant
