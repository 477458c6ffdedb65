"""Training over the API: the catalogue, sessions, participants, attendance, evaluations,
entitlements and figures, through the same selectors and services as the pages.

Reading needs the programme's staff (``can_view_training``); a factory's own users read only
that factory's training (entitlements, and its own counts in each session: never other
participants' names). A refused object answers 404; a refused create on a list the principal
may read answers 403, as in the rest of the API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from betterwork import permissions
from betterwork import selectors as people_selectors
from betterwork.middleware import principal_of, programme_of
from betterwork.models import Programme, User
from betterwork.permissions import Principal
from factories import selectors as factory_selectors
from training import selectors, services
from training.filters import SessionFilter
from training.models import (
    RATING_FIELDS,
    Course,
    Entitlement,
    Evaluation,
    Participant,
    ParticipantRole,
    Session,
    Sex,
)

# Tenant choices are set per request in each serializer's __init__; the schema sees these.
NO_COURSES: QuerySet[Course] = QuerySet(model=Course).none()
NO_USERS: QuerySet[User] = QuerySet(model=User).none()
MAX_CYCLE = 99


def _staff(request: Request) -> tuple[Programme, Principal]:
    """The programme and principal, when the principal may read the programme's training."""
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_view_training(principal, programme.pk):
        raise Http404
    return programme, principal


def _session_for_running(request: Request, pk: int) -> tuple[Session, Principal]:
    """A session the principal runs (its trainers, training officers, managers); else 404."""
    programme, principal = _staff(request)
    session = selectors.access_session(principal=principal, programme=programme, session_id=pk)
    if not permissions.can_run_session(principal, session, services.trainer_ids(session)):
        raise Http404
    return session, principal


# --- The catalogue --------------------------------------------------------------------------


class CourseOutput(serializers.ModelSerializer):
    template: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="The global course template it was copied from.",
    )
    sessions_count = serializers.IntegerField(read_only=True, help_text="Sessions held or planned.")

    class Meta:
        model = Course
        fields = ["id", "title", "topics", "days", "audience", "is_active", "template", "sessions_count"]
        read_only_fields = fields


class CourseInput(serializers.ModelSerializer):
    class Meta:
        model = Course
        fields = list(services.COURSE_FIELDS)
        extra_kwargs = {"days": {"min_value": 1, "max_value": 10}}


def _course_row(programme: Programme, pk: int) -> Course:
    course = selectors.course_list(programme=programme).filter(pk=pk).first()
    if course is None:
        raise Http404
    return course


class CourseListCreate(generics.ListAPIView):
    """The programme's course catalogue; training officers and managers add to it."""

    serializer_class = CourseOutput
    pagination_class = None  # a catalogue is a few dozen courses

    def get_queryset(self) -> QuerySet[Course]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no scope
            return NO_COURSES
        programme, _principal = _staff(self.request)
        return selectors.course_list(programme=programme)

    @extend_schema(request=CourseInput, responses={201: CourseOutput})
    def post(self, request: Request, programme_code: str) -> Response:
        programme, principal = _staff(request)
        if not permissions.can_manage_training(principal, programme.pk):
            raise exceptions.PermissionDenied
        data = CourseInput(data=request.data)
        data.is_valid(raise_exception=True)
        course = services.course_save(
            actor=principal, programme=programme, course=None, data=data.validated_data
        )
        return Response(CourseOutput(_course_row(programme, course.pk)).data, status=status.HTTP_201_CREATED)


class CourseDetail(APIView):
    @extend_schema(responses=CourseOutput)
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        programme, _principal = _staff(request)
        return Response(CourseOutput(_course_row(programme, pk)).data)

    @extend_schema(request=CourseInput, responses=CourseOutput)
    def patch(self, request: Request, programme_code: str, pk: int) -> Response:
        programme, principal = _staff(request)
        course = selectors.access_course(principal=principal, programme=programme, course_id=pk)
        if not permissions.can_manage_training(principal, programme.pk):
            raise Http404
        data = CourseInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.course_save(actor=principal, programme=programme, course=course, data=data.validated_data)
        return Response(CourseOutput(_course_row(programme, pk)).data)


# --- Sessions -------------------------------------------------------------------------------


class TrainerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TrainingSessionOutput(serializers.ModelSerializer):
    course_title = serializers.CharField(source="course.title", read_only=True)
    factory_name = serializers.CharField(source="factory.name", read_only=True, allow_null=True)
    days = serializers.SerializerMethodField(help_text="The days the session meets.")
    trainers = serializers.SerializerMethodField(help_text="Trainers of the programme's staff.")
    cancelled = serializers.BooleanField(source="is_cancelled", read_only=True)
    enrolled_count = serializers.IntegerField(read_only=True)
    participant_days = serializers.IntegerField(
        source="attended_days",
        read_only=True,
        help_text="Participant training days: one participant present on one day.",
    )

    class Meta:
        model = Session
        fields = [
            "id",
            "course",
            "course_title",
            "mode",
            "factory",
            "factory_name",
            "starts_on",
            "ends_on",
            "days",
            "trainers",
            "other_trainers",
            "venue",
            "online",
            "online_link",
            "capacity",
            "language",
            "counts_toward_entitlement",
            "notes",
            "cancelled",
            "cancelled_at",
            "cancel_reason",
            "enrolled_count",
            "participant_days",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.DateField()))
    def get_days(self, session: Session) -> list[dt.date]:
        return [day.date for day in session.days.all()]  # prefetched, in date order

    @extend_schema_field(TrainerOutput(many=True))
    def get_trainers(self, session: Session) -> list[dict[str, Any]]:
        trainers = [{"id": link.user_id, "name": link.user.full_name} for link in session.trainer_links.all()]
        return sorted(trainers, key=lambda trainer: (trainer["name"], trainer["id"]))


class TrainingSessionInput(serializers.ModelSerializer):
    dates = serializers.ListField(
        child=serializers.DateField(), help_text="The days the session meets (at most 10)."
    )
    trainers = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=NO_USERS,
        help_text="User ids of the programme's staff; none: whoever schedules the session trains.",
    )

    class Meta:
        model = Session
        fields = [*services.SESSION_FIELDS, "dates", "trainers"]
        extra_kwargs = {"capacity": {"min_value": 1, "max_value": 500}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        programme = self.context.get("programme")
        if programme is not None:  # the schema generator builds it without one
            course = self.fields["course"]
            course.queryset = selectors.course_list(programme=programme, active_only=True)  # type: ignore[attr-defined]
            course.error_messages["does_not_exist"] = _("No course {pk_value} in this programme's catalogue.")
            factory = self.fields["factory"]
            factory.queryset = selectors.factories_for_choice(programme=programme)  # type: ignore[attr-defined]
            factory.error_messages["does_not_exist"] = _("No factory {pk_value} in this programme.")
            trainer = self.fields["trainers"].child_relation  # type: ignore[attr-defined]
            trainer.queryset = people_selectors.programme_staff(programme=programme)
            trainer.error_messages["does_not_exist"] = _(
                "User {pk_value} is not staff of this programme; name trainers from outside under other_trainers."
            )


def _session_rows(request: Request) -> QuerySet[Session]:
    programme, principal = _staff(request)
    return selectors.session_list(principal=principal, programme=programme).prefetch_related("days")


def _session_row(request: Request, pk: int) -> Session:
    session = _session_rows(request).filter(pk=pk).first()
    if session is None:
        raise Http404
    return session


class SessionPagination(CursorPagination):
    ordering = ("-starts_on", "-id")
    page_size = 50


class SessionListCreate(generics.ListAPIView):
    """Sessions of the programme: list with filters, and schedule new ones (any of its staff)."""

    serializer_class = TrainingSessionOutput
    filter_backends = [DjangoFilterBackend]
    filterset_class = SessionFilter
    pagination_class = SessionPagination

    def get_queryset(self) -> QuerySet[Session]:
        if getattr(self, "swagger_fake_view", False):
            return QuerySet(model=Session).none()
        return _session_rows(self.request)

    @extend_schema(request=TrainingSessionInput, responses={201: TrainingSessionOutput})
    def post(self, request: Request, programme_code: str) -> Response:
        programme, principal = _staff(request)
        if not permissions.can_schedule_session(principal, programme.pk):
            raise exceptions.PermissionDenied
        data = TrainingSessionInput(data=request.data, context={"programme": programme})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        dates, trainers = values.pop("dates"), values.pop("trainers", [])
        session = services.session_create(
            actor=principal, programme=programme, data=values, dates=dates, trainers=trainers
        )
        return Response(
            TrainingSessionOutput(_session_row(request, session.pk)).data, status=status.HTTP_201_CREATED
        )


class SessionDetail(APIView):
    """One session: read it (the programme's staff), or change it (those who run it)."""

    @extend_schema(responses=TrainingSessionOutput)
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        return Response(TrainingSessionOutput(_session_row(request, pk)).data)

    @extend_schema(
        request=TrainingSessionInput,
        responses=TrainingSessionOutput,
        description="Fields left out keep their values; `dates` and `trainers`, when given, replace them.",
    )
    def patch(self, request: Request, programme_code: str, pk: int) -> Response:
        session, principal = _session_for_running(request, pk)
        data = TrainingSessionInput(data=request.data, partial=True, context={"programme": session.programme})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        dates = values.pop("dates", None)
        if dates is None:
            dates = [day.date for day in selectors.session_days(session=session)]
        trainers = values.pop("trainers", None)
        if trainers is None:
            trainers = selectors.session_trainers(session=session)
        services.session_update(actor=principal, session=session, data=values, dates=dates, trainers=trainers)
        return Response(TrainingSessionOutput(_session_row(request, pk)).data)


class CancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class SessionCancel(APIView):
    @extend_schema(request=CancelInput, responses=TrainingSessionOutput)
    def post(self, request: Request, programme_code: str, pk: int) -> Response:
        """Cancel a session that has not taken place (no attendance recorded)."""
        session, principal = _session_for_running(request, pk)
        data = CancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.session_cancel(actor=principal, session=session, reason=data.validated_data["reason"])
        return Response(TrainingSessionOutput(_session_row(request, pk)).data)


# --- Participants ---------------------------------------------------------------------------


class ParticipantOutput(serializers.ModelSerializer):
    factory_name = serializers.CharField(source="factory.name", read_only=True, allow_null=True)
    factory_public_id = serializers.CharField(source="factory.public_id", read_only=True, allow_null=True)
    days_attended = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Participant
        fields = [
            "id",
            "name",
            "sex",
            "role",
            "factory",
            "factory_public_id",
            "factory_name",
            "organisation",
            "days_attended",
            "enrolled_at",
        ]
        read_only_fields = fields


class ParticipantInput(serializers.ModelSerializer):
    class Meta:
        model = Participant
        fields = list(services.PARTICIPANT_FIELDS)
        extra_kwargs = {
            "factory": {"help_text": "A factory of the programme; else name the organisation."},
            "organisation": {"help_text": "For participants from outside the programme's factories."},
        }
        validators: list[Any] = []  # the service says when someone is enrolled twice

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        programme = self.context.get("programme")
        if programme is not None:
            factory = self.fields["factory"]
            factory.queryset = selectors.factories_for_choice(programme=programme)  # type: ignore[attr-defined]
            factory.error_messages["does_not_exist"] = _("No factory {pk_value} in this programme.")


class ParticipantPagination(CursorPagination):
    ordering = ("name", "id")
    page_size = 100


class ParticipantListCreate(generics.ListAPIView):
    """A session's participants (the programme's staff), and enrolment (those who run it)."""

    serializer_class = ParticipantOutput
    pagination_class = ParticipantPagination

    def get_queryset(self) -> QuerySet[Participant]:
        if getattr(self, "swagger_fake_view", False):
            return QuerySet(model=Participant).none()
        programme, principal = _staff(self.request)
        session = selectors.access_session(
            principal=principal, programme=programme, session_id=self.kwargs["pk"]
        )
        return selectors.session_participants(session=session)

    @extend_schema(request=ParticipantInput, responses={201: ParticipantOutput})
    def post(self, request: Request, programme_code: str, pk: int) -> Response:
        session, principal = _session_for_running(request, pk)
        data = ParticipantInput(data=request.data, context={"programme": session.programme})
        data.is_valid(raise_exception=True)
        participant = services.participant_enrol(actor=principal, session=session, data=data.validated_data)
        return Response(ParticipantOutput(participant).data, status=status.HTTP_201_CREATED)


class ParticipantDetail(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, programme_code: str, pk: int, participant_id: int) -> Response:
        """Remove a participant who has no attendance recorded."""
        session, principal = _session_for_running(request, pk)
        participant = selectors.access_participant(session=session, participant_id=participant_id)
        services.participant_remove(actor=principal, participant=participant)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Attendance -----------------------------------------------------------------------------


class DayOutput(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField()


class AttendanceMark(serializers.Serializer):
    participant = serializers.IntegerField(help_text="A participant of this session.")
    day = serializers.IntegerField(help_text="A day of this session (its id).")


class AttendanceOutput(serializers.Serializer):
    days = DayOutput(many=True)
    present = AttendanceMark(many=True, help_text="Who was present on which day.")


class AttendanceInput(serializers.Serializer):
    present = AttendanceMark(
        many=True, help_text="Everyone present on every day: marks left out are cleared."
    )


class AttendanceSaved(AttendanceOutput):
    added = serializers.IntegerField()
    removed = serializers.IntegerField()


def _attendance(session: Session) -> dict[str, Any]:
    marks = sorted(selectors.attendance_marks(session=session))
    return {
        "days": selectors.session_days(session=session),
        "present": [{"participant": p, "day": d} for p, d in marks],
    }


class SessionAttendance(APIView):
    """Attendance per day: one mark is one participant training day."""

    @extend_schema(responses=AttendanceOutput)
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        programme, principal = _staff(request)
        session = selectors.access_session(principal=principal, programme=programme, session_id=pk)
        return Response(AttendanceOutput(_attendance(session)).data)

    @extend_schema(request=AttendanceInput, responses=AttendanceSaved)
    def put(self, request: Request, programme_code: str, pk: int) -> Response:
        session, principal = _session_for_running(request, pk)
        data = AttendanceInput(data=request.data)
        data.is_valid(raise_exception=True)
        present = {(mark["participant"], mark["day"]) for mark in data.validated_data["present"]}
        added, removed = services.attendance_record(actor=principal, session=session, present=present)
        return Response(AttendanceSaved({**_attendance(session), "added": added, "removed": removed}).data)


# --- Evaluations ----------------------------------------------------------------------------


def _rating() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=5, help_text="1 (poor) to 5 (excellent).")


class EvaluationInput(serializers.Serializer):
    overall = _rating()
    content = _rating()
    trainers = _rating()
    usefulness = _rating()
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class EvaluationOutput(serializers.ModelSerializer):
    class Meta:
        model = Evaluation
        fields = ["participant", *RATING_FIELDS, "comment", "recorded_at"]
        read_only_fields = fields


class ParticipantEvaluation(APIView):
    """A participant's rating form (only participants who attended)."""

    @extend_schema(responses=EvaluationOutput)
    def get(self, request: Request, programme_code: str, pk: int, participant_id: int) -> Response:
        programme, principal = _staff(request)
        session = selectors.access_session(principal=principal, programme=programme, session_id=pk)
        participant = selectors.access_participant(session=session, participant_id=participant_id)
        evaluation = selectors.session_evaluations(session=session).get(participant.pk)
        if evaluation is None:
            raise Http404
        return Response(EvaluationOutput(evaluation).data)

    @extend_schema(request=EvaluationInput, responses=EvaluationOutput)
    def put(self, request: Request, programme_code: str, pk: int, participant_id: int) -> Response:
        session, principal = _session_for_running(request, pk)
        participant = selectors.access_participant(session=session, participant_id=participant_id)
        data = EvaluationInput(data=request.data)
        data.is_valid(raise_exception=True)
        evaluation = services.evaluation_record(
            actor=principal, participant=participant, data=data.validated_data
        )
        return Response(EvaluationOutput(evaluation).data)


# --- Entitlements ---------------------------------------------------------------------------


class EntitlementOutput(serializers.ModelSerializer):
    factory_public_id = serializers.CharField(source="factory.public_id", read_only=True)
    factory_name = serializers.CharField(source="factory.name", read_only=True)
    used = serializers.IntegerField(read_only=True, help_text="Days attended in the period.")
    booked = serializers.IntegerField(
        read_only=True, help_text="Days still to come in the period for which participants are enrolled."
    )
    remaining = serializers.IntegerField(read_only=True, help_text="Days less days used.")

    class Meta:
        model = Entitlement
        fields = [
            "factory",
            "factory_public_id",
            "factory_name",
            "cycle",
            "days",
            "used",
            "booked",
            "remaining",
            "starts_on",
            "ends_on",
            "note",
            "updated_at",
        ]
        read_only_fields = fields


class EntitlementQuery(serializers.Serializer):
    current = serializers.BooleanField(
        required=False, default=False, help_text="Only each factory's entitlement whose period holds today."
    )
    factory = serializers.IntegerField(required=False, min_value=1, help_text="One factory's entitlements.")


class EntitlementInput(serializers.Serializer):
    days = serializers.IntegerField(min_value=0, max_value=365, help_text="Training days of the cycle.")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class EntitlementPagination(CursorPagination):
    ordering = ("factory_id", "-cycle")
    page_size = 100


class EntitlementList(generics.ListAPIView):
    """Factories' training-day entitlements with the days used, booked and remaining."""

    serializer_class = EntitlementOutput
    pagination_class = EntitlementPagination

    def get_queryset(self) -> QuerySet[Entitlement]:
        if getattr(self, "swagger_fake_view", False):
            return QuerySet(model=Entitlement).none()
        programme, _principal = _staff(self.request)
        query = EntitlementQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        today = programme.today()
        rows = selectors.entitlement_list(
            programme=programme, today=today, current_only=query.validated_data["current"]
        )
        if query.validated_data.get("factory"):
            rows = rows.filter(factory_id=query.validated_data["factory"])
        return rows

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        page = super().paginate_queryset(queryset)
        # The use of a page's entitlements in two grouped queries (selectors.with_use).
        return None if page is None else selectors.with_use(page, today=programme_of(self.request).today())

    @extend_schema(parameters=[EntitlementQuery])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class EntitlementSet(APIView):
    @extend_schema(
        request=EntitlementInput,
        responses={200: EntitlementOutput, 201: EntitlementOutput},
        description="Set a factory's training days for one cycle (201 when the cycle is new). "
        "Cycles' periods may not overlap.",
    )
    def put(self, request: Request, programme_code: str, factory_id: int, cycle: int) -> Response:
        programme, principal = programme_of(request), principal_of(request)
        factory = factory_selectors.access_factory(
            principal=principal, factory_id=factory_id, programme=programme
        )
        if not permissions.can_manage_training(principal, programme.pk):
            raise Http404
        if not 1 <= cycle <= MAX_CYCLE:
            raise exceptions.ValidationError({"cycle": [_("A cycle is from 1 to %(n)s.") % {"n": MAX_CYCLE}]})
        data = EntitlementInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = (
            selectors.access_entitlement(programme=programme, factory_id=factory.pk, cycle=cycle) is None
        )
        services.entitlement_save(actor=principal, factory=factory, cycle=cycle, data=data.validated_data)
        row = next(
            e
            for e in selectors.factory_entitlements(factory=factory, today=programme.today())
            if e.cycle == cycle
        )
        return Response(
            EntitlementOutput(row).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


# --- Figures --------------------------------------------------------------------------------


class FigureQuery(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="Days attended from this date.")
    end = serializers.DateField(required=False, help_text="Days attended until this date.")
    course = serializers.IntegerField(required=False, min_value=1)
    factory = serializers.IntegerField(required=False, min_value=1)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    role = serializers.ChoiceField(choices=ParticipantRole.choices, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("start") and attrs.get("end") and attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": _("The period ends before it starts.")})
        return attrs

    def filters(self) -> selectors.FigureFilters:
        data = self.validated_data
        return selectors.FigureFilters(
            start=data.get("start"),
            end=data.get("end"),
            course_id=data.get("course"),
            factory_id=data.get("factory"),
            sex=data.get("sex") or "",
            role=data.get("role") or "",
        )


class FigureTotals(serializers.Serializer):
    ptd = serializers.IntegerField(help_text="Participant training days: attendance, not enrolments.")
    participants = serializers.IntegerField(help_text="Enrolments that attended at least one day.")
    female_ptd = serializers.IntegerField()
    female_participants = serializers.IntegerField()
    sessions = serializers.IntegerField()
    factories = serializers.IntegerField()


class FigureRow(serializers.Serializer):
    ptd = serializers.IntegerField()
    participants = serializers.IntegerField()


class SexRow(FigureRow):
    sex = serializers.CharField(source="participant__sex")
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label


class RoleRow(FigureRow):
    role = serializers.CharField(source="participant__role")
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label


class CourseRow(FigureRow):
    course = serializers.IntegerField(source="course_id")
    title = serializers.CharField()


class FactoryRow(FigureRow):
    factory = serializers.IntegerField(
        source="factory_id", allow_null=True, help_text="Null: outside organisations."
    )
    name = serializers.CharField(allow_null=True)
    public_id = serializers.CharField(allow_null=True)


class MonthRow(FigureRow):
    month = serializers.SerializerMethodField(help_text="YYYY-MM")

    def get_month(self, row: dict[str, Any]) -> str:
        return f"{row['month']:%Y-%m}"


class Ratings(serializers.Serializer):
    count = serializers.IntegerField()
    overall = serializers.FloatField(allow_null=True)
    content = serializers.FloatField(allow_null=True)
    trainers = serializers.FloatField(allow_null=True)
    usefulness = serializers.FloatField(allow_null=True)


class CourseRatings(Ratings):
    course = serializers.IntegerField(source="course_id")
    title = serializers.CharField()


class TrainerRatings(Ratings):
    trainer = serializers.IntegerField(source="user_id")
    name = serializers.CharField()


class FiguresOutput(serializers.Serializer):
    totals = FigureTotals()
    by_sex = SexRow(many=True)
    by_role = RoleRow(many=True)
    by_course = CourseRow(many=True)
    by_factory = FactoryRow(many=True)
    by_month = MonthRow(many=True)
    evaluations_by_course = CourseRatings(many=True)
    evaluations_by_trainer = TrainerRatings(many=True)


class Figures(APIView):
    @extend_schema(parameters=[FigureQuery], responses=FiguresOutput)
    def get(self, request: Request, programme_code: str) -> Response:
        """Participants and participant training days of held sessions, with average ratings."""
        programme, _principal = _staff(request)
        query = FigureQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        figures = selectors.training_figures(programme=programme, filters=query.filters())
        return Response(FiguresOutput(figures).data)


# --- One factory's training (its own users too) ---------------------------------------------


class FactorySessionOutput(serializers.ModelSerializer):
    course_title = serializers.CharField(source="course.title", read_only=True)
    cancelled = serializers.BooleanField(source="is_cancelled", read_only=True)
    participants = serializers.IntegerField(
        source="factory_participants", read_only=True, help_text="This factory's people enrolled."
    )
    participant_days = serializers.IntegerField(
        source="factory_ptd", read_only=True, help_text="Days attended by this factory's people."
    )

    class Meta:
        model = Session
        fields = [
            "id",
            "course",
            "course_title",
            "mode",
            "starts_on",
            "ends_on",
            "cancelled",
            "counts_toward_entitlement",
            "participants",
            "participant_days",
        ]
        read_only_fields = fields


class FactoryTrainingOutput(serializers.Serializer):
    factory = serializers.IntegerField(source="factory.pk")
    factory_public_id = serializers.CharField(source="factory.public_id")
    factory_name = serializers.CharField(source="factory.name")
    entitlements = EntitlementOutput(many=True)
    sessions = FactorySessionOutput(many=True)


class FactoryTraining(APIView):
    @extend_schema(
        responses={200: FactoryTrainingOutput, 404: OpenApiResponse(description="No such factory for you.")}
    )
    def get(self, request: Request, programme_code: str, factory_id: int) -> Response:
        """One factory's entitlements and the sessions its people took part in, with its own counts."""
        programme, principal = programme_of(request), principal_of(request)
        factory = factory_selectors.access_factory(
            principal=principal, factory_id=factory_id, programme=programme
        )
        if not permissions.can_view_factory_training(principal, factory):
            raise Http404
        today = programme.today()
        return Response(
            FactoryTrainingOutput(
                {
                    "factory": factory,
                    "entitlements": selectors.factory_entitlements(factory=factory, today=today),
                    "sessions": selectors.factory_sessions(factory=factory),
                }
            ).data
        )
