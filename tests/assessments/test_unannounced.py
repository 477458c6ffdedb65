"""Visits are unannounced: whatever the platform tells factory and buyer users, in e-mails or in
their inbox, over a whole assessment from planning to the final report, never reveals the
planned date, the due date or who the assessors are."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction
from django.utils import translation
from django.utils.formats import date_format

from assessments import comments, lifecycle
from assessments.models import Assessment
from betterwork import tenancy
from betterwork.models import Notification, Role
from tests.assessments.test_lifecycle import answer_all, move
from tests.conftest import act
from tests.model_factories import BuyerFactory, user_with_role

pytestmark = pytest.mark.django_db

PLANNED, DUE = dt.date(2026, 3, 17), dt.date(2026, 4, 28)


def secrets_of(team) -> list[str]:
    texts = []
    for day in (PLANNED, DUE):
        texts.append(day.isoformat())
        for language in ("en", "ar", "km"):
            with translation.override(language):
                texts += [date_format(day, "SHORT_DATE_FORMAT"), date_format(day, "DATE_FORMAT")]
    for user in (team["lead"], team["second"]):
        texts += [user.full_name, user.email]
    return texts


def test_nothing_sent_to_the_factory_or_a_buyer_tells_when_or_who(
    kh, kh_factory, tool, team, django_capture_on_commit_callbacks
):
    factory_user = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    buyer_user = user_with_role(Role.BUYER, buyer=BuyerFactory())
    outsiders = {factory_user.email, buyer_user.email}

    with django_capture_on_commit_callbacks(execute=True):
        assessment = act(
            team["leader"],
            kh,
            lifecycle.assessment_plan,
            factory=kh_factory,
            planned_date=PLANNED,
            due_date=DUE,
            assessors=[team["lead"], team["second"]],
        )
        move(team["lead"], kh, assessment, "in_progress")
        answer_all(team["lead"], kh, assessment, value="NC")
        move(team["lead"], kh, assessment, "submitted")
        move(team["leader"], kh, assessment, "in_review")
        move(team["leader"], kh, assessment, "factory_review")
        with tenancy.scope({kh.pk}):
            question = assessment.tool_version.questions.get(key="OSH-01")
        comment = act(
            factory_user, kh, comments.comment_add, assessment=assessment, question=question,
            kind="dispute", text="Exit 2 was open.",
        )  # fmt: skip
        act(
            team["lead"],
            kh,
            comments.comment_respond,
            comment=comment,
            response="Seen closed.",
            outcome="upheld",
        )
        with tenancy.scope({kh.pk}), transaction.atomic():
            Assessment.objects.filter(pk=assessment.pk).update(factory_review_until=dt.date(2026, 1, 1))
        move(team["leader"], kh, assessment, "final")

    to_outsiders = [m for m in mail.outbox if set(m.to) & outsiders]
    with tenancy.scope({kh.pk}):
        inbox = list(Notification.objects.filter(recipient__in=[factory_user, buyer_user]))
    # The factory is told what concerns it (else this test would prove nothing) ...
    subjects = sorted(m.subject for m in to_outsiders)
    assert subjects == sorted(
        [
            f"{kh_factory.name}: the draft report of cycle 1 is ready for your comments",
            "Your comment on finding OSH-01 was answered",
            f"{kh_factory.name}: the assessment report of cycle 1 is final",
        ]
    ), subjects
    assert len(inbox) == 3
    # ... and the buyer nothing yet (the buyers' issue decides what reaches them).
    assert not [m for m in mail.outbox if buyer_user.email in m.to]
    # ... and nothing says when the visit was planned, when it was due, or who assessed.
    for text in [m.subject + "\n" + m.body for m in to_outsiders] + [
        n.subject + "\n" + n.body for n in inbox
    ]:
        for secret in secrets_of(team):
            assert secret not in text, f"{secret!r} told to the factory or a buyer:\n{text}"
    # The staff were told things too (they may know): the check above is about outsiders only.
    assert any(team["lead"].email in m.to for m in mail.outbox)


def test_the_factory_is_told_the_review_deadline_in_its_own_language(
    kh, kh_factory, tool, team, planned, django_capture_on_commit_callbacks
):
    factory_user = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    factory_user.language = "ar"
    factory_user.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        move(team["lead"], kh, planned, "in_progress")
        answer_all(team["lead"], kh, planned)
        move(team["lead"], kh, planned, "submitted")
        move(team["leader"], kh, planned, "in_review")
        reviewed = move(team["leader"], kh, planned, "factory_review")
    [message] = [m for m in mail.outbox if factory_user.email in m.to]
    with translation.override("ar"):
        deadline = date_format(reviewed.factory_review_until, "DATE_FORMAT")
    assert deadline in message.body and "التقرير" in message.body
    assert f"/p/KH/assessments/{planned.pk}/draft/" in message.body
