"""Read queries of the compliance tool."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import CharField, Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat
from django.http import Http404

from assessments.models import (
    FLAGS,
    Answer,
    Assessment,
    AssessmentAssessor,
    Attachment,
    Case,
    CaseNote,
    Cluster,
    CompliancePoint,
    FindingComment,
    InterviewNote,
    Question,
    Round,
    ToolVersion,
)
from betterwork import permissions
from betterwork.models import Programme
from betterwork.permissions import Principal
from factories.models import Factory


def tool_version(*, tool: str, version: str) -> ToolVersion:
    found = ToolVersion.objects.filter(tool=tool, version=version).first()
    if found is None:
        raise Http404
    return found


def tool_version_for(*, principal: Principal, pk: int) -> ToolVersion:
    """A version the principal may read: published ones for all, drafts for the global team."""
    found = (
        tool_versions(principal=principal)
        .filter(pk=pk)
        .select_related("submitted_by", "published_by")
        .first()
    )
    if found is None:
        raise Http404
    return found


def tool_question(*, version: ToolVersion, question_id: int) -> Question:
    found = Question.objects.filter(version=version, pk=question_id).select_related("point__cluster").first()
    if found is None:
        raise Http404
    return found


@dataclass
class ToolChanges:
    """What a version changes against the tool's previous published version, by question key."""

    previous: ToolVersion | None
    added: list[Question] = field(default_factory=list)
    removed: list[Question] = field(default_factory=list)
    changed: list[tuple[Question, list[str]]] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed)


# What a reviewer compares, question by question.
COMPARED_FIELDS = (
    "point_id",
    "global_key",
    "noncompliant_when_yes",
    *FLAGS,
    "text",
    "guidance",
    "legal_reference",
)


def tool_changes(*, version: ToolVersion) -> ToolChanges:
    previous = (
        ToolVersion.objects.filter(
            tool=version.tool, status="published", effective_from__lt=version.effective_from
        )
        .exclude(pk=version.pk)
        .order_by("-effective_from")
        .first()
    )
    changes = ToolChanges(previous=previous)
    if previous is None:
        return changes
    both = Question.objects.filter(version__in=[version, previous]).select_related("point").order_by("order")
    ours = {q.key: q for q in both if q.version_id == version.pk}
    theirs = {q.key: q for q in both if q.version_id == previous.pk}
    changes.added = [q for key, q in ours.items() if key not in theirs]
    changes.removed = [q for key, q in theirs.items() if key not in ours]
    for key, question in ours.items():
        if key in theirs:
            fields = [f for f in COMPARED_FIELDS if getattr(question, f) != getattr(theirs[key], f)]
            if fields:
                changes.changed.append((question, [f.removesuffix("_id") for f in fields]))
    return changes


@dataclass
class ToolPoint:
    point: CompliancePoint
    questions: list[Question]


@dataclass
class ToolCluster:
    cluster: Cluster
    points: list[ToolPoint]


def tool_outline(*, version: ToolVersion) -> list[ToolCluster]:
    """A version's questions under their clusters and compliance points, in one query."""
    outline: list[ToolCluster] = []
    questions = Question.objects.filter(version=version).select_related("point__cluster")
    for question in sorted(questions, key=lambda q: (q.point.cluster.order, q.point.order, q.order)):
        point, cluster = question.point, question.point.cluster
        if not outline or outline[-1].cluster.pk != cluster.pk:
            outline.append(ToolCluster(cluster=cluster, points=[]))
        if not outline[-1].points or outline[-1].points[-1].point.pk != point.pk:
            outline[-1].points.append(ToolPoint(point=point, questions=[]))
        outline[-1].points[-1].questions.append(question)
    return outline


def tool_languages(*, version: ToolVersion) -> list[str]:
    """The languages a version's questions are written in, English first."""
    languages: set[str] = set()
    for texts in Question.objects.filter(version=version).values_list("text", flat=True):
        languages.update(texts)
    return sorted(languages, key=lambda code: (code != "en", code))


def tool_export(*, version: ToolVersion) -> dict[str, Any]:
    """A version as its data file says it: loading the export gives the same version back."""
    questions = Question.objects.filter(version=version).select_related("point").order_by("order")
    return {
        "tool": version.tool,
        "version": version.version,
        "effective_from": version.effective_from,
        "title": version.title,
        "questions": [
            {
                "key": q.key,
                **({"global_key": q.global_key} if q.global_key else {}),
                "point": q.point.code,
                "noncompliant_answer": "yes" if q.noncompliant_when_yes else "no",
                "flags": [flag for flag in FLAGS if getattr(q, flag)],
                "text": q.text,
                "guidance": q.guidance,
                "legal_reference": q.legal_reference,
            }
            for q in questions
        ],
    }


# --- Assessments -----------------------------------------------------------------------------


def assessment_list(*, principal: Principal, programme: Programme) -> QuerySet[Assessment]:
    """A programme's assessments for its staff; factory users see theirs from the draft report on."""
    qs = Assessment.objects.filter(programme=programme).select_related("factory", "tool_version", "round")
    if permissions.can_list_factories(principal, programme.pk):
        return qs
    return qs.filter(factory_id__in=principal.factory_ids(), status__in=permissions.FACTORY_VISIBLE_STATES)


def assessment_page(qs: QuerySet[Assessment]) -> QuerySet[Assessment]:
    """An assessment list with what a page of it shows beside the row (the factory's name, the
    tool, the assessors' ids) as subqueries of the row instead of joins and a prefetch: one query.

    The row-level policy repeats the programme filter in a form PostgreSQL cannot estimate, so it
    expects a hundredth of the programme's assessments and joins them all before sorting for the
    page: 27 ms for 10,000 assessments, against 9 ms when only the page's rows look up these."""
    factory_name = Factory.objects.filter(pk=OuterRef("factory_id")).order_by().values("name")
    tool = (
        ToolVersion.objects.filter(pk=OuterRef("tool_version_id"))
        .order_by()
        .values(label=Concat("tool", Value(" "), "version", output_field=CharField()))
    )
    assessors = AssessmentAssessor.objects.filter(assessment=OuterRef("pk")).order_by("user_id")
    return qs.select_related(None).annotate(
        factory_name_db=Subquery(factory_name),
        tool_db=Subquery(tool),
        assessor_ids_db=ArraySubquery(assessors.values("user_id")),
    )


def round_list(*, programme: Programme, today: dt.date) -> QuerySet[Round]:
    """A programme's rounds with their assessments counted by progress, in one query."""
    active = ~Q(assessments__status="cancelled")
    done = Q(assessments__status__in=["final", "published"])
    return Round.objects.filter(programme=programme).annotate(
        planned=Count("assessments", filter=active),
        done=Count("assessments", filter=done),
        overdue=Count("assessments", filter=active & ~done & Q(assessments__due_date__lt=today)),
    )


def access_round(*, programme: Programme, round_id: int) -> Round:
    found = Round.objects.filter(programme=programme, pk=round_id).first()
    if found is None:
        raise Http404
    return found


def acting_is_assessor(principal: Principal) -> Exists:
    """Whether the acting user assesses the assessment, as a column of the assessment's query."""
    return Exists(
        AssessmentAssessor.objects.filter(
            assessment=OuterRef("pk"), user_id=getattr(principal.user, "pk", None)
        )
    )


def access_assessment(
    *, principal: Principal, assessment_id: int, programme: Programme | None = None, bare: bool = False
) -> Assessment:
    """The assessment if the principal may see it, else 404. Pages get its factory, programme,
    tool version and reviewer in the same query; ``bare`` skips them for writes, which need
    only its ids and state (building and reading the joined rows costs milliseconds)."""
    if bare:
        qs = Assessment.objects.all()
    else:
        qs = Assessment.objects.select_related("factory", "tool_version", "programme", "reviewer").annotate(
            # Answered in the same query: pages ask both on every request.
            acting_is_assessor=acting_is_assessor(principal),
            has_attachments=Exists(Attachment.objects.filter(assessment=OuterRef("pk"))),
        )
    if programme is not None:
        qs = qs.filter(programme=programme)
    assessment = qs.filter(pk=assessment_id).first()
    if assessment is None or not permissions.can_view_assessment(principal, assessment):
        raise Http404
    if bare and programme is not None:
        assessment.programme = programme  # the request's own, already loaded: no query for its code
    return assessment


def acting_assessor_ids(*, assessment: Assessment, principal: Principal) -> set[int]:
    """The acting user's id if they assess this assessment: what permission rules need of assessors."""
    acting = getattr(assessment, "acting_is_assessor", None)
    if acting is None:
        return {a.user_id for a in assessors_of(assessment=assessment)}
    return {principal.user.pk} if acting and principal.user else set()


def assessors_of(*, assessment: Assessment) -> list[AssessmentAssessor]:
    return list(
        AssessmentAssessor.objects.filter(assessment=assessment).select_related("user").order_by("-lead")
    )


@dataclass
class FormQuestion:
    question: Question
    answer: Answer | None


@dataclass
class FormPoint:
    point: CompliancePoint
    questions: list[FormQuestion] = field(default_factory=list)


@dataclass
class FormCluster:
    cluster: Cluster
    points: list[FormPoint] = field(default_factory=list)
    answered: int = 0
    total: int = 0


def assessment_form(*, assessment: Assessment) -> list[FormCluster]:
    """The whole tool of an assessment, grouped by cluster and point, with its answers.

    Three queries whatever the number of questions: questions with their points and
    clusters, answers, and nothing per question.
    """
    questions = (
        Question.objects.filter(version_id=assessment.tool_version_id)
        .select_related("point__cluster")
        .order_by("point__cluster__order", "point__order", "order")
    )
    answers = {a.question_id: a for a in Answer.objects.filter(assessment=assessment)}
    clusters: dict[int, FormCluster] = {}
    points: dict[int, FormPoint] = {}
    for question in questions:
        point = question.point
        cluster = clusters.setdefault(point.cluster_id, FormCluster(cluster=point.cluster))
        if point.pk not in points:
            points[point.pk] = FormPoint(point=point)
            cluster.points.append(points[point.pk])
        answer = answers.get(question.pk)
        points[point.pk].questions.append(FormQuestion(question=question, answer=answer))
        cluster.total += 1
        cluster.answered += bool(answer and answer.value)
    return list(clusters.values())


def answers_of(*, assessment: Assessment) -> QuerySet[Answer]:
    return Answer.objects.filter(assessment=assessment).order_by("question__order")


def question_of(*, assessment: Assessment, question_id: int) -> Question:
    question = (
        Question.objects.filter(pk=question_id, version_id=assessment.tool_version_id)
        .select_related("point__cluster")
        .first()
    )
    if question is None:
        raise Http404
    return question


def answer_of(*, assessment: Assessment, question: Question) -> Answer | None:
    return Answer.objects.filter(assessment=assessment, question=question).first()


def case_list(*, principal: Principal, programme: Programme) -> QuerySet[Case]:
    if not permissions.can_handle_cases(principal, programme.pk):
        return Case.objects.none()
    return Case.objects.filter(programme=programme).select_related("factory", "question", "assessment")


def access_case(*, principal: Principal, case_id: int, programme: Programme) -> Case:
    case = case_list(principal=principal, programme=programme).filter(pk=case_id).first()
    if case is None:
        raise Http404
    return case


def case_notes(*, case: Case) -> QuerySet[CaseNote]:
    return CaseNote.objects.filter(case=case).select_related("author")


def finding_comments(*, assessment: Assessment) -> QuerySet[FindingComment]:
    return FindingComment.objects.filter(assessment=assessment).select_related(
        "question", "author", "responded_by"
    )


def question_ids_by_key(*, assessment: Assessment) -> dict[str, int]:
    return dict(Question.objects.filter(version_id=assessment.tool_version_id).values_list("key", "pk"))


def tool_versions(
    *, principal: Principal, with_questions: bool = False, with_counts: bool = False
) -> QuerySet[ToolVersion]:
    """Published versions of the tool for every signed-in user; drafts only for the global team."""
    versions = ToolVersion.objects.all()
    if with_counts:
        versions = versions.annotate(question_count=Count("questions"))
    if not permissions.can_manage_tool(principal):
        versions = versions.filter(status="published")
    if with_questions:
        questions = Question.objects.select_related("point__cluster").order_by("order")
        versions = versions.prefetch_related(Prefetch("questions", queryset=questions))
    return versions


def attachments_of(*, assessment: Assessment) -> QuerySet[Attachment]:
    if getattr(assessment, "has_attachments", True) is False:
        return Attachment.objects.none()  # known from the assessment's own query: no need to ask
    return Attachment.objects.filter(assessment=assessment).select_related("question")


def access_attachment(*, assessment: Assessment, attachment_id: int) -> Attachment:
    attachment = Attachment.objects.filter(assessment=assessment, pk=attachment_id).first()
    if attachment is None:
        raise Http404
    return attachment


def interview_notes(*, assessment: Assessment) -> QuerySet[InterviewNote]:
    """An assessment's interview notes, in the order they were held. Personal data: pages read
    them through ``assessments.interviews``, which checks who asks and audits the reading."""
    return InterviewNote.objects.filter(assessment=assessment).select_related("author")


def access_interview_note(*, assessment: Assessment, note_id: int) -> InterviewNote:
    note = InterviewNote.objects.filter(assessment=assessment, pk=note_id).select_related("author").first()
    if note is None:
        raise Http404
    return note
