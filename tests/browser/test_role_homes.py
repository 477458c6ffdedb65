"""Every role signs in through the form and lands on its own home page, in a real browser."""

from __future__ import annotations

import pytest

from betterwork.models import Role
from tests.browser.conftest import sign_in
from tests.model_factories import BuyerFactory, FactoryFactory, ProgrammeFactory, user_with_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    kh = ProgrammeFactory(code="KH", name="Better Factories Cambodia", country="Cambodia")
    jo = ProgrammeFactory(code="JO", name="Better Work Jordan", country="Jordan", languages=["ar", "en"])
    factory = FactoryFactory(programme=kh, name="Angkor Garments", public_id="KH000018")
    for n in range(4):
        FactoryFactory(programme=kh, enrolment_status="active" if n else "suspended")
    FactoryFactory(programme=jo, name="Amman Apparel")
    return {"kh": kh, "jo": jo, "factory": factory, "buyer": BuyerFactory(name="Northwind Apparel")}


ROLES = {
    Role.ADVISOR: ("Your programmes", "Better Factories Cambodia"),
    Role.TEAM_LEADER: ("Your programmes", "Better Factories Cambodia"),
    Role.PROGRAMME_MANAGER: ("Your programmes", "Audit trail"),
    Role.FACTORY: ("Your factory", "Angkor Garments"),
    Role.BUYER: ("Your organisation", "Northwind Apparel"),
    Role.GLOBAL: ("All programmes", "Better Work Jordan"),
}


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_lands_on_its_home(page, live_server, world, console_errors, screenshot, role):
    extra = {"factory": world["factory"]} if role == Role.FACTORY else {}
    extra |= {"buyer": world["buyer"]} if role == Role.BUYER else {}
    programme = None if role in (Role.BUYER, Role.GLOBAL) else world["kh"]
    user = user_with_role(role, programme, **extra)
    sign_in(page, live_server, user.email)
    heading, text = ROLES[role]
    assert page.get_by_role("heading", name=heading).is_visible()
    assert text in page.content()
    if role != Role.GLOBAL:
        assert "Amman Apparel" not in page.content() and "Better Work Jordan" not in page.content()
    screenshot(f"home-{role}")
    assert console_errors == []


def test_a_manager_works_through_the_registry_by_keyboard_and_mouse(
    page, live_server, world, console_errors, screenshot
):
    manager = user_with_role(Role.PROGRAMME_MANAGER, world["kh"])
    sign_in(page, live_server, manager.email)
    page.get_by_role("link", name="Factory registry").click()
    page.get_by_label("Search").fill("Angkor")
    page.get_by_label("Search").press("Enter")
    page.get_by_role("link", name="Angkor Garments").click()
    assert page.get_by_role("heading", name="Angkor Garments").is_visible()
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Migrant workers").fill("5000")
    page.get_by_role("button", name="Save changes").click()
    assert (
        page.get_by_text("at most 1,000 here").is_visible()
        or page.get_by_text("at most 1000 here").is_visible()
    )
    screenshot("factory-form-error")
    page.get_by_label("Migrant workers").fill("40")
    page.get_by_role("button", name="Save changes").click()
    assert page.get_by_text("Changes saved.").is_visible()
    screenshot("factory-detail")
    assert console_errors == []


def test_arabic_turns_the_page_right_to_left(page, live_server, world, console_errors, screenshot):
    manager = user_with_role(Role.PROGRAMME_MANAGER, world["kh"])
    sign_in(page, live_server, manager.email)
    page.get_by_label("Language").select_option("ar")
    page.wait_for_selector("html[dir=rtl]")
    assert page.locator("html").get_attribute("lang") == "ar"
    assert page.get_by_role("heading", name="برامجك").is_visible()
    screenshot("home-arabic")
    page.goto(f"{live_server.url}/p/KH/factories/")
    assert page.get_by_role("heading", name="سجل المصانع").is_visible()
    screenshot("registry-arabic")
    assert console_errors == []


def test_tablet_width(page, live_server, world, console_errors, screenshot):
    page.set_viewport_size({"width": 768, "height": 1024})
    manager = user_with_role(Role.PROGRAMME_MANAGER, world["kh"])
    sign_in(page, live_server, manager.email)
    page.goto(f"{live_server.url}/p/KH/factories/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 768 + 1, "no sideways scrolling of the whole page at tablet width"
    screenshot("registry-tablet")
    assert console_errors == []
