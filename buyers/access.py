"""What a buyer may see and read now, from ``BuyerAccess`` (one row per live subscription, with
the factory's consent and the factory's name and region).

``scope_for`` is the buyers' part of the request scope (``settings.SCOPE_PROVIDERS``): only the
programmes where the buyer may read something now (a live subscription, active today, to a
factory that consents); row-level security lets no other programme in. A subscribed factory
without consent is listed from its access rows alone (name, region, "awaiting consent"), which
needs no programme's rows. ``may_read`` is the finer rule, per factory and cycle, that views and
report kinds ask. Pages narrow every query to the buyer's own factories (``buyers.selectors``).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from betterwork.permissions import Principal
from buyers.models import BuyerAccess


def live_rows(principal: Principal) -> QuerySet[BuyerAccess]:
    """The buyer's live subscriptions: requested (no period yet) or running until today or later."""
    today = timezone.localdate()
    return BuyerAccess.objects.filter(buyer_id__in=principal.buyer_ids()).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )


def _readable(principal: Principal) -> QuerySet[BuyerAccess]:
    today = timezone.localdate()
    return BuyerAccess.objects.filter(
        buyer_id__in=principal.buyer_ids(), consented=True, valid_from__lte=today, valid_until__gte=today
    )


def scope_for(principal: Principal) -> frozenset[int]:
    if not principal.buyer_ids():
        return frozenset()
    return frozenset(_readable(principal).values_list("programme_id", flat=True))


def may_read(principal: Principal, *, factory_id: int, cycle: int) -> bool:
    """A report of this factory and cycle, at this moment (asked again at every download)."""
    return (
        bool(principal.buyer_ids())
        and _readable(principal).filter(factory_id=factory_id, cycle=cycle).exists()
    )


def readable_factories(principal: Principal) -> dict[int, set[int]]:
    """Factory id → the cycles this buyer may read now."""
    readable: dict[int, set[int]] = {}
    if principal.buyer_ids():
        for factory_id, cycle in _readable(principal).values_list("factory_id", "cycle"):
            readable.setdefault(factory_id, set()).add(cycle)
    return readable
