"""The audit trail: services call ``record`` in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models, transaction

from betterwork import tenancy
from betterwork.models import AuditEvent, Programme, User


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """A JSON-safe picture of a model's concrete fields (foreign keys by id)."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        # Secrets never enter the trail; "last modified" stamps would only add noise to each diff.
        if field.name == "password" or getattr(field, "auto_now", False):
            continue
        value = getattr(instance, field.attname)
        if isinstance(value, (datetime, date)):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        data[field.attname if field.is_relation else field.name] = value
    return data


def changed(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys that differ, so the trail shows what a change did."""
    before = before or {}
    after = after or {}
    keys = [k for k in after.keys() | before.keys() if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in sorted(keys)}, {k: after.get(k) for k in sorted(keys)}


def record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model,
    programme: Programme | int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    programme_id = programme.pk if isinstance(programme, Programme) else programme
    event = AuditEvent(
        programme_id=programme_id,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        before=before,
        after=after,
        reason=reason,
    )
    if programme_id is None:
        _insert_unscoped([event])
    else:
        event.save()
    return event


def record_changes(
    *,
    actor: User | None,
    action: str,
    obj: models.Model,
    programme: Programme | int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> AuditEvent | None:
    """Audit only what differs between two pictures of an object; nothing when nothing changed."""
    old, new = changed(before, after)
    if not new:
        return None
    return record(actor=actor, action=action, obj=obj, programme=programme, before=old, after=new)


def _insert_unscoped(events: list[AuditEvent]) -> None:
    """Rows of no programme are write-only for the application: row-level security lets it insert
    them but never read them, not even as INSERT ... RETURNING. So they go in without asking
    their id back (the event objects keep ``pk`` None)."""
    fields = [f for f in AuditEvent._meta.local_concrete_fields if not f.primary_key]
    AuditEvent.objects._insert(events, fields=fields, returning_fields=[])  # type: ignore[attr-defined]  # noqa: SLF001


def save_changes(
    *,
    actor: User | None,
    instance: models.Model,
    changes: dict[str, Any],
    action: str,
    programme: Programme | int | None,
    validate: Callable[[Any], None] | None = None,
) -> None:
    """Apply ``changes`` to an instance (locked by the caller), validate, save, and audit the diff.

    Nothing is recorded when the values did not actually change.
    """
    before = snapshot(instance)
    for key, value in changes.items():
        setattr(instance, key, value)
    if validate is not None:
        validate(instance)
    instance.full_clean()
    instance.save()
    old, new = changed(before, snapshot(instance))
    if new:
        record(actor=actor, action=action, obj=instance, programme=programme, before=old, after=new)


def record_many(
    *,
    actor: User | None,
    action: str,
    programme: Programme | int | None,
    changes: list[tuple[models.Model, dict[str, Any] | None, dict[str, Any] | None]],
    reason: str = "",
) -> list[AuditEvent]:
    """Audit several objects changed by one action, in one INSERT."""
    programme_id = programme.pk if isinstance(programme, Programme) else programme
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    events = [
        AuditEvent(
            programme_id=programme_id,
            actor_id=actor_id,
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            object_repr=str(obj)[:200],
            before=before,
            after=after,
            reason=reason,
        )
        for obj, before, after in changes
    ]
    if programme_id is None:
        _insert_unscoped(events)
        return events
    return AuditEvent.objects.bulk_create(events)


def record_purge(*, programme: Programme, kind: str, removed: int, kept_days: int, **details: Any) -> None:
    """Personal data past its kept period left the programme: how much of which kind, never whose."""
    record(
        actor=None,
        action="personal_data.purge",
        obj=programme,
        programme=programme,
        after={"kind": kind, "removed": removed, **details, "kept_days": kept_days},
    )


REFUSED = "access.refused"


def _programmes_or_none(programme_ids: frozenset[int]) -> list[int | None]:
    """One row per programme, or one row of no programme."""
    return [*sorted(programme_ids)] or [None]


def record_refusal(*, user: User, programme_ids: frozenset[int], method: str, path: str, status: int) -> None:
    """A signed-in person was refused (403) or told "not found" (404). The platform gives the same
    answer to a refusal as to an id no row has, on purpose, so the trail keeps both: the
    programme's managers see who tried what. Written in a transaction of its own, after the
    request's: a refused request has nothing to commit."""
    events = [
        AuditEvent(
            programme_id=programme_id,
            actor_id=user.pk,
            action=REFUSED,
            object_type="request",
            object_id=str(status),
            object_repr=f"{method} {path}"[:200],
        )
        for programme_id in _programmes_or_none(programme_ids)
    ]
    if not programme_ids:
        # No programme (a buyer, the global team): the trail's manager needs a scope, an empty one.
        with tenancy.scope(()), transaction.atomic():
            _insert_unscoped(events)
        return
    with tenancy.scope(programme_ids), transaction.atomic():
        AuditEvent.objects.bulk_create(events)
