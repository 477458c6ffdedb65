"""Prepaid credits: bought per programme by its managers, one drawn per activation paid with a
credit, refused when none is left, shown on the manager's page, the subscriptions page and the
buyer's statement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import Client

from betterwork import tenancy
from betterwork.models import AuditEvent, Role
from buyers import credits, prices, services, statement_selectors
from buyers.models import Buyer, CreditPurchase, PaidBy, Subscription
from tests.model_factories import FactoryFactory, user_with_role
from tests.training.conftest import run

pytestmark = pytest.mark.django_db(transaction=False)
TODAY = dt.date.today()
YEAR_END = TODAY + dt.timedelta(days=364)


@pytest.fixture
def brand(db):
    return Buyer.objects.create(name="Northwind Apparel")


@pytest.fixture
def buyer_user(brand):
    return user_with_role(Role.BUYER, None, buyer=brand, is_admin=True)


def buy(user, programme, buyer, n, amount="2800"):
    return run(
        user,
        programme,
        credits.credits_buy,
        buyer=buyer,
        programme=programme,
        credits=n,
        amount=Decimal(amount),
        currency="USD",
        purchased_on=TODAY,
        reference="INV-1",
    )


def request(manager, programme, buyer, factory=None, cycle=1):
    factory = factory or FactoryFactory(programme=programme)
    return run(manager, programme, services.subscription_request, buyer=buyer, factory=factory, cycle=cycle)


def activate(manager, programme, subscription, paid_by=PaidBy.CREDIT):
    return run(
        manager,
        programme,
        services.subscription_activate,
        subscription=subscription,
        starts_on=TODAY,
        ends_on=YEAR_END,
        paid_by=paid_by,
    )


def balance(programme, buyer):
    with tenancy.scope({programme.pk}), transaction.atomic():
        return credits.credits_balance(buyer=buyer, programme=programme)


def test_each_activation_draws_one_credit_and_none_is_left_after(kh, kh_manager, brand):
    purchase = buy(kh_manager, kh, brand, 2)
    first, second, third = (request(kh_manager, kh, brand) for _ in range(3))
    done = activate(kh_manager, kh, first)
    assert (done.paid_by, done.credit_purchase_id) == ("credit", purchase.pk)
    assert balance(kh, brand) == 1
    activate(kh_manager, kh, second)
    assert balance(kh, brand) == 0
    with pytest.raises(ValidationError, match="No credit left in this programme"):
        activate(kh_manager, kh, third)
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert Subscription.objects.get(pk=third.pk).status == "requested"
        assert AuditEvent.objects.filter(action="credits.buy", programme=kh).count() == 1
        event = AuditEvent.objects.filter(action="subscription.activate", object_id=str(first.pk)).get()
    assert event.after["paid_by"] == "credit" and event.after["credit_purchase_id"] == purchase.pk
    # Staff may still activate without credit: invoiced later, no credit drawn.
    invoiced = activate(kh_manager, kh, third, paid_by=PaidBy.INVOICE)
    assert (invoiced.paid_by, invoiced.credit_purchase_id) == ("invoice", None)
    assert balance(kh, brand) == 0


def test_activation_defaults_to_invoice_and_reactivation_draws_no_second_credit(kh, kh_manager, brand):
    buy(kh_manager, kh, brand, 2)
    subscription = request(kh_manager, kh, brand)
    default = run(
        kh_manager,
        kh,
        services.subscription_activate,
        subscription=subscription,
        starts_on=TODAY,
        ends_on=YEAR_END,
    )
    assert default.paid_by == "invoice" and balance(kh, brand) == 2
    other = request(kh_manager, kh, brand)
    activate(kh_manager, kh, other)
    with tenancy.scope({kh.pk}), transaction.atomic():
        Subscription.objects.filter(pk=other.pk).update(status="expired")
    again = activate(kh_manager, kh, other)  # a new period of the same cycle: the same credit
    assert again.paid_by == "credit" and balance(kh, brand) == 1
    run(kh_manager, kh, services.subscription_cancel, subscription=other, reason="Closed")
    assert balance(kh, brand) == 2  # a cancelled subscription costs nothing: its credit returns


def test_balance_is_per_programme(kh, vn, kh_manager, vn_manager, brand):
    buy(vn_manager, vn, brand, 3)
    assert balance(vn, brand) == 3 and balance(kh, brand) == 0
    with pytest.raises(ValidationError, match="No credit left"):
        activate(kh_manager, kh, request(kh_manager, kh, brand))
    buy(kh_manager, kh, brand, 1)
    activate(kh_manager, kh, request(kh_manager, kh, brand, cycle=2))
    assert balance(kh, brand) == 0 and balance(vn, brand) == 3


def test_only_the_programmes_managers_buy_credits(
    kh, vn, kh_manager, vn_manager, kh_advisor, brand, buyer_user
):
    for user in (vn_manager, kh_advisor, buyer_user):
        with pytest.raises(PermissionDenied):
            buy(user, kh, brand, 1)
    with pytest.raises(ValidationError):
        buy(kh_manager, kh, brand, 0)
    assert balance(kh, brand) == 0


def test_amount_defaults_to_the_price_bands(kh, kh_manager, brand):
    run(
        kh_manager,
        kh,
        prices.price_bands_set,
        programme=kh,
        bands=[(1, Decimal("1400")), (3, Decimal("1000"))],
    )
    purchase = run(
        kh_manager, kh, credits.credits_buy, buyer=brand, programme=kh, credits=3, purchased_on=TODAY
    )
    assert (purchase.amount, purchase.currency) == (Decimal("3800"), "USD")


def test_credits_page_for_the_programmes_managers_only(kh, vn, kh_manager, vn_manager, brand, buyer_user):
    client = Client()
    client.force_login(kh_manager)
    assert client.get("/p/KH/buyer-prices/credits/").status_code == 200
    response = client.post(
        "/p/KH/buyer-prices/credits/",
        {
            "buyer": brand.pk,
            "credits": "5",
            "amount": "7000",
            "currency": "usd",
            "purchased_on": TODAY.isoformat(),
            "reference": "PO-77",
        },
    )
    assert response.status_code == 302
    with tenancy.scope({kh.pk}), transaction.atomic():
        purchase = CreditPurchase.objects.get()
    assert (purchase.credits, purchase.amount, purchase.currency, purchase.reference) == (
        5,
        Decimal("7000"),
        "USD",
        "PO-77",
    )
    page = client.get("/p/KH/buyer-prices/credits/").content.decode()
    assert "Northwind Apparel" in page and "PO-77" in page
    for user in (vn_manager, buyer_user):
        other = Client()
        other.force_login(user)
        assert other.get("/p/KH/buyer-prices/credits/").status_code == 404
        assert other.post("/p/KH/buyer-prices/credits/", {"buyer": brand.pk}).status_code == 404


def test_subscriptions_page_offers_the_credit_and_activates_with_it(kh, kh_manager, brand):
    buy(kh_manager, kh, brand, 1)
    subscription = request(kh_manager, kh, brand)
    client = Client()
    client.force_login(kh_manager)
    base = f"/p/KH/factories/{subscription.factory_id}/buyers/subscriptions/"
    page = client.get(base).content.decode()
    assert "Pay with a credit (balance 1)" in page and 'value="invoice"' in page
    response = client.post(
        f"{base}{subscription.pk}/activate/",
        {"starts_on": TODAY.isoformat(), "ends_on": YEAR_END.isoformat(), "paid_by": "credit"},
    )
    assert response.status_code == 302
    assert balance(kh, brand) == 0
    # No credit left: the page says so and nothing changes.
    second = request(kh_manager, kh, brand, factory=subscription.factory, cycle=2)
    response = client.post(
        f"{base}{second.pk}/activate/",
        {"starts_on": TODAY.isoformat(), "ends_on": YEAR_END.isoformat(), "paid_by": "credit"},
        follow=True,
    )
    assert "No credit left in this programme" in response.content.decode()
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert Subscription.objects.get(pk=second.pk).status == "requested"


def test_statement_shows_credits_bought_used_and_left(kh, vn, kh_manager, vn_manager, brand, buyer_user):
    run(kh_manager, kh, prices.price_bands_set, programme=kh, bands=[(1, Decimal("1400"))])
    buy(kh_manager, kh, brand, 3, amount="4200")
    buy(vn_manager, vn, brand, 2, amount="2000")
    paid = activate(kh_manager, kh, request(kh_manager, kh, brand))
    with statement_selectors.buyer_books(brand) as scope:
        assert scope == {kh.pk, vn.pk}  # credits alone bring a programme onto the statement
        books = statement_selectors.statement(buyer=brand, year=TODAY.year)
    by_code = {row["programme"].code: row for row in books["credits"]}
    assert (by_code["KH"]["bought"], by_code["KH"]["used"], by_code["KH"]["left"]) == (3, 1, 2)
    assert by_code["KH"]["paid"] == [{"currency": "USD", "amount": Decimal("4200")}]
    assert (by_code["VN"]["bought"], by_code["VN"]["used"], by_code["VN"]["left"]) == (2, 0, 2)
    # The subscription paid with a credit is not charged again.
    assert paid.price == Decimal("1400")
    assert books["totals"] == []
    client = Client()
    client.force_login(buyer_user)
    text = client.get(f"/buyer/statements/{TODAY.year}/").content.decode()
    assert "Prepaid credits" in text and "4,200.00" in text and "INV-1" in text
