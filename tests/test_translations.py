"""Every string of the interface is translated into every language the platform offers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "locale"
# Django's own words for the languages Django does not translate (Amharic).
DJANGO_GAPS = Path(settings.BASE_DIR) / "locale_django"
CATALOGUES = [
    *((LOCALE, code) for code, _ in settings.LANGUAGES if code != "en"),
    *((DJANGO_GAPS, path.name) for path in sorted(DJANGO_GAPS.iterdir())),
]
ids = [f"{base.name}-{code}" for base, code in CATALOGUES]


@pytest.mark.parametrize(("base", "code"), CATALOGUES, ids=ids)
def test_catalogue_is_complete_and_nothing_is_fuzzy(base, code):
    po = (base / code / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
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
    user.refresh_from_db()
    assert user.language == "en"  # kept: their e-mails and other devices follow the choice
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    user.refresh_from_db()
    assert user.language == "en"


# Letters each language's translations must use where the English has words (Latin-script
# languages are checked for copies of the English instead).
SCRIPTS = {"ar": "\u0600-\u06ff", "km": "\u1780-\u17ff", "bn": "\u0980-\u09ff", "am": "\u1200-\u137f"}
PLACEHOLDERS = re.compile(r"%\(\w+\)[sdfr]|%[sdfr%]|\{[\w.]*\}|</?[a-zA-Z][^>]*>|&[a-z]+;")
NAMES = {"Betterwork", "LKS Bipartit"}  # the same in every language


def compiled(base, code):
    import gettext

    with (base / code / "LC_MESSAGES" / "django.mo").open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]
    for key, text in catalogue.items():
        source = key[0] if isinstance(key, tuple) else key
        if source:  # "" is the header
            yield source.split("\x04")[-1], text  # without its context


@pytest.mark.parametrize(("base", "code"), CATALOGUES, ids=ids)
def test_translations_are_in_the_language_and_not_the_english_again(base, code):
    wrong = []
    for source, text in compiled(base, code):
        words = PLACEHOLDERS.sub(" ", source)
        if source in NAMES or not re.search(r"[A-Za-z]{2,}", words):
            continue  # nothing to translate: a name, a format, a symbol, a number
        if code in SCRIPTS:
            if not re.search(f"[{SCRIPTS[code]}]", text):
                wrong.append((source, text))
        elif text.strip() == source.strip() and len(words.split()) > 1:
            wrong.append((source, text))
    assert not wrong, f"{len(wrong)} translations in {code} are English or copy it: {wrong[:5]}"


@pytest.mark.parametrize(("base", "code"), CATALOGUES, ids=ids)
def test_each_catalogue_says_how_it_was_translated(base, code):
    head = (base / code / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8").split('msgid ""')[0]
    assert "Machine-translated" in head and "native speaker should review" in head, head


def test_the_nine_languages_are_offered():
    from betterwork.services import PLATFORM_LANGUAGES

    offered = {code for code, _ in settings.LANGUAGES}
    assert offered == {"en", "km", "vi", "ar", "bn", "am", "id", "fr", "es"}
    assert offered <= set(PLATFORM_LANGUAGES)


def test_dates_and_numbers_follow_the_language():
    import datetime as dt

    from django.utils import formats

    day = dt.date(2026, 3, 5)
    expected = {
        "en": "March 5, 2026",
        "fr": "5 mars 2026",
        "es": "5 de marzo de 2026",
        "am": "5 ማርች 2026",  # Django has no Amharic: the platform's own formats and month names
    }
    for code, text in expected.items():
        with translation.override(code):
            assert formats.date_format(day, "DATE_FORMAT") == text, code
    for code, script in (("km", "\u1780-\u17ff"), ("bn", "\u0980-\u09ff"), ("ar", "\u0600-\u06ff")):
        with translation.override(code):
            assert re.search(f"[{script}]", formats.date_format(day, "DATE_FORMAT")), code
    with translation.override("fr"):
        assert formats.number_format(1234.5, decimal_pos=1, force_grouping=True) in (
            "1\u202f234,5",
            "1\xa0234,5",
        )
    grouped = {"am": "1,234,567.5", "km": "1.234.567,5", "vi": "1.234.567,5", "bn": "12,34,567.5"}
    for code, text in grouped.items():
        with translation.override(code):
            assert formats.number_format(1234567.5, decimal_pos=1, force_grouping=True) == text, code
    assert translation.get_language_info("km")["name_local"] == "ភាសាខ្មែរ"
