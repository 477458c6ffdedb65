"""What a buyer may read now, from ``BuyerAccess`` (live subscription and the factory's consent).

``scope_for`` is the buyers' part of the request scope (``settings.SCOPE_PROVIDERS``): the
programmes where the buyer may read something now, so row-level security lets nothing else in.
``may_read`` is the finer rule, per factory and cycle, that views and report kinds ask.
"""

from __future__ import annotations

from django.utils import timezone

from betterwork.permissions import Principal
from buyers.models import BuyerAccess


def _live(principal: Principal):  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    return BuyerAccess.objects.filter(
        buyer_id__in=principal.buyer_ids(), valid_from__lte=today, valid_until__gte=today
    )


def scope_for(principal: Principal) -> frozenset[int]:
    if not principal.buyer_ids():
        return frozenset()
    return frozenset(_live(principal).values_list("programme_id", flat=True))


def may_read(principal: Principal, *, factory_id: int, cycle: int) -> bool:
    """A report of this factory and cycle, at this moment (asked again at every download)."""
    return bool(principal.buyer_ids()) and _live(principal).filter(factory_id=factory_id, cycle=cycle).exists()


def readable_factories(principal: Principal) -> dict[int, set[int]]:
    """Factory id → the cycles this buyer may read now."""
    readable: dict[int, set[int]] = {}
    if principal.buyer_ids():
        for factory_id, cycle in _live(principal).values_list("factory_id", "cycle"):
            readable.setdefault(factory_id, set()).add(cycle)
    return readable
