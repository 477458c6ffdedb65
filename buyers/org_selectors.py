"""Reads of the buyer organisation pages (/buyers/ for the global team, /buyer/people/ for a
buyer's admins). Refusals are 404."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from betterwork import permissions
from betterwork.models import Role, RoleGrant
from betterwork.permissions import Principal
from buyers.models import Buyer, BuyerAccess


@dataclass
class BuyerRow:
    buyer: Buyer
    live_subscriptions: int
    users: int


def buyer_rows(*, principal: Principal) -> list[BuyerRow]:
    """Every buyer organisation with its live subscriptions and users, in three queries."""
    if not permissions.can_manage_buyers(principal):
        raise Http404
    today = timezone.localdate()
    live = dict(
        BuyerAccess.objects.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .values("buyer_id")
        .annotate(n=Count("id"))
        .values_list("buyer_id", "n")
    )
    users = dict(
        RoleGrant.objects.filter(role=Role.BUYER, buyer__isnull=False)
        .values("buyer_id")
        .annotate(n=Count("user_id", distinct=True))
        .values_list("buyer_id", "n")
    )
    return [
        BuyerRow(buyer=b, live_subscriptions=live.get(b.pk, 0), users=users.get(b.pk, 0))
        for b in Buyer.objects.order_by("name")
    ]


def access_managed_buyer(*, principal: Principal, buyer_id: int) -> Buyer:
    """A buyer organisation for the global team, else 404."""
    if not permissions.can_manage_buyers(principal):
        raise Http404
    found = Buyer.objects.filter(pk=buyer_id).first()
    if found is None:
        raise Http404
    return found


def access_colleagues_buyer(*, principal: Principal, buyer_id: int | None = None) -> Buyer:
    """The buyer whose users this principal invites from the portal: one it administers (the
    first when it names none), else 404."""
    own = sorted(principal.admin_buyer_ids())
    if buyer_id is None:
        if not own:
            raise Http404
        buyer_id = own[0]
    if not permissions.can_invite_for_buyer(principal, buyer_id):
        raise Http404
    found = Buyer.objects.filter(pk=buyer_id).first()
    if found is None:
        raise Http404
    return found


def buyer_users(*, buyer: Buyer) -> QuerySet[RoleGrant]:
    return (
        RoleGrant.objects.filter(role=Role.BUYER, buyer=buyer)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
