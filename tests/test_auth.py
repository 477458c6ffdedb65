from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from betterwork.models import Role
from tests.model_factories import user_with_role

pytestmark = pytest.mark.django_db


def test_sign_in_with_e_mail_and_sign_out(client, kh, kh_manager):
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b'type="email"' in page.content or b'name="username"' in page.content
    response = client.post("/accounts/login/", {"username": kh_manager.email, "password": "pass-word-123"})
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_a_clear_error(client, kh_manager):
    page = client.post(
        "/accounts/login/", {"username": kh_manager.email, "password": "wrong"}
    ).content.decode()
    assert "Please enter a correct e-mail address and password" in page


def test_inactive_users_cannot_sign_in(client, kh_manager):
    kh_manager.is_active = False
    kh_manager.save()
    assert not client.login(username=kh_manager.email, password="pass-word-123")


def test_password_reset_mail_is_in_the_users_language_and_works(client, kh):
    user = user_with_role(Role.ADVISOR, kh)
    user.language = "ar"
    user.save()
    client.post("/accounts/password_reset/", {"email": user.email})
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert re.search(r"[\u0600-\u06FF]", message.subject + message.body), "the e-mail is in Arabic"
    link = re.search(r"https?://\S+", message.body).group(0)
    form = client.get(link, follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": "brand-new-pass-9", "new_password2": "brand-new-pass-9"}
    )
    assert Client().login(username=user.email, password="brand-new-pass-9")


def test_unknown_addresses_get_the_same_answer(client):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302 and len(mail.outbox) == 0


def test_session_cookie_is_http_only_and_csrf_protected(client, kh_manager):
    csrf_client = Client(enforce_csrf_checks=True)
    assert (
        csrf_client.post(
            "/accounts/login/", {"username": kh_manager.email, "password": "pass-word-123"}
        ).status_code
        == 403
    )
    response = client.post("/accounts/login/", {"username": kh_manager.email, "password": "pass-word-123"})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


@pytest.mark.django_db
def test_a_signed_in_user_changes_their_password(kh_advisor):
    client = Client()
    kh_advisor.set_password("old-secret-123")
    kh_advisor.save()
    assert client.login(username=kh_advisor.email, password="old-secret-123")
    assert client.get("/accounts/password_change/").status_code == 200
    wrong = client.post(
        "/accounts/password_change/",
        {"old_password": "nope", "new_password1": "N3w-secret-pass!", "new_password2": "N3w-secret-pass!"},
    )
    assert wrong.status_code == 200 and "incorrectly" in wrong.content.decode()
    done = client.post(
        "/accounts/password_change/",
        {
            "old_password": "old-secret-123",
            "new_password1": "N3w-secret-pass!",
            "new_password2": "N3w-secret-pass!",
        },
        follow=True,
    )
    assert done.status_code == 200 and "Password changed" in done.content.decode()
    kh_advisor.refresh_from_db()
    assert kh_advisor.check_password("N3w-secret-pass!")
