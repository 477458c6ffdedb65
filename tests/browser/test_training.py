"""A training officer in a real browser: schedules a session from the catalogue, enrols a
participant, ticks attendance, and imports the rest of the sheet from a spreadsheet."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from betterwork import tenancy
from betterwork.models import Role
from betterwork.permissions import Principal
from tests.browser.conftest import sign_in
from tests.model_factories import user_with_role
from training import services
from training.models import Attendance, Participant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_officer_runs_a_session_from_catalogue_to_attendance(
    page, live_server, kh, kh_factory, tmp_path, screenshot, console_errors
):
    officer = user_with_role(Role.ADVISOR, kh, manages_training=True)
    officer.set_password("pass-word-123")
    officer.save()
    with tenancy.scope({kh.pk}), transaction.atomic():
        services.course_save(
            actor=Principal.for_user(officer),
            programme=kh,
            course=None,
            data={"title": "Occupational safety and health", "days": 2, "audience": "mixed"},
        )
    first_day = kh.today() - dt.timedelta(days=2)

    sign_in(page, live_server, officer.email)
    page.get_by_role("link", name="KH training").click()
    page.get_by_role("link", name="Course catalogue").click()
    page.get_by_role("link", name="Schedule").click()
    page.get_by_label("First day").fill(first_day.isoformat())
    page.get_by_label("Venue").fill("Programme office, Phnom Penh")
    page.get_by_role("button", name="Schedule session").click()
    page.get_by_text("Session scheduled").wait_for()

    page.get_by_label("Name").fill("Sokha Chan")
    page.get_by_label("Factory").select_option(label=str(kh_factory))
    page.get_by_role("button", name="Enrol").click()
    page.get_by_text("Sokha Chan enrolled.").wait_for()
    page.get_by_label(f"Sokha Chan present on {first_day:%b. %-d, %Y}").check()
    page.get_by_role("button", name="Save attendance").click()
    page.get_by_text("1 participant training days").wait_for()

    # The rest of the sheet comes from a spreadsheet: a preview first, then the import.
    sheet = tmp_path / "attendance.csv"
    second = first_day + dt.timedelta(days=1)
    sheet.write_text(
        f"Name,Sex,Role,Factory,{first_day.isoformat()},{second.isoformat()}\n"
        f"Sokha Chan,Female,Worker,{kh_factory.public_id},yes,yes\n"
        f"Dara Keo,Male,Supervisor,{kh_factory.public_id},yes,\n",
        encoding="utf-8",
    )
    page.get_by_role("link", name="Import attendance").click()
    page.get_by_label("Spreadsheet (CSV or XLSX)").set_input_files(str(sheet))
    page.get_by_role("button", name="Upload and check").click()
    page.get_by_text("No problems found: 2 rows are ready to import").wait_for()
    screenshot("training-import-preview")
    page.get_by_role("button", name="Import 2 rows").click()
    page.get_by_text("Attendance imported: 2 participants (1 new)").wait_for()
    screenshot("training-session")
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert Participant.objects.count() == 2
        assert Attendance.objects.count() == 3
    assert not console_errors
