"""How ScopeMiddleware derives a request's scope from the principal's grants and the URL."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from rest_framework.authtoken.models import Token

from betterwork import tenancy
from betterwork.middleware import ScopeMiddleware
from betterwork.models import Role
from tests.model_factories import BuyerFactory, user_with_role

pytestmark = pytest.mark.django_db


def run(path, user=None, **headers):
    seen = {}

    def view(request):
        seen["scope"] = tenancy.current_scope()
        seen["programme"] = request.programme
        seen["user"] = request.user
        return HttpResponse("ok")

    request = RequestFactory().get(path, **headers)
    request.user = user or AnonymousUser()
    ScopeMiddleware(view)(request)
    return seen


def test_programme_url_scopes_to_that_programme_only(kh, vn, kh_manager):
    seen = run("/p/KH/factories/", kh_manager)
    assert seen["scope"] == {kh.pk} and seen["programme"] == kh
    assert tenancy.current_scope() is None, "the scope must not outlive the request"


def test_another_programmes_url_is_404_not_403(kh, vn, kh_manager):
    with pytest.raises(Http404):
        run("/p/VN/factories/", kh_manager)
    with pytest.raises(Http404):
        run("/p/ZZ/factories/", kh_manager)


def test_routes_without_a_code_are_scoped_to_every_granted_programme(kh, vn, kh_manager):
    from betterwork.models import RoleGrant

    assert run("/", kh_manager)["scope"] == {kh.pk}
    RoleGrant.objects.create(user=kh_manager, role=Role.ADVISOR, programme=vn)
    assert run("/", kh_manager)["scope"] == {kh.pk, vn.pk}


def test_global_staff_reach_every_programme_and_only_by_grant(kh, vn):
    everywhere = user_with_role(Role.GLOBAL)
    assert run("/", everywhere)["scope"] == {kh.pk, vn.pk}
    only_vn = user_with_role(Role.GLOBAL, vn)
    assert run("/", only_vn)["scope"] == {vn.pk}
    with pytest.raises(Http404):
        run("/p/KH/factories/", only_vn)


def test_anonymous_and_buyers_get_an_empty_scope(kh):
    assert run("/")["scope"] == frozenset()
    assert run("/p/KH/factories/")["scope"] == frozenset()
    buyer_user = user_with_role(Role.BUYER, buyer=BuyerFactory())
    assert run("/", buyer_user)["scope"] == frozenset()
    with pytest.raises(Http404):
        run("/p/KH/factories/", buyer_user)


def test_deactivated_users_get_no_scope(kh, kh_manager):
    kh_manager.is_active = False
    kh_manager.save()
    assert run("/", kh_manager)["scope"] == frozenset()


def test_api_tokens_scope_api_requests_but_not_pages(kh, kh_manager):
    token = Token.objects.create(user=kh_manager)
    api = run("/api/v1/p/KH/factories/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api["user"] == kh_manager and api["scope"] == {kh.pk}
    page = run("/p/KH/factories/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert not page["user"].is_authenticated and page["scope"] == frozenset()
    bad = run("/api/v1/p/KH/factories/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert not bad["user"].is_authenticated and bad["scope"] == frozenset()
