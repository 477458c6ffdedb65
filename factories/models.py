"""The factory registry: enterprises enrolled in a programme, with their workforce figures."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from betterwork.tenancy import TenantModel


class Sector(models.TextChoices):
    GARMENT = "garment", _("Garment")
    FOOTWEAR = "footwear", _("Footwear")
    TRAVEL_GOODS = "travel_goods", _("Travel goods")
    OTHER = "other", _("Other")


class FactoryType(models.TextChoices):
    DIRECT_EXPORTER = "direct_exporter", _("Direct exporter")
    SUBCONTRACTOR = "subcontractor", _("Subcontractor")


class Ownership(models.TextChoices):
    DOMESTIC = "domestic", _("Domestic")
    FOREIGN = "foreign", _("Foreign")
    JOINT_VENTURE = "joint_venture", _("Joint venture")


class EnrolmentStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    INITIAL_ADVISORY = "initial_advisory", _("Initial advisory")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Factory(TenantModel):
    public_id = models.CharField(_("factory id"), max_length=16, unique=True, editable=False)
    legacy_id = models.CharField(_("legacy id"), max_length=64, blank=True)
    name = models.CharField(_("name"), max_length=200)
    address = models.TextField(_("address"), blank=True)
    region = models.CharField(_("region or zone"), max_length=120, blank=True)
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices, default=Sector.GARMENT)
    factory_type = models.CharField(
        _("type"), max_length=20, choices=FactoryType.choices, default=FactoryType.DIRECT_EXPORTER
    )
    ownership = models.CharField(
        _("ownership"), max_length=20, choices=Ownership.choices, default=Ownership.DOMESTIC
    )
    ownership_country = models.CharField(_("country of ownership"), max_length=100, blank=True)
    manufacturing_group = models.CharField(_("manufacturing group"), max_length=200, blank=True)
    workers_female = models.PositiveIntegerField(_("female workers"), default=0)
    workers_male = models.PositiveIntegerField(_("male workers"), default=0)
    workers_migrant = models.PositiveIntegerField(
        _("migrant workers"), default=0, help_text=_("Included in the female and male totals.")
    )
    union_present = models.BooleanField(_("union present"), default=False)
    enrolment_status = models.CharField(
        _("enrolment status"),
        max_length=20,
        choices=EnrolmentStatus.choices,
        default=EnrolmentStatus.REGISTERED,
        db_index=True,
    )
    enrolled_on = models.DateField(_("enrolled on"), null=True, blank=True)
    status_changed_on = models.DateField(_("status since"), default=timezone.localdate)
    buyers_supplied = models.TextField(
        _("buyers supplied"), blank=True, help_text=_("Brands the factory produces for, one per line.")
    )
    designated_advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("designated advisor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantModel.Meta):
        ordering = ["name", "id"]
        verbose_name = _("factory")
        verbose_name_plural = _("factories")
        indexes = [
            models.Index(fields=["programme", "name"]),
            models.Index(fields=["programme", "enrolment_status"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="factory_migrants_within_workforce",
                condition=models.Q(
                    workers_migrant__lte=models.F("workers_female") + models.F("workers_male")
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"

    @property
    def workers_total(self) -> int:
        return self.workers_female + self.workers_male

    @property
    def share_female(self) -> float | None:
        return self.workers_female / self.workers_total if self.workers_total else None


class EnrolmentChange(TenantModel):
    """The enrolment history: each status a factory entered, and when."""

    factory = models.ForeignKey(Factory, on_delete=models.CASCADE, related_name="enrolment_changes")
    status = models.CharField(max_length=20, choices=EnrolmentStatus.choices)
    on = models.DateField(_("from"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-on", "-id"]
