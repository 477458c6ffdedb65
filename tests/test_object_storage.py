"""Files in S3-compatible object storage, against a real server (SeaweedFS, tests/seaweedfs.py):
attachments and report PDFs are written to a private bucket; a download is authorised by the
platform, then served from a presigned URL that lives a minute; nothing reaches local disk.
And local files behind nginx: the platform authorises, nginx sends (X-Accel-Redirect)."""

from __future__ import annotations

import secrets
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from assessments.models import Attachment
from betterwork import tenancy
from betterwork.models import Role
from reporting.models import ReportJob
from tests import seaweedfs
from tests.assessments.test_attachments import photo_with_gps
from tests.assessments.test_lifecycle import move
from tests.model_factories import user_with_role
from tests.reporting.test_reports import render

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def s3_server():
    with seaweedfs.running() as server:
        yield server


@pytest.fixture
def bucket(s3_server, settings, tmp_path):
    """A private bucket of its own for each test, set as the platform's file storage."""
    name = f"betterwork-{secrets.token_hex(4)}"
    client = s3_server.client()
    client.create_bucket(Bucket=name)
    settings.MEDIA_ROOT = tmp_path  # must stay empty
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_server.storage_options(name)},
    }
    yield name
    seaweedfs.empty_bucket(client, name)


def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (the test server's own URL)
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


@pytest.fixture
def evidence(client, kh, team, planned, bucket):
    """A photo uploaded as the lead assessor would, through the form."""
    move(team["lead"], kh, planned, "in_progress")
    client.force_login(team["lead"])
    with tenancy.scope({kh.pk}), transaction.atomic():
        question = planned.tool_version.questions.get(key="OSH-01").pk
    response = client.post(
        f"/p/KH/assessments/{planned.pk}/attachments/",
        {"question": question, "file": SimpleUploadedFile("exit 4.jpg", photo_with_gps(), "image/jpeg")},
    )
    assert response.status_code == 302
    with tenancy.scope({kh.pk}), transaction.atomic():
        return Attachment.objects.get(assessment=planned)


def download_url(planned, attachment) -> str:
    return f"/p/KH/assessments/{planned.pk}/attachments/{attachment.pk}/"


def test_an_attachment_is_written_to_the_private_bucket(s3_server, bucket, evidence, tmp_path):
    client = s3_server.client()
    head = client.head_object(Bucket=bucket, Key=evidence.file.name)
    assert head["ContentLength"] == evidence.size
    assert list(tmp_path.iterdir()) == [], "nothing on the local disk"
    status, body, _ = fetch(f"{s3_server.endpoint}/{bucket}/{evidence.file.name}")
    assert status == 403 and b"AccessDenied" in body, "the bucket answers nobody unsigned"


def test_a_download_is_authorised_then_served_by_a_short_lived_url(
    client, s3_server, bucket, planned, evidence
):
    response = client.get(download_url(planned, evidence))
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    location = response["Location"]
    assert location.startswith(f"{s3_server.endpoint}/{bucket}/{evidence.file.name}?")
    assert parse_qs(urlsplit(location).query)["X-Amz-Expires"] == ["60"]
    status, body, headers = fetch(location)
    stored = s3_server.client().get_object(Bucket=bucket, Key=evidence.file.name)["Body"].read()
    assert status == 200 and body == stored and body.startswith(b"\xff\xd8")
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["Content-Disposition"] == 'inline; filename="exit_4.jpg"'


def test_the_url_stops_working_after_its_time(client, settings, bucket, planned, evidence):
    settings.FILE_URL_SECONDS = 1
    location = client.get(download_url(planned, evidence))["Location"]
    time.sleep(2.5)
    status, body, _ = fetch(location)
    assert status == 403 and b"AccessDenied" in body


def test_the_platform_refuses_before_any_url_is_made(client, kh, vn, kh_factory, bucket, planned, evidence):
    for outsider in (
        user_with_role(Role.PROGRAMME_MANAGER, vn),
        user_with_role(Role.FACTORY, kh, factory=kh_factory),  # evidence is for programme staff
    ):
        client.force_login(outsider)
        response = client.get(download_url(planned, evidence))
        assert response.status_code == 404 and "Location" not in response


def test_an_object_gone_from_the_bucket_is_not_found(client, s3_server, bucket, planned, evidence):
    s3_server.client().delete_object(Bucket=bucket, Key=evidence.file.name)
    assert client.get(download_url(planned, evidence)).status_code == 404


def test_a_report_pdf_is_rendered_into_the_bucket_and_downloaded_from_it(
    client, s3_server, kh, team, final, bucket, tmp_path
):
    with tenancy.scope({kh.pk}), transaction.atomic():
        job = ReportJob.objects.get(language="en")
    assert render(kh, job) == "ready"
    with tenancy.scope({kh.pk}), transaction.atomic():
        job.refresh_from_db()
    assert s3_server.client().head_object(Bucket=bucket, Key=job.file.name)["ContentLength"] > 1000
    client.force_login(team["lead"])
    response = client.get(f"/p/KH/reports/jobs/{job.pk}/download/")
    assert response.status_code == 302
    status, body, headers = fetch(response["Location"])
    assert status == 200 and body.startswith(b"%PDF-")
    assert headers["Content-Disposition"] == 'attachment; filename="KH000018-cycle-1-en.pdf"'
    assert list(tmp_path.iterdir()) == []


def test_local_files_behind_nginx_are_sent_by_nginx(client, settings, kh, team, planned, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.FILE_INTERNAL_REDIRECT_PREFIX = "/_protected/"
    move(team["lead"], kh, planned, "in_progress")
    client.force_login(team["lead"])
    with tenancy.scope({kh.pk}), transaction.atomic():
        question = planned.tool_version.questions.get(key="OSH-01").pk
    client.post(
        f"/p/KH/assessments/{planned.pk}/attachments/",
        {"question": question, "file": SimpleUploadedFile("plan.pdf", b"%PDF-1.4 plan", "application/pdf")},
    )
    with tenancy.scope({kh.pk}), transaction.atomic():
        attachment = Attachment.objects.get(assessment=planned)
    response = client.get(download_url(planned, attachment))
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/_protected/{attachment.file.name}"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="plan.pdf"'
    (tmp_path / attachment.file.name).unlink()
    assert client.get(download_url(planned, attachment)).status_code == 404
