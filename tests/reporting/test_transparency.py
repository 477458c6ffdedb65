"""The public transparency list: who is named, when, with what, and what never shows."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from assessments import services as tool_services
from assessments.models import Answer, Assessment, AssessmentAssessor
from betterwork import tenancy
from betterwork.celery import app
from betterwork.models import Programme, Role
from betterwork.permissions import Principal
from factories.models import Factory
from reporting import tasks, transparency, transparency_services, transparency_views
from reporting.models import TransparencyResponse
from reporting.transparency import COMPLIANT, NON_COMPLIANT, Rules
from tests.assessments.test_lifecycle import answer_all, move
from tests.model_factories import FactoryFactory, user_with_role

pytestmark = pytest.mark.django_db

TOOL_DIR = Path(__file__).resolve().parents[2] / "assessments" / "tool"
FINDING = "Exit 3 chained; the guard Sokha Chan said it stays locked at night."
INTERVIEW = "Worker interview with Dara Kim, sewing line 4."
UTC = dt.UTC


def question(key, point, *, public=True, text=None, ar=None):
    texts = {"en": text or f"Question {key}?"}
    if ar:
        texts["ar"] = ar
    return {
        "key": key,
        "point": point,
        "noncompliant_answer": "yes",
        "flags": ["publicly_reported"] if public else [],
        "text": texts,
    }


@pytest.fixture
def tools(db):
    """Two versions of the tool: the same keys carry across, with new wording and a new question."""
    tool_services.points_load(data=yaml.safe_load((TOOL_DIR / "points.yaml").read_text()))
    first, _ = tool_services.tool_load(
        data={
            "tool": "global",
            "version": "2020.1",
            "effective_from": dt.date(2020, 1, 1),
            "questions": [
                question(
                    "OSH-01",
                    "OSH.EMERGENCY",
                    text="Are exits locked in working hours?",
                    ar="هل المخارج مقفلة أثناء ساعات العمل؟",
                ),
                question("OSH-02", "OSH.EMERGENCY", text="Is the fire alarm missing or broken?"),
                question("WT-01", "WT.OVERTIME", public=False, text="Is overtime forced?"),
            ],
        },
        publish=True,
    )
    second, _ = tool_services.tool_load(
        data={
            "tool": "global",
            "version": "2027.1",
            "effective_from": dt.date(2027, 1, 1),
            "questions": [
                question("OSH-01", "OSH.EMERGENCY", text="Are exits locked or blocked during working hours?"),
                question("OSH-02", "OSH.EMERGENCY", text="Is the fire alarm missing or broken?"),
                question("OSH-03", "OSH.CHEMICALS", text="Are chemicals stored unlabelled?"),
                question("WT-01", "WT.OVERTIME", public=False, text="Is overtime forced?"),
            ],
        },
        publish=True,
    )
    return {"v1": first, "v2": second}


@pytest.fixture
def kh_rules(kh):
    """Cambodia's clock: seven hours ahead of UTC, sixty days of notice."""
    kh.time_zone = "Asia/Phnom_Penh"
    kh.transparency_notice_days = 60
    kh.save()
    return kh


def make_assessment(factory, cycle, final_at, nc=(), *, version, status="final"):
    """An assessment of the factory answered on every question: non-compliant on ``nc``."""
    with tenancy.scope({factory.programme_id}), transaction.atomic():
        assessment = Assessment(
            programme_id=factory.programme_id,
            factory=factory,
            tool_version=version,
            cycle=cycle,
            status=status,
            planned_date=(final_at - dt.timedelta(days=70)).date(),
            visit_started_on=(final_at - dt.timedelta(days=70)).date(),
            final_at=final_at if status in ("final", "published") else None,
            interviews={"workers": INTERVIEW},
        )
        assessment.save()
        Answer.objects.bulk_create(
            [
                Answer(
                    programme_id=factory.programme_id,
                    assessment=assessment,
                    question=q,
                    value="NC" if q.key in nc else "C",
                    finding=FINDING if q.key in nc else "",
                )
                for q in version.questions.all()
            ]
        )
    return assessment


def listed(programme, today, **filters):
    with transparency.public_reading(programme):
        return transparency.transparency_list(programme=programme, today=today, **filters)


def keys(entry):
    return [issue.key for issue in entry.named_issues]


def days_ago(days):
    return timezone.now() - dt.timedelta(days=days)


# --- Who is listed, and when --------------------------------------------------------------------


def test_notice_period_counts_days_in_the_programmes_time_zone(kh_rules, kh_factory, tools):
    # 20:00 UTC on 1 March is already 2 March in Phnom Penh: named 60 days after that, on 1 May.
    make_assessment(
        kh_factory, 1, dt.datetime(2026, 3, 1, 20, 0, tzinfo=UTC), ["OSH-01"], version=tools["v1"]
    )
    assert listed(kh_rules, dt.date(2026, 4, 30)) == []  # the day a UTC clock would have named it
    [entry] = listed(kh_rules, dt.date(2026, 5, 1))
    assert entry.listed_from == dt.date(2026, 5, 1) and entry.reported_on == dt.date(2026, 3, 2)
    assert entry.name == "Angkor Garments" and entry.cycle == 1 and keys(entry) == ["OSH-01"]
    assert listed(kh_rules, dt.date(2026, 5, 2))[0].status == NON_COMPLIANT


def test_drafts_never_count_and_published_reports_do(kh_rules, kh, tools):
    old = dt.datetime(2025, 1, 10, 3, 0, tzinfo=UTC)
    for status in ("in_progress", "submitted", "in_review", "factory_review", "cancelled"):
        make_assessment(
            FactoryFactory(programme=kh, name=f"Draft {status}"),
            1,
            old,
            ["OSH-01"],
            version=tools["v1"],
            status=status,
        )
    make_assessment(
        FactoryFactory(programme=kh, name="Published"),
        1,
        old,
        ["OSH-02"],
        version=tools["v1"],
        status="published",
    )
    assert [(e.name, keys(e)) for e in listed(kh, dt.date(2026, 1, 1))] == [("Published", ["OSH-02"])]


def test_factories_are_listed_from_the_programmes_minimum_number_of_assessments(kh_rules, kh, tools):
    kh.transparency_min_cycles = 2
    kh.save()
    v1 = tools["v1"]
    once = FactoryFactory(programme=kh, name="Assessed once")
    make_assessment(once, 1, dt.datetime(2025, 1, 10, tzinfo=UTC), ["OSH-01"], version=v1)
    twice = FactoryFactory(programme=kh, name="Assessed twice")
    make_assessment(twice, 1, dt.datetime(2024, 1, 10, tzinfo=UTC), ["OSH-01"], version=v1)
    make_assessment(twice, 2, dt.datetime(2025, 1, 10, tzinfo=UTC), ["OSH-02"], version=v1)
    waiting = FactoryFactory(programme=kh, name="Second report in its notice period")
    make_assessment(waiting, 1, dt.datetime(2024, 1, 10, tzinfo=UTC), ["OSH-01"], version=v1)
    make_assessment(waiting, 2, dt.datetime(2025, 12, 20, tzinfo=UTC), ["OSH-01"], version=v1)
    [entry] = listed(kh, dt.date(2026, 1, 1))
    assert (entry.name, entry.cycle, keys(entry)) == ("Assessed twice", 2, ["OSH-02"])
    assert "at least 2 final assessments" in " ".join(Rules.of(kh).statements())


def test_persisting_rule_matches_questions_across_tool_versions_by_key(kh_rules, kh, tools):
    kh.transparency_persisting_cycles = 2
    kh.save()
    steady = FactoryFactory(programme=kh, name="Steady")
    make_assessment(steady, 1, dt.datetime(2026, 3, 1, tzinfo=UTC), ["OSH-01", "OSH-02"], version=tools["v1"])
    make_assessment(steady, 2, dt.datetime(2027, 3, 1, tzinfo=UTC), ["OSH-01", "OSH-03"], version=tools["v2"])
    broken = FactoryFactory(programme=kh, name="Broken streak")
    make_assessment(broken, 1, dt.datetime(2025, 3, 1, tzinfo=UTC), ["OSH-01"], version=tools["v1"])
    make_assessment(broken, 2, dt.datetime(2026, 3, 1, tzinfo=UTC), [], version=tools["v1"])
    make_assessment(broken, 3, dt.datetime(2027, 3, 1, tzinfo=UTC), ["OSH-01"], version=tools["v2"])
    today = dt.date(2027, 6, 1)
    by_name = {e.name: e for e in listed(kh, today)}
    [issue] = by_name["Steady"].named_issues
    assert issue.key == "OSH-01" and issue.cycles == 2
    assert issue.question == "Are exits locked or blocked during working hours?"  # the newest wording
    assert by_name["Broken streak"].issues == () and by_name["Broken streak"].status == COMPLIANT
    assert Rules.of(kh).status_label(COMPLIANT) == "No persisting issue"

    kh.transparency_persisting_cycles = 0  # the rule off: every publicly reported issue, with its streak
    kh.save()
    by_name = {e.name: e for e in listed(kh, today)}
    assert [(i.key, i.cycles) for i in by_name["Steady"].issues] == [
        ("OSH-03", 1),
        ("OSH-01", 2),
    ]  # in the order of the tool
    assert [(i.key, i.cycles) for i in by_name["Broken streak"].issues] == [("OSH-01", 1)]


def test_compliant_factories_are_listed_as_compliant(kh_rules, kh, tools):
    # Non-compliance on a question that is not publicly reported names nothing.
    make_assessment(
        FactoryFactory(programme=kh, name="Clean"), 1, days_ago(100), ["WT-01"], version=tools["v1"]
    )
    [entry] = listed(kh, kh.today())
    assert entry.status == COMPLIANT and entry.issues == ()
    page = Client().get("/public/KH/transparency/").content.decode()
    assert "Clean" in page and "Compliant on every publicly reported issue." in page


def test_a_newer_report_replaces_the_entry_once_its_own_notice_has_passed(kh_rules, kh_factory, tools):
    v1 = tools["v1"]
    make_assessment(kh_factory, 1, dt.datetime(2025, 1, 10, 3, tzinfo=UTC), ["OSH-01", "OSH-02"], version=v1)
    make_assessment(kh_factory, 2, dt.datetime(2026, 1, 10, 3, tzinfo=UTC), ["OSH-02"], version=v1)
    # In the newer report's notice period: the earlier entry stays, and the exit found fixed since
    # is credited to the factory at once.
    [entry] = listed(kh_rules, dt.date(2026, 2, 1))
    assert entry.cycle == 1 and entry.replaced_on == dt.date(2026, 3, 11)
    assert keys(entry) == ["OSH-02"] and [i.key for i in entry.remediated_issues] == ["OSH-01"]
    [entry] = listed(kh_rules, dt.date(2026, 3, 11))
    assert entry.cycle == 2 and entry.replaced_on is None and entry.remediated_issues == ()
    assert [(i.key, i.cycles) for i in entry.issues] == [("OSH-02", 2)]


def test_the_final_transition_starts_the_notice_period(kh, team, final, kh_factory):
    """Through the real lifecycle: the report's final_at (now) opens the notice period."""
    today = kh.today()
    assert listed(kh, today) == []
    [entry] = listed(kh, today + dt.timedelta(days=kh.transparency_notice_days))
    assert entry.cycle == final.cycle and keys(entry) == ["OSH-01"]  # the conftest tool's public question


# --- The public page, CSV and API ---------------------------------------------------------------


@pytest.fixture
def public_kh(kh_rules, kh, kh_factory, tools, vn, vn_factory):
    """A programme with a listed factory, one in its notice period, one in draft, and another
    programme's factory: and people's names in every place that must never go public."""
    advisor = user_with_role(Role.ADVISOR, kh)
    advisor.full_name = "Advisor Vannak Sok"
    advisor.save()
    with tenancy.scope({kh.pk}), transaction.atomic():
        Factory.objects.filter(pk=kh_factory.pk).update(designated_advisor=advisor)
    listed_one = make_assessment(kh_factory, 1, days_ago(100), ["OSH-01"], version=tools["v1"])
    with tenancy.scope({kh.pk}), transaction.atomic():
        AssessmentAssessor(programme=kh, assessment=listed_one, user=advisor, lead=True).save()
    # Its next assessment is still a draft report: none of its findings count yet.
    make_assessment(kh_factory, 2, days_ago(30), ["OSH-02"], version=tools["v1"], status="factory_review")
    make_assessment(
        FactoryFactory(programme=kh, name="Still In Notice"), 1, days_ago(10), ["OSH-01"], version=tools["v1"]
    )
    make_assessment(
        FactoryFactory(programme=kh, name="Only A Draft"),
        1,
        days_ago(200),
        ["OSH-01"],
        version=tools["v1"],
        status="factory_review",
    )
    make_assessment(vn_factory, 1, days_ago(300), ["OSH-01"], version=tools["v1"])
    return listed_one


NEVER_PUBLIC = [
    "Still In Notice",
    "Only A Draft",
    "Saigon Apparel",
    "VN000018",
    FINDING,
    "Sokha Chan",
    INTERVIEW,
    "Dara Kim",
    "Advisor Vannak Sok",
    "Is overtime forced?",
    "Is the fire alarm missing or broken?",
]


def public_texts(client):
    page = client.get("/public/KH/transparency/")
    csv_file = client.get("/public/KH/transparency.csv")
    api = client.get("/api/v1/public/KH/transparency/")
    assert page.status_code == csv_file.status_code == api.status_code == 200
    return page.content.decode(), csv_file.content.decode("utf-8-sig"), api.content.decode()


def test_public_list_names_only_what_its_rules_allow_and_no_person(public_kh, kh, vn):
    for text in public_texts(Client()):
        assert "Angkor Garments" in text and "KH000018" in text
        assert "Are exits locked in working hours?" in text
        for secret in NEVER_PUBLIC:
            assert secret not in text, secret
    # Signed in elsewhere changes nothing: another programme's staff see the same public list.
    client = Client()
    client.force_login(user_with_role(Role.PROGRAMME_MANAGER, vn))
    for text in public_texts(client):
        assert "Angkor Garments" in text and "Saigon Apparel" not in text


def test_public_pages_are_cacheable_and_need_no_session(public_kh, kh):
    client = Client(enforce_csrf_checks=True)
    for url in (
        "/public/",
        "/public/KH/transparency/",
        "/public/KH/transparency.csv",
        "/api/v1/public/KH/transparency/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "public" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]
        assert {"Accept-Language", "Cookie"} <= {v.strip() for v in response["Vary"].split(",")}
        assert not response.cookies, f"{url} sets {list(response.cookies)}"
    assert Client().post("/public/KH/transparency/").status_code == 405
    # The public language switch needs no CSRF token (the public pages carry none).
    switched = client.post("/public/language/", {"language": "ar", "next": "/public/KH/transparency/"})
    assert switched.status_code == 302 and switched.cookies["django_language"].value == "ar"


def test_question_texts_in_the_visitors_language(public_kh):
    page = Client().get("/public/KH/transparency/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert "هل المخارج مقفلة أثناء ساعات العمل؟" in page
    api = Client().get("/api/v1/public/KH/transparency/", HTTP_ACCEPT_LANGUAGE="ar").json()
    assert api["results"][0]["issues"][0]["question"] == "هل المخارج مقفلة أثناء ساعات العمل؟"


def test_unknown_or_inactive_programmes_have_no_public_list(kh, vn):
    for code in ("XX", "KH"):
        if code == "KH":
            kh.is_active = False
            kh.save()
        for url in (
            f"/public/{code}/transparency/",
            f"/public/{code}/transparency.csv",
            f"/api/v1/public/{code}/transparency/",
        ):
            assert Client().get(url).status_code == 404, url
    index = Client().get("/public/").content.decode()
    assert "Better Work Vietnam" in index and "Better Factories Cambodia" not in index


def test_search_filter_and_pagination(kh_rules, kh, tools, monkeypatch):
    monkeypatch.setattr(transparency_views, "PAGE_SIZE", 2)
    for n, nc in enumerate([["OSH-01"], [], ["OSH-02"], []]):
        factory = FactoryFactory(programme=kh, name=f"Factory {'ABCD'[n]}", public_id=f"KH0000{n}9")
        make_assessment(factory, 1, days_ago(100), nc, version=tools["v1"])
    client = Client()
    first = client.get("/public/KH/transparency/").content.decode()
    assert "4 factories listed" in first and "Factory A" in first and "Factory C" not in first
    assert "Page 1 of 2" in first
    second = client.get("/public/KH/transparency/?page=2").content.decode()
    assert "Factory C" in second and "Factory A" not in second
    compliant = client.get("/public/KH/transparency/?status=compliant").content.decode()
    assert "Factory B" in compliant and "Factory D" in compliant and "Factory A" not in compliant
    by_id = client.get("/public/KH/transparency/?q=kh000029").content.decode()
    assert "Factory C" in by_id and "1 factory listed" in by_id
    by_name = client.get("/public/KH/transparency/?q=factory+d&status=non_compliant").content.decode()
    assert "No listed factory matches these filters." in by_name
    api = client.get("/api/v1/public/KH/transparency/?status=non_compliant&page_size=1").json()
    assert api["count"] == 2 and [r["name"] for r in api["results"]] == ["Factory A"] and api["next"]
    assert client.get("/api/v1/public/KH/transparency/?search=factory c").json()["count"] == 1


def test_csv_neutralises_cells_that_spreadsheets_would_run(kh_rules, kh, tools):
    factory = FactoryFactory(programme=kh, name='=HYPERLINK("http://evil.example","x")', region="+Zone")
    assessment = make_assessment(factory, 1, days_ago(100), ["OSH-01"], version=tools["v1"])
    with tenancy.scope({kh.pk}), transaction.atomic():
        TransparencyResponse(programme=kh, assessment=assessment, text="@SUM(1+1)", published=True).save()
    content = Client().get("/public/KH/transparency.csv").content.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(content)))
    assert header[:3] == ["Factory id", "Factory", "Region"]
    assert row[1].startswith("'=HYPERLINK") and row[2] == "'+Zone" and row[-1] == "'@SUM(1+1)"
    assert row[3] == "1" and row[9] == "Are exits locked in working hours?" and row[7] == "Non-compliant"


def test_api_is_public_paginated_and_in_the_schema(public_kh, kh):
    response = Client().get("/api/v1/public/KH/transparency/")
    body = response.json()
    assert body["count"] == 1 and body["previous"] is None
    [entry] = body["results"]
    assert entry["public_id"] == "KH000018" and entry["status"] == "non_compliant"
    assert entry["issues"][0]["key"] == "OSH-01" and entry["issues"][0]["consecutive_assessments"] == 1
    assert entry["response"] is None and "assessment_id" not in entry and "factory_id" not in entry
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert "/api/v1/public/{code}/transparency/" in schema.content.decode()


def test_query_count_does_not_grow_with_the_number_of_factories(kh_rules, kh, tools):
    def add_factories(count, start):
        for n in range(start, start + count):
            factory = FactoryFactory(programme=kh, name=f"Mill {n:02d}")
            make_assessment(factory, 1, days_ago(500), ["OSH-01", "OSH-02"], version=tools["v1"])
            make_assessment(factory, 2, days_ago(100), ["OSH-01"], version=tools["v1"])
            make_assessment(factory, 3, days_ago(20), [], version=tools["v1"])  # in its notice period
            with tenancy.scope({kh.pk}), transaction.atomic():
                TransparencyResponse(
                    programme=kh,
                    assessment=Assessment.objects.get(factory=factory, cycle=2),
                    text="Fixed.",
                    published=True,
                ).save()

    def counts():
        connection.queries_log.clear()  # a full log (it keeps the last 9,000) would count nothing
        with CaptureQueriesContext(connection) as selector:
            entries = listed(kh, kh.today())
        client = Client()
        client.get("/public/KH/transparency/")  # the programme is cached after the first request
        with CaptureQueriesContext(connection) as page:
            assert client.get("/public/KH/transparency/").status_code == 200
        with CaptureQueriesContext(connection) as api:
            assert client.get("/api/v1/public/KH/transparency/").status_code == 200
        return len(entries), len(selector), len(page), len(api)

    add_factories(2, 0)
    few = counts()
    add_factories(10, 2)
    many = counts()
    assert few[0] == 2 and many[0] == 12
    assert few[1:] == many[1:], (few, many)
    assert all(entry.replaced_on and entry.response for entry in listed(kh, kh.today()))


def test_the_list_is_kept_and_follows_every_change_whatever_its_path(kh_rules, kh, tools):
    """The whole list is computed once and kept; any change to what it is computed from shows at
    once, even one made without the model's save (no signal to clear anything)."""
    factory = FactoryFactory(programme=kh, name="Angkor Garments")
    cycle1 = make_assessment(factory, 1, days_ago(100), ["OSH-01"], version=tools["v1"])
    answers = Answer._meta.db_table
    with CaptureQueriesContext(connection) as computed:
        [entry] = listed(kh, kh.today())
    with CaptureQueriesContext(connection) as kept:
        assert listed(kh, kh.today()) == [entry]
    assert any(answers in q["sql"] for q in computed) and not any(answers in q["sql"] for q in kept)
    assert len(kept) < len(computed)

    def update(model, pk, **changes):
        with tenancy.scope({kh.pk}), transaction.atomic():
            model.objects.filter(pk=pk).update(**changes)

    update(Factory, factory.pk, name="Angkor Apparel", region="Kandal")
    [entry] = listed(kh, kh.today())
    assert (entry.name, entry.region, entry.response) == ("Angkor Apparel", "Kandal", None)
    with tenancy.scope({kh.pk}), transaction.atomic():
        response = TransparencyResponse.objects.create(
            programme=kh, assessment=cycle1, text="The exits are open.", published=False
        )
    assert listed(kh, kh.today())[0].response is None
    update(TransparencyResponse, response.pk, published=True, version=2)
    assert listed(kh, kh.today())[0].response.text == "The exits are open."
    # A newer report in its notice period: the entry stays, the fixed exit shows as remediated.
    cycle2 = make_assessment(factory, 2, days_ago(10), [], version=tools["v1"])
    [entry] = listed(kh, kh.today())
    assert entry.cycle == 1 and entry.replaced_on and entry.status == COMPLIANT
    # Its notice passes with a shorter period, or as days go by (the day is part of the key).
    kh.transparency_notice_days = 5
    kh.save()
    assert listed(kh, kh.today())[0].cycle == 2
    kh.transparency_notice_days = 60
    kh.save()
    assert listed(kh, kh.today())[0].cycle == 1
    assert listed(kh, kh.today() + dt.timedelta(days=50))[0].cycle == 2
    # A report taken back to draft (only a repair in the database could) leaves the list at once.
    update(Assessment, cycle2.pk, status="in_progress", final_at=None)
    update(Assessment, cycle1.pk, status="in_progress", final_at=None)
    assert listed(kh, kh.today() + dt.timedelta(days=50)) == []


def test_workers_compute_the_lists_before_visitors_ask(kh_rules, kh, vn, tools, monkeypatch):
    factory = FactoryFactory(programme=kh, name="Angkor Garments")
    make_assessment(factory, 1, days_ago(100), ["OSH-01"], version=tools["v1"])
    vn.is_active = False
    vn.save()
    assert tasks.keep_transparency_lists() == ["KH"]  # inactive programmes have no public list
    answers = Answer._meta.db_table
    for language in ("en", "km"):
        with translation.override(language), CaptureQueriesContext(connection) as visit:
            assert [entry.name for entry in listed(kh, kh.today())] == ["Angkor Garments"]
        assert not any(answers in q["sql"] for q in visit), language
    with translation.override("vi"), CaptureQueriesContext(connection) as other_language:
        listed(kh, kh.today())
    assert any(answers in q["sql"] for q in other_language)
    assert tasks.keep_transparency_lists([vn.pk]) == []
    beat = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert beat["reporting.keep_transparency_lists"] == 600.0
    assert "reporting.keep_transparency_lists" in app.tasks


def test_a_final_report_or_a_published_response_sends_the_list_to_be_computed(
    kh, team, planned, kh_factory, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(tasks.keep_transparency_lists, "delay", sent.append)
    move(team["lead"], kh, planned, "in_progress")
    answer_all(team["lead"], kh, planned, value="NC")
    move(team["lead"], kh, planned, "submitted")
    move(team["leader"], kh, planned, "in_review")
    with django_capture_on_commit_callbacks(execute=True):
        move(team["leader"], kh, planned, "factory_review")
    assert sent == []  # a draft changes nothing public
    with tenancy.scope({kh.pk}), transaction.atomic():
        Assessment.objects.filter(pk=planned.pk).update(factory_review_until=dt.date(2026, 1, 1))
    with django_capture_on_commit_callbacks(execute=True):
        move(team["leader"], kh, planned, "final")
    assert sent == [[kh.pk]]
    client = Client()
    client.force_login(user_with_role(Role.FACTORY, kh, factory=kh_factory))
    with django_capture_on_commit_callbacks(execute=True):
        assert respond(client, kh_factory, planned, "Draft words.", False).status_code == 302
    assert sent == [[kh.pk]]  # an unpublished response changes nothing public
    with django_capture_on_commit_callbacks(execute=True):
        assert respond(client, kh_factory, planned, "The exits are open.", True, version=1).status_code == 302
    assert sent == [[kh.pk], [kh.pk]]


# --- The factory's page and its response --------------------------------------------------------


def factory_page(kh_factory):
    return f"/p/KH/factories/{kh_factory.pk}/transparency/"


def respond(client, kh_factory, assessment, text, publish, version=0):
    data = {
        "assessment": assessment.pk,
        f"response-{assessment.pk}-text": text,
        f"response-{assessment.pk}-version": version,
    }
    if publish:
        data[f"response-{assessment.pk}-published"] = "on"
    return client.post(factory_page(kh_factory), data)


def test_the_factory_writes_and_publishes_its_response(public_kh, kh, kh_factory):
    owner_user = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    owner = Client()
    owner.force_login(owner_user)
    page = owner.get(factory_page(kh_factory)).content.decode()
    assert "The entry on the public list today" in page and "Are exits locked in working hours?" in page
    assert (
        respond(owner, kh_factory, public_kh, "We unlocked every exit in May.", publish=False).status_code
        == 302
    )
    assert "We unlocked every exit" not in Client().get("/public/KH/transparency/").content.decode()
    stale = respond(owner, kh_factory, public_kh, "A colleague's older copy.", publish=True, version=0)
    assert stale.status_code == 200 and "Someone else changed this response" in stale.content.decode()
    assert respond(owner, kh_factory, public_kh, "We unlocked every exit in May.", True, 1).status_code == 302
    for text in public_texts(Client()):
        assert "We unlocked every exit in May." in text
    with tenancy.scope({kh.pk}):
        saved = TransparencyResponse.objects.get(assessment=public_kh)
    assert saved.published and saved.version == 2 and saved.author_id == owner_user.pk
    empty = respond(owner, kh_factory, public_kh, "", True, 2)
    assert "Write the response before publishing it." in empty.content.decode()


def test_only_the_factorys_own_users_see_its_page_and_respond(public_kh, kh, vn, kh_factory, kh_advisor):
    other_factory = FactoryFactory(programme=kh, name="Neighbour")
    for user in (
        user_with_role(Role.FACTORY, kh, factory=other_factory),
        user_with_role(Role.PROGRAMME_MANAGER, vn),
        user_with_role(Role.COMMITTEE_MEMBER, kh, factory=kh_factory),
    ):
        client = Client()
        client.force_login(user)
        assert client.get(factory_page(kh_factory)).status_code == 404
        assert respond(client, kh_factory, public_kh, "Not ours to say.", True).status_code == 404
    staff = Client()
    staff.force_login(kh_advisor)
    page = staff.get(factory_page(kh_factory))
    assert page.status_code == 200 and "own users write and publish its response" in page.content.decode()
    assert respond(staff, kh_factory, public_kh, "Staff words.", True).status_code == 404
    with tenancy.scope({kh.pk}):
        assert not TransparencyResponse.objects.exists()


def test_the_factory_sees_when_its_entry_will_appear(kh_rules, kh, kh_factory, tools):
    user = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    client = Client()
    client.force_login(user)
    assert "no final assessment report yet" in client.get(factory_page(kh_factory)).content.decode()
    assessment = make_assessment(kh_factory, 1, days_ago(10), ["OSH-02"], version=tools["v1"])
    page = client.get(factory_page(kh_factory)).content.decode()
    assert "not on the public list yet" in page and "Is the fire alarm missing or broken?" in page
    # A response prepared during the notice period shows from the day the entry appears.
    assert respond(client, kh_factory, assessment, "An alarm is on order.", True).status_code == 302
    assert "Angkor Garments" not in Client().get("/public/KH/transparency/").content.decode()
    [entry] = listed(kh, kh.today() + dt.timedelta(days=50))
    assert entry.response is not None and entry.response.text == "An alarm is on order."


# --- The programme's settings ------------------------------------------------------------------


def test_global_staff_set_the_rules_and_the_page_states_them(client, kh):
    client.force_login(user_with_role(Role.GLOBAL))
    form = client.get(f"/programmes/{kh.pk}/edit/").content.decode()
    assert "Public transparency list" in form and 'name="transparency_notice_days"' in form
    data = {
        "code": "KH",
        "name": kh.name,
        "country": kh.country,
        "languages": ["km", "en"],
        "time_zone": "Asia/Phnom_Penh",
        "currency": "USD",
        "factory_review_days": "14",
        "transparency_notice_days": "90",
        "transparency_min_cycles": "2",
        "transparency_persisting_cycles": "3",
        "is_active": "on",
    }
    refused = client.post(f"/programmes/{kh.pk}/edit/", {**data, "transparency_min_cycles": "0"})
    assert "Use a whole number from 1 to 20." in refused.content.decode()
    assert client.post(f"/programmes/{kh.pk}/edit/", data).status_code == 302
    kh = Programme.objects.get(pk=kh.pk)
    assert (kh.transparency_notice_days, kh.transparency_min_cycles, kh.transparency_persisting_cycles) == (
        90,
        2,
        3,
    )
    page = Client().get("/public/KH/transparency/").content.decode()
    assert "named 90 days after its assessment report became final" in page
    assert "at least 2 final assessments" in page and "in 3 consecutive assessments" in page
    assert "(Asia/Phnom_Penh)" in page


def test_the_services_refuse_a_response_to_an_entry_that_is_gone(public_kh, kh, kh_factory, tools):
    user = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    make_assessment(kh_factory, 3, days_ago(80), [], version=tools["v1"])  # replaces cycle 1's entry
    with (
        pytest.raises(ValidationError, match="no longer on the list"),
        tenancy.scope({kh.pk}),
        transaction.atomic(),
    ):
        transparency_services.transparency_response_save(
            actor=Principal.for_user(user),
            programme=kh,
            factory=kh_factory,
            assessment_id=public_kh.pk,
            text="Too late.",
            published=True,
            expected_version=0,
        )
