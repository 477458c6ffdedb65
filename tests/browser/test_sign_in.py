"""The sign-in page in a real browser: clear errors, Arabic before signing in, a phone's width, 404."""

from __future__ import annotations

import pytest

from betterwork.models import Role
from tests.browser.conftest import sign_in
from tests.model_factories import FactoryFactory, ProgrammeFactory, user_with_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def kh():
    return ProgrammeFactory(code="KH", name="Better Factories Cambodia", country="Cambodia")


def test_a_wrong_password_is_a_clear_error(page, live_server, kh, console_errors, screenshot):
    manager = user_with_role(Role.PROGRAMME_MANAGER, kh)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(manager.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert (
        page.get_by_role("alert")
        .get_by_text("Please enter a correct e-mail address and password")
        .is_visible()
    )
    assert page.get_by_label("E-mail address").input_value() == manager.email
    screenshot("login-error")
    assert console_errors == []


def test_signing_in_in_arabic(page, live_server, kh, console_errors, screenshot):
    manager = user_with_role(Role.PROGRAMME_MANAGER, kh)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Language").select_option("ar")
    page.wait_for_selector("html[dir=rtl]")
    assert page.get_by_role("heading", name="تسجيل الدخول").is_visible()
    screenshot("login-arabic")
    page.get_by_label("عنوان البريد الإلكتروني").fill(manager.email)
    page.get_by_label("كلمة المرور").fill("pass-word-123")
    page.get_by_role("button", name="تسجيل الدخول").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.get_by_role("heading", name="برامجك").is_visible()
    assert console_errors == []


def test_phone_width(page, live_server, kh, console_errors, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    FactoryFactory(programme=kh, name="Angkor Garments")
    manager = user_with_role(Role.PROGRAMME_MANAGER, kh)
    sign_in(page, live_server, manager.email)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1, "no sideways scrolling"
    assert page.get_by_role("link", name="Factory registry").is_visible()
    screenshot("home-phone")
    assert console_errors == []


def test_another_programmes_page_is_simply_not_found(page, live_server, kh, console_errors, screenshot):
    ProgrammeFactory(code="VN", name="Better Work Vietnam", country="Vietnam")
    manager = user_with_role(Role.PROGRAMME_MANAGER, kh)
    sign_in(page, live_server, manager.email)
    response = page.goto(f"{live_server.url}/p/VN/factories/")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()
    assert "Vietnam" not in page.content()
    screenshot("not-found")
    # Chromium logs the 404 response itself as a console error; nothing else may appear.
    assert [e for e in console_errors if "404" not in e] == []
