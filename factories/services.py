"""Writes to the factory registry: each in a transaction, checked and audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from betterwork import audit, permissions
from betterwork.models import Programme, User
from betterwork.permissions import Principal
from factories.models import EnrolmentChange, EnrolmentStatus, Factory

EDITABLE_FIELDS = (
    "legacy_id",
    "name",
    "address",
    "region",
    "sector",
    "factory_type",
    "ownership",
    "ownership_country",
    "manufacturing_group",
    "workers_female",
    "workers_male",
    "workers_migrant",
    "union_present",
    "enrolled_on",
    "buyers_supplied",
    "designated_advisor",
)


def check_digit(digits: str) -> int:
    """Luhn check digit: catches any single mistyped digit and most swapped pairs."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def make_public_id(programme_code: str, number: int) -> str:
    digits = f"{number:05d}"
    return f"{programme_code.upper()}{digits}{check_digit(digits)}"


def is_valid_public_id(public_id: str) -> bool:
    digits = public_id[-6:-1]
    return len(public_id) >= 7 and digits.isdigit() and public_id[-1:] == str(check_digit(digits))


def allocate_public_ids(programme: Programme, count: int) -> list[str]:
    """The next ``count`` factory ids of the programme. Locks the programme row: two factories
    registered at once never get the same number, and a number once handed out is never handed
    out again."""
    if count == 0:
        return []
    locked = Programme.objects.select_for_update().get(pk=programme.pk)
    first = locked.last_factory_number + 1
    locked.last_factory_number += count
    locked.save(update_fields=["last_factory_number"])
    return [make_public_id(locked.code, number) for number in range(first, first + count)]


def _next_public_id(programme: Programme) -> str:
    return allocate_public_ids(programme, 1)[0]


def _validate_advisor(programme: Programme, advisor: User | None) -> None:
    if advisor is None:
        return
    staff = advisor.grants.filter(programme=programme, role__in=permissions.PROGRAMME_STAFF_ROLES).exists()
    if not staff:
        raise ValidationError(
            {"designated_advisor": _("The designated advisor must be staff of this programme.")}
        )


@transaction.atomic
def factory_create(*, actor: Principal, programme: Programme, data: dict[str, Any]) -> Factory:
    if not permissions.can_create_factory(actor, programme.pk):
        raise PermissionDenied
    fields = {k: v for k, v in data.items() if k in EDITABLE_FIELDS}
    _validate_advisor(programme, fields.get("designated_advisor"))
    status = data.get("enrolment_status") or EnrolmentStatus.REGISTERED
    factory = Factory(programme=programme, enrolment_status=status, **fields)
    factory.public_id = _next_public_id(programme)
    factory.status_changed_on = timezone.localdate()
    factory.full_clean()
    factory.save()
    EnrolmentChange(
        programme=programme,
        factory=factory,
        status=status,
        on=factory.status_changed_on,
        changed_by=actor.user,
    ).save()
    audit.record(
        actor=actor.user,
        action="factory.create",
        obj=factory,
        programme=programme,
        after=audit.snapshot(factory),
    )
    return factory


@transaction.atomic
def factory_update(*, actor: Principal, factory: Factory, data: dict[str, Any]) -> Factory:
    if not permissions.can_edit_factory(actor, factory):
        raise PermissionDenied
    locked = Factory.objects.select_for_update().get(pk=factory.pk)
    audit.save_changes(
        actor=actor.user,
        instance=locked,
        changes={key: value for key, value in data.items() if key in EDITABLE_FIELDS},
        action="factory.update",
        programme=locked.programme_id,
        validate=lambda f: _validate_advisor(f.programme, f.designated_advisor),
    )
    return locked


@transaction.atomic
def factory_change_status(
    *, actor: Principal, factory: Factory, status: str, on: Any = None, note: str = ""
) -> Factory:
    if not permissions.can_edit_factory(actor, factory):
        raise PermissionDenied
    if status not in EnrolmentStatus.values:
        raise ValidationError({"enrolment_status": _("Unknown enrolment status.")})
    locked = Factory.objects.select_for_update().get(pk=factory.pk)
    if locked.enrolment_status == status:
        return locked
    on = on or timezone.localdate()
    before = {"enrolment_status": locked.enrolment_status, "status_changed_on": str(locked.status_changed_on)}
    locked.enrolment_status = status
    locked.status_changed_on = on
    if status == EnrolmentStatus.ACTIVE and locked.enrolled_on is None:
        locked.enrolled_on = on
    locked.save()
    EnrolmentChange(
        programme_id=locked.programme_id,
        factory=locked,
        status=status,
        on=on,
        changed_by=actor.user,
        note=note,
    ).save()
    audit.record(
        actor=actor.user,
        action="factory.status",
        obj=locked,
        programme=locked.programme_id,
        before=before,
        after={"enrolment_status": status, "status_changed_on": str(on)},
        reason=note,
    )
    return locked
