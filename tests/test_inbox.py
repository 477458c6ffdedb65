"""The inbox shows the signed-in user's own notifications, from the programmes they work in
now, and marking them read touches nobody else's."""

from __future__ import annotations

import pytest
from django.db import transaction

from betterwork import tenancy
from betterwork.models import Notification, Role, RoleGrant
from tests.model_factories import grant, user_with_role

pytestmark = pytest.mark.django_db


def tell(user, programme, subject):
    with tenancy.scope({programme.pk}), transaction.atomic():
        Notification.objects.create(
            programme=programme, recipient=user, subject=subject, body=subject, link=""
        )


def test_each_user_reads_their_own_and_only_from_programmes_they_still_work_in(client, kh, vn):
    both = user_with_role(Role.ADVISOR, kh)
    grant(both, Role.ADVISOR, vn)
    colleague = user_with_role(Role.PROGRAMME_MANAGER, kh)
    tell(both, kh, "Cambodian news for you")
    tell(both, vn, "Vietnamese news for you")
    tell(colleague, kh, "For the manager only")

    client.force_login(both)
    page = client.get("/inbox/").content.decode()
    assert "Cambodian news for you" in page and "Vietnamese news for you" in page
    assert "For the manager only" not in page

    client.post("/inbox/read/")
    with tenancy.scope({kh.pk}):
        assert Notification.objects.get(subject="For the manager only").read_at is None
        assert Notification.objects.get(subject="Cambodian news for you").read_at is not None

    RoleGrant.objects.filter(user=both, programme=vn).delete()
    page = client.get("/inbox/").content.decode()
    assert "Cambodian news for you" in page and "Vietnamese news for you" not in page


def test_signed_out_visitors_have_no_inbox(client):
    assert client.get("/inbox/").status_code == 302
    assert client.post("/inbox/read/").status_code == 302
