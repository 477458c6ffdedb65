"""A buyer reads a factory's reports only while a live subscription to that cycle and the
factory's consent both stand: every denial tried, in the app and against row-level security."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test import Client

from assessments.models import Assessment
from betterwork import tenancy
from betterwork.middleware import _provided_scope
from betterwork.models import Role
from betterwork.permissions import Principal
from betterwork.tasks import SCOPE_KWARG
from buyers import access, services
from buyers.models import Buyer, BuyerAccess, Subscription
from reporting.models import ReportJob
from reporting.tasks import render_report
from tests.assessments.test_lifecycle import move
from tests.model_factories import FactoryFactory, user_with_role
from tests.training.conftest import run

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def published(kh, team, final):
    return move(team["manager"], kh, final, "published")


@pytest.fixture
def brand(db):
    return Buyer.objects.create(name="Northwind Apparel", headquarters_country="United Kingdom")


@pytest.fixture
def buyer_user(brand):
    return user_with_role(Role.BUYER, None, buyer=brand, is_admin=True)


@pytest.fixture
def hr(kh, kh_factory):
    return user_with_role(Role.FACTORY, kh, factory=kh_factory)


def subscribe(kh, team, buyer_user, brand, factory, cycle=1, days=(-10, 300)):
    subscription = run(
        buyer_user, kh, services.subscription_request, buyer=brand, factory=factory, cycle=cycle
    )
    today = kh.today()
    return run(
        team["manager"],
        kh,
        services.subscription_activate,
        subscription=subscription,
        starts_on=today + dt.timedelta(days=days[0]),
        ends_on=today + dt.timedelta(days=days[1]),
    )


def consent(kh, hr, brand, factory, granted=True):
    return run(hr, kh, services.consent_set, factory=factory, buyer=brand, granted=granted)


def reads(user, factory_id, cycle=1):
    return access.may_read(Principal.for_user(user), factory_id=factory_id, cycle=cycle)


def test_access_needs_both_a_live_subscription_and_consent(kh, team, published, brand, buyer_user, hr):
    factory = published.factory
    assert not reads(buyer_user, factory.pk)
    subscription = subscribe(kh, team, buyer_user, brand, factory)
    assert not reads(buyer_user, factory.pk)  # subscribed, no consent yet
    consent(kh, hr, brand, factory)
    assert reads(buyer_user, factory.pk)
    assert not reads(buyer_user, factory.pk, cycle=2)  # another cycle is another subscription
    assert _provided_scope(Principal.for_user(buyer_user)) == {kh.pk}

    consent(kh, hr, brand, factory, granted=False)  # revoked: at once
    assert not reads(buyer_user, factory.pk)
    # The programme leaves the scope at once, though the subscription lives: its pages list the
    # factory's name, region and "awaiting consent" from the buyer's own access rows.
    assert _provided_scope(Principal.for_user(buyer_user)) == frozenset()
    assert access.readable_factories(Principal.for_user(buyer_user)) == {}
    row = BuyerAccess.objects.get()
    assert (row.factory_name, row.factory_region) == (factory.name, factory.region)
    consent(kh, hr, brand, factory)
    assert reads(buyer_user, factory.pk)
    run(team["manager"], kh, services.subscription_cancel, subscription=subscription, reason="Unpaid")
    assert not reads(buyer_user, factory.pk)
    # No live subscription left: the programme leaves the buyer's scope altogether.
    assert _provided_scope(Principal.for_user(buyer_user)) == frozenset()


def test_a_requested_subscription_with_consent_reads_nothing_and_leaves_the_programme_out_of_scope(
    kh, vn, team, published, brand, buyer_user, hr
):
    factory = published.factory
    assert _provided_scope(Principal.for_user(buyer_user)) == frozenset()
    run(buyer_user, kh, services.subscription_request, buyer=brand, factory=factory, cycle=1)
    consent(kh, hr, brand, factory)  # consent alone, before the programme activates it
    assert _provided_scope(Principal.for_user(buyer_user)) == frozenset()
    assert not reads(buyer_user, factory.pk)
    assert BuyerAccess.objects.get().consented


def test_an_ended_period_stops_access_even_before_the_expiry_job(kh, team, published, brand, buyer_user, hr):
    factory = published.factory
    consent(kh, hr, brand, factory)
    subscribe(kh, team, buyer_user, brand, factory, days=(-400, -1))
    assert not reads(buyer_user, factory.pk)
    with tenancy.scope({kh.pk}):
        assert services.subscriptions_expire(programme=kh, today=kh.today()) == 1
        assert Subscription.objects.get().status == "expired"
    assert not BuyerAccess.objects.exists()
    assert _provided_scope(Principal.for_user(buyer_user)) == frozenset()


def test_another_buyer_and_other_programmes_see_nothing(
    kh, vn, team, published, brand, buyer_user, hr, vn_factory
):
    factory = published.factory
    subscribe(kh, team, buyer_user, brand, factory)
    consent(kh, hr, brand, factory)
    rival = user_with_role(Role.BUYER, None, buyer=Buyer.objects.create(name="Southwind"))
    assert not reads(rival, factory.pk)
    # Row-level security, not only the app's filter: the buyer's scope holds only Cambodia, so a
    # query for Vietnam's rows returns nothing even if it forgot to filter.
    scope = _provided_scope(Principal.for_user(buyer_user))
    with tenancy.scope(scope), transaction.atomic():
        assert not Assessment.objects.unscoped(reason="test").filter(programme=vn).exists()


def test_only_the_factory_decides_consent(kh, team, published, brand, buyer_user):
    from django.core.exceptions import PermissionDenied

    for someone in (
        buyer_user,
        team["manager"],
        user_with_role(Role.FACTORY, kh, factory=FactoryFactory(programme=kh)),
    ):
        with pytest.raises(PermissionDenied):
            run(someone, kh, services.consent_set, factory=published.factory, buyer=brand, granted=True)


def test_price_follows_the_programmes_sliding_scale(kh, team, brand, buyer_user):
    from buyers.models import PriceBand

    with tenancy.scope({kh.pk}), transaction.atomic():
        PriceBand.objects.create(programme=kh, from_subscriptions=1, price=1400)
        PriceBand.objects.create(programme=kh, from_subscriptions=3, price=1200)
    prices = []
    for n in range(4):
        factory = FactoryFactory(programme=kh, name=f"F{n}")
        prices.append(
            run(buyer_user, kh, services.subscription_request, buyer=brand, factory=factory, cycle=1).price
        )
    assert prices == [1400, 1400, 1200, 1200]


@pytest.mark.django_db(transaction=True)
def test_revoked_consent_refuses_the_download(kh, team, published, brand, buyer_user, hr, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    factory = published.factory
    subscribe(kh, team, buyer_user, brand, factory)
    consent(kh, hr, brand, factory)
    with tenancy.scope({kh.pk}), transaction.atomic():
        job = ReportJob.objects.filter(kind="assessment", target_id=published.pk, language="en").first()
    assert render_report.apply(args=[job.pk], kwargs={SCOPE_KWARG: [kh.pk]}).get() == "ready"
    client = Client()
    client.force_login(buyer_user)
    url = f"/p/KH/reports/jobs/{job.pk}/download/"
    first = client.get(url)
    assert first.status_code == 200 and b"".join(first.streaming_content).startswith(b"%PDF")
    consent(kh, hr, brand, factory, granted=False)  # between two downloads
    assert client.get(url).status_code == 404
    assert client.get(f"/p/KH/reports/assessment/{published.pk}/").status_code == 404
    assert client.get("/p/VN/reports/jobs/1/download/").status_code == 404


def test_buyers_read_submitted_progress_reports_only_with_a_live_consented_subscription(
    client, kh, team, published, brand, buyer_user, hr, django_capture_on_commit_callbacks
):
    from advisory import selectors as advisory_selectors
    from advisory import services as advisory_services
    from advisory.models import ProgressReport

    factory = published.factory
    plan = run(team["lead"], kh, advisory_services.plan_start, factory=factory, assessment=published)
    with tenancy.scope({kh.pk}), transaction.atomic():
        first, second = ProgressReport.objects.filter(plan=plan).order_by("number")
        snapshot = advisory_selectors.progress_snapshot(report=first, today=kh.today())
    with django_capture_on_commit_callbacks(execute=False):
        run(
            hr,
            kh,
            advisory_services.progress_report_submit,
            report=first,
            statement="On track.",
            snapshot=snapshot,
        )
    client.force_login(buyer_user)
    panel = f"/p/KH/reports/progress_report/{first.pk}/"
    assert client.get(panel).status_code == 404  # no subscription
    subscription = subscribe(kh, team, buyer_user, brand, factory)
    assert client.get(panel).status_code == 404  # no consent
    consent(kh, hr, brand, factory)
    assert client.get(panel).status_code == 200
    assert client.get(f"/p/KH/reports/progress_report/{second.pk}/").status_code == 404  # a draft has no PDF
    assert (
        client.get(f"/p/KH/advisory/progress/{first.pk}/").status_code == 404
    )  # the factory's page is not theirs
    consent(kh, hr, brand, factory, granted=False)
    assert client.get(panel).status_code == 404
    consent(kh, hr, brand, factory)
    run(team["manager"], kh, services.subscription_cancel, subscription=subscription)
    assert client.get(panel).status_code == 404
