"""The programme's exports of improvement plans, committees, training and buyer subscriptions, and
the page that lists every export: for the programme's managers only (404 for anyone else), never
a row of another programme, and the same queries however many rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from advisory.models import Committee, CommitteeKind, CommitteeMember, Election, ImprovementPlan, PlanItem
from betterwork import tenancy
from betterwork.models import Programme, Role
from buyers.models import Buyer, Consent, CreditPurchase, Subscription
from tests.model_factories import FactoryFactory, UserFactory, user_with_role
from training.models import Attendance, Course, Evaluation, Participant, Session, SessionDay

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """The process's own cache: another run of the suite sharing Redis (and its users' ids) could
    otherwise make a request here read a user or programme again, and count one query more."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "exports"}
    }


# --- The data: a factory with a row of every kind, for as many factories as asked ---------------


@dataclass
class Rows:
    """What ``populate`` made for its first factory, to look its rows up by."""

    factory: Any
    item: PlanItem
    member: CommitteeMember
    participant: Participant
    subscription: Subscription


def populate(programme: Programme, tag: str, count: int = 1, *, assessment: Any = None) -> Rows:
    """``count`` factories of the programme, each with: a plan with a verified item owned by a
    committee member and an open overdue one; a committee with an elected member and a former one;
    a two-day in-factory session (held) with a participant present one day who evaluated it and one
    from outside who did not; two buyers' subscriptions, one paid with a credit and consented to,
    one not decided. Every row's text carries ``tag``; each factory has users of its own."""
    today = programme.today()
    made: list[Rows] = []
    for n in range(count):
        factory = FactoryFactory(
            programme=programme, name=f"{tag} Garments {n}", public_id=f"{tag[:2].upper()}{n:06d}"
        )
        verifier = UserFactory(full_name=f"{tag} Verifier {n}")

        def make(factory: Any = factory, verifier: Any = verifier, n: int = n) -> Rows:
            common = {"programme": programme}
            kind = CommitteeKind.objects.create(**common, code=f"{tag.lower()}-{n}", name=f"{tag} PICC {n}")
            committee = Committee.objects.create(
                **common, factory=factory, kind=kind, established_on=dt.date(2025, 1, 15)
            )
            election = Election.objects.create(
                **common, committee=committee, held_on=dt.date(2025, 2, 1), seats=2
            )
            member = CommitteeMember.objects.create(
                **common, committee=committee, name=f"{tag} Sokha {n}", side="worker", sex="female",
                union_member=True, role="secretary", position="Sewer", term_starts_on=dt.date(2025, 2, 3),
                elected_in=election,
            )  # fmt: skip
            CommitteeMember.objects.create(
                **common, committee=committee, name=f"{tag} Former {n}", side="management", sex="male",
                term_starts_on=dt.date(2024, 1, 1), term_ends_on=dt.date(2024, 12, 31),
            )  # fmt: skip
            plan = ImprovementPlan.objects.create(
                **common, factory=factory, cycle=assessment.cycle if assessment else 1, assessment=assessment
            )
            item = PlanItem.objects.create(
                **common, plan=plan, source="assessment", question_key="OSH-01",
                finding=f"{tag} exits locked {n}", publicly_reported=True, root_cause="Theft worries",
                action="Unlock the exits in working hours", responsible="Production manager",
                committee_owner=member, due_on=dt.date(2025, 6, 30), priority="high", status="verified",
                done_on=dt.date(2025, 6, 1), verified_by=verifier,
                verified_at=timezone.make_aware(dt.datetime(2025, 6, 5, 9, 30)),
            )  # fmt: skip
            PlanItem.objects.create(
                **common, plan=plan, source="factory", finding=f"{tag} no first aid kit {n}",
                due_on=today - dt.timedelta(days=3), status="in_progress",
            )  # fmt: skip
            course = Course.objects.create(
                **common, title=f"{tag} Safety course {n}", days=2, audience="mixed"
            )
            start = today - dt.timedelta(days=20)
            session = Session.objects.create(
                **common, course=course, mode="factory", factory=factory, starts_on=start,
                ends_on=start + dt.timedelta(days=1),
            )  # fmt: skip
            days = [
                SessionDay.objects.create(**common, session=session, date=start + dt.timedelta(days=d))
                for d in (0, 1)
            ]
            participant = Participant.objects.create(
                **common,
                session=session,
                name=f"{tag} Dara {n}",
                sex="female",
                role="supervisor",
                factory=factory,
            )
            Attendance.objects.create(**common, participant=participant, day=days[0])
            Evaluation.objects.create(
                **common,
                participant=participant,
                overall=4,
                content=5,
                trainers=3,
                usefulness=4,
                comment="Good",
            )
            Participant.objects.create(
                **common, session=session, name=f"{tag} Visitor {n}", sex="male", role="other",
                organisation="Ministry of Labour",
            )  # fmt: skip
            brand = Buyer.objects.create(name=f"{tag} Northwind {n}", kind="partner")
            other_brand = Buyer.objects.create(name=f"{tag} Southwind {n}")
            purchase = CreditPurchase.objects.create(
                **common, buyer=brand, credits=2, amount=Decimal("2800"), purchased_on=dt.date(2025, 1, 10),
                reference=f"PO-{tag}-{n}",
            )  # fmt: skip
            subscription = Subscription.objects.create(
                **common, buyer=brand, factory=factory, cycle=1, status="active", starts_on=dt.date(2025, 3, 1),
                ends_on=dt.date(2026, 2, 28), price=Decimal("1400.00"), paid_by="credit", credit_purchase=purchase,
            )  # fmt: skip
            Subscription.objects.create(**common, buyer=other_brand, factory=factory, cycle=1)
            Consent.objects.create(**common, factory=factory, buyer=brand, granted=True)
            return Rows(factory, item, member, participant, subscription)

        with tenancy.scope({programme.pk}), transaction.atomic():
            made.append(make())
    return made[0]


# --- Reading the downloads -------------------------------------------------------------------------


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.status_code
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def cell(value: Any) -> Any:
    """A cell of either format as one comparable value: empty is "", dates are dates, numbers floats."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return float(value)
    text = str(value)
    for parse in (dt.date.fromisoformat, float):
        try:
            return parse(text)  # type: ignore[operator]
        except ValueError:
            continue
    return text


def row_of(rows: list[list[Any]], column: int, value: str) -> list[Any]:
    found = [row for row in rows[1:] if row[column] == value]
    assert len(found) == 1, f"{value!r} found {len(found)} times in column {column}"
    return found[0]


# --- The four exports ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    url: str  # under /p/<code>/
    stem: str
    header: list[str]
    key_column: int  # a column whose value names one row


EXPORTS = {
    "plans": Export(
        "advisory/plans/export/",
        "plans",
        ["Factory id", "Factory name", "Cycle", "Assessment report final on", "Source", "Question key", "Finding",
         "Publicly reported", "Root cause", "Action", "Responsible person", "Committee owner", "Priority",
         "Due date", "Status", "Overdue", "Done on", "Verified on", "Verified by", "Carried over from cycle",
         "Last changed on"],
        6,
    ),
    "committees": Export(
        "advisory/committees/export/",
        "committees",
        ["Factory id", "Factory name", "Committee", "Committee established on", "Committee active", "Member",
         "Side", "Role", "Sex", "Union member", "Job in the factory", "Term from", "Term until", "Current member",
         "Elected in (election date)"],
        5,
    ),
    "training": Export(
        "training/export/",
        "training",
        ["Course", "Session first day", "Session last day", "Who may attend", "Session for factory id",
         "Session for factory", "Session cancelled", "Participant", "Sex", "Role", "Factory id", "Factory name",
         "Organisation", "Days attended", "Days held", "Evaluation: overall", "Evaluation: content",
         "Evaluation: trainers", "Evaluation: usefulness at work"],
        7,
    ),
    "subscriptions": Export(
        "buyers/subscriptions/export/",
        "subscriptions",
        ["Buyer", "Buyer kind", "Factory id", "Factory name", "Cycle", "Status", "From", "Until", "Price",
         "Currency", "Paid by", "Credit purchase reference", "Credit purchased on", "Factory's consent",
         "Consent changed on", "Requested on"],
        0,
    ),
}  # fmt: skip


def expected_rows(name: str, kh: Programme, rows: Rows) -> dict[str, list[Any]]:
    """Rows the KH export must hold, by the value of their key column."""
    today = kh.today()
    factory = rows.factory
    start = today - dt.timedelta(days=20)
    if name == "plans":
        final_on = rows.item.plan.assessment.final_at.date() if rows.item.plan.assessment else ""
        cycle = rows.item.plan.cycle
        return {
            rows.item.finding: [
                factory.public_id, factory.name, cycle, final_on, "Assessment finding", "OSH-01", rows.item.finding,
                "yes", "Theft worries", "Unlock the exits in working hours", "Production manager",
                rows.member.name, "High", dt.date(2025, 6, 30), "Verified", "no", dt.date(2025, 6, 1),
                dt.date(2025, 6, 5), "KH Verifier 0",
                "", today,
            ],
            "KH no first aid kit 0": [
                factory.public_id, factory.name, cycle, final_on, "Raised by the factory", "",
                "KH no first aid kit 0", "no", "", "", "", "", "Medium", today - dt.timedelta(days=3),
                "In progress", "yes", "", "", "", "", today,
            ],
        }  # fmt: skip
    if name == "committees":
        return {
            rows.member.name: [
                factory.public_id, factory.name, "KH PICC 0", dt.date(2025, 1, 15), "yes", rows.member.name,
                "Workers", "Secretary", "Female", "yes", "Sewer", dt.date(2025, 2, 3), "", "yes", dt.date(2025, 2, 1),
            ],
            "KH Former 0": [
                factory.public_id, factory.name, "KH PICC 0", dt.date(2025, 1, 15), "yes", "KH Former 0",
                "Management", "Member", "Male", "no", "", dt.date(2024, 1, 1), dt.date(2024, 12, 31), "no", "",
            ],
        }  # fmt: skip
    if name == "training":
        session = [
            "KH Safety course 0", start, start + dt.timedelta(days=1), "For one factory", factory.public_id,
            factory.name, "no",
        ]  # fmt: skip
        return {
            rows.participant.name: [
                *session, rows.participant.name, "Female", "Supervisor", factory.public_id, factory.name, "", 1, 2,
                4, 5, 3, 4,
            ],
            "KH Visitor 0": [*session, "KH Visitor 0", "Male", "Other", "", "", "Ministry of Labour", 0, 2, "", "", "", ""],
        }  # fmt: skip
    assert name == "subscriptions"
    return {
        "KH Northwind 0": [
            "KH Northwind 0", "Partner", factory.public_id, factory.name, 1, "Active", dt.date(2025, 3, 1),
            dt.date(2026, 2, 28), Decimal("1400.00"), "USD", "A prepaid credit", "PO-KH-0", dt.date(2025, 1, 10),
            "Shared", today, today,
        ],
        "KH Southwind 0": [
            "KH Southwind 0", "Participant", factory.public_id, factory.name, 1, "Requested", "", "", "", "USD",
            "Invoice", "", "", "Not decided", "", today,
        ],
    }  # fmt: skip


def client_of(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def kh_rows(kh: Programme) -> Rows:
    return populate(kh, "KH")


@pytest.fixture
def vn_rows(vn: Programme) -> Rows:
    return populate(vn, "VN")


@pytest.mark.parametrize("name", EXPORTS)
def test_a_manager_downloads_the_sheet_as_csv_and_xlsx(name, kh, kh_manager, kh_rows, vn_rows):
    export = EXPORTS[name]
    client = client_of(kh_manager)
    url = f"/p/KH/{export.url}"
    by_csv = client.get(url + "?format=csv")
    by_xlsx = client.get(url)  # XLSX unless CSV is asked for
    assert by_csv["Content-Disposition"] == (
        f'attachment; filename="{export.stem}-KH-{kh.today().isoformat()}.csv"'
    )
    assert by_xlsx["Content-Disposition"].endswith(f'{export.stem}-KH-{kh.today().isoformat()}.xlsx"')
    from_csv, from_xlsx = csv_rows(by_csv), xlsx_rows(by_xlsx)
    assert from_csv[0] == export.header
    assert [str(h) for h in from_xlsx[0]] == export.header
    assert len(from_csv) == len(from_xlsx) == 3  # the header and the factory's two rows
    for key, expected in expected_rows(name, kh, kh_rows).items():
        want = [cell(v) for v in expected]
        assert [cell(v) for v in row_of(from_csv, export.key_column, key)] == want, f"CSV row {key}"
        assert [cell(v) for v in row_of(from_xlsx, export.key_column, key)] == want, f"XLSX row {key}"


def test_a_plans_assessment_is_named_by_its_cycle_and_final_day(kh, kh_manager, final):
    rows = populate(kh, "KH", assessment=final)
    sheet = csv_rows(client_of(kh_manager).get("/p/KH/advisory/plans/export/?format=csv"))
    row = row_of(sheet, 6, rows.item.finding)
    assert row[2:4] == [str(final.cycle), final.final_at.date().isoformat()]


@pytest.mark.parametrize("name", EXPORTS)
@pytest.mark.parametrize(
    "who", ["factory user", "advisor", "team leader", "global", "other programme's manager"]
)
def test_anyone_but_the_programmes_manager_gets_404(name, who, kh, vn, kh_rows):
    user = {
        "factory user": lambda: user_with_role(Role.FACTORY, kh, factory=kh_rows.factory, is_admin=True),
        "advisor": lambda: user_with_role(Role.ADVISOR, kh, manages_training=True),
        "team leader": lambda: user_with_role(Role.TEAM_LEADER, kh),
        "global": lambda: user_with_role(Role.GLOBAL, None),
        "other programme's manager": lambda: user_with_role(Role.PROGRAMME_MANAGER, vn),
    }[who]()
    client = client_of(user)
    for query in ("", "?format=csv"):
        assert client.get(f"/p/KH/{EXPORTS[name].url}{query}").status_code == 404


@pytest.mark.parametrize("name", EXPORTS)
def test_another_programmes_rows_never_appear(name, kh, vn, kh_rows, vn_rows):
    both = user_with_role(Role.PROGRAMME_MANAGER, kh)
    both.grants.create(role=Role.PROGRAMME_MANAGER, programme=vn)
    client = client_of(both)
    for code, mine, theirs in (("KH", "KH", "VN"), ("VN", "VN", "KH")):
        text = client.get(f"/p/{code}/{EXPORTS[name].url}?format=csv").content.decode("utf-8-sig")
        assert mine in text and theirs not in text, (code, text)
        workbook = xlsx_rows(client.get(f"/p/{code}/{EXPORTS[name].url}"))
        assert all(theirs not in str(value) for row in workbook for value in row)
    anonymous = Client()
    assert anonymous.get(f"/p/KH/{EXPORTS[name].url}").status_code == 302  # to sign in


@pytest.mark.parametrize("name", EXPORTS)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_queries_do_not_grow_with_the_rows(name, fmt, kh, kh_manager, kh_rows):
    client = client_of(kh_manager)
    url = f"/p/KH/{EXPORTS[name].url}?format={fmt}"
    client.get(url)  # the user and programme are cached from here on

    def measured() -> tuple[int, int]:
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        queries = len(ctx.captured_queries)  # read now: the next request empties the log
        rows = csv_rows(response) if fmt == "csv" else xlsx_rows(response)
        return queries, len(rows)

    few, few_rows = measured()
    populate(kh, "More", 6)
    many, many_rows = measured()
    assert many_rows == few_rows + 12
    assert few == many and few > 0, (few, many)


# --- The page listing every export -----------------------------------------------------------------


def test_the_export_page_lists_every_dataset_for_the_manager(kh, kh_manager):
    page = client_of(kh_manager).get("/p/KH/export/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>Export data</h1>" in html
    for href in (
        "/p/KH/factories/export/?format=xlsx",
        "/p/KH/factories/export/?format=csv",
        '/p/KH/assessments/export/"',
        "/p/KH/advisory/plans/export/?format=xlsx",
        "/p/KH/advisory/plans/export/?format=csv",
        "/p/KH/advisory/committees/export/?format=xlsx",
        "/p/KH/advisory/committees/export/?format=csv",
        "/p/KH/training/export/?format=xlsx",
        "/p/KH/training/export/?format=csv",
        "/p/KH/buyers/subscriptions/export/?format=xlsx",
        "/p/KH/buyers/subscriptions/export/?format=csv",
    ):
        assert f'href="{href}' in html, href
    assert "Whole programme" in html and "Write a new archive" in html
    assert 'aria-current="page"' not in html  # no section of the navigation claims the page
    home = client_of(kh_manager).get("/").content.decode()
    assert 'href="/p/KH/export/"' in home
    registry = client_of(kh_manager).get("/p/KH/factories/").content.decode()
    assert 'href="/p/KH/export/"' in registry


@pytest.mark.parametrize("who", ["factory user", "advisor", "team leader", "other programme's manager"])
def test_the_export_page_is_404_for_anyone_else(who, kh, vn, kh_factory):
    user = {
        "factory user": lambda: user_with_role(Role.FACTORY, kh, factory=kh_factory, is_admin=True),
        "advisor": lambda: user_with_role(Role.ADVISOR, kh),
        "team leader": lambda: user_with_role(Role.TEAM_LEADER, kh),
        "other programme's manager": lambda: user_with_role(Role.PROGRAMME_MANAGER, vn),
    }[who]()
    client = client_of(user)
    assert client.get("/p/KH/export/").status_code == 404
    assert 'href="/p/KH/export/"' not in client.get("/").content.decode()
