"""The training pages as their users meet them, the attendance sheet's export and import, and
flat query counts on the lists."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from betterwork import tenancy
from betterwork.models import AuditEvent, Role
from tests.model_factories import FactoryFactory, user_with_role
from tests.training.conftest import run, schedule
from training import services
from training.models import Attendance, Participant, SessionMode

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(kh, officer):
    return run(
        officer,
        kh,
        services.course_save,
        programme=kh,
        course=None,
        data={"title": "Occupational safety and health", "days": 2, "audience": "mixed"},
    )


def make_session(kh, officer, course, days=2, ago=10, **data):
    start = kh.today() - dt.timedelta(days=ago)
    dates = [start + dt.timedelta(days=n) for n in range(days)]
    return schedule(officer, kh, {"course": course, "mode": SessionMode.OPEN, **data}, dates, [officer])


def enrol(officer, kh, session, name, factory):
    return run(
        officer,
        kh,
        services.participant_enrol,
        session=session,
        data={"name": name, "sex": "female", "role": "worker", "factory": factory},
    )


def url(session, tail=""):
    return f"/p/KH/training/sessions/{session.pk}/{tail}"


def sheet(rows):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return io.BytesIO(out.getvalue().encode())


def upload(client, session, rows, name="attendance.csv"):
    data = sheet(rows)
    data.name = name
    return client.post(url(session, "attendance/import/"), {"spreadsheet": data})


def count(model, kh, **filters):
    with tenancy.scope({kh.pk}), transaction.atomic():
        return model.objects.filter(**filters).count()


def test_schedule_enrol_and_take_attendance_through_the_pages(client, kh, kh_factory, officer, course):
    client.force_login(officer)
    start = kh.today() - dt.timedelta(days=3)
    made = client.post(
        "/p/KH/training/sessions/new/",
        {
            "course": course.pk,
            "mode": "open",
            "first_day": start.isoformat(),
            "capacity": 20,
            "venue": "Office",
            "counts_toward_entitlement": "on",
        },
    )
    assert made.status_code == 302
    page = client.get(made["Location"])
    assert page.status_code == 200 and "Nobody is enrolled yet" in page.content.decode()
    session_url = made["Location"]
    bad = client.post(session_url + "participants/", {"name": "Ana", "sex": "female", "role": "worker"})
    assert bad.status_code == 200 and "factory or name their organisation" in bad.content.decode()
    client.post(
        session_url + "participants/",
        {"name": "Ana", "sex": "female", "role": "worker", "factory": kh_factory.pk},
    )
    with tenancy.scope({kh.pk}), transaction.atomic():
        ana = Participant.objects.get(name="Ana")
        days = list(ana.session.days.all())
    assert len(days) == 2  # the course's length from the first day
    saved = client.post(session_url + "attendance/", {f"present-{ana.pk}-{days[0].pk}": "on"}, follow=True)
    assert "1 participant training days" in saved.content.decode()
    assert count(Attendance, kh) == 1


def test_form_refuses_unreadable_dates_clearly(client, kh, officer, course):
    client.force_login(officer)
    page = client.post(
        "/p/KH/training/sessions/new/",
        {"course": course.pk, "mode": "open", "dates": "2026-02-30", "capacity": 5},
    )
    assert page.status_code == 200 and "is not a date like" in page.content.decode()
    page = client.post(
        "/p/KH/training/sessions/new/",
        {"course": course.pk, "mode": "factory", "first_day": "2026-02-02", "capacity": 5},
    )
    assert "Choose the factory this session is for" in page.content.decode()


def test_the_attendance_sheet_exports_and_imports_in_the_same_shape(client, kh, kh_factory, officer, course):
    session = make_session(kh, officer, course)
    enrol(officer, kh, session, "Ana", kh_factory)
    client.force_login(officer)
    exported = client.get(url(session, "attendance/export/") + "?format=csv")
    assert exported.status_code == 200 and exported["Content-Disposition"].startswith("attachment")
    header, *rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    day1, day2 = header[5:]
    assert header[:5] == ["Name", "Sex", "Role", "Factory", "Organisation"] and rows[0][0] == "Ana"

    # Ana came both days; two new people, one from outside, are added by the sheet.
    rows = [
        header,
        ["Ana", "Female", "Worker", kh_factory.public_id, "", "yes", "yes"],
        ["Ben", "Male", "Supervisor", kh_factory.name, "", "yes", ""],
        ["Sok", "Male", "Other", "", "Garment workers' union", "", "x"],
    ]
    preview = upload(client, session, rows)
    assert "No problems found: 3 rows are ready to import" in preview.content.decode()
    assert count(Participant, kh) == 1  # a preview writes nothing
    run_id = preview.context["run"].pk
    done = client.post(url(session, "attendance/import/"), {"run": run_id}, follow=True)
    assert "Attendance imported: 3 participants (2 new), 4 days marked" in done.content.decode()
    assert count(Participant, kh) == 3 and count(Attendance, kh) == 4
    assert count(AuditEvent, kh, action="import.apply") == 1
    again = client.post(url(session, "attendance/import/"), {"run": run_id}, follow=True)
    assert "already applied" in again.content.decode()
    assert count(Attendance, kh) == 4


def test_a_sheet_with_errors_imports_nothing_and_names_each_row(client, kh, kh_factory, officer, course):
    session = make_session(kh, officer, course)
    client.force_login(officer)
    page = upload(client, session, [["Name", "Sex", "Factory"], ["Ana", "Female", kh_factory.public_id]])
    assert "The column “Role” is missing" in page.content.decode()
    day1, day2 = (kh.today() - dt.timedelta(days=10), kh.today() - dt.timedelta(days=9))
    header = ["Name", "Sex", "Role", "Factory", "Organisation", day1.isoformat(), day2.isoformat()]
    page = upload(
        client,
        session,
        [
            header,
            ["Ana", "Female", "Worker", kh_factory.public_id, "", "yes", "yes"],
            ["Ben", "Robot", "Worker", kh_factory.public_id, "", "yes", ""],
            ["Chea", "Female", "Worker", "No Such Factory", "", "yes", ""],
            ["ana", "Female", "Worker", kh_factory.public_id, "", "maybe", ""],
        ],
    )
    text = page.content.decode()
    run = page.context["run"]
    problems = {(e["row"], e["column"]) for e in run.errors}
    assert (3, "Sex") in problems and (5, day1.isoformat()) in problems
    assert any(e["row"] == 4 and "No Such Factory" in e["message"] for e in run.errors)
    assert "nothing was imported" in text
    assert count(Participant, kh) == 0 and count(Attendance, kh) == 0
    bad_file = upload(client, session, [["x"]], name="attendance.txt")
    assert "Upload a .csv or .xlsx file" in bad_file.content.decode()


def test_days_to_come_cannot_be_imported_as_attended(client, kh, kh_factory, officer, course):
    session = make_session(kh, officer, course, days=2, ago=-5)
    client.force_login(officer)
    first = (kh.today() + dt.timedelta(days=5)).isoformat()
    second = (kh.today() + dt.timedelta(days=6)).isoformat()
    page = upload(
        client,
        session,
        [
            ["Name", "Sex", "Role", "Factory", first, second],
            ["Ana", "Female", "Worker", kh_factory.public_id, "yes", ""],
        ],
    )
    assert "only for days that have come" in page.content.decode()


def test_who_sees_what(client, kh, vn, kh_factory, officer, course):
    session = make_session(kh, officer, course)
    enrol(officer, kh, session, "Ana", kh_factory)
    factory_user = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    other_factory = FactoryFactory(programme=kh, name="Other")
    vn_manager = user_with_role(Role.PROGRAMME_MANAGER, vn)
    advisor = user_with_role(Role.ADVISOR, kh)

    client.force_login(factory_user)
    for path in (
        "/p/KH/training/",
        url(session),
        "/p/KH/training/figures/",
        "/p/KH/training/entitlements/",
        url(session, "attendance/export/"),
    ):
        assert client.get(path).status_code == 404, path
    own = client.get(f"/p/KH/training/factories/{kh_factory.pk}/")
    assert own.status_code == 200 and course.title in own.content.decode()
    assert "Ana" not in own.content.decode()  # the factory sees figures, not the sheet
    assert client.get(f"/p/KH/training/factories/{other_factory.pk}/").status_code == 404

    client.force_login(vn_manager)
    assert client.get(url(session)).status_code == 404
    assert client.get("/p/KH/training/").status_code == 404

    client.force_login(advisor)  # sees the session, may not change it
    assert client.get(url(session)).status_code == 200
    assert client.get(url(session, "edit/")).status_code == 404
    assert client.post(url(session, "attendance/"), {}).status_code == 404
    assert client.get(url(session, "attendance/import/")).status_code == 404
    assert client.get("/p/KH/training/entitlements/set/").status_code == 404


def test_lists_keep_their_query_count_flat(client, kh, officer, course):
    factories = [FactoryFactory(programme=kh, name=f"Factory {n}") for n in range(6)]
    client.force_login(officer)

    def queries(path):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return len(ctx.captured_queries)

    def grow(n):
        for i in range(n):
            session = make_session(kh, officer, course, ago=20 + i)
            for factory in factories[:3]:
                enrol(officer, kh, session, f"Person {i}", factory)
            run(
                officer,
                kh,
                services.entitlement_save,
                factory=factories[i % 6],
                cycle=i + 1,
                data={"days": 15, "starts_on": dt.date(2000 + i, 1, 1), "ends_on": dt.date(2000 + i, 12, 31)},
            )

    grow(2)
    client.get("/p/KH/training/")  # the first request of a login also touches its session
    pages = [
        "/p/KH/training/?show=past",
        "/p/KH/training/entitlements/?show=all",
        "/p/KH/training/figures/",
        "/p/KH/training/courses/",
    ]
    before = {path: queries(path) for path in pages}
    grow(6)
    after = {path: queries(path) for path in pages}
    assert after == before


def test_entitlements_round_trip_through_a_spreadsheet(client, kh, kh_factory, officer):
    other = FactoryFactory(programme=kh, name="Mekong Knits")
    run(
        officer,
        kh,
        services.entitlement_save,
        factory=kh_factory,
        cycle=1,
        data={"days": 15, "starts_on": dt.date(2025, 1, 1), "ends_on": dt.date(2025, 12, 31)},
    )
    client.force_login(officer)
    exported = client.get("/p/KH/training/entitlements/export/?show=all&format=csv")
    header, *rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert header[:5] == ["Factory", "Cycle", "Training days", "From", "Until"] and "Remaining" in header
    assert rows[0][:5] == [kh_factory.public_id, "1", "15", "2025-01-01", "2025-12-31"]

    def send(lines):
        data = sheet([header[:6], *lines])
        data.name = "entitlements.csv"
        return client.post("/p/KH/training/entitlements/import/", {"spreadsheet": data})

    bad = send(
        [
            [kh_factory.public_id, "2", "15", "2025-12-01", "2026-11-30", ""],  # overlaps cycle 1
            ["Nobody Ltd", "1", "15", "2026-01-01", "2026-12-31", ""],
            [other.name, "1", "-3", "2026-01-01", "2026-12-31", ""],
        ]
    )
    problems = {(e["row"], e["column"]) for e in bad.context["run"].errors}
    assert (2, "From") in problems and (3, "Factory") in problems and (4, "Training days") in problems
    with tenancy.scope({kh.pk}), transaction.atomic():
        from training.models import Entitlement

        assert Entitlement.objects.count() == 1

    good = send(
        [
            [kh_factory.public_id, "1", "12", "2025-01-01", "2025-12-31", "reduced"],
            [kh_factory.public_id, "2", "15", "2026-01-01", "2026-12-31", ""],
            [other.name, "1", "15", "2026-01-01", "2026-12-31", ""],
        ]
    )
    assert "3 rows are ready to import" in good.content.decode()
    done = client.post("/p/KH/training/entitlements/import/", {"run": good.context["run"].pk}, follow=True)
    assert "Entitlements imported: 2 new, 1 changed." in done.content.decode()
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert sorted(Entitlement.objects.values_list("factory_id", "cycle", "days")) == sorted(
            [(kh_factory.pk, 1, 12), (kh_factory.pk, 2, 15), (other.pk, 1, 15)]
        )
    client.force_login(user_with_role(Role.ADVISOR, kh))  # without the training permission
    assert client.get("/p/KH/training/entitlements/import/").status_code == 404


def test_the_global_team_keeps_the_course_templates(client, kh, kh_manager):
    from training.models import CourseTemplate

    global_staff = user_with_role(Role.GLOBAL, None)
    client.force_login(kh_manager)
    assert client.get("/training-templates/").status_code == 404
    assert (
        client.post(
            "/training-templates/new/", {"code": "x", "title": "X", "days": 1, "audience": "mixed"}
        ).status_code
        == 404
    )
    client.force_login(global_staff)
    bad = client.post(
        "/training-templates/new/", {"code": "osh", "title": "OSH", "days": 12, "audience": "mixed"}
    )
    assert bad.status_code == 200 and not CourseTemplate.objects.exists()
    made = client.post(
        "/training-templates/new/",
        {"code": "osh", "title": "OSH basics", "days": 2, "audience": "mixed", "is_active": "on"},
    )
    assert made.status_code == 302 and CourseTemplate.objects.get().title == "OSH basics"
    assert "OSH basics" in client.get("/training-templates/").content.decode()
