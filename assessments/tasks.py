"""Periodic work of assessments (Celery beat)."""

from __future__ import annotations

from celery import shared_task

from assessments import lifecycle
from betterwork import tenancy
from betterwork.models import Programme


@shared_task(name="assessments.finalise_closed_reviews")
def finalise_closed_reviews() -> dict[str, list[int]]:
    """Each programme's reports whose factory review window closed become final (and their PDFs
    are made), unless a factory comment still waits for its answer."""
    done: dict[str, list[int]] = {}
    for programme in Programme.objects.filter(is_active=True).order_by("code"):
        with tenancy.scope({programme.pk}):
            done[programme.code] = lifecycle.finalise_closed_reviews(programme=programme)
    return done
