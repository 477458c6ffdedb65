"""What the query-count tests share: the platform's URL patterns, a data set holding a few rows
of every kind of record, and the count of SQL queries one request costs.

The data set is written through the services (as people would make it) inside the programme's
scope, like the rest of the suite; the tests add rows of what a page lists with ``GROW`` more
of them, named with ``MARK`` so that a test can check the page really shows them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from advisory import committees, diagnosis, visits
from advisory import services as advisory_services
from advisory.diagnosis import AnswerInput
from advisory.models import PlanItem, ProgressReport
from assessments import cases, comments, lifecycle
from assessments import services as tool_services
from assessments.models import Assessment, Case, Question
from betterwork import tenancy
from betterwork.models import Programme, Role
from betterwork.permissions import Principal
from buyers import credits, prices
from buyers import services as buyer_services
from buyers.models import Buyer
from reporting import services as report_services
from reporting.models import ReportJob
from tests.model_factories import FactoryFactory, ProgrammeFactory, user_with_role
from training import services as training_services
from training.models import SessionMode

# How many rows a test adds to the small data set (which holds two of most things).
GROW = 10
# Grown rows carry this in a name or a text the page shows.
MARK = "Grown"

TOOL_DIR = Path(__file__).resolve().parents[1] / "assessments" / "tool"


# --- URL patterns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # with its namespace, e.g. "factories:list"
    pattern: str
    view: str  # the dotted name of the view function or class


def routes() -> list[Route]:
    """Every URL pattern of the project, however deep its include."""

    def walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[Route]:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = ":".join(n for n in (namespace, entry.namespace or "") if n)
                yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                view = entry.callback
                target = getattr(view, "view_class", None) or getattr(view, "cls", None) or view
                name = ":".join(n for n in (namespace, entry.name or "") if n)
                yield Route(name, prefix + str(entry.pattern), f"{target.__module__}.{target.__qualname__}")

    return list(walk(get_resolver().url_patterns, "/", ""))


# --- Counting ------------------------------------------------------------------------------------


@dataclass
class Measured:
    status: int
    queries: int
    body: str
    sql: list[str]


def measure(client: Client, url: str, **headers: Any) -> Measured:
    """One GET and the queries it ran (the request is made once before, unmeasured, so that
    what a first request does once, such as caching its programme, is not counted)."""
    client.get(url, **headers)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    body = response.content.decode() if not getattr(response, "streaming", False) else ""
    return Measured(response.status_code, len(captured), body, [q["sql"] for q in captured.captured_queries])


# --- Running services as people do -------------------------------------------------------------


def run(user: Any, programme: Programme, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
    """A service called as this user inside the programme's scope and a transaction, like a request."""
    with tenancy.scope({programme.pk}), transaction.atomic():
        return fn(actor=Principal.for_user(user), **kwargs)


def in_scope(programme: Programme, fn: Callable[[], Any]) -> Any:
    with tenancy.scope({programme.pk}), transaction.atomic():
        return fn()


def move(user: Any, programme: Programme, assessment: Assessment, to: str) -> Assessment:
    version = in_scope(programme, lambda: Assessment.objects.get(pk=assessment.pk).lock_version)
    return run(
        user,
        programme,
        lifecycle.assessment_transition,
        assessment=assessment,
        to=to,
        expected_version=version,
    )


def answer_all(user: Any, programme: Programme, assessment: Assessment, value: str) -> None:
    questions = in_scope(
        programme, lambda: list(assessment.tool_version.questions.values_list("pk", flat=True))
    )
    run(
        user,
        programme,
        lifecycle.answers_save,
        assessment=assessment,
        changes=[
            {
                "question": q,
                "value": value,
                "finding": "Seen on the floor." if value == "NC" else "",
                "version": 0,
            }
            for q in questions
        ],
    )


def load_tool() -> Any:
    """The published tool of the suite: three questions in three clusters."""
    tool_services.points_load(data=yaml.safe_load((TOOL_DIR / "points.yaml").read_text()))
    question = {"noncompliant_answer": "yes", "flags": []}
    version, _ = tool_services.tool_load(
        data={
            "tool": "global",
            "version": "2026.1",
            "effective_from": dt.date(2020, 1, 1),
            "questions": [
                {
                    **question,
                    "key": "CL-01",
                    "point": "CL.CHILD_LABOURERS",
                    "flags": ["zero_tolerance"],
                    "text": {"en": "Are any workers under age?"},
                },
                {
                    **question,
                    "key": "OSH-01",
                    "point": "OSH.EMERGENCY",
                    "flags": ["publicly_reported"],
                    "text": {"en": "Are exits locked in working hours?"},
                },
                {
                    **question,
                    "key": "WT-01",
                    "point": "WT.OVERTIME",
                    "noncompliant_answer": "no",
                    "text": {"en": "Is overtime voluntary?"},
                },
            ],
        },
        publish=True,
    )
    return version


# --- The small data set --------------------------------------------------------------------------


class World:
    """Two programmes and, in Cambodia, a few rows of every kind of record, with who may read them."""

    kh: Programme
    vn: Programme


def person(name: str, side: str, sex: str = "female", since: dt.date | None = None) -> dict[str, Any]:
    return {"name": name, "side": side, "sex": sex, "role": "member", "term_starts_on": since}


def build_world() -> World:
    w = World()
    w.kh = ProgrammeFactory(
        code="KH", name="Better Factories Cambodia", country="Cambodia", languages=["km", "en"]
    )
    w.vn = ProgrammeFactory(code="VN", name="Better Work Vietnam", country="Vietnam", languages=["vi", "en"])
    kh = w.kh
    w.tool = load_tool()
    w.tool_question_key = (
        Question.objects.filter(version=w.tool).order_by("key").values_list("key", flat=True)[0]
    )
    w.manager = user_with_role(Role.PROGRAMME_MANAGER, kh)
    w.leader = user_with_role(Role.TEAM_LEADER, kh)
    w.lead = user_with_role(Role.ADVISOR, kh)
    w.second = user_with_role(Role.ADVISOR, kh)
    w.officer = user_with_role(Role.ADVISOR, kh, manages_training=True)
    w.global_ = user_with_role(Role.GLOBAL, None)
    w.a = FactoryFactory(
        programme=kh, name="Angkor Garments", public_id="KH000018", designated_advisor=w.lead
    )
    w.b = FactoryFactory(programme=kh, name="Bayon Knitwear", public_id="KH000026")
    w.hr = user_with_role(Role.FACTORY, kh, factory=w.a, is_admin=True)
    w.hr_b = user_with_role(Role.FACTORY, kh, factory=w.b)
    today = kh.today()
    w.today = today

    # Assessments: one published with findings (and so a zero-tolerance case), one planned.
    w.rounds = [
        run(
            w.leader,
            kh,
            lifecycle.round_save,
            programme_id=kh.pk,
            name=name,
            starts_on=starts,
            ends_on=starts + dt.timedelta(days=364),
        )
        for name, starts in (("First round", dt.date(2026, 1, 1)), ("Second round", dt.date(2027, 1, 1)))
    ]
    w.round = w.rounds[0]
    assessors = [w.lead, w.second]
    w.final = run(
        w.leader,
        kh,
        lifecycle.assessment_plan,
        factory=w.a,
        planned_date=dt.date(2026, 3, 2),
        assessors=assessors,
    )
    move(w.lead, kh, w.final, "in_progress")
    answer_all(w.lead, kh, w.final, "NC")
    move(w.lead, kh, w.final, "submitted")
    move(w.leader, kh, w.final, "in_review")
    move(w.leader, kh, w.final, "factory_review")
    w.questions = in_scope(kh, lambda: {q.key: q for q in Question.objects.filter(version=w.tool)})
    for key in ("CL-01", "OSH-01"):
        run(
            w.hr,
            kh,
            comments.comment_add,
            assessment=w.final,
            question=w.questions[key],
            kind="comment",
            text=f"Our comment on {key}",
        )
    in_scope(
        kh, lambda: Assessment.objects.filter(pk=w.final.pk).update(factory_review_until=dt.date(2026, 1, 1))
    )
    move(w.leader, kh, w.final, "final")
    w.final = move(w.manager, kh, w.final, "published")
    w.planned = run(
        w.leader,
        kh,
        lifecycle.assessment_plan,
        factory=w.b,
        planned_date=dt.date(2026, 6, 1),
        assessors=assessors,
    )
    w.in_progress = move(w.lead, kh, w.planned, "in_progress")
    w.case = in_scope(kh, lambda: Case.objects.get(assessment=w.final))
    for n in range(2):
        run(w.manager, kh, cases.case_note_add, case=w.case, text=f"Note {n}")
    w.jobs = in_scope(kh, lambda: list(ReportJob.objects.filter(target_id=w.final.pk).order_by("pk")))
    in_scope(
        kh,
        lambda: report_services.job_finish(
            job_id=w.jobs[0].pk, name="reports/x.pdf", sha256="0" * 64, pages=3
        ),
    )

    # The improvement plan, its items, comments, progress reports.
    w.plan = run(w.lead, kh, advisory_services.plan_start, factory=w.a, assessment=w.final)
    run(w.lead, kh, advisory_services.items_from_findings, plan=w.plan, question_ids=None)
    w.items = in_scope(kh, lambda: list(PlanItem.objects.filter(plan=w.plan).order_by("pk")))
    w.item = w.items[0]
    for n in range(2):
        run(w.hr, kh, advisory_services.item_comment, item=w.item, text=f"Comment {n}")
    w.progress = in_scope(kh, lambda: ProgressReport.objects.filter(plan=w.plan).order_by("number").first())

    # A committee with two members a side, an election with two candidates, two meetings.
    w.picc = in_scope(kh, lambda: committees.committee_kinds_ensure(kh)[0])
    w.committee = run(w.hr, kh, committees.committee_create, factory=w.a, kind=w.picc, established_on=None)
    run(
        w.hr,
        kh,
        committees.members_change,
        committee=w.committee,
        add=[
            person("Ana", "management", since=today - dt.timedelta(days=90)),
            person("Bo", "worker", "male", since=today - dt.timedelta(days=90)),
            person("Cy", "management", "male", since=today - dt.timedelta(days=90)),
            person("Di", "worker", since=today - dt.timedelta(days=90)),
        ],
    )
    w.members = in_scope(kh, lambda: list(committees.selectors.current_members(committee=w.committee)))
    w.member = next(m for m in w.members if m.side == "worker")
    w.election = run(
        w.hr,
        kh,
        committees.election_create,
        committee=w.committee,
        data={"held_on": today, "seats": 2, "voters": None, "ballots_cast": None, "notes": ""},
    )
    for name in ("Eve", "Fay"):
        run(w.hr, kh, committees.candidate_add, election=w.election, data={"name": name, "sex": "female"})
    w.meetings = [
        run(
            w.hr,
            kh,
            committees.meeting_save,
            committee=w.committee,
            meeting=None,
            data={
                "held_on": today - dt.timedelta(days=n + 1),
                "agenda": f"Agenda {n}",
                "minutes": f"Minutes {n}",
            },
            attendee_ids=[m.pk for m in w.members],
            decisions=[{"id": None, "text": f"Decision {n}", "item": w.item}],
        )
        for n in range(2)
    ]
    w.meeting = w.meetings[0]

    # Advisory visits and self-diagnoses.
    w.visits = [
        run(
            w.lead,
            kh,
            visits.visit_log,
            factory=w.a,
            data={"visited_on": today - dt.timedelta(days=n + 1), "topics": f"Visit topics {n}"},
            advisors=[w.lead],
            items=[w.item],
        )
        for n in range(2)
    ]
    w.visit = w.visits[0]
    w.diagnosis = run(w.hr, kh, diagnosis.diagnosis_start, factory=w.a)[0]
    run(
        w.hr,
        kh,
        diagnosis.diagnosis_answer,
        diagnosis=w.diagnosis,
        answers={
            q.pk: AnswerInput("NC", f"Note on {q.key}")
            for q in in_scope(kh, lambda: list(diagnosis.selectors.diagnosis_questions(version=w.tool)))
        },
    )
    run(w.hr, kh, diagnosis.diagnosis_submit, diagnosis=w.diagnosis)
    w.draft_diagnosis = run(w.hr, kh, diagnosis.diagnosis_start, factory=w.a)[0]

    # Training: templates, a catalogue, two sessions with participants, attendance, entitlements.
    w.templates = [
        run(
            w.global_,
            kh,
            training_services.template_save,
            template=None,
            data={"code": f"T{n}", "title": f"Template {n}", "topics": "", "days": 1, "audience": "mixed"},
        )
        for n in range(2)
    ]
    w.courses = [
        run(
            w.officer,
            kh,
            training_services.course_save,
            programme=kh,
            course=None,
            data={"title": f"Course {n}", "days": 2, "audience": "mixed"},
        )
        for n in range(2)
    ]
    w.course = w.courses[0]
    w.sessions = [new_session(w, days_ago=20 + 5 * n, participants=2) for n in range(2)]
    w.session = w.sessions[0]
    w.participant = in_scope(kh, lambda: w.session.participants.order_by("pk").first())
    run(
        w.officer,
        kh,
        training_services.evaluation_record,
        participant=w.participant,
        data={"overall": 4, "content": 4, "trainers": 5, "usefulness": 3, "comment": "Useful"},
    )
    for factory in (w.a, w.b):
        run(
            w.officer,
            kh,
            training_services.entitlement_save,
            factory=factory,
            cycle=1,
            data={
                "days": 15,
                "starts_on": today - dt.timedelta(days=100),
                "ends_on": today + dt.timedelta(days=200),
            },
        )

    # Buyers: a brand subscribed to both factories, with Angkor's consent; prices and credits.
    w.brand = Buyer.objects.create(name="Northwind Apparel", headquarters_country="United Kingdom")
    w.buyer = user_with_role(Role.BUYER, None, buyer=w.brand, is_admin=True)
    run(w.manager, kh, prices.price_bands_set, programme=kh, bands=prices.DEFAULT_BANDS)
    for factory, who in ((w.a, w.hr), (w.b, w.hr_b)):
        subscribe(w, factory)
        run(who, kh, buyer_services.consent_set, factory=factory, buyer=w.brand, granted=True)
    for n in range(2):
        buy_credits(w, w.brand, n + 1)
    return w


def new_session(
    w: World, *, days_ago: int, participants: int, name: str = "Person", course: Any = None
) -> Any:
    """A past two-day session of the officer's, with participants of both factories present on both days."""
    kh = w.kh
    start = kh.today() - dt.timedelta(days=days_ago)
    session = run(
        w.officer,
        kh,
        training_services.session_create,
        programme=kh,
        data={"course": course or w.course, "mode": SessionMode.OPEN, "capacity": 50},
        dates=[start, start + dt.timedelta(days=1)],
        trainers=[w.officer],
    )
    enrol(w, session, participants, name)
    return session


def enrol(w: World, session: Any, count: int, name: str = "Person", start: int = 0) -> list[Any]:
    kh = w.kh
    people = [
        run(
            w.officer,
            kh,
            training_services.participant_enrol,
            session=session,
            data={"name": f"{name} {n}", "sex": "female", "role": "worker", "factory": (w.a, w.b)[n % 2]},
        )
        for n in range(start, start + count)
    ]
    days = in_scope(kh, lambda: list(session.days.all()))
    marks = in_scope(kh, lambda: {(p.pk, d.pk) for p in session.participants.all() for d in days})
    run(w.officer, kh, training_services.attendance_record, session=session, present=marks)
    return people


def subscribe(w: World, factory: Any, cycle: int = 1) -> Any:
    kh = w.kh
    subscription = run(
        w.buyer, kh, buyer_services.subscription_request, buyer=w.brand, factory=factory, cycle=cycle
    )
    return run(
        w.manager,
        kh,
        buyer_services.subscription_activate,
        subscription=subscription,
        starts_on=kh.today() - dt.timedelta(days=10),
        ends_on=kh.today() + dt.timedelta(days=300),
    )


def buy_credits(w: World, buyer: Buyer, n: int) -> Any:
    return run(
        w.manager,
        w.kh,
        credits.credits_buy,
        buyer=buyer,
        programme=w.kh,
        credits=n,
        amount=Decimal("2800"),
        currency="USD",
        purchased_on=w.kh.today(),
        reference=f"INV-{n}",
    )
