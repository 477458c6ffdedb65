"""Zero-tolerance findings open a case at once and alert the programme's managers."""

from __future__ import annotations

import pytest
from django.core import mail

from assessments import lifecycle
from assessments.models import Case
from betterwork import tenancy
from betterwork.models import AuditEvent, Notification, Role
from tests.assessments.test_lifecycle import move
from tests.conftest import act
from tests.model_factories import user_with_role

pytestmark = pytest.mark.django_db


def child_labour_found(kh, team, planned, version=0, finding="Two workers aged 14 on the packing line."):
    with tenancy.scope({kh.pk}):
        question = planned.tool_version.questions.get(key="CL-01").pk
    return act(
        team["lead"],
        kh,
        lifecycle.answers_save,
        assessment=planned,
        changes=[{"question": question, "value": "NC", "finding": finding, "version": version}],
    )


def test_a_zero_tolerance_finding_opens_one_case_and_alerts_managers(
    kh, team, planned, django_capture_on_commit_callbacks
):
    move(team["lead"], kh, planned, "in_progress")
    with django_capture_on_commit_callbacks(execute=True):
        child_labour_found(kh, team, planned)
    with tenancy.scope({kh.pk}):
        case = Case.objects.get()
        notes = list(Notification.objects.values_list("recipient__email", flat=True))
        assert AuditEvent.objects.filter(action="case.open").exists()
    assert case.status == "open" and "aged 14" in case.finding
    assert notes == [team["manager"].email]
    assert len(mail.outbox) == 1 and "Zero-tolerance finding" in mail.outbox[0].subject
    assert f"/p/KH/assessments/cases/{case.pk}/" in mail.outbox[0].body
    child_labour_found(kh, team, planned, version=1, finding="Confirmed by records.")
    with tenancy.scope({kh.pk}):
        assert Case.objects.count() == 1, "a second save of the same finding opens no second case"


def test_the_case_is_investigated_decided_and_closed(client, kh, team, planned):
    move(team["lead"], kh, planned, "in_progress")
    child_labour_found(kh, team, planned)
    with tenancy.scope({kh.pk}):
        case = Case.objects.get()
    page = f"/p/KH/assessments/cases/{case.pk}/"
    client.force_login(team["manager"])
    assert b"CL-01" in client.get("/p/KH/assessments/cases/").content
    client.post(page, {"action": "note", "text": "Met both workers with their guardians."})
    client.post(page, {"action": "status", "status": "confirmed"})
    refused = client.post(page, {"action": "status", "status": "closed", "remediation": ""})
    assert "Record the remediation steps" in refused.content.decode()
    client.post(
        page,
        {
            "action": "status",
            "status": "closed",
            "remediation": "Removed from work with pay, enrolled in school, age checks added.",
        },
    )
    with tenancy.scope({kh.pk}):
        case.refresh_from_db()
        assert case.status == "closed" and case.closed_at and case.notes.count() == 1
        assert AuditEvent.objects.filter(action="case.status").count() == 2


def test_cases_stay_with_managers_and_team_leaders_of_the_programme(
    client, kh, vn, kh_factory, team, planned
):
    move(team["lead"], kh, planned, "in_progress")
    child_labour_found(kh, team, planned)
    with tenancy.scope({kh.pk}):
        case = Case.objects.get()
    for user in (
        team["lead"],
        user_with_role(Role.FACTORY, kh, factory=kh_factory),
        user_with_role(Role.PROGRAMME_MANAGER, vn),
    ):
        client.force_login(user)
        assert client.get(f"/p/KH/assessments/cases/{case.pk}/").status_code == 404
        assert client.get("/p/KH/assessments/cases/").status_code == 404
    client.force_login(team["leader"])
    assert client.get(f"/p/KH/assessments/cases/{case.pk}/").status_code == 200


def test_the_inbox_shows_a_users_own_notifications_and_marks_them_read(client, kh, team, planned):
    move(team["lead"], kh, planned, "in_progress")
    child_labour_found(kh, team, planned)
    client.force_login(team["manager"])
    page = client.get("/inbox/").content.decode()
    assert "Zero-tolerance finding" in page and ">New<" in page
    client.post("/inbox/read/")
    assert ">New<" not in client.get("/inbox/").content.decode()
    client.force_login(team["leader"])
    assert "Zero-tolerance finding" not in client.get("/inbox/").content.decode()
