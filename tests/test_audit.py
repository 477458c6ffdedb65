"""The audit trail as programme managers use it: refusals are on it, it can be searched by who,
what, which object, words and days, and nobody can change it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from assessments import lifecycle
from assessments.models import Attachment
from betterwork import tenancy
from betterwork.audit import REFUSED
from betterwork.models import AuditEvent, Role
from betterwork.permissions import Principal
from factories import services as factory_services
from tests.model_factories import FactoryFactory, user_with_role

pytestmark = pytest.mark.django_db


def trail(programme, **search):
    with tenancy.scope({programme.pk}):
        return list(AuditEvent.objects.filter(programme=programme, **search).order_by("at", "id"))


def audit_page(client, programme, **query):
    return client.get(reverse("people:audit", kwargs={"programme_code": programme.code}), query)


def test_a_refused_address_is_on_the_trail_of_the_programme_asked_for(client, kh, kh_factory, kh_advisor):
    client.force_login(kh_advisor)
    address = reverse("people:list", kwargs={"programme_code": kh.code})  # managers only
    assert client.get(address).status_code == 404
    [event] = trail(kh, action=REFUSED)
    assert (event.actor, event.object_repr, event.object_id) == (kh_advisor, f"GET {address}", "404")


def test_trying_another_programme_is_on_the_trail_of_ones_own(client, kh, vn, kh_factory, vn_manager):
    client.force_login(vn_manager)
    address = reverse("factories:detail", kwargs={"programme_code": kh.code, "pk": kh_factory.pk})
    assert client.get(address).status_code == 404
    assert [e.object_repr for e in trail(vn, action=REFUSED)] == [f"GET {address}"]
    assert trail(kh, action=REFUSED) == [], "the other programme's trail is not written by outsiders"


def test_a_refused_api_call_is_on_the_trail(client, kh, vn, kh_factory, vn_manager):
    client.force_login(vn_manager)
    address = f"/api/v1/p/VN/factories/{kh_factory.pk}/"
    assert client.patch(address, {"name": "X"}, content_type="application/json").status_code == 404
    assert [e.object_repr for e in trail(vn, action=REFUSED)] == [f"PATCH {address}"]


def test_what_people_may_do_and_visitors_leave_no_refusal(client, kh, kh_manager):
    client.get("/p/KH/factories/")  # not signed in: sent to sign in
    client.force_login(kh_manager)
    assert client.get("/p/KH/factories/").status_code == 200
    assert trail(kh, action=REFUSED) == []


@pytest.fixture
def events(kh, kh_manager, kh_advisor, tool):
    """A factory renamed by the manager two days ago, and a plan of the advisor's today."""
    factory = FactoryFactory(programme=kh, name="Angkor Garments")
    leader = user_with_role(Role.TEAM_LEADER, kh)
    with tenancy.scope({kh.pk}), transaction.atomic():
        factory_services.factory_update(
            actor=Principal.for_user(kh_manager), factory=factory, data={"name": "Angkor Garments II"}
        )
        # The trail is append-only: an older entry can only be written as old.
        AuditEvent.objects.create(
            programme=kh,
            at=timezone.now() - dt.timedelta(days=2),
            actor=kh_manager,
            action="factory.status",
            object_type="factories.factory",
            object_id=str(factory.pk),
            object_repr=str(factory),
            after={"enrolment_status": "active"},
        )
        lifecycle.assessment_plan(
            actor=Principal.for_user(leader),
            factory=factory,
            planned_date=kh.today() + dt.timedelta(days=9),
            assessors=[kh_advisor, user_with_role(Role.ADVISOR, kh)],
        )
    return factory


def shown(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_managers_search_the_trail_by_who_what_object_words_and_days(client, kh, kh_manager, events):
    client.force_login(kh_manager)
    by_name = shown(audit_page(client, kh, who=kh_manager.full_name.split()[0]))
    assert "factory.update" in by_name and "assessment.plan" not in by_name
    by_mail = shown(audit_page(client, kh, who=kh_manager.email))
    assert "factory.update" in by_mail
    assert "factory.update" not in shown(audit_page(client, kh, action="assessment"))
    by_object = shown(audit_page(client, kh, object_type="factory", object_id=str(events.pk)))
    assert "factory.update" in by_object and "assessment.plan" not in by_object
    by_words = shown(audit_page(client, kh, text="Garments II"))  # in the values after
    assert "factory.update" in by_words and "assessment.plan" not in by_words
    today = kh.today()
    recent = shown(audit_page(client, kh, since=today.isoformat()))
    assert "assessment.plan" in recent and "factory.status" not in recent
    older = shown(audit_page(client, kh, until=(today - dt.timedelta(days=1)).isoformat()))
    assert "factory.status" in older and "assessment.plan" not in older
    assert "Nothing on the trail matches" in shown(audit_page(client, kh, text="no such words"))


def test_a_search_with_bad_dates_says_so(client, kh, kh_manager, events):
    client.force_login(kh_manager)
    body = shown(audit_page(client, kh, since="2026-05-02", until="2026-05-01"))
    assert "The end date is before the start date." in body
    assert "Enter a valid date." in shown(audit_page(client, kh, since="yesterday"))


def test_only_managers_read_the_trail(client, kh, vn, kh_advisor, vn_manager):
    for user in (kh_advisor, vn_manager):
        client.force_login(user)
        assert audit_page(client, kh).status_code == 404


def test_nobody_changes_or_removes_the_trail(kh, events):
    """The application's database role may add to the trail and read it, nothing else."""
    for statement in ("UPDATE betterwork_auditevent SET action = 'x'", "DELETE FROM betterwork_auditevent"):
        changed = 0
        try:
            with tenancy.scope({kh.pk}), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
                changed = cursor.rowcount
        except DatabaseError:
            pass  # refused outright: as good as touching no row
        assert changed == 0, statement
    assert trail(kh, action="factory.update")[0].after == {"name": "Angkor Garments II"}


def test_downloading_evidence_is_on_the_trail(client, kh, team, planned, settings, tmp_path):
    """Photos of the workplace may show workers: who downloaded which one is kept."""
    settings.MEDIA_ROOT = tmp_path
    lead = team["lead"]
    with tenancy.scope({kh.pk}), transaction.atomic():
        question = planned.tool_version.questions.order_by("pk").first()
        attachment = Attachment.objects.create(
            programme=kh,
            assessment=planned,
            question=question,
            file=default_storage.save("evidence/exit.pdf", ContentFile(b"%PDF-1.4\n")),
            original_name="exit.pdf",
            content_type="application/pdf",
            size=9,
            uploaded_by=lead,
        )
    client.force_login(lead)
    address = reverse(
        "assessments:attachment",
        kwargs={"programme_code": kh.code, "pk": planned.pk, "attachment_id": attachment.pk},
    )
    response = client.get(address)
    assert response.status_code == 200
    b"".join(response.streaming_content)
    [event] = trail(kh, action="attachment.download")
    assert (event.actor, event.object_id) == (lead, str(attachment.pk))


def test_a_refusal_of_someone_of_no_programme_is_written_too(client, kh, kh_factory):
    """A buyer's refusal goes on the trail of no programme (read by database administrators)."""
    from buyers.models import Buyer

    buyer = user_with_role(Role.BUYER, None, buyer=Buyer.objects.create(name="Southwind"))
    client.force_login(buyer)
    assert client.get(f"/buyer/factories/{kh_factory.pk}/").status_code == 404
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM betterwork_auditevent WHERE programme_id IS NULL")
        # Row-level security lets the application write such rows but never read them.
        assert cursor.fetchone() == (0,)
    assert trail(kh, action=REFUSED) == []


def test_an_address_the_platform_does_not_have_is_no_refusal(client, kh, kh_advisor):
    client.force_login(kh_advisor)
    assert client.get("/favicon.ico").status_code == 404
    assert client.get("/p/KH/no-such-page/").status_code == 404
    assert trail(kh, action=REFUSED) == []
