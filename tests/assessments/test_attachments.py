"""Evidence files: only real photos and PDFs, small enough, photos without EXIF or GPS, and
visible only to programme staff."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from assessments.models import Attachment
from betterwork import tenancy
from betterwork.models import Role
from tests.assessments.test_lifecycle import move
from tests.model_factories import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def photo_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x8825] = {1: "N", 2: (11.0, 33.0, 12.0)}  # GPS position
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def upload(client, planned, question, name, content, content_type="image/jpeg"):
    return client.post(
        f"/p/KH/assessments/{planned.pk}/attachments/",
        {"question": question, "file": SimpleUploadedFile(name, content, content_type=content_type)},
    )


@pytest.fixture
def started(kh, team, planned, client):
    move(team["lead"], kh, planned, "in_progress")
    client.force_login(team["lead"])
    with tenancy.scope({kh.pk}):
        return planned.tool_version.questions.get(key="OSH-01").pk


def test_a_photo_is_stored_without_its_exif_and_gps(client, kh, team, planned, started):
    raw = photo_with_gps()
    assert b"PhoneMaker" in raw
    response = upload(client, planned, started, "../../exit 2 <locked>.jpg", raw)
    assert response.status_code == 302 and response.url.endswith(f"#question-{started}")
    with tenancy.scope({kh.pk}):
        attachment = Attachment.objects.get()
        stored = attachment.file.read()
    assert attachment.content_type == "image/jpeg" and attachment.original_name == "exit_2_locked.jpg"
    assert b"PhoneMaker" not in stored and "/" not in attachment.file.name.rsplit("/", 1)[1]
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif()
    downloaded = client.get(f"/p/KH/assessments/{planned.pk}/attachments/{attachment.pk}/")
    assert downloaded.status_code == 200 and b"".join(downloaded.streaming_content) == stored


def test_pdfs_are_accepted_and_anything_else_refused(client, kh, team, planned, started):
    assert (
        upload(client, planned, started, "payroll.pdf", b"%PDF-1.7\n...", "application/pdf").status_code
        == 302
    )
    refused = upload(client, planned, started, "photo.jpg", b"MZ\x90\x00 not really a photo", "image/jpeg")
    assert "Only photos" in client.get(refused.url.split("#")[0]).content.decode()
    huge = upload(
        client, planned, started, "big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "application/pdf"
    )
    assert "at most 10 MB" in client.get(huge.url.split("#")[0]).content.decode()
    with tenancy.scope({kh.pk}):
        assert list(Attachment.objects.values_list("content_type", flat=True)) == ["application/pdf"]


def test_only_assessors_upload_and_only_staff_download(client, kh, vn, kh_factory, team, planned, started):
    upload(client, planned, started, "exit.jpg", photo_with_gps())
    with tenancy.scope({kh.pk}):
        attachment = Attachment.objects.get()
    path = f"/p/KH/assessments/{planned.pk}/attachments/{attachment.pk}/"
    client.force_login(team["leader"])
    assert client.get(path).status_code == 200
    assert upload(client, planned, started, "x.jpg", photo_with_gps()).status_code == 404
    for outsider in (
        user_with_role(Role.FACTORY, kh, factory=kh_factory),
        user_with_role(Role.PROGRAMME_MANAGER, vn),
    ):
        client.force_login(outsider)
        assert client.get(path).status_code == 404


def test_upload_and_list_through_the_api(kh, team, planned, started):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=team['lead'])[0].key}")
    base = f"/api/v1/p/KH/assessments/{planned.pk}/attachments/"
    created = api.post(
        base,
        {"question": started, "file": SimpleUploadedFile("exit.jpg", photo_with_gps())},
        format="multipart",
    )
    assert created.status_code == 201 and created.json()["question"] == "OSH-01"
    bad = api.post(base, {"file": SimpleUploadedFile("x.exe", b"MZ\x90")}, format="multipart")
    assert bad.status_code == 400 and "Only photos" in str(bad.json())
    assert [a["original_name"] for a in api.get(base).json()] == ["exit.jpg"]


def test_a_file_gone_from_storage_is_not_found_rather_than_an_error(client, kh, team, planned, started):
    upload(client, planned, started, "payroll.pdf", b"%PDF-1.7\n...", "application/pdf")
    with tenancy.scope({kh.pk}):
        attachment = Attachment.objects.get()
    attachment.file.storage.delete(attachment.file.name)
    response = client.get(f"/p/KH/assessments/{planned.pk}/attachments/{attachment.pk}/")
    assert response.status_code == 404
