"""Training through the API: who may do what, tenancy, participant training days counted from
attendance, 400s with messages for bad input (never 500), and a flat query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from betterwork import tenancy
from betterwork.models import Role
from betterwork.permissions import Principal
from tests.model_factories import FactoryFactory, user_with_role
from training import services
from training.models import Audience, SessionMode

pytestmark = pytest.mark.django_db

BASE = "/api/v1/p/KH/training/"


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def act(user, where, fn, /, **kwargs):
    """A service called as this user in the programme's scope and a transaction, like a request."""
    with tenancy.scope({where.pk}), transaction.atomic():
        return fn(actor=Principal.for_user(user), **kwargs)


def days_ago(kh, *ago: int) -> list[dt.date]:
    return [kh.today() - dt.timedelta(days=n) for n in ago]


@pytest.fixture
def officer(kh):
    """A training officer: an advisor holding the training permission."""
    return user_with_role(Role.ADVISOR, kh, manages_training=True)


@pytest.fixture
def course(kh, officer):
    return act(
        officer,
        kh,
        services.course_save,
        programme=kh,
        course=None,
        data={"title": "Supervisory skills", "days": 2, "audience": Audience.SUPERVISORS},
    )


def schedule(client, course, dates, **extra) -> dict:
    body = {
        "course": course.pk if hasattr(course, "pk") else course,
        "mode": "open",
        "dates": [d.isoformat() for d in dates],
        "venue": "Programme office",
        **extra,
    }
    response = client.post(BASE + "sessions/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def enrol(client, session_id, name, **where) -> dict:
    body = {"name": name, "sex": "female", "role": "worker", **where}
    response = client.post(f"{BASE}sessions/{session_id}/participants/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def attendance(client, session_id) -> dict:
    response = client.get(f"{BASE}sessions/{session_id}/attendance/")
    assert response.status_code == 200
    return response.json()


def mark(client, session_id, pairs):
    return client.put(
        f"{BASE}sessions/{session_id}/attendance/",
        {"present": [{"participant": p, "day": d} for p, d in pairs]},
        format="json",
    )


# --- A training officer's day -----------------------------------------------------------------


def test_officer_runs_a_session_and_figures_count_attended_days(kh, kh_factory, officer):
    client = api(officer)
    created = client.post(
        BASE + "courses/",
        {"title": "Workplace cooperation", "days": 2, "audience": "mixed", "topics": "PICC\nDialogue"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    course = created.json()
    assert course["sessions_count"] == 0 and course["is_active"] is True
    assert [c["title"] for c in client.get(BASE + "courses/").json()] == ["Workplace cooperation"]

    dates = days_ago(kh, 9, 8)
    session = schedule(client, course["id"], dates, capacity=10, language="km")
    assert session["days"] == [d.isoformat() for d in dates]
    assert session["trainers"] == [{"id": officer.pk, "name": officer.full_name}], "who schedules trains"
    assert session["enrolled_count"] == 0 and session["participant_days"] == 0
    sid = session["id"]

    worker = enrol(client, sid, "Sokha Chan", factory=kh_factory.pk)
    outsider = enrol(client, sid, "Dara Kim", organisation="Ministry of Labour")
    absent = enrol(client, sid, "Vanna Ly", factory=kh_factory.pk)
    assert worker["factory_public_id"] == "KH000018" and worker["factory_name"] == "Angkor Garments"
    assert outsider["factory"] is None and outsider["organisation"] == "Ministry of Labour"

    grid = attendance(client, sid)
    assert [d["date"] for d in grid["days"]] == [d.isoformat() for d in dates] and grid["present"] == []
    first, second = (d["id"] for d in grid["days"])
    saved = mark(client, sid, [(worker["id"], first), (worker["id"], second), (outsider["id"], first)])
    assert saved.status_code == 200, saved.json()
    assert saved.json()["added"] == 3 and saved.json()["removed"] == 0
    assert len(attendance(client, sid)["present"]) == 3

    detail = client.get(f"{BASE}sessions/{sid}/").json()
    assert detail["enrolled_count"] == 3 and detail["participant_days"] == 3
    listed = client.get(f"{BASE}sessions/{sid}/participants/").json()["results"]
    assert {p["name"]: p["days_attended"] for p in listed} == {
        "Dara Kim": 1,
        "Sokha Chan": 2,
        "Vanna Ly": 0,
    }
    assert absent["id"] in {p["id"] for p in listed}

    rated = client.put(
        f"{BASE}sessions/{sid}/participants/{worker['id']}/evaluation/",
        {"overall": 5, "content": 4, "trainers": 5, "usefulness": 3, "comment": " Useful "},
        format="json",
    )
    assert rated.status_code == 200, rated.json()
    evaluation = client.get(f"{BASE}sessions/{sid}/participants/{worker['id']}/evaluation/").json()
    assert evaluation["overall"] == 5 and evaluation["comment"] == "Useful"
    assert client.get(f"{BASE}sessions/{sid}/participants/{outsider['id']}/evaluation/").status_code == 404

    figures = client.get(BASE + "figures/")
    assert figures.status_code == 200
    body = figures.json()
    # Three attended days, though three people enrolled for two days each (six places).
    assert body["totals"]["ptd"] == 3 and body["totals"]["participants"] == 2
    assert body["totals"]["female_ptd"] == 3 and body["totals"]["sessions"] == 1
    assert {row["factory"]: row["ptd"] for row in body["by_factory"]} == {kh_factory.pk: 2, None: 1}
    assert body["by_course"] == [
        {"ptd": 3, "participants": 2, "course": course["id"], "title": "Workplace cooperation"}
    ]
    assert body["by_sex"][0]["sex"] == "female" and body["by_sex"][0]["label"] == "Female"
    months = {}
    for day, count in ((dates[0], 2), (dates[1], 1)):
        months[f"{day:%Y-%m}"] = months.get(f"{day:%Y-%m}", 0) + count
    assert {row["month"]: row["ptd"] for row in body["by_month"]} == months
    assert body["evaluations_by_course"][0]["count"] == 1
    assert body["evaluations_by_course"][0]["overall"] == 5
    assert body["evaluations_by_trainer"][0]["trainer"] == officer.pk
    only_outsiders = client.get(BASE + "figures/", {"factory": kh_factory.pk, "start": dates[1]}).json()
    assert only_outsiders["totals"]["ptd"] == 1
    assert client.get(BASE + "courses/").json()[0]["sessions_count"] == 1


def test_courses_can_be_changed_by_officers(kh, officer, course):
    client = api(officer)
    patched = client.patch(f"{BASE}courses/{course.pk}/", {"days": 3, "is_active": False}, format="json")
    assert patched.status_code == 200, patched.json()
    assert patched.json()["days"] == 3 and patched.json()["is_active"] is False
    assert client.get(f"{BASE}courses/{course.pk}/").json()["title"] == "Supervisory skills"


def test_session_changes_and_cancelling(kh, kh_factory, officer, course):
    client = api(officer)
    session = schedule(client, course, days_ago(kh, 3, 2))
    sid = session["id"]
    other = user_with_role(Role.ADVISOR, kh)
    later = [kh.today() + dt.timedelta(days=n) for n in (5, 6)]
    patched = client.patch(
        f"{BASE}sessions/{sid}/",
        {"venue": "Factory canteen", "dates": [d.isoformat() for d in later], "trainers": [other.pk]},
        format="json",
    )
    assert patched.status_code == 200, patched.json()
    body = patched.json()
    assert body["venue"] == "Factory canteen" and body["days"] == [d.isoformat() for d in later]
    assert body["starts_on"] == later[0].isoformat() and [t["id"] for t in body["trainers"]] == [other.pk]
    untouched = client.patch(f"{BASE}sessions/{sid}/", {"notes": "Bring the handbook."}, format="json")
    assert untouched.json()["days"] == body["days"] and untouched.json()["trainers"] == body["trainers"]

    enrol(client, sid, "Sokha Chan", factory=kh_factory.pk)
    enrol(client, sid, "Dara Kim", factory=kh_factory.pk)
    fewer = client.patch(f"{BASE}sessions/{sid}/", {"capacity": 1}, format="json")
    assert fewer.status_code == 400 and "capacity" in fewer.json()

    assert client.post(f"{BASE}sessions/{sid}/cancel/", {"reason": ""}, format="json").status_code == 400
    cancelled = client.post(f"{BASE}sessions/{sid}/cancel/", {"reason": "Floods"}, format="json")
    assert cancelled.status_code == 200 and cancelled.json()["cancelled"] is True
    assert cancelled.json()["cancel_reason"] == "Floods"
    assert client.patch(f"{BASE}sessions/{sid}/", {"notes": "x"}, format="json").status_code == 400
    listed = client.get(BASE + "sessions/", {"cancelled": "true"}).json()["results"]
    assert [s["id"] for s in listed] == [sid]
    assert client.get(BASE + "sessions/", {"cancelled": "false"}).json()["results"] == []


def test_a_session_that_took_place_cannot_be_cancelled_nor_its_attendees_removed(kh, officer, course):
    client = api(officer)
    sid = schedule(client, course, days_ago(kh, 1))["id"]
    came = enrol(client, sid, "Sokha Chan", organisation="Union")
    stayed_home = enrol(client, sid, "Dara Kim", organisation="Union")
    day = attendance(client, sid)["days"][0]["id"]
    assert mark(client, sid, [(came["id"], day)]).status_code == 200
    refused = client.post(f"{BASE}sessions/{sid}/cancel/", {"reason": "Too late"}, format="json")
    assert refused.status_code == 400 and "took place" in str(refused.json())
    kept = client.delete(f"{BASE}sessions/{sid}/participants/{came['id']}/")
    assert kept.status_code == 400 and "attended" in str(kept.json())
    assert client.delete(f"{BASE}sessions/{sid}/participants/{stayed_home['id']}/").status_code == 204
    assert client.delete(f"{BASE}sessions/{sid}/participants/{stayed_home['id']}/").status_code == 404
    assert client.get(f"{BASE}sessions/{sid}/").json()["enrolled_count"] == 1


def test_session_list_filters_and_cursor_pagination(kh, kh_factory, officer, course):
    client = api(officer)
    other_course = act(
        officer,
        kh,
        services.course_save,
        programme=kh,
        course=None,
        data={"title": "Fire safety", "days": 1, "audience": Audience.WORKERS},
    )
    elsewhere = FactoryFactory(programme=kh)
    held_for = schedule(client, other_course, days_ago(kh, 40), mode="factory", factory=kh_factory.pk)
    attended = schedule(client, course, days_ago(kh, 20))
    enrol(client, attended["id"], "Sokha Chan", factory=kh_factory.pk)
    unrelated = schedule(client, course, days_ago(kh, 10))
    enrol(client, unrelated["id"], "Dara Kim", factory=elsewhere.pk)

    def ids(**query):
        response = client.get(BASE + "sessions/", query)
        assert response.status_code == 200, response.json()
        return [s["id"] for s in response.json()["results"]]

    assert ids() == [unrelated["id"], attended["id"], held_for["id"]], "newest first"
    assert ids(factory=kh_factory.pk) == [attended["id"], held_for["id"]]
    assert ids(course=other_course.pk) == [held_for["id"]]
    assert ids(starts_after=days_ago(kh, 20)[0]) == [unrelated["id"], attended["id"]]
    assert ids(starts_before=days_ago(kh, 20)[0]) == [attended["id"], held_for["id"]]
    assert client.get(BASE + "sessions/", {"starts_after": "soon"}).status_code == 400

    for n in range(50):
        act(
            officer,
            kh,
            services.session_create,
            programme=kh,
            data={"course": course, "mode": SessionMode.OPEN, "venue": "Office"},
            dates=days_ago(kh, 100 + n),
            trainers=[],
        )
    first = client.get(BASE + "sessions/").json()
    assert len(first["results"]) == 50 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 3 and not second["next"]


# --- Who may do what --------------------------------------------------------------------------


def test_advisor_schedules_and_runs_sessions_but_not_the_catalogue_or_entitlements(
    kh, kh_factory, kh_advisor, officer, course
):
    client = api(kh_advisor)
    assert client.get(BASE + "courses/").status_code == 200
    refused = client.post(
        BASE + "courses/", {"title": "Negotiation", "days": 1, "audience": "managers"}, format="json"
    )
    assert refused.status_code == 403
    assert client.patch(f"{BASE}courses/{course.pk}/", {"days": 5}, format="json").status_code == 404
    assert [c["days"] for c in api(officer).get(BASE + "courses/").json()] == [2]

    session = schedule(client, course, days_ago(kh, 2))
    assert [t["id"] for t in session["trainers"]] == [kh_advisor.pk], "the advisor runs what they schedule"
    participant = enrol(client, session["id"], "Sokha Chan", factory=kh_factory.pk)
    day = attendance(client, session["id"])["days"][0]["id"]
    assert mark(client, session["id"], [(participant["id"], day)]).status_code == 200

    entitlement = {"days": 10, "starts_on": "2026-01-01", "ends_on": "2026-12-31"}
    assert client.put(f"{BASE}entitlements/{kh_factory.pk}/1/", entitlement, format="json").status_code == 404
    assert api(officer).get(BASE + "entitlements/").json()["results"] == []
    assert client.get(BASE + "entitlements/").status_code == 200, "advisors read entitlements"


def test_an_advisor_who_does_not_train_a_session_cannot_run_it(kh, kh_factory, officer, course):
    sid = schedule(api(officer), course, days_ago(kh, 2))["id"]
    participant = enrol(api(officer), sid, "Sokha Chan", factory=kh_factory.pk)
    day = attendance(api(officer), sid)["days"][0]["id"]
    bystander = api(user_with_role(Role.ADVISOR, kh))
    assert bystander.get(f"{BASE}sessions/{sid}/").status_code == 200, "staff read every session"
    assert attendance(bystander, sid)["present"] == []
    assert mark(bystander, sid, [(participant["id"], day)]).status_code == 404
    assert attendance(api(officer), sid)["present"] == [], "nothing was recorded"
    assert bystander.patch(f"{BASE}sessions/{sid}/", {"notes": "x"}, format="json").status_code == 404
    assert bystander.post(f"{BASE}sessions/{sid}/cancel/", {"reason": "x"}, format="json").status_code == 404
    assert (
        bystander.post(
            f"{BASE}sessions/{sid}/participants/",
            {"name": "X", "sex": "male", "role": "worker", "factory": kh_factory.pk},
            format="json",
        ).status_code
        == 404
    )
    assert bystander.delete(f"{BASE}sessions/{sid}/participants/{participant['id']}/").status_code == 404
    manager = api(user_with_role(Role.PROGRAMME_MANAGER, kh))
    assert mark(manager, sid, [(participant["id"], day)]).status_code == 200, "managers run every session"


def test_factory_users_read_only_their_own_factory_training(kh, kh_factory, officer, course):
    neighbour = FactoryFactory(programme=kh, name="Mekong Knitwear")
    client = api(officer)
    sid = schedule(client, course, days_ago(kh, 5, 4))["id"]
    ours = enrol(client, sid, "Sokha Chan", factory=kh_factory.pk)
    theirs = enrol(client, sid, "Dara Kim", factory=neighbour.pk)
    outsider = enrol(client, sid, "Vanna Ly", organisation="Ministry of Labour")
    first, second = (d["id"] for d in attendance(client, sid)["days"])
    marks = [(ours["id"], first), (ours["id"], second), (theirs["id"], first), (outsider["id"], first)]
    assert mark(client, sid, marks).status_code == 200
    period = {"days": 12, "starts_on": days_ago(kh, 30)[0].isoformat(), "ends_on": days_ago(kh, -300)[0]}
    assert client.put(f"{BASE}entitlements/{kh_factory.pk}/1/", period, format="json").status_code == 201

    factory_user = api(user_with_role(Role.FACTORY, kh, factory=kh_factory))
    for path in (
        "sessions/",
        f"sessions/{sid}/",
        f"sessions/{sid}/participants/",
        f"sessions/{sid}/attendance/",
        f"sessions/{sid}/participants/{ours['id']}/evaluation/",
        "figures/",
        "entitlements/",
        "courses/",
    ):
        assert factory_user.get(BASE + path).status_code == 404, path
    assert factory_user.post(BASE + "sessions/", {}, format="json").status_code == 404
    assert mark(factory_user, sid, []).status_code == 404

    own = factory_user.get(f"{BASE}factories/{kh_factory.pk}/training/")
    assert own.status_code == 200
    body = own.json()
    assert body["factory_public_id"] == "KH000018"
    assert [(e["cycle"], e["days"], e["used"], e["remaining"]) for e in body["entitlements"]] == [
        (1, 12, 2, 10)
    ]
    assert [(s["id"], s["participants"], s["participant_days"]) for s in body["sessions"]] == [(sid, 1, 2)]
    text = own.content.decode()
    for name in ("Sokha Chan", "Dara Kim", "Vanna Ly", "Mekong Knitwear", "Ministry of Labour"):
        assert name not in text, f"{name} leaked to another factory's user"
    assert factory_user.get(f"{BASE}factories/{neighbour.pk}/training/").status_code == 404
    staff_view = api(user_with_role(Role.ADVISOR, kh)).get(f"{BASE}factories/{neighbour.pk}/training/")
    assert staff_view.status_code == 200 and staff_view.json()["sessions"][0]["participant_days"] == 1


def test_other_programmes_see_nothing(kh, vn, kh_factory, vn_factory, officer, course):
    sid = schedule(api(officer), course, days_ago(kh, 2))["id"]
    participant = enrol(api(officer), sid, "Sokha Chan", factory=kh_factory.pk)
    stranger = api(user_with_role(Role.PROGRAMME_MANAGER, vn))
    vn_base = "/api/v1/p/VN/training/"
    for path in (
        f"sessions/{sid}/",
        f"sessions/{sid}/participants/",
        f"sessions/{sid}/attendance/",
        f"sessions/{sid}/participants/{participant['id']}/evaluation/",
        f"courses/{course.pk}/",
        f"factories/{kh_factory.pk}/training/",
    ):
        assert stranger.get(vn_base + path).status_code == 404, path
    assert stranger.get(vn_base + "sessions/").json()["results"] == []
    assert stranger.get(vn_base + "courses/").json() == []
    assert stranger.get(vn_base + "figures/").json()["totals"]["ptd"] == 0
    assert stranger.get(BASE + "sessions/").status_code == 404, "no grant in KH"
    assert stranger.patch(vn_base + f"sessions/{sid}/", {"notes": "x"}, format="json").status_code == 404
    assert mark(stranger, sid, []).status_code == 404
    entitlement = {"days": 10, "starts_on": "2026-01-01", "ends_on": "2026-12-31"}
    assert (
        stranger.put(f"{vn_base}entitlements/{kh_factory.pk}/1/", entitlement, format="json").status_code
        == 404
    )
    # Nor can KH staff point a session at a VN factory.
    refused = api(officer).post(
        BASE + "sessions/",
        {"course": course.pk, "mode": "factory", "factory": vn_factory.pk, "dates": ["2026-05-04"]},
        format="json",
    )
    assert refused.status_code == 400 and "factory" in refused.json()


def test_anonymous_callers_are_refused(kh, officer, course):
    sid = schedule(api(officer), course, days_ago(kh, 2))["id"]
    anonymous = api()
    for path in ("courses/", "sessions/", f"sessions/{sid}/", f"sessions/{sid}/attendance/", "figures/"):
        assert anonymous.get(BASE + path).status_code == 401, path
    assert (
        anonymous.put(f"{BASE}sessions/{sid}/attendance/", {"present": []}, format="json").status_code == 401
    )
    bad_token = APIClient()
    bad_token.credentials(HTTP_AUTHORIZATION="Token nope")
    assert bad_token.get(BASE + "sessions/").status_code == 401


# --- Bad input: 400 with messages, never 500 ------------------------------------------------


def test_attendance_refuses_unknown_and_future_days(kh, officer, course):
    client = api(officer)
    sid = schedule(client, course, [kh.today() - dt.timedelta(days=1), kh.today() + dt.timedelta(days=3)])[
        "id"
    ]
    other = schedule(client, course, days_ago(kh, 5))["id"]
    participant = enrol(client, sid, "Sokha Chan", organisation="Union")
    past_day, future_day = (d["id"] for d in attendance(client, sid)["days"])
    foreign_day = attendance(client, other)["days"][0]["id"]

    unknown = mark(client, sid, [(participant["id"], foreign_day)])
    assert unknown.status_code == 400 and "another session" in str(unknown.json())
    nobody = mark(client, sid, [(participant["id"] + 1000, past_day)])
    assert nobody.status_code == 400
    future = mark(client, sid, [(participant["id"], future_day)])
    assert future.status_code == 400 and "days that have come" in str(future.json())
    shapeless = client.put(f"{BASE}sessions/{sid}/attendance/", {"present": [{"day": "x"}]}, format="json")
    assert shapeless.status_code == 400 and "present" in shapeless.json()
    assert attendance(client, sid)["present"] == []
    assert mark(client, sid, [(participant["id"], past_day)]).status_code == 200


def test_evaluations_rate_from_one_to_five_for_attendees(kh, officer, course):
    client = api(officer)
    sid = schedule(client, course, days_ago(kh, 1))["id"]
    came = enrol(client, sid, "Sokha Chan", organisation="Union")
    absent = enrol(client, sid, "Dara Kim", organisation="Union")
    mark(client, sid, [(came["id"], attendance(client, sid)["days"][0]["id"])])
    url = f"{BASE}sessions/{sid}/participants/{{}}/evaluation/"
    ratings = {"overall": 6, "content": 4, "trainers": 0, "usefulness": 3}
    bad = client.put(url.format(came["id"]), ratings, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"overall", "trainers"}
    assert bad.json()["overall"][0]
    ratings.update(overall=5, trainers=4)
    not_there = client.put(url.format(absent["id"]), ratings, format="json")
    assert not_there.status_code == 400 and "attended" in str(not_there.json())
    assert client.put(url.format(came["id"]), ratings, format="json").status_code == 200
    assert client.put(url.format(999999), ratings, format="json").status_code == 404


def test_enrolment_refuses_a_full_session_and_incomplete_people(kh, kh_factory, officer, course):
    client = api(officer)
    sid = schedule(client, course, days_ago(kh, 1), capacity=1)["id"]
    enrol(client, sid, "Sokha Chan", factory=kh_factory.pk)
    url = f"{BASE}sessions/{sid}/participants/"
    full = client.post(
        url, {"name": "Dara Kim", "sex": "male", "role": "worker", "organisation": "X"}, format="json"
    )
    assert full.status_code == 400 and "full" in str(full.json())
    nowhere = client.post(url, {"name": "Dara Kim", "sex": "male", "role": "worker"}, format="json")
    assert nowhere.status_code == 400 and "organisation" in nowhere.json()
    bad = client.post(url, {"name": "", "sex": "alien", "role": "worker", "factory": 999999}, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"name", "sex", "factory"}


def test_session_input_is_checked(kh, kh_advisor, officer, course):
    client = api(officer)
    url = BASE + "sessions/"

    def post(**body):
        response = client.post(
            url, {"course": course.pk, "mode": "open", "dates": ["2026-05-04"], **body}, format="json"
        )
        assert response.status_code == 400, response.json()
        return response.json()

    assert "dates" in post(dates=[])
    assert "dates" in post(dates=["soon"])
    assert "dates" in post(dates=["2026-05-04", "2026-05-04"])
    assert "dates" in post(dates=[f"2026-05-{n:02d}" for n in range(1, 13)])
    assert "course" in post(course=999999)
    assert "factory" in post(mode="factory")
    assert "mode" in post(mode="sometimes")
    assert "capacity" in post(capacity=0)
    stranger = user_with_role(Role.FACTORY, kh, factory=FactoryFactory(programme=kh))
    assert "trainers" in post(trainers=[stranger.pk])
    assert "online_link" in post(online=True, venue="")
    assert client.post(url, "not json", content_type="application/json").status_code == 400
    ok = client.post(
        url,
        {"course": course.pk, "mode": "open", "dates": ["2026-05-04"], "trainers": [kh_advisor.pk]},
        format="json",
    )
    assert ok.status_code == 201 and [t["id"] for t in ok.json()["trainers"]] == [kh_advisor.pk]


def test_course_input_is_checked(kh, officer, course):
    client = api(officer)
    twice = client.post(
        BASE + "courses/", {"title": "supervisory SKILLS", "days": 1, "audience": "workers"}, format="json"
    )
    assert twice.status_code == 400 and "title" in twice.json()
    long = client.post(BASE + "courses/", {"title": "Long", "days": 11, "audience": "workers"}, format="json")
    assert long.status_code == 400 and "days" in long.json()
    assert client.get(f"{BASE}courses/999999/").status_code == 404


def test_entitlements_set_list_and_refuse_overlaps(kh, kh_factory, officer, course):
    client = api(officer)
    url = f"{BASE}entitlements/{kh_factory.pk}/"
    this_year = {
        "days": 15,
        "starts_on": days_ago(kh, 100)[0],
        "ends_on": days_ago(kh, -200)[0],
        "note": "MoU",
    }
    created = client.put(url + "1/", this_year, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["remaining"] == 15 and created.json()["factory_name"] == "Angkor Garments"
    changed = client.put(url + "1/", {**this_year, "days": 20}, format="json")
    assert changed.status_code == 200 and changed.json()["days"] == 20

    overlapping = {"days": 15, "starts_on": days_ago(kh, -100)[0], "ends_on": days_ago(kh, -400)[0]}
    refused = client.put(url + "2/", overlapping, format="json")
    assert refused.status_code == 400 and "overlap" in refused.json()["starts_on"][0]
    backwards = client.put(url + "2/", {**overlapping, "ends_on": days_ago(kh, 400)[0]}, format="json")
    assert backwards.status_code == 400 and "ends_on" in backwards.json()
    assert client.put(url + "0/", this_year, format="json").status_code == 400
    assert client.put(url + "2/", {"days": -1}, format="json").status_code == 400
    assert client.put(f"{BASE}entitlements/999999/1/", this_year, format="json").status_code == 404
    earlier = {"days": 10, "starts_on": days_ago(kh, 465)[0], "ends_on": days_ago(kh, 101)[0]}
    assert client.put(url + "2/", earlier, format="json").status_code == 201

    sid = schedule(client, course, [*days_ago(kh, 3, 2), kh.today() + dt.timedelta(days=4)])["id"]
    participant = enrol(client, sid, "Sokha Chan", factory=kh_factory.pk)
    enrol(client, sid, "Dara Kim", organisation="Union")
    first, second, _ = (d["id"] for d in attendance(client, sid)["days"])
    mark(client, sid, [(participant["id"], first), (participant["id"], second)])

    every = client.get(BASE + "entitlements/").json()["results"]
    assert {(e["cycle"], e["used"], e["booked"], e["remaining"]) for e in every} == {
        (1, 2, 1, 18),
        (2, 0, 0, 10),
    }
    current = client.get(BASE + "entitlements/", {"current": "true"}).json()["results"]
    assert [e["cycle"] for e in current] == [1]
    other = FactoryFactory(programme=kh)
    assert client.get(BASE + "entitlements/", {"factory": other.pk}).json()["results"] == []
    assert client.get(BASE + "entitlements/", {"current": "perhaps"}).status_code == 400


def test_figures_filters_are_checked(kh, officer):
    client = api(officer)
    assert client.get(BASE + "figures/", {"start": "2026-05-01", "end": "2026-04-01"}).status_code == 400
    assert client.get(BASE + "figures/", {"sex": "alien"}).status_code == 400
    assert client.get(BASE + "figures/", {"start": "soon"}).status_code == 400
    empty = client.get(BASE + "figures/", {"role": "manager", "course": 999999})
    assert empty.status_code == 200 and empty.json()["totals"]["ptd"] == 0


def test_huge_ids_are_404_not_500(kh, officer, course):
    client = api(officer)
    huge = 10**20
    assert client.get(f"{BASE}sessions/{huge}/").status_code == 404
    assert client.get(f"{BASE}courses/{huge}/").status_code == 404
    assert client.get(f"{BASE}factories/{huge}/training/").status_code == 404
    assert client.get(BASE + "sessions/", {"factory": huge, "course": huge}).json()["results"] == []
    assert client.get(BASE + "figures/", {"factory": huge}).json()["totals"]["ptd"] == 0
    factory = FactoryFactory(programme=kh)
    entitlement = {"days": 1, "starts_on": "2026-01-01", "ends_on": "2026-12-31"}
    too_far = client.put(f"{BASE}entitlements/{factory.pk}/{huge}/", entitlement, format="json")
    assert too_far.status_code == 400 and "cycle" in too_far.json()


# --- Query budget ---------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [3, 30])
def test_session_list_query_count_is_flat(
    kh, kh_factory, officer, course, rows, django_assert_max_num_queries
):
    trainer = user_with_role(Role.ADVISOR, kh)
    for n in range(rows):
        session = act(
            officer,
            kh,
            services.session_create,
            programme=kh,
            data={"course": course, "mode": SessionMode.OPEN, "venue": "Office"},
            dates=days_ago(kh, 2 * n + 2, 2 * n + 1),
            trainers=[officer, trainer],
        )
        act(
            officer,
            kh,
            services.participant_enrol,
            session=session,
            data={"name": f"Worker {n}", "sex": "female", "role": "worker", "factory": kh_factory},
        )
    client = api(officer)
    # Token, grants, programme, set_config twice, savepoint and release; sessions, trainers, days.
    with django_assert_max_num_queries(10):
        response = client.get(BASE + "sessions/")
    assert response.status_code == 200 and len(response.json()["results"]) == rows
    assert all(len(s["trainers"]) == 2 and len(s["days"]) == 2 for s in response.json()["results"])
