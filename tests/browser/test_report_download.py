"""The report PDF in a real browser: the line of each language shows its job's state, follows it
by itself while the worker renders, and then downloads the stored file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.db import transaction

from betterwork import tenancy
from betterwork.tasks import SCOPE_KWARG
from reporting.models import ReportJob
from reporting.tasks import render_report
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_download_button_appears_when_the_pdf_is_ready(
    page, live_server, kh, team, final, settings, tmp_path, screenshot
):
    settings.MEDIA_ROOT = tmp_path
    sign_in(page, live_server, team["leader"].email)
    page.goto(f"{live_server.url}/p/KH/assessments/{final.pk}/")
    english = page.locator(f"#report-assessment-{final.pk}-en")
    english.get_by_text("Queued").wait_for()  # made on finalisation, waiting for a worker
    with tenancy.scope({kh.pk}), transaction.atomic():
        job = ReportJob.objects.get(language="en")
    assert render_report.apply(args=[job.pk], kwargs={SCOPE_KWARG: [kh.pk]}).get() == "ready"
    english.get_by_role("link", name="Download report").wait_for(timeout=10_000)  # polled, no reload
    screenshot("report-ready")
    with page.expect_download() as download:
        english.get_by_role("link", name="Download report").click()
    assert download.value.suggested_filename == "KH000018-cycle-1-en.pdf"
    with tenancy.scope({kh.pk}), transaction.atomic():
        job.refresh_from_db()
    assert hashlib.sha256(Path(download.value.path()).read_bytes()).hexdigest() == job.sha256
    page.goto("about:blank")  # the Khmer line still polls: stop it before the database is emptied
    page.close()
