from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone

from betterwork import tenancy
from betterwork.models import Role
from tests.conftest import signs_in
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
    assert not signs_in(client, kh_manager.email, "pass-word-123")


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
    assert signs_in(Client(), user.email, "brand-new-pass-9")


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
    assert signs_in(client, kh_advisor.email, "old-secret-123")
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


def test_five_failed_sign_ins_pause_the_account_from_that_address_only(client, kh, kh_manager, settings):
    from axes.models import AccessAttempt

    from betterwork.models import AuditEvent
    from betterwork.services import LOCKED_OUT, SIGN_IN, SIGN_IN_FAILED

    for _ in range(4):
        assert not signs_in(client, kh_manager.email, "wrong")
    fifth = client.post("/accounts/login/", {"username": kh_manager.email, "password": "wrong"})
    assert fifth.status_code == 429
    # Now even the right password waits, with a page that says why and what to do.
    paused = client.post("/accounts/login/", {"username": kh_manager.email, "password": "pass-word-123"})
    page = paused.content.decode()
    assert paused.status_code == 429 and "Sign-in paused" in page and "Try again in 30 minutes" in page
    assert 'href="/accounts/password_reset/"' in page
    # From another address the owner still gets in: nobody can lock a person out from elsewhere.
    elsewhere = Client(REMOTE_ADDR="10.1.2.3")
    assert signs_in(elsewhere, kh_manager.email, "pass-word-123")
    # A forged X-Forwarded-For names no new address: no proxy is trusted unless configured.
    forged = client.post(
        "/accounts/login/",
        {"username": kh_manager.email, "password": "pass-word-123"},
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert forged.status_code == 429
    # Once the pause is over, the right password works again.
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=31))
    assert signs_in(client, kh_manager.email, "pass-word-123")
    with tenancy.scope({kh.pk}), transaction.atomic():
        actions = list(
            AuditEvent.objects.filter(object_id=str(kh_manager.pk)).values_list("action", "actor_id")
        )
    assert actions.count((SIGN_IN_FAILED, None)) == 7  # five wrong passwords, two refused while paused
    assert (LOCKED_OUT, None) in actions and actions.count((SIGN_IN, kh_manager.pk)) == 2


def test_a_sign_in_is_on_record_in_each_programme_of_the_account(client, kh, vn, kh_manager):
    from betterwork.models import AuditEvent, RoleGrant
    from betterwork.services import SIGN_IN

    RoleGrant.objects.create(user=kh_manager, role=Role.ADVISOR, programme=vn)
    assert signs_in(client, kh_manager.email, "pass-word-123")
    for programme in (kh, vn):
        with tenancy.scope({programme.pk}), transaction.atomic():
            event = AuditEvent.objects.get(action=SIGN_IN)
        assert event.actor == kh_manager and event.after == {"address": "127.0.0.1"}
