"""The advisor's form in a real browser: answers save themselves, survive a reload, and a
colleague's concurrent save is shown instead of silently overwritten."""

from __future__ import annotations

import pytest

from tests.assessments.test_lifecycle import move
from tests.browser.conftest import SCREENSHOTS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_cluster(page, live_server, planned, code="OSH"):
    page.goto(f"{live_server.url}/p/KH/assessments/{planned.pk}/clusters/{code}/")


def test_answers_save_themselves_and_survive_a_reload(
    page, live_server, kh, team, planned, console_errors, screenshot
):
    move(team["lead"], kh, planned, "in_progress")
    sign_in(page, live_server, team["lead"].email)
    open_cluster(page, live_server, planned)
    question = page.locator("form.question").first
    question.get_by_label("Non-compliant").check()
    page.get_by_text("A non-compliance needs its finding.").wait_for()
    question.get_by_label("Finding").fill("Exit 4 was chained during the night shift.")
    question.get_by_text("Saved at").wait_for()
    question.get_by_label("Observation").check()
    page.wait_for_load_state("networkidle")
    screenshot("assessment-form")
    page.reload()
    question = page.locator("form.question").first
    assert question.get_by_label("Non-compliant").is_checked()
    assert question.get_by_label("Finding").input_value() == "Exit 4 was chained during the night shift."
    assert question.get_by_label("Observation").is_checked()
    assert all("422" in e for e in console_errors), console_errors
    page.close()  # no request may still be running when the test database is emptied


def test_a_colleagues_save_is_shown_not_overwritten(browser, live_server, kh, team, planned):
    move(team["lead"], kh, planned, "in_progress")
    mine = browser.new_context().new_page()
    theirs = browser.new_context().new_page()
    sign_in(mine, live_server, team["lead"].email)
    sign_in(theirs, live_server, team["second"].email)
    open_cluster(mine, live_server, planned, "WT")
    open_cluster(theirs, live_server, planned, "WT")
    theirs.locator("form.question").first.get_by_label("Compliant", exact=True).check()
    theirs.get_by_text("Saved at").wait_for()
    mine.locator("form.question").first.get_by_label("Not applicable").check()
    mine.get_by_text("saved this answer meanwhile").wait_for()
    form = mine.locator("form.question").first
    assert form.get_by_label("Compliant", exact=True).is_checked(), "the form now shows their answer"
    assert "NA" in form.locator(".conflict").inner_text(), "and tells me what mine was"
    mine.screenshot(path=str(SCREENSHOTS / "assessment-conflict.png"), full_page=True)
    form.get_by_label("Not applicable").check()
    mine.get_by_text("Saved at").wait_for()
    # No save may still be in flight when the test database is emptied (it would lock rows).
    mine.wait_for_load_state("networkidle")
    theirs.wait_for_load_state("networkidle")
    mine.context.close()
    theirs.context.close()
