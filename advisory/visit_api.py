"""Advisory visits and the self-diagnosis over the API, through the same selectors and services
as the pages.

Visits: the programme's staff (and the global team) list them with filters and figures; its
staff log and change them; a factory's own users read their factory's log. Self-diagnosis: the
factory's users and the programme's staff read, answer and submit it; the global team reads it.
A refused object answers 404; a refused write on something the principal may read answers 403,
as in the rest of the API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from advisory import diagnosis as diagnosis_services
from advisory import diagnosis_selectors
from advisory import visit_selectors as selectors
from advisory import visits as services
from advisory.models import AdvisoryVisit, DiagnosisStatus, PlanItem, SelfDiagnosis, VisitMode
from assessments.models import AnswerValue
from betterwork import permissions
from betterwork.middleware import principal_of, programme_of
from betterwork.models import Programme, User
from betterwork.permissions import Principal
from factories.models import Factory

NO_USERS: QuerySet[User] = QuerySet(model=User).none()
NO_FACTORIES: QuerySet[Factory] = QuerySet(model=Factory).none()


def _staff(request: Request) -> tuple[Programme, Principal]:
    """The programme and principal, when the principal may read the programme's visits."""
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_list_factories(principal, programme.pk):
        raise Http404
    return programme, principal


# --- Visits ---------------------------------------------------------------------------------


class VisitAdvisorOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class VisitItemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    plan = serializers.IntegerField(source="plan_id")
    cycle = serializers.IntegerField(source="plan.cycle")
    question_key = serializers.CharField()
    finding = serializers.CharField()
    status = serializers.CharField(help_text="not_started, in_progress, done or verified")


class VisitOutput(serializers.ModelSerializer):
    factory_public_id = serializers.CharField(source="factory.public_id", read_only=True)
    factory_name = serializers.CharField(source="factory.name", read_only=True)
    joint = serializers.SerializerMethodField(help_text="With a labour inspector, the union, or both.")
    advisors = serializers.SerializerMethodField()
    items = serializers.SerializerMethodField(help_text="Improvement plan items the visit followed up.")

    class Meta:
        model = AdvisoryVisit
        fields = [
            "id",
            "factory",
            "factory_public_id",
            "factory_name",
            "visited_on",
            "mode",
            "with_labour_inspector",
            "with_union",
            "joint",
            "advisors",
            "topics",
            "follow_ups",
            "items",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_joint(self, visit: AdvisoryVisit) -> bool:
        return visit.with_labour_inspector or visit.with_union

    @extend_schema_field(VisitAdvisorOutput(many=True))
    def get_advisors(self, visit: AdvisoryVisit) -> list[dict[str, Any]]:
        return [{"id": link.user_id, "name": link.user.full_name} for link in visit.advisor_links.all()]

    @extend_schema_field(VisitItemOutput(many=True))
    def get_items(self, visit: AdvisoryVisit) -> Any:
        return VisitItemOutput([link.item for link in visit.item_links.all()], many=True).data


class VisitInput(serializers.Serializer):
    factory = serializers.PrimaryKeyRelatedField(
        queryset=NO_FACTORIES, help_text="A factory of the programme."
    )
    visited_on = serializers.DateField(help_text="The day of the visit: today or before.")
    mode = serializers.ChoiceField(choices=VisitMode.choices, default=VisitMode.ON_SITE)
    with_labour_inspector = serializers.BooleanField(default=False)
    with_union = serializers.BooleanField(default=False)
    topics = serializers.CharField(max_length=5000)
    follow_ups = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    advisors = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=NO_USERS,
        help_text="User ids of the programme's staff who made the visit; none: whoever logs it.",
    )
    items = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text="Ids of the factory's improvement plan items the visit followed up.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        programme = self.context.get("programme")
        if programme is not None:  # the schema generator builds it without one
            factory = self.fields["factory"]
            factory.queryset = selectors.factories_for_choice(programme=programme)  # type: ignore[attr-defined]
            factory.error_messages["does_not_exist"] = _("No factory {pk_value} in this programme.")
            advisor = self.fields["advisors"].child_relation  # type: ignore[attr-defined]
            advisor.queryset = selectors.visit_advisor_choices(programme=programme)
            advisor.error_messages["does_not_exist"] = _("User {pk_value} is not staff of this programme.")


class VisitUpdateInput(VisitInput):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.pop("factory")


def _plan_items(factory: Factory, ids: list[int] | None) -> list[PlanItem] | None:
    if ids is None:
        return None
    found = {item.pk: item for item in selectors.plan_items_of(factory=factory).filter(pk__in=ids)}
    unknown = [str(pk) for pk in ids if pk not in found]
    if unknown:
        raise exceptions.ValidationError(
            {
                "items": [
                    _("No item %(ids)s in this factory's improvement plan.") % {"ids": ", ".join(unknown)}
                ]
            }
        )
    return [found[pk] for pk in dict.fromkeys(ids)]


def _visit_row(request: Request, pk: int) -> AdvisoryVisit:
    return selectors.access_visit(
        principal=principal_of(request), programme=programme_of(request), visit_id=pk
    )


JOINT_CHOICES = [
    ("joint", gettext_lazy("Joint visits")),
    ("inspector", gettext_lazy("With a labour inspector")),
    ("union", gettext_lazy("With the union")),
    ("not_joint", gettext_lazy("Not joint")),
]


class VisitFilter(django_filters.FilterSet):
    factory = extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(label=gettext_lazy("Factory"), field_name="factory_id")
    )
    advisor = extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(
            label=gettext_lazy("Advisor (user id)"), field_name="advisor_links__user_id"
        )
    )
    visited_after = django_filters.DateFilter(
        label=gettext_lazy("Visited on or after"), field_name="visited_on", lookup_expr="gte"
    )
    visited_before = django_filters.DateFilter(
        label=gettext_lazy("Visited on or before"), field_name="visited_on", lookup_expr="lte"
    )
    year = extend_schema_field(OpenApiTypes.INT)(
        # A year no date can have is refused (400), not looked for (PostgreSQL's dates: years 1-9999).
        django_filters.NumberFilter(
            label=gettext_lazy("Year"), field_name="visited_on__year", min_value=1, max_value=9999
        )
    )
    joint = django_filters.ChoiceFilter(label=gettext_lazy("Joint"), choices=JOINT_CHOICES, method="by_joint")

    class Meta:
        model = AdvisoryVisit
        fields = ["factory", "advisor", "visited_after", "visited_before", "year", "joint"]

    def by_joint(self, queryset: QuerySet[AdvisoryVisit], name: str, value: str) -> QuerySet[AdvisoryVisit]:
        return queryset.filter(selectors.JOINT_FILTERS[value])


class VisitPagination(CursorPagination):
    ordering = ("-visited_on", "-id")
    page_size = 50


class VisitListCreate(generics.ListAPIView):
    """The programme's advisory visits, newest first, with filters; its staff log new ones."""

    serializer_class = VisitOutput
    filterset_class = VisitFilter
    pagination_class = VisitPagination

    def get_queryset(self) -> QuerySet[AdvisoryVisit]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no scope
            return QuerySet(model=AdvisoryVisit).none()
        programme, principal = _staff(self.request)
        return selectors.programme_visits(
            principal=principal, programme=programme, filters=selectors.VisitFilters()
        )

    @extend_schema(request=VisitInput, responses={201: VisitOutput})
    def post(self, request: Request, programme_code: str) -> Response:
        programme, principal = _staff(request)
        if not permissions.can_log_visits(principal, programme.pk):
            raise exceptions.PermissionDenied
        data = VisitInput(data=request.data, context={"programme": programme})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        factory = values.pop("factory")
        advisors = values.pop("advisors", [])
        items = _plan_items(factory, values.pop("items", [])) or []
        visit = services.visit_log(
            actor=principal, factory=factory, data=values, advisors=advisors, items=items
        )
        return Response(VisitOutput(_visit_row(request, visit.pk)).data, status=status.HTTP_201_CREATED)


class VisitDetail(APIView):
    """One visit: its factory's users and the programme's staff read it; its advisors, team
    leaders and managers change it; whoever logged it deletes it within a week."""

    @extend_schema(responses=VisitOutput)
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        return Response(VisitOutput(_visit_row(request, pk)).data)

    @extend_schema(
        request=VisitUpdateInput,
        responses=VisitOutput,
        description="Fields left out keep their values; `advisors` and `items`, when given, replace them.",
    )
    def patch(self, request: Request, programme_code: str, pk: int) -> Response:
        principal = principal_of(request)
        visit = _visit_row(request, pk)
        if not permissions.can_edit_visit(principal, visit, selectors.visit_advisor_ids(visit=visit)):
            raise exceptions.PermissionDenied
        data = VisitUpdateInput(data=request.data, partial=True, context={"programme": programme_of(request)})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        advisors = values.pop("advisors", None)
        items = _plan_items(visit.factory, values.pop("items", None))
        services.visit_update(actor=principal, visit=visit, data=values, advisors=advisors, items=items)
        return Response(VisitOutput(_visit_row(request, pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, programme_code: str, pk: int) -> Response:
        principal = principal_of(request)
        visit = _visit_row(request, pk)
        if not permissions.can_delete_visit(principal, visit):
            if principal.user is not None and visit.created_by_id == principal.user.pk:
                raise exceptions.ValidationError(
                    {
                        "detail": _(
                            "A visit can be deleted only within %(days)s days of logging it; correct it instead."
                        )
                        % {"days": permissions.VISIT_DELETABLE_FOR.days}
                    }
                )
            raise exceptions.PermissionDenied
        services.visit_delete(actor=principal, visit=visit)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FactoryVisitPagination(VisitPagination):
    page_size = 100


class FactoryVisits(generics.ListAPIView):
    """One factory's visit log, newest first: its own users read it too."""

    serializer_class = VisitOutput
    pagination_class = FactoryVisitPagination
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[AdvisoryVisit]:
        if getattr(self, "swagger_fake_view", False):
            return QuerySet(model=AdvisoryVisit).none()
        factory = selectors.access_visit_factory(
            principal=principal_of(self.request),
            programme=programme_of(self.request),
            factory_id=self.kwargs["factory_id"],
        )
        return selectors.factory_visits(factory=factory)


class VisitFigureRow(serializers.Serializer):
    visits = serializers.IntegerField()
    joint = serializers.IntegerField()
    with_inspector = serializers.IntegerField()
    with_union = serializers.IntegerField()
    factories = serializers.IntegerField(help_text="Factories visited.")


class VisitYearRow(VisitFigureRow):
    year = serializers.IntegerField()


class VisitMonthRow(VisitFigureRow):
    month = serializers.SerializerMethodField(help_text="YYYY-MM")

    def get_month(self, row: dict[str, Any]) -> str:
        return f"{row['month']:%Y-%m}"


class VisitFigureTotals(VisitFigureRow):
    last_12_months = serializers.IntegerField(
        help_text="Visits in the last 12 months (year and month filters aside)."
    )
    joint_last_12_months = serializers.IntegerField()
    factories_last_12_months = serializers.IntegerField()


class VisitFiguresOutput(serializers.Serializer):
    totals = VisitFigureTotals()
    by_year = VisitYearRow(many=True)
    by_month = VisitMonthRow(many=True)


class VisitFigureQuery(serializers.Serializer):
    factory = serializers.IntegerField(required=False, min_value=1)
    advisor = serializers.IntegerField(required=False, min_value=1)
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    month = serializers.RegexField(r"^(?!0000)\d{4}-(0[1-9]|1[0-2])$", required=False, help_text="YYYY-MM")
    joint = serializers.ChoiceField(choices=JOINT_CHOICES, required=False)

    def filters(self) -> selectors.VisitFilters:
        data = self.validated_data
        return selectors.VisitFilters(
            advisor_id=data.get("advisor"),
            factory_id=data.get("factory"),
            year=data.get("year"),
            month=dt.date.fromisoformat(f"{data['month']}-01") if data.get("month") else None,
            joint=data.get("joint") or "",
        )


class VisitFigures(APIView):
    @extend_schema(parameters=[VisitFigureQuery], responses=VisitFiguresOutput)
    def get(self, request: Request, programme_code: str) -> Response:
        """Advisory visits and joint visits: totals, by year and by month."""
        programme, _principal = _staff(request)
        query = VisitFigureQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        figures = selectors.visit_figures(
            programme=programme, filters=query.filters(), today=programme.today()
        )
        return Response(VisitFiguresOutput(figures).data)


# --- Self-diagnosis -------------------------------------------------------------------------

ANSWER_CHOICES = [("", "—"), *AnswerValue.choices]


class DiagnosisSummary(serializers.ModelSerializer):
    tool_version = serializers.CharField(source="tool_version.__str__", read_only=True)
    submitted_by = serializers.CharField(
        source="submitted_by.full_name", read_only=True, allow_null=True, default=None
    )
    answered = serializers.IntegerField(read_only=True)
    noncompliant = serializers.IntegerField(read_only=True)

    class Meta:
        model = SelfDiagnosis
        fields = [
            "id",
            "factory",
            "status",
            "tool_version",
            "created_at",
            "submitted_at",
            "submitted_by",
            "answered",
            "noncompliant",
        ]
        read_only_fields = fields


class DiagnosisQuestionOutput(serializers.Serializer):
    id = serializers.IntegerField(source="question.pk")
    key = serializers.CharField(source="question.key")
    cluster = serializers.CharField(source="question.point.cluster.code")
    point = serializers.CharField(source="question.point.code")
    text = serializers.CharField(source="question.display_text")
    value = serializers.ChoiceField(choices=ANSWER_CHOICES, source="answer.value", default="")
    note = serializers.CharField(source="answer.note", default="")


class DiagnosisClusterOutput(serializers.Serializer):
    code = serializers.CharField(source="cluster.code")
    name = serializers.CharField(source="cluster.__str__")
    total = serializers.IntegerField(help_text="Questions asked.")
    answered = serializers.IntegerField()
    noncompliant_questions = serializers.IntegerField()
    points_assessed = serializers.IntegerField(help_text="Points with a question answered C or NC.")
    points_noncompliant = serializers.IntegerField(help_text="Points with a question answered NC.")
    rate = serializers.FloatField(
        allow_null=True, help_text="Share of assessed points non-compliant; null with none assessed."
    )


class DiagnosisOutput(DiagnosisSummary):
    clusters = DiagnosisClusterOutput(many=True, read_only=True)
    questions = DiagnosisQuestionOutput(many=True, read_only=True)

    class Meta(DiagnosisSummary.Meta):
        fields = [*DiagnosisSummary.Meta.fields, "clusters", "questions"]
        read_only_fields = fields


def _diagnosis_output(diagnosis: SelfDiagnosis) -> dict[str, Any]:
    clusters = diagnosis_selectors.diagnosis_form(diagnosis=diagnosis)
    diagnosis.clusters = clusters  # type: ignore[attr-defined]
    diagnosis.questions = [q for c in clusters for p in c.points for q in p.questions]  # type: ignore[attr-defined]
    diagnosis.answered = sum(c.answered for c in clusters)  # type: ignore[attr-defined]
    diagnosis.noncompliant = sum(c.noncompliant_questions for c in clusters)  # type: ignore[attr-defined]
    return DiagnosisOutput(diagnosis).data  # type: ignore[return-value]


class DiagnosisAnswerItem(serializers.Serializer):
    question = serializers.IntegerField(min_value=1, help_text="A question of this self-diagnosis (its id).")
    value = serializers.ChoiceField(
        choices=ANSWER_CHOICES, allow_blank=True, help_text="Empty clears the answer."
    )
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=diagnosis_services.NOTE_MAX
    )


class DiagnosisAnswersInput(serializers.Serializer):
    answers = DiagnosisAnswerItem(many=True, allow_empty=False)

    def validate_answers(self, answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen = [a["question"] for a in answers]
        if len(seen) != len(set(seen)):
            raise serializers.ValidationError(_("Give each question once."))
        return answers


class DiagnosisAnswersSaved(serializers.Serializer):
    changed = serializers.IntegerField(help_text="Answers that changed.")
    diagnosis = DiagnosisOutput()


def _access_factory_for_diagnosis(request: Request, factory_id: int) -> tuple[Factory, Principal]:
    principal = principal_of(request)
    factory = diagnosis_selectors.access_diagnosis_factory(
        principal=principal, programme=programme_of(request), factory_id=factory_id
    )
    return factory, principal


def _diagnosis_for_filling(request: Request, pk: int) -> tuple[SelfDiagnosis, Principal]:
    principal = principal_of(request)
    diagnosis = diagnosis_selectors.access_diagnosis_by_id(
        principal=principal, programme=programme_of(request), diagnosis_id=pk
    )
    if not permissions.can_fill_self_diagnosis(principal, diagnosis.factory):
        raise exceptions.PermissionDenied
    return diagnosis, principal


class FactoryDiagnoses(APIView):
    """A factory's self-diagnoses, and starting one (one draft at a time)."""

    @extend_schema(responses=DiagnosisSummary(many=True))
    def get(self, request: Request, programme_code: str, factory_id: int) -> Response:
        factory, _principal = _access_factory_for_diagnosis(request, factory_id)
        return Response(
            DiagnosisSummary(diagnosis_selectors.factory_diagnoses(factory=factory), many=True).data
        )

    @extend_schema(
        request=None,
        responses={
            201: DiagnosisOutput,
            200: OpenApiResponse(DiagnosisOutput, description="The draft in progress."),
        },
        description="Start the self-diagnosis on the tool in force today; the factory's draft in progress, "
        "if it has one, is returned instead (200).",
    )
    def post(self, request: Request, programme_code: str, factory_id: int) -> Response:
        factory, principal = _access_factory_for_diagnosis(request, factory_id)
        if not permissions.can_fill_self_diagnosis(principal, factory):
            raise exceptions.PermissionDenied
        diagnosis, created = diagnosis_services.diagnosis_start(actor=principal, factory=factory)
        row = diagnosis_selectors.access_diagnosis(
            principal=principal, factory=factory, diagnosis_id=diagnosis.pk
        )
        return Response(
            _diagnosis_output(row), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class DiagnosisDetail(APIView):
    @extend_schema(responses=DiagnosisOutput)
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        """The self-diagnosis: its questions with their answers, and non-compliance by cluster."""
        diagnosis = diagnosis_selectors.access_diagnosis_by_id(
            principal=principal_of(request), programme=programme_of(request), diagnosis_id=pk
        )
        return Response(_diagnosis_output(diagnosis))


class DiagnosisAnswers(APIView):
    @extend_schema(request=DiagnosisAnswersInput, responses=DiagnosisAnswersSaved)
    def put(self, request: Request, programme_code: str, pk: int) -> Response:
        """Save answers (all or nothing); questions left out keep theirs."""
        diagnosis, principal = _diagnosis_for_filling(request, pk)
        data = DiagnosisAnswersInput(data=request.data)
        data.is_valid(raise_exception=True)
        answers = {
            a["question"]: diagnosis_services.AnswerInput(value=a["value"], note=a["note"])
            for a in data.validated_data["answers"]
        }
        changed = diagnosis_services.diagnosis_answer(actor=principal, diagnosis=diagnosis, answers=answers)
        return Response({"changed": changed, "diagnosis": _diagnosis_output(diagnosis)})


class DiagnosisSubmit(APIView):
    @extend_schema(
        request=None,
        responses={
            200: DiagnosisOutput,
            400: OpenApiResponse(description="Questions unanswered (listed), or submitted already."),
        },
    )
    def post(self, request: Request, programme_code: str, pk: int) -> Response:
        """Submit the self-diagnosis: every question answered first. Read-only afterwards."""
        diagnosis, principal = _diagnosis_for_filling(request, pk)
        if diagnosis.status != DiagnosisStatus.DRAFT:
            raise exceptions.ValidationError(
                {"detail": _("This self-diagnosis was submitted: it can no longer be changed.")}
            )
        submitted = diagnosis_services.diagnosis_submit(actor=principal, diagnosis=diagnosis)
        submitted.factory = diagnosis.factory
        return Response(_diagnosis_output(submitted))
