"""Advisory visits: logged by the programme's staff, read by them and the factory's own users,
changed by their advisors and the programme's leaders, deleted only by whoever logged them
within a week; the figures per month and joint visits; flat query counts; the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from advisory import visit_selectors, visits
from advisory.models import AdvisoryVisit, ImprovementPlan, PlanItem, VisitAdvisor
from betterwork import tenancy
from betterwork.models import AuditEvent, Role
from betterwork.permissions import Principal
from tests.model_factories import FactoryFactory, user_with_role

pytestmark = pytest.mark.django_db

API = "/api/v1/p/KH/advisory/"


def run(user, where, fn, /, **kwargs):
    """A service called as this user inside the programme's scope and a transaction, like a request."""
    with tenancy.scope({where.pk}), transaction.atomic():
        return fn(actor=Principal.for_user(user), **kwargs)


def log(user, factory, days_ago=1, advisors=(), items=(), **data):
    visited_on = factory.programme.today() - dt.timedelta(days=days_ago)
    return run(
        user,
        factory.programme,
        visits.visit_log,
        factory=factory,
        data={"visited_on": visited_on, "topics": "Reviewed the overtime register", **data},
        advisors=list(advisors),
        items=list(items),
    )


def in_scope(programme, fn):
    with tenancy.scope({programme.pk}), transaction.atomic():
        return fn()


def plan_item(factory, finding="Exits locked during working hours"):
    def make():
        plan, _ = ImprovementPlan.objects.get_or_create(programme=factory.programme, factory=factory, cycle=1)
        return PlanItem.objects.create(
            programme=factory.programme, plan=plan, source="factory", finding=finding
        )

    return in_scope(factory.programme, make)


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def page(path: str, factory=None) -> str:
    return f"/p/KH/advisory/{path}" if factory is None else f"/p/KH/advisory/factories/{factory.pk}/{path}"


@pytest.fixture
def factory_user(kh_factory):
    return user_with_role(Role.FACTORY, factory=kh_factory)


@pytest.fixture
def leader(kh):
    return user_with_role(Role.TEAM_LEADER, kh)


# --- Logging a visit ------------------------------------------------------------------------


def test_an_advisor_logs_a_visit_on_the_page_and_is_its_advisor_by_default(
    client, kh, kh_factory, kh_advisor
):
    item = plan_item(kh_factory)
    client.force_login(kh_advisor)
    form = client.get(page("visits/new/", kh_factory))
    assert form.status_code == 200 and "Exits locked during working hours" in form.content.decode()
    made = client.post(
        page("visits/new/", kh_factory),
        {
            "visited_on": (kh.today() - dt.timedelta(days=2)).isoformat(),
            "mode": "on_site",
            "with_union": "on",
            "topics": "Walk-through of the sewing floor",
            "follow_ups": "Clear the blocked exit",
            "items": [item.pk],
        },
    )
    assert made.status_code == 302 and made["Location"] == page("visits/", kh_factory)
    log_page = client.get(made["Location"]).content.decode()
    assert "Walk-through of the sewing floor" in log_page and "Clear the blocked exit" in log_page
    visit = in_scope(kh, lambda: AdvisoryVisit.objects.get())
    assert in_scope(kh, lambda: visit_selectors.visit_advisor_ids(visit=visit)) == {kh_advisor.pk}
    assert in_scope(kh, lambda: list(visit.items.values_list("pk", flat=True))) == [item.pk]
    assert visit.with_union and not visit.with_labour_inspector and visit.created_by == kh_advisor
    event = in_scope(kh, lambda: AuditEvent.objects.get(action="advisory.visit.create"))
    assert event.after["advisors"] == [kh_advisor.pk] and event.after["items"] == [item.pk]


def test_a_visit_in_the_future_is_refused(client, kh, kh_factory, kh_advisor):
    with pytest.raises(ValidationError) as refused:
        log(kh_advisor, kh_factory, days_ago=-1)
    assert "visited_on" in refused.value.message_dict
    log(kh_advisor, kh_factory, days_ago=0)  # today is fine
    client.force_login(kh_advisor)
    tomorrow = (kh.today() + dt.timedelta(days=1)).isoformat()
    response = client.post(
        page("visits/new/", kh_factory), {"visited_on": tomorrow, "mode": "on_site", "topics": "x"}
    )
    assert response.status_code == 200 and "cannot be after today" in response.content.decode()
    assert in_scope(kh, lambda: AdvisoryVisit.objects.count()) == 1


def test_advisors_are_programme_staff_and_items_come_from_the_factorys_plan(kh, vn, kh_factory, kh_advisor):
    vn_advisor = user_with_role(Role.ADVISOR, vn)
    factory_user = user_with_role(Role.FACTORY, factory=kh_factory)
    with pytest.raises(ValidationError) as refused:
        log(kh_advisor, kh_factory, advisors=[kh_advisor, vn_advisor, factory_user])
    assert "advisors" in refused.value.message_dict
    other = FactoryFactory(programme=kh, name="Other Garments")
    with pytest.raises(ValidationError) as refused:
        log(kh_advisor, kh_factory, items=[plan_item(other)])
    assert "items" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        log(kh_advisor, kh_factory, topics="  ")
    assert "topics" in refused.value.message_dict


def test_factory_users_read_their_own_log_but_cannot_log_visits(
    client, kh, kh_factory, kh_advisor, factory_user
):
    log(kh_advisor, kh_factory, topics="PICC meeting support")
    other = FactoryFactory(programme=kh, name="Other Garments")
    log(kh_advisor, other, topics="Secret of the other factory")
    client.force_login(factory_user)
    own = client.get(page("visits/", kh_factory))
    assert own.status_code == 200 and "PICC meeting support" in own.content.decode()
    assert "Log a visit" not in own.content.decode() and "Edit" not in own.content.decode()
    assert client.get(page("visits/", other)).status_code == 404
    assert client.get(page("visits/new/", kh_factory)).status_code == 404
    posted = client.post(
        page("visits/new/", kh_factory), {"visited_on": "2026-01-01", "mode": "on_site", "topics": "x"}
    )
    assert posted.status_code == 404
    assert client.get(page("visits/")).status_code == 404  # the programme's list is for staff
    visit = in_scope(kh, lambda: AdvisoryVisit.objects.get(factory=kh_factory))
    assert client.get(page(f"visits/{visit.pk}/edit/")).status_code == 404
    with pytest.raises(PermissionDenied):
        log(factory_user, kh_factory)


def test_another_programme_sees_nothing(client, kh, vn, kh_factory, vn_factory, kh_advisor):
    visit = log(kh_advisor, kh_factory)
    vn_advisor = user_with_role(Role.ADVISOR, vn)
    client.force_login(vn_advisor)
    for path in (
        page("visits/"),
        page("visits/", kh_factory),
        page("visits/new/", kh_factory),
        page(f"visits/{visit.pk}/edit/"),
    ):
        assert client.get(path).status_code == 404, path
    # Their own programme's URL does not reach a KH visit either.
    assert client.get(f"/p/VN/advisory/visits/{visit.pk}/edit/").status_code == 404
    assert client.get(f"/p/VN/advisory/factories/{kh_factory.pk}/visits/").status_code == 404
    with pytest.raises(PermissionDenied):
        run(
            vn_advisor,
            kh,
            visits.visit_log,
            factory=kh_factory,
            data={"visited_on": kh.today(), "topics": "x"},
        )


def test_the_global_team_reads_but_does_not_log(client, kh, kh_factory, kh_advisor):
    log(kh_advisor, kh_factory, topics="Heat in the cutting section")
    analyst = user_with_role(Role.GLOBAL)
    client.force_login(analyst)
    listed = client.get(page("visits/"))
    assert listed.status_code == 200 and "Heat in the cutting section" in listed.content.decode()
    assert client.get(page("visits/new/", kh_factory)).status_code == 404


# --- Changing and deleting ------------------------------------------------------------------


def test_a_visit_is_changed_by_its_advisors_and_the_programmes_leaders_only(
    client, kh, kh_factory, kh_advisor, kh_manager, leader
):
    partner = user_with_role(Role.ADVISOR, kh)
    outsider = user_with_role(Role.ADVISOR, kh)
    visit = log(kh_advisor, kh_factory, advisors=[kh_advisor, partner])
    for who in (kh_advisor, partner, leader, kh_manager):
        changed = run(who, kh, visits.visit_update, visit=visit, data={"follow_ups": f"By {who.pk}"})
        assert changed.follow_ups == f"By {who.pk}"
    with pytest.raises(PermissionDenied):
        run(outsider, kh, visits.visit_update, visit=visit, data={"follow_ups": "Nope"})
    client.force_login(outsider)
    assert client.get(page(f"visits/{visit.pk}/edit/")).status_code == 404
    client.force_login(partner)
    form = client.get(page(f"visits/{visit.pk}/edit/"))
    assert form.status_code == 200
    saved = client.post(
        page(f"visits/{visit.pk}/edit/"),
        {
            "visited_on": visit.visited_on.isoformat(),
            "mode": "virtual",
            "topics": "Changed topics",
            "follow_ups": f"By {kh_manager.pk}",
            "advisors": [partner.pk],
            "with_labour_inspector": "on",
        },
    )
    assert saved.status_code == 302
    visit = in_scope(kh, lambda: AdvisoryVisit.objects.get(pk=visit.pk))
    assert visit.mode == "virtual" and visit.with_labour_inspector and visit.topics == "Changed topics"
    assert in_scope(kh, lambda: visit_selectors.visit_advisor_ids(visit=visit)) == {partner.pk}
    event = in_scope(kh, lambda: AuditEvent.objects.filter(action="advisory.visit.update").latest("id"))
    assert event.before["advisors"] == [kh_advisor.pk, partner.pk] and event.after["advisors"] == [partner.pk]
    assert set(event.after) == {"mode", "with_labour_inspector", "topics", "advisors"}


def test_only_whoever_logged_a_visit_deletes_it_and_only_within_a_week(
    client, kh, kh_factory, kh_advisor, kh_manager
):
    visit = log(kh_advisor, kh_factory)
    with pytest.raises(PermissionDenied):
        run(kh_manager, kh, visits.visit_delete, visit=visit)
    in_scope(
        kh,
        lambda: AdvisoryVisit.objects.filter(pk=visit.pk).update(
            created_at=timezone.now() - dt.timedelta(days=8)
        ),
    )
    visit = in_scope(kh, lambda: AdvisoryVisit.objects.get(pk=visit.pk))
    with pytest.raises(ValidationError):
        run(kh_advisor, kh, visits.visit_delete, visit=visit)
    client.force_login(kh_advisor)
    assert client.get(page(f"visits/{visit.pk}/delete/")).status_code == 404
    fresh = log(kh_advisor, kh_factory, topics="Logged by mistake")
    assert client.get(page(f"visits/{fresh.pk}/delete/")).status_code == 200
    deleted = client.post(page(f"visits/{fresh.pk}/delete/"))
    assert deleted.status_code == 302
    assert in_scope(kh, lambda: list(AdvisoryVisit.objects.values_list("pk", flat=True))) == [visit.pk]
    assert in_scope(kh, lambda: VisitAdvisor.objects.filter(visit_id=fresh.pk).exists()) is False
    assert in_scope(kh, lambda: AuditEvent.objects.filter(action="advisory.visit.delete").count()) == 1


# --- Figures --------------------------------------------------------------------------------


def test_counts_per_factory_and_figures_per_month(kh, kh_factory, kh_advisor, leader):
    today = kh.today()
    other = FactoryFactory(programme=kh, name="Other Garments")

    def on(day, factory=kh_factory, **data):
        return run(
            kh_advisor,
            kh,
            visits.visit_log,
            factory=factory,
            data={"visited_on": day, "topics": "Advice", **data},
            advisors=[kh_advisor],
        )

    this_month = today.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    long_ago = today - dt.timedelta(days=800)
    on(this_month, with_labour_inspector=True)
    on(this_month, factory=other)
    on(last_month, with_union=True, with_labour_inspector=True)
    on(last_month)
    on(long_ago)
    run(leader, kh, visits.visit_log, factory=other, data={"visited_on": last_month, "topics": "x"})

    counts = in_scope(kh, lambda: visit_selectors.visit_counts(factory=kh_factory, today=today))
    assert counts["total"] == 4 and counts["last_12_months"] == 3 and counts["joint"] == 2
    assert counts["this_year"] == sum(1 for d in (this_month, last_month, last_month) if d.year == today.year)

    figures = in_scope(
        kh,
        lambda: visit_selectors.visit_figures(
            programme=kh, filters=visit_selectors.VisitFilters(), today=today
        ),
    )
    assert (
        figures.totals["visits"] == 6
        and figures.totals["joint"] == 2
        and figures.totals["last_12_months"] == 5
    )
    assert figures.totals["factories_last_12_months"] == 2 and figures.totals["with_union"] == 1
    months = {row["month"]: (row["visits"], row["joint"], row["factories"]) for row in figures.by_month}
    assert months[this_month] == (2, 1, 2)
    assert months[last_month] == (3, 1, 2)
    assert months[long_ago.replace(day=1)] == (1, 0, 1)
    assert sum(row["visits"] for row in figures.by_year) == 6

    def figures_for(**filters):
        return in_scope(
            kh,
            lambda: visit_selectors.visit_figures(
                programme=kh, filters=visit_selectors.VisitFilters(**filters), today=today
            ),
        ).totals

    assert figures_for(advisor_id=leader.pk)["visits"] == 1
    assert figures_for(joint="joint")["visits"] == 2
    assert figures_for(joint="union")["visits"] == 1
    assert figures_for(joint="not_joint")["visits"] == 4
    assert figures_for(month=last_month)["visits"] == 3
    assert figures_for(month=last_month)["last_12_months"] == 5  # the headline ignores the month
    assert figures_for(factory_id=other.pk, month=last_month)["visits"] == 1


def test_the_programme_list_filters_and_shows_the_figures(client, kh, kh_factory, kh_advisor, leader):
    today = kh.today()
    log(kh_advisor, kh_factory, topics="Inspector came along", with_labour_inspector=True)
    run(
        leader,
        kh,
        visits.visit_log,
        factory=kh_factory,
        data={"visited_on": today, "topics": "Team leader visit"},
    )
    client.force_login(kh_advisor)
    everything = client.get(page("visits/")).content.decode()
    assert "Inspector came along" in everything and "Team leader visit" in everything
    by_leader = client.get(page("visits/"), {"advisor": leader.pk}).content.decode()
    assert "Team leader visit" in by_leader and "Inspector came along" not in by_leader
    joint = client.get(page("visits/"), {"joint": "joint"}).content.decode()
    assert "Inspector came along" in joint and "Team leader visit" not in joint
    month = client.get(page("visits/"), {"month": "1999-01"}).content.decode()
    assert "No visit matches these filters" in month
    bad = client.get(page("visits/"), {"month": "March"})
    assert bad.status_code == 200 and "is not a month like" in bad.content.decode()
    chosen = client.get(page("visits/new/"), {"factory": kh_factory.pk})
    assert chosen.status_code == 302 and chosen["Location"] == page("visits/new/", kh_factory)


def test_the_factory_page_links_to_visits_and_self_diagnosis(client, kh_factory, factory_user):
    client.force_login(factory_user)
    body = client.get(f"/p/KH/factories/{kh_factory.pk}/").content.decode()
    assert page("visits/", kh_factory) in body and page("self-diagnosis/", kh_factory) in body


@pytest.mark.parametrize("path", ["factory", "programme"])
def test_visit_lists_keep_their_query_count_flat(client, kh, kh_factory, kh_advisor, leader, path):
    url = page("visits/", kh_factory) if path == "factory" else page("visits/")
    client.force_login(kh_advisor)

    def grow(n):
        for i in range(n):
            item = plan_item(kh_factory, finding=f"Finding {i} {path}")
            log(kh_advisor, kh_factory, days_ago=i, advisors=[kh_advisor, leader], items=[item])

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    grow(3)
    client.get(url)  # the first request of a login also touches its session
    before = queries()
    grow(27)
    assert queries() == before


# --- The API --------------------------------------------------------------------------------


def test_api_logs_lists_changes_and_deletes_visits(kh, kh_factory, kh_advisor, leader, factory_user):
    item = plan_item(kh_factory)
    client = api(kh_advisor)
    body = {
        "factory": kh_factory.pk,
        "visited_on": kh.today().isoformat(),
        "with_union": True,
        "topics": "Grievance procedure",
        "advisors": [kh_advisor.pk, leader.pk],
        "items": [item.pk],
    }
    made = client.post(API + "visits/", body, format="json")
    assert made.status_code == 201, made.json()
    visit = made.json()
    assert visit["mode"] == "on_site" and visit["joint"] is True
    assert {a["id"] for a in visit["advisors"]} == {kh_advisor.pk, leader.pk}
    assert [i["id"] for i in visit["items"]] == [item.pk]

    listed = client.get(API + "visits/", {"joint": "joint", "advisor": leader.pk}).json()
    assert [v["id"] for v in listed["results"]] == [visit["id"]]
    assert client.get(API + "visits/", {"joint": "not_joint"}).json()["results"] == []

    changed = client.patch(f"{API}visits/{visit['id']}/", {"mode": "virtual", "items": []}, format="json")
    assert (
        changed.status_code == 200 and changed.json()["mode"] == "virtual" and changed.json()["items"] == []
    )
    assert changed.json()["topics"] == "Grievance procedure"  # left out, kept

    figures = client.get(API + "visits/figures/").json()
    assert figures["totals"]["visits"] == 1 and figures["totals"]["joint"] == 1
    assert figures["by_month"][0]["month"] == f"{kh.today():%Y-%m}"

    own = api(factory_user).get(f"{API}factories/{kh_factory.pk}/visits/")
    assert own.status_code == 200 and [v["id"] for v in own.json()["results"]] == [visit["id"]]

    assert client.delete(f"{API}visits/{visit['id']}/").status_code == 204
    assert client.get(f"{API}visits/{visit['id']}/").status_code == 404


def test_api_refuses_bad_input_with_400s(kh, vn, kh_factory, vn_factory, kh_advisor):
    client = api(kh_advisor)
    good = {"factory": kh_factory.pk, "visited_on": kh.today().isoformat(), "topics": "Advice"}
    cases = {
        "visited_on": {**good, "visited_on": (kh.today() + dt.timedelta(days=3)).isoformat()},
        "topics": {k: v for k, v in good.items() if k != "topics"},
        "factory": {**good, "factory": vn_factory.pk},
        "advisors": {**good, "advisors": [user_with_role(Role.ADVISOR, vn).pk]},
        "items": {**good, "items": [plan_item(FactoryFactory(programme=kh)).pk]},
        "mode": {**good, "mode": "by_phone"},
    }
    for field, body in cases.items():
        response = client.post(API + "visits/", body, format="json")
        assert response.status_code == 400 and field in response.json(), (field, response.json())
    assert client.get(API + "visits/figures/", {"month": "2026-13"}).status_code == 400
    visit = client.post(API + "visits/", good, format="json").json()
    future = client.patch(f"{API}visits/{visit['id']}/", {"visited_on": "2999-01-01"}, format="json")
    assert future.status_code == 400 and "visited_on" in future.json()
    huge = 10**20
    assert client.get(f"{API}visits/{huge}/").status_code == 404
    assert client.get(f"{API}factories/{huge}/visits/").status_code == 404
    assert client.get(API + "visits/", {"factory": huge, "advisor": huge}).json()["results"] == []
    assert client.get(API + "visits/figures/", {"factory": huge}).json()["totals"]["visits"] == 0


def test_api_refuses_other_factories_programmes_and_roles(kh, vn, kh_factory, kh_advisor, factory_user):
    visit = log(kh_advisor, kh_factory)
    other = FactoryFactory(programme=kh, name="Other Garments")
    body = {"factory": kh_factory.pk, "visited_on": kh.today().isoformat(), "topics": "x"}
    factory_client = api(factory_user)
    assert factory_client.get(API + "visits/").status_code == 404
    assert factory_client.post(API + "visits/", body, format="json").status_code == 404
    assert factory_client.get(f"{API}factories/{other.pk}/visits/").status_code == 404
    assert factory_client.get(f"{API}visits/{visit.pk}/").status_code == 200
    assert factory_client.patch(f"{API}visits/{visit.pk}/", {"topics": "y"}, format="json").status_code == 403
    assert factory_client.delete(f"{API}visits/{visit.pk}/").status_code == 403
    vn_client = api(user_with_role(Role.ADVISOR, vn))
    assert vn_client.get(API + "visits/").status_code == 404
    assert vn_client.get(f"/api/v1/p/VN/advisory/visits/{visit.pk}/").status_code == 404
    assert api(user_with_role(Role.GLOBAL)).post(API + "visits/", body, format="json").status_code == 403
    assert api().get(API + "visits/").status_code in (401, 403)


@pytest.mark.parametrize("rows", [3, 30])
def test_api_visit_list_query_count_is_flat(
    kh, kh_factory, kh_advisor, leader, rows, django_assert_max_num_queries
):
    for n in range(rows):
        log(kh_advisor, kh_factory, days_ago=n, advisors=[kh_advisor, leader])
    client = api(kh_advisor)
    # Token, grants, programme, set_config twice, savepoint and release; visits, advisors, items.
    with django_assert_max_num_queries(10):
        response = client.get(API + "visits/")
    assert response.status_code == 200 and len(response.json()["results"]) == rows
