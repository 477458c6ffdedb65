"""The programme dashboard's figures, read from the rollups (``reporting.rollups``) and a handful of
grouped counts of other apps; never from the answers table. Drill-down (the factories behind a
figure) reads the counted assessments and, for one question or point, indexed answers.

Every figure follows the counting rules of DESIGN.md section 10 and says so on the page: a
factory counts once per cycle with its latest final assessment; a question's rate = factories
non-compliant ÷ factories answering it C or NC; a point is assessed when any of its questions is
and non-compliant when any is NC; a cluster's rate = the mean of its points' rates.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum

from advisory.models import OPEN_STATUSES, AdvisoryVisit, Committee, PlanItem
from assessments.models import (
    Answer,
    AnswerValue,
    Assessment,
    AssessmentStatus,
    Cluster,
    CompliancePoint,
    Question,
)
from betterwork.models import Programme
from factories.models import EnrolmentStatus, Factory
from reporting.models import (
    CountedAssessment,
    PointRollup,
    PointTotal,
    QuestionRollup,
    QuestionTotal,
    SegmentRollup,
)
from training.models import Attendance

TOP_ISSUES = 10


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters: empty means all. Synthesis reports also choose a set of cycles
    (``cycles``) or a range of visit years (``year_from`` to ``year_to``, both included)."""

    cycle: int | None = None
    year: int | None = None
    region: str = ""
    sector: str = ""
    size: str = ""
    union_present: bool | None = None
    cycles: tuple[int, ...] = ()
    year_from: int | None = None
    year_to: int | None = None

    def cells(self, prefix: str = "") -> Q:
        """The rollup cells (or counted assessments) these filters keep."""
        q = Q()
        for name in ("cycle", "year", "union_present"):
            value = getattr(self, name)
            if value is not None:
                q &= Q(**{f"{prefix}{name}": value})
        for name in ("region", "sector", "size"):
            value = getattr(self, name)
            if value:
                q &= Q(**{f"{prefix}{name}": value})
        if self.cycles:
            q &= Q(**{f"{prefix}cycle__in": list(self.cycles)})
        if self.year_from is not None:
            q &= Q(**{f"{prefix}year__gte": self.year_from})
        if self.year_to is not None:
            q &= Q(**{f"{prefix}year__lte": self.year_to})
        return q

    @property
    def segmented(self) -> bool:
        """Whether a filter narrows the cells below a programme's cycle and year."""
        return bool(self.region or self.sector or self.size or self.union_present is not None)

    def without_cycle(self) -> Filters:
        """The same filters across every cycle they allow (a chosen set of cycles stays)."""
        return replace(self, cycle=None)


@dataclass
class Rate:
    assessed: int = 0
    non_compliant: int = 0

    @property
    def share(self) -> float | None:
        return self.non_compliant / self.assessed if self.assessed else None


@dataclass
class PointRow:
    point: CompliancePoint
    rate: Rate


@dataclass
class ClusterRow:
    cluster: Cluster
    points: list[PointRow] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        """The mean of its assessed points' rates."""
        shares = [p.rate.share for p in self.points if p.rate.share is not None]
        return sum(shares) / len(shares) if shares else None


@dataclass
class QuestionRow:
    key: str
    question: Question
    rate: Rate


@dataclass
class Overview:
    factories_enrolled: int
    factories_assessed: int
    workers_female: int
    workers_male: int
    assessments_planned: int
    assessments_done: int
    visits: int
    training_days: int
    items_overdue: int
    factories_with_committee: int

    @property
    def workers(self) -> int:
        return self.workers_female + self.workers_male


def filter_choices(*, programme: Programme) -> dict[str, list[Any]]:
    """The values present in the programme's rollups, for the filter form."""
    cells = SegmentRollup.objects.filter(programme=programme)
    return {
        name: sorted({v for v in cells.values_list(name, flat=True).distinct() if v not in ("", None)})
        for name in ("cycle", "year", "region", "sector", "size")
    }


def overview(*, programme: Programme, filters: Filters, today: dt.date) -> Overview:
    """Headline figures: a few grouped counts, whatever the programme's size."""
    counted = (
        SegmentRollup.objects.filter(programme=programme)
        .filter(filters.cells())
        .aggregate(factories=Sum("factories"), female=Sum("workers_female"), male=Sum("workers_male"))
    )
    factories = Factory.objects.filter(programme=programme)
    if filters.region:
        factories = factories.filter(region=filters.region)
    if filters.sector:
        factories = factories.filter(sector=filters.sector)
    year = filters.year or today.year
    assessments = Assessment.objects.filter(programme=programme, planned_date__year=year).exclude(
        status=AssessmentStatus.CANCELLED
    )
    if filters.cycle:
        assessments = assessments.filter(cycle=filters.cycle)
    planned = assessments.aggregate(
        planned=Count("id"),
        done=Count("id", filter=Q(status__in=(AssessmentStatus.FINAL, AssessmentStatus.PUBLISHED))),
    )
    return Overview(
        factories_enrolled=factories.exclude(
            enrolment_status__in=(EnrolmentStatus.WITHDRAWN, EnrolmentStatus.REGISTERED)
        ).count(),
        factories_assessed=counted["factories"] or 0,
        workers_female=counted["female"] or 0,
        workers_male=counted["male"] or 0,
        assessments_planned=planned["planned"],
        assessments_done=planned["done"],
        visits=AdvisoryVisit.objects.filter(programme=programme, visited_on__year=year).count(),
        training_days=Attendance.objects.filter(programme=programme, day__date__year=year).count(),
        items_overdue=PlanItem.objects.filter(
            programme=programme, status__in=OPEN_STATUSES, due_on__lt=today
        ).count(),
        factories_with_committee=Committee.objects.filter(programme=programme, is_active=True)
        .values("factory_id")
        .distinct()
        .count(),
    )


def _points(filters: Filters) -> QuerySet[Any]:
    """Point cells, or their per-cycle-and-year totals when no segment filter is set."""
    return (PointRollup if filters.segmented else PointTotal).objects.all()


def _point_rates(programme: Programme, filters: Filters) -> dict[int, Rate]:
    rows = (
        _points(filters)
        .filter(programme=programme)
        .filter(filters.cells())
        .values("point_id")
        .annotate(assessed=Sum("assessed"), non_compliant=Sum("non_compliant"))
    )
    return {r["point_id"]: Rate(r["assessed"], r["non_compliant"]) for r in rows}


def clusters(*, programme: Programme, filters: Filters) -> list[ClusterRow]:
    """Non-compliance by cluster and compliance point (points never assessed are left out)."""
    rates = _point_rates(programme, filters)
    result: dict[int, ClusterRow] = {}
    for point in (
        CompliancePoint.objects.filter(pk__in=rates)
        .select_related("cluster")
        .order_by("cluster__order", "order", "code")
    ):
        row = result.setdefault(point.cluster_id, ClusterRow(cluster=point.cluster))
        row.points.append(PointRow(point=point, rate=rates[point.pk]))
    return list(result.values())


def questions(*, programme: Programme, filters: Filters) -> list[QuestionRow]:
    """Non-compliance by question, matched across tool versions by the question's stable key (the
    text shown is that of the newest version counted), highest rate first."""
    # Without a segment filter, the per-cycle-and-year totals give the same sums from far fewer rows.
    source = QuestionRollup if filters.segmented else QuestionTotal
    rows = (
        source.objects.filter(programme=programme)
        .filter(filters.cells())
        .values("question__key")
        .annotate(assessed=Sum("assessed"), non_compliant=Sum("non_compliant"), newest=Max("question_id"))
    )
    newest = Question.objects.only("id", "key", "text", "point_id").in_bulk([r["newest"] for r in rows])
    result = [
        QuestionRow(
            key=r["question__key"],
            question=newest[r["newest"]],
            rate=Rate(r["assessed"], r["non_compliant"]),
        )
        for r in rows
    ]
    result.sort(key=lambda r: (-(r.rate.share or 0), -r.rate.non_compliant, r.key))
    return result


def top_issues(question_rows: list[QuestionRow]) -> list[QuestionRow]:
    return [r for r in question_rows if r.rate.non_compliant][:TOP_ISSUES]


def trends(*, programme: Programme, filters: Filters) -> tuple[list[int], list[dict[str, Any]]]:
    """Per cluster, its rate in each cycle (the other filters applied): cycles, and rows of
    ``{"cluster", "shares": [share or None per cycle]}``."""
    rows = (
        _points(filters)
        .filter(programme=programme)
        .filter(filters.without_cycle().cells())
        .values("cycle", "point_id", "point__cluster_id")
        .annotate(assessed=Sum("assessed"), non_compliant=Sum("non_compliant"))
    )
    per: dict[int, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["assessed"]:
            per[r["point__cluster_id"]][r["cycle"]].append(r["non_compliant"] / r["assessed"])
    cycles = sorted({c for by_cycle in per.values() for c in by_cycle})
    result = []
    for cluster in Cluster.objects.filter(pk__in=per).order_by("order", "code"):
        by_cycle = per[cluster.pk]
        result.append(
            {
                "cluster": cluster,
                "shares": [sum(by_cycle[c]) / len(by_cycle[c]) if by_cycle.get(c) else None for c in cycles],
            }
        )
    return cycles, result


# --- Drill-down: the factories behind a figure ---------------------------------------------------


def counted_assessments(*, programme: Programme, filters: Filters) -> QuerySet[CountedAssessment]:
    return CountedAssessment.objects.filter(programme=programme).filter(filters.cells())


def factories_behind(
    *, programme: Programme, filters: Filters, question_key: str = "", point_id: int | None = None
) -> list[dict[str, Any]]:
    """The counted assessments non-compliant on this question (by key) or compliance point, with
    their factories: the answers read by (assessment, question), the answers table's unique index."""
    counted = counted_assessments(programme=programme, filters=filters)
    answers = Answer.objects.filter(
        assessment_id__in=counted.values("assessment_id"), value=AnswerValue.NON_COMPLIANT
    )
    if question_key:
        answers = answers.filter(question__key=question_key)
    elif point_id is not None:
        answers = answers.filter(question__point_id=point_id)
    else:
        return []
    assessment_ids = set(answers.values_list("assessment_id", flat=True))
    return list(
        Assessment.objects.filter(pk__in=assessment_ids)
        .select_related("factory")
        .order_by("factory__name", "cycle")
        .values(
            "pk", "cycle", "factory_id", "factory__public_id", "factory__name", "factory__region", "final_at"
        )
    )


def drill_subject(
    *, question_key: str = "", point_id: int | None = None
) -> Question | CompliancePoint | None:
    """What a drill-down is about: the newest question with this key, or the compliance point."""
    if question_key:
        return Question.objects.filter(key=question_key).order_by("-pk").first()
    if point_id is not None:
        return CompliancePoint.objects.filter(pk=point_id).select_related("cluster").first()
    return None


def point_choices() -> list[CompliancePoint]:
    return list(CompliancePoint.objects.select_related("cluster").order_by("cluster__order", "order", "code"))


def programmes_compared(
    *, programmes: list[Programme], point_id: int | None, cycle: int | None
) -> list[dict[str, Any]]:
    """Global staff: one indicator (a compliance point, or all points' mean) per programme, from
    the rollups of every programme in scope, in two grouped queries."""
    rows = PointTotal.objects.filter(programme__in=programmes)
    if cycle is not None:
        rows = rows.filter(cycle=cycle)
    if point_id is not None:
        rows = rows.filter(point_id=point_id)
    rates: dict[int, dict[int, Rate]] = defaultdict(dict)
    for r in rows.values("programme_id", "point_id").annotate(
        assessed=Sum("assessed"), non_compliant=Sum("non_compliant")
    ):
        rates[r["programme_id"]][r["point_id"]] = Rate(r["assessed"], r["non_compliant"])
    factories = dict(
        SegmentRollup.objects.filter(programme__in=programmes)
        .filter(Q(cycle=cycle) if cycle is not None else Q())
        .values("programme_id")
        .annotate(n=Sum("factories"))
        .values_list("programme_id", "n")
    )
    result = []
    for programme in programmes:
        shares = [r.share for r in rates[programme.pk].values() if r.share is not None]
        result.append(
            {
                "programme": programme,
                "factories": factories.get(programme.pk, 0),
                "share": sum(shares) / len(shares) if shares else None,
            }
        )
    return result


# --- Every figure at once: what a restored archive must show again ------------------------------


def _rounded(share: float | None) -> float | None:
    return None if share is None else round(share, 9)


def figures(*, programme: Programme, today: dt.date) -> dict[str, Any]:
    """Every figure the dashboard shows, unfiltered and under each value of each filter, as
    ``{"<filter>: <figure>": value}``: a programme's archive carries them, and a restore compares
    them with what the restored database shows."""
    choices = filter_choices(programme=programme)
    variants: list[tuple[str, Filters]] = [("all", Filters())]
    for name in ("cycle", "year", "region", "sector", "size"):
        variants += [(f"{name}={value}", Filters(**{name: value})) for value in choices[name]]
    variants += [(f"union_present={value}", Filters(union_present=value)) for value in (True, False)]
    found: dict[str, Any] = {}
    for label, chosen in variants:
        head = overview(programme=programme, filters=chosen, today=today)
        for name, value in vars(head).items():
            found[f"{label}: {name}"] = value
        for cluster in clusters(programme=programme, filters=chosen):
            found[f"{label}: cluster {cluster.cluster.code}"] = _rounded(cluster.share)
            for row in cluster.points:
                found[f"{label}: point {row.point.code}"] = [row.rate.assessed, row.rate.non_compliant]
        for question in questions(programme=programme, filters=chosen):
            found[f"{label}: question {question.key}"] = [question.rate.assessed, question.rate.non_compliant]
        cycles, lines = trends(programme=programme, filters=chosen)
        for line in lines:
            found[f"{label}: trend {line['cluster'].code}"] = {
                str(cycle): _rounded(share) for cycle, share in zip(cycles, line["shares"], strict=True)
            }
    return found


def figures_differing(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """The figures that are not the same, as lines a person can read."""
    return [
        f"{key}: {expected.get(key, 'absent')!r} before, {found.get(key, 'absent')!r} now"
        for key in sorted(set(expected) | set(found))
        if expected.get(key, "absent") != found.get(key, "absent")
    ]
