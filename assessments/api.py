"""Assessments over the API: planning, transitions and answers (stale writes answer 409)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments import attachments, lifecycle, selectors
from assessments.filters import AssessmentFilter
from assessments.models import (
    AnswerValue,
    Assessment,
    AssessmentStatus,
    Attachment,
    EvidenceSource,
    Question,
    ToolVersion,
)
from betterwork import permissions
from betterwork import selectors as people_selectors
from betterwork.middleware import principal_of, programme_of
from factories import selectors as factory_selectors


class AssessmentOutput(serializers.ModelSerializer):
    factory_name = serializers.SerializerMethodField()
    tool = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = [
            "id",
            "factory",
            "factory_name",
            "cycle",
            "status",
            "tool",
            "lock_version",
            "factory_review_until",
            "final_at",
            "published_at",
        ]

    # A list's rows carry these as columns (selectors.assessment_page); one assessment reads them.
    def get_factory_name(self, assessment: Assessment) -> str:
        name = getattr(assessment, "factory_name_db", None)
        return name if name is not None else assessment.factory.name

    def get_tool(self, assessment: Assessment) -> str:
        tool = getattr(assessment, "tool_db", None)
        return tool if tool is not None else str(assessment.tool_version)


class AssessmentStaffOutput(AssessmentOutput):
    """What programme staff see besides: the visit plan (never shown to factories or buyers)."""

    assessors = serializers.SerializerMethodField()

    class Meta(AssessmentOutput.Meta):
        fields = [
            *AssessmentOutput.Meta.fields,
            "planned_date",
            "due_date",
            "round",
            "assessors",
            "visit_started_on",
            "visit_ended_on",
            "person_days",
            "access_restricted",
            "documents_on_time",
            "review_comments",
        ]

    def get_assessors(self, assessment: Assessment) -> list[int]:
        ids = getattr(assessment, "assessor_ids_db", None)
        return sorted(ids if ids is not None else (user.pk for user in assessment.assessors.all()))


def output_for(request: Request, assessment: Assessment) -> dict[str, Any]:
    staff = permissions.can_see_visit_plans(principal_of(request), assessment.programme_id)
    return (AssessmentStaffOutput if staff else AssessmentOutput)(assessment).data


class PlanInput(serializers.Serializer):
    factory = serializers.IntegerField()
    planned_date = serializers.DateField()
    due_date = serializers.DateField(required=False, allow_null=True)
    assessors = serializers.ListField(child=serializers.IntegerField(), min_length=2)
    round = serializers.IntegerField(required=False, allow_null=True, help_text="A round of this programme.")


class AssessmentPagination(CursorPagination):
    ordering = ("-id",)
    page_size = 50


class AssessmentListCreate(generics.ListAPIView):
    pagination_class = AssessmentPagination
    serializer_class = AssessmentOutput
    filter_backends = [DjangoFilterBackend]
    filterset_class = AssessmentFilter

    def get_queryset(self) -> QuerySet[Assessment]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no scope
            return QuerySet(model=Assessment).none()
        qs = selectors.assessment_list(
            principal=principal_of(self.request), programme=programme_of(self.request)
        )
        return selectors.assessment_page(qs)

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        programme = programme_of(self.request) if not getattr(self, "swagger_fake_view", False) else None
        if programme and permissions.can_see_visit_plans(principal_of(self.request), programme.pk):
            return AssessmentStaffOutput
        return AssessmentOutput

    @extend_schema(request=PlanInput, responses={201: AssessmentStaffOutput})
    def post(self, request: Request, programme_code: str) -> Response:
        programme, principal = programme_of(request), principal_of(request)
        if not permissions.can_plan_assessment(principal, programme.pk):
            raise exceptions.PermissionDenied
        data = PlanInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            factory = factory_selectors.access_factory(
                principal=principal, factory_id=data.validated_data["factory"], programme=programme
            )
        except Http404 as error:
            raise exceptions.ValidationError({"factory": ["No such factory in this programme."]}) from error
        staff = list(
            people_selectors.programme_staff(programme=programme).filter(
                pk__in=data.validated_data["assessors"]
            )
        )
        if len(staff) != len(set(data.validated_data["assessors"])):
            raise exceptions.ValidationError(
                {"assessors": ["Every assessor must be active staff of this programme."]}
            )
        round_id = data.validated_data.get("round")
        try:
            round = selectors.access_round(programme=programme, round_id=round_id) if round_id else None
        except Http404 as error:
            raise exceptions.ValidationError({"round": ["No such round in this programme."]}) from error
        assessment = lifecycle.assessment_plan(
            actor=principal,
            factory=factory,
            planned_date=data.validated_data["planned_date"],
            due_date=data.validated_data.get("due_date"),
            assessors=staff,
            round=round,
        )
        return Response(output_for(request, assessment), status=status.HTTP_201_CREATED)


# Factory users and buyers read an assessment without its visit plan: the schema promises what
# everyone gets, and says what programme staff get besides.
ASSESSMENT_READ = OpenApiResponse(
    AssessmentOutput, description="Programme staff get the visit plan besides: see AssessmentStaffOutput."
)


class AssessmentDetail(APIView):
    @extend_schema(responses=ASSESSMENT_READ)
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        assessment = selectors.access_assessment(
            principal=principal_of(request), assessment_id=pk, programme=programme_of(request)
        )
        return Response(output_for(request, assessment))


class TransitionInput(serializers.Serializer):
    to = serializers.ChoiceField(choices=AssessmentStatus.choices)
    expected_version = serializers.IntegerField(min_value=1)
    comments = serializers.CharField(required=False, allow_blank=True, default="")


class AssessmentTransition(APIView):
    @extend_schema(request=TransitionInput, responses={200: ASSESSMENT_READ, 409: None})
    def post(self, request: Request, programme_code: str, pk: int) -> Response:
        principal = principal_of(request)
        assessment = selectors.access_assessment(
            principal=principal, assessment_id=pk, programme=programme_of(request)
        )
        data = TransitionInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            moved = lifecycle.assessment_transition(
                actor=principal,
                assessment=assessment,
                to=data.validated_data["to"],
                expected_version=data.validated_data["expected_version"],
                comments=data.validated_data["comments"],
            )
        except lifecycle.StaleState as error:
            return Response({"detail": error.messages[0]}, status=status.HTTP_409_CONFLICT)
        return Response(output_for(request, moved))


class AnswerIO(serializers.Serializer):
    question = serializers.IntegerField(source="question_id")
    value = serializers.ChoiceField(choices=[("", "—"), *AnswerValue.choices], allow_blank=True)
    finding = serializers.CharField(required=False, allow_blank=True, default="")
    evidence = serializers.ListField(
        child=serializers.ChoiceField(choices=EvidenceSource.choices), required=False
    )
    version = serializers.IntegerField(
        min_value=0, help_text="The version the change was made on; 0 for a new answer."
    )


class AnswersInput(serializers.Serializer):
    answers = AnswerIO(many=True, allow_empty=False)


class AssessmentAnswers(APIView):
    """Read the answers, or save several at once; a stale one refuses the whole save with 409."""

    @extend_schema(responses=AnswerIO(many=True))
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        principal = principal_of(request)
        assessment = selectors.access_assessment(
            principal=principal, assessment_id=pk, programme=programme_of(request)
        )
        if not permissions.can_see_visit_plans(principal, assessment.programme_id):
            raise Http404  # factories read their findings in the report, not the working answers
        answers = selectors.answers_of(assessment=assessment)
        return Response(AnswerIO(answers, many=True).data)

    @extend_schema(request=AnswersInput, responses={200: AnswerIO(many=True), 409: None})
    def post(self, request: Request, programme_code: str, pk: int) -> Response:
        principal = principal_of(request)
        assessment = selectors.access_assessment(
            principal=principal, assessment_id=pk, programme=programme_of(request), bare=True
        )
        data = AnswersInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            saved = lifecycle.answers_save(
                actor=principal,
                assessment=assessment,
                changes=[{**a, "question": a.pop("question_id")} for a in data.validated_data["answers"]],
            )
        except lifecycle.AnswerConflict as conflict:
            return Response(
                {"detail": "Someone saved these answers meanwhile.", "conflicts": conflict.current},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(AnswerIO(saved, many=True).data)


class QuestionOutput(serializers.ModelSerializer):
    point = serializers.CharField(source="point.code")
    cluster = serializers.CharField(source="point.cluster.code")
    noncompliant_answer = serializers.SerializerMethodField()

    class Meta:
        model = Question
        fields = [
            "key",
            "global_key",
            "cluster",
            "point",
            "noncompliant_answer",
            "publicly_reported",
            "gender_sensitive",
            "zero_tolerance",
            "text",
            "guidance",
            "legal_reference",
        ]

    def get_noncompliant_answer(self, question: Question) -> str:
        return "yes" if question.noncompliant_when_yes else "no"


class ToolVersionOutput(serializers.ModelSerializer):
    class Meta:
        model = ToolVersion
        fields = [
            "id",
            "tool",
            "version",
            "title",
            "status",
            "effective_from",
            "effective_to",
            "published_at",
        ]


class ToolVersionDetailOutput(ToolVersionOutput):
    questions = QuestionOutput(many=True, read_only=True)

    class Meta(ToolVersionOutput.Meta):
        fields = [*ToolVersionOutput.Meta.fields, "questions"]


class ToolVersionList(generics.ListAPIView):
    """Versions of the compliance tool: published ones for everyone, drafts for global staff."""

    serializer_class = ToolVersionOutput
    pagination_class = None

    def get_queryset(self) -> QuerySet[ToolVersion]:
        if getattr(self, "swagger_fake_view", False):
            return QuerySet(model=ToolVersion).none()
        return selectors.tool_versions(principal=principal_of(self.request))


class ToolVersionDetail(generics.RetrieveAPIView):
    serializer_class = ToolVersionDetailOutput

    def get_queryset(self) -> QuerySet[ToolVersion]:
        if getattr(self, "swagger_fake_view", False):
            return QuerySet(model=ToolVersion).none()
        return selectors.tool_versions(principal=principal_of(self.request), with_questions=True)


class AttachmentOutput(serializers.ModelSerializer):
    question: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="key", read_only=True)

    class Meta:
        model = Attachment
        fields = ["id", "question", "original_name", "content_type", "size", "uploaded_at"]


class AttachmentInput(serializers.Serializer):
    file = serializers.FileField()
    question = serializers.IntegerField(required=False, allow_null=True)


class AssessmentAttachments(APIView):
    """Evidence of an assessment: list, or upload a photo or PDF (multipart)."""

    parser_classes = [MultiPartParser]

    def _assessment(self, request: Request, pk: int) -> Assessment:
        principal = principal_of(request)
        assessment = selectors.access_assessment(
            principal=principal, assessment_id=pk, programme=programme_of(request)
        )
        if not permissions.can_see_visit_plans(principal, assessment.programme_id):
            raise Http404
        return assessment

    @extend_schema(responses=AttachmentOutput(many=True))
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        assessment = self._assessment(request, pk)
        return Response(AttachmentOutput(selectors.attachments_of(assessment=assessment), many=True).data)

    @extend_schema(request={"multipart/form-data": AttachmentInput}, responses={201: AttachmentOutput})
    def post(self, request: Request, programme_code: str, pk: int) -> Response:
        assessment = self._assessment(request, pk)
        data = AttachmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        question_id = data.validated_data.get("question")
        question = (
            selectors.question_of(assessment=assessment, question_id=question_id) if question_id else None
        )
        attachment = attachments.attachment_add(
            actor=principal_of(request),
            assessment=assessment,
            upload=data.validated_data["file"],
            question=question,
        )
        return Response(AttachmentOutput(attachment).data, status=status.HTTP_201_CREATED)
