"""Keeps buyers' derived access rows in step with the factories they name."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from buyers import services
from factories.models import Factory


@receiver(post_save, sender=Factory, dispatch_uid="buyers.factory_names")
def factory_saved(sender: Any, instance: Factory, created: bool, **kwargs: Any) -> None:
    if not created:
        services.access_names_keep(factory=instance)
