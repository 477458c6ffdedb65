"""Buyers (brands and retailers). Buyer organisations are global: no programme column."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BuyerKind(models.TextChoices):
    PARTICIPANT = "participant", _("Participant")
    PARTNER = "partner", _("Partner")


class Buyer(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=BuyerKind.choices, default=BuyerKind.PARTICIPANT
    )
    headquarters_country = models.CharField(_("headquarters country"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("buyer")

    def __str__(self) -> str:
        return self.name
