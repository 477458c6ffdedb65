"""Demo advisory work: improvement plans made from the demo assessments' findings, followed up to
various points, Progress Report 1 submitted by some factories; then committees and visits (their
own modules)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

from django.db.models import Max
from django.utils import timezone

from advisory.committee_demo import seed_committees
from advisory.models import (
    ImprovementPlan,
    ItemPriority,
    ItemStatus,
    PlanItem,
    ProgressReport,
    ProgressStatus,
)
from advisory.selectors import progress_snapshot
from advisory.visit_demo import seed_visits
from assessments.models import Answer, Assessment, AssessmentStatus
from betterwork.demo import DEMO_DOMAIN, DemoContext
from betterwork.models import Programme, User

PLANS_PER_PROGRAMME = 60
ACTIONS = (
    "Review the procedure with the committee and train the supervisors concerned",
    "Fix the equipment and check it every week",
    "Update the records and have them signed by workers",
    "Agree a schedule with the union and post it on the notice boards",
    "Buy the missing equipment and assign someone to keep it",
)
RESPONSIBLE = ("HR manager", "Compliance officer", "Production manager", "Safety officer", "Admin manager")


def seed(ctx: DemoContext) -> Iterator[str]:
    # Plans first: committee meetings' decisions and visits name their items.
    for code, (_facts, programme) in ctx.programmes.items():
        made = _plans(programme, ctx.rng("plans", code))
        yield f"{code}: {made} improvement plans"
    yield from seed_committees(ctx)
    yield from seed_visits(ctx)


def _plans(programme: Programme, rng: random.Random) -> int:
    advisor = User.objects.filter(email=f"advisor.{programme.code.lower()}@{DEMO_DOMAIN}").first()
    today = programme.today()
    planned = set(ImprovementPlan.objects.filter(programme=programme).values_list("factory_id", "cycle"))
    # Each factory's latest final assessment; the demo factory user's factory first.
    latest = (
        Assessment.objects.filter(
            programme=programme, status__in=[AssessmentStatus.FINAL, AssessmentStatus.PUBLISHED]
        )
        .values("factory_id")
        .annotate(cycle=Max("cycle"))
        .order_by("factory_id")
    )
    wanted = [(row["factory_id"], row["cycle"]) for row in latest][:PLANS_PER_PROGRAMME]
    made = 0
    for factory_id, cycle in wanted:
        if (factory_id, cycle) in planned:
            continue
        assessment = Assessment.objects.select_related("factory").get(factory_id=factory_id, cycle=cycle)
        plan = ImprovementPlan.objects.create(
            programme=programme, factory_id=factory_id, cycle=cycle, assessment=assessment, created_by=advisor
        )
        final_on = timezone.localdate(assessment.final_at) if assessment.final_at else today
        answers = Answer.objects.filter(assessment=assessment, value="NC").select_related("question")
        items = []
        for answer in answers:
            status = rng.choices(
                list(ItemStatus.values), weights=(3, 4, 2, 1 if answer.question.publicly_reported else 0)
            )[0]
            due = final_on + dt.timedelta(days=rng.choice((30, 60, 90, 120, 180)))
            items.append(
                PlanItem(
                    programme=programme,
                    plan=plan,
                    source="assessment",
                    question=answer.question,
                    question_key=answer.question.key,
                    finding=answer.finding or answer.question.display_text,
                    publicly_reported=answer.question.publicly_reported,
                    root_cause=rng.choice(("", "No written procedure", "Nobody in charge", "Cost")),
                    action=rng.choice(ACTIONS) if status != ItemStatus.NOT_STARTED else "",
                    responsible=rng.choice(RESPONSIBLE),
                    due_on=due,
                    priority=ItemPriority.HIGH
                    if answer.question.publicly_reported
                    else rng.choice(ItemPriority.values),
                    status=status,
                    done_on=min(due, today) if status in (ItemStatus.DONE, ItemStatus.VERIFIED) else None,
                    verified_by=advisor if status == ItemStatus.VERIFIED else None,
                    verified_at=timezone.now() if status == ItemStatus.VERIFIED else None,
                )
            )
        PlanItem.objects.bulk_create(items)
        for number, days in ((1, 30), (2, 180)):
            report = ProgressReport.objects.create(
                programme=programme,
                plan=plan,
                factory_id=factory_id,
                number=number,
                due_on=final_on + dt.timedelta(days=days),
            )
            if number == 1 and report.due_on < today and rng.random() < 0.7:
                report.snapshot = progress_snapshot(report=report, today=report.due_on)
                report.status = ProgressStatus.SUBMITTED
                report.submitted_at = timezone.now()
                report.factory_statement = (
                    "The committee reviewed the plan and its first actions are under way."
                )
                report.save()
        made += 1
    return made
