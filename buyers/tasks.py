"""Periodic work of buyers (Celery beat)."""

from __future__ import annotations

from celery import shared_task

from betterwork import tenancy
from betterwork.models import Programme
from buyers import services


@shared_task(name="buyers.expire_subscriptions")
def expire_subscriptions() -> dict[str, int]:
    """Each programme's active subscriptions whose period ended become expired, and the buyers'
    access to those factories stops (one programme per scope and transaction)."""
    done: dict[str, int] = {}
    for programme in Programme.objects.filter(is_active=True).order_by("code"):
        with tenancy.scope({programme.pk}):
            done[programme.code] = services.subscriptions_expire(programme=programme, today=programme.today())
    return done
