"""The factory reads its draft report, comments on or disputes findings in time, and is answered."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction
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


def test_reports_become_final_when_the_window_closes_and_every_comment_is_answered(
    kh, kh_factory, team, in_factory_review, django_capture_on_commit_callbacks
):
    from assessments import comments
    from assessments.models import Assessment
    from assessments.tasks import finalise_closed_reviews
    from reporting.models import ReportJob

    factory_user = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    with tenancy.scope({kh.pk}):
        question = in_factory_review.tool_version.questions.get(key="OSH-01")
    from tests.conftest import act

    comment = act(
        factory_user, kh, comments.comment_add, assessment=in_factory_review, question=question,
        kind="dispute", text="Exit 2 was open.",
    )  # fmt: skip
    assert finalise_closed_reviews.apply().get()["KH"] == []  # the window is still open
    with tenancy.scope({kh.pk}), transaction.atomic():
        Assessment.objects.filter(pk=in_factory_review.pk).update(factory_review_until=dt.date(2026, 1, 1))
    assert finalise_closed_reviews.apply().get()["KH"] == []  # a comment waits for its answer
    act(
        team["lead"], kh, comments.comment_respond, comment=comment, response="Seen closed.", outcome="upheld"
    )
    with django_capture_on_commit_callbacks(execute=False):
        assert finalise_closed_reviews.apply().get()["KH"] == [in_factory_review.pk]
    with tenancy.scope({kh.pk}), transaction.atomic():
        final = Assessment.objects.get(pk=in_factory_review.pk)
        assert final.status == AssessmentStatus.FINAL and final.final_at is not None
        assert AuditEvent.objects.filter(action="assessment.final", actor=None).exists()
        assert ReportJob.objects.filter(target_id=final.pk).count() == 2  # its PDFs, English and Khmer
