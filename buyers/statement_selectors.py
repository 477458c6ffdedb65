"""A buyer's statement: its subscriptions of one calendar year and their totals per currency.

A buyer's request scope is the programmes where it may read reports now (live, consented
subscriptions), but its statement also lists requested, expired and cancelled subscriptions,
in programmes where it may read nothing today. ``buyer_books`` widens the scope, for the
statement only, to the programmes where this buyer holds subscriptions; every query below is
also filtered by the buyer (the application's wall: row-level security separates programmes,
not buyers). Nothing but the buyer's own subscription rows (and their factories' names) is read
under that scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from betterwork import tenancy
from betterwork.models import Programme
from betterwork.permissions import Principal
from buyers import credits
from buyers.models import Buyer, CreditPurchase, PaidBy, Subscription, SubscriptionStatus

# Charged: the programme granted the period. Requested ones are pending; cancelled ones cost nothing.
CHARGED = (SubscriptionStatus.ACTIVE, SubscriptionStatus.EXPIRED)


def access_buyer(*, principal: Principal, buyer_id: int | None = None) -> Buyer:
    """The buyer whose statements this user reads: one of their own buyers (the first when they
    name none), else 404."""
    own = sorted(principal.buyer_ids())
    if not own or (buyer_id is not None and buyer_id not in own):
        raise Http404
    found = Buyer.objects.filter(pk=buyer_id if buyer_id is not None else own[0]).first()
    if found is None:
        raise Http404
    return found


@contextmanager
def buyer_books(buyer: Buyer) -> Iterator[frozenset[int]]:
    """Run the block scoped to the programmes where this buyer holds subscriptions."""
    with tenancy.scope(Programme.objects.values_list("pk", flat=True)):
        ids = set(Subscription.objects.filter(buyer=buyer).values_list("programme_id", flat=True).distinct())
        ids |= set(
            CreditPurchase.objects.filter(buyer=buyer).values_list("programme_id", flat=True).distinct()
        )
    with tenancy.scope(ids) as scope:
        yield scope


def in_year(year: int) -> Q:
    """A subscription belongs to the year its period starts in (a request without a period yet:
    the year it was asked for)."""
    return Q(starts_on__year=year) | Q(starts_on__isnull=True, created_at__year=year)


def year_subscriptions(
    *, buyer: Buyer, year: int, programme: Programme | None = None
) -> QuerySet[Subscription]:
    found = Subscription.objects.filter(in_year(year), buyer=buyer)
    if programme is not None:
        found = found.filter(programme=programme)
    return found.select_related("factory", "programme").order_by(
        "programme__code", "factory__name", "cycle", "pk"
    )


@dataclass
class Totals:
    charged: dict[str, Decimal] = field(default_factory=dict)
    pending: dict[str, Decimal] = field(default_factory=dict)

    def add(self, subscription: Subscription) -> None:
        if subscription.price is None or subscription.paid_by == PaidBy.CREDIT:
            return  # paid with a prepaid credit: the purchase is on the statement, not the subscription
        if subscription.status in CHARGED:
            bucket = self.charged
        elif subscription.status == SubscriptionStatus.REQUESTED:
            bucket = self.pending
        else:
            return
        bucket[subscription.currency] = bucket.get(subscription.currency, Decimal("0")) + subscription.price

    def rows(self) -> list[dict[str, Any]]:
        currencies = sorted(set(self.charged) | set(self.pending))
        return [
            {
                "currency": c,
                "charged": self.charged.get(c, Decimal("0")),
                "pending": self.pending.get(c, Decimal("0")),
            }
            for c in currencies
        ]


def statement(*, buyer: Buyer, year: int, programme: Programme | None = None) -> dict[str, Any]:
    """The year's subscriptions grouped by programme, with totals per currency for each programme
    and for the whole year (call inside ``buyer_books``)."""
    subscriptions = list(year_subscriptions(buyer=buyer, year=year, programme=programme))
    groups: dict[int, dict[str, Any]] = {}
    overall = Totals()
    for subscription in subscriptions:
        group = groups.setdefault(
            subscription.programme_id,
            {"programme": subscription.programme, "subscriptions": [], "totals": Totals()},
        )
        group["subscriptions"].append(subscription)
        group["totals"].add(subscription)
        overall.add(subscription)
    programmes = [{**group, "totals": group["totals"].rows()} for group in groups.values()]
    return {
        "buyer": buyer,
        "year": year,
        "programmes": programmes,
        "subscriptions": subscriptions,
        "totals": overall.rows(),
        "credits": credit_books(buyer=buyer, year=year, programme=programme),
    }


def year_purchases(
    *, buyer: Buyer, year: int, programme: Programme | None = None
) -> QuerySet[CreditPurchase]:
    found = CreditPurchase.objects.filter(buyer=buyer, purchased_on__year=year)
    if programme is not None:
        found = found.filter(programme=programme)
    return found.select_related("programme").order_by("programme__code", "purchased_on", "pk")


def credit_books(*, buyer: Buyer, year: int, programme: Programme | None = None) -> list[dict[str, Any]]:
    """Per programme where the buyer ever bought credits: the credits bought this year (with what
    they cost), those used by this year's subscriptions (not cancelled), and those left now."""
    purchases = CreditPurchase.objects.filter(buyer=buyer)
    if programme is not None:
        purchases = purchases.filter(programme=programme)
    programmes = {p.pk: p for p in Programme.objects.filter(pk__in=purchases.values("programme_id"))}
    year_rows = list(year_purchases(buyer=buyer, year=year, programme=programme))
    used = dict(
        year_subscriptions(buyer=buyer, year=year, programme=programme)
        .filter(credit_purchase__isnull=False)
        .exclude(status=SubscriptionStatus.CANCELLED)
        .order_by()
        .values("programme_id")
        .annotate(n=Count("id"))
        .values_list("programme_id", "n")
    )
    left = credits.credits_left_by_programme(buyer=buyer, programme_ids=list(programmes))
    books = []
    for found in sorted(programmes.values(), key=lambda p: p.code):
        bought = [row for row in year_rows if row.programme_id == found.pk]
        paid: dict[str, Decimal] = {}
        for row in bought:
            paid[row.currency] = paid.get(row.currency, Decimal("0")) + row.amount
        books.append(
            {
                "programme": found,
                "purchases": bought,
                "bought": sum(row.credits for row in bought),
                "paid": [{"currency": c, "amount": a} for c, a in sorted(paid.items())],
                "used": used.get(found.pk, 0),
                "left": left[found.pk],
            }
        )
    return books


def statement_years(*, buyer: Buyer) -> list[int]:
    """The years with something on the buyer's statements, latest first (inside ``buyer_books``)."""
    years: set[int] = set()
    for starts_on, created_at in Subscription.objects.filter(buyer=buyer).values_list(
        "starts_on", "created_at"
    ):
        years.add(starts_on.year if starts_on else timezone.localtime(created_at).year)
    return sorted(years, reverse=True)
