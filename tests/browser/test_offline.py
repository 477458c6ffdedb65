"""The advisor's form without a connection, in real Chromium with its network switched off and
on: answers and photos are kept on the device, the pages reopen offline, everything reaches the
server in order when the connection returns, a colleague's save meanwhile is shown side by side,
and signing out leaves nothing of the advisor on the device."""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from assessments.models import Answer, Attachment
from betterwork import offline, tenancy
from tests.assessments.test_attachments import photo_with_gps
from tests.assessments.test_lifecycle import move
from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.browser.test_accessibility import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FINDING = "Exit 4 was chained during the night shift."


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def abort_worker_requests(route):
    """Offline emulation covers pages, not the service worker's own requests: those are cut here."""
    if route.request.service_worker:
        route.abort("internetdisconnected")
    else:
        route.fallback()


def go_offline(context) -> None:
    context.set_offline(True)
    context.route("**/*", abort_worker_requests)


def go_online(context) -> None:
    context.unroute("**/*", abort_worker_requests)
    context.set_offline(False)


def signed_in(browser, live_server, user, **options):
    """A browser of its own (a tablet, a laptop), signed in: its context and its page."""
    context = browser.new_context(**options)
    page = context.new_page()
    sign_in(page, live_server, user.email)
    return context, page


def open_form(page, live_server, assessment, cluster: str) -> None:
    page.goto(f"{live_server.url}/p/KH/assessments/{assessment.pk}/clusters/{cluster}/")


def open_kept_form(page, live_server, assessment) -> None:
    """Online, the form is opened once: the service worker keeps every page of the assessment."""
    open_form(page, live_server, assessment, "OSH")
    page.wait_for_selector("html[data-offline-ready]")


def banner(page):
    return page.locator("#offline-banner")


def kept_store(page) -> dict:
    return page.evaluate(
        """async () => ({
            databases: (await indexedDB.databases()).map((d) => d.name),
            caches: await caches.keys(),
        })"""
    )


@pytest.fixture
def tablet(browser, live_server, kh, team, planned):
    """The lead assessor's tablet: the form opened online once, then the network switched off."""
    move(team["lead"], kh, planned, "in_progress")
    context, page = signed_in(browser, live_server, team["lead"])
    open_kept_form(page, live_server, planned)
    go_offline(context)
    yield context, page
    go_online(context)
    for open_page in context.pages:
        open_page.goto("about:blank")  # nothing may still be sent when the database is emptied
    context.close()


def answer_of(kh, assessment, key):
    with tenancy.scope({kh.pk}), transaction.atomic():
        return (
            Answer.objects.select_related("updated_by")
            .filter(assessment=assessment, question__key=key)
            .first()
        )


def test_work_done_offline_reopens_offline_and_reaches_the_server(browser, live_server, kh, team, planned):
    move(team["lead"], kh, planned, "in_progress")
    context = browser.new_context()
    errors: list[str] = []
    context.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    context.on("weberror", lambda error: errors.append(str(error.error)))
    page = context.new_page()
    sign_in(page, live_server, team["lead"].email)
    open_kept_form(page, live_server, planned)
    go_offline(context)

    question = page.locator("form.question").first
    question.get_by_label("Non-compliant").check()
    question.get_by_label("Finding").fill(FINDING)
    question.get_by_label("Finding").blur()
    expect(banner(page)).to_contain_text("You are offline")
    expect(banner(page)).to_contain_text("Changes waiting to be sent: 1.")
    expect(question.locator(".save-state")).to_contain_text("Kept on this device")

    # Reloaded offline, the page comes from the device, with the change on it.
    page.reload()
    question = page.locator("form.question").first
    expect(question.get_by_label("Finding")).to_have_value(FINDING)
    expect(question.get_by_label("Non-compliant")).to_be_checked()
    expect(banner(page)).to_contain_text("Changes waiting to be sent: 1.")

    # A cluster never opened opens too; its answer and a photo join the queue.
    page.locator(".cluster-nav").get_by_role("link", name=re.compile("Working Time")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Working Time")
    question = page.locator("form.question").first
    question.get_by_label("Compliant", exact=True).check()
    expect(banner(page)).to_contain_text("Changes waiting to be sent: 2.")
    photo = {"name": "overtime-register.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps()}
    page.locator(".attachments__form input[type=file]").first.set_input_files(photo)
    page.locator(".attachments__form").first.get_by_role("button", name="Upload").click()
    expect(page.locator(".attachments__queue")).to_contain_text("overtime-register.jpg")
    expect(banner(page)).to_contain_text("Changes waiting to be sent: 3.")
    page.screenshot(path=str(SCREENSHOTS / "offline-form.png"), full_page=True)

    # The compliance tool the assessment follows opens too, for its guidance.
    page.goto(f"{live_server.url}/tool/{planned.tool_version_id}/")
    expect(page.locator("main")).to_contain_text("Is overtime voluntary?")

    # The tablet is closed and opened again later, still offline: nothing is lost.
    page.close()
    page = context.new_page()
    open_form(page, live_server, planned, "WT")
    expect(banner(page)).to_contain_text("Changes waiting to be sent: 3.")
    expect(page.locator("form.question").first.get_by_label("Compliant", exact=True)).to_be_checked()
    assert answer_of(kh, planned, "OSH-01") is None, "nothing reached the server while offline"

    go_online(context)
    expect(banner(page)).to_contain_text("All your changes are saved on the server.", timeout=15000)
    expect(page.locator(".attachments__list")).to_contain_text("overtime-register.jpg")
    osh, wt = answer_of(kh, planned, "OSH-01"), answer_of(kh, planned, "WT-01")
    assert (osh.value, osh.finding, osh.version, osh.updated_by) == ("NC", FINDING, 1, team["lead"])
    assert (wt.value, wt.version) == ("C", 1)
    with tenancy.scope({kh.pk}), transaction.atomic():
        attachment = Attachment.objects.select_related("question", "uploaded_by").get(assessment=planned)
    assert attachment.original_name == "overtime-register.jpg" and attachment.question.key == "WT-01"
    assert attachment.uploaded_by == team["lead"]

    # Later changes, online, save as before; reopened offline, the page shows the latest.
    question = page.locator("form.question").first
    question.get_by_label("Not applicable").check()
    expect(question.locator(".save-state")).to_contain_text("Saved at")
    page.wait_for_load_state("networkidle")
    go_offline(context)
    page.reload()
    expect(page.locator("form.question").first.get_by_label("Not applicable")).to_be_checked()
    assert answer_of(kh, planned, "WT-01").version == 2
    go_online(context)
    page.goto("about:blank")
    context.close()
    # Requests refused while offline are logged by the browser; nothing else may be (a script
    # error, a Content Security Policy violation).
    assert [e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e] == []


def test_a_colleagues_save_meanwhile_is_shown_side_by_side(browser, live_server, kh, team, planned):
    move(team["lead"], kh, planned, "in_progress")
    # axe-core is injected to check the side-by-side view, which the pages' CSP would forbid.
    mine_context, mine = signed_in(browser, live_server, team["lead"], bypass_csp=True)
    theirs_context, theirs = signed_in(browser, live_server, team["second"])
    open_kept_form(mine, live_server, planned)
    go_offline(mine_context)
    mine.locator("form.question").first.get_by_label("Compliant", exact=True).check()
    open_form(mine, live_server, planned, "WT")
    mine.locator("form.question").first.get_by_label("Not applicable").check()
    expect(banner(mine)).to_contain_text("Changes waiting to be sent: 2.")

    for cluster in ("OSH", "WT"):
        open_form(theirs, live_server, planned, cluster)
        form = theirs.locator("form.question").first
        form.get_by_label("Non-compliant").check()
        form.get_by_label("Finding").fill(f"Seen by the second assessor in {cluster}.")
        form.get_by_label("Finding").blur()
        expect(form.locator(".save-state")).to_contain_text("Saved at")
    theirs.wait_for_load_state("networkidle")

    go_online(mine_context)
    expect(banner(mine)).to_contain_text("Answers a colleague changed meanwhile: 2.", timeout=15000)
    mine.get_by_role("link", name="Review the changes").click()
    pairs = mine.locator(".conflict-pair")
    expect(pairs).to_have_count(2)
    osh = pairs.filter(has_text="OSH-01")
    expect(osh.locator(".conflict-pair__side").first).to_contain_text("Compliant")
    expect(osh.locator(".conflict-pair__side").last).to_contain_text("Seen by the second assessor in OSH.")
    expect(osh.locator(".conflict-pair__side").last).to_contain_text(f"Saved by {team['second'].full_name}")
    mine.screenshot(path=str(SCREENSHOTS / "offline-conflicts.png"), full_page=True)
    assert_accessible(mine, "the changes kept on the device, two in conflict")

    osh.get_by_role("button", name="Keep mine").click()
    pairs.filter(has_text="WT-01").get_by_role("button", name="Keep theirs").click()
    expect(pairs).to_have_count(0)
    expect(banner(mine)).to_contain_text("All your changes are saved on the server.", timeout=15000)
    kept_mine, kept_theirs = answer_of(kh, planned, "OSH-01"), answer_of(kh, planned, "WT-01")
    assert (kept_mine.value, kept_mine.version, kept_mine.updated_by) == ("C", 2, team["lead"])
    assert (kept_theirs.value, kept_theirs.version, kept_theirs.updated_by) == ("NC", 1, team["second"])
    # Their answer is what the form shows now, even from a page kept before they saved it.
    go_offline(mine_context)
    open_form(mine, live_server, planned, "WT")
    expect(mine.locator("form.question").first.get_by_label("Non-compliant")).to_be_checked()
    go_online(mine_context)
    for page in (mine, theirs):
        page.goto("about:blank")
    mine_context.close()
    theirs_context.close()


def test_a_kept_change_the_server_already_holds_is_no_conflict(browser, live_server, kh, team, planned):
    """A save that reached the server before the connection dropped comes back as a 409 with the
    same answer: it is taken as saved, and nobody is asked to choose between two equal answers."""
    move(team["lead"], kh, planned, "in_progress")
    device, on_tablet = signed_in(browser, live_server, team["lead"])
    laptop, on_laptop = signed_in(browser, live_server, team["lead"])
    open_kept_form(on_tablet, live_server, planned)
    go_offline(device)
    on_tablet.locator("form.question").first.get_by_label("Compliant", exact=True).check()
    expect(banner(on_tablet)).to_contain_text("Changes waiting to be sent: 1.")
    open_form(on_laptop, live_server, planned, "OSH")
    on_laptop.locator("form.question").first.get_by_label("Compliant", exact=True).check()
    expect(on_laptop.locator(".save-state").first).to_contain_text("Saved at")
    go_online(device)
    expect(banner(on_tablet)).to_contain_text("All your changes are saved on the server.", timeout=15000)
    expect(on_tablet.locator(".save-state").first).to_contain_text("Sent.")
    answer = answer_of(kh, planned, "OSH-01")
    assert (answer.value, answer.version) == ("C", 1)
    for page in (on_tablet, on_laptop):
        page.goto("about:blank")
    device.close()
    laptop.close()


def test_a_change_the_server_refuses_says_why_and_goes_once_corrected(tablet, live_server, kh, team, planned):
    context, page = tablet
    question = page.locator("form.question").first
    question.get_by_label("Non-compliant").check()  # and no finding yet
    open_form(page, live_server, planned, "WT")
    page.locator("form.question").first.get_by_label("Compliant", exact=True).check()
    expect(banner(page)).to_contain_text("Changes waiting to be sent: 2.")
    go_online(context)
    expect(banner(page)).to_contain_text("Changes the server refused: 1. Review them.", timeout=15000)
    assert answer_of(kh, planned, "WT-01").value == "C", "the other change was saved"
    assert answer_of(kh, planned, "OSH-01") is None
    page.get_by_role("link", name="Review the changes").click()
    refused = page.locator("#offline-refused .kept-change")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("A non-compliance needs its finding.")
    refused.get_by_role("link", name="Open the question").click()
    question = page.locator("form.question").first
    expect(question.locator(".save-state")).to_contain_text("Not saved: A non-compliance needs its finding.")
    question.get_by_label("Finding").fill(FINDING)
    question.get_by_label("Finding").blur()
    expect(banner(page)).to_contain_text("All your changes are saved on the server.", timeout=15000)
    answer = answer_of(kh, planned, "OSH-01")
    assert (answer.value, answer.finding) == ("NC", FINDING)


@pytest.fixture
def small_queue(monkeypatch):
    """Photos waiting on the device may take 1 MB together (before the tablet opens the form)."""
    monkeypatch.setattr(offline, "QUEUE_MAX_BYTES", 1024 * 1024)


def test_photos_too_big_too_many_or_not_photos_are_refused(small_queue, tablet, kh):
    context, page = tablet
    form = page.locator(".attachments__form").first
    upload = form.get_by_role("button", name="Upload")
    chooser = form.locator("input[type=file]")

    chooser.set_input_files(
        {"name": "huge.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * (10 * 1024 * 1024 + 1)}
    )
    upload.click()
    expect(form.get_by_role("alert")).to_have_text("Files may be at most 10 MB.")
    chooser.set_input_files({"name": "notes.docx", "mimeType": "application/msword", "buffer": b"PK"})
    upload.click()
    expect(form.get_by_role("alert")).to_have_text(
        "Only photos (JPEG, PNG, WebP) and PDF files are accepted."
    )
    chooser.set_input_files(
        {"name": "first.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-" + b"0" * 700_000}
    )
    upload.click()
    expect(page.locator(".attachments__queue li")).to_have_count(1)
    chooser.set_input_files(
        {"name": "second.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-" + b"0" * 700_000}
    )
    upload.click()
    expect(form.get_by_role("alert")).to_contain_text("at most 1 MB of photos waiting to be sent")
    expect(page.locator(".attachments__queue li")).to_have_count(1)
    expect(banner(page)).to_contain_text("Changes waiting to be sent: 1.")
    # A "photo" that is no photo fits the queue; the server, which reads its content, refuses it.
    chooser.set_input_files({"name": "fake.jpg", "mimeType": "image/jpeg", "buffer": b"not a photo"})
    upload.click()
    expect(banner(page)).to_contain_text("Changes waiting to be sent: 2.")

    go_online(context)
    expect(banner(page)).to_contain_text("Changes the server refused: 1.", timeout=15000)
    expect(page.locator(".attachments__list")).to_contain_text("first.pdf")
    expect(page.locator(".attachments__queue")).to_contain_text("fake.jpg")
    page.get_by_role("link", name="Review the changes").click()
    refused = page.locator("#offline-refused .kept-change")
    expect(refused).to_contain_text("Only photos (JPEG, PNG, WebP) and PDF files are accepted.")
    refused.get_by_role("button", name="Discard").click()
    expect(page.get_by_text("Nothing is waiting")).to_be_visible()
    expect(banner(page)).to_be_hidden()
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert list(Attachment.objects.values_list("original_name", flat=True)) == ["first.pdf"]


def test_signing_out_shows_the_unsent_changes_then_leaves_nothing(tablet, live_server, kh, team, planned):
    context, page = tablet
    question = page.locator("form.question").first
    question.get_by_label("Non-compliant").check()
    question.get_by_label("Finding").fill(FINDING)
    question.get_by_label("Finding").blur()
    expect(banner(page)).to_contain_text("Changes waiting to be sent: 1.")

    page.get_by_role("button", name="Sign out").click()
    dialog = page.get_by_role("dialog", name="Changes not yet sent")
    expect(dialog).to_contain_text("OSH-01")
    expect(dialog).to_contain_text(FINDING)
    expect(dialog).to_contain_text("You are offline")
    page.screenshot(path=str(SCREENSHOTS / "offline-sign-out.png"))
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_have_count(0)
    expect(banner(page)).to_contain_text("Changes waiting to be sent: 1.")

    # Back online, the change is sent; with nothing waiting, signing out asks nothing.
    go_online(context)
    expect(banner(page)).to_contain_text("All your changes are saved on the server.", timeout=15000)
    assert answer_of(kh, planned, "OSH-01").finding == FINDING

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    store = kept_store(page)
    assert "betterwork-offline" not in store["databases"]
    assert "betterwork-pages" not in store["caches"]
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then((r) => r.length)") == 0
    # Signed out, the kept pages are gone: offline, the form is not shown to whoever comes next.
    go_offline(context)
    with pytest.raises(PlaywrightError, match="ERR_INTERNET_DISCONNECTED"):
        open_form(page, live_server, planned, "OSH")
    go_online(context)


def test_a_sign_out_made_offline_ends_the_session_once_online(tablet, live_server, kh, team, planned):
    context, page = tablet
    page.locator("form.question").first.get_by_label("Compliant", exact=True).check()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("dialog").get_by_role("button", name="Sign out and delete them").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")
    assert "betterwork-offline" not in kept_store(page)["databases"]
    go_online(context)
    page.goto(f"{live_server.url}/")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.goto(f"{live_server.url}/p/KH/assessments/{planned.pk}/")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    assert answer_of(kh, planned, "OSH-01") is None, "the change deleted on sign-out was never sent"
