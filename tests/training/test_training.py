"""Training: figures counted per attended day, entitlement arithmetic, the rules of who may do
what, tenancy, and the pages as their users see them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation

from betterwork import tenancy
from betterwork.models import AuditEvent, Role
from betterwork.permissions import Principal
from tests.model_factories import FactoryFactory, user_with_role
from tests.training.conftest import run, schedule
from training import selectors, services
from training.models import Attendance, Audience, Course, CourseTemplate, Participant, SessionMode

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(kh, officer):
    return run(
        officer,
        kh,
        services.course_save,
        programme=kh,
        course=None,
        data={
            "title": "Supervisory skills",
            "days": 3,
            "audience": Audience.SUPERVISORS,
            "topics": "Feedback",
        },
    )


def past_days(kh, n, ago=30):
    start = kh.today() - dt.timedelta(days=ago)
    return [start + dt.timedelta(days=d) for d in range(n)]


@pytest.fixture
def session(kh, officer, course):
    return schedule(
        officer,
        kh,
        {"course": course, "mode": SessionMode.OPEN, "capacity": 5, "venue": "Programme office"},
        past_days(kh, 3),
    )


def enrol(user, kh, session, name, factory=None, organisation="", sex="female", role="worker"):
    data = {"name": name, "sex": sex, "role": role, "factory": factory, "organisation": organisation}
    return run(user, kh, services.participant_enrol, session=session, data=data)


def mark(user, kh, session, pairs):
    return run(user, kh, services.attendance_record, session=session, present=set(pairs))


def days_of(kh, session):
    with tenancy.scope({kh.pk}), transaction.atomic():
        return selectors.session_days(session=session)


def figures(kh, **filters):
    with tenancy.scope({kh.pk}), transaction.atomic():
        return selectors.training_figures(programme=kh, filters=selectors.FigureFilters(**filters))


# --- Figures -------------------------------------------------------------------------------


def test_participant_training_days_count_attended_days_not_enrolments(kh, kh_factory, officer, session):
    ana = enrol(officer, kh, session, "Ana", factory=kh_factory)
    ben = enrol(officer, kh, session, "Ben", factory=kh_factory, sex="male", role="supervisor")
    enrol(officer, kh, session, "Chea", factory=kh_factory)  # enrolled, never came
    d1, d2, d3 = days_of(kh, session)
    mark(officer, kh, session, [(ana.pk, d1.pk), (ana.pk, d2.pk), (ana.pk, d3.pk), (ben.pk, d1.pk)])

    result = figures(kh)
    assert result.totals["ptd"] == 4  # 3 + 1 attended days, not 3 enrolments x 3 days
    assert result.totals["participants"] == 2  # Chea never attended
    assert result.totals["female_ptd"] == 3 and result.totals["female_participants"] == 1
    by_sex = {row["participant__sex"]: (row["participants"], row["ptd"]) for row in result.by_sex}
    assert by_sex == {"female": (1, 3), "male": (1, 1)}
    by_role = {row["participant__role"]: row["ptd"] for row in result.by_role}
    assert by_role == {"worker": 3, "supervisor": 1}
    assert [(row["title"], row["ptd"]) for row in result.by_course] == [("Supervisory skills", 4)]
    assert [(row["factory_id"], row["ptd"]) for row in result.by_factory] == [(kh_factory.pk, 4)]
    # The period filter counts only days inside it.
    assert figures(kh, start=d2.date).totals["ptd"] == 2  # Ana on days 2 and 3
    assert figures(kh, end=d1.date, sex="male").totals["ptd"] == 1


def test_cancelled_sessions_and_other_programmes_do_not_count(
    kh, vn, kh_factory, vn_factory, officer, session
):
    ana = enrol(officer, kh, session, "Ana", factory=kh_factory)
    mark(officer, kh, session, [(ana.pk, days_of(kh, session)[0].pk)])
    vn_officer = user_with_role(Role.ADVISOR, vn, manages_training=True)
    vn_course = run(
        vn_officer,
        vn,
        services.course_save,
        programme=vn,
        course=None,
        data={"title": "OSH", "days": 1, "audience": "mixed"},
    )
    vn_session = schedule(vn_officer, vn, {"course": vn_course, "mode": SessionMode.OPEN}, past_days(vn, 1))
    lan = enrol(vn_officer, vn, vn_session, "Lan", factory=vn_factory)
    mark(vn_officer, vn, vn_session, [(lan.pk, days_of(vn, vn_session)[0].pk)])
    assert figures(kh).totals["ptd"] == 1
    # Even a query naming the other programme sees nothing of it from here.
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert selectors.training_figures(programme=vn, filters=selectors.FigureFilters()).totals["ptd"] == 0


def test_evaluation_averages_by_course_and_trainer(kh, kh_factory, officer, session):
    a = enrol(officer, kh, session, "Ana", factory=kh_factory)
    b = enrol(officer, kh, session, "Ben", factory=kh_factory)
    day = days_of(kh, session)[0]
    mark(officer, kh, session, [(a.pk, day.pk), (b.pk, day.pk)])
    for person, score in ((a, 5), (b, 2)):
        run(
            officer,
            kh,
            services.evaluation_record,
            participant=person,
            data={"overall": score, "content": 4, "trainers": score, "usefulness": 3},
        )
    result = figures(kh)
    (course_row,) = result.evaluations_by_course
    assert course_row["count"] == 2 and course_row["overall"] == pytest.approx(3.5)
    (trainer_row,) = result.evaluations_by_trainer
    assert trainer_row["user_id"] == officer.pk and trainer_row["trainers"] == pytest.approx(3.5)


def test_evaluations_take_ratings_from_1_to_5_from_people_who_came(kh, kh_factory, officer, session):
    ana = enrol(officer, kh, session, "Ana", factory=kh_factory)
    good = {"overall": 4, "content": 4, "trainers": 4, "usefulness": 4}
    with pytest.raises(ValidationError, match="who attended"):
        run(officer, kh, services.evaluation_record, participant=ana, data=good)
    mark(officer, kh, session, [(ana.pk, days_of(kh, session)[0].pk)])
    with pytest.raises(ValidationError) as error:
        run(officer, kh, services.evaluation_record, participant=ana, data={**good, "overall": 6})
    assert "overall" in error.value.message_dict


# --- Entitlements ---------------------------------------------------------------------------


def test_entitlement_used_booked_and_remaining(kh, kh_factory, officer, course):
    today = kh.today()
    run(
        officer,
        kh,
        services.entitlement_save,
        factory=kh_factory,
        cycle=1,
        data={
            "days": 5,
            "starts_on": today - dt.timedelta(days=100),
            "ends_on": today + dt.timedelta(days=100),
        },
    )
    held = schedule(
        officer,
        kh,
        {"course": course, "mode": SessionMode.FACTORY, "factory": kh_factory},
        past_days(kh, 3, ago=10),
    )
    coming = schedule(
        officer,
        kh,
        {"course": course, "mode": SessionMode.OPEN},
        [today + dt.timedelta(days=5), today + dt.timedelta(days=6)],
    )
    not_counted = schedule(
        officer,
        kh,
        {"course": course, "mode": SessionMode.OPEN, "counts_toward_entitlement": False},
        past_days(kh, 1, ago=5),
    )
    too_early = schedule(officer, kh, {"course": course, "mode": SessionMode.OPEN}, past_days(kh, 1, ago=200))
    a, b = (enrol(officer, kh, held, name, factory=kh_factory) for name in ("Ana", "Ben"))
    d = days_of(kh, held)
    mark(officer, kh, held, [(a.pk, d[0].pk), (a.pk, d[1].pk), (a.pk, d[2].pk), (b.pk, d[0].pk)])  # 4 days
    enrol(officer, kh, coming, "Chea", factory=kh_factory)  # 2 days booked
    for other in (not_counted, too_early):
        person = enrol(officer, kh, other, "Dara", factory=kh_factory)
        mark(officer, kh, other, [(person.pk, days_of(kh, other)[0].pk)])

    with tenancy.scope({kh.pk}), transaction.atomic():
        (row,) = selectors.current_entitlements(programme=kh, today=today)
    assert (row.days, row.used, row.booked, row.remaining) == (5, 4, 2, 1)

    # One more attended day goes over: remaining becomes negative, shown as "over by".
    mark(
        officer,
        kh,
        held,
        [
            (a.pk, d[0].pk),
            (a.pk, d[1].pk),
            (a.pk, d[2].pk),
            (b.pk, d[0].pk),
            (b.pk, d[1].pk),
            (b.pk, d[2].pk),
        ],
    )
    with tenancy.scope({kh.pk}), transaction.atomic():
        (row,) = selectors.current_entitlements(programme=kh, today=today)
    assert (row.used, row.remaining) == (6, -1)


def test_entitlement_periods_of_a_factory_may_not_overlap(kh, kh_factory, officer):
    start = dt.date(2025, 1, 1)
    run(
        officer,
        kh,
        services.entitlement_save,
        factory=kh_factory,
        cycle=1,
        data={"days": 15, "starts_on": start, "ends_on": dt.date(2025, 12, 31)},
    )
    with pytest.raises(ValidationError, match="Cycle 1 already runs"):
        run(
            officer,
            kh,
            services.entitlement_save,
            factory=kh_factory,
            cycle=2,
            data={"days": 15, "starts_on": dt.date(2025, 12, 1), "ends_on": dt.date(2026, 11, 30)},
        )
    with pytest.raises(ValidationError, match="ends before"):
        run(
            officer,
            kh,
            services.entitlement_save,
            factory=kh_factory,
            cycle=2,
            data={"days": 15, "starts_on": dt.date(2026, 2, 1), "ends_on": dt.date(2026, 1, 1)},
        )
    run(
        officer,
        kh,
        services.entitlement_save,
        factory=kh_factory,
        cycle=2,
        data={"days": 12, "starts_on": dt.date(2026, 1, 1), "ends_on": dt.date(2026, 12, 31)},
    )
    with tenancy.scope({kh.pk}), transaction.atomic():
        suggestion = selectors.suggested_entitlement(factory=kh_factory, today=dt.date(2026, 6, 1))
    assert suggestion == {
        "cycle": 3,
        "days": 12,
        "starts_on": dt.date(2027, 1, 1),
        "ends_on": dt.date(2027, 12, 31),
    }


# --- Rules of who may do what ----------------------------------------------------------------


def test_only_training_officers_and_managers_keep_the_catalogue_and_entitlements(
    kh, kh_factory, kh_advisor, kh_manager
):
    data = {"title": "Negotiation", "days": 2, "audience": "committee"}
    with pytest.raises(PermissionDenied):
        run(kh_advisor, kh, services.course_save, programme=kh, course=None, data=data)
    with pytest.raises(PermissionDenied):
        run(
            kh_advisor,
            kh,
            services.entitlement_save,
            factory=kh_factory,
            cycle=1,
            data={"days": 15, "starts_on": dt.date(2026, 1, 1), "ends_on": dt.date(2026, 12, 31)},
        )
    assert run(kh_manager, kh, services.course_save, programme=kh, course=None, data=data).pk
    factory_user = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    with pytest.raises(PermissionDenied):
        run(
            factory_user, kh, services.course_save, programme=kh, course=None, data={**data, "title": "Other"}
        )


def test_advisors_schedule_and_run_their_own_sessions_only(
    kh, kh_factory, kh_advisor, officer, course, session
):
    own = schedule(
        kh_advisor,
        kh,
        {"course": course, "mode": SessionMode.FACTORY, "factory": kh_factory},
        past_days(kh, 1),
    )
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert services.trainer_ids(own) == {kh_advisor.pk}  # whoever schedules runs it
    assert enrol(kh_advisor, kh, own, "Ana", factory=kh_factory).pk
    with pytest.raises(PermissionDenied):  # the officer's session is not theirs
        enrol(kh_advisor, kh, session, "Ben", factory=kh_factory)
    person = enrol(officer, kh, session, "Ben", factory=kh_factory)
    with pytest.raises(PermissionDenied):
        mark(kh_advisor, kh, session, [(person.pk, days_of(kh, session)[0].pk)])


def test_another_programme_cannot_reach_a_session(kh, vn, officer, session):
    vn_officer = user_with_role(Role.ADVISOR, vn, manages_training=True)
    # The officer holds no grant in Cambodia: the rule refuses, and the scope hides the row.
    with pytest.raises(PermissionDenied), tenancy.scope({kh.pk}), transaction.atomic():
        services.participant_enrol(
            actor=Principal.for_user(vn_officer),
            session=session,
            data={"name": "X", "sex": "male", "role": "worker", "organisation": "Union"},
        )
    with tenancy.scope({vn.pk}), transaction.atomic():
        assert not Participant.objects.filter(session_id=session.pk).exists()
        assert not Course.objects.filter(programme=kh).exists()


# --- Enrolment and attendance ----------------------------------------------------------------


def test_enrolment_checks_places_people_and_origin(kh, kh_factory, vn_factory, officer, course, session):
    enrol(officer, kh, session, "Ana", factory=kh_factory)
    with pytest.raises(ValidationError, match="already enrolled"):
        enrol(officer, kh, session, " ana ", factory=kh_factory)
    with pytest.raises(ValidationError, match="factory or name their organisation"):
        enrol(officer, kh, session, "Nobody")
    with pytest.raises(ValidationError, match="factory of this programme"):
        enrol(officer, kh, session, "Lan", factory=vn_factory)
    assert enrol(officer, kh, session, "Sok", organisation="Garment workers' union").factory is None
    for n in range(3):
        enrol(officer, kh, session, f"P{n}", factory=kh_factory)
    with pytest.raises(ValidationError, match="full"):
        enrol(officer, kh, session, "One too many", factory=kh_factory)
    one_factory = schedule(
        officer, kh, {"course": course, "mode": SessionMode.FACTORY, "factory": kh_factory}, past_days(kh, 1)
    )
    other = FactoryFactory(programme=kh, name="Other Garments")
    with pytest.raises(ValidationError, match="for one factory"):
        enrol(officer, kh, one_factory, "Visitor", factory=other)


def test_attendance_only_for_days_that_have_come(kh, kh_factory, officer, course):
    today = kh.today()
    session = schedule(
        officer,
        kh,
        {"course": course, "mode": SessionMode.OPEN},
        [today - dt.timedelta(days=1), today + dt.timedelta(days=1)],
    )
    ana = enrol(officer, kh, session, "Ana", factory=kh_factory)
    yesterday, tomorrow = days_of(kh, session)
    with pytest.raises(ValidationError, match="days that have come"):
        mark(officer, kh, session, [(ana.pk, tomorrow.pk)])
    assert mark(officer, kh, session, [(ana.pk, yesterday.pk)]) == (1, 0)
    assert mark(officer, kh, session, []) == (0, 1)  # unticking removes the day
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert not Attendance.objects.filter(participant=ana).exists()


def test_a_day_with_attendance_cannot_be_dropped_nor_the_session_cancelled(
    kh, kh_factory, officer, course, session
):
    ana = enrol(officer, kh, session, "Ana", factory=kh_factory)
    first, second, third = days_of(kh, session)
    mark(officer, kh, session, [(ana.pk, first.pk)])
    with pytest.raises(ValidationError, match="clear it before removing the day"):
        run(
            officer,
            kh,
            services.session_update,
            session=session,
            data={},
            dates=[second.date, third.date],
            trainers=[officer],
        )
    run(
        officer,
        kh,
        services.session_update,
        session=session,
        data={},
        dates=[first.date, second.date],
        trainers=[officer],
    )
    assert [d.date for d in days_of(kh, session)] == [first.date, second.date]
    with pytest.raises(ValidationError, match="took place"):
        run(officer, kh, services.session_cancel, session=session, reason="Trainer ill")


def test_course_templates_are_copied_then_adapted(kh, officer):
    template = CourseTemplate.objects.create(
        code="supervisory", title="Supervisory skills", days=4, audience="supervisors"
    )
    course = run(officer, kh, services.course_from_template, programme=kh, template=template)
    assert (course.title, course.days, course.template_id) == ("Supervisory skills", 4, template.pk)
    with pytest.raises(ValidationError, match="already has"):
        run(officer, kh, services.course_from_template, programme=kh, template=template)
    adapted = run(officer, kh, services.course_save, programme=kh, course=course, data={"days": 3})
    assert adapted.days == 3
    template.refresh_from_db()
    assert template.days == 4  # the global template stays as it was


def test_factories_hear_of_cancelled_or_moved_sessions(
    kh, kh_factory, officer, course, django_capture_on_commit_callbacks
):
    today = kh.today()
    coming = schedule(
        officer, kh, {"course": course, "mode": SessionMode.OPEN}, [today + dt.timedelta(days=7)]
    )
    hr = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    other = user_with_role(Role.FACTORY, kh, factory=FactoryFactory(programme=kh, name="Not enrolled"))
    enrol(officer, kh, coming, "Ana", factory=kh_factory)
    enrol(officer, kh, coming, "Ben", factory=kh_factory)
    with django_capture_on_commit_callbacks(execute=True):
        run(
            officer,
            kh,
            services.session_update,
            session=coming,
            data={},
            dates=[today + dt.timedelta(days=9)],
            trainers=[officer],
        )
        run(officer, kh, services.session_cancel, session=coming, reason="Trainer ill")
    assert [m.to for m in mail.outbox] == [[hr.email], [hr.email]]
    moved, cancelled = mail.outbox
    assert "new dates" in moved.body and (today + dt.timedelta(days=9)).isoformat() in moved.body
    assert "2 people from Angkor Garments are enrolled" in moved.body
    assert "cancelled" in cancelled.subject.lower() and "Trainer ill" in cancelled.body
    assert other.email not in {to for m in mail.outbox for to in m.to}


def test_names_of_long_past_participants_are_erased_and_figures_stay(
    kh, kh_factory, officer, course, settings
):
    from training.tasks import erase_old_participant_names

    settings.TRAINING_NAMES_KEPT_DAYS = 100
    old = schedule(officer, kh, {"course": course, "mode": SessionMode.OPEN}, past_days(kh, 1, ago=200))
    recent = schedule(officer, kh, {"course": course, "mode": SessionMode.OPEN}, past_days(kh, 1, ago=20))
    ana = enrol(officer, kh, old, "Ana Secret", factory=kh_factory)
    ben = enrol(officer, kh, recent, "Ben Recent", factory=kh_factory)
    mark(officer, kh, old, [(ana.pk, days_of(kh, old)[0].pk)])
    before = figures(kh).totals
    assert erase_old_participant_names() == {"KH": 1}
    assert erase_old_participant_names() == {"KH": 0}  # once only
    with tenancy.scope({kh.pk}), transaction.atomic():
        ana.refresh_from_db()
        ben.refresh_from_db()
        with translation.override("km"):  # the programme's main language
            assert ana.name == f"{translation.gettext('Participant')} {ana.pk}"
        assert ana.name.endswith(str(ana.pk)) and ana.name_erased_at and ana.sex == "female"
        assert ben.name == "Ben Recent"
        assert AuditEvent.objects.filter(action="training.names.erase").count() == 1
    assert figures(kh).totals == before
