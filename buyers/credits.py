"""Prepaid credits: a buyer buys credits in one programme, and each credit pays for one
subscription (one factory's service cycle) when the programme activates it.

The balance of a buyer in a programme is the credits it bought there minus the subscriptions that
drew one and are not cancelled (a cancelled subscription costs nothing, so its credit returns).
Credits are drawn oldest purchase first, under a lock on the buyer's purchases of that programme,
so two activations at once never spend the same credit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from betterwork import audit, permissions
from betterwork.models import Programme
from betterwork.permissions import Principal
from buyers.models import Buyer, CreditPurchase, PriceBand, Subscription, SubscriptionStatus


def _spending() -> Q:
    """Subscriptions that hold on to the credit they drew."""
    return ~Q(status=SubscriptionStatus.CANCELLED)


def credits_used(*, buyer: Buyer, programme: Programme) -> int:
    return (
        Subscription.objects.filter(programme=programme, buyer=buyer, credit_purchase__isnull=False)
        .filter(_spending())
        .count()
    )


def credits_balance(*, buyer: Buyer, programme: Programme) -> int:
    """Credits this buyer may still spend in this programme (other programmes' do not count)."""
    bought = (
        CreditPurchase.objects.filter(programme=programme, buyer=buyer).aggregate(n=Sum("credits"))["n"] or 0
    )
    return int(bought) - credits_used(buyer=buyer, programme=programme)


def credits_left_by_programme(*, buyer: Buyer, programme_ids: list[int]) -> dict[int, int]:
    """The buyer's credits left in each of these programmes, in two grouped queries."""
    bought = dict(
        CreditPurchase.objects.filter(buyer=buyer, programme_id__in=programme_ids)
        .values("programme_id")
        .annotate(n=Sum("credits"))
        .values_list("programme_id", "n")
    )
    used = dict(
        Subscription.objects.filter(
            buyer=buyer, programme_id__in=programme_ids, credit_purchase__isnull=False
        )
        .filter(_spending())
        .values("programme_id")
        .annotate(n=Count("id"))
        .values_list("programme_id", "n")
    )
    return {pk: int(bought.get(pk) or 0) - used.get(pk, 0) for pk in programme_ids}


def credits_balances(
    *, programme: Programme, buyer_ids: list[int] | None = None
) -> dict[int, dict[str, int]]:
    """Buyer id → bought, used and left in this programme, in two grouped queries."""
    purchases = CreditPurchase.objects.filter(programme=programme)
    used = Subscription.objects.filter(programme=programme, credit_purchase__isnull=False).filter(_spending())
    if buyer_ids is not None:
        purchases, used = purchases.filter(buyer_id__in=buyer_ids), used.filter(buyer_id__in=buyer_ids)
    result: dict[int, dict[str, int]] = {}
    for row in purchases.values("buyer_id").annotate(n=Sum("credits")):
        result[row["buyer_id"]] = {"bought": int(row["n"]), "used": 0, "left": int(row["n"])}
    for row in used.values("buyer_id").annotate(n=Count("id")):
        entry = result.setdefault(row["buyer_id"], {"bought": 0, "used": 0, "left": 0})
        entry["used"] = row["n"]
        entry["left"] = entry["bought"] - row["n"]
    return result


def credits_price(*, buyer: Buyer, programme: Programme, credits: int) -> tuple[Decimal | None, str]:
    """What these credits cost on the programme's sliding scale: each credit at the band of the
    subscription it will pay for (the buyer's subscriptions and unspent credits counted first)."""
    bands = list(PriceBand.objects.filter(programme=programme).order_by("from_subscriptions"))
    if not bands:
        return None, programme.currency
    held = Subscription.objects.filter(programme=programme, buyer=buyer).exclude(
        status=SubscriptionStatus.CANCELLED
    )
    unspent = max(credits_balance(buyer=buyer, programme=programme), 0)
    first = held.count() + unspent + 1
    total = Decimal("0")
    for number in range(first, first + credits):
        total += [band for band in bands if band.from_subscriptions <= number][-1].price
    return total, bands[0].currency


@transaction.atomic
def credits_buy(
    *,
    actor: Principal,
    buyer: Buyer,
    programme: Programme,
    credits: int,
    purchased_on: dt.date,
    amount: Decimal | None = None,
    currency: str = "",
    reference: str = "",
) -> CreditPurchase:
    """Record a buyer's purchase of credits in a programme (its managers only). Without an amount,
    the price is the programme's sliding scale now."""
    if not permissions.can_manage_programme_users(actor, programme.pk):
        raise PermissionDenied
    if credits < 1:
        raise ValidationError({"credits": _("Buy at least one credit.")})
    if purchased_on > programme.today():
        raise ValidationError({"purchased_on": _("The purchase date is in the future.")})
    if amount is None:
        amount, scale_currency = credits_price(buyer=buyer, programme=programme, credits=credits)
        if amount is None:
            raise ValidationError({"amount": _("Give the amount paid: the programme has no price bands.")})
        currency = currency or scale_currency
    if amount < 0:
        raise ValidationError({"amount": _("The amount paid cannot be negative.")})
    currency = (currency or programme.currency).strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ValidationError({"currency": _("The currency is a three-letter code such as USD.")})
    purchase = CreditPurchase.objects.create(
        programme=programme,
        buyer=buyer,
        credits=credits,
        amount=amount,
        currency=currency,
        purchased_on=purchased_on,
        reference=reference.strip()[:100],
        recorded_by=actor.user,
    )
    audit.record(
        actor=actor.user,
        action="credits.buy",
        obj=purchase,
        programme=programme,
        after={
            "buyer": buyer.pk,
            "credits": credits,
            "amount": f"{amount:.2f}",
            "currency": currency,
            "purchased_on": purchased_on.isoformat(),
            "reference": purchase.reference,
        },
    )
    return purchase


def credit_draw(*, buyer_id: int, programme_id: int) -> CreditPurchase:
    """The oldest purchase with a credit left (its rows locked until the transaction ends), or
    ValidationError. Call inside the activation's transaction."""
    purchases = list(
        CreditPurchase.objects.select_for_update()
        .filter(programme_id=programme_id, buyer_id=buyer_id)
        .order_by("purchased_on", "id")
    )
    used = dict(
        Subscription.objects.filter(credit_purchase__in=purchases)
        .filter(_spending())
        .values("credit_purchase_id")
        .annotate(n=Count("id"))
        .values_list("credit_purchase_id", "n")
    )
    for purchase in purchases:
        if purchase.credits > used.get(purchase.pk, 0):
            return purchase
    raise ValidationError({"paid_by": _("No credit left in this programme.")})
