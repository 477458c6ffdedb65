"""Accessibility in a real browser: axe-core (from the npm registry, package.json) finds no WCAG
2.2 AA violation on the pages each kind of user lives on; keyboard focus is always visible; a
form's errors are tied to their fields.

axe is injected as a script, which the pages' Content Security Policy forbids: these tests, and
only these, open their pages in a browser context that bypasses it.
"""

# The fixtures below are imported from other test modules and then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import transaction

from betterwork import tenancy
from betterwork.models import Role
from reporting import rollups, synthesis_services
from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.buyers.test_access import brand, buyer_user, consent, hr, published, subscribe  # noqa: F401
from tests.model_factories import FactoryFactory, user_with_role
from tests.reporting.test_rollups import make_assessment, wide_tool  # noqa: F401
from tests.reporting.test_synthesis import FIRE, as_manager, compose, counted  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 AA: level A and AA rules of every version (target size is a 2.2 AA rule).
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RUN_AXE = """async (tags) => {
    const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
    return result.violations.map((v) => ({
        rule: v.id,
        impact: v.impact,
        help: v.help,
        where: v.nodes.slice(0, 4).map((n) => n.target.join(" ") + ": " + n.failureSummary),
    }));
}"""


@pytest.fixture
def axe_page(browser):
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci` (scripts/setup.sh does with SETUP_DEV=1).")
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    yield page
    page.goto("about:blank")  # pages that poll stop before the database is emptied
    context.close()


def assert_accessible(page, what: str) -> None:
    page.wait_for_load_state("networkidle")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(RUN_AXE, WCAG_AA)
    report = "\n".join(
        f"- {v['rule']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["where"]) for v in violations
    )
    assert not violations, f"{what}: {len(violations)} WCAG 2.2 AA violations\n{report}"


def with_password(user):
    user.set_password("pass-word-123")
    user.save()
    return user


def test_sign_in_and_its_errors(axe_page, live_server, kh):
    page = axe_page
    page.goto(f"{live_server.url}/accounts/login/")
    assert_accessible(page, "sign-in")
    page.get_by_label("E-mail address").fill("nobody@example.org")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").first.wait_for()
    assert_accessible(page, "sign-in with an error")
    # A field's error is tied to its field: announced with it, and the field marked invalid.
    page.goto(f"{live_server.url}/accounts/password_reset/")
    email = page.get_by_label("E-mail address")
    email.fill("not an address")
    email.evaluate("(input) => input.form.noValidate = true")  # the server's message, not the browser's
    page.get_by_role("button", name="Send the link").click()
    email = page.get_by_label("E-mail address")
    assert email.get_attribute("aria-invalid") == "true"
    described = email.get_attribute("aria-describedby").split()
    messages = [page.locator(f"#{name}").inner_text() for name in described]
    assert any("valid" in message for message in messages), messages
    assert_accessible(page, "password reset with an error")


def test_keyboard_focus_is_always_visible(axe_page, live_server, kh):
    page = axe_page
    page.goto(f"{live_server.url}/accounts/login/")
    seen = []
    for _ in range(8):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
                const el = document.activeElement;
                const style = getComputedStyle(el);
                return {
                    tag: el.tagName + (el.id ? "#" + el.id : ""),
                    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
                    shadow: style.boxShadow !== "none",
                };
            }"""
        )
        if focused["tag"] == "BODY":
            continue  # past the last control, focus leaves the page before coming round again
        seen.append(focused)
        assert focused["outline"] or focused["shadow"], f"no visible focus on {focused['tag']}"
    assert any(item["tag"].startswith("INPUT") for item in seen) and any(
        item["tag"].startswith("BUTTON") for item in seen
    ), seen


def test_the_assessment_form(axe_page, live_server, kh, team, planned):
    page = axe_page
    sign_in(page, live_server, with_password(team["lead"]).email)
    page.goto(f"{live_server.url}/p/KH/assessments/{planned.pk}/clusters/OSH/")
    page.get_by_role("heading", level=1).wait_for()
    assert_accessible(page, "the assessment form")


def test_the_improvement_plan(axe_page, live_server, kh, team, final):
    page = axe_page
    sign_in(page, live_server, with_password(team["lead"]).email)
    page.goto(f"{live_server.url}/p/KH/advisory/factories/{final.factory.pk}/plan/")
    page.get_by_role("button", name="Start the cycle 1 plan").click()
    page.get_by_text("The plan of cycle 1 is open.").wait_for()
    page.get_by_role("button", name="Add all").click()
    page.get_by_text("items added from the assessment's findings").wait_for()
    assert_accessible(page, "the improvement plan")


def test_the_buyer_portal(axe_page, live_server, kh, team, published, brand, buyer_user, hr):
    factory = published.factory
    subscribe(kh, team, buyer_user, brand, factory)
    consent(kh, hr, brand, factory)
    page = axe_page
    sign_in(page, live_server, with_password(buyer_user).email)
    page.goto(f"{live_server.url}/buyer/")
    assert_accessible(page, "the buyer portal")
    page.get_by_role("link", name=factory.name).click()
    page.get_by_role("heading", name=factory.name).wait_for()
    assert_accessible(page, "a factory in the buyer portal")


def test_the_dashboard(axe_page, live_server, kh, wide_tool):
    manager = with_password(user_with_role(Role.PROGRAMME_MANAGER, kh))
    with tenancy.scope({kh.pk}), transaction.atomic():
        north = FactoryFactory(programme=kh, name="North Garments", region="North")
        rollups.count_final(make_assessment(north, wide_tool, cycle=1, values="NCCCCCCC"))
    page = axe_page
    sign_in(page, live_server, manager.email)
    page.goto(f"{live_server.url}/p/KH/dashboard/")
    page.get_by_role("heading", name="Dashboard").wait_for()
    assert_accessible(page, "the dashboard")


def test_a_public_synthesis_report(axe_page, live_server, kh, counted, kh_manager):
    draft = compose(kh_manager, kh, title="Fire safety in 2025 and 2026", theme_keys=FIRE)
    as_manager(
        kh_manager, kh, synthesis_services.synthesis_publish, report=draft, expected_version=draft.version
    )
    page = axe_page
    page.goto(f"{live_server.url}/public/{kh.code}/")
    assert_accessible(page, "a programme's public page")
    page.get_by_role("link", name="Fire safety in 2025 and 2026").click()
    page.get_by_role("heading", name="Fire safety in 2025 and 2026").wait_for()
    assert_accessible(page, "a public synthesis report")


@pytest.mark.parametrize("language", ["ar", "km", "am"])
def test_sign_in_in_other_scripts_and_right_to_left(axe_page, live_server, kh, language):
    page = axe_page
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"sign-in-{language}.png"), full_page=True)
    assert_accessible(page, f"sign-in in {language}")


def test_two_step_sign_in_pages(axe_page, live_server, kh, team, settings):
    settings.TWO_FACTOR_REQUIRED = True
    page = axe_page
    lead = with_password(team["lead"])
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(lead.email)
    page.get_by_label("Password").fill("pass-word-123")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Set up two-step sign-in").wait_for()
    assert page.locator(".qr svg").count() == 1
    assert_accessible(page, "setting up two-step sign-in")
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    page.get_by_text("not the one the app shows now").wait_for()
    assert_accessible(page, "setting up two-step sign-in, with a wrong code")
