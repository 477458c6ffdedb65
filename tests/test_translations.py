"""Every string of the interface is translated into every language the platform offers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "locale"


@pytest.mark.parametrize("code", [code for code, _ in settings.LANGUAGES if code != "en"])
def test_catalogue_is_complete_and_nothing_is_fuzzy(code):
    po = (LOCALE / code / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = po.split("\n\n")[1:]
    assert entries, f"no catalogue for {code}"
    untranslated = [
        # An empty msgstr line followed by continuation lines is a wrapped translation, not a missing one.
        e
        for e in entries
        if re.search(r'^msgstr(\[\d\])? ""(?!\n")$', e, re.M) and not e.startswith("#~")
    ]
    fuzzy = [e for e in entries if "#, fuzzy" in e or ", fuzzy" in e]
    assert not untranslated, f"untranslated in {code}: {untranslated[:3]}"
    assert not fuzzy, f"fuzzy in {code}: {fuzzy[:3]}"


def test_arabic_is_compiled_and_used():
    with translation.override("ar"):
        assert translation.gettext("Factory registry") == "سجل المصانع"
        assert translation.get_language_bidi()


@pytest.mark.django_db
def test_switching_to_arabic_turns_the_page_right_to_left(kh_manager):
    client = Client()
    client.force_login(kh_manager)
    response = client.post("/i18n/setlang/", {"language": "ar", "next": "/"}, follow=True)
    page = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in page and "برامجك" in page


@pytest.mark.django_db
def test_users_see_their_own_language_until_they_choose_another(kh):
    from betterwork.models import Role
    from tests.model_factories import user_with_role

    user = user_with_role(Role.PROGRAMME_MANAGER, kh)
    user.language = "ar"
    user.save()
    client = Client()
    client.force_login(user)
    assert 'dir="rtl"' in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert 'dir="ltr"' in client.get("/").content.decode()
