"""Non-compliance of one assessment, and what changed since the factory's previous one.

Counting rules (DESIGN.md section 10): a question is non-compliant when answered NC; a
compliance point is assessed when any of its questions is answered C or NC, and non-compliant
when any is NC; a cluster's figure is the share of its assessed points that are non-compliant.
Questions are matched across cycles by their stable key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assessments.models import Answer, AnswerValue, Assessment, AssessmentStatus, Cluster, CompliancePoint

COUNTED = (AssessmentStatus.FINAL, AssessmentStatus.PUBLISHED)


@dataclass
class QuestionFinding:
    key: str
    text: str
    point_code: str
    finding: str
    change: str  # "new" or "persisting"; "remediated" in the remediated list
    publicly_reported: bool
    zero_tolerance: bool


@dataclass
class ClusterFigure:
    cluster: Cluster
    points_assessed: int = 0
    points_non_compliant: int = 0

    @property
    def share(self) -> float | None:
        return self.points_non_compliant / self.points_assessed if self.points_assessed else None


@dataclass
class PointFigure:
    point: CompliancePoint
    assessed: bool
    non_compliant: bool


@dataclass
class AssessmentFigures:
    clusters: list[ClusterFigure] = field(default_factory=list)
    points: list[PointFigure] = field(default_factory=list)
    non_compliant: list[QuestionFinding] = field(default_factory=list)
    remediated: list[QuestionFinding] = field(default_factory=list)
    previous: Assessment | None = None

    @property
    def points_non_compliant(self) -> int:
        return sum(c.points_non_compliant for c in self.clusters)

    @property
    def points_assessed(self) -> int:
        return sum(c.points_assessed for c in self.clusters)


def previous_assessment(assessment: Assessment) -> Assessment | None:
    """The factory's latest final assessment of an earlier cycle."""
    return (
        Assessment.objects.filter(
            factory_id=assessment.factory_id, cycle__lt=assessment.cycle, status__in=COUNTED
        )
        .order_by("-cycle")
        .first()
    )


def _answers(assessment: Assessment) -> list[Answer]:
    return list(
        Answer.objects.filter(assessment=assessment)
        .exclude(value="")
        .select_related("question__point__cluster")
    )


def assessment_figures(*, assessment: Assessment) -> AssessmentFigures:
    """Three queries: this assessment's answers, the previous assessment, and its answers."""
    answers = _answers(assessment)
    previous = previous_assessment(assessment)
    before = {a.question.key: a for a in _answers(previous)} if previous else {}

    clusters: dict[int, ClusterFigure] = {}
    point_state: dict[int, tuple[CompliancePoint, bool, bool]] = {}  # point -> (point, assessed, nc)
    figures = AssessmentFigures(previous=previous)
    for answer in answers:
        question = answer.question
        point = question.point
        _, assessed, nc = point_state.get(point.pk, (point, False, False))
        is_nc = answer.value == AnswerValue.NON_COMPLIANT
        point_state[point.pk] = (point, assessed or answer.value != AnswerValue.NOT_APPLICABLE, nc or is_nc)
        earlier = before.get(question.key)
        was_nc = earlier is not None and earlier.value == AnswerValue.NON_COMPLIANT
        item = QuestionFinding(
            key=question.key,
            text=question.display_text,
            point_code=point.code,
            finding=answer.finding if is_nc else (earlier.finding if earlier else ""),
            change="persisting" if is_nc and was_nc else ("new" if is_nc else "remediated"),
            publicly_reported=question.publicly_reported,
            zero_tolerance=question.zero_tolerance,
        )
        if is_nc:
            figures.non_compliant.append(item)
        elif was_nc and answer.value == AnswerValue.COMPLIANT:
            figures.remediated.append(item)
    for point, assessed, nc in point_state.values():
        cluster = clusters.setdefault(point.cluster_id, ClusterFigure(cluster=point.cluster))
        cluster.points_assessed += assessed
        cluster.points_non_compliant += nc
        figures.points.append(PointFigure(point=point, assessed=assessed, non_compliant=nc))
    figures.clusters = sorted(clusters.values(), key=lambda c: c.cluster.order)
    figures.points.sort(key=lambda p: (p.point.cluster.order, p.point.order))
    return figures
