"""Synthesis reports: composed and published by the programme's managers only, their figures the
rollups' (equal to a recomputation from the answers), frozen at publication, public as a page, a
CSV, an API and PDFs, and never a draft, a withdrawn report or another programme's."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import transaction
from django.test import Client
from pypdf import PdfReader

from assessments.models import Answer, Question
from betterwork import tenancy
from betterwork.models import AuditEvent, Role
from betterwork.permissions import Principal
from betterwork.tasks import SCOPE_KWARG
from reporting import rollups, synthesis, synthesis_services
from reporting.models import JobStatus, ReportJob, SynthesisReport, SynthesisStatus
from reporting.synthesis_services import SynthesisInput
from reporting.tasks import render_report
from tests.model_factories import FactoryFactory, user_with_role
from tests.reporting.test_rollups import POINTS, answer_values, make_assessment, wide_tool  # noqa: F401

pytestmark = pytest.mark.django_db

FIRE = ["Q2", "Q3"]  # the two questions of OSH.EMERGENCY in the wide tool
# Questions Q0..Q7, two per point (POINTS): C compliant, N non-compliant, A not applicable.
ANSWERS = {
    ("North Garments", 1): "NCCCNNAA",
    ("North Garments", 2): "CCNCCCAA",
    ("South Textiles", 1): "CCNCCCCN",
    ("South Textiles", 2): "CCCNCCCC",
    ("East Knitwear", 1): "NNNNCCCC",
}


def client_for(user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def as_manager(manager, scope, fn, /, **kwargs):
    with tenancy.scope({scope.pk}), transaction.atomic():
        return fn(actor=Principal.for_user(manager), **kwargs)


@pytest.fixture
def counted(kh, vn, wide_tool):  # noqa: F811
    """Three Cambodian factories counted in cycles 1 (2025) and 2 (2026), a draft of cycle 3 that
    never counts, and a Vietnamese factory that is never Cambodia's."""
    with tenancy.scope({kh.pk, vn.pk}), transaction.atomic():
        factories = {
            name: FactoryFactory(
                programme=kh, name=name, region="Phnom Penh" if name != "East Knitwear" else "Kandal"
            )
            for name in ("North Garments", "South Textiles", "East Knitwear")
        }
        assessments = {}
        for (name, cycle), values in ANSWERS.items():
            assessments[(name, cycle)] = make_assessment(
                factories[name], wide_tool, cycle=cycle, values=values
            )
            rollups.count_final(assessments[(name, cycle)])
        make_assessment(
            factories["North Garments"], wide_tool, cycle=3, values="NNNNNNNN", status="in_review"
        )
        rollups.count_final(
            make_assessment(FactoryFactory(programme=vn), wide_tool, cycle=1, values="NNNNNNNN")
        )
    return {"factories": factories, "assessments": assessments}


def compose(manager, programme, **fields):
    data = SynthesisInput(**{"title": "Fire safety 2025-2026", "scope": "cycles", "cycles": [1, 2], **fields})
    return as_manager(manager, programme, synthesis_services.synthesis_create, programme=programme, data=data)


def publish(manager, programme, report):
    with tenancy.scope({programme.pk}):
        version = SynthesisReport.objects.get(pk=report.pk).version
    return as_manager(
        manager, programme, synthesis_services.synthesis_publish, report=report, expected_version=version
    )


def by_hand(programme, keys, cycle):
    """A question group's rate in a cycle, from the answers: factories NC on any ÷ answering C or NC."""
    with tenancy.scope({programme.pk}):
        answers = Answer.objects.filter(
            assessment__programme=programme,
            assessment__cycle=cycle,
            assessment__status="final",
            question__key__in=keys,
            value__in=("C", "NC"),
        ).values_list("assessment_id", "value")
        assessed = {a for a, _ in answers}
        non_compliant = {a for a, v in answers if v == "NC"}
    return len(non_compliant), len(assessed)


# --- Composing and publishing: the programme's managers only ---------------------------------


def test_only_the_programmes_managers_compose_preview_and_publish(kh, vn, counted, kh_manager, vn_manager):
    manager = client_for(kh_manager)
    assert manager.get("/p/KH/synthesis/").status_code == 200
    assert manager.get("/p/KH/synthesis/new/").status_code == 200
    created = manager.post(
        "/p/KH/synthesis/new/",
        {
            "title": "Fire safety",
            "kind": "thematic",
            "introduction": "Exits & alarms.",
            "scope": "cycles",
            "cycles": ["1", "2"],
            "theme_points": ["OSH.EMERGENCY"],  # the shortcut: every question of the point
            "version": "0",
        },
    )
    assert created.status_code == 302
    with tenancy.scope({kh.pk}):
        report = SynthesisReport.objects.get()
    assert report.status == SynthesisStatus.DRAFT and report.theme_keys == FIRE
    preview = manager.get(f"/p/KH/synthesis/{report.pk}/").content.decode()
    assert "banner--draft" in preview and "Fire safety" in preview and "Exits &amp; alarms." in preview

    advisor = client_for(user_with_role(Role.ADVISOR, kh))
    factory_user = client_for(
        user_with_role(Role.FACTORY, kh, factory=counted["factories"]["North Garments"])
    )
    team_leader = client_for(user_with_role(Role.TEAM_LEADER, kh))
    for client in (advisor, factory_user, team_leader, client_for(vn_manager)):
        for url in ("/p/KH/synthesis/", "/p/KH/synthesis/new/", f"/p/KH/synthesis/{report.pk}/"):
            assert client.get(url).status_code == 404, url
        assert client.post(f"/p/KH/synthesis/{report.pk}/publish/", {"version": 1}).status_code == 404
    # Another programme's manager, under their own code: the report does not exist there.
    assert client_for(vn_manager).get(f"/p/VN/synthesis/{report.pk}/").status_code == 404
    assert (
        client_for(vn_manager).post(f"/p/VN/synthesis/{report.pk}/publish/", {"version": 1}).status_code
        == 404
    )
    assert client_for().get("/p/KH/synthesis/").status_code == 302  # to sign in
    with tenancy.scope({kh.pk}):
        assert SynthesisReport.objects.get().status == SynthesisStatus.DRAFT

    published = manager.post(f"/p/KH/synthesis/{report.pk}/publish/", {"version": report.version})
    assert published.status_code == 302
    with tenancy.scope({kh.pk}):
        report = SynthesisReport.objects.get()
        actions = list(AuditEvent.objects.filter(object_id=str(report.pk)).values_list("action", flat=True))
    assert report.status == SynthesisStatus.PUBLISHED and report.published_by == kh_manager
    assert {"synthesis.create", "synthesis.publish"} <= set(actions)
    # Published reports never change: no edit page, no second publication, a new version instead.
    assert manager.get(f"/p/KH/synthesis/{report.pk}/edit/").status_code == 404
    again = manager.post(f"/p/KH/synthesis/{report.pk}/publish/", {"version": report.version}, follow=True)
    assert "already published" in again.content.decode()
    copied = manager.post(f"/p/KH/synthesis/{report.pk}/new-version/")
    with tenancy.scope({kh.pk}):
        draft = SynthesisReport.objects.get(status=SynthesisStatus.DRAFT)
    assert copied["Location"] == f"/p/KH/synthesis/{draft.pk}/edit/"
    assert draft.based_on_id == report.pk and draft.theme_keys == FIRE and draft.title == report.title


def test_the_form_explains_what_is_missing(kh, counted, kh_manager):
    manager = client_for(kh_manager)
    page = manager.post(
        "/p/KH/synthesis/new/", {"title": "Empty", "kind": "thematic", "scope": "cycles", "version": "0"}
    ).content.decode()
    assert "Choose at least one cycle." in page and "needs at least one question" in page
    page = manager.post(
        "/p/KH/synthesis/new/",
        {"title": "Years", "kind": "annual", "scope": "years", "year_from": "2026", "year_to": "2025"},
    ).content.decode()
    assert "The last year cannot come before the first." in page
    with tenancy.scope({kh.pk}):
        assert not SynthesisReport.objects.exists()


def test_a_stale_edit_is_refused(kh, counted, kh_manager):
    report = compose(kh_manager, kh)
    manager = client_for(kh_manager)
    form = {"title": "Renamed", "kind": "annual", "scope": "cycles", "cycles": ["1"]}
    assert manager.post(f"/p/KH/synthesis/{report.pk}/edit/", {**form, "version": "1"}).status_code == 302
    stale = manager.post(f"/p/KH/synthesis/{report.pk}/edit/", {**form, "title": "Lost", "version": "1"})
    assert "Someone else changed this report meanwhile" in stale.content.decode()
    with tenancy.scope({kh.pk}):
        assert SynthesisReport.objects.get().title == "Renamed"


# --- The figures ------------------------------------------------------------------------------


def test_the_figures_equal_a_recomputation_from_the_answers(kh, counted, kh_manager):
    report = compose(kh_manager, kh, kind="thematic", theme_keys=FIRE)
    with tenancy.scope({kh.pk}), transaction.atomic():
        shown = synthesis.compute(SynthesisReport.objects.select_related("programme").get(pk=report.pk))
    # Three factories, five final assessments (the draft of cycle 3 and Vietnam never count).
    assert shown["counted"]["factories"] == 3 and shown["counted"]["assessments"] == 5
    assert shown["counted"]["per_cycle"] == [[1, 3], [2, 2]]

    # OSH, one point (Q2, Q3): non-compliant when either is NC, over both cycles.
    nc1, assessed1 = by_hand(kh, FIRE, 1)
    nc2, assessed2 = by_hand(kh, FIRE, 2)
    osh = next(c for c in shown["clusters"] if c["code"] == "OSH")
    assert osh["share"] == (nc1 + nc2) / (assessed1 + assessed2) == 4 / 5
    child = next(c for c in shown["clusters"] if c["code"] == "CL")
    nc, assessed = map(sum, zip(by_hand(kh, ["Q0", "Q1"], 1), by_hand(kh, ["Q0", "Q1"], 2), strict=True))
    assert child["share"] == nc / assessed == 2 / 5

    # The theme, question by question and cycle by cycle.
    assert shown["theme"]["cycles"] == [1, 2]
    rows = {row["key"]: row for row in shown["theme"]["questions"]}
    assert list(rows) == FIRE
    for key in FIRE:
        for index, cycle in enumerate((1, 2)):
            nc, assessed = by_hand(kh, [key], cycle)
            rate = rows[key]["per_cycle"][index]
            assert (rate["non_compliant"], rate["assessed"]) == (nc, assessed)
    assert rows["Q2"]["per_cycle"][0]["share"] == 2 / 3 and rows["Q3"]["per_cycle"][1]["share"] == 1 / 2
    assert (rows["Q2"]["non_compliant"], rows["Q2"]["assessed"]) == (3, 5)
    # The most common issues: highest rate first, then most factories, then key; never a rate of 0.
    assert [row["key"] for row in shown["top"]] == ["Q2", "Q0", "Q3", "Q7", "Q1", "Q4", "Q5"]

    # By years: 2026 holds cycle 2 only; a region filter keeps its factories only.
    with tenancy.scope({kh.pk}), transaction.atomic():
        report.scope, report.year_from, report.year_to = "years", 2026, 2026
        assert synthesis.compute(report)["counted"]["assessments"] == 2
        report.year_from, report.region = 2025, "Kandal"
        assert synthesis.compute(report)["counted"]["factories"] == 1


def test_the_page_states_the_scope_and_its_counting_rules(kh, counted, kh_manager):
    report = compose(kh_manager, kh, region="Phnom Penh", union_present=False, theme_keys=FIRE)
    page = client_for(kh_manager).get(f"/p/KH/synthesis/{report.pk}/").content.decode()
    assert "The report counts the assessments of cycles 1 and 2." in page
    assert "5 final assessments counted, of 3 factories." not in page  # the region keeps two
    assert "4 final assessments counted, of 2 factories." in page
    assert "Only factories in the region or zone “Phnom Penh” and where no union is present." in page
    assert "A factory counts once in each cycle" in page


# --- Frozen at publication ----------------------------------------------------------------------


def test_a_published_report_never_changes_when_the_rollups_do(kh, counted, kh_manager, wide_tool):  # noqa: F811
    report = publish(kh_manager, kh, compose(kh_manager, kh, kind="thematic", theme_keys=FIRE))
    before_page = client_for().get(f"/public/KH/synthesis/{report.pk}/").content.decode()
    before_api = client_for().get(f"/api/v1/public/KH/synthesis/{report.pk}/").json()
    before_csv = client_for().get(f"/public/KH/synthesis/{report.pk}.csv").content
    assert "80%" in before_page  # OSH over both cycles

    # A revision of South's cycle 2: everything non-compliant now.
    with tenancy.scope({kh.pk}), transaction.atomic():
        revised = counted["assessments"][("South Textiles", 2)]
        answer_values(revised, wide_tool, "NNNNNNNN")
        rollups.count_final(revised)
        draft = compose(kh_manager, kh, kind="thematic", theme_keys=FIRE)
        live = synthesis.compute(SynthesisReport.objects.select_related("programme").get(pk=draft.pk))
    assert next(c for c in live["clusters"] if c["code"] == "CL")["share"] != 2 / 5  # the rollups moved

    assert client_for().get(f"/api/v1/public/KH/synthesis/{report.pk}/").json() == before_api
    assert client_for().get(f"/public/KH/synthesis/{report.pk}.csv").content == before_csv
    after_page = client_for().get(f"/public/KH/synthesis/{report.pk}/").content.decode()
    assert after_page == before_page
    # The manager's view of the published report shows the frozen figures too.
    assert "80%" in client_for(kh_manager).get(f"/p/KH/synthesis/{report.pk}/").content.decode()


# --- Never public: drafts, withdrawn reports, another programme's ------------------------------


def public_urls(code, pk):
    return [
        f"/public/{code}/synthesis/{pk}/",
        f"/public/{code}/synthesis/{pk}.csv",
        f"/public/{code}/synthesis/{pk}/pdf/en/",
        f"/api/v1/public/{code}/synthesis/{pk}/",
    ]


def listed(code):
    page = client_for().get(f"/public/{code}/").content.decode()
    api = client_for().get(f"/api/v1/public/{code}/synthesis/").json()
    return page, [row["title"] for row in api["results"]]


def test_drafts_and_withdrawn_reports_are_never_public(kh, counted, kh_manager):
    draft = compose(kh_manager, kh, title="Still a draft")
    for url in public_urls("KH", draft.pk):
        assert client_for().get(url).status_code == 404, url
    page, titles = listed("KH")
    assert "Still a draft" not in page and titles == []

    report = publish(kh_manager, kh, compose(kh_manager, kh, title="Annual 2026"))
    page, titles = listed("KH")
    assert "Annual 2026" in page and titles == ["Annual 2026"] and "Still a draft" not in page
    assert client_for().get(f"/public/KH/synthesis/{report.pk}/").status_code == 200

    manager = client_for(kh_manager)
    refused = manager.post(f"/p/KH/synthesis/{report.pk}/withdraw/", {"reason": "  "})
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    withdrawn = manager.post(
        f"/p/KH/synthesis/{report.pk}/withdraw/", {"reason": "A revision is on its way."}
    )
    assert withdrawn.status_code == 302
    for url in public_urls("KH", report.pk):
        assert client_for().get(url).status_code == 404, url
    page, titles = listed("KH")
    assert "Annual 2026" not in page and titles == []
    with tenancy.scope({kh.pk}):
        event = AuditEvent.objects.get(action="synthesis.withdraw")
    assert event.reason == "A revision is on its way." and event.actor == kh_manager
    # The managers still read it, marked as withdrawn, with why.
    preview = manager.get(f"/p/KH/synthesis/{report.pk}/").content.decode()
    assert "banner--withdrawn" in preview and "A revision is on its way." in preview


def test_another_programmes_report_never_shows_under_this_programmes_code(kh, vn, counted, vn_manager):
    report = publish(vn_manager, vn, compose(vn_manager, vn, title="Vietnam annual"))
    assert client_for().get(f"/public/VN/synthesis/{report.pk}/").status_code == 200
    for url in public_urls("KH", report.pk):
        assert client_for().get(url).status_code == 404, url
    page, titles = listed("KH")
    assert "Vietnam annual" not in page and titles == []
    for url in (f"/public/XX/synthesis/{report.pk}/", "/public/XX/", "/api/v1/public/XX/synthesis/"):
        assert client_for().get(url).status_code == 404, url


# --- PDFs ----------------------------------------------------------------------------------------


def jobs_of(programme, report):
    with tenancy.scope({programme.pk}):
        return {
            job.language: job
            for job in ReportJob.objects.filter(kind="synthesis_report", target_id=report.pk)
        }


def render(programme, job):
    return render_report.apply(args=[job.pk], kwargs={SCOPE_KWARG: [programme.pk]}).get()


def test_publishing_makes_the_pdfs_and_the_public_downloads_only_ready_ones(kh, counted, kh_manager, media):
    report = publish(
        kh_manager, kh, compose(kh_manager, kh, title="Fire safety in 2025 and 2026", theme_keys=FIRE)
    )
    jobs = jobs_of(kh, report)
    assert sorted(jobs) == ["en", "km"] and {j.status for j in jobs.values()} == {JobStatus.QUEUED}
    # Nothing is offered before a PDF is ready.
    assert client_for().get(f"/public/KH/synthesis/{report.pk}/pdf/en/").status_code == 404
    assert "being prepared" in client_for().get(f"/public/KH/synthesis/{report.pk}/").content.decode()

    assert render(kh, jobs["en"]) == "ready"
    pdf = client_for().get(f"/public/KH/synthesis/{report.pk}/pdf/en/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    content = b"".join(pdf.streaming_content)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    for expected in (
        "Fire safety in 2025 and 2026",
        "Better Factories Cambodia",
        "Annual synthesis report",
        f"KH-SR{report.pk}",
    ):
        assert expected in text, expected
    assert "Draft" not in text
    # The Khmer one is still queued: not served; the page offers the English one.
    assert client_for().get(f"/public/KH/synthesis/{report.pk}/pdf/km/").status_code == 404
    page = client_for().get(f"/public/KH/synthesis/{report.pk}/").content.decode()
    assert f"/public/KH/synthesis/{report.pk}/pdf/en/" in page and "/pdf/km/" not in page
    assert render(kh, jobs["km"]) == "ready"
    page = client_for().get(f"/public/KH/synthesis/{report.pk}/").content.decode()
    assert "/pdf/km/" in page  # offered beside the English one
    assert client_for().get(f"/public/KH/synthesis/{report.pk}/pdf/fr/").status_code == 404
    assert client_for().get(f"/public/VN/synthesis/{report.pk}/pdf/en/").status_code == 404


def test_a_drafts_pdf_is_the_managers_only(kh, counted, kh_manager, media):
    draft = compose(kh_manager, kh, title="Not yet")
    manager = client_for(kh_manager)
    assert manager.post(f"/p/KH/reports/synthesis_report/{draft.pk}/en/").status_code == 302
    job = jobs_of(kh, draft)["en"]
    assert render(kh, job) == "ready"
    downloaded = manager.get(f"/p/KH/reports/jobs/{job.pk}/download/")
    text = "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(b"".join(downloaded.streaming_content))).pages
    )
    assert "Not yet" in text and "Draft" in text
    assert client_for().get(f"/public/KH/synthesis/{draft.pk}/pdf/en/").status_code == 404
    advisor = client_for(user_with_role(Role.ADVISOR, kh))
    assert advisor.get(f"/p/KH/reports/jobs/{job.pk}/download/").status_code == 404
    assert advisor.post(f"/p/KH/reports/synthesis_report/{draft.pk}/en/").status_code == 404
    # Published, the draft's PDF is still never served: its figures were not frozen.
    publish(kh_manager, kh, draft)
    assert client_for().get(f"/public/KH/synthesis/{draft.pk}/pdf/en/").status_code == 404


@pytest.mark.parametrize(
    ("language", "title", "heading"),
    [
        ("ar", "تقرير تجميعي مواضيعي", "ما يحتسبه هذا التقرير"),
        ("km", "របាយការណ៍សំយោគតាមប្រធានបទ", "អ្វីដែលរបាយការណ៍នេះរាប់"),
        ("vi", "Báo cáo tổng hợp theo chủ đề", "Phạm vi tính của báo cáo"),
        ("fr", "Rapport de synthèse thématique", "Ce que compte ce rapport"),
    ],
)
def test_the_pdf_speaks_the_report_language(kh, counted, kh_manager, language, title, heading):
    from django.template.loader import render_to_string
    from django.utils import translation

    from reporting.kinds import SYNTHESIS_REPORT as kind

    report = compose(kh_manager, kh, kind="thematic", theme_keys=FIRE)
    with tenancy.scope({kh.pk}), transaction.atomic(), translation.override(language):
        context = kind.context(kind.load(report.pk))
        html = render_to_string(kind.template, {**context, "language": language, "bidi": language == "ar"})
    assert f'<html lang="{language}"' in html and title in html and heading in html


# --- Open data -----------------------------------------------------------------------------------


def test_the_csv_holds_every_table_and_neutralises_formulas(kh, counted, kh_manager):
    Question.objects.filter(key="Q2").update(text={"en": '=HYPERLINK("http://evil.example","x")'})
    report = publish(kh_manager, kh, compose(kh_manager, kh, kind="thematic", theme_keys=FIRE))
    response = client_for().get(f"/public/KH/synthesis/{report.pk}.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Table",
        "Cluster",
        "Compliance point",
        "Question",
        "Text",
        "Cycle",
        "Factories assessed",
        "Factories non-compliant",
        "Rate (%)",
    ]
    tables = {row[0] for row in rows[1:]}
    assert tables == {
        "Clusters",
        "Compliance points",
        "Most common issues",
        "Trends",
        "Theme",
        "Theme by cycle",
    }
    q2 = [row for row in rows if row[0] == "Theme by cycle" and row[3] == "Q2"]
    assert [row[5:] for row in q2] == [["1", "3", "2", "66.7"], ["2", "2", "1", "50.0"]]
    assert all(row[4].startswith("'=HYPERLINK") for row in q2)


def test_public_pages_and_api_are_cacheable_and_in_the_schema(kh, counted, kh_manager):
    report = publish(kh_manager, kh, compose(kh_manager, kh, title="Annual"))
    client = Client(enforce_csrf_checks=True)
    for url in (
        "/public/",
        "/public/KH/",
        f"/public/KH/synthesis/{report.pk}/",
        f"/public/KH/synthesis/{report.pk}.csv",
        "/api/v1/public/KH/synthesis/",
        f"/api/v1/public/KH/synthesis/{report.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "public" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"], url
        assert {"Accept-Language", "Cookie"} <= {v.strip() for v in response["Vary"].split(",")}, url
        assert not response.cookies, url
        assert "csrfmiddlewaretoken" not in response.content.decode(), url
    assert "/public/KH/" in client.get("/public/").content.decode()
    detail = client.get(f"/api/v1/public/KH/synthesis/{report.pk}/").json()
    assert detail["snapshot"]["counted"]["factories"] == 3 and detail["pdfs"] == {}
    assert detail["snapshot"]["clusters"][0]["name"]["en"] == "Child Labour"
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content.decode()
    assert "/api/v1/public/{code}/synthesis/" in schema and "/api/v1/public/{code}/synthesis/{id}/" in schema


def test_the_public_page_in_arabic_is_right_to_left(kh, counted, kh_manager):
    report = publish(kh_manager, kh, compose(kh_manager, kh, title="Annual"))
    page = client_for().get(f"/public/KH/synthesis/{report.pk}/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert 'dir="rtl"' in page and "عمل الأطفال" in page  # the cluster's own Arabic name


def test_the_demo_publishes_an_annual_and_a_fire_safety_report_once(kh, counted):
    from betterwork.demo import PROGRAMMES, DemoContext
    from reporting import demo

    manager = user_with_role(Role.PROGRAMME_MANAGER, kh)
    manager.email = "manager.kh@demo.betterwork.org"
    manager.save()
    facts = next(f for f in PROGRAMMES if f.code == "KH")
    ctx = DemoContext(programmes={"KH": (facts, kh)}, scale=0.1, seed=1)
    for _ in range(2):  # the second run finds both and adds nothing
        with tenancy.scope({kh.pk}), transaction.atomic():
            lines = list(demo.seed(ctx))
    assert all("exists" in line for line in lines)
    with tenancy.scope({kh.pk}):
        reports = {r.kind: r for r in SynthesisReport.objects.all()}
    assert set(reports) == {"annual", "thematic"}
    assert all(r.status == SynthesisStatus.PUBLISHED and r.published_by == manager for r in reports.values())
    assert (reports["annual"].year_from, reports["annual"].year_to) == (2025, 2025)  # the last full year
    assert reports["thematic"].theme_keys == FIRE and reports["thematic"].cycles == [1, 2]
    page, titles = listed("KH")
    assert len(titles) == 2 and "Fire safety" in page
