from __future__ import annotations

import pytest
from django.urls import reverse

from betterwork import tenancy
from betterwork.models import Role
from factories.models import Factory
from tests.model_factories import BuyerFactory, FactoryFactory, user_with_role

pytestmark = pytest.mark.django_db


def url(name, programme, **kwargs):
    return reverse(f"factories:{name}", kwargs={"programme_code": programme.code, **kwargs})


def test_the_registry_lists_searches_and_filters(client, kh, kh_manager):
    FactoryFactory(programme=kh, name="Lotus Knitwear", enrolment_status="active", region="Kandal")
    FactoryFactory(programme=kh, name="Harbour Denim", enrolment_status="suspended", region="Takeo")
    client.force_login(kh_manager)
    page = client.get(url("list", kh)).content.decode()
    assert "Lotus Knitwear" in page and "Harbour Denim" in page and "2 factories" in page
    assert "Harbour" not in client.get(url("list", kh), {"q": "lotus"}).content.decode()
    filtered = client.get(url("list", kh), {"enrolment_status": "suspended"}).content.decode()
    assert "Harbour Denim" in filtered and "Lotus Knitwear" not in filtered
    assert (
        client.get(url("list", kh), {"enrolment_status": "nonsense", "page": "x", "sort": "bad"}).status_code
        == 200
    )


@pytest.mark.parametrize("rows", [3, 40])
def test_list_query_count_is_flat(client, kh, kh_manager, rows, django_assert_max_num_queries):
    for _ in range(rows):
        FactoryFactory(programme=kh)
    client.force_login(kh_manager)
    with django_assert_max_num_queries(11):
        response = client.get(url("list", kh))
    assert response.status_code == 200


def test_another_programmes_registry_and_factories_do_not_exist_for_you(
    client, kh, vn, kh_manager, vn_factory
):
    client.force_login(kh_manager)
    assert client.get(url("list", vn)).status_code == 404
    assert client.get(url("detail", kh, pk=vn_factory.pk)).status_code == 404
    assert client.get(url("detail", vn, pk=vn_factory.pk)).status_code == 404
    assert client.get(url("edit", kh, pk=vn_factory.pk)).status_code == 404
    assert client.post(url("edit", kh, pk=vn_factory.pk), {"name": "x"}).status_code == 404
    assert client.get(url("list", kh) + "?q=Saigon").content.decode().count("Saigon Apparel") == 0


def test_a_factory_user_sees_their_own_factory_only(client, kh, kh_factory):
    other = FactoryFactory(programme=kh, name="Neighbour Garments")
    user = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    client.force_login(user)
    assert client.get(url("detail", kh, pk=kh_factory.pk)).status_code == 200
    assert client.get(url("detail", kh, pk=other.pk)).status_code == 404
    assert client.get(url("list", kh)).status_code == 404, "the registry is for programme staff"
    assert client.get(url("edit", kh, pk=kh_factory.pk)).status_code == 404


def test_buyers_and_visitors_are_refused(client, kh, kh_factory):
    response = client.get(url("detail", kh, pk=kh_factory.pk))
    assert response.status_code == 302 and reverse("login") in response.url
    client.force_login(user_with_role(Role.BUYER, buyer=BuyerFactory()))
    assert client.get(url("list", kh)).status_code == 404
    assert client.get(url("detail", kh, pk=kh_factory.pk)).status_code == 404


def test_register_a_factory_through_the_form(client, kh, kh_manager, kh_advisor):
    client.force_login(kh_manager)
    assert client.get(url("create", kh)).status_code == 200
    response = client.post(
        url("create", kh),
        {
            "name": "Angkor Sportswear",
            "sector": "garment",
            "factory_type": "direct_exporter",
            "ownership": "foreign",
            "workers_female": "900",
            "workers_male": "300",
            "workers_migrant": "0",
            "designated_advisor": kh_advisor.pk,
        },
    )
    assert response.status_code == 302
    with tenancy.scope({kh.pk}):
        factory = Factory.objects.get(name="Angkor Sportswear")
    assert factory.public_id.startswith("KH") and factory.designated_advisor == kh_advisor
    assert response.url == url("detail", kh, pk=factory.pk)


def test_form_errors_are_shown_per_field_and_nothing_is_saved(client, kh, kh_manager, vn):
    vn_advisor = user_with_role(Role.ADVISOR, vn)
    client.force_login(kh_manager)
    response = client.post(
        url("create", kh),
        {
            "name": "",
            "sector": "garment",
            "factory_type": "direct_exporter",
            "ownership": "domestic",
            "workers_female": "10",
            "workers_male": "-5",
            "workers_migrant": "99",
            "designated_advisor": vn_advisor.pk,
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in page
    assert "Ensure this value is greater than or equal to 0." in page
    assert "Select a valid choice." in page, "an advisor of another programme is not offered"
    with tenancy.scope({kh.pk}):
        assert not Factory.objects.exists()


def test_migrants_beyond_the_workforce_are_refused_with_a_message(client, kh, kh_manager, kh_factory):
    client.force_login(kh_manager)
    data = {
        "name": kh_factory.name,
        "sector": "garment",
        "factory_type": "direct_exporter",
        "ownership": "domestic",
        "workers_female": "10",
        "workers_male": "5",
        "workers_migrant": "16",
    }
    page = client.post(url("edit", kh, pk=kh_factory.pk), data).content.decode()
    assert "at most 15 here" in page


def test_change_status(client, kh, kh_manager, kh_factory):
    client.force_login(kh_manager)
    response = client.post(
        url("status", kh, pk=kh_factory.pk), {"status": "suspended", "on": "2026-01-05", "note": "x"}
    )
    assert response.status_code == 302
    with tenancy.scope({kh.pk}):
        kh_factory.refresh_from_db()
    assert kh_factory.enrolment_status == "suspended"
    page = client.post(
        url("status", kh, pk=kh_factory.pk), {"status": "active", "on": "2999-01-01"}
    ).content.decode()
    assert "cannot be in the future" in page


def test_detail_shows_the_profile(client, kh, kh_advisor, kh_factory):
    client.force_login(kh_advisor)
    page = client.get(url("detail", kh, pk=kh_factory.pk)).content.decode()
    assert kh_factory.name in page and "1,000" in page and "70%" in page
