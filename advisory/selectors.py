"""Read queries of the improvement plan and progress reports, scoped and joined for their pages."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Count, F, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404

from advisory.models import (
    OPEN_STATUSES,
    AdvisoryVisit,
    Committee,
    CommitteeMember,
    DiagnosisStatus,
    ImprovementPlan,
    ItemStatus,
    Meeting,
    PlanItem,
    PlanItemComment,
    PlanItemEvidence,
    ProgressReport,
    ProgressStatus,
    SelfDiagnosis,
    Side,
)
from assessments.models import Answer, AnswerValue, Assessment, AssessmentStatus
from betterwork import permissions
from betterwork.models import Programme
from betterwork.permissions import Principal
from factories.models import Factory
from training import selectors as training_selectors
from training.selectors import SubqueryCount

# --- Access ----------------------------------------------------------------------------------


def access_advisory_factory(
    *, principal: Principal, programme: Programme, factory_id: int, may: Callable[[Principal, Factory], bool]
) -> Factory:
    """A factory of the programme if ``may`` lets this principal at its advisory records (its plan,
    committees, visits, self-diagnosis: committee members reach some that the factory page hides);
    absent and forbidden alike answer 404."""
    factory = (
        Factory.objects.filter(programme=programme, pk=factory_id)
        .select_related("programme", "designated_advisor")
        .first()
    )
    if factory is None or not may(principal, factory):
        raise Http404
    return factory


# --- Plans ------------------------------------------------------------------------------------


def factory_plans(*, factory: Factory) -> QuerySet[ImprovementPlan]:
    return ImprovementPlan.objects.filter(factory=factory).select_related("assessment").order_by("-cycle")


def access_plan(*, principal: Principal, programme: Programme, plan_id: int) -> ImprovementPlan:
    plan = (
        ImprovementPlan.objects.filter(programme=programme, pk=plan_id)
        .select_related("factory__programme", "factory__designated_advisor", "assessment")
        .first()
    )
    if plan is None or not permissions.can_view_plan(principal, plan.factory):
        raise Http404
    return plan


def plannable_assessment(*, factory: Factory) -> Assessment | None:
    """The factory's latest reported assessment whose cycle has no plan tied to it yet."""
    planned = ImprovementPlan.objects.filter(factory=factory, assessment__isnull=False).values("cycle")
    return (
        Assessment.objects.filter(
            factory=factory, status__in=[AssessmentStatus.FINAL, AssessmentStatus.PUBLISHED]
        )
        .exclude(cycle__in=planned)
        .order_by("-cycle")
        .first()
    )


@dataclass(frozen=True)
class ItemFilters:
    status: str = ""
    overdue: bool = False
    publicly_reported: bool = False


def plan_items(
    *, plan: ImprovementPlan, today: dt.date, filters: ItemFilters | None = None
) -> QuerySet[PlanItem]:
    """The plan's items with what their rows show, in a fixed number of queries whatever their number."""
    qs = (
        PlanItem.objects.filter(plan=plan)
        .select_related("question__point__cluster", "committee_owner", "carried_from__plan", "verified_by")
        .annotate(
            evidence_count=SubqueryCount(PlanItemEvidence.objects.filter(item=OuterRef("pk")).values("pk")),
            comment_count=SubqueryCount(PlanItemComment.objects.filter(item=OuterRef("pk")).values("pk")),
        )
    )
    filters = filters or ItemFilters()
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.overdue:
        qs = qs.filter(status__in=OPEN_STATUSES, due_on__lt=today)
    if filters.publicly_reported:
        qs = qs.filter(publicly_reported=True)
    return qs


def _summary_counts(today: dt.date, items: str = "") -> dict[str, Count]:
    """A plan's items counted by state; ``items`` is the path to them from the model queried."""

    def where(**conditions: Any) -> Q:
        return Q(**{items + key: value for key, value in conditions.items()})

    key = items + "id"
    return {
        "total": Count(key),
        "not_started": Count(key, filter=where(status=ItemStatus.NOT_STARTED)),
        "in_progress": Count(key, filter=where(status=ItemStatus.IN_PROGRESS)),
        "done": Count(key, filter=where(status=ItemStatus.DONE)),
        "verified": Count(key, filter=where(status=ItemStatus.VERIFIED)),
        "overdue": Count(key, filter=where(status__in=OPEN_STATUSES, due_on__lt=today)),
        "awaiting_verification": Count(key, filter=where(status=ItemStatus.DONE, publicly_reported=True)),
        "no_due_date": Count(key, filter=where(status__in=OPEN_STATUSES, due_on__isnull=True)),
    }


def plan_summary(*, plan: ImprovementPlan, today: dt.date) -> dict[str, int]:
    counts = PlanItem.objects.filter(plan=plan).aggregate(**_summary_counts(today))
    return {key: value or 0 for key, value in counts.items()}


def plan_summaries(*, plan_ids: list[int], today: dt.date) -> dict[int, dict[str, int]]:
    """``plan_summary`` for many plans in one grouped query: plan id → its counts."""
    if not plan_ids:
        return {}
    rows = (
        ImprovementPlan.objects.filter(pk__in=plan_ids)
        .values("pk")
        .annotate(**_summary_counts(today, items="items__"))
    )
    return {row.pop("pk"): row for row in rows}


def factory_plans_summarised(*, factory: Factory, today: dt.date) -> list[ImprovementPlan]:
    """A factory's plans, newest cycle first, each with ``summary`` (as ``plan_summary`` counts
    it) and ``reports`` (its progress reports): two queries however many plans."""
    counts = _summary_counts(today, items="items__")
    plans: list[ImprovementPlan] = list(
        factory_plans(factory=factory)
        .select_related("factory__programme")
        .annotate(**{f"summary_{key}": count for key, count in counts.items()})
        .prefetch_related(
            Prefetch(
                "progress_reports", queryset=ProgressReport.objects.order_by("number"), to_attr="reports"
            )
        )
    )
    for plan in plans:
        plan.summary = {key: getattr(plan, f"summary_{key}") for key in counts}  # type: ignore[attr-defined]
    return plans


def findings_not_in_plan(*, plan: ImprovementPlan) -> list[Answer]:
    """The assessment's non-compliant findings that have no item yet."""
    if plan.assessment_id is None:
        return []
    have = PlanItem.objects.filter(plan=plan).exclude(question_key="").values("question_key")
    return list(
        Answer.objects.filter(assessment_id=plan.assessment_id, value=AnswerValue.NON_COMPLIANT)
        .exclude(question__key__in=have)
        .select_related("question__point")
        .order_by("question__order")
    )


def submitted_self_diagnosis(*, factory: Factory) -> SelfDiagnosis | None:
    return (
        SelfDiagnosis.objects.filter(factory=factory, status=DiagnosisStatus.SUBMITTED)
        .order_by("-submitted_at")
        .first()
    )


def committee_members_for_choice(*, factory: Factory) -> QuerySet[CommitteeMember]:
    """Current members of the factory's active committees, who may own items."""
    return (
        CommitteeMember.objects.filter(
            committee__factory=factory, committee__is_active=True, term_ends_on__isnull=True
        )
        .select_related("committee__kind")
        .order_by("name")
    )


def access_item(*, principal: Principal, programme: Programme, item_id: int) -> PlanItem:
    item = (
        PlanItem.objects.filter(programme=programme, pk=item_id)
        .select_related(
            "plan__factory__programme",
            "plan__factory__designated_advisor",
            "question",
            "committee_owner",
            "verified_by",
            "carried_from__plan",
        )
        .first()
    )
    if item is None or not permissions.can_view_plan(principal, item.plan.factory):
        raise Http404
    return item


def item_comments(*, item: PlanItem) -> QuerySet[PlanItemComment]:
    return PlanItemComment.objects.filter(item=item).select_related("author")


def item_evidence(*, item: PlanItem) -> QuerySet[PlanItemEvidence]:
    return PlanItemEvidence.objects.filter(item=item).select_related("uploaded_by")


def access_evidence(*, item: PlanItem, evidence_id: int) -> PlanItemEvidence:
    evidence = PlanItemEvidence.objects.filter(item=item, pk=evidence_id).first()
    if evidence is None:
        raise Http404
    return evidence


# --- The programme's view -------------------------------------------------------------------


def overdue_by_factory(*, programme: Programme, today: dt.date) -> QuerySet[Factory]:
    """Factories with overdue items, the most overdue first."""
    overdue = Q(plans__items__status__in=OPEN_STATUSES, plans__items__due_on__lt=today)
    return (
        Factory.objects.filter(programme=programme)
        .annotate(overdue=Count("plans__items", filter=overdue))
        .filter(overdue__gt=0)
        .select_related("designated_advisor")
        .order_by("-overdue", "name")
    )


def progress_reports(*, programme: Programme) -> QuerySet[ProgressReport]:
    return (
        ProgressReport.objects.filter(programme=programme)
        .select_related("factory", "plan")
        .order_by("due_on", "factory__name")
    )


def progress_reports_due(
    *, programme: Programme, today: dt.date, within_days: int = 30
) -> QuerySet[ProgressReport]:
    """Reports not yet submitted that are overdue or fall due soon."""
    return progress_reports(programme=programme).filter(
        status=ProgressStatus.DRAFT, due_on__lte=today + dt.timedelta(days=within_days)
    )


def access_progress_report(*, principal: Principal, programme: Programme, report_id: int) -> ProgressReport:
    report = (
        ProgressReport.objects.filter(programme=programme, pk=report_id)
        .select_related(
            "factory__programme", "factory__designated_advisor", "plan__assessment", "submitted_by"
        )
        .first()
    )
    if report is None or not permissions.can_view_plan(principal, report.factory):
        raise Http404
    return report


def plan_progress_reports(*, plan: ImprovementPlan) -> QuerySet[ProgressReport]:
    return ProgressReport.objects.filter(plan=plan).order_by("number")


# --- The programme's export -------------------------------------------------------------------


def programme_plan_items(*, programme: Programme) -> Iterator[PlanItem]:
    """Every item of the programme's plans with what its export row shows (factory, cycle, owner,
    verifier, the plan's assessment), by factory and cycle, read 2,000 at a time: the same
    queries for ten items or a hundred thousand."""
    return (
        PlanItem.objects.filter(programme=programme)
        .select_related("plan__factory", "committee_owner")
        .annotate(
            assessment_final_at=F("plan__assessment__final_at"),
            carried_from_cycle=F("carried_from__plan__cycle"),
            verified_by_name=Coalesce(
                NullIf(F("verified_by__full_name"), Value("")),
                F("verified_by__email"),
                output_field=CharField(),
            ),
        )
        .order_by(
            "plan__factory__name", "plan__factory_id", "plan__cycle", "-publicly_reported", "due_on", "id"
        )
        .iterator(chunk_size=2000)
    )


# --- What a progress report says ------------------------------------------------------------


def progress_snapshot(*, report: ProgressReport, today: dt.date) -> dict[str, Any]:
    """Everything a progress report shows, as plain data: the plan, the committees and their
    meetings, the advisory visits and the training since the plan began. Submitting freezes it."""
    plan = report.plan
    factory = report.factory
    since = (
        plan.assessment.final_at.date()
        if plan.assessment and plan.assessment.final_at
        else plan.created_at.date()
    )
    items = list(plan_items(plan=plan, today=today).order_by("-publicly_reported", "due_on", "id"))
    statuses = Counter(item.status for item in items)
    committees = (
        Committee.objects.filter(factory=factory, is_active=True)
        .select_related("kind")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=CommitteeMember.objects.filter(term_ends_on__isnull=True).order_by("side", "name"),
            )
        )
    )
    meetings = (
        Meeting.objects.filter(committee__factory=factory, held_on__gte=since, held_on__lte=today)
        .select_related("committee__kind")
        .annotate(
            present=Count("attendance", distinct=True), decisions_count=Count("decisions", distinct=True)
        )
        .order_by("held_on")
    )
    visits = AdvisoryVisit.objects.filter(
        factory=factory, visited_on__gte=since, visited_on__lte=today
    ).order_by("visited_on")
    training = [
        s
        for s in training_selectors.factory_sessions(factory=factory).filter(
            ends_on__gte=since, starts_on__lte=today
        )
        if s.factory_ptd  # type: ignore[attr-defined]
    ]
    return {
        "factory": {"name": factory.name, "public_id": factory.public_id},
        "number": report.number,
        "cycle": plan.cycle,
        "period": {"from": since.isoformat(), "to": today.isoformat()},
        "due_on": report.due_on.isoformat(),
        "items": {
            "total": len(items),
            "by_status": {status: statuses.get(status, 0) for status in ItemStatus.values},
            "overdue": sum(1 for i in items if i.status in OPEN_STATUSES and i.due_on and i.due_on < today),
            "rows": [
                {
                    "key": item.question_key,
                    "finding": item.finding,
                    "publicly_reported": item.publicly_reported,
                    "action": item.action,
                    "responsible": item.responsible,
                    "due_on": item.due_on.isoformat() if item.due_on else None,
                    "status": item.status,
                    "evidence": item.evidence_count,  # type: ignore[attr-defined]
                }
                for item in items
            ],
        },
        "committees": [
            {
                "kind": committee.kind.name,
                "management": sum(1 for m in committee.members.all() if m.side == Side.MANAGEMENT),
                "workers": sum(1 for m in committee.members.all() if m.side == Side.WORKER),
                "women": sum(1 for m in committee.members.all() if m.sex == "female"),
                # No names: buyers read this report, and members' names are personal data.
                "members": [{"side": m.side, "role": m.role, "sex": m.sex} for m in committee.members.all()],
            }
            for committee in committees
        ],
        "meetings": [
            {
                "committee": meeting.committee.kind.name,
                "held_on": meeting.held_on.isoformat(),
                "present": meeting.present,  # type: ignore[attr-defined]
                "decisions": meeting.decisions_count,  # type: ignore[attr-defined]
            }
            for meeting in meetings
        ],
        "visits": [
            {
                "visited_on": visit.visited_on.isoformat(),
                "mode": visit.mode,
                "joint": visit.with_labour_inspector or visit.with_union,
                "topics": visit.topics,
            }
            for visit in visits
        ],
        "training": [
            {
                "course": session.course.title,
                "starts_on": session.starts_on.isoformat(),
                "participants": session.factory_participants,  # type: ignore[attr-defined]
                "participant_days": session.factory_ptd,  # type: ignore[attr-defined]
            }
            for session in training
        ],
        "publicly_reported": [
            {"key": item.question_key, "finding": item.finding, "status": item.status}
            for item in items
            if item.publicly_reported
        ],
    }
