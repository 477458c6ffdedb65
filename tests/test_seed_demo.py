from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from betterwork import tenancy
from betterwork.demo import DEFAULT_SCALE, PROGRAMMES
from betterwork.models import Programme, Role, RoleGrant, User
from betterwork.permissions import Principal
from factories.models import Factory

pytestmark = pytest.mark.django_db


def factory_counts() -> dict[str, int]:
    with tenancy.scope(Programme.objects.values_list("id", flat=True)):
        return {
            code: Factory.objects.filter(programme__code=code).count()
            for code in Programme.objects.values_list("code", flat=True)
        }


def test_seed_demo_creates_the_eight_programmes_in_proportion_and_is_idempotent():
    call_command("seed_demo", stdout=io.StringIO())
    first = factory_counts()
    assert sorted(first) == ["BD", "ET", "HT", "ID", "JO", "KH", "NI", "VN"]
    for facts in PROGRAMMES:
        assert first[facts.code] == max(3, round(facts.factories_2019 * DEFAULT_SCALE))
    assert 250 <= sum(first.values()) <= 400
    assert first["VN"] > first["JO"] > first["HT"]

    users_before = User.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert factory_counts() == first
    assert User.objects.count() == users_before


def test_seed_demo_has_a_user_for_every_role_scoped_to_their_programme():
    call_command("seed_demo", stdout=io.StringIO())
    roles = set(RoleGrant.objects.values_list("role", flat=True))
    assert roles == set(Role.values)

    kh = Programme.objects.get(code="KH")
    manager = User.objects.get(email="manager.kh@demo.betterwork.org")
    assert Principal.for_user(manager).granted_programme_ids(
        Programme.objects.values_list("id", flat=True)
    ) == {kh.pk}
    everyone = Principal.for_user(User.objects.get(email="global@demo.betterwork.org"))
    assert everyone.granted_programme_ids(Programme.objects.values_list("id", flat=True)) == set(
        Programme.objects.values_list("id", flat=True)
    )
    buyer = Principal.for_user(User.objects.get(email="buyer@demo.betterwork.org"))
    assert buyer.granted_programme_ids(Programme.objects.values_list("id", flat=True)) == frozenset()


def test_demo_public_ids_follow_the_rule():
    from factories.services import is_valid_public_id

    call_command("seed_demo", stdout=io.StringIO())
    with tenancy.scope(Programme.objects.values_list("id", flat=True)):
        ids = list(Factory.objects.values_list("public_id", "programme__code"))
    assert ids and all(pid.startswith(code) and is_valid_public_id(pid) for pid, code in ids)
    assert len({pid for pid, _ in ids}) == len(ids)


def test_the_demo_shows_each_programme_to_the_right_people_only(client):
    call_command("seed_demo", stdout=io.StringIO())
    client.force_login(User.objects.get(email="manager.kh@demo.betterwork.org"))
    assert client.get("/p/KH/factories/").status_code == 200
    assert client.get("/p/VN/factories/").status_code == 404
    home = client.get("/").content.decode()
    assert "Better Factories Cambodia" in home and "Better Work Vietnam" not in home

    client.force_login(User.objects.get(email="global@demo.betterwork.org"))
    home = client.get("/").content.decode()
    assert all(facts.name in home for facts in PROGRAMMES)

    client.force_login(User.objects.get(email="factory.jo@demo.betterwork.org"))
    assert client.get("/p/JO/factories/").status_code == 404
    assert "مصنعك" in client.get("/").content.decode(), 'Jordan\'s demo users read Arabic: "Your factory"'
    with tenancy.scope(Programme.objects.values_list("id", flat=True)):
        own = RoleGrant.objects.get(user__email="factory.jo@demo.betterwork.org").factory
        neighbour = Factory.objects.filter(programme=own.programme).exclude(pk=own.pk).first()
    assert client.get(f"/p/JO/factories/{own.pk}/").status_code == 200
    assert client.get(f"/p/JO/factories/{neighbour.pk}/").status_code == 404
