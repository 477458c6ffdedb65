"""Report jobs: one per input, rendered once however often asked or sent, readable only by those
entitled, downloaded as stored and logged."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.db import transaction
from pypdf import PdfReader

from betterwork import tenancy
from betterwork.models import AuditEvent, Role
from betterwork.permissions import Principal
from betterwork.tasks import SCOPE_KWARG
from reporting import rendering, services
from reporting.models import JobStatus, ReportJob
from reporting.tasks import render_report
from tests.model_factories import BuyerFactory, FactoryFactory, user_with_role
from tests.reporting.conftest import report_files

pytestmark = pytest.mark.django_db


def jobs(programme):
    with tenancy.scope({programme.pk}):
        return list(ReportJob.objects.order_by("language"))


def render(programme, job):
    return render_report.apply(args=[job.pk], kwargs={SCOPE_KWARG: [programme.pk]}).get()


def test_finalising_queues_the_report_in_english_and_the_programmes_languages(kh, final):
    assert [(j.kind, j.language, j.status) for j in jobs(kh)] == [
        ("assessment", "en", "queued"),
        ("assessment", "km", "queued"),
    ]


def test_a_job_renders_once_and_its_file_matches_its_sha256(kh, final, media):
    job = next(j for j in jobs(kh) if j.language == "en")
    assert render(kh, job) == "ready"
    assert render(kh, job) == "nothing to do"  # a duplicate message changes nothing
    [job] = [j for j in jobs(kh) if j.language == "en"]
    [stored] = report_files(media)
    content = stored.read_bytes()
    assert job.status == JobStatus.READY and job.attempts == 1 and job.pages >= 3
    assert job.sha256 == hashlib.sha256(content).hexdigest()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    for expected in (
        "Assessment report",
        "Angkor Garments",
        "KH000018",
        "Confidentiality",
        "Seen on the floor.",
    ):
        assert expected in text
    assert "Page 1 of" in text and "Report KH000018-C1-" in text


def test_asking_again_for_the_same_input_returns_the_same_job(kh, team, final):
    actor = Principal.for_user(team["leader"])
    with tenancy.scope({kh.pk}), transaction.atomic():
        again, sent = services.report_request(
            actor=actor, kind_name="assessment", target_id=final.pk, language="en"
        )
    assert not sent and len(jobs(kh)) == 2
    assert again.pk == next(j.pk for j in jobs(kh) if j.language == "en")


def test_a_failed_job_says_why_and_can_be_sent_again(kh, team, final, monkeypatch):
    job = next(j for j in jobs(kh) if j.language == "en")
    monkeypatch.setattr(rendering, "render_pdf", lambda html: (_ for _ in ()).throw(ValueError("no paper")))
    assert render(kh, job) == "failed"
    [job] = [j for j in jobs(kh) if j.language == "en"]
    assert job.status == JobStatus.FAILED and "no paper" in job.message
    monkeypatch.undo()
    with tenancy.scope({kh.pk}), transaction.atomic():
        job, sent = services.report_request(
            actor=Principal.for_user(team["leader"]), kind_name="assessment", target_id=final.pk, language="en",
            retry=True,
        )  # fmt: skip
    assert sent and job.status == JobStatus.QUEUED
    assert render(kh, job) == "ready"


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://example.org/font.woff",
        "file:///etc/passwd",
        "data:text/css,body{}",
        "static:../../../etc/passwd",
        "static:reports/missing.css",
    ],
)
def test_reports_load_nothing_but_our_static_files(url):
    with pytest.raises(rendering.RefusedURL):
        rendering.static_file(url)
    html = f'<html><body><img src="{url}"><p>x</p></body></html>'
    with pytest.raises(rendering.RefusedURL, match="Error fetching"):
        rendering.render_pdf(html)


def test_user_text_is_escaped_in_the_report(kh, team, final, media):
    with tenancy.scope({kh.pk}), transaction.atomic():
        final.factory.__class__.objects.filter(pk=final.factory_id).update(
            name='<img src="http://evil.example/x.png">Angkor'
        )
    with tenancy.scope({kh.pk}), transaction.atomic():
        job, _ = services.report_request(
            actor=None, kind_name="assessment", target_id=final.pk, language="en"
        )
    assert render(kh, job) == "ready"  # the tag is text: nothing was fetched, nothing refused
    [stored] = report_files(media)
    assert '<img src="http://evil.example/x.png">Angkor' in PdfReader(str(stored)).pages[0].extract_text()


def test_staff_and_the_factory_download_the_stored_file_and_each_download_is_logged(
    client, kh, kh_factory, team, final, media
):
    job = next(j for j in jobs(kh) if j.language == "en")
    render(kh, job)
    factory_user = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    for user in (team["lead"], factory_user):
        client.force_login(user)
        panel = client.get(f"/p/KH/reports/assessment/{final.pk}/", HTTP_HX_REQUEST="true").content.decode()
        assert "Download report" in panel and "Queued" in panel  # English ready, Khmer still queued
        response = client.get(f"/p/KH/reports/jobs/{job.pk}/download/")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content) == report_files(media)[0].read_bytes()
        assert 'filename="KH000018-cycle-1-en.pdf"' in response["Content-Disposition"]
    with tenancy.scope({kh.pk}):
        downloads = AuditEvent.objects.filter(action="report.download", object_id=str(job.pk))
        assert sorted(e.actor_id for e in downloads) == sorted([team["lead"].pk, factory_user.pk])
    assert len(report_files(media)) == 1  # downloads never render again


def test_nobody_else_reads_or_asks_for_the_report(client, kh, vn, kh_factory, team, final):
    job = next(j for j in jobs(kh) if j.language == "en")
    render(kh, job)
    outsiders = [
        user_with_role(Role.FACTORY, kh, factory=FactoryFactory(programme=kh)),  # another factory
        user_with_role(Role.PROGRAMME_MANAGER, vn),  # another programme
        user_with_role(Role.BUYER, buyer=BuyerFactory()),  # a buyer (the buyers' rules come later)
    ]
    for user in outsiders:
        client.force_login(user)
        for url in (
            f"/p/KH/reports/assessment/{final.pk}/",
            f"/p/KH/reports/jobs/{job.pk}/",
            f"/p/KH/reports/jobs/{job.pk}/download/",
            f"/api/v1/p/KH/reports/{job.pk}/",
            f"/api/v1/p/KH/reports/{job.pk}/download/",
        ):
            assert client.get(url).status_code == 404, (user, url)
        assert client.post(f"/p/KH/reports/assessment/{final.pk}/km/").status_code == 404
        assert (
            client.post(
                "/api/v1/p/KH/reports/",
                {"kind": "assessment", "target": final.pk, "language": "km"},
                content_type="application/json",
            ).status_code
            == 404
        )
    client.force_login(user_with_role(Role.PROGRAMME_MANAGER, vn))
    assert client.get(f"/p/VN/reports/jobs/{job.pk}/").status_code == 404


def test_no_report_before_final(client, kh, kh_factory, team, planned):
    client.force_login(team["leader"])
    assert client.get(f"/p/KH/reports/assessment/{planned.pk}/").status_code == 404
    assert client.post(f"/p/KH/reports/assessment/{planned.pk}/en/").status_code == 404
    assert jobs(kh) == []


def test_the_api_asks_polls_and_downloads(client, kh, team, final, media):
    client.force_login(team["manager"])
    body = {"kind": "assessment", "target": final.pk, "language": "en"}
    existing = client.post("/api/v1/p/KH/reports/", body, content_type="application/json")
    assert existing.status_code == 200 and existing.json()["status"] == "queued"  # made on finalisation
    refused = client.post(
        "/api/v1/p/KH/reports/", {**body, "language": "ar"}, content_type="application/json"
    )
    assert refused.status_code == 400 and "language" in refused.json()
    job_id = existing.json()["id"]
    render(kh, ReportJob(pk=job_id))
    polled = client.get(f"/api/v1/p/KH/reports/{job_id}/").json()
    assert polled["status"] == "ready" and polled["download"].endswith(
        f"/api/v1/p/KH/reports/{job_id}/download/"
    )
    download = client.get(f"/api/v1/p/KH/reports/{job_id}/download/")
    assert download.status_code == 200
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == polled["sha256"]


def test_a_browser_request_answers_with_the_polling_line(client, kh, team, final):
    client.force_login(team["leader"])
    with tenancy.scope({kh.pk}), transaction.atomic():
        ReportJob.objects.filter(language="km").delete()
    line = client.post(f"/p/KH/reports/assessment/{final.pk}/km/", HTTP_HX_REQUEST="true").content.decode()
    assert "Queued" in line and 'hx-trigger="every 1s"' in line
    [job] = [j for j in jobs(kh) if j.language == "km"]
    render(kh, job)
    line = client.get(f"/p/KH/reports/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "Download report" in line and "hx-trigger" not in line


@pytest.mark.parametrize(
    ("language", "title", "page"),
    [("km", "របាយការណ៍វាយតម្លៃ", "ទំព័រ"), ("vi", "Báo cáo đánh giá", "Trang"), ("fr", "Rapport d", "Page")],
)
def test_the_report_speaks_the_programmes_language(kh, final, language, title, page):
    from django.template.loader import render_to_string
    from django.utils import translation

    from reporting.kinds import ASSESSMENT_REPORT as kind

    with tenancy.scope({kh.pk}), transaction.atomic(), translation.override(language):
        html = render_to_string(kind.template, {**kind.context(kind.load(final.pk)), "language": language})
    assert (
        f'<html lang="{language}"' in html
        and title in html
        and f'<div class="page-word">{page}</div>' in html
    )
