"""The compliance tool: global points, versioned question sets, immutability once published."""

from __future__ import annotations

import copy
import datetime as dt
import io
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from assessments import selectors, services
from assessments.models import Cluster, CompliancePoint, Question, ToolStatus, ToolVersion

pytestmark = pytest.mark.django_db
TOOL_DIR = Path(__file__).resolve().parents[2] / "assessments" / "tool"


@pytest.fixture
def points():
    return services.points_load(data=yaml.safe_load((TOOL_DIR / "points.yaml").read_text()))


def version_file(**overrides):
    data = {
        "tool": "global",
        "version": "2026.1",
        "effective_from": dt.date(2026, 1, 1),
        "title": {"en": "Global compliance tool"},
        "questions": [
            {
                "key": "CL-01",
                "point": "CL.CHILD_LABOURERS",
                "noncompliant_answer": "yes",
                "flags": ["publicly_reported", "zero_tolerance"],
                "text": {
                    "en": "Are any workers below the minimum age?",
                    "ar": "هل يوجد عمال دون السن الدنيا؟",
                },
                "guidance": {"en": "Check age records and observe."},
                "legal_reference": "ILO C138, Art. 2",
            },
            {
                "key": "OSH-01",
                "point": "OSH.EMERGENCY",
                "noncompliant_answer": "no",
                "flags": [],
                "text": {"en": "Are emergency exits marked?"},
                "legal_reference": "National law",
            },
        ],
    }
    data.update(overrides)
    return data


def test_points_file_has_the_eight_clusters_and_loads_idempotently(points):
    assert points == (8, 39)
    assert services.points_load(data=yaml.safe_load((TOOL_DIR / "points.yaml").read_text())) == (8, 39)
    assert Cluster.objects.count() == 8 and CompliancePoint.objects.count() == 39
    assert list(Cluster.objects.filter(core=True).values_list("code", flat=True)) == ["CL", "DI", "FL", "FA"]
    assert CompliancePoint.objects.get(code="OSH.EMERGENCY").cluster.code == "OSH"


def test_a_version_loads_reloads_unchanged_and_exports_back(points):
    version, outcome = services.tool_load(data=version_file())
    assert outcome == "created" and version.status == ToolStatus.DRAFT
    question = version.questions.get(key="CL-01")
    assert question.noncompliant_when_yes and question.zero_tolerance and question.publicly_reported
    assert not version.questions.get(key="OSH-01").noncompliant_when_yes
    assert services.tool_load(data=version_file())[1] == "unchanged"

    exported = yaml.safe_load(yaml.safe_dump(selectors.tool_export(version=version), allow_unicode=True))
    again, outcome = services.tool_load(data=exported)
    assert outcome == "unchanged" and again.pk == version.pk


def test_a_draft_may_change_a_published_version_never(points):
    services.tool_load(data=version_file())
    changed = version_file()
    changed["questions"][1]["text"] = {"en": "Are exits and escape routes clearly marked?"}
    version, outcome = services.tool_load(data=changed)
    assert outcome == "replaced"
    assert Question.objects.get(key="OSH-01").text["en"].startswith("Are exits and escape")
    services.tool_publish(version=version)
    with pytest.raises(ValidationError, match="published and cannot change"):
        services.tool_load(data=version_file())
    assert Question.objects.get(key="OSH-01").text["en"].startswith("Are exits and escape")


def test_publishing_a_new_version_closes_the_previous_one(points):
    first, _ = services.tool_load(data=version_file(), publish=True)
    second, _ = services.tool_load(
        data=version_file(version="2027.1", effective_from=dt.date(2027, 1, 1)), publish=True
    )
    first.refresh_from_db()
    assert first.effective_to == dt.date(2026, 12, 31) and second.effective_to is None
    assert second.status == ToolStatus.PUBLISHED and second.published_at is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda q: q.update(point="OSH.NOWHERE"), "unknown compliance point"),
        (lambda q: q.update(key="OSH-01"), "used twice"),
        (lambda q: q.update(noncompliant_answer="maybe"), 'must be "yes" or "no"'),
        (lambda q: q.update(flags=["secret"]), "unknown flags"),
        (lambda q: q.update(text={"ar": "نص"}), "English text"),
    ],
)
def test_bad_files_are_refused_with_every_reason(points, change, message):
    data = version_file()
    change(data["questions"][0])
    with pytest.raises(ValidationError, match=message):
        services.tool_load(data=data)
    assert not ToolVersion.objects.exists()


def test_country_versions_need_a_programme_and_known_global_questions(points, kh):
    services.tool_load(data=version_file(), publish=True)
    country = version_file(tool="KH")
    country["questions"][0]["global_key"] = "CL-01"
    version, _ = services.tool_load(data=country)
    assert version.questions.get(key="CL-01").global_key == "CL-01"
    with pytest.raises(ValidationError, match="No country programme"):
        services.tool_load(data=version_file(tool="ZZ"))
    wrong = copy.deepcopy(country)
    wrong["version"] = "2026.2"
    wrong["questions"][0]["global_key"] = "CL-99"
    with pytest.raises(ValidationError, match="Unknown global questions: CL-99"):
        services.tool_load(data=wrong)


def test_commands_load_and_export(points, tmp_path):
    path = tmp_path / "global.yaml"
    path.write_text(yaml.safe_dump(version_file(), allow_unicode=True))
    out = io.StringIO()
    call_command("load_tool", str(path), "--publish", stdout=out)
    assert "global 2026.1 created, 2 questions, published" in out.getvalue()
    exported = io.StringIO()
    call_command("export_tool", "global", "2026.1", stdout=exported)
    assert yaml.safe_load(exported.getvalue())["questions"][0]["key"] == "CL-01"
    broken = tmp_path / "broken.yaml"
    broken.write_text("tool: global\nversion: '9'\neffective_from: soon\nquestions: []\n")
    with pytest.raises(CommandError, match="effective_from must be a date"):
        call_command("load_tool", str(broken), stdout=io.StringIO())
    with pytest.raises(CommandError, match="No version 3 of the global tool"):
        call_command("export_tool", "global", "3", stdout=io.StringIO())


def test_the_shipped_global_tool_covers_every_point_in_two_languages(points, kh):
    out = io.StringIO()
    call_command("load_tool", "--publish", stdout=out)
    version = ToolVersion.objects.get(tool="global", version="2026.1")
    questions = list(version.questions.select_related("point"))
    assert len(questions) >= 150
    assert {q.point.code for q in questions} == set(CompliancePoint.objects.values_list("code", flat=True))
    assert all(q.text.get("en") and q.text.get("ar") and q.guidance.get("en") for q in questions)
    assert 21 <= sum(q.publicly_reported for q in questions) <= 35
    assert all(q.point.cluster.code in {"CL", "FL", "FA", "DI"} for q in questions if q.zero_tolerance)
    again = io.StringIO()
    call_command("load_tool", stdout=again)
    assert "global 2026.1 unchanged" in again.getvalue()


@pytest.mark.parametrize(("code", "language", "minimum_age"), [("VN", "vi", "15"), ("JO", "ar", "16")])
def test_country_versions_carry_national_law_in_their_language(points, code, language, minimum_age):
    from betterwork.models import Programme

    Programme.objects.create(code=code, name=f"Programme {code}", country=code, languages=[language, "en"])
    call_command("load_tool", "--publish", stdout=io.StringIO())
    version = ToolVersion.objects.get(tool=code, version="2026.1")
    questions = {q.key: q for q in version.questions.all()}
    assert len(questions) >= 150
    assert all(q.text.get(language) and q.text.get("en") for q in questions.values())
    national = [q for q in questions.values() if not q.global_key]
    assert len(national) >= 3 and all(q.key.startswith(f"{code}-") for q in national)
    assert minimum_age in questions["CL-01"].text["en"] and questions["CL-01"].global_key == "CL-01"
    assert "Labour" in questions["WT-01"].legal_reference
