"""Writes of the training app: each checked, in one transaction, and audited."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat, Lower
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from betterwork import audit, notifications, permissions
from betterwork import selectors as people_selectors
from betterwork.models import Programme, User
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
    Session,
    SessionDay,
    SessionMode,
    SessionTrainer,
)

COURSE_FIELDS = ("title", "topics", "days", "audience", "is_active")
SESSION_FIELDS = (
    "course",
    "mode",
    "factory",
    "venue",
    "online",
    "online_link",
    "capacity",
    "language",
    "counts_toward_entitlement",
    "other_trainers",
    "notes",
)
PARTICIPANT_FIELDS = ("name", "sex", "role", "factory", "organisation")
MAX_SESSION_DAYS = 10


def trainer_ids(session: Session) -> set[int]:
    return set(SessionTrainer.objects.filter(session=session).values_list("user_id", flat=True))


def _require_run(actor: Principal, session: Session) -> None:
    if not permissions.can_run_session(actor, session, trainer_ids(session)):
        raise PermissionDenied


# --- The catalogue --------------------------------------------------------------------------


@transaction.atomic
def template_save(
    *, actor: Principal, template: CourseTemplate | None, data: dict[str, Any]
) -> CourseTemplate:
    """Global course templates are the global team's."""
    if not permissions.can_manage_tool(actor):
        raise PermissionDenied
    template = template or CourseTemplate()
    before = audit.snapshot(template) if template.pk else None
    for key in ("code", "title", "topics", "days", "audience", "is_active"):
        if key in data:
            setattr(template, key, data[key])
    template.full_clean()
    template.save()
    audit.record_changes(
        actor=actor.user,
        action="training.template.save",
        obj=template,
        programme=None,
        before=before,
        after=audit.snapshot(template),
    )
    return template


@transaction.atomic
def course_from_template(*, actor: Principal, programme: Programme, template: CourseTemplate) -> Course:
    """Copy a global template into the programme's catalogue, to adapt there."""
    if not permissions.can_manage_training(actor, programme.pk):
        raise PermissionDenied
    if (
        Course.objects.filter(programme=programme)
        .filter(Q(template=template) | Q(title__iexact=template.title))
        .exists()
    ):
        raise ValidationError(_("The catalogue already has “%(title)s”.") % {"title": template.title})
    course = Course(
        programme=programme,
        template=template,
        title=template.title,
        topics=template.topics,
        days=template.days,
        audience=template.audience,
    )
    course.full_clean()
    course.save()
    audit.record(
        actor=actor.user,
        action="training.course.create",
        obj=course,
        programme=programme,
        after=audit.snapshot(course),
    )
    return course


def _unique_title(programme: Programme, title: str, exclude: int | None) -> None:
    clash = (
        Course.objects.filter(programme=programme)
        .annotate(lower=Lower("title"))
        .filter(lower=title.strip().lower())
    )
    if exclude:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise ValidationError({"title": _("The catalogue already has a course with this title.")})


@transaction.atomic
def course_save(
    *, actor: Principal, programme: Programme, course: Course | None, data: dict[str, Any]
) -> Course:
    if not permissions.can_manage_training(actor, programme.pk):
        raise PermissionDenied
    changes = {key: value for key, value in data.items() if key in COURSE_FIELDS}
    if "title" in changes:
        _unique_title(programme, changes["title"], course.pk if course else None)
    if course is None:
        course = Course(programme=programme, **changes)
        course.full_clean()
        course.save()
        audit.record(
            actor=actor.user,
            action="training.course.create",
            obj=course,
            programme=programme,
            after=audit.snapshot(course),
        )
        return course
    locked = Course.objects.select_for_update().get(pk=course.pk)
    audit.save_changes(
        actor=actor.user,
        instance=locked,
        changes=changes,
        action="training.course.update",
        programme=programme,
    )
    return locked


# --- Sessions -------------------------------------------------------------------------------


def _clean_session(
    programme: Programme, data: dict[str, Any], dates: Sequence[dt.date], trainers: Iterable[User]
) -> None:
    errors: dict[str, list[str]] = {}
    if not dates:
        errors.setdefault("dates", []).append(_("Give the session at least one day."))
    elif len(set(dates)) != len(dates):
        errors.setdefault("dates", []).append(_("Each day may be listed once."))
    elif len(dates) > MAX_SESSION_DAYS:
        errors.setdefault("dates", []).append(
            _("A session has at most %(n)s days; schedule a longer course as several sessions.")
            % {"n": MAX_SESSION_DAYS}
        )
    course = data.get("course")
    if course is not None and course.programme_id != programme.pk:
        errors.setdefault("course", []).append(_("Choose a course of this programme's catalogue."))
    factory = data.get("factory")
    if data.get("mode") == SessionMode.FACTORY:
        if factory is None:
            errors.setdefault("factory", []).append(_("Choose the factory this session is for."))
        elif factory.programme_id != programme.pk:
            errors.setdefault("factory", []).append(_("Choose a factory of this programme."))
    staff = set(people_selectors.programme_staff(programme=programme).values_list("pk", flat=True))
    outsiders = [str(user) for user in trainers if user.pk not in staff]
    if outsiders:
        errors.setdefault("trainers", []).append(
            _(
                "Trainers must be staff of this programme (not: %(names)s); name others under “other trainers”."
            )
            % {"names": ", ".join(outsiders)}
        )
    if data.get("online") and not data.get("venue") and not data.get("online_link"):
        errors.setdefault("online_link", []).append(_("Give the meeting link participants will use."))
    if errors:
        raise ValidationError(errors)


def _set_days(session: Session, dates: Sequence[dt.date]) -> None:
    wanted = set(dates)
    existing = {day.date: day for day in SessionDay.objects.filter(session=session)}
    dropped = [day for date, day in existing.items() if date not in wanted]
    attended = {a.day.date for a in Attendance.objects.filter(day__in=dropped).select_related("day")}
    if attended:
        raise ValidationError(
            {
                "dates": _("Attendance was recorded on %(days)s: clear it before removing the day.")
                % {"days": ", ".join(f"{d:%Y-%m-%d}" for d in sorted(attended))}
            }
        )
    SessionDay.objects.filter(pk__in=[day.pk for day in dropped]).delete()
    SessionDay.objects.bulk_create(
        [
            SessionDay(programme_id=session.programme_id, session=session, date=d)
            for d in sorted(wanted - existing.keys())
        ]
    )


def _set_trainers(session: Session, trainers: Iterable[User]) -> None:
    wanted = {user.pk for user in trainers}
    SessionTrainer.objects.filter(session=session).exclude(user_id__in=wanted).delete()
    have = set(SessionTrainer.objects.filter(session=session).values_list("user_id", flat=True))
    SessionTrainer.objects.bulk_create(
        [
            SessionTrainer(programme_id=session.programme_id, session=session, user_id=pk)
            for pk in sorted(wanted - have)
        ]
    )


def _session_picture(session: Session) -> dict[str, Any]:
    picture = audit.snapshot(session)
    picture["days"] = [
        f"{d:%Y-%m-%d}" for d in SessionDay.objects.filter(session=session).values_list("date", flat=True)
    ]
    picture["trainers"] = sorted(trainer_ids(session))
    return picture


@transaction.atomic
def session_create(
    *,
    actor: Principal,
    programme: Programme,
    data: dict[str, Any],
    dates: Sequence[dt.date],
    trainers: Sequence[User],
) -> Session:
    if not permissions.can_schedule_session(actor, programme.pk):
        raise PermissionDenied
    fields = {key: value for key, value in data.items() if key in SESSION_FIELDS}
    if fields.get("mode") == SessionMode.OPEN:
        fields["factory"] = None
    _clean_session(programme, fields, dates, trainers)
    session = Session(
        programme=programme, created_by=actor.user, starts_on=min(dates), ends_on=max(dates), **fields
    )
    session.full_clean()
    session.save()
    _set_days(session, dates)
    # Whoever schedules a session runs it, unless they named other trainers.
    _set_trainers(session, trainers or ([actor.user] if actor.user else []))
    audit.record(
        actor=actor.user,
        action="training.session.create",
        obj=session,
        programme=programme,
        after=_session_picture(session),
    )
    return session


@transaction.atomic
def session_update(
    *,
    actor: Principal,
    session: Session,
    data: dict[str, Any],
    dates: Sequence[dt.date],
    trainers: Sequence[User],
) -> Session:
    locked = Session.objects.select_for_update().select_related("programme").get(pk=session.pk)
    _require_run(actor, locked)
    if locked.is_cancelled:
        raise ValidationError(_("This session was cancelled."))
    fields = {key: value for key, value in data.items() if key in SESSION_FIELDS}
    if fields.get("mode") == SessionMode.OPEN:
        fields["factory"] = None
    _clean_session(locked.programme, {**audit_fields(locked), **fields}, dates, trainers)
    if fields.get("mode") == SessionMode.FACTORY or (
        locked.mode == SessionMode.FACTORY and "factory" in fields
    ):
        factory = fields.get("factory", locked.factory)
        others = Participant.objects.filter(session=locked).exclude(factory=factory)
        if others.exists():
            raise ValidationError(
                {
                    "factory": _(
                        "Some participants come from elsewhere: open the session to many factories, or remove them first."
                    )
                }
            )
    if not trainers and not fields.get("other_trainers", locked.other_trainers):
        raise ValidationError(
            {"trainers": _("A session needs a trainer: tick one, or name trainers from outside.")}
        )
    if "capacity" in fields and fields["capacity"] < Participant.objects.filter(session=locked).count():
        raise ValidationError({"capacity": _("More participants are enrolled than this many places.")})
    before = _session_picture(locked)
    for key, value in fields.items():
        setattr(locked, key, value)
    locked.starts_on, locked.ends_on = min(dates), max(dates)
    locked.full_clean()
    locked.save()
    _set_days(locked, dates)
    _set_trainers(locked, trainers)
    after = _session_picture(locked)
    if after["days"] != before["days"]:
        _tell_factories(locked)
    audit.record_changes(
        actor=actor.user,
        action="training.session.update",
        obj=locked,
        programme=locked.programme_id,
        before=before,
        after=after,
    )
    return locked


def audit_fields(session: Session) -> dict[str, Any]:
    return {key: getattr(session, key) for key in SESSION_FIELDS}


@transaction.atomic
def session_cancel(*, actor: Principal, session: Session, reason: str) -> Session:
    locked = Session.objects.select_for_update().get(pk=session.pk)
    _require_run(actor, locked)
    if locked.is_cancelled:
        return locked
    if Attendance.objects.filter(day__session=locked).exists():
        raise ValidationError(_("Attendance was recorded: a session that took place cannot be cancelled."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the session is cancelled.")})
    locked.cancelled_at = timezone.now()
    locked.cancel_reason = reason.strip()
    locked.save(update_fields=["cancelled_at", "cancel_reason"])
    _tell_factories(locked)
    audit.record(
        actor=actor.user,
        action="training.session.cancel",
        obj=locked,
        programme=locked.programme_id,
        reason=locked.cancel_reason,
    )
    return locked


def _tell_factories(session: Session) -> None:
    """The users of each factory with people enrolled learn of a cancellation or new dates."""
    enrolled = Counter(
        Participant.objects.filter(session=session, factory__isnull=False).values_list(
            "factory_id", flat=True
        )
    )
    if not enrolled:
        return
    days = [
        f"{d:%Y-%m-%d}" for d in SessionDay.objects.filter(session=session).values_list("date", flat=True)
    ]
    factories = Factory.objects.filter(pk__in=enrolled).select_related("programme")
    staff = people_selectors.factory_staff_of(factory_ids=set(enrolled))
    for factory in factories:
        notifications.notify(
            recipients=staff.get(factory.pk, []),
            programme=session.programme_id,
            template="notifications/training_session_changed",
            context={
                "session": session,
                "factory": factory.name,
                "enrolled": enrolled[factory.pk],
                "days": days,
            },
            link=reverse(
                "training:factory",
                kwargs={"programme_code": factory.programme.code, "factory_id": factory.pk},
            ),
        )


# --- Participants, attendance, evaluations --------------------------------------------------


def _clean_participant(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    fields = {key: data.get(key) or ("" if key != "factory" else None) for key in PARTICIPANT_FIELDS}
    fields["name"] = " ".join(str(fields["name"]).split())
    fields["organisation"] = " ".join(str(fields["organisation"]).split())
    factory: Factory | None = data.get("factory")
    if factory is not None:
        fields["organisation"] = ""
        if factory.programme_id != session.programme_id:
            raise ValidationError(
                {"factory": _("Choose a factory of this programme, or name the organisation.")}
            )
    if session.mode == SessionMode.FACTORY and (factory is None or factory.pk != session.factory_id):
        raise ValidationError(
            {"factory": _("This session is for one factory: its participants come from it.")}
        )
    if factory is None and not fields["organisation"]:
        raise ValidationError(
            {"organisation": _("Choose the participant's factory or name their organisation.")}
        )
    if not fields["name"]:
        raise ValidationError({"name": _("Give the participant's name.")})
    return fields


def _same_person(session: Session, fields: dict[str, Any]) -> Q:
    return Q(
        session=session,
        name__iexact=fields["name"],
        factory=fields["factory"],
        organisation__iexact=fields["organisation"],
    )


@transaction.atomic
def participant_enrol(*, actor: Principal, session: Session, data: dict[str, Any]) -> Participant:
    locked = Session.objects.select_for_update().get(pk=session.pk)  # enrolments queue up for the last places
    _require_run(actor, locked)
    if locked.is_cancelled:
        raise ValidationError(_("This session was cancelled."))
    fields = _clean_participant(locked, data)
    if Participant.objects.filter(_same_person(locked, fields)).exists():
        raise ValidationError({"name": _("%(name)s is already enrolled.") % {"name": fields["name"]}})
    if Participant.objects.filter(session=locked).count() >= locked.capacity:
        raise ValidationError(_("The session is full (%(n)s places).") % {"n": locked.capacity})
    participant = Participant(programme_id=locked.programme_id, session=locked, **fields)
    participant.full_clean(validate_constraints=False)
    participant.save()
    audit.record(
        actor=actor.user,
        action="training.participant.enrol",
        obj=participant,
        programme=locked.programme_id,
        after=audit.snapshot(participant, ["session", "sex", "role", "factory", "organisation"]),
    )
    return participant


@transaction.atomic
def participant_remove(*, actor: Principal, participant: Participant) -> None:
    session = Session.objects.select_for_update().get(pk=participant.session_id)
    _require_run(actor, session)
    if Attendance.objects.filter(participant=participant).exists():
        raise ValidationError(
            _("%(name)s attended: clear their attendance before removing them.") % {"name": participant.name}
        )
    audit.record(
        actor=actor.user,
        action="training.participant.remove",
        obj=participant,
        programme=session.programme_id,
        before=audit.snapshot(participant, ["session", "sex", "role", "factory", "organisation"]),
    )
    participant.delete()


def attendance_grid_set(
    *, session: Session, present: set[tuple[int, int]], today: dt.date
) -> tuple[int, int]:
    """Make attendance equal ``present`` ((participant id, day id) pairs); returns (added, removed).
    The caller holds the session's lock and has checked permission."""
    days = {day.pk: day for day in SessionDay.objects.filter(session=session)}
    participants = set(Participant.objects.filter(session=session).values_list("pk", flat=True))
    unknown = [(p, d) for p, d in present if p not in participants or d not in days]
    if unknown:
        raise ValidationError(_("Some marks are for participants or days of another session."))
    future = sorted({days[d].date for _p, d in present if days[d].date > today})
    if future:
        raise ValidationError(
            _("Attendance can be recorded only for days that have come (not %(days)s).")
            % {"days": ", ".join(f"{d:%Y-%m-%d}" for d in future)}
        )
    have = set(Attendance.objects.filter(day__session=session).values_list("participant_id", "day_id"))
    removed = have - present
    added = present - have
    if removed:
        gone = Q()
        for participant_id, day_id in removed:
            gone |= Q(participant_id=participant_id, day_id=day_id)
        Attendance.objects.filter(day__session=session).filter(gone).delete()
    Attendance.objects.bulk_create(
        [Attendance(programme_id=session.programme_id, participant_id=p, day_id=d) for p, d in sorted(added)]
    )
    return len(added), len(removed)


@transaction.atomic
def attendance_record(
    *, actor: Principal, session: Session, present: set[tuple[int, int]]
) -> tuple[int, int]:
    """Record who was present on which day, for the whole session at once."""
    locked = Session.objects.select_for_update().select_related("programme").get(pk=session.pk)
    _require_run(actor, locked)
    if locked.is_cancelled:
        raise ValidationError(_("This session was cancelled."))
    added, removed = attendance_grid_set(session=locked, present=present, today=locked.programme.today())
    if added or removed:
        audit.record(
            actor=actor.user,
            action="training.attendance.record",
            obj=locked,
            programme=locked.programme_id,
            after={"added": added, "removed": removed, "participant_days": len(present)},
        )
    return added, removed


@transaction.atomic
def evaluation_record(*, actor: Principal, participant: Participant, data: dict[str, Any]) -> Evaluation:
    """A participant's rating form, typed in from paper or given online; one per participant."""
    session = Session.objects.select_for_update().get(pk=participant.session_id)
    _require_run(actor, session)
    if not Attendance.objects.filter(participant=participant).exists():
        raise ValidationError(_("Only participants who attended can evaluate the session."))
    errors = {
        field: _("Rate from 1 (poor) to 5 (excellent).")
        for field in RATING_FIELDS
        if not isinstance(data.get(field), int) or not 1 <= data[field] <= 5
    }
    if errors:
        raise ValidationError(errors)
    evaluation = Evaluation.objects.filter(participant=participant).first() or Evaluation(
        programme_id=session.programme_id, participant=participant
    )
    before = audit.snapshot(evaluation) if evaluation.pk else None
    for field in RATING_FIELDS:
        setattr(evaluation, field, data[field])
    evaluation.comment = (data.get("comment") or "").strip()
    evaluation.recorded_by = actor.user
    evaluation.save()
    audit.record_changes(
        actor=actor.user,
        action="training.evaluation.record",
        obj=evaluation,
        programme=session.programme_id,
        before=before,
        after=audit.snapshot(evaluation, [*RATING_FIELDS, "comment"]),
    )
    return evaluation


# --- Entitlements ---------------------------------------------------------------------------


@transaction.atomic
def entitlement_save(*, actor: Principal, factory: Factory, cycle: int, data: dict[str, Any]) -> Entitlement:
    """Set a factory's training days for one cycle; cycles' periods never overlap, so that each
    attended day counts against one entitlement only."""
    if not permissions.can_manage_training(actor, factory.programme_id):
        raise PermissionDenied
    Factory.objects.select_for_update().get(pk=factory.pk)  # one writer per factory's entitlements
    starts_on, ends_on = data["starts_on"], data["ends_on"]
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("The period ends before it starts.")})
    overlapping = (
        Entitlement.objects.filter(factory=factory, starts_on__lte=ends_on, ends_on__gte=starts_on)
        .exclude(cycle=cycle)
        .first()
    )
    if overlapping is not None:
        raise ValidationError(
            {
                "starts_on": _(
                    "Cycle %(cycle)s already runs from %(start)s to %(end)s; periods may not overlap."
                )
                % {
                    "cycle": overlapping.cycle,
                    "start": f"{overlapping.starts_on:%Y-%m-%d}",
                    "end": f"{overlapping.ends_on:%Y-%m-%d}",
                }
            }
        )
    entitlement = Entitlement.objects.filter(factory=factory, cycle=cycle).first() or Entitlement(
        programme_id=factory.programme_id, factory=factory, cycle=cycle
    )
    before = audit.snapshot(entitlement) if entitlement.pk else None
    entitlement.days = data["days"]
    entitlement.starts_on, entitlement.ends_on = starts_on, ends_on
    entitlement.note = (data.get("note") or "").strip()
    entitlement.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            entitlement.save()
    except IntegrityError as error:
        raise ValidationError(_("These figures are not possible for an entitlement.")) from error
    audit.record_changes(
        actor=actor.user,
        action="training.entitlement.save",
        obj=entitlement,
        programme=factory.programme_id,
        before=before,
        after=audit.snapshot(entitlement),
    )
    return entitlement


@transaction.atomic
def participant_names_erase(*, programme: Programme, today: dt.date, dry_run: bool = False) -> int:
    """Erase the names of participants whose session ended more than the kept period ago; the
    figures (sex, role, factory, attendance) stay. A system job: no acting person. ``dry_run``
    only counts them."""
    cutoff = today - dt.timedelta(days=settings.TRAINING_NAMES_KEPT_DAYS)
    old = Participant.objects.filter(
        programme=programme, session__ends_on__lt=cutoff, name_erased_at__isnull=True
    )
    if dry_run:
        return old.count()
    with translation.override(programme.main_language):  # kept as data: in the programme's language
        anonymous_prefix = _("Participant") + " "  # "Participant 2186": the name is gone for good
    erased = old.update(
        name=Concat(Value(anonymous_prefix), Cast("id", CharField())), name_erased_at=timezone.now()
    )
    if erased:
        audit.record(
            actor=None,
            action="training.names.erase",
            obj=programme,
            programme=programme,
            after={"participants": erased, "sessions_ended_before": cutoff.isoformat()},
        )
    return erased
