"""A visitor, without signing in, finds a programme's published synthesis report, reads it and
downloads its PDF; then reads the programme's transparency list."""

from __future__ import annotations

import pytest
from django.db import transaction

from betterwork import tenancy
from reporting import synthesis_services
from reporting.models import ReportJob
from tests.reporting.test_rollups import wide_tool  # noqa: F401 - a fixture
from tests.reporting.test_synthesis import FIRE, as_manager, compose, counted, render  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visitor_reads_a_synthesis_report_and_downloads_its_pdf(
    page,
    live_server,
    kh,
    counted,  # noqa: F811 - the fixture imported above
    kh_manager,
    settings,
    tmp_path,
    screenshot,
    console_errors,
):
    settings.MEDIA_ROOT = tmp_path
    draft = compose(kh_manager, kh, title="Fire safety in 2025 and 2026", theme_keys=FIRE)
    report = as_manager(
        kh_manager, kh, synthesis_services.synthesis_publish, report=draft, expected_version=draft.version
    )
    with tenancy.scope({kh.pk}), transaction.atomic():  # no test transaction here: open one
        english = ReportJob.objects.get(kind="synthesis_report", target_id=report.pk, language="en")
    assert render(kh, english) == "ready"

    page.goto(f"{live_server.url}/public/")
    page.get_by_role("link", name=kh.name).click()
    page.get_by_role("link", name="Fire safety in 2025 and 2026").click()
    page.get_by_role("heading", name="Fire safety in 2025 and 2026").wait_for()
    assert page.get_by_text("What this report counts").is_visible()
    screenshot("public-synthesis")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PDF").click()
    assert download.value.path().read_bytes().startswith(b"%PDF")

    page.goto(f"{live_server.url}/public/{kh.code}/")
    page.get_by_role("link", name="Transparency list").first.click()
    page.get_by_role("heading", name="Transparency list").wait_for()
    assert not console_errors
