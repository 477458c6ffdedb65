"""Who is asking comes from the cache (``betterwork.auth_cache``), and a change to the user, a grant
or a token is seen by the very next request."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from betterwork.models import Role, RoleGrant
from tests.model_factories import user_with_role

pytestmark = pytest.mark.django_db

WHO_IS_ASKING = ('FROM "betterwork_user"', 'FROM "betterwork_rolegrant"', 'FROM "authtoken_token"')


def signed_in(user):
    client = APIClient()
    client.force_login(user)
    return client


def test_a_second_request_reads_nothing_about_who_is_asking(kh, kh_manager):
    token = Token.objects.create(user=kh_manager)
    for client in (signed_in(kh_manager), APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")):
        assert client.get("/api/v1/p/KH/factories/").status_code == 200
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/p/KH/factories/").status_code == 200
        asked = [q["sql"] for q in queries.captured_queries if any(t in q["sql"] for t in WHO_IS_ASKING)]
        assert not asked, asked


def test_a_revoked_grant_stops_the_next_request(kh, kh_manager):
    client = signed_in(kh_manager)
    assert client.get("/p/KH/factories/").status_code == 200
    RoleGrant.objects.get(user=kh_manager, programme=kh).delete()
    assert client.get("/p/KH/factories/").status_code == 404


def test_a_new_grant_counts_at_once(kh, vn, kh_manager):
    client = signed_in(kh_manager)
    assert client.get("/p/VN/factories/").status_code == 404
    RoleGrant.objects.create(user=kh_manager, role=Role.PROGRAMME_MANAGER, programme=vn)
    assert client.get("/p/VN/factories/").status_code == 200


def test_a_deactivated_user_is_signed_out_at_once(kh, kh_manager):
    client = signed_in(kh_manager)
    assert client.get("/p/KH/factories/").status_code == 200
    kh_manager.is_active = False
    kh_manager.save()
    response = client.get("/p/KH/factories/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_new_password_ends_the_other_sessions(kh, kh_manager):
    client = signed_in(kh_manager)
    assert client.get("/p/KH/factories/").status_code == 200
    kh_manager.set_password("another-pass-word-456")
    kh_manager.save()
    assert client.get("/p/KH/factories/").status_code == 302


def test_a_deleted_token_stops_the_next_call(kh, kh_manager):
    token = Token.objects.create(user=kh_manager)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/p/KH/factories/").status_code == 200
    token.delete()
    assert client.get("/api/v1/p/KH/factories/").status_code == 401


def test_a_token_of_a_deactivated_user_is_refused(kh):
    user = user_with_role(Role.PROGRAMME_MANAGER, kh)
    token = Token.objects.create(user=user)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/p/KH/factories/").status_code == 200
    user.is_active = False
    user.save()
    assert client.get("/api/v1/p/KH/factories/").status_code == 401
