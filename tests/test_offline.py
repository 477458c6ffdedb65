"""Working offline, the server's side: the service worker and what it keeps, the manifest, the
pages the offline script reads, the sign-out that clears the browser, and the API the kept changes
are sent to with the session's cookie and CSRF token, as the browser sends them.

What the browser does with these is tested in real Chromium: tests/browser/test_offline.py."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import translation

from assessments.models import Answer
from betterwork import offline, tenancy
from betterwork.models import Role
from tests.assessments.test_attachments import photo_with_gps
from tests.assessments.test_lifecycle import move
from tests.model_factories import user_with_role

pytestmark = pytest.mark.django_db


def test_the_service_worker_is_served_from_the_root_and_never_cached(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert response["Service-Worker-Allowed"] == "/"
    body = response.content.decode()
    assert f'const VERSION = "{offline.worker_version()}";' in body
    assets = json.loads(re.search(r"const ASSETS = (\[.*?\]);", body).group(1))
    assert assets == offline.asset_urls() and len(assets) == len(offline.ASSETS)
    assert "{%" not in body and "{{" not in body, "the template is rendered whole"


def test_every_asset_the_worker_keeps_exists():
    for name in offline.ASSETS:
        assert finders.find(name), name


def test_the_worker_version_follows_the_assets_contents(settings, tmp_path):
    settings.DEBUG = True
    before = offline.worker_version()
    assert before == offline.worker_version()
    copy = tmp_path / "static"
    (copy / "css").mkdir(parents=True)
    (copy / "css" / "app.css").write_text("body { color: red; }")
    settings.STATICFILES_DIRS = [str(copy), *settings.STATICFILES_DIRS]
    finders.get_finder.cache_clear()
    try:
        assert offline.worker_version() != before
    finally:
        finders.get_finder.cache_clear()


def test_the_manifest_lets_a_tablet_install_the_platform(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200 and response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    assert [icon["src"] for icon in manifest["icons"]] == ["/static/favicon.svg"]
    client.post("/i18n/setlang/", {"language": "ar"})
    assert client.get("/manifest.webmanifest").json()["dir"] == "rtl"


def test_the_offline_page_names_nobody(client, kh_advisor):
    client.force_login(kh_advisor)
    response = client.get("/offline/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "You are offline" in body
    assert kh_advisor.email not in body and str(kh_advisor.full_name) not in body
    assert "KH" not in body and "csrfmiddlewaretoken" not in body


def test_signing_out_tells_the_browser_to_clear_what_it_keeps(client, kh_advisor):
    client.force_login(kh_advisor)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "storage"'


def test_signed_in_pages_carry_the_offline_script_and_its_texts(client, kh_advisor):
    assert "js/offline.js" not in client.get("/accounts/login/").content.decode()
    client.force_login(kh_advisor)
    body = client.get("/").content.decode()
    assert "js/offline.js" in body and f'data-user="{kh_advisor.pk}"' in body
    assert 'rel="manifest" href="/manifest.webmanifest"' in body
    texts = json.loads(
        html.unescape(re.search(r'<div id="offline-texts" hidden data-texts="([^"]*)"></div>', body).group(1))
    )
    assert texts == offline.texts()
    assert 'class="js-sign-out"' in body


def test_the_texts_are_translated(client, kh_advisor):
    kh_advisor.language = "km"
    kh_advisor.save()
    client.force_login(kh_advisor)
    body = client.get("/").content.decode()
    texts = json.loads(
        html.unescape(re.search(r'<div id="offline-texts" hidden data-texts="([^"]*)"></div>', body).group(1))
    )
    with translation.override("en"):
        english = offline.texts()
    assert texts["waiting"] != english["waiting"] and "{n}" in texts["waiting"]
    assert texts["theirs"].count("{who}") == 1 and texts["theirs"].count("{version}") == 1


@pytest.fixture
def started(kh, team, planned):
    move(team["lead"], kh, planned, "in_progress")
    return planned


def test_the_form_says_where_its_changes_go_and_what_fits(client, kh, team, started):
    client.force_login(team["lead"])
    body = client.get(f"/p/KH/assessments/{started.pk}/clusters/OSH/").content.decode()
    assert 'class="assessment-layout js-offline-form"' in body
    assert f'data-answers-api="/api/v1/p/KH/assessments/{started.pk}/answers/"' in body
    assert f'data-attachments-api="/api/v1/p/KH/assessments/{started.pk}/attachments/"' in body
    assert f'data-offline-page="/p/KH/assessments/{started.pk}/offline/"' in body
    assert f'data-file-max-bytes="{10 * 1024 * 1024}"' in body
    assert f'data-queue-max-bytes="{offline.QUEUE_MAX_BYTES}"' in body


def test_a_form_that_cannot_be_answered_keeps_nothing(client, kh, kh_manager, team, started):
    client.force_login(kh_manager)  # may read the form, is not one of its assessors
    body = client.get(f"/p/KH/assessments/{started.pk}/clusters/OSH/").content.decode()
    assert "js-offline-form" not in body


def test_the_page_of_kept_changes(client, kh, team, started):
    client.force_login(team["lead"])
    response = client.get(f"/p/KH/assessments/{started.pk}/offline/")
    assert response.status_code == 200
    body = response.content.decode()
    labels = json.loads(
        html.unescape(
            re.search(r'<div id="offline-labels" hidden data-labels="([^"]*)"></div>', body).group(1)
        )
    )
    assert labels["values"] == {"C": "Compliant", "NC": "Non-compliant", "NA": "Not applicable"}
    assert "Changed by a colleague meanwhile" in body


def test_a_factory_user_has_no_page_of_kept_changes(client, kh, kh_factory, started):
    hr = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    client.force_login(hr)
    assert client.get(f"/p/KH/assessments/{started.pk}/offline/").status_code == 404


def token_of(client: Client, path: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(path).content.decode()).group(
        1
    )


def test_kept_answers_are_sent_with_the_session_and_its_token(kh, team, started):
    """What offline.js does: one request of every waiting answer, the page's CSRF token beside the cookie."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(team["lead"])
    with tenancy.scope({kh.pk}):
        questions = list(started.tool_version.questions.order_by("key").values_list("pk", flat=True)[:2])
    api = f"/api/v1/p/KH/assessments/{started.pk}/answers/"
    body = {
        "answers": [
            {"question": q, "value": "C", "finding": "", "evidence": [], "version": 0} for q in questions
        ]
    }
    refused = browser.post(api, body, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    token = token_of(browser, f"/p/KH/assessments/{started.pk}/clusters/OSH/")
    sent = browser.post(api, body, content_type="application/json", headers={"X-CSRFToken": token})
    assert sent.status_code == 200 and [a["version"] for a in sent.json()] == [1, 1]
    # Sent again on the version it was made on: a colleague's save meanwhile is not overwritten.
    again = browser.post(api, body, content_type="application/json", headers={"X-CSRFToken": token})
    assert again.status_code == 409
    assert {c["question"] for c in again.json()["conflicts"]} == set(questions)
    assert all(c["updated_by"] for c in again.json()["conflicts"])
    with tenancy.scope({kh.pk}):
        assert Answer.objects.filter(assessment=started).count() == 2


def test_a_kept_photo_is_sent_with_the_session_and_its_token(kh, team, started, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(team["lead"])
    token = token_of(browser, f"/p/KH/assessments/{started.pk}/clusters/OSH/")
    with tenancy.scope({kh.pk}):
        question = started.tool_version.questions.get(key="OSH-01").pk
    response = browser.post(
        f"/api/v1/p/KH/assessments/{started.pk}/attachments/",
        {"question": question, "file": SimpleUploadedFile("exit.jpg", photo_with_gps(), "image/jpeg")},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201
    assert set(response.json()) >= {"id", "original_name", "size"}


def test_signed_out_the_api_answers_401_so_the_changes_stay_kept(client, started):
    response = client.post(
        f"/api/v1/p/KH/assessments/{started.pk}/answers/",
        {"answers": [{"question": 1, "value": "C", "version": 0}]},
        content_type="application/json",
    )
    assert response.status_code == 401
