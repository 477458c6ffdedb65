"""The programme's sliding scale of subscription prices (``PriceBand``): replaced as a whole from
a validated list, in one transaction, audited."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from betterwork import audit, permissions
from betterwork.models import Programme
from betterwork.permissions import Principal
from buyers.models import PriceBand

# The scale of domain.md: about USD 1,400 below 10 subscriptions down to 1,000 above 60.
DEFAULT_BANDS: tuple[tuple[int, Decimal], ...] = (
    (1, Decimal("1400")),
    (10, Decimal("1300")),
    (25, Decimal("1200")),
    (40, Decimal("1100")),
    (61, Decimal("1000")),
)


def bands_validate(*, bands: Sequence[tuple[int, Decimal]], currency: str) -> list[tuple[int, Decimal]]:
    """The steps as they will be stored, or ValidationError: the first band starts at one
    subscription, steps ascend strictly, every price is positive, the currency is a 3-letter code."""
    errors: list[str] = []
    steps = [(int(count), Decimal(price)) for count, price in bands]
    if not steps:
        errors.append(_("Give at least one band."))
    elif steps[0][0] != 1:
        errors.append(_("The first band starts at one subscription."))
    for (before, _price), (after, _next) in zip(steps, steps[1:], strict=False):
        if after <= before:
            errors.append(_("Each band starts at more subscriptions than the one before."))
            break
    if any(price <= 0 for _count, price in steps):
        errors.append(_("Every price is above zero."))
    if len(currency) != 3 or not currency.isalpha():
        errors.append(_("The currency is a three-letter code such as USD."))
    if errors:
        raise ValidationError(errors)
    return steps


@transaction.atomic
def price_bands_set(
    *,
    actor: Principal | None,
    programme: Programme,
    bands: Sequence[tuple[int, Decimal]],
    currency: str = "USD",
) -> list[PriceBand]:
    """Replace the programme's price bands. ``actor`` None is the platform itself (the demo)."""
    if actor is not None and not permissions.can_manage_programme_users(actor, programme.pk):
        raise PermissionDenied
    currency = currency.strip().upper()
    steps = bands_validate(bands=bands, currency=currency)
    current = list(
        PriceBand.objects.select_for_update().filter(programme=programme).order_by("from_subscriptions")
    )
    before = [[band.from_subscriptions, f"{band.price:.2f}", band.currency] for band in current]
    after = [[count, f"{price:.2f}", currency] for count, price in steps]
    if before == after:
        return current
    PriceBand.objects.filter(programme=programme).delete()
    created = PriceBand.objects.bulk_create(
        [
            PriceBand(programme=programme, from_subscriptions=count, price=price, currency=currency)
            for count, price in steps
        ]
    )
    audit.record_changes(
        actor=actor.user if actor is not None else None,
        action="price_bands.set",
        obj=programme,
        programme=programme,
        before={"bands": before},
        after={"bands": after},
    )
    return created
