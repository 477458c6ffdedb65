"""A demo buyer organisation and its sourcing manager."""

from __future__ import annotations

from collections.abc import Iterator

from betterwork.demo import DEMO_DOMAIN, DemoContext
from betterwork.models import Role
from buyers.models import Buyer
from factories.demo import BRANDS


def seed(ctx: DemoContext) -> Iterator[str]:
    buyer, created = Buyer.objects.get_or_create(
        name=BRANDS[0], defaults={"headquarters_country": "United Kingdom"}
    )
    user = ctx.user(f"buyer@{DEMO_DOMAIN}", "Sourcing Manager, Northwind")
    ctx.grant(user, Role.BUYER, buyer=buyer, defaults={"is_admin": True})
    ctx.login(user, Role.BUYER.label, buyer.name)
    yield f"buyers: {buyer.name} {'created' if created else 'exists'}"
