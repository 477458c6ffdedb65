"""Price bands, buyers' statements (page and PDF) and the daily expiry of subscriptions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client

from betterwork import tenancy
from betterwork.models import AuditEvent, Role
from betterwork.tasks import SCOPE_KWARG
from buyers import prices, services, statement_selectors
from buyers.models import Buyer, BuyerAccess, PriceBand, Subscription, SubscriptionStatus
from buyers.tasks import expire_subscriptions
from reporting import statements
from reporting.models import JobStatus, ReportJob
from reporting.tasks import render_report
from tests.model_factories import FactoryFactory, user_with_role
from tests.training.conftest import run

pytestmark = pytest.mark.django_db(transaction=False)
THIS_YEAR = dt.date.today().year


@pytest.fixture
def brand(db):
    return Buyer.objects.create(name="Northwind Apparel", headquarters_country="United Kingdom")


@pytest.fixture
def other_brand(db):
    return Buyer.objects.create(name="Meridian Sports", headquarters_country="Germany")


@pytest.fixture
def buyer_user(brand):
    return user_with_role(Role.BUYER, None, buyer=brand, is_admin=True)


@pytest.fixture
def other_user(other_brand):
    return user_with_role(Role.BUYER, None, buyer=other_brand, is_admin=True)


@pytest.fixture
def kh_manager(kh):
    return user_with_role(Role.PROGRAMME_MANAGER, kh)


@pytest.fixture
def vn_manager(vn):
    return user_with_role(Role.PROGRAMME_MANAGER, vn)


def add(programme, buyer, factory, *, status, price, currency="USD", starts_on=None, cycle=1):
    """A subscription row as the services leave it (the statement only reads them)."""
    ends_on = starts_on + dt.timedelta(days=364) if starts_on else None
    with tenancy.scope({programme.pk}), transaction.atomic():
        return Subscription.objects.create(
            programme=programme,
            buyer=buyer,
            factory=factory,
            cycle=cycle,
            status=status,
            starts_on=starts_on,
            ends_on=ends_on,
            price=Decimal(price),
            currency=currency,
        )


# --- Price bands ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bands",
    [
        [],
        [(2, "1400")],  # the first band starts at one subscription
        [(1, "1400"), (10, "1300"), (10, "1200")],  # steps ascend strictly
        [(1, "1400"), (25, "1200"), (10, "1300")],
        [(1, "1400"), (10, "0")],  # prices are positive
        [(1, "-5")],
    ],
)
def test_price_bands_refuse_a_broken_scale(kh, kh_manager, bands):
    with pytest.raises(ValidationError):
        run(kh_manager, kh, prices.price_bands_set, programme=kh, bands=[(c, Decimal(p)) for c, p in bands])


def test_price_bands_replace_the_scale_audited_and_price_new_subscriptions(kh, kh_manager, brand, buyer_user):
    run(kh_manager, kh, prices.price_bands_set, programme=kh, bands=[(1, Decimal("900"))])
    run(kh_manager, kh, prices.price_bands_set, programme=kh, bands=prices.DEFAULT_BANDS, currency="usd")
    with tenancy.scope({kh.pk}), transaction.atomic():
        steps = list(
            PriceBand.objects.filter(programme=kh).values_list("from_subscriptions", "price", "currency")
        )
        events = AuditEvent.objects.filter(action="price_bands.set", programme=kh).count()
    assert steps == [(n, p, "USD") for n, p in prices.DEFAULT_BANDS]
    assert events == 2
    # Setting the same scale again changes nothing and records nothing.
    run(kh_manager, kh, prices.price_bands_set, programme=kh, bands=prices.DEFAULT_BANDS)
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert AuditEvent.objects.filter(action="price_bands.set", programme=kh).count() == 2
    factories = [FactoryFactory(programme=kh) for _ in range(10)]
    charged = [
        run(buyer_user, kh, services.subscription_request, buyer=brand, factory=factory, cycle=1).price
        for factory in factories
    ]
    assert charged[0] == Decimal("1400") and charged[9] == Decimal("1300")


def test_price_bands_page_for_managers_only(kh, vn, kh_manager, vn_manager, buyer_user):
    client = Client()
    client.force_login(kh_manager)
    assert client.get("/p/KH/buyer-prices/").status_code == 200
    response = client.post(
        "/p/KH/buyer-prices/",
        {"currency": "USD", "from_0": "1", "price_0": "1400", "from_1": "10", "price_1": "1300"},
    )
    assert response.status_code == 302
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert PriceBand.objects.filter(programme=kh).count() == 2
    broken = client.post("/p/KH/buyer-prices/", {"currency": "USD", "from_0": "5", "price_0": "1400"})
    assert broken.status_code == 200 and "first band" in broken.content.decode()
    for user in (vn_manager, buyer_user):  # another programme's manager, a buyer: no such page
        other = Client()
        other.force_login(user)
        assert other.get("/p/KH/buyer-prices/").status_code == 404


# --- Statements ------------------------------------------------------------------------------


@pytest.fixture
def books(kh, vn, brand, other_brand):
    """Northwind's subscriptions: two currencies, two programmes, every status, two years."""
    this_year = dt.date(THIS_YEAR, 3, 1)
    k1, k2, k3, k4 = (FactoryFactory(programme=kh) for _ in range(4))
    v1, v2 = (FactoryFactory(programme=vn) for _ in range(2))
    add(kh, brand, k1, status="active", price="1400", starts_on=this_year)
    add(kh, brand, k2, status="expired", price="1300", starts_on=this_year)
    add(kh, brand, k3, status="cancelled", price="1200", starts_on=this_year)
    add(kh, brand, k4, status="requested", price="1100")  # counted in the year it was asked for
    add(kh, brand, k1, status="expired", price="999", starts_on=dt.date(THIS_YEAR - 1, 5, 1), cycle=2)
    add(vn, brand, v1, status="active", price="3000000", currency="VND", starts_on=this_year)
    add(vn, brand, v2, status="active", price="1000", starts_on=this_year)
    add(vn, other_brand, v2, status="active", price="7777", starts_on=this_year)  # another buyer's
    return {"kh": [k1, k2, k3, k4], "vn": [v1, v2]}


def test_statement_totals_per_currency_and_year(kh, vn, brand, books):
    with statement_selectors.buyer_books(brand) as scope:
        assert scope == {kh.pk, vn.pk}
        now = statement_selectors.statement(buyer=brand, year=THIS_YEAR)
        last = statement_selectors.statement(buyer=brand, year=THIS_YEAR - 1)
        years = statement_selectors.statement_years(buyer=brand)
    assert len(now["subscriptions"]) == 6
    assert now["totals"] == [
        {"currency": "USD", "charged": Decimal("3700"), "pending": Decimal("1100")},
        {"currency": "VND", "charged": Decimal("3000000"), "pending": Decimal("0")},
    ]
    by_programme = {group["programme"].code: group["totals"] for group in now["programmes"]}
    assert by_programme["KH"] == [{"currency": "USD", "charged": Decimal("2700"), "pending": Decimal("1100")}]
    assert last["totals"] == [{"currency": "USD", "charged": Decimal("999"), "pending": Decimal("0")}]
    assert years == [THIS_YEAR, THIS_YEAR - 1]


def test_statement_page_for_the_buyer_only(brand, other_brand, buyer_user, other_user, kh_manager, books):
    client = Client()
    client.force_login(buyer_user)
    page = client.get(f"/buyer/statements/{THIS_YEAR}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "3,700.00" in text and "3,000,000.00" in text and "7,777" not in text
    assert client.get("/buyer/statements/").status_code == 302
    # Another buyer's statement does not exist for this user, nor for a programme manager.
    assert client.get(f"/buyer/statements/{THIS_YEAR}/?buyer={other_brand.pk}").status_code == 404
    manager = Client()
    manager.force_login(kh_manager)
    assert manager.get(f"/buyer/statements/{THIS_YEAR}/").status_code == 404
    other = Client()
    other.force_login(other_user)
    assert other.get(f"/buyer/statements/{THIS_YEAR}/?buyer={brand.pk}").status_code == 404
    assert "7,777.00" in other.get(f"/buyer/statements/{THIS_YEAR}/").content.decode()


def test_statement_pdf_is_a_report_job_per_programme(
    kh, vn, brand, other_brand, buyer_user, other_user, books, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client = Client()
    client.force_login(buyer_user)
    panel = client.get(f"/buyer/statements/{THIS_YEAR}/pdf/")
    assert panel.status_code == 200
    assert client.post(f"/buyer/statements/{THIS_YEAR}/pdf/KH/en/").status_code == 302
    assert client.post(f"/buyer/statements/{THIS_YEAR}/pdf/KH/en/").status_code == 302  # the same job
    assert client.post(f"/buyer/statements/{THIS_YEAR}/pdf/KH/xx/").status_code == 404
    assert client.post(f"/buyer/statements/{THIS_YEAR}/pdf/JO/en/").status_code == 404
    target_id = statements.statement_target_id(buyer_id=brand.pk, programme_id=kh.pk, year=THIS_YEAR)
    with tenancy.scope({kh.pk, vn.pk}), transaction.atomic():
        jobs = list(ReportJob.objects.filter(kind="buyer_statement"))
    assert len(jobs) == 1
    job = jobs[0]
    assert (job.programme_id, job.target_id, job.language) == (kh.pk, target_id, "en")
    assert render_report.apply(args=[job.pk], kwargs={SCOPE_KWARG: [kh.pk]}).get() == "ready"
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert ReportJob.objects.get(pk=job.pk).status == JobStatus.READY
    url = f"/buyer/statements/{THIS_YEAR}/pdf/jobs/{job.pk}/download/"
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert AuditEvent.objects.filter(action="report.download", object_id=str(job.pk)).exists()
    assert client.get(f"/buyer/statements/{THIS_YEAR - 1}/pdf/jobs/{job.pk}/download/").status_code == 404
    # Another buyer: neither the file nor a request in this buyer's name.
    other = Client()
    other.force_login(other_user)
    assert other.get(url).status_code == 404
    assert other.get(url + f"?buyer={brand.pk}").status_code == 404
    assert other.post(f"/buyer/statements/{THIS_YEAR}/pdf/KH/en/", {"buyer": brand.pk}).status_code == 404


def test_statement_snapshot_changes_with_the_books(kh, brand, books):
    from reporting.kinds import BUYER_STATEMENT

    with tenancy.scope({kh.pk}), transaction.atomic():
        target = statements.load_statement(
            statements.statement_target_id(buyer_id=brand.pk, programme_id=kh.pk, year=THIS_YEAR)
        )
        before = BUYER_STATEMENT.input_hash(target)
        Subscription.objects.filter(buyer=brand, status="requested").update(status="cancelled")
        assert BUYER_STATEMENT.input_hash(target) != before
    assert statements.statement_target_parts(target.pk) == (brand.pk, kh.pk, THIS_YEAR)


# --- The daily expiry --------------------------------------------------------------------------


def test_expiry_task_expires_ended_subscriptions_in_every_programme(kh, vn, brand):
    today = dt.date.today()
    ended = add(
        kh,
        brand,
        FactoryFactory(programme=kh),
        status="active",
        price="1400",
        starts_on=today - dt.timedelta(days=400),
    )
    live = add(
        vn,
        brand,
        FactoryFactory(programme=vn),
        status="active",
        price="1400",
        starts_on=today - dt.timedelta(days=10),
    )
    with tenancy.scope({kh.pk}), transaction.atomic():
        BuyerAccess.objects.create(
            buyer=brand,
            factory=ended.factory,
            programme=kh,
            cycle=1,
            valid_from=ended.starts_on,
            valid_until=ended.ends_on,
        )
    result = expire_subscriptions.apply().get()
    assert result["KH"] == 1 and result["VN"] == 0
    with tenancy.scope({kh.pk, vn.pk}), transaction.atomic():
        assert Subscription.objects.get(pk=ended.pk).status == SubscriptionStatus.EXPIRED
        assert Subscription.objects.get(pk=live.pk).status == SubscriptionStatus.ACTIVE
        assert AuditEvent.objects.filter(action="subscription.expire", programme=kh).count() == 1
    assert not BuyerAccess.objects.filter(factory=ended.factory).exists()
    assert expire_subscriptions.apply().get()["KH"] == 0  # nothing twice


def test_expiry_runs_daily_in_beat(settings):
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["buyers.expire_subscriptions"] == 86400.0
