"""The factory reads its draft report, comments on or disputes findings in time, and is answered."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils.formats import date_format

from assessments.models import AssessmentStatus, FindingComment
from betterwork import tenancy
from betterwork.models import AuditEvent, Role
from tests.assessments.test_lifecycle import answer_all, move
from tests.model_factories import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_factory_review(kh, team, planned):
    move(team["lead"], kh, planned, "in_progress")
    answer_all(team["lead"], kh, planned, value="NC")
    move(team["lead"], kh, planned, "submitted")
    move(team["leader"], kh, planned, "in_review")
    return move(team["leader"], kh, planned, "factory_review")


def test_the_factory_comments_and_the_assessors_are_told_and_answer(
    client, kh, kh_factory, team, in_factory_review, django_capture_on_commit_callbacks
):
    factory_user = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    client.force_login(factory_user)
    draft = f"/p/KH/assessments/{in_factory_review.pk}/draft/"
    page = client.get(draft).content.decode()
    assert "Seen on the floor." in page and "You may comment on or dispute" in page
    planned_on = date_format(in_factory_review.planned_date, "SHORT_DATE_FORMAT")
    assert planned_on not in page, "the date of an unannounced visit stays unknown to the factory"
    for secret in (team["lead"].full_name, team["second"].full_name):
        assert secret not in page, "assessors of an unannounced visit stay unnamed"
    with tenancy.scope({kh.pk}):
        question = in_factory_review.tool_version.questions.get(key="OSH-01").pk
    with django_capture_on_commit_callbacks(execute=True):
        client.post(draft, {"question": question, "kind": "dispute", "text": "Exit 2 was open; see photos."})
    with tenancy.scope({kh.pk}):
        comment = FindingComment.objects.get()
    assert comment.kind == "dispute" and {m.to[0] for m in mail.outbox} == {
        team["lead"].email,
        team["second"].email,
    }

    client.force_login(team["lead"])
    overview = client.get(f"/p/KH/assessments/{in_factory_review.pk}/").content.decode()
    assert "Exit 2 was open; see photos." in overview
    client.post(
        f"/p/KH/assessments/{in_factory_review.pk}/comments/{comment.pk}/respond/",
        {"response": "Photos show exit 3, not exit 2.", "outcome": "upheld"},
    )
    with tenancy.scope({kh.pk}):
        comment.refresh_from_db()
        assert comment.outcome == "upheld" and comment.responded_by == team["lead"]
        assert AuditEvent.objects.filter(action__in=["finding.dispute", "finding.response"]).count() == 2
    client.force_login(factory_user)
    assert "Photos show exit 3" in client.get(draft).content.decode()


def test_no_comment_after_the_window_nor_on_another_factorys_report(
    client, kh, kh_factory, team, in_factory_review
):
    from tests.model_factories import FactoryFactory

    with tenancy.scope({kh.pk}):
        question = in_factory_review.tool_version.questions.get(key="OSH-01").pk
        in_factory_review.__class__.objects.filter(pk=in_factory_review.pk).update(
            factory_review_until=dt.date(2020, 1, 1)
        )
    client.force_login(user_with_role(Role.FACTORY, kh, factory=kh_factory))
    late = client.post(
        f"/p/KH/assessments/{in_factory_review.pk}/draft/",
        {"question": question, "kind": "comment", "text": "Too late?"},
        follow=True,
    )
    assert "review window closed" in late.content.decode()
    client.force_login(user_with_role(Role.FACTORY, kh, factory=FactoryFactory(programme=kh)))
    assert client.get(f"/p/KH/assessments/{in_factory_review.pk}/draft/").status_code == 404
    with tenancy.scope({kh.pk}):
        assert not FindingComment.objects.exists()


def test_the_draft_is_not_shown_before_factory_review(client, kh, kh_factory, team, planned):
    client.force_login(user_with_role(Role.FACTORY, kh, factory=kh_factory))
    assert client.get(f"/p/KH/assessments/{planned.pk}/draft/").status_code == 404
    assert planned.status == AssessmentStatus.PLANNED
