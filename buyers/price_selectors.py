"""Reads for the programme's price bands page."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from betterwork import permissions
from betterwork.models import Programme
from betterwork.permissions import Principal
from buyers import credits
from buyers.models import Buyer, CreditPurchase, PriceBand

PURCHASES_SHOWN = 100


def access_price_bands(*, principal: Principal, programme: Programme) -> list[PriceBand]:
    """The programme's bands, lowest step first, for its managers only (else 404)."""
    if not permissions.can_manage_programme_users(principal, programme.pk):
        raise Http404
    return list(PriceBand.objects.filter(programme=programme).order_by("from_subscriptions"))


def access_credits(*, principal: Principal, programme: Programme) -> dict[str, Any]:
    """The programme's credit books for its managers only (else 404): each buyer holding credits
    with what it bought, used and has left, and the latest purchases."""
    if not permissions.can_manage_programme_users(principal, programme.pk):
        raise Http404
    balances = credits.credits_balances(programme=programme)
    buyers = {b.pk: b for b in Buyer.objects.filter(pk__in=list(balances))}
    rows: list[dict[str, Any]] = [
        {"buyer": buyers[pk], **figures}
        for pk, figures in sorted(
            balances.items(), key=lambda item: buyers[item[0]].name if item[0] in buyers else ""
        )
        if pk in buyers
    ]
    purchases = list(
        CreditPurchase.objects.filter(programme=programme)
        .select_related("buyer", "recorded_by")
        .order_by("-purchased_on", "-id")[:PURCHASES_SHOWN]
    )
    band = PriceBand.objects.filter(programme=programme).order_by("from_subscriptions").first()
    # Credits are priced on the bands, so their currency is the one a purchase is most likely in.
    return {
        "balances": rows,
        "purchases": purchases,
        "currency": band.currency if band else programme.currency,
    }
