"""Two-step sign-in: a code from an authenticator app after the password. Staff must use it
where it is required (production's default); anyone may turn it on; once on, every sign-in asks
for it, and a password alone opens nothing, not even the page to move it to another app."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from betterwork import tenancy
from betterwork.models import AuditEvent, Role, User
from tests.model_factories import user_with_role

pytestmark = pytest.mark.django_db


def code_of(device: TOTPDevice, drift: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + drift * device.step
    return f"{totp.token():06d}"


def signed_in(user: User) -> Client:
    user.refresh_from_db()  # as it is now: saving a stale copy would undo what happened since
    user.set_password("pass-word-123")
    user.save()
    client = Client()
    response = client.post("/accounts/login/", {"username": user.email, "password": "pass-word-123"})
    assert response.status_code == 302
    return client


def test_staff_must_set_it_up_where_required_and_then_go_on(kh, settings):
    settings.TWO_FACTOR_REQUIRED = True
    manager = user_with_role(Role.PROGRAMME_MANAGER, kh)
    client = signed_in(manager)
    first = client.get("/p/KH/factories/")
    assert first.status_code == 302 and first.url == "/accounts/two-step/?next=%2Fp%2FKH%2Ffactories%2F"
    page = client.get(first.url).content.decode()
    assert "Set up two-step sign-in" in page and "<svg" in page and "Your role sees many factories" in page
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    wrong = client.post("/accounts/two-step/", {"code": "000000", "next": "/p/KH/factories/"})
    assert wrong.status_code == 200 and "not the one the app shows now" in wrong.content.decode()
    # Each wrong code makes the next try wait longer (a second, then two, ...): that second passes.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    done = client.post("/accounts/two-step/", {"code": code_of(device), "next": "/p/KH/factories/"})
    assert done.status_code == 302 and done.url == "/p/KH/factories/"
    assert client.get("/p/KH/factories/").status_code == 200
    manager.refresh_from_db()
    assert manager.two_factor_enabled
    with tenancy.scope({kh.pk}):
        assert AuditEvent.objects.filter(action="auth.two_factor_on", object_id=str(manager.pk)).exists()


def test_once_on_every_sign_in_asks_for_the_code_and_a_password_alone_opens_nothing(kh, kh_factory, settings):
    settings.TWO_FACTOR_REQUIRED = False  # not required: this person chose it
    hr = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    client = signed_in(hr)
    client.get("/accounts/two-step/")
    device = TOTPDevice.objects.get(user=hr)
    client.post("/accounts/two-step/", {"code": code_of(device)})
    # A new session, password only: every page waits for the code, the setup page too.
    other = signed_in(hr)
    for path in ("/", "/p/KH/factories/", "/accounts/password_change/", "/api/v1/"):
        response = other.get(path)
        assert response.status_code == 302 and response.url.startswith("/accounts/two-step/code/"), path
    again = other.get("/accounts/two-step/")
    assert again.status_code == 302 and again.url.startswith("/accounts/two-step/code/")
    assert "Type the six-digit code" in other.get("/accounts/two-step/code/").content.decode()
    assert other.post("/accounts/two-step/code/", {"code": "123456"}).status_code == 200
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    ok = other.post(
        "/accounts/two-step/code/", {"code": code_of(device, drift=1), "next": "/p/KH/factories/"}
    )
    assert ok.status_code == 302 and ok.url == "/p/KH/factories/"
    assert other.get("/p/KH/factories/").status_code in (200, 404)  # past the code: the page's own rules
    # The same code does not work twice.
    third = signed_in(hr)
    assert third.post("/accounts/two-step/code/", {"code": code_of(device, drift=1)}).status_code == 200


def test_not_required_in_the_demo_nor_for_factory_users(kh, kh_factory, settings):
    settings.TWO_FACTOR_REQUIRED = False
    assert signed_in(user_with_role(Role.PROGRAMME_MANAGER, kh)).get("/").status_code == 200
    settings.TWO_FACTOR_REQUIRED = True
    assert signed_in(user_with_role(Role.FACTORY, kh, factory=kh_factory)).get("/").status_code == 200


def test_next_never_leaves_the_site(kh, settings):
    settings.TWO_FACTOR_REQUIRED = True
    manager = user_with_role(Role.PROGRAMME_MANAGER, kh)
    client = signed_in(manager)
    client.get("/accounts/two-step/")
    device = TOTPDevice.objects.get(user=manager)
    done = client.post("/accounts/two-step/", {"code": code_of(device), "next": "https://evil.example/"})
    assert done.status_code == 302 and done.url == "/"


def test_production_requires_it_and_the_demo_does_not():
    import subprocess
    import sys

    def required(debug: str) -> str:
        script = "import django, os; django.setup(); from django.conf import settings; print(settings.TWO_FACTOR_REQUIRED)"
        env = {
            "DJANGO_SETTINGS_MODULE": "betterwork.settings",
            "DEBUG": debug,
            "SECRET_KEY": "x" * 50,
            "ALLOWED_HOSTS": "example.org",
            "PATH": "/usr/bin:/bin",
        }
        import os

        env = {**os.environ, **env}
        env.pop("TWO_FACTOR_REQUIRED", None)
        done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
            [sys.executable, "-c", script], env=env, capture_output=True, text=True
        )
        return done.stdout.strip()

    assert required("0") == "True" and required("1") == "False"
