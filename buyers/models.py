"""Buyers (brands and retailers), their subscriptions to factories, and factories' consent.

Buyer organisations are global (no programme column). Subscriptions, consents and price bands
carry the factory's programme, like every tenant row. ``BuyerAccess`` is derived from them by the
services: one row per live subscription, with whether the factory consents and the factory's
name and region. Like role grants it is read to compute a buyer's scope, so it carries no
row-level policy.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from betterwork.tenancy import TenantModel


class BuyerKind(models.TextChoices):
    PARTICIPANT = "participant", _("Participant")
    PARTNER = "partner", _("Partner")


class Buyer(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=BuyerKind.choices, default=BuyerKind.PARTICIPANT
    )
    headquarters_country = models.CharField(_("headquarters country"), max_length=100, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("buyer")

    def __str__(self) -> str:
        return self.name


class SubscriptionStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


class PaidBy(models.TextChoices):
    CREDIT = "credit", _("A prepaid credit")
    INVOICE = "invoice", _("Invoice")


class CreditPurchase(TenantModel):
    """Prepaid credits a buyer bought in one programme: each credit pays for one subscription (one
    factory's service cycle) at the price of the band in force when bought. A subscription paid
    with a credit points at the purchase it drew from; cancelling it returns the credit."""

    buyer = models.ForeignKey(
        Buyer, verbose_name=_("buyer"), on_delete=models.PROTECT, related_name="credit_purchases"
    )
    credits = models.PositiveIntegerField(_("credits"))
    amount = models.DecimalField(_("amount paid"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    purchased_on = models.DateField(_("date"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["purchased_on", "id"]
        indexes = [models.Index(fields=["buyer", "programme"])]
        constraints = [
            models.CheckConstraint(name="creditpurchase_some_credits", condition=Q(credits__gt=0)),
            models.CheckConstraint(name="creditpurchase_amount_not_negative", condition=Q(amount__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.buyer} · {self.credits} · {self.purchased_on}"


class Subscription(TenantModel):
    """A buyer's subscription to one factory for one service cycle: that cycle's assessment
    report and its two progress reports."""

    buyer = models.ForeignKey(
        Buyer, verbose_name=_("buyer"), on_delete=models.PROTECT, related_name="subscriptions"
    )
    factory = models.ForeignKey(
        "factories.Factory", verbose_name=_("factory"), on_delete=models.PROTECT, related_name="subscriptions"
    )
    cycle = models.PositiveSmallIntegerField(_("cycle"))
    status = models.CharField(
        _("status"), max_length=12, choices=SubscriptionStatus.choices, default=SubscriptionStatus.REQUESTED
    )
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    price = models.DecimalField(_("price"), max_digits=9, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    paid_by = models.CharField(_("paid by"), max_length=10, choices=PaidBy.choices, default=PaidBy.INVOICE)
    credit_purchase = models.ForeignKey(
        CreditPurchase,
        verbose_name=_("credit drawn from"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subscriptions",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["buyer", "status"]), models.Index(fields=["factory", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "factory", "cycle"],
                condition=~Q(status="cancelled"),
                name="subscription_once_per_cycle",
            ),
            models.CheckConstraint(
                name="subscription_active_has_dates",
                condition=~Q(status="active") | Q(starts_on__isnull=False, ends_on__isnull=False),
            ),
            models.CheckConstraint(
                name="subscription_dates_in_order",
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
            ),
            models.CheckConstraint(
                name="subscription_credit_has_purchase",
                condition=Q(paid_by="credit", credit_purchase__isnull=False)
                | Q(paid_by="invoice", credit_purchase__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.buyer} · {self.factory} · {_('Cycle')} {self.cycle}"


class Consent(TenantModel):
    """The factory's decision to share its reports with one buyer; its changes are kept."""

    factory = models.ForeignKey("factories.Factory", on_delete=models.PROTECT, related_name="consents")
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="consents")
    granted = models.BooleanField(_("shares its reports"), default=False)
    changed_at = models.DateTimeField(auto_now=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(TenantModel.Meta):
        constraints = [models.UniqueConstraint(fields=["factory", "buyer"], name="consent_once_per_buyer")]


class ConsentChange(TenantModel):
    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="changes")
    granted = models.BooleanField()
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-at", "-id"]


class PriceBand(TenantModel):
    """The programme's sliding scale: the price of a subscription when the buyer holds at least
    ``from_subscriptions`` subscriptions in the programme."""

    from_subscriptions = models.PositiveIntegerField(_("from this many subscriptions"))
    price = models.DecimalField(_("price"), max_digits=9, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="USD")

    class Meta(TenantModel.Meta):
        ordering = ["programme", "from_subscriptions"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "from_subscriptions"], name="priceband_unique_step")
        ]


class BuyerAccess(models.Model):
    """Derived: one row per live (requested or active) subscription of a buyer to a factory's
    cycle, saying whether the factory consents and for which period the subscription runs.

    It carries the factory's name and region so that a buyer's pages can list a subscribed
    factory as "awaiting consent" without reading the programme's rows: a buyer's scope holds
    only programmes where it may read something now (``buyers.access.scope_for``). ``may_read``
    needs ``consented`` and today inside ``valid_from``..``valid_until`` (empty for a requested
    subscription). Rebuilt by ``buyers.services.access_rebuild`` on every change (and its names
    kept when a factory is renamed); read to compute buyers' scopes, so no row-level policy
    (like role grants)."""

    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="+")
    factory = models.ForeignKey("factories.Factory", on_delete=models.CASCADE, related_name="+")
    programme = models.ForeignKey("betterwork.Programme", on_delete=models.CASCADE, related_name="+")
    factory_name = models.CharField(max_length=200)
    factory_region = models.CharField(max_length=120, blank=True)
    cycle = models.PositiveSmallIntegerField()
    consented = models.BooleanField(default=False)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["buyer", "factory", "cycle"], name="buyeraccess_once"),
        ]
        indexes = [models.Index(fields=["buyer", "valid_until"])]

    def __str__(self) -> str:
        return f"{self.buyer_id} → {self.factory_id} · {self.cycle}"
