"""The programme's buyer subscriptions as a spreadsheet: one flat row per subscription, for the
programme's managers (read by ``selectors.programme_subscriptions``; written by
``betterwork.spreadsheets``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from betterwork.models import Programme
from buyers.models import Subscription

SUBSCRIPTION_COLUMNS: list[str | Promise] = [
    _("Buyer"),
    _("Buyer kind"),
    _("Factory id"),
    _("Factory name"),
    _("Cycle"),
    _("Status"),
    _("From"),
    _("Until"),
    _("Price"),
    _("Currency"),
    _("Paid by"),
    _("Credit purchase reference"),
    _("Credit purchased on"),
    _("Factory's consent"),
    _("Consent changed on"),
    _("Requested on"),
]


def consent_label(granted: bool | None) -> Promise:
    """The factory's decision about one buyer, in the words of the factory's buyers page."""
    if granted is None:
        return _("Not decided")
    return _("Shared") if granted else _("Not shared")


def subscription_sheet(
    subscriptions: Iterable[Subscription], *, programme: Programme
) -> tuple[list[str | Promise], Iterator[Sequence[Any]]]:
    """One row per subscription, made as it is written; moments are the programme's local days."""

    def rows() -> Iterator[Sequence[Any]]:
        for subscription in subscriptions:
            purchase = subscription.credit_purchase
            granted: bool | None = subscription.consent_granted  # type: ignore[attr-defined]
            yield (
                subscription.buyer.name,
                subscription.buyer.get_kind_display(),
                subscription.factory.public_id,
                subscription.factory.name,
                subscription.cycle,
                subscription.get_status_display(),
                subscription.starts_on,
                subscription.ends_on,
                subscription.price,
                subscription.currency,
                subscription.get_paid_by_display(),
                purchase.reference if purchase else "",
                purchase.purchased_on if purchase else None,
                consent_label(granted),
                programme.local_date(subscription.consent_changed_at) if granted is not None else None,  # type: ignore[attr-defined]
                programme.local_date(subscription.created_at),
            )

    return SUBSCRIPTION_COLUMNS, rows()
