"""Reads for the programme's price bands page."""

from __future__ import annotations

from django.http import Http404

from betterwork import permissions
from betterwork.models import Programme
from betterwork.permissions import Principal
from buyers.models import PriceBand


def access_price_bands(*, principal: Principal, programme: Programme) -> list[PriceBand]:
    """The programme's bands, lowest step first, for its managers only (else 404)."""
    if not permissions.can_manage_programme_users(principal, programme.pk):
        raise Http404
    return list(PriceBand.objects.filter(programme=programme).order_by("from_subscriptions"))
