"""Interview notes: written by the assessment's assessors until the report is final, read only by
them and the programme's team leaders and managers (a 404 for everyone else), every reading and
change on the audit trail, which never holds what was said or who said it."""

# The buyers' fixtures are imported from test_access and then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import Client

from assessments import interviews
from assessments.models import Assessment, InterviewNote
from betterwork import tenancy
from betterwork.models import AuditEvent, Role
from tests.assessments.test_lifecycle import answer_all, move
from tests.buyers.test_access import brand, buyer_user, consent, subscribe  # noqa: F401
from tests.conftest import act, signs_in
from tests.model_factories import user_with_role

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"
WHO = "Sokha Meas and two sewing operators, line 4"
SAID = "Sokha Meas says overtime is compulsory before each shipment."


def signed_in(user) -> Client:
    client = Client()
    assert signs_in(client, user.email, PASSWORD)
    return client


def data(kh, **changes):
    return {
        "kind": "worker_interview",
        "held_on": kh.today().isoformat(),
        "interviewees": WHO,
        "notes": SAID,
        **changes,
    }


def add(user, kh, assessment, **changes):
    values = data(kh, **changes)
    values["held_on"] = dt.date.fromisoformat(values["held_on"])
    return act(user, kh, interviews.interview_note_add, assessment=assessment, data=values)


def url(assessment, tail=""):
    return f"/p/KH/assessments/{assessment.pk}/interviews/{tail}"


def events(kh, prefix=""):
    with tenancy.scope({kh.pk}):
        return list(AuditEvent.objects.filter(action__startswith=prefix).order_by("pk"))


def finalise(kh, team, assessment):
    answer_all(team["lead"], kh, assessment, value="NC")
    move(team["lead"], kh, assessment, "submitted")
    move(team["leader"], kh, assessment, "in_review")
    move(team["leader"], kh, assessment, "factory_review")
    with tenancy.scope({kh.pk}), transaction.atomic():
        Assessment.objects.filter(pk=assessment.pk).update(factory_review_until=dt.date(2026, 1, 1))
    return move(team["leader"], kh, assessment, "final")


@pytest.fixture
def in_progress(kh, team, planned):
    return move(team["lead"], kh, planned, "in_progress")


def test_an_assessor_records_edits_and_deletes_notes_through_the_pages(kh, team, in_progress):
    client = signed_in(team["lead"])
    overview = client.get(f"/p/KH/assessments/{in_progress.pk}/").content.decode()
    assert url(in_progress) in overview
    empty = client.get(url(in_progress))
    assert empty.status_code == 200 and "No interview recorded yet." in empty.content.decode()
    assert not events(kh, "personal_data.view")  # nothing shown, nothing read

    assert client.post(url(in_progress), data(kh)).status_code == 302
    page = client.get(url(in_progress)).content.decode()
    assert WHO in page and SAID in page and "Confidential" in page
    with tenancy.scope({kh.pk}):
        note = InterviewNote.objects.get()
    assert note.author == team["lead"] and note.kind == "worker_interview"

    edit = client.get(url(in_progress, f"{note.pk}/"))
    assert edit.status_code == 200 and SAID in edit.content.decode()
    changed = client.post(url(in_progress, f"{note.pk}/"), data(kh, notes="Overtime is voluntary now."))
    assert changed.status_code == 302
    with tenancy.scope({kh.pk}):
        assert InterviewNote.objects.get().notes == "Overtime is voluntary now."
    assert client.get(url(in_progress, f"{note.pk}/delete/")).status_code == 405
    assert client.post(url(in_progress, f"{note.pk}/delete/")).status_code == 302
    with tenancy.scope({kh.pk}):
        assert not InterviewNote.objects.exists()

    trail = events(kh)
    assert [e.action for e in trail if e.action.startswith(("interview_note", "personal_data"))] == [
        "interview_note.add",
        "personal_data.view",  # the list with the new note
        "personal_data.view",  # the edit page
        "interview_note.update",
        "interview_note.delete",
    ]
    update = next(e for e in trail if e.action == "interview_note.update")
    assert update.before == {"notes": {"characters": len(SAID)}}
    assert update.after == {"notes": {"characters": len("Overtime is voluntary now.")}}
    # The trail is kept for good: what people said, and who said it, never enters it.
    written = json.dumps([[e.object_repr, e.before, e.after, e.reason] for e in trail])
    assert "Sokha" not in written and "overtime" not in written.lower()


def test_the_form_says_why_a_note_is_refused(kh, team, in_progress):
    client = signed_in(team["lead"])
    empty = client.post(url(in_progress), data(kh, notes="  ", kind="gossip"))
    body = empty.content.decode()
    assert empty.status_code == 422 and "This field is required." in body and "Select a valid choice" in body
    tomorrow = (kh.today() + dt.timedelta(days=1)).isoformat()
    future = client.post(url(in_progress), data(kh, held_on=tomorrow))
    assert (
        future.status_code == 422 and "Record an interview once it has been held." in future.content.decode()
    )
    with tenancy.scope({kh.pk}):
        assert not InterviewNote.objects.exists()


def test_reading_is_audited_with_who_which_assessment_and_how_many(kh, team, in_progress):
    add(team["lead"], kh, in_progress)
    add(team["second"], kh, in_progress, kind="management_interview", interviewees="HR manager")
    assert signed_in(team["manager"]).get(url(in_progress)).status_code == 200
    [viewed] = events(kh, "personal_data.view")
    assert viewed.actor == team["manager"] and viewed.object_type == "assessments.assessment"
    assert viewed.object_id == str(in_progress.pk) and viewed.after["interview_notes"] == 2


def test_only_the_assessors_team_leaders_and_managers_read_notes_and_others_get_a_404(
    kh, vn, kh_factory, team, in_progress, brand, buyer_user
):
    note = add(team["lead"], kh, in_progress)
    published = move(team["manager"], kh, finalise(kh, team, in_progress), "published")
    factory_user = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    subscribe(kh, team, buyer_user, brand, kh_factory)
    consent(kh, factory_user, brand, kh_factory)  # the buyer reads the published report itself

    for reader in (team["lead"], team["second"], team["leader"], team["manager"]):
        page = signed_in(reader).get(url(published))
        assert page.status_code == 200 and SAID in page.content.decode()
        assert "can change only until the report is final" in page.content.decode()
    refused = [
        user_with_role(Role.ADVISOR, kh),  # staff, but not this assessment's assessor
        user_with_role(Role.ADVISOR, kh, manages_training=True),
        factory_user,  # reads the published report, never the notes behind it
        user_with_role(Role.GLOBAL, None),
        user_with_role(Role.PROGRAMME_MANAGER, vn),
        buyer_user,
    ]
    for user in refused:
        client = signed_in(user)
        assert b"interviews/" not in client.get(f"/p/KH/assessments/{published.pk}/").content
        for address in (url(published), url(published, f"{note.pk}/")):
            assert client.get(address).status_code == 404, (user, address)
        assert client.post(url(published), data(kh)).status_code == 404
        assert client.post(url(published, f"{note.pk}/delete/")).status_code == 404
    assert Client().get(url(published)).status_code == 302  # to the sign-in page
    assert [e.actor for e in events(kh, "personal_data.view")] == [
        team["lead"],
        team["second"],
        team["leader"],
        team["manager"],
    ]


def test_notes_change_only_while_the_report_is_not_final_and_only_by_its_assessors(kh, team, in_progress):
    note = add(team["lead"], kh, in_progress)
    for reviewer in (team["leader"], team["manager"]):  # they read the notes, never write them
        with pytest.raises(PermissionDenied):
            add(reviewer, kh, in_progress)
        assert signed_in(reviewer).post(url(in_progress), data(kh)).status_code == 404
        assert signed_in(reviewer).get(url(in_progress, f"{note.pk}/")).status_code == 404
    final = finalise(kh, team, in_progress)
    with pytest.raises(ValidationError, match="only until the report is final"):
        add(team["lead"], kh, final)
    with pytest.raises(ValidationError, match="only until the report is final"):
        act(team["lead"], kh, interviews.interview_note_delete, note=note)
    client = signed_in(team["lead"])
    assert client.get(url(final, f"{note.pk}/")).status_code == 404  # nothing left to edit
    assert client.post(url(final, f"{note.pk}/delete/"), follow=True).status_code == 200
    with tenancy.scope({kh.pk}):
        assert InterviewNote.objects.filter(pk=note.pk).exists()
