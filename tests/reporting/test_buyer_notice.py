"""Publishing an assessment renders its report again, and once the English copy is ready the
users of buyers with a live, consented subscription to that cycle are told: nobody else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction

from betterwork import tenancy
from betterwork.models import Role
from betterwork.tasks import SCOPE_KWARG
from buyers import services as buyer_services
from buyers.models import Buyer
from reporting.models import ReportJob
from reporting.tasks import render_report
from tests.assessments.test_lifecycle import move
from tests.model_factories import user_with_role
from tests.training.conftest import run

pytestmark = pytest.mark.django_db


def test_buyers_hear_of_a_published_report_once(
    kh, team, final, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    factory = final.factory
    reader = Buyer.objects.create(name="Northwind")
    onlooker = Buyer.objects.create(name="Southwind")  # subscribed, without consent
    reader_user = user_with_role(Role.BUYER, None, buyer=reader)
    onlooker_user = user_with_role(Role.BUYER, None, buyer=onlooker)
    hr = user_with_role(Role.FACTORY, kh, factory=factory)
    today = kh.today()
    for buyer, user in ((reader, reader_user), (onlooker, onlooker_user)):
        subscription = run(
            user, kh, buyer_services.subscription_request, buyer=buyer, factory=factory, cycle=final.cycle
        )
        run(
            team["manager"],
            kh,
            buyer_services.subscription_activate,
            subscription=subscription,
            starts_on=today - dt.timedelta(days=1),
            ends_on=today + dt.timedelta(days=300),
        )
    run(hr, kh, buyer_services.consent_set, factory=factory, buyer=reader, granted=True)

    with tenancy.scope({kh.pk}), transaction.atomic():
        before = set(ReportJob.objects.filter(kind="assessment").values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=False):
        move(team["manager"], kh, final, "published")
    with tenancy.scope({kh.pk}), transaction.atomic():
        new = {
            job.language: job for job in ReportJob.objects.filter(kind="assessment").exclude(pk__in=before)
        }
    assert set(new) == {"en", "km"}  # the published report is made again, in each language
    with django_capture_on_commit_callbacks(execute=True):
        for job in new.values():
            assert render_report.apply(args=[job.pk], kwargs={SCOPE_KWARG: [kh.pk]}).get() == "ready"
    assert [m.to for m in mail.outbox] == [[reader_user.email]]  # once, not once per language
