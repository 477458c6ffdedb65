"""The buyers' API: the portal's list and a factory's readable reports with download URLs (each
download checked again), the same denials as the pages, throttled, in a schema without warnings."""

# The buyers' fixtures are imported from test_access and then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from betterwork import tenancy
from betterwork.models import Role
from buyers.models import Buyer
from reporting import services as report_services
from tests.buyers.test_access import brand, buyer_user, consent, hr, published, subscribe  # noqa: F401
from tests.model_factories import user_with_role

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def pdf_job(kh, published, settings, tmp_path):
    """The published report's English PDF, stored and ready."""
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "kh.pdf").write_bytes(b"%PDF-1.7 test")
    with tenancy.scope({kh.pk}), transaction.atomic():
        job, _ = report_services.report_request(
            actor=None, kind_name="assessment", target_id=published.pk, language="en"
        )
    with tenancy.scope({kh.pk}):
        return report_services.job_finish(job_id=job.pk, name="reports/kh.pdf", sha256="a" * 64, pages=1)


def test_the_list_and_the_reports_follow_consent(kh, team, published, brand, buyer_user, hr, pdf_job):
    factory = published.factory
    client = api(buyer_user)
    assert client.get("/api/v1/buyer/factories/").json() == []
    subscribe(kh, team, buyer_user, brand, factory)
    [row] = client.get("/api/v1/buyer/factories/").json()
    assert row["name"] == "Angkor Garments" and row["country"] == "Cambodia" and row["programme"] == "KH"
    assert row["consent"] == "awaiting" and row["clusters"] == [] and row["latest_cycle"] is None
    assert row["status"] == "awaiting_consent"
    reports = client.get(f"/api/v1/buyer/factories/{factory.pk}/reports/").json()
    assert reports["reports"] == [] and reports["factory"]["consent"] == "awaiting"

    consent(kh, hr, brand, factory)
    [row] = client.get("/api/v1/buyer/factories/").json()
    assert row["consent"] == "granted" and row["latest_cycle"] == 1 and row["new_reports"] == 1
    assert {c["code"] for c in row["clusters"]} >= {"OSH"}
    assert row["status"] == "shared"
    assert client.get("/api/v1/buyer/factories/?status=awaiting_consent").json() == []
    failing = [c["code"] for c in row["clusters"] if c["points_non_compliant"]]
    assert failing and len(client.get(f"/api/v1/buyer/factories/?cluster={failing[0]}").json()) == 1
    assert client.get("/api/v1/buyer/factories/?cluster=NO-SUCH").json() == []
    body = client.get(f"/api/v1/buyer/factories/{factory.pk}/reports/").json()
    [report] = body["reports"]
    [job] = report["jobs"]
    assert report["kind"] == "assessment" and report["target"] == published.pk and job["id"] == pdf_job.pk
    assert job["download"].endswith(f"/api/v1/p/KH/reports/{pdf_job.pk}/download/")
    download = client.get(job["download"])
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")

    consent(kh, hr, brand, factory, granted=False)
    assert client.get(job["download"]).status_code == 404
    assert client.get(f"/api/v1/buyer/factories/{factory.pk}/reports/").json()["reports"] == []


def test_denials(kh, vn, team, published, brand, buyer_user, hr, vn_factory, pdf_job):
    factory = published.factory
    subscribe(kh, team, buyer_user, brand, factory)
    consent(kh, hr, brand, factory)
    rival = api(user_with_role(Role.BUYER, None, buyer=Buyer.objects.create(name="Southwind")))
    assert rival.get("/api/v1/buyer/factories/").json() == []
    assert rival.get(f"/api/v1/buyer/factories/{factory.pk}/reports/").status_code == 404
    assert rival.get(f"/api/v1/p/KH/reports/{pdf_job.pk}/download/").status_code == 404
    client = api(buyer_user)
    assert client.get(f"/api/v1/buyer/factories/{vn_factory.pk}/reports/").status_code == 404
    assert client.get(f"/api/v1/p/VN/reports/{pdf_job.pk}/download/").status_code == 404
    assert api(team["manager"]).get("/api/v1/buyer/factories/").status_code == 404
    assert APIClient().get("/api/v1/buyer/factories/").status_code in (401, 403)


def test_the_buyer_api_is_throttled(kh, buyer_user, monkeypatch):
    from django.core.cache import cache

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"buyer": "2/min"})
    client = api(buyer_user)
    cache.delete(f"throttle_buyer_{buyer_user.pk}")
    codes = [client.get("/api/v1/buyer/factories/").status_code for _ in range(3)]
    cache.delete(f"throttle_buyer_{buyer_user.pk}")
    assert codes == [200, 200, 429]


def test_the_schema_validates_with_the_buyer_endpoints():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "/api/v1/buyer/factories/" in out.getvalue()
