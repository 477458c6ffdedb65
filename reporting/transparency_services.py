"""Writes of the transparency list: a factory's response to its entry."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from betterwork import audit, permissions
from betterwork.models import Programme
from betterwork.permissions import Principal
from factories.models import Factory
from reporting import tasks, transparency
from reporting.models import TransparencyResponse

RESPONSE_MAX_LENGTH = 2000


class StaleResponse(ValidationError):
    """A colleague saved the response meanwhile: nothing was applied."""


def _stale() -> StaleResponse:
    return StaleResponse(_("Someone else changed this response meanwhile; reload the page to see it."))


@transaction.atomic
def transparency_response_save(
    *,
    actor: Principal,
    programme: Programme,
    factory: Factory,
    assessment_id: int,
    text: str,
    published: bool,
    expected_version: int,
) -> TransparencyResponse:
    """Write the factory's response to its entry of today, or to the entry its newest report will
    have once its notice period is over (published then shows it from that day on).
    ``expected_version`` is the version the writer saw (0: there was none yet)."""
    if factory.programme_id != programme.pk or not permissions.can_respond_on_transparency_list(
        actor, factory
    ):
        raise PermissionDenied
    view = transparency.factory_transparency(programme=programme, factory_id=factory.pk)
    if assessment_id not in {entry.assessment_id for entry in view.respondable}:
        raise ValidationError(_("This entry is no longer on the list; respond to the current one."))
    text = text.strip()
    if len(text) > RESPONSE_MAX_LENGTH:
        raise ValidationError(
            {"text": _("Keep the response under %(count)s characters.") % {"count": RESPONSE_MAX_LENGTH}}
        )
    if published and not text:
        raise ValidationError({"text": _("Write the response before publishing it.")})

    existing = TransparencyResponse.objects.select_for_update().filter(assessment_id=assessment_id).first()
    if (existing.version if existing else 0) != expected_version:
        raise _stale()
    if existing is None:
        try:
            with transaction.atomic():  # two first saves at once: one wins, the other is told
                response = TransparencyResponse.objects.create(
                    programme=programme,
                    assessment_id=assessment_id,
                    text=text,
                    published=published,
                    author=actor.user,
                )
        except IntegrityError as error:
            raise _stale() from error
        audit.record(
            actor=actor.user,
            action="transparency_response.create",
            obj=response,
            programme=programme,
            after=audit.snapshot(response, ["assessment", "text", "published", "author"]),
        )
        if published:
            tasks.keep_transparency_list_on_commit(programme.pk)
        return response
    if (existing.text, existing.published) != (text, published):
        if published or existing.published:  # what the public list shows changes
            tasks.keep_transparency_list_on_commit(programme.pk)
        audit.save_changes(
            actor=actor.user,
            instance=existing,
            changes={
                "text": text,
                "published": published,
                "author": actor.user,
                "version": existing.version + 1,
            },
            action="transparency_response.update",
            programme=programme,
        )
    return existing
