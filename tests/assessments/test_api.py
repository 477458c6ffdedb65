"""Assessments through the API: plans, transitions and answers; stale writes answer 409."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from betterwork import tenancy
from betterwork.models import Role
from tests.model_factories import BuyerFactory, user_with_role

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def base(planned):
    return f"/api/v1/p/KH/assessments/{planned.pk}/"


def test_plan_through_the_api(kh, kh_factory, tool, team):
    body = {
        "factory": kh_factory.pk,
        "planned_date": "2026-05-04",
        "assessors": [team["lead"].pk, team["second"].pk],
    }
    created = api(team["leader"]).post("/api/v1/p/KH/assessments/", body, format="json")
    assert created.status_code == 201 and created.json()["cycle"] == 1
    assert created.json()["assessors"] == sorted([team["lead"].pk, team["second"].pk])
    one = api(team["leader"]).post(
        "/api/v1/p/KH/assessments/", {**body, "assessors": [team["lead"].pk]}, format="json"
    )
    assert one.status_code == 400 and "assessors" in one.json()


def test_transitions_and_stale_versions(kh, team, planned):
    lead = api(team["lead"])
    moved = lead.post(
        base(planned) + "transition/", {"to": "in_progress", "expected_version": 1}, format="json"
    )
    assert moved.status_code == 200 and moved.json()["status"] == "in_progress"
    stale = lead.post(
        base(planned) + "transition/", {"to": "cancelled", "expected_version": 1}, format="json"
    )
    assert stale.status_code == 409
    bad = lead.post(base(planned) + "transition/", {"to": "flying", "expected_version": 2}, format="json")
    assert bad.status_code == 400
    missing = lead.post(
        base(planned) + "transition/", {"to": "submitted", "expected_version": 2}, format="json"
    )
    assert missing.status_code == 400 and "not answered" in str(missing.json())


def test_answers_save_and_a_stale_save_is_409_with_both_versions(kh, team, planned):
    api(team["lead"]).post(
        base(planned) + "transition/", {"to": "in_progress", "expected_version": 1}, format="json"
    )
    with tenancy.scope({kh.pk}):
        question = planned.tool_version.questions.get(key="OSH-01").pk
    first = api(team["lead"]).post(
        base(planned) + "answers/",
        {"answers": [{"question": question, "value": "C", "version": 0}]},
        format="json",
    )
    assert first.status_code == 200, first.json()
    assert first.json()[0]["version"] == 1
    second = api(team["second"]).post(
        base(planned) + "answers/",
        {"answers": [{"question": question, "value": "NC", "finding": "Exit 2 chained.", "version": 1}]},
        format="json",
    )
    assert second.status_code == 200
    stale = api(team["lead"]).post(
        base(planned) + "answers/",
        {"answers": [{"question": question, "value": "NA", "version": 1}]},
        format="json",
    )
    assert stale.status_code == 409
    assert stale.json()["conflicts"][0]["value"] == "NC" and stale.json()["conflicts"][0]["version"] == 2
    nc_without_finding = api(team["lead"]).post(
        base(planned) + "answers/",
        {"answers": [{"question": question, "value": "NC", "version": 2}]},
        format="json",
    )
    assert nc_without_finding.status_code == 400
    assert api(team["lead"]).get(base(planned) + "answers/").json()[0]["finding"] == "Exit 2 chained."


def test_visit_plans_stay_secret_from_factories_and_buyers(kh, kh_factory, team, planned):
    factory_user = api(user_with_role(Role.FACTORY, kh, factory=kh_factory))
    assert factory_user.get(base(planned)).status_code == 404, "a planned visit is not announced"
    assert factory_user.get("/api/v1/p/KH/assessments/").json()["results"] == []
    with tenancy.scope({kh.pk}):
        planned.__class__.objects.filter(pk=planned.pk).update(status="factory_review")
    seen = factory_user.get(base(planned)).json()
    assert "planned_date" not in seen and "assessors" not in seen and seen["status"] == "factory_review"
    assert factory_user.get(base(planned) + "answers/").status_code == 404
    buyer = api(user_with_role(Role.BUYER, buyer=BuyerFactory()))
    assert buyer.get(base(planned)).status_code == 404


def test_other_programmes_get_404(kh, vn, team, planned):
    stranger = api(user_with_role(Role.PROGRAMME_MANAGER, vn))
    assert stranger.get(base(planned)).status_code == 404
    assert stranger.get(f"/api/v1/p/VN/assessments/{planned.pk}/").status_code == 404
    assert (
        stranger.post(
            f"/api/v1/p/VN/assessments/{planned.pk}/transition/",
            {"to": "cancelled", "expected_version": 1},
            format="json",
        ).status_code
        == 404
    )


def test_schema_still_validates():
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=io.StringIO())


def test_tool_versions_are_readable_published_for_all_drafts_for_global_staff(kh, kh_factory, tool, team):
    import datetime as dt

    from assessments import services
    from betterwork.models import Role

    services.tool_load(
        data={
            "tool": "global",
            "version": "2027.1",
            "effective_from": dt.date(2027, 1, 1),
            "questions": [
                {
                    "key": "CL-01",
                    "point": "CL.CHILD_LABOURERS",
                    "noncompliant_answer": "yes",
                    "flags": [],
                    "text": {"en": "Draft question?"},
                }
            ],
        }
    )
    factory_user = api(user_with_role(Role.FACTORY, kh, factory=kh_factory))
    listed = factory_user.get("/api/v1/tool/versions/").json()
    assert [v["version"] for v in listed] == ["2026.1"]
    detail = factory_user.get(f"/api/v1/tool/versions/{listed[0]['id']}/").json()
    assert [q["key"] for q in detail["questions"]] == ["CL-01", "OSH-01", "WT-01"]
    assert detail["questions"][0]["cluster"] == "CL" and detail["questions"][2]["noncompliant_answer"] == "no"
    staff = api(user_with_role(Role.GLOBAL))
    assert {v["version"] for v in staff.get("/api/v1/tool/versions/").json()} == {"2026.1", "2027.1"}
    assert api(team["lead"]).get("/api/v1/tool/versions/999999/").status_code == 404


def test_assessment_list_filters(kh, kh_factory, tool, team, planned):
    import datetime as dt

    from assessments import lifecycle
    from tests.conftest import act
    from tests.model_factories import FactoryFactory

    other = FactoryFactory(programme=kh)
    act(
        team["leader"],
        kh,
        lifecycle.assessment_plan,
        factory=other,
        planned_date=dt.date(2026, 4, 1),
        assessors=[team["lead"], team["second"]],
    )
    client = api(team["leader"])
    every = client.get("/api/v1/p/KH/assessments/").json()["results"]
    assert len(every) == 2
    mine = client.get("/api/v1/p/KH/assessments/", {"factory": kh_factory.pk}).json()["results"]
    assert [a["id"] for a in mine] == [planned.pk]
    assert client.get("/api/v1/p/KH/assessments/", {"status": ["final", "published"]}).json()["results"] == []
    assert client.get("/api/v1/p/KH/assessments/", {"status": "flying"}).status_code == 400
