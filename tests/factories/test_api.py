from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from betterwork import tenancy
from betterwork.models import Role
from factories.models import Factory
from tests.model_factories import BuyerFactory, FactoryFactory, user_with_role

pytestmark = pytest.mark.django_db


def api(user=None, token=False) -> APIClient:
    client = APIClient()
    if user is not None and token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    elif user is not None:
        client.force_login(user)
    return client


def test_list_filters_and_cursor_pagination(kh, kh_manager):
    for n in range(60):
        FactoryFactory(
            programme=kh, name=f"Factory {n:02d}", enrolment_status="active" if n % 2 else "suspended"
        )
    client = api(kh_manager, token=True)
    first = client.get("/api/v1/p/KH/factories/").json()
    assert len(first["results"]) == 50 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 10 and not second["next"]
    suspended = client.get("/api/v1/p/KH/factories/", {"enrolment_status": "suspended"}).json()["results"]
    assert len(suspended) == 30 and {f["enrolment_status"] for f in suspended} == {"suspended"}
    assert (
        client.get("/api/v1/p/KH/factories/", {"q": "Factory 07"}).json()["results"][0]["name"]
        == "Factory 07"
    )


@pytest.mark.parametrize("rows", [3, 40])
def test_api_list_query_count_is_flat(kh, kh_manager, rows, django_assert_max_num_queries):
    for _ in range(rows):
        FactoryFactory(programme=kh)
    client = api(kh_manager, token=True)
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/p/KH/factories/").status_code == 200


def test_create_update_and_validation(kh, kh_manager):
    client = api(kh_manager, token=True)
    created = client.post(
        "/api/v1/p/KH/factories/",
        {"name": "Tonle Garments", "workers_female": 10, "workers_male": 5},
        format="json",
    )
    assert created.status_code == 201 and created.json()["public_id"].startswith("KH")
    pk = created.json()["id"]
    patched = client.patch(f"/api/v1/p/KH/factories/{pk}/", {"workers_migrant": 3}, format="json")
    assert patched.status_code == 200 and patched.json()["workers_migrant"] == 3
    bad = client.patch(f"/api/v1/p/KH/factories/{pk}/", {"workers_migrant": 99}, format="json")
    assert bad.status_code == 400 and "at most 15" in bad.json()["workers_migrant"][0]
    bad = client.patch(
        f"/api/v1/p/KH/factories/{pk}/", {"sector": "rockets", "enrolled_on": "soon"}, format="json"
    )
    assert bad.status_code == 400 and set(bad.json()) == {"sector", "enrolled_on"}
    assert client.post("/api/v1/p/KH/factories/", {"name": ""}, format="json").status_code == 400
    assert (
        client.post("/api/v1/p/KH/factories/", "not json", content_type="application/json").status_code == 400
    )


def test_session_writes_need_csrf_token_writes_do_not(kh, kh_manager):
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(kh_manager)
    assert session.post("/api/v1/p/KH/factories/", {"name": "X"}, format="json").status_code == 403
    assert (
        api(kh_manager, token=True).post("/api/v1/p/KH/factories/", {"name": "X"}, format="json").status_code
        == 201
    )


def test_other_programmes_are_404_through_the_api(kh, vn, kh_manager, vn_factory):
    client = api(kh_manager, token=True)
    assert client.get("/api/v1/p/VN/factories/").status_code == 404
    assert client.get(f"/api/v1/p/KH/factories/{vn_factory.pk}/").status_code == 404
    assert (
        client.patch(f"/api/v1/p/KH/factories/{vn_factory.pk}/", {"name": "x"}, format="json").status_code
        == 404
    )
    assert client.post("/api/v1/p/VN/factories/", {"name": "x"}, format="json").status_code == 404
    with tenancy.scope({vn.pk}):
        assert Factory.objects.get(pk=vn_factory.pk).name == "Saigon Apparel"


def test_factory_users_buyers_and_strangers(kh, kh_factory):
    factory_user = api(user_with_role(Role.FACTORY, kh, factory=kh_factory), token=True)
    assert factory_user.get(f"/api/v1/p/KH/factories/{kh_factory.pk}/").status_code == 200
    assert factory_user.get("/api/v1/p/KH/factories/").status_code == 404
    assert (
        factory_user.patch(
            f"/api/v1/p/KH/factories/{kh_factory.pk}/", {"name": "x"}, format="json"
        ).status_code
        == 404
    )
    buyer = api(user_with_role(Role.BUYER, buyer=BuyerFactory()), token=True)
    assert buyer.get(f"/api/v1/p/KH/factories/{kh_factory.pk}/").status_code == 404
    assert api().get("/api/v1/p/KH/factories/").status_code == 401
    bad_token = APIClient()
    bad_token.credentials(HTTP_AUTHORIZATION="Token nope")
    assert bad_token.get("/api/v1/p/KH/factories/").status_code == 401
    kh_advisor = api(user_with_role(Role.ADVISOR, kh), token=True)
    assert kh_advisor.get("/api/v1/p/KH/factories/").status_code == 200


def test_me_lists_the_grants(kh, kh_manager):
    body = api(kh_manager, token=True).get("/api/v1/me/").json()
    assert body["email"] == kh_manager.email and body["grants"] == [
        {"role": "programme_manager", "programme": "KH", "factory": None, "buyer": None, "is_admin": False}
    ]


def test_the_schema_validates_and_the_docs_page_loads(client, kh_manager):
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=io.StringIO())
    client.force_login(kh_manager)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"redoc.standalone.js" in docs.content
    assert "script-src 'self'" in docs["Content-Security-Policy"]
