"""The buyer portal, the factory's buyers page and the programme's subscriptions page: what each
shows, every denial (a refused object is a 404 or only name, location and "awaiting consent"),
the flat query count of the list, and buyers told of a new report."""

# The buyers' fixtures are imported from test_access and then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from assessments.models import Assessment, Cluster
from betterwork import tenancy
from betterwork.models import Notification, Role
from buyers import services
from buyers.models import Buyer, BuyerAccess, Consent, Subscription
from reporting import services as report_services
from reporting.models import ReportJob
from tests.buyers.test_access import brand, buyer_user, consent, hr, published, subscribe  # noqa: F401
from tests.model_factories import FactoryFactory, user_with_role
from tests.training.conftest import run

pytestmark = pytest.mark.django_db

AWAITING = b"awaiting consent"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def finish(kh, job_id):
    with tenancy.scope({kh.pk}):
        return report_services.job_finish(job_id=job_id, name="reports/x.pdf", sha256="0" * 64, pages=3)


def request_job(kh, assessment, language="en") -> ReportJob:
    with tenancy.scope({kh.pk}), transaction.atomic():
        job, _ = report_services.report_request(
            actor=None, kind_name="assessment", target_id=assessment.pk, language=language
        )
    return job


@pytest.fixture
def shared(kh, team, published, brand, buyer_user, hr):
    """A live subscription to the published cycle and the factory's consent."""
    subscription = subscribe(kh, team, buyer_user, brand, published.factory)
    consent(kh, hr, brand, published.factory)
    return subscription


# --- The portal -----------------------------------------------------------------------------------


def test_without_consent_only_name_location_and_awaiting(kh, team, published, brand, buyer_user, hr):
    factory = published.factory
    subscribe(kh, team, buyer_user, brand, factory)
    client = signed_in(buyer_user)
    page = client.get("/buyer/")
    assert page.status_code == 200
    assert factory.name.encode() in page.content and AWAITING in page.content
    assert b'class="cluster-figures"' not in page.content and b"report-pdf" not in page.content
    detail = client.get(f"/buyer/factories/{factory.pk}/")
    assert detail.status_code == 200 and AWAITING in detail.content
    assert b"reports/assessment" not in detail.content
    assert client.get(f"/p/KH/reports/assessment/{published.pk}/").status_code == 404

    consent(kh, hr, brand, factory)
    page = client.get("/buyer/")
    assert AWAITING not in page.content and b"Reports shared" in page.content
    detail = client.get(f"/buyer/factories/{factory.pk}/")
    assert f"/p/KH/reports/assessment/{published.pk}/".encode() in detail.content
    assert client.get(f"/p/KH/reports/assessment/{published.pk}/", HTTP_HX_REQUEST="true").status_code == 200


def cluster_rows(assessment):
    from buyers.selectors import cluster_figures

    with tenancy.scope({assessment.programme_id}), transaction.atomic():
        return cluster_figures(assessment_ids=[assessment.pk])[assessment.pk]


def test_an_awaiting_factory_is_listed_without_its_programme_in_scope(
    kh, team, published, brand, buyer_user, hr
):
    """Row-level security, not only the app's filter: without consent the buyer's requests run with
    no programme in scope, yet the list, the factory page and the API name the factory."""
    factory = published.factory
    subscribe(kh, team, buyer_user, brand, factory)
    client = signed_in(buyer_user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/buyer/")
    assert factory.name.encode() in page.content and AWAITING in page.content
    scopes = {q["sql"] for q in queries.captured_queries if "set_config" in q["sql"]}
    assert scopes == {"SELECT set_config('app.programme_ids', '', true)"}, scopes
    assert client.get(f"/buyer/factories/{factory.pk}/").status_code == 200
    assert client.get(f"/p/KH/factories/{factory.pk}/").status_code == 404

    # A renamed factory shows its new name to its buyers.
    with tenancy.scope({kh.pk}), transaction.atomic():
        factory.name = "Angkor Garments Two"
        factory.region = "Kandal"
        factory.save()
    page = client.get("/buyer/").content.decode()
    assert "Angkor Garments Two" in page and "Kandal" in page


def test_the_list_shows_figures_plan_and_new_reports(kh, team, published, brand, buyer_user, shared):
    job = request_job(kh, published)
    finish(kh, job.pk)
    client = signed_in(buyer_user)
    page = client.get("/buyer/").content.decode()
    assert "Angkor Garments" in page and "Better Factories Cambodia" in page and "Cambodia" in page
    assert "badge--new" in page
    assert "/1" in page  # a cluster with one non-compliant point of one assessed
    assert "Angkor Garments" in client.get("/buyer/?new=on").content.decode()
    assert "Angkor Garments" not in client.get("/buyer/?status=awaiting_consent").content.decode()
    assert "Angkor Garments" in client.get("/buyer/?status=shared&programme=KH").content.decode()
    noncompliant = next(s.cluster.code for s in cluster_rows(published) if s.points_non_compliant)
    non_compliant_codes = {s.cluster.code for s in cluster_rows(published) if s.points_non_compliant}
    compliant = Cluster.objects.exclude(code__in=non_compliant_codes).values_list("code", flat=True)[0]
    assert "Angkor Garments" in client.get(f"/buyer/?cluster={noncompliant}").content.decode()
    assert "Angkor Garments" not in client.get(f"/buyer/?cluster={compliant}").content.decode()
    assert "Select a valid choice" in client.get("/buyer/?cluster=NOPE").content.decode()
    supply = client.get("/buyer/supply-base/")
    assert supply.status_code == 200 and b"100%" in supply.content


def test_every_denial(kh, vn, team, published, brand, buyer_user, hr, vn_factory):
    factory = published.factory
    client = signed_in(buyer_user)
    # No subscription at all.
    assert client.get(f"/buyer/factories/{factory.pk}/").status_code == 404
    assert factory.name.encode() not in client.get("/buyer/").content
    # Requested only (even with consent): name, location, nothing readable.
    requested = run(buyer_user, kh, services.subscription_request, buyer=brand, factory=factory, cycle=1)
    consent(kh, hr, brand, factory)
    detail = client.get(f"/buyer/factories/{factory.pk}/")
    assert detail.status_code == 200 and b"reports/assessment" not in detail.content
    assert client.get(f"/p/KH/reports/assessment/{published.pk}/").status_code == 404
    # Cancelled: gone altogether.
    run(team["manager"], kh, services.subscription_cancel, subscription=requested, reason="Not paid")
    assert client.get(f"/buyer/factories/{factory.pk}/").status_code == 404
    assert factory.name.encode() not in client.get("/buyer/").content
    # Expired (the period ended): gone.
    subscribe(kh, team, buyer_user, brand, factory, days=(-400, -1))
    assert client.get(f"/buyer/factories/{factory.pk}/").status_code == 404
    with tenancy.scope({kh.pk}), transaction.atomic():
        services.subscriptions_expire(programme=kh, today=kh.today())
    assert client.get(f"/buyer/factories/{factory.pk}/").status_code == 404
    assert client.get(f"/p/KH/reports/assessment/{published.pk}/").status_code == 404
    # Live again, then consent revoked: awaiting consent, panel 404.
    with tenancy.scope({kh.pk}), transaction.atomic():
        Subscription.objects.all().delete()
        BuyerAccess.objects.all().delete()
    subscribe(kh, team, buyer_user, brand, factory)
    assert b"reports/assessment" in client.get(f"/buyer/factories/{factory.pk}/").content
    consent(kh, hr, brand, factory, granted=False)
    detail = client.get(f"/buyer/factories/{factory.pk}/")
    assert (
        detail.status_code == 200
        and AWAITING in detail.content
        and b"reports/assessment" not in detail.content
    )
    assert client.get(f"/p/KH/reports/assessment/{published.pk}/").status_code == 404
    # Another buyer and a factory of another programme.
    consent(kh, hr, brand, factory)
    rival = signed_in(user_with_role(Role.BUYER, None, buyer=Buyer.objects.create(name="Southwind")))
    assert rival.get(f"/buyer/factories/{factory.pk}/").status_code == 404
    assert rival.get(f"/p/KH/reports/assessment/{published.pk}/").status_code == 404
    assert factory.name.encode() not in rival.get("/buyer/").content
    assert client.get(f"/buyer/factories/{vn_factory.pk}/").status_code == 404
    assert client.get(f"/p/VN/reports/assessment/{published.pk}/").status_code == 404
    # Not a buyer at all.
    assert signed_in(team["manager"]).get("/buyer/").status_code == 404


def test_the_list_costs_the_same_for_2_or_12_factories(kh, team, published, brand, buyer_user, hr, shared):
    def count() -> int:
        client = signed_in(buyer_user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/buyer/").status_code == 200
        return len(queries)

    FactoryFactory(programme=kh)
    extra = FactoryFactory(programme=kh, name="Second")
    subscribe(kh, team, buyer_user, brand, extra)
    consent(kh, user_with_role(Role.FACTORY, kh, factory=extra), brand, extra)
    few = count()
    for n in range(10):
        more = FactoryFactory(programme=kh, name=f"More {n}")
        subscribe(kh, team, buyer_user, brand, more)
        if n % 2:
            consent(kh, user_with_role(Role.FACTORY, kh, factory=more), brand, more)
    assert count() == few


# --- The factory's buyers page -----------------------------------------------------------------


def test_the_factory_grants_and_revokes_with_a_note(kh, team, published, brand, buyer_user, hr):
    factory = published.factory
    subscribe(kh, team, buyer_user, brand, factory)
    client = signed_in(hr)
    url = f"/p/KH/factories/{factory.pk}/buyers/"
    page = client.get(url)
    assert page.status_code == 200 and b"Northwind Apparel" in page.content
    confirm = client.get(f"{url}{brand.pk}/consent/?granted=1")
    assert confirm.status_code == 200 and b"Share your reports with Northwind Apparel?" in confirm.content
    refused = client.post(f"{url}{brand.pk}/consent/", {"granted": "1", "note": "ok"})  # not confirmed
    assert refused.status_code == 200
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert not Consent.objects.exists()
    done = client.post(
        f"{url}{brand.pk}/consent/", {"granted": "1", "note": "Agreed in May", "confirm": "on"}
    )
    assert done.status_code == 302
    client.post(f"{url}{brand.pk}/consent/", {"granted": "0", "note": "Contract ended", "confirm": "on"})
    page = client.get(url).content.decode()
    assert "Agreed in May" in page and "Contract ended" in page and "Stopped sharing" in page
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert not Consent.objects.get().granted


def test_the_factory_sees_who_downloaded_which_report(kh, team, published, brand, buyer_user, hr, shared):
    job = request_job(kh, published)
    finish(kh, job.pk)
    from betterwork.permissions import Principal

    with tenancy.scope({kh.pk}), transaction.atomic():
        report_services.report_downloaded(
            actor=Principal.for_user(buyer_user), job=ReportJob.objects.get(pk=job.pk)
        )
    page = signed_in(hr).get(f"/p/KH/factories/{published.factory.pk}/buyers/").content.decode()
    assert buyer_user.email in page or buyer_user.full_name in page
    assert "Assessment report" in page and "Northwind Apparel" in page


def test_the_buyers_page_is_refused_to_others(
    kh, vn, team, published, brand, buyer_user, hr, shared, vn_manager
):
    url = f"/p/KH/factories/{published.factory.pk}/buyers/"
    other_factory_user = user_with_role(Role.FACTORY, kh, factory=FactoryFactory(programme=kh))
    assert signed_in(other_factory_user).get(url).status_code == 404
    assert signed_in(buyer_user).get(url).status_code == 404
    assert signed_in(vn_manager).get(url).status_code == 404
    assert signed_in(other_factory_user).get(f"{url}{brand.pk}/consent/?granted=0").status_code == 404
    # Staff read it but do not decide.
    staff = signed_in(team["lead"])
    assert staff.get(url).status_code == 200
    assert staff.get(f"{url}{brand.pk}/consent/?granted=0").status_code == 404
    assert staff.post(f"{url}{brand.pk}/consent/", {"granted": "0", "confirm": "on"}).status_code == 404
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert Consent.objects.get().granted


# --- The programme's subscriptions page ----------------------------------------------------------


def test_managers_record_activate_and_cancel_subscriptions(kh, team, kh_factory, brand):
    url = f"/p/KH/factories/{kh_factory.pk}/buyers/subscriptions/"
    for someone in (team["lead"], user_with_role(Role.FACTORY, kh, factory=kh_factory)):
        assert signed_in(someone).get(url).status_code == 404
    client = signed_in(team["manager"])
    assert client.get(url).status_code == 200
    assert client.post(url, {"buyer": brand.pk, "cycle": 1}).status_code == 302
    assert client.post(url, {"buyer": brand.pk, "cycle": 1}).status_code == 400  # already subscribed
    with tenancy.scope({kh.pk}), transaction.atomic():
        subscription = Subscription.objects.get()
    today = kh.today()
    client.post(
        f"{url}{subscription.pk}/activate/",
        {"starts_on": today.isoformat(), "ends_on": (today + dt.timedelta(days=365)).isoformat()},
    )
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert Subscription.objects.get().status == "active"
    client.post(f"{url}{subscription.pk}/cancel/", {"reason": "Unpaid"})
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert Subscription.objects.get().status == "cancelled"
    assert not BuyerAccess.objects.exists()


# --- Buyers told of a new report ----------------------------------------------------------------


def test_buyers_with_consent_are_told_once_per_report(kh, team, published, brand, buyer_user, shared):
    waiting = user_with_role(Role.BUYER, None, buyer=Buyer.objects.create(name="Waiting Brand"))
    subscribe(kh, team, waiting, Buyer.objects.get(name="Waiting Brand"), published.factory)  # no consent
    english, khmer = request_job(kh, published, "en"), request_job(kh, published, "km")
    finish(kh, khmer.pk)
    finish(kh, english.pk)
    finish(kh, english.pk)  # a duplicate finish changes nothing
    with tenancy.scope({kh.pk}), transaction.atomic():
        told = list(
            Notification.objects.filter(link__startswith="/buyer/").values_list("recipient_id", "link")
        )
    assert told == [(buyer_user.pk, f"/buyer/factories/{published.factory.pk}/")]


def test_an_unpublished_report_tells_no_buyer(kh, team, final, brand, buyer_user, hr):
    subscribe(kh, team, buyer_user, brand, final.factory)
    consent(kh, hr, brand, final.factory)
    with tenancy.scope({kh.pk}), transaction.atomic():
        job = ReportJob.objects.get(kind="assessment", target_id=final.pk, language="en")
        assert Assessment.objects.get(pk=final.pk).status == "final"
    finish(kh, job.pk)
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert not Notification.objects.filter(recipient=buyer_user).exists()
