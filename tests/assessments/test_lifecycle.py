"""The life of an assessment, tried by the people who may and may not act."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from assessments import lifecycle
from assessments.models import Answer, Assessment
from assessments.models import AssessmentStatus as S
from assessments.signals import assessment_finalised
from betterwork import tenancy
from betterwork.models import AuditEvent, Role
from tests.conftest import act
from tests.model_factories import user_with_role

pytestmark = pytest.mark.django_db


def move(user, kh, assessment, to, **kwargs):
    with tenancy.scope({kh.pk}), transaction.atomic():
        version = Assessment.objects.get(pk=assessment.pk).lock_version
    return act(
        user,
        kh,
        lifecycle.assessment_transition,
        assessment=assessment,
        to=to,
        expected_version=version,
        **kwargs,
    )


def answer_all(user, kh, assessment, value="C"):
    with tenancy.scope({kh.pk}):
        questions = list(assessment.tool_version.questions.values_list("pk", flat=True))
    return act(
        user,
        kh,
        lifecycle.answers_save,
        assessment=assessment,
        changes=[
            {
                "question": q,
                "value": value,
                "finding": "Seen on the floor." if value == "NC" else "",
                "version": 0,
            }
            for q in questions
        ],
    )


def test_planning_numbers_cycles_and_needs_two_staff_assessors(kh, vn, kh_factory, tool, team, planned):
    assert planned.cycle == 1 and planned.status == S.PLANNED and planned.tool_version == tool
    second = act(
        team["leader"],
        kh,
        lifecycle.assessment_plan,
        factory=kh_factory,
        planned_date=dt.date(2027, 3, 1),
        assessors=[team["lead"], team["second"]],
    )
    assert second.cycle == 2
    with pytest.raises(ValidationError, match="in pairs"):
        act(
            team["leader"],
            kh,
            lifecycle.assessment_plan,
            factory=kh_factory,
            planned_date=dt.date(2027, 3, 1),
            assessors=[team["lead"]],
        )
    outsider = user_with_role(Role.ADVISOR, vn)
    with pytest.raises(ValidationError, match="active staff of this programme"):
        act(
            team["leader"],
            kh,
            lifecycle.assessment_plan,
            factory=kh_factory,
            planned_date=dt.date(2027, 3, 1),
            assessors=[team["lead"], outsider],
        )


def test_the_whole_life_of_an_assessment(kh, team, planned):
    finalised = []
    assessment_finalised.connect(lambda sender, assessment, **kw: finalised.append(assessment.pk), weak=False)
    move(team["lead"], kh, planned, S.IN_PROGRESS)
    with pytest.raises(ValidationError, match="3 questions are not answered"):
        move(team["lead"], kh, planned, S.SUBMITTED)
    answer_all(team["second"], kh, planned, value="NC")
    move(team["lead"], kh, planned, S.SUBMITTED)
    move(team["leader"], kh, planned, S.IN_REVIEW)
    with pytest.raises(ValidationError, match="Say what must change"):
        move(team["leader"], kh, planned, S.IN_PROGRESS)
    move(team["leader"], kh, planned, S.IN_PROGRESS, comments="Finding OSH-01 needs the exit number.")
    move(team["lead"], kh, planned, S.SUBMITTED)
    move(team["leader"], kh, planned, S.IN_REVIEW)
    reviewed = move(team["leader"], kh, planned, S.FACTORY_REVIEW)
    assert reviewed.factory_review_until == lifecycle.programme_today(kh) + dt.timedelta(days=14)
    with pytest.raises(ValidationError, match="may comment until"):
        move(team["manager"], kh, planned, S.FINAL)
    final = move(team["manager"], kh, planned, S.FINAL, system=True)
    assert final.final_at is not None and finalised == [planned.pk]
    published = move(team["manager"], kh, planned, S.PUBLISHED)
    assert published.status == S.PUBLISHED
    with tenancy.scope({kh.pk}):
        actions = list(
            AuditEvent.objects.filter(object_id=str(planned.pk), object_type="assessments.assessment")
            .order_by("at", "id")
            .values_list("action", flat=True)
        )
    transitions = [a for a in actions if a.startswith("assessment.")]
    assert transitions[0] == "assessment.plan" and transitions[-1] == "assessment.published"
    assert len(transitions) == 10 and "answers.save" in actions  # answers are audited on their assessment


def test_nobody_reviews_their_own_assessment(kh, team, planned):
    leader_assessed = act(
        team["manager"],
        kh,
        lifecycle.assessment_plan,
        factory=planned.factory,
        planned_date=dt.date(2027, 1, 1),
        assessors=[team["leader"], team["lead"]],
    )
    move(team["leader"], kh, leader_assessed, S.IN_PROGRESS)
    answer_all(team["leader"], kh, leader_assessed)
    move(team["leader"], kh, leader_assessed, S.SUBMITTED)
    with pytest.raises(PermissionDenied):
        move(team["leader"], kh, leader_assessed, S.IN_REVIEW)
    move(team["manager"], kh, leader_assessed, S.IN_REVIEW)


@pytest.mark.parametrize("who", ["other_programme_advisor", "factory_user", "buyer", "non_assessor"])
def test_outsiders_cannot_move_or_answer(kh, vn, kh_factory, team, planned, who):
    from tests.model_factories import BuyerFactory

    user = {
        "other_programme_advisor": lambda: user_with_role(Role.ADVISOR, vn),
        "factory_user": lambda: user_with_role(Role.FACTORY, kh, factory=kh_factory),
        "buyer": lambda: user_with_role(Role.BUYER, buyer=BuyerFactory()),
        "non_assessor": lambda: user_with_role(Role.ADVISOR, kh),
    }[who]()
    with pytest.raises(PermissionDenied):
        move(user, kh, planned, S.IN_PROGRESS)
    move(team["lead"], kh, planned, S.IN_PROGRESS)
    with pytest.raises(PermissionDenied):
        answer_all(user, kh, planned)


def test_a_stale_transition_is_refused(kh, team, planned):
    act(
        team["lead"],
        kh,
        lifecycle.assessment_transition,
        assessment=planned,
        to=S.IN_PROGRESS,
        expected_version=1,
    )
    with pytest.raises(lifecycle.StaleState):
        act(
            team["leader"],
            kh,
            lifecycle.assessment_transition,
            assessment=planned,
            to=S.CANCELLED,
            expected_version=1,
        )


def test_impossible_transitions_are_refused(kh, team, planned):
    with pytest.raises(ValidationError, match="cannot go from"):
        move(team["manager"], kh, planned, S.PUBLISHED)


def test_answers_are_versioned_and_a_stale_save_is_refused_with_the_saved_one(kh, team, planned):
    move(team["lead"], kh, planned, S.IN_PROGRESS)
    with tenancy.scope({kh.pk}):
        question = planned.tool_version.questions.get(key="OSH-01").pk
    [first] = act(
        team["lead"],
        kh,
        lifecycle.answers_save,
        assessment=planned,
        changes=[{"question": question, "value": "C", "version": 0}],
    )
    assert first.version == 1
    act(
        team["second"],
        kh,
        lifecycle.answers_save,
        assessment=planned,
        changes=[{"question": question, "value": "NC", "finding": "Exit 3 locked.", "version": 1}],
    )
    with pytest.raises(lifecycle.AnswerConflict) as conflict:
        act(
            team["lead"],
            kh,
            lifecycle.answers_save,
            assessment=planned,
            changes=[{"question": question, "value": "NA", "version": 1}],
        )
    assert conflict.value.current[0]["value"] == "NC" and conflict.value.current[0]["version"] == 2
    with tenancy.scope({kh.pk}):
        assert Answer.objects.get(question_id=question).value == "NC"
        # Each save is on record with who changed which answer from what to what.
        saves = list(AuditEvent.objects.filter(action="answers.save").order_by("id"))
    assert [event.actor for event in saves] == [team["lead"], team["second"]]
    assert saves[0].before is None and saves[0].after == {
        "OSH-01": {"value": "C", "finding": "", "version": 1}
    }
    assert saves[1].before == {"OSH-01": {"value": "C", "finding": ""}}
    assert saves[1].after == {"OSH-01": {"value": "NC", "finding": "Exit 3 locked.", "version": 2}}


def test_answer_validation(kh, team, planned):
    move(team["lead"], kh, planned, S.IN_PROGRESS)
    with tenancy.scope({kh.pk}):
        question = planned.tool_version.questions.first().pk
    for change, message in (
        ({"question": question, "value": "NC", "finding": " "}, "needs its finding"),
        ({"question": question, "value": "YES"}, "Answer C, NC or NA"),
        ({"question": question, "value": "C", "evidence": ["rumour"]}, "Unknown evidence"),
        ({"question": 999999, "value": "C"}, "not part of this assessment"),
    ):
        with pytest.raises(ValidationError, match=message):
            act(
                team["lead"],
                kh,
                lifecycle.answers_save,
                assessment=planned,
                changes=[{"version": 0, **change}],
            )


def test_answers_are_frozen_outside_in_progress(kh, team, planned):
    with pytest.raises(ValidationError, match="only while the assessment is in progress"):
        answer_all(team["lead"], kh, planned)


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_acting_at_once_apply_one_transition(kh, team, planned):
    move(team["lead"], kh, planned, S.IN_PROGRESS)
    answer_all(team["lead"], kh, planned)
    submitted = move(team["lead"], kh, planned, S.SUBMITTED)
    other_leader = user_with_role(Role.TEAM_LEADER, kh)
    outcomes: list[str] = []

    def review(user):
        try:
            act(
                user,
                kh,
                lifecycle.assessment_transition,
                assessment=planned,
                to=S.IN_REVIEW,
                expected_version=submitted.lock_version,
            )
            outcomes.append("applied")
        except (lifecycle.StaleState, ValidationError):
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=review, args=(u,)) for u in (team["leader"], other_leader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["applied", "refused"]
