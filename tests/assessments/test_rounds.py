"""Programme-wide rounds: team leaders and managers set them, visits are planned inside them,
lists filter by them, and no other programme sees or uses them."""

from __future__ import annotations

import datetime as dt

import pytest

from assessments.models import Assessment, AssessmentStatus, Round
from betterwork import tenancy
from betterwork.models import Role
from tests.model_factories import user_with_role

pytestmark = pytest.mark.django_db


def add_round(client, name="2026 round 1", starts="2026-01-01", ends="2026-06-30", code="KH"):
    return client.post(f"/p/{code}/assessments/rounds/", {"name": name, "starts_on": starts, "ends_on": ends})


def rounds_of(programme):
    with tenancy.scope({programme.pk}):
        return list(Round.objects.order_by("name").values_list("name", flat=True))


def plan(client, kh_factory, team, planned_date, round_id):
    return client.post(
        "/p/KH/assessments/plan/",
        {
            "factory": kh_factory.pk,
            "planned_date": planned_date,
            "assessors": [team["lead"].pk, team["second"].pk],
            "round": round_id,
        },
    )


def test_a_team_leader_sets_rounds_and_plans_visits_inside_them(client, kh, kh_factory, tool, team):
    client.force_login(team["leader"])
    assert add_round(client).status_code == 302
    with tenancy.scope({kh.pk}):
        first = Round.objects.get()

    outside = plan(client, kh_factory, team, "2026-08-03", first.pk)
    assert outside.status_code == 200
    assert "The visit must fall within the round: 2026-01-01 to 2026-06-30." in outside.content.decode()
    inside = plan(client, kh_factory, team, "2026-03-03", first.pk)
    assert inside.status_code == 302
    with tenancy.scope({kh.pk}):
        assessment = Assessment.objects.get()
        assert assessment.round == first

    listing = client.get(f"/p/KH/assessments/?round={first.pk}").content.decode()
    assert kh_factory.name in listing
    client.post(
        "/p/KH/assessments/rounds/",
        {"name": "2026 round 2", "starts_on": "2026-07-01", "ends_on": "2026-12-31"},
    )
    with tenancy.scope({kh.pk}):
        second = Round.objects.get(name="2026 round 2")
    assert kh_factory.name not in client.get(f"/p/KH/assessments/?round={second.pk}").content.decode()

    # A round cannot shrink away from the visits planned in it.
    shrink = client.post(
        f"/p/KH/assessments/rounds/{first.pk}/",
        {"name": "2026 round 1", "starts_on": "2026-04-01", "ends_on": "2026-06-30"},
    )
    assert (
        shrink.status_code == 422 and "1 planned visits of this round fall outside" in shrink.content.decode()
    )
    renamed = client.post(
        f"/p/KH/assessments/rounds/{first.pk}/",
        {"name": "2026 first half", "starts_on": "2026-01-01", "ends_on": "2026-06-30"},
    )
    assert renamed.status_code == 302
    assert rounds_of(kh) == ["2026 first half", "2026 round 2"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"name": "Late", "starts": "2026-06-30", "ends": "2026-01-01"},
            "A round ends on or after the day it starts.",
        ),
        ({"name": "2026 ROUND 1"}, "This programme already has a round of that name."),
        ({"name": "", "starts": "2026-01-01"}, "This field is required."),
        ({"starts": "soon"}, "Enter a valid date."),
    ],
)
def test_bad_rounds_are_refused_with_a_reason(client, kh, team, fields, message):
    client.force_login(team["manager"])
    add_round(client)
    response = add_round(client, **fields)
    assert response.status_code == 422 and message in response.content.decode()
    assert rounds_of(kh) == ["2026 round 1"]


def test_the_round_list_counts_progress_and_overdue_visits(client, kh, kh_factory, tool, team):
    client.force_login(team["leader"])
    add_round(client)
    with tenancy.scope({kh.pk}):
        first = Round.objects.get()
    plan(client, kh_factory, team, "2026-03-03", first.pk)
    with tenancy.scope({kh.pk}):
        Assessment.objects.update(due_date=dt.date(2026, 4, 1))  # long past: overdue
    page = client.get("/p/KH/assessments/rounds/").content.decode()
    assert '<td class="num">1</td><td class="num">0</td>' in page  # one planned, none final
    assert '<span class="badge badge--cancelled">1</span>' in page  # one overdue
    with tenancy.scope({kh.pk}):
        Assessment.objects.update(status=AssessmentStatus.FINAL)
    page = client.get("/p/KH/assessments/rounds/").content.decode()
    assert '<td class="num">1</td><td class="num">1</td>' in page and "badge--cancelled" not in page


def test_advisors_read_rounds_but_do_not_set_them(client, kh, team):
    client.force_login(team["leader"])
    add_round(client)
    client.force_login(team["lead"])
    page = client.get("/p/KH/assessments/rounds/").content.decode()
    assert "2026 round 1" in page and "New round" not in page
    assert add_round(client, name="Mine").status_code == 404
    with tenancy.scope({kh.pk}):
        first = Round.objects.get()
    assert client.get(f"/p/KH/assessments/rounds/{first.pk}/").status_code == 404
    assert rounds_of(kh) == ["2026 round 1"]


def test_another_programme_neither_sees_nor_uses_a_round(client, kh, vn, kh_factory, vn_factory, tool, team):
    client.force_login(team["leader"])
    add_round(client, name="Cambodia only")
    with tenancy.scope({kh.pk}):
        kh_round = Round.objects.get()
    vn_leader = user_with_role(Role.TEAM_LEADER, vn)
    vn_team = [user_with_role(Role.ADVISOR, vn), user_with_role(Role.ADVISOR, vn)]
    client.logout()
    client.cookies.clear()  # the saved-round message stays with the Cambodian session
    client.force_login(vn_leader)
    assert "Cambodia only" not in client.get("/p/VN/assessments/rounds/").content.decode()
    assert "Cambodia only" not in client.get("/p/VN/assessments/").content.decode()
    assert client.get(f"/p/VN/assessments/rounds/{kh_round.pk}/").status_code == 404
    assert client.get(f"/p/KH/assessments/rounds/{kh_round.pk}/").status_code == 404
    assert client.get("/p/KH/assessments/rounds/").status_code == 404
    forged = client.post(
        "/p/VN/assessments/plan/",
        {
            "factory": vn_factory.pk,
            "planned_date": "2026-03-03",
            "assessors": [u.pk for u in vn_team],
            "round": kh_round.pk,
        },
    )
    # Vietnam has no round yet, so the form has no round field: the forged one is ignored.
    assert forged.status_code == 302
    with tenancy.scope({vn.pk}):
        assert Assessment.objects.get().round is None
    add_round(client, name="Vietnam 2026", code="VN")
    forged = client.post(
        "/p/VN/assessments/plan/",
        {
            "factory": vn_factory.pk,
            "planned_date": "2026-03-10",
            "assessors": [u.pk for u in vn_team],
            "round": kh_round.pk,
        },
    )
    assert forged.status_code == 200 and "Select a valid choice" in forged.content.decode()
    with tenancy.scope({vn.pk}):
        assert Assessment.objects.count() == 1


def test_factory_users_never_see_rounds(client, kh, kh_factory, team):
    client.force_login(user_with_role(Role.FACTORY, kh, factory=kh_factory))
    assert client.get("/p/KH/assessments/rounds/").status_code == 404


def test_the_api_plans_in_a_round_of_its_own_programme_only(client, kh, vn, kh_factory, tool, team):
    client.force_login(team["leader"])
    add_round(client)
    with tenancy.scope({kh.pk}):
        kh_round = Round.objects.get()
    vn_round_owner = user_with_role(Role.TEAM_LEADER, vn)
    client.force_login(vn_round_owner)
    add_round(client, name="Vietnam 2026", code="VN")
    with tenancy.scope({vn.pk}):
        vn_round = Round.objects.get()
    client.force_login(team["leader"])
    body = {
        "factory": kh_factory.pk,
        "planned_date": "2026-03-03",
        "assessors": [team["lead"].pk, team["second"].pk],
    }
    foreign = client.post(
        "/api/v1/p/KH/assessments/", {**body, "round": vn_round.pk}, content_type="application/json"
    )
    assert foreign.status_code == 400 and foreign.json() == {"round": ["No such round in this programme."]}
    late = client.post(
        "/api/v1/p/KH/assessments/", {**body, "round": kh_round.pk, "planned_date": "2026-09-01"},
        content_type="application/json",
    )  # fmt: skip
    assert late.status_code == 400 and "within the round" in late.json()["planned_date"][0]
    planned = client.post(
        "/api/v1/p/KH/assessments/", {**body, "round": kh_round.pk}, content_type="application/json"
    )
    assert planned.status_code == 201 and planned.json()["round"] == kh_round.pk
    assert (
        client.get(f"/api/v1/p/KH/assessments/?round={kh_round.pk}").json()["results"][0]["round"]
        == kh_round.pk
    )
