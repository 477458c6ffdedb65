"""Periodic work of training (Celery beat)."""

from __future__ import annotations

from celery import shared_task
from django.utils import translation

from betterwork import tenancy
from betterwork.models import Programme
from training import services


@shared_task(name="training.erase_old_participant_names")
def erase_old_participant_names() -> dict[str, int]:
    """Each programme's participants of long-past sessions lose their names (personal data)."""
    erased: dict[str, int] = {}
    for programme in Programme.objects.order_by("code"):
        with (
            tenancy.scope({programme.pk}),
            translation.override(programme.languages[0] if programme.languages else "en"),
        ):
            erased[programme.code] = services.participant_names_erase(
                programme=programme, today=programme.today()
            )
    return erased
