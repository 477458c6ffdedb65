from __future__ import annotations

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from betterwork import tenancy
from betterwork.models import AuditEvent, Programme, Role
from betterwork.permissions import Principal
from factories import services
from factories.models import EnrolmentChange, EnrolmentStatus, Factory
from tests.model_factories import BuyerFactory, user_with_role

pytestmark = pytest.mark.django_db

VALID = {"name": "Mekong Knitwear", "region": "Kandal", "workers_female": 800, "workers_male": 200}


def create(programme: Programme, principal: Principal, **data) -> Factory:
    with tenancy.scope({programme.pk}), transaction.atomic():
        return services.factory_create(actor=principal, programme=programme, data={**VALID, **data})


def test_public_id_is_programme_code_five_digits_and_a_check_digit(kh, kh_manager):
    first = create(kh, Principal.for_user(kh_manager))
    second = create(kh, Principal.for_user(kh_manager))
    assert first.public_id == "KH000018" and second.public_id == "KH000026"
    assert services.is_valid_public_id(first.public_id)
    assert not services.is_valid_public_id("KH000019"), "a mistyped digit is caught"
    assert not services.is_valid_public_id("KH000081"), "swapped digits are caught"


def test_public_ids_are_never_reused_after_a_delete(kh, kh_manager):
    principal = Principal.for_user(kh_manager)
    first = create(kh, principal)
    with tenancy.scope({kh.pk}):
        EnrolmentChange.objects.filter(factory=first).delete()
        first.delete()
    assert create(kh, principal).public_id == services.make_public_id("KH", 2)


def test_create_records_history_and_audit(kh, kh_manager):
    factory = create(kh, Principal.for_user(kh_manager), enrolment_status=EnrolmentStatus.INITIAL_ADVISORY)
    with tenancy.scope({kh.pk}):
        assert list(EnrolmentChange.objects.filter(factory=factory).values_list("status", flat=True)) == [
            "initial_advisory"
        ]
        event = AuditEvent.objects.get(action="factory.create")
    assert (
        event.actor == kh_manager and event.programme_id == kh.pk and event.after["name"] == "Mekong Knitwear"
    )


def test_update_audits_only_what_changed(kh, kh_manager):
    principal = Principal.for_user(kh_manager)
    factory = create(kh, principal)
    with tenancy.scope({kh.pk}), transaction.atomic():
        services.factory_update(
            actor=principal, factory=factory, data={"workers_male": 250, "name": VALID["name"]}
        )
        event = AuditEvent.objects.get(action="factory.update")
    assert event.before == {"workers_male": 200} and event.after == {"workers_male": 250}


def test_status_change_sets_enrolment_date_and_history(kh, kh_manager):
    principal = Principal.for_user(kh_manager)
    factory = create(kh, principal)
    with tenancy.scope({kh.pk}), transaction.atomic():
        changed = services.factory_change_status(
            actor=principal, factory=factory, status="active", note="PICC formed"
        )
        assert changed.enrolled_on is not None
        assert EnrolmentChange.objects.filter(factory=factory).count() == 2
        assert AuditEvent.objects.filter(action="factory.status", reason="PICC formed").exists()


def test_validation_is_a_clear_error_not_a_database_failure(kh, kh_manager):
    with pytest.raises(ValidationError) as error:
        create(kh, Principal.for_user(kh_manager), name="")
    assert "name" in error.value.message_dict


def test_advisor_of_another_programme_cannot_be_designated(kh, vn, kh_manager):
    vn_advisor = user_with_role(Role.ADVISOR, vn)
    with pytest.raises(ValidationError) as error:
        create(kh, Principal.for_user(kh_manager), designated_advisor=vn_advisor)
    assert "designated_advisor" in error.value.message_dict


@pytest.mark.parametrize("role", [Role.FACTORY, Role.BUYER])
def test_only_programme_staff_register_factories(kh, kh_factory, role):
    extra = {"factory": kh_factory} if role == Role.FACTORY else {"buyer": BuyerFactory()}
    user = user_with_role(role, kh if role == Role.FACTORY else None, **extra)
    with pytest.raises(PermissionDenied):
        create(kh, Principal.for_user(user))


def test_a_manager_of_another_programme_cannot_register_here(kh, vn_manager):
    with pytest.raises(PermissionDenied):
        create(kh, Principal.for_user(vn_manager))


@pytest.mark.django_db(transaction=True)
def test_two_registrations_at_once_get_different_numbers(kh, kh_manager):
    principal = Principal.for_user(kh_manager)
    ids: list[str] = []

    def register() -> None:
        try:
            ids.append(create(kh, principal).public_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=register) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ids) == [services.make_public_id("KH", n) for n in range(1, 5)]
