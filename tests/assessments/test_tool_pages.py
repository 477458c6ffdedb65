"""The global team's tool pages: upload a draft, edit its questions, send it to review, and have
another member publish it; everyone else reads published versions only."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from assessments.models import Question, ToolStatus, ToolVersion
from betterwork.models import Role
from tests.model_factories import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def analysts(db):
    return user_with_role(Role.GLOBAL), user_with_role(Role.GLOBAL)


def signed_in(client, user):
    client.logout()  # and the flash messages of whoever was signed in
    client.cookies.clear()
    client.force_login(user)
    return client


def upload(client, data, name="tool.yaml"):
    body = data if isinstance(data, bytes) else yaml.safe_dump(data, allow_unicode=True).encode()
    return client.post("/tool/", {"file": SimpleUploadedFile(name, body)})


def draft_file(version="2027.1", **question):
    return {
        "tool": "global",
        "version": version,
        "effective_from": "2027-01-01",
        "questions": [
            {
                "key": "CL-01",
                "point": "CL.CHILD_LABOURERS",
                "noncompliant_answer": "yes",
                "flags": ["zero_tolerance"],
                "text": {"en": "Are any workers under age?", "ar": "هل يوجد عمال دون السن؟"},
                **question,
            },
            {
                "key": "FL-01",
                "point": "OSH.EMERGENCY",
                "noncompliant_answer": "yes",
                "flags": [],
                "text": {"en": "Are fire exits blocked?"},
            },
        ],
    }


def test_a_draft_goes_from_upload_to_review_to_publication_by_a_second_analyst(client, tool, analysts):
    first, second = analysts
    response = upload(signed_in(client, first), draft_file())
    draft = ToolVersion.objects.get(tool="global", version="2027.1")
    assert response.status_code == 302 and response["Location"] == f"/tool/{draft.pk}/"
    assert draft.status == ToolStatus.DRAFT

    page = client.get(f"/tool/{draft.pk}/").content.decode()
    assert "Against global 2026.1: 1 added, 2 removed, 1 changed." in page
    assert "FL-01" in page and "Send to review" in page

    question = Question.objects.get(version=draft, key="CL-01")
    edit = client.post(
        f"/tool/{draft.pk}/questions/{question.pk}/",
        {
            "text_en": "Is any worker younger than 15?",
            "text_ar": "هل يوجد عامل دون 15؟",
            "flags": ["zero_tolerance"],
        },
    )
    assert edit.status_code == 302
    question.refresh_from_db()
    assert question.text == {"en": "Is any worker younger than 15?", "ar": "هل يوجد عامل دون 15؟"}
    before_hash = draft.content_sha256
    draft.refresh_from_db()
    assert draft.content_sha256 != before_hash  # the draft's content fingerprint follows the edit

    assert client.post(f"/tool/{draft.pk}/submit/").status_code == 302
    draft.refresh_from_db()
    assert draft.status == ToolStatus.REVIEW and draft.submitted_by == first

    # Four eyes: who sent it may not publish it, by the page or by a forged post.
    page = client.get(f"/tool/{draft.pk}/").content.decode()
    assert ">Publish<" not in page
    refused = client.post(f"/tool/{draft.pk}/publish/")
    assert refused.status_code == 422
    assert "Another member of the global team publishes" in refused.content.decode()
    draft.refresh_from_db()
    assert draft.status == ToolStatus.REVIEW

    signed_in(client, second)
    assert ">Publish<" in client.get(f"/tool/{draft.pk}/").content.decode()
    assert client.post(f"/tool/{draft.pk}/publish/").status_code == 302
    draft.refresh_from_db()
    tool.refresh_from_db()
    assert draft.status == ToolStatus.PUBLISHED and draft.published_by == second
    assert tool.effective_to == dt.date(2026, 12, 31)  # the previous version ends the day before

    # Published: no more edits, by page or post.
    assert client.get(f"/tool/{draft.pk}/questions/{question.pk}/").status_code == 404
    assert client.post(f"/tool/{draft.pk}/submit/").status_code == 422


def test_returning_to_draft_needs_a_note_and_the_note_is_shown(client, tool, analysts):
    first, second = analysts
    upload(signed_in(client, first), draft_file())
    draft = ToolVersion.objects.get(version="2027.1")
    client.post(f"/tool/{draft.pk}/submit/")
    signed_in(client, second)
    empty = client.post(f"/tool/{draft.pk}/return/", {"note": "  "})
    assert empty.status_code == 422 and "This field is required." in empty.content.decode()
    assert (
        client.post(f"/tool/{draft.pk}/return/", {"note": "Add the Arabic text of FL-01."}).status_code == 302
    )
    draft.refresh_from_db()
    assert draft.status == ToolStatus.DRAFT and draft.review_note == "Add the Arabic text of FL-01."
    assert "Add the Arabic text of FL-01." in client.get(f"/tool/{draft.pk}/").content.decode()


def test_uploading_new_content_for_a_version_in_review_sends_it_back_to_draft(client, tool, analysts):
    first, _ = analysts
    upload(signed_in(client, first), draft_file())
    draft = ToolVersion.objects.get(version="2027.1")
    client.post(f"/tool/{draft.pk}/submit/")
    upload(client, draft_file(legal_reference="ILO C138"))
    draft.refresh_from_db()
    assert draft.status == ToolStatus.DRAFT and draft.submitted_by is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"tool: [unclosed", "This is not a YAML or JSON file"),
        (b"\xff\xfe\x00", "This is not a YAML or JSON file"),
        (b"- just\n- a list\n", "The file holds no tool version"),
        (yaml.safe_dump(draft_file(text={"ar": "بلا إنجليزية"})).encode(), "needs its English text"),
        (yaml.safe_dump(draft_file(point="NOPE")).encode(), "unknown compliance point"),
        (
            b'{"tool": "global", "version": "x", "effective_from": "soon", "questions": ["q"]}',
            "must be a date",
        ),
        (yaml.safe_dump({**draft_file(), "version": "2026.1"}).encode(), "is published and cannot change"),
    ],
)
def test_a_bad_file_is_refused_with_its_reason_and_changes_nothing(client, tool, analysts, body, message):
    response = upload(signed_in(client, analysts[0]), body)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert list(ToolVersion.objects.values_list("version", flat=True)) == ["2026.1"]
    assert Question.objects.filter(version=tool).count() == 3


def test_a_json_file_uploads_too(client, tool, analysts):
    import json

    response = upload(signed_in(client, analysts[0]), json.dumps(draft_file()).encode(), name="tool.json")
    assert response.status_code == 302
    assert ToolVersion.objects.get(version="2027.1").questions.count() == 2


def test_starting_the_next_version_copies_the_published_one(client, tool, analysts):
    signed_in(client, analysts[0])
    taken = client.post(f"/tool/{tool.pk}/copy/", {"version": "2026.1", "effective_from": "2027-01-01"})
    assert taken.status_code == 422 and "already has a version 2026.1" in taken.content.decode()
    response = client.post(f"/tool/{tool.pk}/copy/", {"version": "2027.1", "effective_from": "2027-01-01"})
    draft = ToolVersion.objects.get(version="2027.1")
    assert response.status_code == 302 and draft.status == ToolStatus.DRAFT
    assert list(draft.questions.values_list("key", flat=True)) == ["CL-01", "OSH-01", "WT-01"]
    assert "The same questions as global 2026.1." in client.get(f"/tool/{draft.pk}/").content.decode()


def test_a_version_starting_before_the_published_one_is_not_published(client, tool, analysts):
    first, second = analysts
    upload(signed_in(client, first), {**draft_file(), "effective_from": "2019-06-01"})
    draft = ToolVersion.objects.get(version="2027.1")
    client.post(f"/tool/{draft.pk}/submit/")
    refused = signed_in(client, second).post(f"/tool/{draft.pk}/publish/")
    assert refused.status_code == 422 and "must start after it" in refused.content.decode()


@pytest.mark.parametrize("role", [Role.ADVISOR, Role.PROGRAMME_MANAGER, Role.TEAM_LEADER])
def test_programme_staff_read_published_versions_but_never_drafts_nor_change_anything(
    client, kh, tool, analysts, role
):
    upload(signed_in(client, analysts[0]), draft_file())
    draft = ToolVersion.objects.get(version="2027.1")
    question = draft.questions.first()
    signed_in(client, user_with_role(role, kh))
    listing = client.get("/tool/").content.decode()
    assert "2026.1" in listing and "2027.1" not in listing and "Upload a draft" not in listing
    assert client.get(f"/tool/{tool.pk}/").status_code == 200
    assert client.get(f"/tool/{tool.pk}/export/").status_code == 200
    assert client.get(f"/tool/{draft.pk}/").status_code == 404
    assert client.get(f"/tool/{draft.pk}/export/").status_code == 404
    assert upload(client, draft_file(version="2028.1")).status_code == 404
    assert client.post(f"/tool/{draft.pk}/submit/").status_code == 404
    assert (
        client.post(f"/tool/{tool.pk}/copy/", {"version": "9", "effective_from": "2030-01-01"}).status_code
        == 404
    )
    assert client.post(f"/tool/{draft.pk}/questions/{question.pk}/", {"text_en": "x"}).status_code == 404
    assert not ToolVersion.objects.filter(version__in=["2028.1", "9"]).exists()


def test_the_export_loads_back_as_the_same_version(client, tool, analysts):
    signed_in(client, analysts[0])
    exported = client.get(f"/tool/{tool.pk}/export/")
    assert exported["Content-Disposition"] == 'attachment; filename="global-2026.1.yaml"'
    response = upload(client, exported.content)
    assert response.status_code == 302
    assert "already holds exactly these questions" in client.get(response["Location"]).content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(client, tool):
    assert client.get("/tool/").status_code == 302
    assert client.get(f"/tool/{tool.pk}/").status_code == 302
