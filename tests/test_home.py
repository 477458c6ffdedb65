"""Each role lands on a home page with its own section, and never another programme's figures."""

from __future__ import annotations

import re

import pytest

from betterwork.models import Role
from tests.model_factories import BuyerFactory, FactoryFactory, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(kh, vn):
    for _ in range(3):
        FactoryFactory(programme=kh, workers_female=100, workers_male=50)
    for _ in range(5):
        FactoryFactory(programme=vn, workers_female=1000, workers_male=1000)


def home(client, user) -> str:
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("role", [Role.ADVISOR, Role.TEAM_LEADER, Role.PROGRAMME_MANAGER])
def test_programme_staff_see_their_programme_only(client, kh, vn, registry, role):
    page = home(client, user_with_role(role, kh))
    assert "Better Factories Cambodia" in page and "450" in page
    assert "Better Work Vietnam" not in page and "10,000" not in page
    assert ("/p/KH/users/" in page) == (role == Role.PROGRAMME_MANAGER)


def test_factory_user_sees_their_factory(client, kh, registry, kh_factory):
    page = home(client, user_with_role(Role.FACTORY, kh, factory=kh_factory))
    assert "Your factory" in page and kh_factory.name in page and kh_factory.public_id in page
    assert "Your programmes" not in page and '/p/KH/factories/"' not in page


def test_buyer_sees_their_organisation_and_no_factories(client, kh, registry):
    buyer = BuyerFactory(name="Northwind Apparel")
    page = home(client, user_with_role(Role.BUYER, buyer=buyer))
    assert "Northwind Apparel" in page and "once each factory has agreed to share them" in page
    assert "Better Factories Cambodia" not in page and "/p/" not in page


def test_global_staff_see_every_programme_with_totals(client, kh, vn, registry):
    page = home(client, user_with_role(Role.GLOBAL))
    assert "All programmes" in page and "Better Work Vietnam" in page and "Better Factories Cambodia" in page
    assert "10,450" in page and "/programmes/" in page


def test_someone_without_a_role_is_told_so(client, kh):
    from tests.model_factories import UserFactory

    assert "has no role yet" in home(client, UserFactory())


@pytest.mark.parametrize("programmes", [1, 6])
def test_home_query_count_is_flat(client, programmes, django_assert_max_num_queries):
    from tests.model_factories import ProgrammeFactory

    user = user_with_role(Role.GLOBAL)
    for _ in range(programmes):
        FactoryFactory(programme=ProgrammeFactory())
    client.force_login(user)
    with django_assert_max_num_queries(10):
        assert client.get("/").status_code == 200


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


@pytest.mark.parametrize(
    "path",
    ["/", "/p/KH/factories/", "/p/KH/users/", "/p/KH/audit/", "/accounts/password_reset/", "/programmes/"],
)
def test_pages_carry_a_strict_csp_and_no_inline_code(client, kh, kh_factory, path):
    user = user_with_role(Role.GLOBAL)
    user_with_role(Role.PROGRAMME_MANAGER, kh).grants.update(user=user)
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200, path
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    page = response.content.decode()
    assert not INLINE_SCRIPT.search(page) and " style=" not in page and " onclick=" not in page


def test_not_found_says_the_same_for_another_programme_and_a_mistyped_address(client, kh, vn, kh_manager):
    client.force_login(kh_manager)
    bodies = set()
    for path in ["/p/VN/factories/", "/p/ZZ/factories/", "/no-such-page/"]:
        response = client.get(path)
        assert response.status_code == 404, path
        page = response.content.decode()
        bodies.add(page[page.index('<main id="main"') : page.index("</main>")])
    (body,) = bodies
    assert "This page does not exist." in body and "Vietnam" not in body


def test_server_error_page_follows_the_language_without_a_request_context(rf):
    from django.utils import translation
    from django.views.defaults import server_error

    with translation.override("ar"):
        page = server_error(rf.get("/")).content.decode()
    assert '<html lang="ar" dir="rtl">' in page and "Something went wrong" not in page
    assert not INLINE_SCRIPT.search(page) and " style=" not in page
