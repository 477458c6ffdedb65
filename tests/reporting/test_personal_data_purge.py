"""Retention: ``manage.py personal_data_purge`` (and the daily task) removes interview notes and
erases the names of committee members, candidates and training participants once their kept
period has passed — a day inside it keeps them — audited per programme and kind, never touching
the figures; a dry run says what would go and changes nothing."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.utils import translation

from advisory import committees
from advisory.models import Candidate, Committee, CommitteeMember, Election
from assessments.models import Assessment, Case, InterviewNote
from betterwork import tenancy
from betterwork.models import AuditEvent, Role
from reporting.dashboard import figures as dashboard_figures
from reporting.tasks import purge_personal_data
from tests.model_factories import FactoryFactory, UserFactory, user_with_role
from tests.training.conftest import run
from training import selectors as training_selectors
from training import services as training_services
from training.models import Participant, SessionMode

pytestmark = pytest.mark.django_db

KEPT = 100


@pytest.fixture(autouse=True)
def kept_periods(settings):
    settings.INTERVIEW_NOTES_KEPT_DAYS = KEPT
    settings.COMMITTEE_NAMES_KEPT_DAYS = KEPT
    settings.TRAINING_NAMES_KEPT_DAYS = KEPT


def ago(programme, days: int) -> dt.date:
    return programme.today() - dt.timedelta(days=days)


def noon(programme, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo(programme.time_zone))


def assessment_with_note(programme, tool, name, *, status="final", final_days=None, visit_days=400):
    """An assessment of a factory of its own, with one interview note naming ``name``."""
    with tenancy.scope({programme.pk}), transaction.atomic():
        assessment = Assessment(
            programme=programme,
            factory=FactoryFactory(programme=programme),
            tool_version=tool,
            cycle=1,
            status=status,
            planned_date=ago(programme, visit_days),
            visit_started_on=ago(programme, visit_days),
            final_at=noon(programme, ago(programme, final_days)) if final_days is not None else None,
        )
        assessment.save()
        InterviewNote.objects.create(
            programme=programme,
            assessment=assessment,
            kind="worker_interview",
            held_on=ago(programme, visit_days),
            interviewees=name,
            notes=f"{name} said the exits are locked.",
        )
    return assessment


@pytest.fixture
def world(kh, vn, tool):
    """Personal data on both sides of the kept period, in every kind the purge handles."""
    w = {}
    w["notes_out"] = assessment_with_note(kh, tool, "Out Final", final_days=KEPT + 1)
    w["notes_in"] = assessment_with_note(kh, tool, "In Final", final_days=KEPT)
    w["cancelled"] = assessment_with_note(kh, tool, "Out Cancelled", status="cancelled", visit_days=KEPT + 1)
    # Not final yet: however old the visit, its notes back findings still in the making.
    w["in_review"] = assessment_with_note(kh, tool, "In Review", status="in_review", visit_days=900)
    # A zero-tolerance case still open keeps its assessment's notes.
    w["case"] = assessment_with_note(kh, tool, "In Case", final_days=900)
    with tenancy.scope({kh.pk}), transaction.atomic():
        Case.objects.create(
            programme=kh,
            assessment=w["case"],
            factory=w["case"].factory,
            question=tool.questions.get(key="CL-01"),
            finding="Two workers under age.",
        )
    w["vn_notes_out"] = assessment_with_note(vn, tool, "Out Vietnam", final_days=KEPT + 1)

    # A committee: members who left just outside and just inside the period, one still serving;
    # elections long past (their elected member left long ago, or still serves) and a recent one.
    with tenancy.scope({kh.pk}), transaction.atomic():
        factory = FactoryFactory(programme=kh, name="Committee Garments")
        kind = committees.committee_kinds_ensure(kh)[0]
        committee = Committee.objects.create(programme=kh, factory=factory, kind=kind)
        old_election = Election.objects.create(
            programme=kh, committee=committee, held_on=ago(kh, 900), seats=1
        )
        serving_election = Election.objects.create(
            programme=kh, committee=committee, held_on=ago(kh, 800), seats=1
        )
        recent_election = Election.objects.create(
            programme=kh, committee=committee, held_on=ago(kh, 50), seats=1
        )

        def member(name, side, sex, ended_days=None, elected_in=None, **extra):
            return CommitteeMember.objects.create(
                programme=kh,
                committee=committee,
                name=name,
                side=side,
                sex=sex,
                position="Line leader",
                term_starts_on=ago(kh, 1000),
                term_ends_on=ago(kh, ended_days) if ended_days is not None else None,
                elected_in=elected_in,
                **extra,
            )

        w["member_out"] = member(
            "Left Long Ago", "worker", "female", KEPT + 1, old_election, user=UserFactory(), union_member=True
        )
        w["member_in"] = member("Left Lately", "management", "male", KEPT)
        w["member_serving"] = member("Still Serving", "worker", "male", None, serving_election)
        w["committee"] = committee

        def candidate(election, name):
            return Candidate.objects.create(programme=kh, election=election, name=name, sex="female")

        w["candidate_out"] = candidate(old_election, "Old Candidate")
        w["candidate_serving"] = candidate(serving_election, "Serving Election Candidate")
        w["candidate_recent"] = candidate(recent_election, "Recent Candidate")

    # Training: a session that ended just outside the period, one just inside.
    officer = user_with_role(Role.ADVISOR, kh, manages_training=True)
    course = run(
        officer,
        kh,
        training_services.course_save,
        programme=kh,
        course=None,
        data={"title": "Fire safety", "days": 1, "audience": "mixed"},
    )
    for key, days, name in (
        ("participant_out", KEPT + 1, "Old Trainee"),
        ("participant_in", KEPT, "New Trainee"),
    ):
        session = run(
            officer,
            kh,
            training_services.session_create,
            programme=kh,
            data={"course": course, "mode": SessionMode.OPEN, "capacity": 10},
            dates=[ago(kh, days)],
            trainers=[officer],
        )
        participant = run(
            officer,
            kh,
            training_services.participant_enrol,
            session=session,
            data={"name": name, "sex": "female", "role": "worker", "factory": factory},
        )
        with tenancy.scope({kh.pk}):
            day = session.days.get()
        run(
            officer,
            kh,
            training_services.attendance_record,
            session=session,
            present={(participant.pk, day.pk)},
        )
        w[key] = participant
    return w


def names_left(kh) -> set[str]:
    with tenancy.scope({kh.pk}):
        return {
            *InterviewNote.objects.values_list("interviewees", flat=True),
            *CommitteeMember.objects.values_list("name", flat=True),
            *Candidate.objects.values_list("name", flat=True),
            *Participant.objects.values_list("name", flat=True),
        }


def figures_of(kh, committee) -> dict:
    with tenancy.scope({kh.pk}), transaction.atomic():
        members = CommitteeMember.objects.filter(committee=committee)
        return {
            "committee": Counter((m.side, m.sex, m.role, m.union_member, m.term_ends_on) for m in members),
            "training": training_selectors.training_figures(
                programme=kh, filters=training_selectors.FigureFilters()
            ).totals,
            "dashboard": dashboard_figures(programme=kh, today=kh.today()),
        }


def purges(programme) -> list[AuditEvent]:
    with tenancy.scope({programme.pk}):
        return list(AuditEvent.objects.filter(action="personal_data.purge").order_by("pk"))


def purge(*args) -> str:
    out = io.StringIO()
    call_command("personal_data_purge", *args, stdout=out)
    return out.getvalue()


EVERYTHING = {
    "Out Final",
    "In Final",
    "Out Cancelled",
    "In Review",
    "In Case",
    "Left Long Ago",
    "Left Lately",
    "Still Serving",
    "Old Candidate",
    "Serving Election Candidate",
    "Recent Candidate",
    "Old Trainee",
    "New Trainee",
}
GONE = {"Out Final", "Out Cancelled", "Left Long Ago", "Old Candidate", "Old Trainee"}


def test_a_dry_run_says_what_would_go_per_programme_and_kind_and_changes_nothing(kh, vn, world):
    before = figures_of(kh, world["committee"])
    output = purge("--dry-run")
    for line in (
        "KH: 2 interview notes would be removed",
        "KH: 1 committee members' names would be removed",
        "KH: 1 election candidates' names would be removed",
        "KH: 1 training participants' names would be removed",
        "VN: 1 interview notes would be removed",
        "VN: 0 committee members' names would be removed",
    ):
        assert line in output, output
    assert names_left(kh) >= EVERYTHING
    assert not purges(kh) and not purges(vn)
    assert figures_of(kh, world["committee"]) == before


def test_the_purge_removes_only_what_is_past_its_kept_period_and_keeps_the_figures(kh, vn, world):
    before = figures_of(kh, world["committee"])
    output = purge("KH")
    assert "KH: 2 interview notes removed" in output and "VN" not in output
    assert names_left(kh) & EVERYTHING == EVERYTHING - GONE
    with tenancy.scope({vn.pk}):
        assert InterviewNote.objects.exists()  # only the programme asked for
    with tenancy.scope({kh.pk}):
        assert set(InterviewNote.objects.values_list("assessment_id", flat=True)) == {
            world[key].pk for key in ("notes_in", "in_review", "case")
        }
        member = CommitteeMember.objects.get(pk=world["member_out"].pk)
        candidate = Candidate.objects.get(pk=world["candidate_out"].pk)
        participant = Participant.objects.get(pk=world["participant_out"].pk)
    with translation.override("km"):  # the programme's main language: labels are data
        assert member.name == f"{translation.gettext('Member')} {member.pk}"
        assert candidate.name == f"{translation.gettext('Candidate')} {candidate.pk}"
    assert member.name_erased_at and candidate.name_erased_at and participant.name_erased_at
    assert (member.position, member.user_id) == ("", None)  # nothing left that names them
    assert (member.side, member.sex, member.union_member) == ("worker", "female", True)
    assert figures_of(kh, world["committee"]) == before

    trail = purges(kh)
    assert {e.after["kind"]: e.after["removed"] for e in trail} == {
        "interview_notes": 2,
        "committee_members": 1,
        "candidates": 1,
        "training_participants": 1,
    }
    assert all(e.actor is None and e.programme_id == kh.pk for e in trail)
    assert not any(name in str([e.before, e.after, e.object_repr]) for e in trail for name in GONE)

    # Once only: a second run finds nothing more and records nothing more.
    assert "KH: 0 interview notes removed" in purge("KH")
    assert len(purges(kh)) == len(trail)


def test_the_daily_task_purges_every_programme_in_its_own_scope(kh, vn, world):
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["reporting.purge_personal_data"] == 86400.0
    assert tenancy.current_scope() is None
    purged = purge_personal_data()
    assert purged["KH"] == {
        "interview_notes": 2,
        "committee_members": 1,
        "candidates": 1,
        "training_participants": 1,
    }
    assert purged["VN"]["interview_notes"] == 1
    assert [e.after["kind"] for e in purges(vn)] == ["interview_notes"]
    assert purge_personal_data()["KH"] == dict.fromkeys(purged["KH"], 0)
