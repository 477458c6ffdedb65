"""A programme manager in a real browser: opens the dashboard, filters it, drills down to the
factories behind a figure, and exports a table as XLSX."""

from __future__ import annotations

import io

import pytest
from django.db import transaction
from openpyxl import load_workbook

from betterwork import tenancy
from betterwork.models import Role
from reporting import rollups
from tests.browser.conftest import sign_in
from tests.model_factories import FactoryFactory, user_with_role
from tests.reporting.test_rollups import make_assessment, wide_tool  # noqa: F401 - a fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_filters_drills_down_and_exports(
    page,
    live_server,
    kh,
    wide_tool,  # noqa: F811 - the fixture imported above
    screenshot,
    console_errors,
):
    manager = user_with_role(Role.PROGRAMME_MANAGER, kh)
    manager.set_password("pass-word-123")
    manager.save()
    with tenancy.scope({kh.pk}), transaction.atomic():
        north = FactoryFactory(programme=kh, name="North Garments", region="North")
        south = FactoryFactory(programme=kh, name="South Textiles", region="South")
        # Q0 (child labour) non-compliant in the north only; Q7 in the south only.
        rollups.count_final(make_assessment(north, wide_tool, cycle=1, values="NCCCCCCC"))
        rollups.count_final(make_assessment(south, wide_tool, cycle=1, values="CCCCCCCN"))

    sign_in(page, live_server, manager.email)
    page.get_by_role("link", name="KH dashboard").click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    assert page.get_by_text("factories assessed (counted)").is_visible()
    screenshot("dashboard")

    page.get_by_label("Region or zone").select_option("North")
    page.get_by_role("button", name="Apply").click()
    top = page.locator("section", has=page.get_by_role("heading", name="The ten most common issues"))
    top.get_by_role("link", name="Question 0?").wait_for()
    assert top.get_by_role("link", name="Question 7?").count() == 0

    top.get_by_role("link", name="Question 0?").click()
    page.get_by_role("heading", name="Factories non-compliant").wait_for()
    assert page.get_by_role("link", name="North Garments").is_visible()
    assert page.get_by_role("link", name="South Textiles").count() == 0
    screenshot("factories-behind")

    page.get_by_role("link", name="Dashboard").first.click()
    clusters = page.locator(
        "section", has=page.get_by_role("heading", name="Non-compliance by cluster and compliance point")
    )
    with page.expect_download() as download:
        clusters.get_by_role("link", name="XLSX").click()
    # The download's file has no extension, which openpyxl refuses by name: read it as bytes.
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Cluster"
    assert any(row[1] == "Child labourers" and row[3] == 1 for row in rows[1:])  # the north only
    assert not console_errors
