"""Read queries of the training app, scoped by the tenancy layer and joined for their pages.

Participant training days (PTD) are attendance rows: one participant present on one day.
"Participants" are enrolments that attended at least one day (a person in two sessions counts
twice: the platform keeps no registry of people across sessions, by design).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import TruncMonth
from django.http import Http404

from betterwork import permissions
from betterwork.models import Programme
from betterwork.permissions import Principal
from factories.models import Factory
from training.models import (
    RATING_FIELDS,
    Attendance,
    Course,
    CourseTemplate,
    Entitlement,
    Evaluation,
    Participant,
    ParticipantRole,
    Session,
    SessionDay,
    SessionTrainer,
    Sex,
)


class SubqueryCount(Subquery):
    """COUNT(*) of a correlated subquery, without grouping tricks."""

    template = "(SELECT count(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()


# --- The catalogue --------------------------------------------------------------------------


def template_list(*, active_only: bool = False) -> QuerySet[CourseTemplate]:
    qs = CourseTemplate.objects.all()
    return qs.filter(is_active=True) if active_only else qs


def templates_not_in_catalogue(*, programme: Programme) -> QuerySet[CourseTemplate]:
    copied = Course.objects.filter(programme=programme, template=OuterRef("pk"))
    return template_list(active_only=True).exclude(Exists(copied))


def course_list(*, programme: Programme, active_only: bool = False) -> QuerySet[Course]:
    qs = Course.objects.filter(programme=programme).select_related("template")
    if active_only:
        qs = qs.filter(is_active=True)
    held = Session.objects.filter(course=OuterRef("pk"), cancelled_at__isnull=True)
    return qs.annotate(sessions_count=SubqueryCount(held.values("pk")))


def access_course(*, principal: Principal, programme: Programme, course_id: int) -> Course:
    course = Course.objects.filter(programme=programme, pk=course_id).first()
    if course is None or not permissions.can_view_training(principal, programme.pk):
        raise Http404
    return course


# --- Sessions -------------------------------------------------------------------------------


def session_list(*, principal: Principal, programme: Programme) -> QuerySet[Session]:
    if not permissions.can_view_training(principal, programme.pk):
        return Session.objects.none()
    enrolled = Participant.objects.filter(session=OuterRef("pk"))
    return (
        Session.objects.filter(programme=programme)
        .select_related("course", "factory")
        .prefetch_related(Prefetch("trainer_links", queryset=SessionTrainer.objects.select_related("user")))
        .annotate(
            enrolled_count=SubqueryCount(enrolled.values("pk")),
            days_count=SubqueryCount(SessionDay.objects.filter(session=OuterRef("pk")).values("pk")),
            attended_days=SubqueryCount(Attendance.objects.filter(day__session=OuterRef("pk")).values("pk")),
        )
    )


def sessions_with_factory(sessions: QuerySet[Session], *, factory_id: int) -> QuerySet[Session]:
    """Sessions held for a factory or attended by its people."""
    enrolled = Participant.objects.filter(session=OuterRef("pk"), factory_id=factory_id)
    return sessions.filter(Q(factory_id=factory_id) | Q(Exists(enrolled)))


def access_session(*, principal: Principal, programme: Programme, session_id: int) -> Session:
    """One session for the programme's staff; absent and forbidden look alike (404)."""
    session = (
        Session.objects.filter(programme=programme, pk=session_id)
        .select_related("programme", "course", "factory", "created_by")
        .first()
    )
    if session is None or not permissions.can_view_training(principal, programme.pk):
        raise Http404
    return session


def session_trainers(*, session: Session) -> list[Any]:
    return [
        link.user
        for link in SessionTrainer.objects.filter(session=session)
        .select_related("user")
        .order_by("user__full_name")
    ]


def session_days(*, session: Session) -> list[SessionDay]:
    return list(SessionDay.objects.filter(session=session).order_by("date"))


def session_participants(*, session: Session) -> QuerySet[Participant]:
    return (
        Participant.objects.filter(session=session)
        .select_related("factory")
        .annotate(days_attended=Count("attendance"))
        .order_by("name", "id")
    )


def attendance_marks(*, session: Session) -> set[tuple[int, int]]:
    return set(Attendance.objects.filter(day__session=session).values_list("participant_id", "day_id"))


def access_participant(*, session: Session, participant_id: int) -> Participant:
    participant = (
        Participant.objects.filter(session=session, pk=participant_id).select_related("factory").first()
    )
    if participant is None:
        raise Http404
    return participant


def session_evaluations(*, session: Session) -> dict[int, Evaluation]:
    return {e.participant_id: e for e in Evaluation.objects.filter(participant__session=session)}


def evaluation_summary(*, session: Session) -> dict[str, Any]:
    return Evaluation.objects.filter(participant__session=session).aggregate(
        count=Count("id"),
        overall=Avg("overall"),
        content=Avg("content"),
        trainers=Avg("trainers"),
        usefulness=Avg("usefulness"),
    )


# --- Figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureFilters:
    start: dt.date | None = None
    end: dt.date | None = None
    course_id: int | None = None
    factory_id: int | None = None
    sex: str = ""
    role: str = ""


@dataclass
class TrainingFigures:
    totals: dict[str, Any]
    by_sex: list[dict[str, Any]]
    by_role: list[dict[str, Any]]
    by_course: list[dict[str, Any]]
    by_factory: list[dict[str, Any]]
    by_month: list[dict[str, Any]]
    evaluations_by_course: list[dict[str, Any]] = field(default_factory=list)
    evaluations_by_trainer: list[dict[str, Any]] = field(default_factory=list)


def attended_days(*, programme: Programme, filters: FigureFilters) -> QuerySet[Attendance]:
    """Attendance rows (participant training days) of held sessions, filtered."""
    qs = Attendance.objects.filter(programme=programme, day__session__cancelled_at__isnull=True)
    if filters.start:
        qs = qs.filter(day__date__gte=filters.start)
    if filters.end:
        qs = qs.filter(day__date__lte=filters.end)
    return _of_course_and_people(qs, filters, session="day__session")


def _of_course_and_people(qs: Any, filters: FigureFilters, *, session: str) -> Any:
    """The filters on the course and on the participants, shared by attendance and evaluations."""
    if filters.course_id:
        qs = qs.filter(**{f"{session}__course_id": filters.course_id})
    if filters.factory_id:
        qs = qs.filter(participant__factory_id=filters.factory_id)
    if filters.sex:
        qs = qs.filter(participant__sex=filters.sex)
    if filters.role:
        qs = qs.filter(participant__role=filters.role)
    return qs


def _grouped(qs: QuerySet[Attendance], *keys: str, **named: Any) -> list[dict[str, Any]]:
    return list(
        qs.values(*keys, **named)
        .annotate(ptd=Count("id"), participants=Count("participant", distinct=True))
        .order_by("-ptd", *keys, *named)
    )


def training_figures(*, programme: Programme, filters: FigureFilters) -> TrainingFigures:
    """Participants and participant training days by sex, role, course, factory and month."""
    qs = attended_days(programme=programme, filters=filters)
    totals = qs.aggregate(
        ptd=Count("id"),
        participants=Count("participant", distinct=True),
        female_ptd=Count("id", filter=Q(participant__sex=Sex.FEMALE)),
        female_participants=Count("participant", filter=Q(participant__sex=Sex.FEMALE), distinct=True),
        sessions=Count("day__session", distinct=True),
        factories=Count("participant__factory", distinct=True),
    )
    sex_labels, role_labels = dict(Sex.choices), dict(ParticipantRole.choices)
    by_sex = [
        {**row, "label": sex_labels.get(row["participant__sex"], "")}
        for row in _grouped(qs, "participant__sex")
    ]
    by_role = [
        {**row, "label": role_labels.get(row["participant__role"], "")}
        for row in _grouped(qs, "participant__role")
    ]
    by_course = _grouped(qs, course_id=F("day__session__course_id"), title=F("day__session__course__title"))
    by_factory = _grouped(
        qs,
        factory_id=F("participant__factory_id"),
        name=F("participant__factory__name"),
        public_id=F("participant__factory__public_id"),
    )
    by_month = sorted(_grouped(qs, month=TruncMonth("day__date")), key=lambda row: row["month"])
    figures = TrainingFigures(totals, by_sex, by_role, by_course, by_factory, by_month)
    figures.evaluations_by_course, figures.evaluations_by_trainer = evaluation_averages(
        programme=programme, filters=filters
    )
    return figures


RATING_AVERAGES = {
    "overall": Avg("overall"),
    "content": Avg("content"),
    "trainers": Avg("trainers"),
    "usefulness": Avg("usefulness"),
}


def evaluation_averages(
    *, programme: Programme, filters: FigureFilters
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Average ratings per course and per trainer (a trainer counts every evaluation of their sessions)."""
    qs = Evaluation.objects.filter(programme=programme, participant__session__cancelled_at__isnull=True)
    if filters.start:
        qs = qs.filter(participant__session__ends_on__gte=filters.start)
    if filters.end:
        qs = qs.filter(participant__session__starts_on__lte=filters.end)
    qs = _of_course_and_people(qs, filters, session="participant__session")
    by_course = list(
        qs.values(
            course_id=F("participant__session__course_id"), title=F("participant__session__course__title")
        )
        .annotate(count=Count("id"), **RATING_AVERAGES)
        .order_by("title")
    )
    trainer_rows = (
        SessionTrainer.objects.filter(programme=programme, session__participants__evaluation__in=qs)
        .values("user_id", name=F("user__full_name"))
        .annotate(
            count=Count("session__participants__evaluation"),
            **{key: Avg(f"session__participants__evaluation__{key}") for key in RATING_AVERAGES},
        )
        .order_by("name")
    )
    return by_course, list(trainer_rows)


# --- Entitlements ---------------------------------------------------------------------------


def entitlement_list(
    *, programme: Programme, today: dt.date, current_only: bool = False
) -> QuerySet[Entitlement]:
    """Entitlements of the programme (or only those whose period holds today), without their use:
    page them first, then ``with_use`` the page."""
    qs = Entitlement.objects.filter(programme=programme).select_related("factory")
    if current_only:
        qs = qs.filter(starts_on__lte=today, ends_on__gte=today)
    return qs


ATTENDED = "factory__training_participants__attendance"
ENROLLED_DAYS = "factory__training_participants__session__days"


def with_use(entitlements: Iterable[Entitlement], *, today: dt.date) -> list[Entitlement]:
    """Set ``used`` (participant training days of the factory's people in the period, in sessions
    that count) and ``booked`` (days still to come in the period its people are enrolled in) on
    each entitlement, with two grouped queries for the lot.

    Grouped joins from the few entitlements of a page: a count correlated to each row would let
    PostgreSQL guess the date range's selectivity blind and scan every day of the programme per
    entitlement (60x slower at 900 entitlements, see benchmarks/training_figures.py)."""
    rows = list(entitlements)
    ids = [e.pk for e in rows]
    used = _grouped_count(
        ids,
        ATTENDED,
        Q(
            **{
                f"{ATTENDED}__day__date__gte": F("starts_on"),
                f"{ATTENDED}__day__date__lte": F("ends_on"),
                f"{ATTENDED}__day__session__counts_toward_entitlement": True,
                f"{ATTENDED}__day__session__cancelled_at__isnull": True,
            }
        ),
    )
    booked = _grouped_count(
        ids,
        ENROLLED_DAYS,
        Q(
            **{
                f"{ENROLLED_DAYS}__date__gt": today,
                f"{ENROLLED_DAYS}__date__gte": F("starts_on"),
                f"{ENROLLED_DAYS}__date__lte": F("ends_on"),
                "factory__training_participants__session__counts_toward_entitlement": True,
                "factory__training_participants__session__cancelled_at__isnull": True,
            }
        ),
    )
    for entitlement in rows:
        entitlement.used = used.get(entitlement.pk, 0)  # type: ignore[attr-defined]
        entitlement.booked = booked.get(entitlement.pk, 0)  # type: ignore[attr-defined]
    return rows


def _grouped_count(ids: list[int], path: str, condition: Q) -> dict[int, int]:
    if not ids:
        return {}
    counts = Entitlement.objects.filter(pk__in=ids).values("pk").annotate(n=Count(path, filter=condition))
    return {row["pk"]: row["n"] for row in counts}


def current_entitlements(*, programme: Programme, today: dt.date) -> list[Entitlement]:
    """Each factory's entitlement whose period holds today, with its use."""
    return with_use(entitlement_list(programme=programme, today=today, current_only=True), today=today)


def factory_entitlements(*, factory: Factory, today: dt.date) -> list[Entitlement]:
    return with_use(
        Entitlement.objects.filter(factory=factory).select_related("factory").order_by("-cycle"), today=today
    )


def access_entitlement(*, programme: Programme, factory_id: int, cycle: int) -> Entitlement | None:
    return Entitlement.objects.filter(programme=programme, factory_id=factory_id, cycle=cycle).first()


def suggested_entitlement(*, factory: Factory, today: dt.date, days: int = 15) -> dict[str, Any]:
    """The next cycle's entitlement: starts the day after the last one ends (else today) for a year."""
    last = Entitlement.objects.filter(factory=factory).order_by("-cycle").first()
    if last is None:
        start = factory.enrolled_on or today
        return {"cycle": 1, "days": days, "starts_on": start, "ends_on": _a_year_on(start)}
    start = last.ends_on + dt.timedelta(days=1)
    return {"cycle": last.cycle + 1, "days": last.days, "starts_on": start, "ends_on": _a_year_on(start)}


def _a_year_on(start: dt.date) -> dt.date:
    try:
        return start.replace(year=start.year + 1) - dt.timedelta(days=1)
    except ValueError:  # 29 February
        return start.replace(year=start.year + 1, day=28)


def factory_sessions(*, factory: Factory) -> QuerySet[Session]:
    """Sessions a factory's people took part in (or that were held for it), with its own counts."""
    own = Participant.objects.filter(session=OuterRef("pk"), factory=factory)
    return (
        Session.objects.filter(Q(factory=factory) | Q(Exists(own)))
        .select_related("course")
        .annotate(
            factory_participants=SubqueryCount(own.values("pk")),
            factory_ptd=SubqueryCount(
                Attendance.objects.filter(day__session=OuterRef("pk"), participant__factory=factory).values(
                    "pk"
                )
            ),
        )
        .order_by("-starts_on", "-id")
    )


def programme_participants(*, programme: Programme, today: dt.date) -> Iterator[Participant]:
    """Every participant of the programme's sessions, with their session, course and factories,
    ``days_attended``, ``days_held`` (the session's days that have come) and their evaluation's
    ratings (``rating_overall`` ... , None without one); newest session first, read 2,000 at a
    time: the same queries for any number of participants."""
    days_held = SessionDay.objects.filter(session=OuterRef("session"), date__lte=today)
    return (
        Participant.objects.filter(programme=programme)
        .select_related("session__course", "session__factory", "factory")
        .annotate(
            days_attended=SubqueryCount(Attendance.objects.filter(participant=OuterRef("pk")).values("pk")),
            days_held=SubqueryCount(days_held.values("pk")),
            **{f"rating_{key}": F(f"evaluation__{key}") for key in RATING_FIELDS},
        )
        .order_by("-session__starts_on", "-session_id", "name", "id")
        .iterator(chunk_size=2000)
    )


def factories_for_choice(*, programme: Programme) -> QuerySet[Factory]:
    return Factory.objects.filter(programme=programme).only("pk", "name", "public_id").order_by("name")
