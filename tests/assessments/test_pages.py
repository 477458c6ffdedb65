"""The assessment pages: planning, the overview, the advisor's form and its autosave."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from assessments import services
from assessments.models import Answer, Assessment
from betterwork import tenancy
from betterwork.models import Role
from tests.assessments.test_lifecycle import move
from tests.conftest import TOOL_DIR
from tests.model_factories import user_with_role

pytestmark = pytest.mark.django_db


def url(planned, tail=""):
    return f"/p/KH/assessments/{planned.pk}/{tail}"


def save(client, planned, question, htmx=True, **data):
    payload = {f"q{question}-{k}": v for k, v in {"question": question, "version": 0, **data}.items()}
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(url(planned, f"answers/{question}/"), payload, **headers)


def test_plan_through_the_page(client, kh, kh_factory, tool, team):
    client.force_login(team["leader"])
    page = client.get(f"/p/KH/assessments/plan/?factory={kh_factory.pk}")
    assert page.status_code == 200 and "never shown to the factory" in page.content.decode()
    one = client.post(
        "/p/KH/assessments/plan/",
        {"factory": kh_factory.pk, "planned_date": "2026-06-01", "assessors": [team["lead"].pk]},
    )
    assert "at least two assessors" in one.content.decode()
    done = client.post(
        "/p/KH/assessments/plan/",
        {
            "factory": kh_factory.pk,
            "planned_date": "2026-06-01",
            "assessors": [team["lead"].pk, team["second"].pk],
        },
    )
    assert done.status_code == 302
    assert "Angkor Garments" in client.get("/p/KH/assessments/").content.decode()


def test_overview_offers_the_actor_their_next_step(client, kh, team, planned):
    client.force_login(team["lead"])
    page = client.get(url(planned)).content.decode()
    assert "Start the assessment" in page and "Cancel the assessment" not in page
    response = client.post(url(planned, "transition/"), {"to": "in_progress", "expected_version": 1})
    assert response.status_code == 302
    stale = client.post(url(planned, "transition/"), {"to": "submitted", "expected_version": 1}, follow=True)
    assert "changed this assessment meanwhile" in stale.content.decode()
    client.force_login(team["leader"])
    assert "Cancel the assessment" in client.get(url(planned)).content.decode()


def test_autosave_returns_the_new_version_and_keeps_the_inputs(client, kh, team, planned):
    move(team["lead"], kh, planned, "in_progress")
    with tenancy.scope({kh.pk}):
        question = planned.tool_version.questions.get(key="OSH-01").pk
    client.force_login(team["lead"])
    saved = save(client, planned, question, value="C")
    body = saved.content.decode()
    assert (
        saved.status_code == 200
        and 'value="1"' in body
        and 'hx-swap-oob="true"' in body
        and "<textarea" not in body
    )
    invalid = save(client, planned, question, value="NC", version=1)
    assert invalid.status_code == 422 and "needs its finding" in invalid.content.decode()
    with tenancy.scope({kh.pk}):
        assert Answer.objects.get(question_id=question).value == "C"


def test_a_stale_save_shows_both_versions(client, kh, team, planned):
    move(team["lead"], kh, planned, "in_progress")
    with tenancy.scope({kh.pk}):
        question = planned.tool_version.questions.get(key="OSH-01").pk
    client.force_login(team["second"])
    save(client, planned, question, value="NC", finding="Exit 4 blocked by boxes.")
    client.force_login(team["lead"])
    conflict = save(client, planned, question, value="C")
    page = conflict.content.decode()
    assert conflict.status_code == 409
    assert (
        "saved this answer meanwhile" in page
        and "Exit 4 blocked by boxes." in page
        and "<strong>C</strong>" in page
    )
    assert 'value="1"' in page, "the form now carries their version, so saving again overwrites knowingly"


def test_without_javascript_a_save_returns_to_the_cluster(client, kh, team, planned):
    move(team["lead"], kh, planned, "in_progress")
    with tenancy.scope({kh.pk}):
        question = planned.tool_version.questions.get(key="WT-01").pk
    client.force_login(team["lead"])
    response = save(client, planned, question, htmx=False, value="NA")
    assert response.status_code == 302 and response.url.endswith(f"/clusters/WT/#question-{question}")


def test_only_assessors_save_and_only_staff_see_the_form(client, kh, vn, kh_factory, team, planned):
    move(team["lead"], kh, planned, "in_progress")
    with tenancy.scope({kh.pk}):
        question = planned.tool_version.questions.first().pk
    client.force_login(team["leader"])
    assert client.get(url(planned, "clusters/CL/")).status_code == 200
    assert save(client, planned, question, value="C").status_code == 404
    client.force_login(user_with_role(Role.FACTORY, kh, factory=kh_factory))
    for tail in ("", "clusters/CL/"):
        assert client.get(url(planned, tail)).status_code == 404
    assert client.get("/p/KH/assessments/").status_code == 404
    client.force_login(user_with_role(Role.PROGRAMME_MANAGER, vn))
    assert client.get(f"/p/VN/assessments/{planned.pk}/").status_code == 404
    assert client.get(url(planned)).status_code == 404


def _big_tool(count: int) -> None:
    points = [
        p["code"]
        for c in yaml.safe_load((TOOL_DIR / "points.yaml").read_text())["clusters"]
        for p in c["points"]
    ]
    services.tool_load(
        data={
            "tool": "KH",
            "version": f"big-{count}",
            "effective_from": dt.date(2021, 1, 1),
            "questions": [
                {
                    "key": f"Q-{n}",
                    "point": points[n % len(points)],
                    "noncompliant_answer": "yes",
                    "flags": [],
                    "text": {"en": f"Question {n}?"},
                }
                for n in range(count)
            ],
        },
        publish=True,
    )


@pytest.mark.parametrize("count", [10, 250])
def test_opening_the_form_costs_the_same_queries_at_any_size(
    client, kh, kh_factory, tool, team, count, django_assert_max_num_queries
):
    from assessments import lifecycle
    from tests.conftest import act

    _big_tool(count)
    assessment = act(
        team["leader"],
        kh,
        lifecycle.assessment_plan,
        factory=kh_factory,
        planned_date=dt.date(2026, 3, 2),
        assessors=[team["lead"], team["second"]],
    )
    with tenancy.scope({kh.pk}):
        assert Assessment.objects.get(pk=assessment.pk).tool_version.questions.count() == count
    client.force_login(team["lead"])
    client.get(f"/p/KH/assessments/{assessment.pk}/clusters/CL/")  # the programme is cached from now on
    # 9 here: the test's savepoint, release and scope reset stand for a request's BEGIN and COMMIT;
    # a real request makes 8 statements (tests/test_benchmarks.py checks it outside any test transaction).
    with django_assert_max_num_queries(9):
        response = client.get(f"/p/KH/assessments/{assessment.pk}/clusters/CL/")
    assert response.status_code == 200


def test_overview_shows_non_compliance_and_what_changed(client, kh, team, planned):
    move(team["lead"], kh, planned, "in_progress")
    with tenancy.scope({kh.pk}):
        question = planned.tool_version.questions.get(key="OSH-01").pk
    client.force_login(team["lead"])
    save(client, planned, question, value="NC", finding="Exit 2 chained during the night shift.")
    page = client.get(url(planned)).content.decode()
    assert "Exit 2 chained during the night shift." in page and "1 of 1 compliance points assessed" in page
    assert "No earlier final assessment to compare with." in page and ">New<" in page


def test_the_cluster_page_offers_every_answer_and_evidence_source(client, kh, team, planned):
    move(team["lead"], kh, planned, "in_progress")
    client.force_login(team["lead"])
    page = client.get(url(planned, "clusters/OSH/")).content.decode()
    for label in (
        "Compliant",
        "Non-compliant",
        "Not applicable",
        "Documents",
        "Observation",
        "Union interview",
    ):
        assert f"> {label}</label>" in page


def test_assessors_record_the_facts_of_the_visit(client, kh, team, planned):
    move(team["lead"], kh, planned, "in_progress")
    client.force_login(team["lead"])
    assert "Record the facts of the visit" in client.get(url(planned)).content.decode()
    client.post(
        url(planned, "visit/"),
        {
            "visit_started_on": "2026-03-02",
            "visit_ended_on": "2026-03-03",
            "person_days": "4",
            "access_restricted": "on",
            "workers": "24",
            "management": "3",
            "union": "1",
        },
    )
    with tenancy.scope({kh.pk}):
        planned.refresh_from_db()
    assert planned.person_days == 4 and planned.access_restricted and not planned.documents_on_time
    assert planned.interviews == {"management": 3, "workers": 24, "union": 1}
    wrong = client.post(
        url(planned, "visit/"),
        {"visit_started_on": "2026-03-05", "visit_ended_on": "2026-03-01"},
        follow=True,
    )
    assert "cannot end before it starts" in wrong.content.decode()
    client.force_login(team["leader"])
    assert client.post(url(planned, "visit/"), {"person_days": "9"}).status_code == 404
