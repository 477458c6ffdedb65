"""The improvement plan in a real browser: the advisor makes it from the assessment's findings, the
factory updates an item in place and adds evidence, then submits Progress Report 1."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from PIL import Image

from advisory.models import PlanItem, PlanItemEvidence, ProgressReport
from betterwork import tenancy
from betterwork.models import Role
from tests.browser.conftest import sign_in
from tests.model_factories import user_with_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def with_password(user):
    user.set_password("pass-word-123")
    user.save()
    return user


def test_from_findings_to_progress_report(
    page, live_server, kh, team, final, tmp_path, settings, screenshot, console_errors
):
    settings.MEDIA_ROOT = tmp_path
    factory = final.factory
    with_password(team["lead"])
    hr = with_password(user_with_role(Role.FACTORY, kh, factory=factory))

    sign_in(page, live_server, team["lead"].email)
    page.goto(f"{live_server.url}/p/KH/advisory/factories/{factory.pk}/plan/")
    page.get_by_role("button", name="Start the cycle 1 plan").click()
    page.get_by_text("The plan of cycle 1 is open.").wait_for()
    page.get_by_role("button", name="Add all").click()
    page.get_by_text("items added from the assessment's findings").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")  # first, the device forgets what it kept

    sign_in(page, live_server, hr.email)
    page.goto(f"{live_server.url}/p/KH/advisory/factories/{factory.pk}/plan/")
    with tenancy.scope({kh.pk}), transaction.atomic():
        item = PlanItem.objects.get(plan__factory=factory, question_key="OSH-01")
    row = page.locator(f"#item-{item.pk}")
    row.get_by_role("link", name="Update").click()  # swapped in place by HTMX
    row.get_by_label("Action").fill("Push bars on every exit; guard no longer keeps keys")
    row.get_by_label("Due date").fill((kh.today() + dt.timedelta(days=20)).isoformat())
    row.get_by_label("Status").select_option("done")
    row.get_by_role("button", name="Save").click()
    row.get_by_text("awaiting verification").wait_for()
    page.locator("#plan-summary").get_by_text(
        "awaits the programme's verification"
    ).wait_for()  # counts follow
    assert "Push bars on every exit" in row.inner_text()
    screenshot("advisory-plan")

    photo = tmp_path / "exit.jpg"
    Image.new("RGB", (64, 48), "green").save(photo, format="JPEG")
    row.get_by_role("link", name="OSH-01").click()
    page.get_by_label("Evidence (photo or PDF)").set_input_files(str(photo))
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Evidence added.").wait_for()

    page.get_by_role("link", name="Plan of cycle 1").click()
    page.get_by_role("link", name="Progress Report 1").click()
    page.get_by_label("The factory's statement").fill("Exits are unlocked and the committee met twice.")
    page.get_by_role("button", name="Submit Progress Report 1").click()
    page.get_by_text("Progress Report 1 submitted.").wait_for()
    screenshot("advisory-progress-report")
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert PlanItemEvidence.objects.filter(item=item).count() == 1
        report = ProgressReport.objects.get(plan__factory=factory, number=1)
        assert report.status == "submitted" and report.snapshot["items"]["by_status"]["done"] == 1
    page.goto("about:blank")  # the report panel polls: stop it before the database is emptied
    assert not console_errors
