"""Read queries of the self-diagnosis: which questions it asks, its form, its results, and the
non-compliance the improvement plan takes over.

Which questions: those of the tool version the diagnosis was started with (the programme's tool
in force that day) whose cluster ``settings.SELF_DIAGNOSIS_CLUSTERS`` lists, a list of cluster
codes; unset, the core labour standards (``Cluster.core``) and occupational safety and health.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from advisory.models import DiagnosisAnswer, DiagnosisStatus, SelfDiagnosis
from advisory.selectors import access_advisory_factory
from assessments.models import Cluster, CompliancePoint, Question, ToolVersion
from betterwork import permissions
from betterwork.models import Programme
from betterwork.permissions import Principal
from factories.models import Factory

DEFAULT_EXTRA_CLUSTERS = ("OSH",)


def cluster_filter(prefix: str = "") -> Q:
    """The clusters the self-diagnosis covers, as a filter on ``<prefix>cluster``."""
    codes = getattr(settings, "SELF_DIAGNOSIS_CLUSTERS", None)
    if codes is None:
        return Q(**{f"{prefix}cluster__core": True}) | Q(
            **{f"{prefix}cluster__code__in": DEFAULT_EXTRA_CLUSTERS}
        )
    return Q(**{f"{prefix}cluster__code__in": list(codes)})


def diagnosis_questions(*, version: ToolVersion | int) -> QuerySet[Question]:
    """The questions of a tool version a self-diagnosis asks, in the tool's order."""
    version_id = version if isinstance(version, int) else version.pk
    return (
        Question.objects.filter(cluster_filter("point__"), version_id=version_id)
        .select_related("point__cluster")
        .order_by("point__cluster__order", "point__order", "order", "id")
    )


# --- Access ---------------------------------------------------------------------------------


def access_diagnosis_factory(*, principal: Principal, programme: Programme, factory_id: int) -> Factory:
    return access_advisory_factory(
        principal=principal,
        programme=programme,
        factory_id=factory_id,
        may=permissions.can_view_self_diagnosis,
    )


def access_diagnosis(*, principal: Principal, factory: Factory, diagnosis_id: int) -> SelfDiagnosis:
    """One self-diagnosis of a factory the principal may read; else 404."""
    diagnosis = (
        SelfDiagnosis.objects.filter(factory=factory, pk=diagnosis_id)
        .select_related("tool_version", "submitted_by")
        .first()
    )
    if diagnosis is None or not permissions.can_view_self_diagnosis(principal, factory):
        raise Http404
    diagnosis.factory = factory
    return diagnosis


def access_diagnosis_by_id(*, principal: Principal, programme: Programme, diagnosis_id: int) -> SelfDiagnosis:
    """One self-diagnosis of the programme, found by its id alone (the API); else 404."""
    diagnosis = (
        SelfDiagnosis.objects.filter(programme=programme, pk=diagnosis_id)
        .select_related("factory__programme", "tool_version", "submitted_by")
        .first()
    )
    if diagnosis is None or not permissions.can_view_self_diagnosis(principal, diagnosis.factory):
        raise Http404
    return diagnosis


# --- Lists ----------------------------------------------------------------------------------


def factory_diagnoses(*, factory: Factory) -> QuerySet[SelfDiagnosis]:
    """A factory's self-diagnoses, newest first, with how many questions each has answered."""
    return (
        SelfDiagnosis.objects.filter(factory=factory)
        .select_related("tool_version", "submitted_by")
        .annotate(
            answered=Count("answers", distinct=True),
            noncompliant=Count("answers", filter=Q(answers__value="NC"), distinct=True),
        )
        .order_by("-created_at", "-id")
    )


def draft_of(*, factory: Factory) -> SelfDiagnosis | None:
    return SelfDiagnosis.objects.filter(factory=factory, status=DiagnosisStatus.DRAFT).first()


def latest_submitted(*, factory: Factory) -> SelfDiagnosis | None:
    """The factory's latest submitted self-diagnosis: what its improvement plan starts from."""
    return (
        SelfDiagnosis.objects.filter(factory=factory, status=DiagnosisStatus.SUBMITTED)
        .order_by("-submitted_at", "-id")
        .first()
    )


# --- The form -------------------------------------------------------------------------------


@dataclass
class DiagnosisQuestion:
    question: Question
    answer: DiagnosisAnswer | None


@dataclass
class DiagnosisPoint:
    point: CompliancePoint
    questions: list[DiagnosisQuestion] = field(default_factory=list)
    noncompliant: bool = False
    assessed: bool = False


@dataclass
class DiagnosisCluster:
    cluster: Cluster
    points: list[DiagnosisPoint] = field(default_factory=list)
    answered: int = 0
    total: int = 0
    noncompliant_questions: int = 0

    @property
    def complete(self) -> bool:
        return self.answered == self.total

    @property
    def points_assessed(self) -> int:
        return sum(1 for p in self.points if p.assessed)

    @property
    def points_noncompliant(self) -> int:
        return sum(1 for p in self.points if p.noncompliant)

    @property
    def rate(self) -> float | None:
        """The share of the cluster's assessed points found non-compliant (DESIGN section 4)."""
        return self.points_noncompliant / self.points_assessed if self.points_assessed else None


def diagnosis_form(*, diagnosis: SelfDiagnosis) -> list[DiagnosisCluster]:
    """Every question of the diagnosis under its cluster and point, with its answer: two queries.

    A point is assessed when any of its questions is answered C or NC, and non-compliant when
    any is NC (the counting rules of DESIGN.md section 10, for one factory)."""
    answers = {a.question_id: a for a in DiagnosisAnswer.objects.filter(diagnosis=diagnosis)}
    clusters: dict[int, DiagnosisCluster] = {}
    points: dict[int, DiagnosisPoint] = {}
    for question in diagnosis_questions(version=diagnosis.tool_version_id):
        point = question.point
        cluster = clusters.setdefault(point.cluster_id, DiagnosisCluster(cluster=point.cluster))
        if point.pk not in points:
            points[point.pk] = DiagnosisPoint(point=point)
            cluster.points.append(points[point.pk])
        answer = answers.get(question.pk)
        points[point.pk].questions.append(DiagnosisQuestion(question=question, answer=answer))
        cluster.total += 1
        if answer is not None:
            cluster.answered += 1
            if answer.value in ("C", "NC"):
                points[point.pk].assessed = True
            if answer.value == "NC":
                points[point.pk].noncompliant = True
                cluster.noncompliant_questions += 1
    return list(clusters.values())


def missing_questions(*, diagnosis: SelfDiagnosis) -> list[Question]:
    """The questions of the diagnosis not answered yet, in the tool's order."""
    answered = DiagnosisAnswer.objects.filter(diagnosis=diagnosis).values("question_id")
    return list(diagnosis_questions(version=diagnosis.tool_version_id).exclude(pk__in=answered))


def diagnosis_findings(diagnosis: SelfDiagnosis) -> list[tuple[Question, str]]:
    """The non-compliance the factory found, as (question, the factory's note), in the tool's
    order: the improvement plan turns these into items (source ``self_diagnosis``). One query.
    The note may be empty: the question's own text then says what was found."""
    rows = (
        DiagnosisAnswer.objects.filter(diagnosis=diagnosis, value="NC")
        .select_related("question__point__cluster")
        .order_by("question__point__cluster__order", "question__point__order", "question__order", "id")
    )
    return [(row.question, row.note) for row in rows]
