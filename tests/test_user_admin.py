"""User administration: every rule tried from the side that must be refused."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from betterwork import tenancy
from betterwork.models import AuditEvent, Role, RoleGrant, User
from tests.conftest import signs_in
from tests.model_factories import FactoryFactory, UserFactory, grant, user_with_role

pytestmark = pytest.mark.django_db


def people(name, programme, **kwargs):
    return reverse(f"people:{name}", kwargs={"programme_code": programme.code, **kwargs})


def invite(client, programme, **data):
    payload = {
        "full_name": "Sokha Chan",
        "email": "sokha@example.org",
        "role": "advisor",
        "language": "en",
        **data,
    }
    return client.post(people("invite", programme), payload)


def test_manager_invites_an_advisor_who_sets_a_password_and_signs_in(
    client, kh, kh_manager, django_capture_on_commit_callbacks
):
    client.force_login(kh_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client, kh)
    assert response.status_code == 302
    invited = User.objects.get(email="sokha@example.org")
    assert not invited.has_usable_password()
    assert RoleGrant.objects.filter(user=invited, role=Role.ADVISOR, programme=kh).exists()
    assert len(mail.outbox) == 1 and "Better Factories Cambodia" in mail.outbox[0].subject
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    client.logout()
    form = client.get(link, follow=True)
    assert form.status_code == 200 and b"Choose a password" in form.content
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-long-new-pass-1", "new_password2": "a-long-new-pass-1"},
    )
    assert done.status_code == 302
    assert signs_in(client, "sokha@example.org", "a-long-new-pass-1")
    with tenancy.scope({kh.pk}):
        assert AuditEvent.objects.filter(
            action="role.grant", object_id=str(RoleGrant.objects.get(user=invited).pk)
        ).exists()


def test_no_e_mail_when_the_transaction_rolls_back(
    client, kh, kh_manager, django_capture_on_commit_callbacks
):
    client.force_login(kh_manager)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invite(client, kh)
    assert len(mail.outbox) == 0
    for callback in callbacks:  # the commit: the one invitation goes only now
        callback()
    assert len(mail.outbox) == 1


def test_inviting_an_existing_user_adds_the_role_without_an_e_mail(client, kh, vn, kh_manager, vn_manager):
    client.force_login(kh_manager)
    response = invite(client, kh, email=vn_manager.email.upper(), role="team_leader")
    assert response.status_code == 302 and len(mail.outbox) == 0
    assert set(vn_manager.grants.values_list("role", flat=True)) == {"programme_manager", "team_leader"}
    page = invite(client, kh, email=vn_manager.email, role="team_leader").content.decode()
    assert "already holds that role here" in page


@pytest.mark.parametrize("role", ["global", "buyer", "factory", "wizard"])
def test_a_manager_cannot_hand_out_roles_beyond_their_programme(client, kh, kh_manager, role):
    client.force_login(kh_manager)
    response = invite(client, kh, role=role)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not User.objects.filter(email="sokha@example.org").exists()


def test_bad_input_gets_messages_not_errors(client, kh, kh_manager):
    client.force_login(kh_manager)
    page = invite(client, kh, email="not-an-address", full_name="").content.decode()
    assert "Enter a valid email address." in page and "This field is required." in page


def test_another_programme_is_not_there_for_a_manager(client, kh, vn, kh_manager, vn_manager):
    client.force_login(kh_manager)
    assert client.get(people("list", vn)).status_code == 404
    assert invite(client, vn).status_code == 404
    assert client.get(people("detail", kh, user_id=vn_manager.pk)).status_code == 404
    vn_grant = vn_manager.grants.get()
    assert client.post(people("revoke", kh, user_id=vn_manager.pk, grant_id=vn_grant.pk)).status_code == 404
    assert client.post(people("active", kh, user_id=vn_manager.pk)).status_code == 404
    assert client.get(people("audit", vn)).status_code == 404
    vn_manager.refresh_from_db()
    assert vn_manager.is_active and vn_manager.grants.exists()


@pytest.mark.parametrize("role", [Role.ADVISOR, Role.TEAM_LEADER])
def test_staff_who_are_not_managers_cannot_administer(client, kh, role):
    client.force_login(user_with_role(role, kh))
    assert client.get(people("list", kh)).status_code == 404
    assert client.get(people("invite", kh)).status_code == 404
    assert client.get(people("audit", kh)).status_code == 404


def test_revoke_and_the_last_manager_rule(client, kh, kh_manager, kh_advisor):
    client.force_login(kh_manager)
    advisor_grant = kh_advisor.grants.get()
    assert (
        client.post(people("revoke", kh, user_id=kh_advisor.pk, grant_id=advisor_grant.pk)).status_code == 302
    )
    assert not kh_advisor.grants.exists()
    own = kh_manager.grants.get()
    response = client.post(people("revoke", kh, user_id=kh_manager.pk, grant_id=own.pk), follow=True)
    assert "at least one active programme manager" in response.content.decode()
    assert kh_manager.grants.exists()


def test_deactivate_after_confirmation_then_sign_in_fails(client, kh, kh_manager, kh_advisor):
    client.force_login(kh_manager)
    assert b"Deactivate this account?" in client.get(people("active", kh, user_id=kh_advisor.pk)).content
    client.post(people("active", kh, user_id=kh_advisor.pk))
    kh_advisor.refresh_from_db()
    assert not kh_advisor.is_active
    client.logout()
    assert not signs_in(client, kh_advisor.email, "pass-word-123")
    with tenancy.scope({kh.pk}):
        assert AuditEvent.objects.filter(action="user.deactivate", object_id=str(kh_advisor.pk)).exists()


def test_a_manager_cannot_deactivate_someone_who_also_works_elsewhere(client, kh, vn, kh_manager, kh_advisor):
    grant(kh_advisor, Role.ADVISOR, vn)
    client.force_login(kh_manager)
    response = client.post(people("active", kh, user_id=kh_advisor.pk), follow=True)
    assert "programmes you do not manage" in response.content.decode()
    kh_advisor.refresh_from_db()
    assert kh_advisor.is_active


@pytest.mark.parametrize("rows", [3, 30])
def test_users_and_audit_lists_have_flat_query_counts(
    client, kh, kh_manager, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        grant(UserFactory(), Role.ADVISOR, kh)
        with tenancy.scope({kh.pk}):
            AuditEvent(programme=kh, action="test", object_type="x", object_id="1").save()
    client.force_login(kh_manager)
    with django_assert_max_num_queries(12):
        assert client.get(people("list", kh)).status_code == 200
    with django_assert_max_num_queries(11):
        assert client.get(people("audit", kh)).status_code == 200


def test_factory_administrator_manages_only_their_own_staff(
    client, kh, kh_factory, django_capture_on_commit_callbacks
):
    other_factory = FactoryFactory(programme=kh)
    admin = user_with_role(Role.FACTORY, kh, factory=kh_factory, is_admin=True)
    colleague = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    client.force_login(admin)
    staff_url = reverse("factories:staff", kwargs={"programme_code": "KH", "pk": kh_factory.pk})
    assert client.get(staff_url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            staff_url, {"full_name": "HR Officer", "email": "hr@angkor.example", "language": "en"}
        )
    assert response.status_code == 302 and len(mail.outbox) == 1
    assert RoleGrant.objects.get(user__email="hr@angkor.example").factory_id == kh_factory.pk
    other_url = reverse("factories:staff", kwargs={"programme_code": "KH", "pk": other_factory.pk})
    assert client.get(other_url).status_code == 404
    assert client.get(people("list", kh)).status_code == 404
    revoke = reverse(
        "factories:staff_revoke",
        kwargs={"programme_code": "KH", "pk": kh_factory.pk, "grant_id": colleague.grants.get().pk},
    )
    assert client.post(revoke).status_code == 302 and not colleague.grants.exists()
    client.force_login(user_with_role(Role.FACTORY, kh, factory=kh_factory))
    assert client.get(staff_url).status_code == 404, "a factory user who is not an administrator"


def test_managers_make_advisors_training_officers_and_nobody_else_can(client, kh, vn, kh_manager, kh_advisor):
    from betterwork.permissions import Principal, can_manage_training

    advisor_grant = kh_advisor.grants.get()
    toggle = people("training", kh, user_id=kh_advisor.pk, grant_id=advisor_grant.pk)
    client.force_login(kh_advisor)  # not for themselves
    assert client.post(toggle, {"manages_training": "1"}).status_code == 404
    client.force_login(user_with_role(Role.PROGRAMME_MANAGER, vn))  # nor from another programme
    assert client.post(toggle, {"manages_training": "1"}).status_code == 404
    assert not can_manage_training(Principal.for_user(kh_advisor), kh.pk)

    client.force_login(kh_manager)
    page = client.post(toggle, {"manages_training": "1"}, follow=True)
    assert (
        "is now a training officer" in page.content.decode() and "training officer" in page.content.decode()
    )
    assert can_manage_training(Principal.for_user(kh_advisor), kh.pk)
    assert not can_manage_training(Principal.for_user(kh_advisor), vn.pk)
    with tenancy.scope({kh.pk}):
        assert AuditEvent.objects.filter(action="role.training", object_id=str(advisor_grant.pk)).exists()
    client.post(toggle, {"manages_training": "0"})
    assert not RoleGrant.objects.get(pk=advisor_grant.pk).manages_training

    factory_user = user_with_role(Role.FACTORY, kh, factory=FactoryFactory(programme=kh))
    factory_grant = factory_user.grants.get()
    page = client.post(
        people("training", kh, user_id=factory_user.pk, grant_id=factory_grant.pk),
        {"manages_training": "1"},
        follow=True,
    )
    assert "can be training officers" in page.content.decode()
    assert not RoleGrant.objects.get(pk=factory_grant.pk).manages_training


def test_a_training_officer_can_be_invited_as_such(client, kh, kh_manager):
    client.force_login(kh_manager)
    assert invite(client, kh, manages_training="on").status_code == 302
    assert RoleGrant.objects.get(user__email="sokha@example.org").manages_training
