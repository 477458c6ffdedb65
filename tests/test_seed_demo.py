from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models import Count, Q

from assessments.models import Answer, Assessment
from betterwork import tenancy
from betterwork.demo import DEFAULT_SCALE, PROGRAMMES
from betterwork.models import Programme, Role, RoleGrant, User
from betterwork.permissions import Principal
from factories.models import Factory
from factories.services import is_valid_public_id

pytestmark = pytest.mark.django_db


def everything():
    return tenancy.scope(Programme.objects.values_list("id", flat=True))


def factory_counts() -> dict[str, int]:
    with everything():
        return {
            code: Factory.objects.filter(programme__code=code).count()
            for code in Programme.objects.values_list("code", flat=True)
        }


def test_seed_demo_builds_the_eight_programmes_their_people_and_history_once():
    call_command("seed_demo", stdout=io.StringIO())
    first = factory_counts()
    assert sorted(first) == ["BD", "ET", "HT", "ID", "JO", "KH", "NI", "VN"]
    for facts in PROGRAMMES:
        assert first[facts.code] == max(3, round(facts.factories_2019 * DEFAULT_SCALE))
    assert 250 <= sum(first.values()) <= 400 and first["VN"] > first["JO"] > first["HT"]

    # A user for every role, each reaching only their own programmes.
    assert set(RoleGrant.objects.values_list("role", flat=True)) == set(Role.values)
    all_ids = list(Programme.objects.values_list("id", flat=True))
    kh = Programme.objects.get(code="KH")
    manager = Principal.for_user(User.objects.get(email="manager.kh@demo.betterwork.org"))
    assert manager.granted_programme_ids(all_ids) == {kh.pk}
    assert Principal.for_user(User.objects.get(email="global@demo.betterwork.org")).granted_programme_ids(
        all_ids
    ) == set(all_ids)
    assert (
        Principal.for_user(User.objects.get(email="buyer@demo.betterwork.org")).granted_programme_ids(all_ids)
        == frozenset()
    )

    with everything():
        ids = list(Factory.objects.values_list("public_id", "programme__code"))
        states = set(Assessment.objects.values_list("status", flat=True))
        by_key = dict(
            Answer.objects.values_list("question__key")
            .annotate(nc=Count("id", filter=Q(value="NC")))
            .values_list("question__key", "nc")
        )
        assessments = Assessment.objects.count()
    assert all(pid.startswith(code) and is_valid_public_id(pid) for pid, code in ids)
    assert len({pid for pid, _ in ids}) == len(ids)
    assert {"published", "final", "in_progress", "planned"} <= states
    assert by_key["WT-05"] > 5 * max(by_key["CL-01"], 1), "overtime is common, child labour rare"

    users = User.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert factory_counts() == first and User.objects.count() == users
    with everything():
        assert Assessment.objects.count() == assessments


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
    assert "مصنعك" in client.get("/").content.decode(), "Jordan's demo users read Arabic: 'Your factory'"
    with everything():
        own = RoleGrant.objects.get(user__email="factory.jo@demo.betterwork.org").factory
        neighbour = Factory.objects.filter(programme=own.programme).exclude(pk=own.pk).first()
    assert client.get(f"/p/JO/factories/{own.pk}/").status_code == 200
    assert client.get(f"/p/JO/factories/{neighbour.pk}/").status_code == 404
    assert client.get("/p/JO/assessments/").status_code == 404
