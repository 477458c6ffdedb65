"""A buyer in a real browser: opens a subscribed factory, downloads the assessment PDF through
the authorised, logged view; the factory stops sharing; the buyer's next download is refused."""

# The buyers' fixtures are imported from test_access and then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.db import transaction

from betterwork import tenancy
from betterwork.tasks import SCOPE_KWARG
from reporting import services as report_services
from reporting.tasks import render_report
from tests.browser.conftest import sign_in
from tests.buyers.test_access import brand, buyer_user, consent, hr, published, subscribe  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_buyer_downloads_until_the_factory_stops_sharing(
    page,
    browser,
    live_server,
    kh,
    team,
    published,
    brand,
    buyer_user,
    hr,
    settings,
    tmp_path,
    screenshot,
    console_errors,
):
    settings.MEDIA_ROOT = tmp_path
    factory = published.factory
    subscribe(kh, team, buyer_user, brand, factory)
    consent(kh, hr, brand, factory)
    with tenancy.scope({kh.pk}), transaction.atomic():
        job, _ = report_services.report_request(
            actor=None, kind_name="assessment", target_id=published.pk, language="en"
        )
    assert render_report.apply(args=[job.pk], kwargs={SCOPE_KWARG: [kh.pk]}).get() == "ready"

    sign_in(page, live_server, buyer_user.email)
    page.get_by_role("link", name="My factories").first.click()
    page.get_by_role("link", name=factory.name).click()
    english = page.locator(f"#report-assessment-{published.pk}-en")
    link = english.get_by_role("link", name="Download report")
    link.wait_for(timeout=10_000)  # the panel loads by itself (HTMX)
    screenshot("buyer-factory")
    download_url = live_server.url + link.get_attribute("href")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "KH000018-cycle-1-en.pdf"
    with tenancy.scope({kh.pk}), transaction.atomic():
        job.refresh_from_db()
    assert hashlib.sha256(Path(download.value.path()).read_bytes()).hexdigest() == job.sha256

    factory_page = page.url
    # Leave the page first: its panel polls the Khmer copy still being made, and once sharing stops
    # those polls are refused (404) like any other read of the factory's reports.
    page.goto("about:blank")
    factory_side = browser.new_context().new_page()
    sign_in(factory_side, live_server, hr.email)
    factory_side.goto(f"{live_server.url}/p/KH/factories/{factory.pk}/buyers/")
    factory_side.get_by_role("link", name="Stop sharing").click()
    factory_side.get_by_label("Note (optional)").fill("Our contract ended")
    factory_side.get_by_label("I confirm this decision").check()
    factory_side.get_by_role("button", name="Stop sharing").click()
    factory_side.get_by_text("Our contract ended").wait_for()
    factory_side.close()

    assert page.request.get(download_url).status == 404
    page.goto(factory_page)
    page.get_by_text("awaiting consent").first.wait_for()
    assert not console_errors
    page.goto("about:blank")
    page.close()
