"""Subscriptions and consent: every write checked, in one transaction, audited, and followed by
the rebuild of the buyer's access to that factory (``BuyerAccess``), so that revoking consent or
cancelling a subscription stops access at once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from betterwork import audit, permissions
from betterwork.models import Programme
from betterwork.permissions import Principal
from buyers import credits
from buyers.models import (
    Buyer,
    BuyerAccess,
    Consent,
    ConsentChange,
    PaidBy,
    PriceBand,
    Subscription,
    SubscriptionStatus,
)
from factories.models import Factory


def access_rebuild(*, buyer: Buyer, factory: Factory) -> int:
    """Make the buyer's access rows for the factory match its live (requested or active)
    subscriptions and the factory's consent now; returns the number of cycles the buyer may read
    (consented and active; the period is checked again at every read)."""
    BuyerAccess.objects.filter(buyer=buyer, factory=factory).delete()
    consented = Consent.objects.filter(factory=factory, buyer=buyer, granted=True).exists()
    live = Subscription.objects.filter(
        buyer=buyer, factory=factory, status__in=(SubscriptionStatus.REQUESTED, SubscriptionStatus.ACTIVE)
    )
    rows = [
        BuyerAccess(
            buyer=buyer,
            factory=factory,
            factory_name=factory.name,
            factory_region=factory.region,
            programme_id=factory.programme_id,
            cycle=subscription.cycle,
            consented=consented,
            valid_from=subscription.starts_on if subscription.status == SubscriptionStatus.ACTIVE else None,
            valid_until=subscription.ends_on if subscription.status == SubscriptionStatus.ACTIVE else None,
        )
        for subscription in live
    ]
    BuyerAccess.objects.bulk_create(rows)
    return sum(1 for row in rows if row.consented and row.valid_from and row.valid_until)


def access_names_keep(*, factory: Factory) -> int:
    """A renamed or moved factory: its buyers' access rows show the new name and region."""
    return (
        BuyerAccess.objects.filter(factory_id=factory.pk)
        .exclude(factory_name=factory.name, factory_region=factory.region)
        .update(factory_name=factory.name, factory_region=factory.region)
    )


def price_for(*, buyer: Buyer, programme: Programme) -> tuple[Decimal | None, str]:
    """The programme's price for one more subscription of this buyer (the sliding scale counts the
    buyer's subscriptions in the programme, this one included)."""
    held = Subscription.objects.filter(programme=programme, buyer=buyer).exclude(
        status=SubscriptionStatus.CANCELLED
    )
    band = (
        PriceBand.objects.filter(programme=programme, from_subscriptions__lte=held.count() + 1)
        .order_by("-from_subscriptions")
        .first()
    )
    return (band.price, band.currency) if band else (None, programme.currency)


@transaction.atomic
def subscription_request(*, actor: Principal, buyer: Buyer, factory: Factory, cycle: int) -> Subscription:
    """A buyer (or the programme on its behalf) asks for a factory's reports of one cycle."""
    if not (
        buyer.pk in actor.buyer_ids() or permissions.can_manage_programme_users(actor, factory.programme_id)
    ):
        raise PermissionDenied
    if cycle < 1:
        raise ValidationError({"cycle": _("Cycles are counted from 1.")})
    if (
        Subscription.objects.filter(buyer=buyer, factory=factory, cycle=cycle)
        .exclude(status=SubscriptionStatus.CANCELLED)
        .exists()
    ):
        raise ValidationError(
            _("%(buyer)s already subscribes to this cycle of the factory.") % {"buyer": buyer}
        )
    price, currency = price_for(buyer=buyer, programme=factory.programme)
    subscription = Subscription.objects.create(
        programme_id=factory.programme_id,
        buyer=buyer,
        factory=factory,
        cycle=cycle,
        price=price,
        currency=currency,
        requested_by=actor.user,
    )
    access_rebuild(buyer=buyer, factory=factory)
    audit.record(
        actor=actor.user,
        action="subscription.request",
        obj=subscription,
        programme=factory.programme_id,
        after=audit.snapshot(subscription, ["buyer", "factory", "cycle", "price", "currency"]),
    )
    return subscription


@transaction.atomic
def subscription_activate(
    *,
    actor: Principal,
    subscription: Subscription,
    starts_on: dt.date,
    ends_on: dt.date,
    paid_by: str = PaidBy.INVOICE,
) -> Subscription:
    """The programme confirms a subscription for a period, paid with one of the buyer's credits in
    that programme (``paid_by="credit"``: refused when none is left) or invoiced later.

    A subscription draws at most one credit: activating again one that already holds a credit
    (an expired one, for a new period) keeps that credit and draws no other."""
    locked = (
        Subscription.objects.select_for_update().select_related("buyer", "factory").get(pk=subscription.pk)
    )
    if not permissions.can_manage_programme_users(actor, locked.programme_id):
        raise PermissionDenied
    if locked.status not in (SubscriptionStatus.REQUESTED, SubscriptionStatus.EXPIRED):
        raise ValidationError(_("Only a requested or expired subscription can be activated."))
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("The period ends before it starts.")})
    if paid_by not in PaidBy.values:
        raise ValidationError({"paid_by": _("Choose how the subscription is paid.")})
    fields = ["status", "starts_on", "ends_on", "paid_by", "credit_purchase"]
    before = audit.snapshot(locked, fields)
    if locked.credit_purchase_id is None:
        if paid_by == PaidBy.CREDIT:
            locked.credit_purchase = credits.credit_draw(
                buyer_id=locked.buyer_id, programme_id=locked.programme_id
            )
        locked.paid_by = paid_by
    locked.status, locked.starts_on, locked.ends_on = SubscriptionStatus.ACTIVE, starts_on, ends_on
    locked.save()
    access_rebuild(buyer=locked.buyer, factory=locked.factory)
    audit.record_changes(
        actor=actor.user,
        action="subscription.activate",
        obj=locked,
        programme=locked.programme_id,
        before=before,
        after=audit.snapshot(locked, fields),
    )
    return locked


@transaction.atomic
def subscription_cancel(*, actor: Principal, subscription: Subscription, reason: str = "") -> Subscription:
    locked = (
        Subscription.objects.select_for_update().select_related("buyer", "factory").get(pk=subscription.pk)
    )
    if not (
        permissions.can_manage_programme_users(actor, locked.programme_id)
        or locked.buyer_id in {g.buyer_id for g in actor.grants if g.is_admin}
    ):
        raise PermissionDenied
    if locked.status == SubscriptionStatus.CANCELLED:
        return locked
    locked.status = SubscriptionStatus.CANCELLED
    locked.save(update_fields=["status", "updated_at"])
    access_rebuild(buyer=locked.buyer, factory=locked.factory)
    audit.record(
        actor=actor.user,
        action="subscription.cancel",
        obj=locked,
        programme=locked.programme_id,
        reason=reason,
    )
    return locked


@transaction.atomic
def subscriptions_expire(*, programme: Programme, today: dt.date) -> int:
    """Active subscriptions whose period ended become expired (a system job)."""
    ended = list(
        Subscription.objects.filter(
            programme=programme, status=SubscriptionStatus.ACTIVE, ends_on__lt=today
        ).select_related("buyer", "factory")
    )
    for subscription in ended:
        subscription.status = SubscriptionStatus.EXPIRED
        subscription.save(update_fields=["status", "updated_at"])
        access_rebuild(buyer=subscription.buyer, factory=subscription.factory)
    if ended:
        audit.record(
            actor=None,
            action="subscription.expire",
            obj=programme,
            programme=programme,
            after={"subscriptions": [s.pk for s in ended]},
        )
    return len(ended)


@transaction.atomic
def consent_set(
    *, actor: Principal, factory: Factory, buyer: Buyer, granted: bool, note: str = ""
) -> Consent:
    """The factory decides whether a buyer may read its reports; revoking takes effect at once."""
    if factory.pk not in actor.factory_ids():
        raise PermissionDenied
    Factory.objects.select_for_update().get(pk=factory.pk)
    consent = Consent.objects.filter(factory=factory, buyer=buyer).first() or Consent(
        programme_id=factory.programme_id, factory=factory, buyer=buyer
    )
    if consent.pk and consent.granted == granted:
        return consent
    consent.granted = granted
    consent.changed_by = actor.user
    consent.save()
    ConsentChange.objects.create(
        programme_id=factory.programme_id,
        consent=consent,
        granted=granted,
        by=actor.user,
        note=note.strip()[:300],
    )
    access_rebuild(buyer=buyer, factory=factory)
    audit.record(
        actor=actor.user,
        action="consent.grant" if granted else "consent.revoke",
        obj=consent,
        programme=factory.programme_id,
        after={"buyer": buyer.pk, "granted": granted},
        reason=note.strip(),
    )
    return consent


def access_rebuild_programme(*, programme: Programme) -> int:
    """Every buyer's access rows to the programme's factories, made again from its subscriptions
    and consents (after a programme is restored from its archive); returns the readable cycles."""
    pairs = sorted(
        set(Subscription.objects.filter(programme=programme).values_list("buyer_id", "factory_id"))
    )
    buyers = Buyer.objects.in_bulk({buyer_id for buyer_id, _factory_id in pairs})
    factories = Factory.objects.in_bulk({factory_id for _buyer_id, factory_id in pairs})
    return sum(access_rebuild(buyer=buyers[b], factory=factories[f]) for b, f in pairs)
