"""Compliance-tool content shows in the reader's language; where the country's version has no
translation, the English shows, marked as English for the eye and for screen readers."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import translation

from assessments.templatetags.tool_text import in_language_marked, in_language_text

EXITS = {
    "en": "Are exits locked in working hours?",
    "vi": "Lối thoát hiểm có bị khóa trong giờ làm việc không?",
}


def test_the_readers_language_when_the_tool_has_it_else_english_marked_as_such():
    with translation.override("vi"):
        assert in_language_marked(EXITS) == EXITS["vi"]
    with translation.override("fr"):
        shown = in_language_marked(EXITS)
        assert shown.startswith(f'<span lang="en">{EXITS["en"]}</span>')
        assert '<span class="fallback-note">(en anglais)</span>' in shown
        assert in_language_text(EXITS) == EXITS["en"]  # for labels: unmarked
    with translation.override("en"):
        assert in_language_marked(EXITS) == EXITS["en"]
    with translation.override("km"):  # no English either: the one language there is, by its own name
        assert 'lang="vi"' in in_language_marked({"vi": EXITS["vi"]})
        assert translation.get_language_info("vi")["name_local"] in in_language_marked({"vi": EXITS["vi"]})
    assert in_language_marked({}) == "" and in_language_marked(None) == ""


def test_text_is_escaped_whichever_language_shows():
    with translation.override("fr"):
        assert "<b>" not in in_language_marked({"en": "Exits <b>locked</b>?"})
    with translation.override("en"):
        assert "<b>" not in in_language_marked({"en": "Exits <b>locked</b>?"})


@pytest.mark.django_db
def test_the_assessment_form_marks_questions_the_tool_has_only_in_english(client, kh, team, planned):
    client.force_login(team["lead"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = client.get(f"/p/KH/assessments/{planned.pk}/clusters/OSH/").content.decode()
    assert '<html lang="fr"' in page
    assert '<span lang="en">Are exits locked in working hours?</span>' in page
    assert "(en anglais)" in page


@pytest.mark.django_db
def test_a_published_version_takes_translations_without_changing(tool):
    from django.core.exceptions import ValidationError

    from assessments import services

    digest = tool.content_sha256
    count = services.tool_translation_load(
        data={
            "tool": "global",
            "version": "2026.1",
            "language": "fr",
            "title": "Outil de conformité mondial",
            "points": {"OSH.EMERGENCY": "Préparation aux situations d'urgence"},
            "questions": {
                "OSH-01": {"text": "Les sorties sont-elles verrouillées pendant les heures de travail ?"},
            },
        }
    )
    assert count == 3
    tool.refresh_from_db()
    question = tool.questions.get(key="OSH-01")
    assert (
        question.text["fr"].startswith("Les sorties")
        and question.text["en"] == "Are exits locked in working hours?"
    )
    assert question.point.name["fr"] == "Préparation aux situations d'urgence"
    assert tool.title["fr"] == "Outil de conformité mondial" and tool.content_sha256 == digest
    with translation.override("fr"):
        assert in_language_marked(question.text).startswith("Les sorties")
    for wrong, message in (
        ({"language": "en"}, "other than English"),
        ({"language": "xx"}, "other than English"),
        ({"version": "1999.1"}, "No tool version"),
        ({"questions": {"NOPE-01": {"text": "Non ?"}}}, "has no questions NOPE-01"),
    ):
        with pytest.raises(ValidationError, match=message):
            services.tool_translation_load(
                data={"tool": "global", "version": "2026.1", "language": "fr", **wrong}
            )


def test_every_translation_file_names_a_version_of_the_tool_and_known_keys():
    from pathlib import Path

    import yaml

    tool_dir = Path(__file__).resolve().parents[2] / "assessments" / "tool"
    template = yaml.safe_load((tool_dir / "global.yaml").read_text(encoding="utf-8"))
    points = yaml.safe_load((tool_dir / "points.yaml").read_text(encoding="utf-8"))
    keys = {q["key"] for q in template["questions"]}
    point_codes = {p["code"] for c in points["clusters"] for p in c["points"]}
    files = sorted((tool_dir / "translations").glob("*.yaml"))
    assert files
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert path.name == f"{data['tool']}-{data['version']}.{data['language']}.yaml"
        assert set(data["questions"]) == keys, path.name  # every question, none unknown
        assert set(data["points"]) == point_codes, path.name
