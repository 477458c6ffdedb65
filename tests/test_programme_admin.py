from __future__ import annotations

import pytest

from betterwork import tenancy
from betterwork.models import AuditEvent, Programme, Role
from tests.model_factories import user_with_role

pytestmark = pytest.mark.django_db

NEW = {
    "code": "eg",
    "name": "Better Work Egypt",
    "country": "Egypt",
    "languages": ["ar", "en"],
    "time_zone": "Africa/Cairo",
    "currency": "egp",
    "factory_review_days": "21",
    "transparency_notice_days": "60",
    "transparency_min_cycles": "1",
    "transparency_persisting_cycles": "0",
    "is_active": "on",
}


def test_global_staff_create_and_edit_programmes(client, kh):
    client.force_login(user_with_role(Role.GLOBAL))
    assert client.get("/programmes/").status_code == 200
    assert client.post("/programmes/new/", NEW).status_code == 302
    egypt = Programme.objects.get(code="EG")
    assert egypt.currency == "EGP" and egypt.languages == ["ar", "en"] and egypt.factory_review_days == 21
    with tenancy.scope({egypt.pk}):
        assert AuditEvent.objects.filter(action="programme.create", programme=egypt).exists()
    assert (
        client.post(f"/programmes/{egypt.pk}/edit/", {**NEW, "name": "Better Work Egypt (pilot)"}).status_code
        == 302
    )
    egypt.refresh_from_db()
    assert egypt.name == "Better Work Egypt (pilot)"


def test_programme_validation_messages(client, kh):
    client.force_login(user_with_role(Role.GLOBAL))
    page = client.post(
        "/programmes/new/", {**NEW, "code": "E1G2", "time_zone": "Mars/Olympus", "currency": "EU"}
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert "two or three letters" in text and "Unknown time zone" in text and "three-letter currency" in text
    duplicate = client.post("/programmes/new/", {**NEW, "code": "kh"}).content.decode()
    assert "exists already" in duplicate


@pytest.mark.parametrize("role", [Role.PROGRAMME_MANAGER, Role.ADVISOR])
def test_only_global_staff_manage_programmes(client, kh, role):
    client.force_login(user_with_role(role, kh))
    assert client.get("/programmes/").status_code == 404
    assert client.post("/programmes/new/", NEW).status_code == 404
    assert client.post(f"/programmes/{kh.pk}/edit/", NEW).status_code == 404
    assert not Programme.objects.filter(code="EG").exists()


def test_global_staff_of_one_programme_cannot_manage_programmes(client, kh):
    client.force_login(user_with_role(Role.GLOBAL, kh))
    assert client.get("/programmes/").status_code == 404


def test_a_renamed_programme_code_stops_resolving_at_once(client, kh):
    manager = user_with_role(Role.PROGRAMME_MANAGER, kh)
    client.force_login(manager)
    assert client.get("/p/KH/factories/").status_code == 200  # now cached
    client.force_login(user_with_role(Role.GLOBAL))
    renamed = client.post(
        f"/programmes/{kh.pk}/edit/", {**NEW, "code": "KHM", "name": kh.name, "country": "Cambodia"}
    )
    assert renamed.status_code == 302, renamed.content.decode()[-1500:]
    client.force_login(manager)
    assert client.get("/p/KH/factories/").status_code == 404
    assert client.get("/p/KHM/factories/").status_code == 200
