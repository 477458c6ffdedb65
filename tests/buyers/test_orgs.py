"""Buyer organisations: the global team keeps them and invites their users; a buyer's admins invite
their own colleagues, nobody else's."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client

from betterwork.models import Role, RoleGrant, User
from betterwork.permissions import Principal
from buyers import orgs
from buyers.models import Buyer
from tests.model_factories import user_with_role

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def brand(db):
    return Buyer.objects.create(name="Northwind Apparel")


@pytest.fixture
def other_brand(db):
    return Buyer.objects.create(name="Meridian Sports")


@pytest.fixture
def global_staff(db):
    return user_with_role(Role.GLOBAL, None)


@pytest.fixture
def buyer_admin(brand):
    return user_with_role(Role.BUYER, None, buyer=brand, is_admin=True)


@pytest.fixture
def buyer_member(brand):
    return user_with_role(Role.BUYER, None, buyer=brand)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


INVITE = {"full_name": "Ana Colleague", "email": "Ana@Example.org", "language": "ar"}


def test_global_staff_list_create_and_edit_buyers(global_staff, brand):
    client = signed_in(global_staff)
    page = client.get("/buyers/")
    assert page.status_code == 200 and "Northwind Apparel" in page.content.decode()
    assert 'href="/buyers/"' in page.content.decode()  # the nav link
    created = client.post(
        "/buyers/new/",
        {
            "name": "Southwind",
            "kind": "partner",
            "headquarters_country": "Sweden",
            "contact_name": "Eva",
            "contact_email": "eva@southwind.example",
        },
    )
    assert created.status_code == 302
    southwind = Buyer.objects.get(name="Southwind")
    assert (southwind.kind, southwind.headquarters_country) == ("partner", "Sweden")
    duplicate = client.post("/buyers/new/", {"name": "northwind apparel", "kind": "participant"})
    assert duplicate.status_code == 400
    edited = client.post(f"/buyers/{southwind.pk}/", {"name": "Southwind AB", "kind": "participant"})
    assert edited.status_code == 302
    southwind.refresh_from_db()
    assert (southwind.name, southwind.kind, southwind.contact_email) == ("Southwind AB", "participant", "")


def test_only_global_staff_manage_buyers(kh, kh_manager, buyer_admin, brand):
    for user in (kh_manager, buyer_admin):
        client = signed_in(user)
        assert client.get("/buyers/").status_code == 404
        assert client.get("/buyers/new/").status_code == 404
        assert client.post("/buyers/new/", {"name": "X", "kind": "participant"}).status_code == 404
        assert client.get(f"/buyers/{brand.pk}/").status_code == 404
        assert client.post(f"/buyers/{brand.pk}/invite/", INVITE).status_code == 404
    with pytest.raises(PermissionDenied):
        orgs.buyer_save(actor=Principal.for_user(kh_manager), data={"name": "Y", "kind": "participant"})
    assert not Buyer.objects.filter(name__in=["X", "Y"]).exists()


def test_global_staff_invite_a_buyer_user(global_staff, brand, django_capture_on_commit_callbacks):
    client = signed_in(global_staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/buyers/{brand.pk}/invite/", {**INVITE, "is_admin": "on"})
    assert response.status_code == 302
    user = User.objects.get(email="ana@example.org")
    grant = RoleGrant.objects.get(user=user)
    assert (grant.role, grant.buyer_id, grant.programme_id, grant.is_admin) == ("buyer", brand.pk, None, True)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ana@example.org"]
    assert "Northwind Apparel" in mail.outbox[0].subject and "Northwind Apparel" in mail.outbox[0].body
    assert "/accounts/" in mail.outbox[0].body or "http" in mail.outbox[0].body
    # The same person again for the same buyer: refused, nothing sent.
    again = client.post(f"/buyers/{brand.pk}/invite/", INVITE)
    assert again.status_code == 400 and len(mail.outbox) == 1


def test_buyer_admin_invites_colleagues_of_their_own_buyer_only(
    buyer_admin, brand, other_brand, django_capture_on_commit_callbacks
):
    client = signed_in(buyer_admin)
    portal = client.get("/buyer/")
    assert "/buyer/people/" in portal.content.decode()  # the Colleagues button
    assert client.get("/buyer/people/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/buyer/people/", INVITE)
    assert response.status_code == 302
    grant = RoleGrant.objects.get(user__email="ana@example.org")
    assert (grant.role, grant.buyer_id, grant.is_admin) == ("buyer", brand.pk, False)
    assert len(mail.outbox) == 1
    # Another buyer's id: no such page, no such invitation.
    assert client.get(f"/buyer/people/?buyer={other_brand.pk}").status_code == 404
    other = {**INVITE, "email": "bob@example.org"}
    assert client.post(f"/buyer/people/?buyer={other_brand.pk}", other).status_code == 404
    assert client.post("/buyer/people/", {**other, "buyer": other_brand.pk}).status_code == 404
    assert not User.objects.filter(email="bob@example.org").exists()
    with pytest.raises(PermissionDenied):
        orgs.buyer_user_invite(
            actor=Principal.for_user(buyer_admin),
            buyer=other_brand,
            email="bob@example.org",
            full_name="Bob",
            base_url="http://testserver/",
        )


def test_a_buyer_user_who_is_not_admin_cannot_invite(buyer_member, brand, kh, kh_manager):
    client = signed_in(buyer_member)
    assert "/buyer/people/" not in client.get("/buyer/").content.decode()
    assert client.get("/buyer/people/").status_code == 404
    assert client.post("/buyer/people/", INVITE).status_code == 404
    assert client.post(f"/buyer/people/?buyer={brand.pk}", INVITE).status_code == 404
    assert signed_in(kh_manager).get(f"/buyer/people/?buyer={brand.pk}").status_code == 404
    assert not User.objects.filter(email="ana@example.org").exists()
