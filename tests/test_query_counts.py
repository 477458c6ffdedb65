"""Every list and form page, and every read of the API, costs the same number of SQL queries with
two rows or twelve of what it lists: a page that runs a query per row (an N+1) fails here.

Each page is requested by someone who may read it with the small data set of
``tests.query_counts`` (about two rows of everything), then again after ``GROW`` more rows of
what that page lists were added. The two counts must be equal (or differ by the few queries a
page's ``slack`` allows, for the reason given beside it), and stay under the page's ceiling.
Pages about one object whose rows cannot sensibly grow get the ceiling only.
``test_every_page_is_counted_or_exempt`` fails when a URL is added with neither a line in
``PAGES`` nor one in ``EXEMPT``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from advisory import committees, visits
from advisory.models import (
    Committee,
    CommitteeKind,
    CommitteeMember,
    Decision,
    DiagnosisAnswer,
    ImprovementPlan,
    PlanItem,
    PlanItemComment,
    ProgressReport,
    SelfDiagnosis,
)
from assessments import interviews, lifecycle
from assessments import services as tool_services
from assessments.models import (
    Answer,
    Attachment,
    Case,
    CaseNote,
    CompliancePoint,
    FindingComment,
    Question,
    ToolVersion,
)
from betterwork.models import AuditEvent, Notification, Programme, Role
from buyers import services as buyer_services
from buyers.models import Buyer, CreditPurchase, Subscription
from factories.models import EnrolmentChange
from reporting import synthesis_services
from reporting.models import SynthesisReport
from reporting.synthesis_services import SynthesisInput
from tests import query_counts as qc
from tests.model_factories import FactoryFactory, UserFactory, grant
from training import services as training_services

GROW, MARK = qc.GROW, qc.MARK


# --- The data set, built once for the module ---------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The small data set, in a transaction of its own that is rolled back after the module; each
    test runs in a savepoint inside it (pytest-django's ``db``), so what a test adds goes too.

    The cache is the process's own: the programme of a /p/<code>/ URL is cached, and another run
    of the suite sharing Redis must not hand these tests its programme."""
    locmem = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "qc"}}
    with override_settings(CACHES=locmem), django_db_blocker.unblock(), transaction.atomic():
        built = qc.build_world()
        yield built
        transaction.set_rollback(True)


# --- Growing what a page lists -------------------------------------------------------------------


def marked(i: int, what: str = "") -> str:
    return f"{MARK} {i} {what}".strip()


def staff_user(w: Any, i: int, role: str = Role.ADVISOR) -> Any:
    user = UserFactory(full_name=marked(i, "Advisor"))
    grant(user, role, w.kh)
    return user


def grow_staff(w: Any) -> None:
    for i in range(GROW):
        staff_user(w, i)


def grow_factories(w: Any) -> None:
    for i in range(GROW):
        FactoryFactory(programme=w.kh, name=marked(i, "Garments"), designated_advisor=staff_user(w, i))


def new_factories(w: Any) -> list[Any]:
    return [FactoryFactory(programme=w.kh, name=marked(i, "Garments")) for i in range(GROW)]


def grow_users(w: Any) -> None:
    factories = new_factories(w)
    for i, factory in enumerate(factories):
        user = UserFactory(full_name=marked(i, "Person"))
        if i % 2:
            grant(user, Role.FACTORY, w.kh, factory=factory)
        else:
            grant(user, Role.ADVISOR, w.kh)


def grow_factory_grants(w: Any) -> None:
    """More factories for the factory's own user (their grants, their home page)."""
    for factory in new_factories(w):
        grant(w.hr, Role.FACTORY, w.kh, factory=factory)


def grow_factory_staff(w: Any) -> None:
    for i in range(GROW):
        grant(UserFactory(full_name=marked(i, "Clerk")), Role.FACTORY, w.kh, factory=w.a)


def grow_programmes(w: Any) -> None:
    for i in range(GROW):
        programme = Programme.objects.create(code=f"G{i}", name=marked(i, "Programme"), country=f"Land {i}")
        FactoryFactory(programme=programme)
        grant(w.manager, Role.PROGRAMME_MANAGER, programme)


def grow_buyer_grants(w: Any) -> None:
    for i in range(GROW):
        grant(w.buyer, Role.BUYER, None, buyer=Buyer.objects.create(name=marked(i, "Brand")))


def grow_notifications(w: Any) -> None:
    qc.in_scope(
        w.kh,
        lambda: Notification.objects.bulk_create(
            Notification(programme=w.kh, recipient=w.manager, subject=marked(i, "notice"))
            for i in range(GROW)
        ),
    )


def grow_audit(w: Any) -> None:
    actors = [UserFactory(full_name=marked(i, "Actor")) for i in range(GROW)]
    qc.in_scope(
        w.kh,
        lambda: [
            AuditEvent.objects.create(
                programme=w.kh, actor=actor, action="factory.update", object_type="factory", object_id=str(i)
            )
            for i, actor in enumerate(actors)
        ],
    )


def grow_enrolment_history(w: Any) -> None:
    users = [UserFactory(full_name=marked(i, "Officer")) for i in range(GROW)]
    qc.in_scope(
        w.kh,
        lambda: [
            EnrolmentChange.objects.create(
                programme=w.kh,
                factory=w.a,
                status="active",
                on=dt.date(2020, 1, 1) + dt.timedelta(days=i),
                changed_by=user,
                note=marked(i, "note"),
            )
            for i, user in enumerate(users)
        ],
    )


def plan_assessments(w: Any, factories: list[Any]) -> list[Any]:
    """A planned assessment for each factory, each with its own second assessor."""
    return [
        qc.run(
            w.leader,
            w.kh,
            lifecycle.assessment_plan,
            factory=factory,
            planned_date=dt.date(2026, 3, 2),
            assessors=[w.lead, staff_user(w, i)],
        )
        for i, factory in enumerate(factories)
    ]


def grow_assessments(w: Any) -> None:
    plan_assessments(w, new_factories(w))


def grow_rounds(w: Any) -> None:
    for i in range(GROW):
        start = dt.date(2030 + i, 1, 1)
        qc.run(
            w.leader,
            w.kh,
            lifecycle.round_save,
            programme_id=w.kh.pk,
            name=marked(i, "round"),
            starts_on=start,
            ends_on=start + dt.timedelta(days=30),
        )


def grow_cases(w: Any) -> None:
    assessments = plan_assessments(w, new_factories(w))
    question = w.questions["CL-01"]
    qc.in_scope(
        w.kh,
        lambda: [
            Case.objects.create(
                programme=w.kh,
                assessment=a,
                factory=a.factory,
                question=question,
                finding=marked(i, "finding"),
            )
            for i, a in enumerate(assessments)
        ],
    )


def grow_case_notes(w: Any) -> None:
    authors = [staff_user(w, i, Role.PROGRAMME_MANAGER) for i in range(GROW)]
    qc.in_scope(
        w.kh,
        lambda: [
            CaseNote.objects.create(programme=w.kh, case=w.case, author=a, text=marked(i, "note"))
            for i, a in enumerate(authors)
        ],
    )


def grow_questions(w: Any) -> list[Question]:
    """More questions on child labour (the first cluster, asked in self-diagnoses too), under two
    compliance points. Straight into the published version: test data, not a new version."""
    points = [
        CompliancePoint.objects.get(code="CL.CHILD_LABOURERS"),
        CompliancePoint.objects.get(code="CL.WORST_FORMS"),
    ]
    return [
        Question.objects.create(
            version=w.tool,
            key=marked(i),
            point=points[i % 2],
            noncompliant_when_yes=True,
            text={"en": marked(i, "question?")},
            order=100 + i,
        )
        for i in range(GROW)
    ]


def grow_findings(w: Any) -> None:
    """More non-compliant answers in the published assessment, each with its finding."""
    questions = grow_questions(w)
    qc.in_scope(
        w.kh,
        lambda: [
            Answer.objects.create(
                programme=w.kh,
                assessment=w.final,
                question=q,
                value="NC",
                finding=marked(i, "finding"),
                updated_by=w.lead,
            )
            for i, q in enumerate(questions)
        ],
    )


def grow_finding_comments(w: Any) -> None:
    authors = [UserFactory(full_name=marked(i, "Reader")) for i in range(GROW)]
    qc.in_scope(
        w.kh,
        lambda: [
            FindingComment.objects.create(
                programme=w.kh,
                assessment=w.final,
                question=w.questions[("CL-01", "OSH-01")[i % 2]],
                kind="comment",
                text=marked(i, "comment"),
                author=author,
            )
            for i, author in enumerate(authors)
        ],
    )


def grow_attachments(w: Any) -> None:
    users = [staff_user(w, i) for i in range(GROW)]
    qc.in_scope(
        w.kh,
        lambda: [
            Attachment.objects.create(
                programme=w.kh,
                assessment=w.in_progress,
                question=w.questions["CL-01"],
                file=f"evidence/grown-{i}.jpg",
                original_name=marked(i, "photo.jpg"),
                content_type="image/jpeg",
                size=100,
                uploaded_by=user,
            )
            for i, user in enumerate(users)
        ],
    )


def add_interview_note(w: Any, interviewees: str = "Line 4 operators") -> Any:
    return qc.run(
        w.lead,
        w.kh,
        interviews.interview_note_add,
        assessment=w.in_progress,
        data={"kind": "worker_interview", "held_on": w.today, "interviewees": interviewees, "notes": "Said."},
    )


def grow_interview_notes(w: Any) -> None:
    for i in range(GROW):
        add_interview_note(w, marked(i, "operators"))


def interview_notes_page(w: Any) -> str:
    """The page of an assessment with a note already: every reading is audited (one INSERT)."""
    add_interview_note(w)
    return f"{P}/assessments/{w.in_progress.pk}/interviews/"


def interview_note_page(w: Any) -> str:
    return f"{P}/assessments/{w.in_progress.pk}/interviews/{add_interview_note(w).pk}/"


def grow_diagnosis_findings(w: Any) -> None:
    questions = grow_questions(w)
    qc.in_scope(
        w.kh,
        lambda: [
            DiagnosisAnswer.objects.create(
                programme=w.kh, diagnosis=w.diagnosis, question=q, value="NC", note=marked(i, "note")
            )
            for i, q in enumerate(questions)
        ],
    )


def grow_diagnoses(w: Any) -> None:
    submitters = [UserFactory(full_name=marked(i, "Clerk")) for i in range(GROW)]
    qc.in_scope(
        w.kh,
        lambda: [
            SelfDiagnosis.objects.create(
                programme=w.kh,
                factory=w.a,
                tool_version=w.tool,
                status="submitted",
                submitted_at=timezone.now() - dt.timedelta(days=i + 1),
                submitted_by=user,
            )
            for i, user in enumerate(submitters)
        ],
    )


def grow_tool_versions(w: Any) -> None:
    for i in range(GROW):
        ToolVersion.objects.create(
            tool="global",
            version=marked(i),
            title={"en": marked(i, "tool")},
            effective_from=dt.date(2030, 1, 1) + dt.timedelta(days=i),
            status="published",
            published_at=timezone.now(),
            published_by=UserFactory(full_name=marked(i, "Publisher")),
        )


# Training


def grow_courses(w: Any) -> list[Any]:
    return [
        qc.run(
            w.officer,
            w.kh,
            training_services.course_save,
            programme=w.kh,
            course=None,
            data={"title": marked(i, "course"), "days": 1, "audience": "mixed"},
        )
        for i in range(GROW)
    ]


def grow_sessions(w: Any) -> None:
    """Past sessions, each of a course of its own, with one of Angkor's people present."""
    for i, course in enumerate(grow_courses(w)):
        qc.new_session(w, days_ago=40 + 3 * i, participants=1, name=marked(i, "Trainee"), course=course)


def grow_participants(w: Any) -> None:
    qc.enrol(w, w.session, GROW, name=MARK, start=0)


def grow_entitlements(w: Any) -> None:
    for factory in new_factories(w):
        qc.run(
            w.officer,
            w.kh,
            training_services.entitlement_save,
            factory=factory,
            cycle=1,
            data={
                "days": 15,
                "starts_on": w.today - dt.timedelta(days=10),
                "ends_on": w.today + dt.timedelta(days=300),
            },
        )


def grow_templates(w: Any) -> None:
    for i in range(GROW):
        qc.run(
            w.global_,
            w.kh,
            training_services.template_save,
            template=None,
            data={
                "code": f"G{i}",
                "title": marked(i, "template"),
                "topics": "",
                "days": 1,
                "audience": "mixed",
            },
        )


# Advisory


def grow_overdue_plans(w: Any) -> None:
    """Factories with an overdue item and a progress report due: what the programme's overview lists."""
    factories = new_factories(w)

    def make() -> None:
        for factory in factories:
            plan = ImprovementPlan.objects.create(programme=w.kh, factory=factory, cycle=1)
            PlanItem.objects.create(
                programme=w.kh,
                plan=plan,
                source="factory",
                finding="Exits",
                due_on=w.today - dt.timedelta(days=5),
            )
            ProgressReport.objects.create(
                programme=w.kh, plan=plan, factory=factory, number=1, due_on=w.today - dt.timedelta(days=3)
            )

    qc.in_scope(w.kh, make)


def grow_items(w: Any) -> list[PlanItem]:
    """Publicly reported items of the plan, each owned by a committee member, half of them overdue."""
    editors = [UserFactory(full_name=marked(i, "Editor")) for i in range(GROW)]

    def make() -> list[PlanItem]:
        return [
            PlanItem.objects.create(
                programme=w.kh,
                plan=w.plan,
                source="factory",
                finding=marked(i, "finding"),
                publicly_reported=True,
                committee_owner=w.members[i % len(w.members)],
                due_on=w.today + dt.timedelta(days=(-1) ** i * (i + 1)),
                updated_by=editor,
            )
            for i, editor in enumerate(editors)
        ]

    return qc.in_scope(w.kh, make)


def grow_plans(w: Any) -> None:
    qc.in_scope(
        w.kh,
        lambda: [
            ImprovementPlan.objects.create(programme=w.kh, factory=w.a, cycle=i + 2, created_by=w.lead)
            for i in range(GROW)
        ],
    )


def grow_item_comments(w: Any) -> None:
    authors = [UserFactory(full_name=marked(i, "Author")) for i in range(GROW)]
    qc.in_scope(
        w.kh,
        lambda: [
            PlanItemComment.objects.create(programme=w.kh, item=w.item, author=a, text=marked(i, "comment"))
            for i, a in enumerate(authors)
        ],
    )


def grow_kinds(w: Any) -> None:
    qc.in_scope(
        w.kh,
        lambda: [
            CommitteeKind.objects.create(programme=w.kh, code=f"grown-{i}", name=marked(i, "kind"))
            for i in range(GROW)
        ],
    )


def grow_members(w: Any) -> None:
    """Five more members a side: the sides stay equal, as the committee's rules want."""
    since = w.today - dt.timedelta(days=30)
    qc.run(
        w.hr,
        w.kh,
        committees.members_change,
        committee=w.committee,
        add=[
            qc.person(marked(i, "Member"), ("management", "worker")[i % 2], since=since) for i in range(GROW)
        ],
    )


def grow_committees(w: Any) -> None:
    """Committees of kinds of their own at Angkor, two members a side each."""
    since = w.today - dt.timedelta(days=30)

    def make() -> None:
        for i in range(GROW):
            kind = CommitteeKind.objects.create(
                programme=w.kh, code=f"grown-{i}", name=marked(i, "committee")
            )
            committee = Committee.objects.create(programme=w.kh, factory=w.a, kind=kind)
            CommitteeMember.objects.bulk_create(
                CommitteeMember(
                    programme=w.kh,
                    committee=committee,
                    name=f"Member {n}",
                    side=("management", "worker")[n % 2],
                    sex="female",
                    term_starts_on=since,
                )
                for n in range(4)
            )

    qc.in_scope(w.kh, make)


def grow_elections(w: Any) -> None:
    for i in range(GROW):
        election = qc.run(
            w.hr,
            w.kh,
            committees.election_create,
            committee=w.committee,
            data={
                "held_on": w.today,
                "seats": 2,
                "voters": None,
                "ballots_cast": None,
                "notes": marked(i, "notes"),
            },
        )
        qc.run(
            w.hr,
            w.kh,
            committees.candidate_add,
            election=election,
            data={"name": marked(i, "Candidate"), "sex": "male"},
        )


def grow_candidates(w: Any) -> None:
    for i in range(GROW):
        qc.run(
            w.hr,
            w.kh,
            committees.candidate_add,
            election=w.election,
            data={"name": marked(i, "Candidate"), "sex": "male"},
        )


def grow_meetings(w: Any) -> None:
    for i in range(GROW):
        qc.run(
            w.hr,
            w.kh,
            committees.meeting_save,
            committee=w.committee,
            meeting=None,
            data={
                "held_on": w.today - dt.timedelta(days=10 + i),
                "agenda": marked(i, "agenda"),
                "minutes": "",
            },
            attendee_ids=[m.pk for m in w.members],
            decisions=[{"id": None, "text": marked(i, "decision"), "item": w.items[i % len(w.items)]}],
        )


def grow_decisions(w: Any) -> None:
    """Decisions of the meeting about items of their own, and members who attended it."""
    grow_members(w)
    items = grow_items(w)
    qc.in_scope(
        w.kh,
        lambda: [
            Decision.objects.create(programme=w.kh, meeting=w.meeting, text=marked(i, "decision"), item=item)
            for i, item in enumerate(items)
        ],
    )


def grow_visits(w: Any) -> None:
    """Visits with an advisor and a plan item each of their own."""
    items = grow_items(w)
    for i, item in enumerate(items):
        qc.run(
            w.lead,
            w.kh,
            visits.visit_log,
            factory=w.a,
            data={"visited_on": w.today - dt.timedelta(days=i + 1), "topics": marked(i, "topics")},
            advisors=[w.lead, staff_user(w, i)],
            items=[item],
        )


# Buyers


def grow_buyer_factories(w: Any) -> None:
    """Factories the brand subscribes to, half of them with its consent."""
    for i, factory in enumerate(new_factories(w)):
        qc.subscribe(w, factory)
        if i % 2:
            hr = UserFactory()
            grant(hr, Role.FACTORY, w.kh, factory=factory)
            qc.run(hr, w.kh, buyer_services.consent_set, factory=factory, buyer=w.brand, granted=True)


def grow_factory_brands(w: Any) -> None:
    """Brands subscribed to Angkor, each with its consent."""
    for i in range(GROW):
        brand = Buyer.objects.create(name=marked(i, "Brand"))
        subscription = qc.run(
            w.manager, w.kh, buyer_services.subscription_request, buyer=brand, factory=w.a, cycle=1
        )
        qc.run(
            w.manager,
            w.kh,
            buyer_services.subscription_activate,
            subscription=subscription,
            starts_on=w.today - dt.timedelta(days=10),
            ends_on=w.today + dt.timedelta(days=300),
        )
        qc.run(w.hr, w.kh, buyer_services.consent_set, factory=w.a, buyer=brand, granted=True)


def grow_brands(w: Any) -> list[Buyer]:
    brands = [Buyer.objects.create(name=marked(i, "Brand")) for i in range(GROW)]
    for brand in brands:
        grant(UserFactory(), Role.BUYER, None, buyer=brand)
    return brands


def grow_brand_credits(w: Any) -> None:
    for brand in grow_brands(w):
        qc.buy_credits(w, brand, 3)


def grow_buyer_cycles(w: Any) -> None:
    """Later cycles of Angkor the brand subscribes to (and so may read), each with its plan."""
    for cycle in range(2, GROW + 2):
        qc.subscribe(w, w.a, cycle=cycle)
    qc.in_scope(
        w.kh,
        lambda: [
            ImprovementPlan.objects.create(programme=w.kh, factory=w.a, cycle=cycle)
            for cycle in range(2, GROW + 2)
        ],
    )


def grow_statement_programmes(w: Any) -> None:
    """The brand's credits and subscriptions of this year in programmes of their own (one
    statement each)."""
    for i in range(GROW):
        programme = Programme.objects.create(code=f"G{i}", name=marked(i, "Programme"), country=f"Land {i}")
        factory = FactoryFactory(programme=programme)

        def books(programme: Programme = programme, factory: Any = factory) -> None:
            common = {"programme": programme, "buyer": w.brand, "currency": "USD"}
            CreditPurchase.objects.create(
                **common, credits=2, amount=Decimal("2800"), purchased_on=w.today, reference="INV"
            )
            Subscription.objects.create(
                **common,
                factory=factory,
                cycle=1,
                status="active",
                starts_on=w.today.replace(month=1, day=1),
                ends_on=w.today.replace(month=12, day=31),
                price=Decimal("1000"),
            )

        qc.in_scope(programme, books)


def grow_counted(w: Any) -> None:
    """Factories in new regions, each with a final assessment counted in the rollups (their
    non-compliant answers are what the factories-behind page lists)."""
    from assessments.models import Answer, Assessment, Question
    from reporting import rollups

    def make() -> None:
        questions = list(Question.objects.filter(version=w.tool))
        for i, factory in enumerate(new_factories(w)):
            factory.region = marked(i, "Zone")
            factory.save()
            assessment = Assessment.objects.create(
                programme=w.kh,
                factory=factory,
                tool_version=w.tool,
                cycle=1 + i % 3,
                status="final",
                planned_date=dt.date(2025, 3, 2),
                final_at=timezone.now(),
            )
            Answer.objects.bulk_create(
                Answer(programme=w.kh, assessment=assessment, question=q, value="NC", finding="Seen.")
                for q in questions
            )
            rollups.count_final(assessment)

    qc.in_scope(w.kh, make)


def grow_listed(w: Any) -> None:
    """Factories whose final report's notice period has long passed: named on the public list with
    the publicly reported question they fail."""
    from assessments.models import Answer, Assessment, Question

    def make() -> None:
        questions = list(Question.objects.filter(version=w.tool))
        for factory in new_factories(w):
            assessment = Assessment.objects.create(
                programme=w.kh,
                factory=factory,
                tool_version=w.tool,
                cycle=1,
                status="final",
                planned_date=dt.date(2024, 3, 2),
                final_at=timezone.now() - dt.timedelta(days=400),
            )
            Answer.objects.bulk_create(
                Answer(programme=w.kh, assessment=assessment, question=q, value="NC", finding="Seen.")
                for q in questions
            )

    qc.in_scope(w.kh, make)


def grow_buyer_users(w: Any) -> None:
    for i in range(GROW):
        grant(UserFactory(full_name=marked(i, "Buyer")), Role.BUYER, None, buyer=w.brand)


def synthesis_reports(w: Any, client: Client) -> None:
    """A draft counting every cycle the grown factories are counted in, and a published report."""

    def compose(title: str, cycles: list[int]) -> SynthesisReport:
        data = SynthesisInput(title=title, scope="cycles", cycles=cycles, theme_keys=[w.tool_question_key])
        return qc.run(w.manager, w.kh, synthesis_services.synthesis_create, programme=w.kh, data=data)

    w.synthesis_draft = compose("Draft figures", [1, 2, 3])
    published = compose("Published figures", [1])
    w.synthesis_published = qc.run(
        w.manager,
        w.kh,
        synthesis_services.synthesis_publish,
        report=published,
        expected_version=published.version,
    )


def grow_synthesis(w: Any, status: str) -> None:
    """More reports, each created and published by a manager of its own."""
    users = [UserFactory(full_name=marked(i, "Manager")) for i in range(GROW)]
    published = status == "published"
    qc.in_scope(
        w.kh,
        lambda: [
            SynthesisReport.objects.create(
                programme=w.kh,
                title=marked(i, "figures"),
                scope="cycles",
                cycles=[1],
                status=status,
                snapshot=w.synthesis_published.snapshot if published else None,
                published_at=timezone.now() if published else None,
                published_by=user if published else None,
                created_by=user,
            )
            for i, user in enumerate(users)
        ],
    )


def grow_synthesis_drafts(w: Any) -> None:
    grow_synthesis(w, "draft")


def grow_synthesis_published(w: Any) -> None:
    grow_synthesis(w, "published")


# --- The pages -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A page (or API read) to count, as ``user`` (an attribute of the data set) sees it."""

    name: str
    user: str
    path: Callable[[Any], str]
    # The most queries it may run: its count when it was added here, plus a fifth (at least three),
    # room for a change to the page but not for a query per row.
    ceiling: int
    # Adds GROW rows of what the page lists; None for a page about one object.
    grow: Callable[[Any], Any] | None = None
    # The grown page names every grown row (MARK i); False where it shows only figures of them
    # (then it must at least differ from the small page).
    shows: bool = True
    # Queries the grown page may run beyond the small one, whatever the number of rows.
    slack: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    label: str = ""
    # The cause of a known N+1 awaiting its fix: the test must fail until then (strict).
    xfail: str = ""
    # Readies the client before the first request (e.g. a reset token in its session).
    prepare: Callable[[Any, Client], None] | None = None

    @property
    def id(self) -> str:
        return self.name + (f"[{self.label}]" if self.label else "")


P = "/p/KH"
HTMX = {"HTTP_HX_REQUEST": "true"}


def draft_question(w: Any) -> str:
    draft = qc.run(
        w.global_,
        w.kh,
        tool_services.tool_draft_copy,
        source=w.tool,
        version="2027.1",
        effective_from=dt.date(2027, 1, 1),
    )
    question = Question.objects.filter(version=draft).first()
    assert question is not None
    return f"/tool/{draft.pk}/questions/{question.pk}/"


def reset_uid(w: Any) -> str:
    return urlsafe_base64_encode(force_bytes(w.lead.pk))


def reset_token_in_session(w: Any, client: Client) -> None:
    """The reset link's token, which the link's page moves into the session before its form."""
    client.get(f"/accounts/reset/{reset_uid(w)}/{default_token_generator.make_token(w.lead)}/")


PAGES: list[Page] = [
    # Home, inbox, sign-in
    Page("home", "manager", lambda w: "/", 11, grow_factories, shows=False, label="staff"),
    Page("home", "hr", lambda w: "/", 13, grow_factory_grants, label="factory"),
    Page("home", "manager", lambda w: "/", 11, grow_programmes, label="many programmes"),
    Page("home", "buyer", lambda w: "/", 11, grow_buyer_grants, label="buyer"),
    Page("inbox", "manager", lambda w: "/inbox/", 12, grow_notifications),
    Page("login", "", lambda w: "/accounts/login/", 7),
    # Working offline: the service worker, the manifest, the page shown for a page not kept
    Page("service_worker", "", lambda w: "/sw.js", 4),
    Page("web_manifest", "", lambda w: "/manifest.webmanifest", 4),
    Page("offline", "", lambda w: "/offline/", 4),
    Page("password_reset", "", lambda w: "/accounts/password_reset/", 7),
    Page("password_reset_done", "", lambda w: "/accounts/password_reset/done/", 7),
    Page("password_change", "lead", lambda w: "/accounts/password_change/", 10),
    Page("password_change_done", "lead", lambda w: "/accounts/password_change/done/", 10),
    Page("two_factor_setup", "lead", lambda w: "/accounts/two-step/", 12),
    Page("two_factor_verify", "lead", lambda w: "/accounts/two-step/code/", 10),
    Page(
        "password_reset_confirm",
        "",
        lambda w: f"/accounts/reset/{reset_uid(w)}/set-password/",
        8,
        prepare=reset_token_in_session,
    ),
    Page("password_reset_complete", "", lambda w: "/accounts/reset/done/", 7),
    # People, programmes, audit
    Page("people:list", "manager", lambda w: f"{P}/users/", 12, grow_users),
    Page("people:invite", "manager", lambda w: f"{P}/users/invite/", 9),
    Page("people:detail", "manager", lambda w: f"{P}/users/{w.hr.pk}/", 11, grow_factory_grants),
    Page("people:active", "manager", lambda w: f"{P}/users/{w.lead.pk}/active/", 10),
    Page("people:audit", "manager", lambda w: f"{P}/audit/", 11, grow_audit),
    Page("people:programmes", "global_", lambda w: "/programmes/", 12, grow_programmes),
    Page("people:programme_create", "global_", lambda w: "/programmes/new/", 11),
    Page("people:programme_edit", "global_", lambda w: f"/programmes/{w.kh.pk}/edit/", 12),
    # Factories
    Page("factories:list", "manager", lambda w: f"{P}/factories/", 11, grow_factories),
    Page("factories:create", "manager", lambda w: f"{P}/factories/new/", 10, grow_staff),
    Page("factories:detail", "manager", lambda w: f"{P}/factories/{w.a.pk}/", 11, grow_enrolment_history),
    Page("factories:edit", "manager", lambda w: f"{P}/factories/{w.a.pk}/edit/", 11, grow_staff),
    Page("factories:status", "manager", lambda w: f"{P}/factories/{w.a.pk}/status/", 10),
    Page("factories:import", "manager", lambda w: f"{P}/factories/import/", 9),
    Page("assessments:import", "manager", lambda w: f"{P}/assessments/import/", 9),
    Page(
        "assessments:import_template", "manager", lambda w: f"{P}/assessments/import/template/?format=csv", 9
    ),
    Page("factories:export", "manager", lambda w: f"{P}/factories/export/?format=csv", 9, grow_factories),
    Page("programme_export", "manager", lambda w: f"{P}/export/", 5),
    Page("factories:staff", "hr", lambda w: f"{P}/factories/{w.a.pk}/staff/", 11, grow_factory_staff),
    Page("factory_buyers:list", "hr", lambda w: f"{P}/factories/{w.a.pk}/buyers/", 17, grow_factory_brands),
    Page(
        "factory_buyers:consent", "hr", lambda w: f"{P}/factories/{w.a.pk}/buyers/{w.brand.pk}/consent/", 11
    ),
    Page(
        "factory_buyers:subscriptions",
        "manager",
        lambda w: f"{P}/factories/{w.a.pk}/buyers/subscriptions/",
        14,
        grow_factory_brands,
    ),
    # Assessments
    Page("assessments:list", "manager", lambda w: f"{P}/assessments/", 13, grow_assessments),
    Page("assessments:plan", "leader", lambda w: f"{P}/assessments/plan/", 13, grow_factories),
    Page("assessments:rounds", "leader", lambda w: f"{P}/assessments/rounds/", 10, grow_rounds),
    Page("assessments:round_edit", "leader", lambda w: f"{P}/assessments/rounds/{w.round.pk}/", 10),
    Page("assessments:cases", "manager", lambda w: f"{P}/assessments/cases/", 10, grow_cases),
    Page("assessments:case", "manager", lambda w: f"{P}/assessments/cases/{w.case.pk}/", 11, grow_case_notes),
    Page(
        "assessments:detail",
        "lead",
        lambda w: f"{P}/assessments/{w.in_progress.pk}/",
        18,
        grow_questions,
        label="in progress",
    ),
    Page(
        "assessments:detail",
        "manager",
        lambda w: f"{P}/assessments/{w.final.pk}/",
        16,
        grow_finding_comments,
        label="published",
    ),
    Page("assessments:draft", "hr", lambda w: f"{P}/assessments/{w.final.pk}/draft/", 14, grow_findings),
    Page(
        "assessments:draft",
        "hr",
        lambda w: f"{P}/assessments/{w.final.pk}/draft/",
        14,
        grow_finding_comments,
        label="comments",
    ),
    Page(
        "assessments:cluster",
        "lead",
        lambda w: f"{P}/assessments/{w.in_progress.pk}/clusters/CL/",
        12,
        grow_questions,
    ),
    Page(
        "assessments:cluster",
        "lead",
        lambda w: f"{P}/assessments/{w.in_progress.pk}/clusters/CL/",
        13,
        grow_attachments,
        # Without any attachment the assessment's own query says so and the page skips asking.
        slack=1,
        label="attachments",
    ),
    Page("assessments:interviews", "lead", interview_notes_page, 10, grow_interview_notes),
    Page("assessments:offline", "lead", lambda w: f"{P}/assessments/{w.in_progress.pk}/offline/", 10),
    Page("assessments:interview_edit", "lead", interview_note_page, 10),
    Page("reports:panel", "manager", lambda w: f"{P}/reports/assessment/{w.final.pk}/", 14),
    Page("reports:job", "manager", lambda w: f"{P}/reports/jobs/{w.jobs[0].pk}/", 11),
    # Training
    Page("training:sessions", "officer", lambda w: f"{P}/training/?show=past", 14, grow_sessions),
    Page("training:session_create", "officer", lambda w: f"{P}/training/sessions/new/", 12, grow_courses),
    Page(
        "training:session",
        "officer",
        lambda w: f"{P}/training/sessions/{w.session.pk}/",
        17,
        grow_participants,
    ),
    Page(
        "training:session_edit",
        "officer",
        lambda w: f"{P}/training/sessions/{w.session.pk}/edit/",
        16,
        grow_courses,
    ),
    Page("training:session_cancel", "officer", lambda w: f"{P}/training/sessions/{w.session.pk}/cancel/", 11),
    Page(
        "training:attendance_import",
        "officer",
        lambda w: f"{P}/training/sessions/{w.session.pk}/attendance/import/",
        12,
    ),
    Page(
        "training:attendance_export",
        "officer",
        lambda w: f"{P}/training/sessions/{w.session.pk}/attendance/export/?format=csv",
        13,
        grow_participants,
    ),
    Page(
        "training:evaluations",
        "officer",
        lambda w: f"{P}/training/sessions/{w.session.pk}/evaluations/",
        14,
        grow_participants,
    ),
    Page("training:courses", "officer", lambda w: f"{P}/training/courses/", 11, grow_courses),
    Page("training:course_create", "officer", lambda w: f"{P}/training/courses/new/", 9),
    Page("training:course_edit", "officer", lambda w: f"{P}/training/courses/{w.course.pk}/edit/", 10),
    Page(
        "training:entitlements",
        "officer",
        lambda w: f"{P}/training/entitlements/?show=all",
        13,
        grow_entitlements,
    ),
    Page(
        "training:entitlement_edit",
        "officer",
        lambda w: f"{P}/training/entitlements/set/",
        10,
        grow_entitlements,
    ),
    Page("training:entitlement_import", "officer", lambda w: f"{P}/training/entitlements/import/", 9),
    Page(
        "training:entitlement_export",
        "officer",
        lambda w: f"{P}/training/entitlements/export/?show=all&format=csv",
        12,
        grow_entitlements,
    ),
    Page("training:factory", "officer", lambda w: f"{P}/training/factories/{w.a.pk}/", 14, grow_sessions),
    Page(
        "training:factory",
        "hr",
        lambda w: f"{P}/training/factories/{w.a.pk}/",
        14,
        grow_sessions,
        label="its own users",
    ),
    # Figures: the dashboard reads rollups; the factories behind a figure list the grown ones.
    Page("dashboard:programme", "manager", lambda w: f"{P}/dashboard/", 29, grow_counted, shows=False),
    Page(
        "dashboard:factories",
        "manager",
        lambda w: f"{P}/dashboard/factories/?question={w.tool_question_key}",
        17,
        grow_counted,
    ),
    Page(
        "dashboard:questions", "manager", lambda w: f"{P}/dashboard/questions/", 16, grow_counted, shows=False
    ),
    Page("compare:programmes", "global_", lambda w: "/compare/", 15, grow_counted, shows=False),
    # The public site: no sign-in. With nobody listed yet (the small data set) the list skips its
    # two reads of the listed entries' issues and responses: slack 2, whatever the rows.
    Page("public:index", "", lambda w: "/public/", 6, grow_programmes),
    Page("public:transparency", "", lambda w: "/public/KH/transparency/", 14, grow_listed, slack=2),
    Page("public:transparency_csv", "", lambda w: "/public/KH/transparency.csv", 14, grow_listed, slack=2),
    Page(
        "api-public-transparency", "", lambda w: "/api/v1/public/KH/transparency/", 14, grow_listed, slack=2
    ),
    Page("transparency:factory", "hr", lambda w: f"{P}/factories/{w.a.pk}/transparency/", 14),
    # Synthesis reports: the managers' pages (the draft's preview counts live from the rollups),
    # then the public ones, which read a published report's frozen figures.
    Page(
        "synthesis:list",
        "manager",
        lambda w: f"{P}/synthesis/",
        10,
        grow_synthesis_drafts,
        prepare=synthesis_reports,
    ),
    Page("synthesis:create", "manager", lambda w: f"{P}/synthesis/new/", 16, grow_questions),
    Page(
        "synthesis:edit",
        "manager",
        lambda w: f"{P}/synthesis/{w.synthesis_draft.pk}/edit/",
        17,
        grow_questions,
        prepare=synthesis_reports,
    ),
    Page(
        "synthesis:preview",
        "manager",
        lambda w: f"{P}/synthesis/{w.synthesis_draft.pk}/",
        21,
        grow_counted,
        shows=False,  # figures of the factories counted
        prepare=synthesis_reports,
    ),
    Page(
        "public:programme",
        "",
        lambda w: "/public/KH/",
        12,
        grow_synthesis_published,
        prepare=synthesis_reports,
    ),
    Page(
        "public:synthesis",
        "",
        lambda w: f"/public/KH/synthesis/{w.synthesis_published.pk}/",
        14,
        prepare=synthesis_reports,
    ),
    Page(
        "public:synthesis_csv",
        "",
        lambda w: f"/public/KH/synthesis/{w.synthesis_published.pk}.csv",
        12,
        prepare=synthesis_reports,
    ),
    Page(
        "api-public-synthesis-list",
        "",
        lambda w: "/api/v1/public/KH/synthesis/",
        12,
        grow_synthesis_published,
        prepare=synthesis_reports,
    ),
    Page(
        "api-public-synthesis",
        "",
        lambda w: f"/api/v1/public/KH/synthesis/{w.synthesis_published.pk}/",
        13,
        prepare=synthesis_reports,
    ),
    Page("training:figures", "officer", lambda w: f"{P}/training/figures/", 20, grow_sessions),
    Page("training:export", "manager", lambda w: f"{P}/training/export/?format=csv", 5, grow_sessions),
    Page("training_templates:list", "global_", lambda w: "/training-templates/", 12, grow_templates),
    Page("training_templates:create", "global_", lambda w: "/training-templates/new/", 11),
    Page(
        "training_templates:edit", "global_", lambda w: f"/training-templates/{w.templates[0].pk}/edit/", 12
    ),
    # Advisory: plans and progress reports
    Page("advisory:overview", "manager", lambda w: f"{P}/advisory/", 11, grow_overdue_plans),
    Page("advisory:factory_plan", "lead", lambda w: f"{P}/advisory/factories/{w.b.pk}/plan/", 12),
    Page("advisory:plan", "lead", lambda w: f"{P}/advisory/plans/{w.plan.pk}/", 17, grow_items),
    Page(
        "advisory:plan", "hr", lambda w: f"{P}/advisory/plans/{w.plan.pk}/", 16, grow_items, label="factory"
    ),
    Page(
        "advisory:plan",
        "lead",
        lambda w: f"{P}/advisory/plans/{w.plan.pk}/",
        17,
        grow_plans,
        shows=False,  # the other cycles' plans, by number
        label="plans",
    ),
    Page(
        "advisory:plans_export", "manager", lambda w: f"{P}/advisory/plans/export/?format=csv", 5, grow_items
    ),
    Page("advisory:item", "lead", lambda w: f"{P}/advisory/items/{w.item.pk}/", 13, grow_item_comments),
    Page("advisory:item_row", "lead", lambda w: f"{P}/advisory/items/{w.item.pk}/row/", 11, headers=HTMX),
    Page(
        "advisory:item_row",
        "lead",
        lambda w: f"{P}/advisory/items/{w.item.pk}/row/?edit=1",
        11,
        grow_members,
        headers=HTMX,
        label="edit",
    ),
    Page("advisory:progress", "hr", lambda w: f"{P}/advisory/progress/{w.progress.pk}/", 16, grow_items),
    # Advisory: committees
    Page("committees:kinds", "manager", lambda w: f"{P}/advisory/committee-kinds/", 10, grow_kinds),
    Page("committees:kind_create", "manager", lambda w: f"{P}/advisory/committee-kinds/new/", 9),
    Page("committees:kind_edit", "manager", lambda w: f"{P}/advisory/committee-kinds/{w.picc.pk}/edit/", 10),
    Page(
        "committees:factory", "hr", lambda w: f"{P}/advisory/factories/{w.a.pk}/committees/", 17, grow_members
    ),
    Page(
        "committees:factory",
        "lead",
        lambda w: f"{P}/advisory/factories/{w.a.pk}/committees/",
        17,
        grow_committees,
        label="committees",
    ),
    Page("committees:detail", "hr", lambda w: f"{P}/advisory/committees/{w.committee.pk}/", 12, grow_members),
    Page(
        "committees:detail",
        "hr",
        lambda w: f"{P}/advisory/committees/{w.committee.pk}/",
        12,
        grow_elections,
        shows=False,  # elections by date, with their counts
        label="elections",
    ),
    Page("committees:dissolve", "hr", lambda w: f"{P}/advisory/committees/{w.committee.pk}/dissolve/", 10),
    Page(
        "committees:member_add", "hr", lambda w: f"{P}/advisory/committees/{w.committee.pk}/members/new/", 10
    ),
    Page(
        "committees:members_change",
        "hr",
        lambda w: f"{P}/advisory/committees/{w.committee.pk}/members/change/",
        11,
        grow_members,
    ),
    Page(
        "committees:member_edit",
        "hr",
        lambda w: f"{P}/advisory/committees/{w.committee.pk}/members/{w.member.pk}/edit/",
        11,
    ),
    Page(
        "committees:member_end",
        "hr",
        lambda w: f"{P}/advisory/committees/{w.committee.pk}/members/{w.member.pk}/end/",
        11,
    ),
    Page(
        "committees:member_sign_in",
        "hr",
        lambda w: f"{P}/advisory/committees/{w.committee.pk}/members/{w.member.pk}/sign-in/",
        11,
    ),
    Page(
        "committees:election_create",
        "hr",
        lambda w: f"{P}/advisory/committees/{w.committee.pk}/elections/new/",
        11,
        grow_members,
        shows=False,  # the form only counts the worker members, for the seats it suggests
    ),
    Page(
        "committees:election",
        "hr",
        lambda w: f"{P}/advisory/committees/{w.committee.pk}/elections/{w.election.pk}/",
        12,
        grow_candidates,
    ),
    Page(
        "committees:meetings",
        "hr",
        lambda w: f"{P}/advisory/committees/{w.committee.pk}/meetings/",
        12,
        grow_meetings,
        shows=False,  # a row per meeting: its date, attendance and quorum
    ),
    Page(
        "committees:meeting_create",
        "hr",
        lambda w: f"{P}/advisory/committees/{w.committee.pk}/meetings/new/",
        12,
        grow_decisions,
    ),
    Page(
        "committees:meeting",
        "hr",
        lambda w: f"{P}/advisory/committees/{w.committee.pk}/meetings/{w.meeting.pk}/",
        14,
        grow_decisions,
    ),
    Page(
        "committees:meeting_edit",
        "hr",
        lambda w: f"{P}/advisory/committees/{w.committee.pk}/meetings/{w.meeting.pk}/edit/",
        15,
        grow_decisions,
    ),
    Page(
        "committees:export",
        "manager",
        lambda w: f"{P}/advisory/committees/export/?format=csv",
        5,
        grow_committees,
    ),
    # Advisory: visits and self-diagnosis
    Page("visits:list", "lead", lambda w: f"{P}/advisory/visits/", 18, grow_visits),
    Page("visits:new", "lead", lambda w: f"{P}/advisory/visits/new/", 10, grow_factories),
    Page("visits:edit", "lead", lambda w: f"{P}/advisory/visits/{w.visit.pk}/edit/", 15, grow_visits),
    Page("visits:delete", "lead", lambda w: f"{P}/advisory/visits/{w.visit.pk}/delete/", 12),
    Page("visits:factory", "lead", lambda w: f"{P}/advisory/factories/{w.a.pk}/visits/", 15, grow_visits),
    Page(
        "visits:factory",
        "hr",
        lambda w: f"{P}/advisory/factories/{w.a.pk}/visits/",
        15,
        grow_visits,
        label="its own users",
    ),
    Page("visits:create", "lead", lambda w: f"{P}/advisory/factories/{w.a.pk}/visits/new/", 13, grow_items),
    Page(
        "visits:diagnosis",
        "hr",
        lambda w: f"{P}/advisory/factories/{w.a.pk}/self-diagnosis/",
        13,
        grow_diagnoses,
        shows=False,  # submitted ones are listed by date
    ),
    Page(
        "visits:diagnosis_results",
        "hr",
        lambda w: f"{P}/advisory/factories/{w.a.pk}/self-diagnosis/{w.diagnosis.pk}/",
        14,
        grow_diagnosis_findings,
    ),
    Page(
        "visits:diagnosis_cluster",
        "hr",
        lambda w: f"{P}/advisory/factories/{w.a.pk}/self-diagnosis/{w.draft_diagnosis.pk}/CL/",
        13,
        grow_questions,
    ),
    # The compliance tool
    Page("tool:list", "global_", lambda w: "/tool/", 12, grow_tool_versions),
    Page("tool:detail", "global_", lambda w: f"/tool/{w.tool.pk}/", 14, grow_questions),
    Page("tool:export", "global_", lambda w: f"/tool/{w.tool.pk}/export/", 12, grow_questions),
    Page("tool:question", "global_", draft_question, 14),
    # Buyers
    Page("buyer:portal", "buyer", lambda w: "/buyer/", 20, grow_buyer_factories),
    Page(
        "buyer:factory",
        "buyer",
        lambda w: f"/buyer/factories/{w.a.pk}/",
        18,
        grow_buyer_cycles,
        shows=False,  # cycles by number
    ),
    Page(
        "buyer:supply_base", "buyer", lambda w: "/buyer/supply-base/", 18, grow_buyer_factories, shows=False
    ),
    Page("buyer:people", "buyer", lambda w: "/buyer/people/", 12, grow_buyer_users),
    Page("buyer_orgs:list", "global_", lambda w: "/buyers/", 14, grow_brands),
    Page("buyer_orgs:create", "global_", lambda w: "/buyers/new/", 14),
    Page("buyer_orgs:detail", "global_", lambda w: f"/buyers/{w.brand.pk}/", 13, grow_buyer_users),
    Page("buyer_prices:bands", "manager", lambda w: f"{P}/buyer-prices/", 10),
    Page("buyer_prices:credits", "manager", lambda w: f"{P}/buyer-prices/credits/", 15, grow_brand_credits),
    Page(
        "subscriptions:export",
        "manager",
        lambda w: f"{P}/buyers/subscriptions/export/?format=csv",
        5,
        grow_factory_brands,
    ),
    Page(
        "buyer_statements:year",
        "buyer",
        lambda w: f"/buyer/statements/{w.today.year}/",
        27,
        grow_buyer_factories,
        shows=False,  # subscriptions are summed per programme and currency
    ),
    Page(
        "buyer_statements:year",
        "buyer",
        lambda w: f"/buyer/statements/{w.today.year}/",
        27,
        grow_statement_programmes,
        label="programmes",
    ),
    Page(
        "buyer_statements:pdf",
        "buyer",
        lambda w: f"/buyer/statements/{w.today.year}/pdf/",
        27,
        grow_statement_programmes,
    ),
    # The API
    Page("api-docs", "lead", lambda w: "/api/docs/", 9),
    Page("api-me", "manager", lambda w: "/api/v1/me/", 10, grow_programmes, shows=False),
    Page("api-tool-versions", "global_", lambda w: "/api/v1/tool/versions/", 11, grow_tool_versions),
    Page("api-tool-version", "global_", lambda w: f"/api/v1/tool/versions/{w.tool.pk}/", 12, grow_questions),
    Page("api-factory-list", "manager", lambda w: f"/api/v1{P}/factories/", 10, grow_factories),
    Page("api-factory-detail", "manager", lambda w: f"/api/v1{P}/factories/{w.a.pk}/", 10),
    Page(
        "api-assessment-list",
        "manager",
        lambda w: f"/api/v1{P}/assessments/",
        11,
        grow_assessments,
        shows=False,
    ),
    Page("api-assessment-detail", "manager", lambda w: f"/api/v1{P}/assessments/{w.final.pk}/", 11),
    Page(
        "api-assessment-answers",
        "lead",
        lambda w: f"/api/v1{P}/assessments/{w.final.pk}/answers/",
        11,
        grow_findings,
    ),
    Page(
        "api-assessment-attachments",
        "lead",
        lambda w: f"/api/v1{P}/assessments/{w.in_progress.pk}/attachments/",
        11,
        grow_attachments,
        slack=1,  # as on the cluster page: no attachment, no query for them
    ),
    Page("api-report-job", "manager", lambda w: f"/api/v1{P}/reports/{w.jobs[0].pk}/", 11),
    Page("api-training-courses", "officer", lambda w: f"/api/v1{P}/training/courses/", 10, grow_courses),
    Page("api-training-course", "officer", lambda w: f"/api/v1{P}/training/courses/{w.course.pk}/", 10),
    Page(
        "api-training-sessions",
        "officer",
        lambda w: f"/api/v1{P}/training/sessions/",
        12,
        grow_sessions,
        shows=False,
    ),
    Page("api-training-session", "officer", lambda w: f"/api/v1{P}/training/sessions/{w.session.pk}/", 12),
    Page(
        "api-training-participants",
        "officer",
        lambda w: f"/api/v1{P}/training/sessions/{w.session.pk}/participants/",
        11,
        grow_participants,
    ),
    Page(
        "api-training-evaluation",
        "officer",
        lambda w: f"/api/v1{P}/training/sessions/{w.session.pk}/participants/{w.participant.pk}/evaluation/",
        12,
    ),
    Page(
        "api-training-attendance",
        "officer",
        lambda w: f"/api/v1{P}/training/sessions/{w.session.pk}/attendance/",
        12,
        grow_participants,
        shows=False,  # participants by id, with their days
    ),
    Page(
        "api-training-entitlements",
        "officer",
        lambda w: f"/api/v1{P}/training/entitlements/",
        12,
        grow_entitlements,
    ),
    Page("api-training-figures", "officer", lambda w: f"/api/v1{P}/training/figures/", 17, grow_sessions),
    Page(
        "api-training-factory",
        "officer",
        lambda w: f"/api/v1{P}/training/factories/{w.a.pk}/training/",
        14,
        grow_sessions,
    ),
    Page(
        "api-factory-plans",
        "lead",
        lambda w: f"/api/v1{P}/advisory/factories/{w.a.pk}/plans/",
        12,
        grow_plans,
        shows=False,  # plans by cycle
    ),
    Page(
        "api-plan", "lead", lambda w: f"/api/v1{P}/advisory/plans/{w.plan.pk}/", 12, grow_items, shows=False
    ),
    Page("api-plan-items", "lead", lambda w: f"/api/v1{P}/advisory/plans/{w.plan.pk}/items/", 11, grow_items),
    Page("api-plan-item", "lead", lambda w: f"/api/v1{P}/advisory/items/{w.item.pk}/", 11),
    Page(
        "api-plan-item-comments",
        "lead",
        lambda w: f"/api/v1{P}/advisory/items/{w.item.pk}/comments/",
        11,
        grow_item_comments,
    ),
    Page(
        "api-progress-report",
        "lead",
        lambda w: f"/api/v1{P}/advisory/progress-reports/{w.progress.pk}/",
        16,
        grow_items,
    ),
    Page("api-committee-kinds", "manager", lambda w: f"/api/v1{P}/advisory/committee-kinds/", 10, grow_kinds),
    Page(
        "api-committees",
        "hr",
        lambda w: f"/api/v1{P}/advisory/factories/{w.a.pk}/committees/",
        13,
        grow_members,
        shows=False,  # figures and checks of the composition
    ),
    Page(
        "api-committee",
        "hr",
        lambda w: f"/api/v1{P}/advisory/committees/{w.committee.pk}/",
        13,
        grow_members,
        shows=False,
    ),
    Page(
        "api-committee-members",
        "hr",
        lambda w: f"/api/v1{P}/advisory/committees/{w.committee.pk}/members/",
        11,
        grow_members,
    ),
    Page(
        "api-committee-member",
        "hr",
        lambda w: f"/api/v1{P}/advisory/committees/{w.committee.pk}/members/{w.member.pk}/",
        11,
    ),
    Page(
        "api-committee-elections",
        "hr",
        lambda w: f"/api/v1{P}/advisory/committees/{w.committee.pk}/elections/",
        12,
        grow_elections,
    ),
    Page(
        "api-committee-election",
        "hr",
        lambda w: f"/api/v1{P}/advisory/committees/{w.committee.pk}/elections/{w.election.pk}/",
        12,
        grow_candidates,
    ),
    Page(
        "api-committee-meetings",
        "hr",
        lambda w: f"/api/v1{P}/advisory/committees/{w.committee.pk}/meetings/",
        12,
        grow_meetings,
        shows=False,  # a row per meeting: its date, attendance and quorum
    ),
    Page(
        "api-committee-meeting",
        "hr",
        lambda w: f"/api/v1{P}/advisory/committees/{w.committee.pk}/meetings/{w.meeting.pk}/",
        13,
        grow_decisions,
    ),
    Page("api-advisory-visits", "lead", lambda w: f"/api/v1{P}/advisory/visits/", 12, grow_visits),
    Page(
        "api-advisory-visit-figures",
        "lead",
        lambda w: f"/api/v1{P}/advisory/visits/figures/",
        12,
        grow_visits,
        shows=False,  # counts by month
    ),
    Page("api-advisory-visit", "lead", lambda w: f"/api/v1{P}/advisory/visits/{w.visit.pk}/", 12),
    Page(
        "api-advisory-factory-visits",
        "lead",
        lambda w: f"/api/v1{P}/advisory/factories/{w.a.pk}/visits/",
        13,
        grow_visits,
    ),
    Page(
        "api-self-diagnoses",
        "hr",
        lambda w: f"/api/v1{P}/advisory/factories/{w.a.pk}/self-diagnoses/",
        11,
        grow_diagnoses,
        shows=False,
    ),
    Page(
        "api-self-diagnosis",
        "hr",
        lambda w: f"/api/v1{P}/advisory/self-diagnoses/{w.diagnosis.pk}/",
        12,
        grow_diagnosis_findings,
    ),
    Page("api-buyer-factories", "buyer", lambda w: "/api/v1/buyer/factories/", 18, grow_buyer_factories),
    Page(
        "api-buyer-factory-reports",
        "buyer",
        lambda w: f"/api/v1/buyer/factories/{w.a.pk}/reports/",
        20,
        grow_buyer_cycles,
        shows=False,
    ),
]


def shape(sql: str) -> str:
    """A query without its numbers (ids, savepoint names) and lists: the same query for another row."""
    return re.sub(r"N(,N)+", "N", re.sub(r"\d+", "N", re.sub(r" IN \([^()]*\)", " IN (...)", sql)))


def differing(small: qc.Measured, big: qc.Measured) -> str:
    """The queries the grown page ran more often than the small one, to tell where the N+1 is."""
    extra = Counter(map(shape, big.sql)) - Counter(map(shape, small.sql))
    return "\n".join(f"{n} more: {sql[:400]}" for sql, n in extra.most_common(5))


def content(measured: qc.Measured) -> str:
    """The page without its CSRF tokens, which change with every response."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", measured.body)


def client_for(w: Any, user: str) -> Client:
    client = Client()
    if user:
        client.force_login(getattr(w, user))
    return client


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(
            p,
            id=p.id,
            marks=[pytest.mark.xfail(strict=True, raises=AssertionError, reason=p.xfail)] if p.xfail else [],
        )
        for p in PAGES
    ],
)
def test_queries_do_not_grow_with_rows(world: Any, db: Any, entry: Page) -> None:
    client = client_for(world, entry.user)
    if entry.prepare is not None:
        entry.prepare(world, client)
    small = qc.measure(client, entry.path(world), **entry.headers)
    assert small.status == 200, f"{entry.id} answered {small.status}"
    assert small.queries <= entry.ceiling, f"{entry.id}: {small.queries} queries, more than {entry.ceiling}"
    if entry.grow is None:
        return
    entry.grow(world)
    big = qc.measure(client, entry.path(world), **entry.headers)
    assert big.status == 200, f"{entry.id} answered {big.status} with more rows"
    if entry.shows:
        missing = [i for i in range(GROW) if marked(i) not in big.body]
        assert not missing, f"{entry.id} does not show the rows added ({MARK} {missing})"
    else:
        assert content(big) != content(small), f"{entry.id} shows nothing of the rows added"
    assert big.queries - small.queries <= entry.slack, (
        f"{entry.id}: {small.queries} queries with the small data set, {big.queries} with {GROW} more rows:\n"
        + differing(small, big)
    )
    assert big.queries <= entry.ceiling, f"{entry.id}: {big.queries} queries, more than {entry.ceiling}"


# --- What is not counted, and why --------------------------------------------------------------

WRITES = "writes only: a GET answers 405"
FILE = "serves a stored file, checked and logged, one object: nothing listed"
REDIRECT = "a GET only redirects"

EXEMPT: dict[str, str] = {
    "healthz": "health check: pings the database, Redis and the workers, lists nothing",
    "logout": WRITES,
    "set_language": REDIRECT,  # the language is set by a POST; a GET goes back
    "public:language": REDIRECT,  # the public pages' switch: the same view, without CSRF
    "api-schema": "the OpenAPI schema: built from the code with an empty scope, it reads no data",
    "buyer_statements:latest": REDIRECT,  # to this year's statement
    "buyer_orgs:invite": REDIRECT,  # the form is on the buyer's page; a POST invites
    "assessments:attachment": FILE,
    "advisory:evidence": FILE,
    "reports:download": FILE,
    "programme_archive_download": FILE,
    "buyer_statements:pdf_download": FILE,
    "api-report-download": FILE,
    "public:synthesis_pdf": FILE,
    "assessments:export": "a streamed CSV, read in chunks while it is sent: its statements are counted "
    "by tests/assessments/test_history_import.py",
    "api-factory-import-detail": "one import run, read by its id: nothing listed",
    "api-history-import-detail": "one import run, read by its id: nothing listed",
    **dict.fromkeys(
        [
            "inbox_read",
            "factories:staff_revoke",
            "factory_buyers:activate",
            "factory_buyers:cancel",
            "assessments:transition",
            "assessments:visit",
            "assessments:comment_respond",
            "assessments:answer",
            "assessments:interview_delete",
            "reports:request",
            "training:participant_add",
            "training:participant_remove",
            "training:attendance",
            "training:course_copy",
            "advisory:plan_start",
            "advisory:plan_findings",
            "advisory:plan_diagnosis",
            "advisory:plan_add_item",
            "advisory:item_comment",
            "advisory:item_evidence",
            "advisory:item_verify",
            "advisory:item_reopen",
            "committees:kind_suggested",
            "committees:create",
            "committees:member_sign_in_remove",
            "committees:candidate_add",
            "committees:candidate_remove",
            "committees:election_votes",
            "committees:election_results",
            "visits:diagnosis_start",
            "visits:diagnosis_submit",
            "tool:copy",
            "tool:action",
            "buyer_statements:pdf_request",
            "programme_archive_request",
            "synthesis:publish",
            "synthesis:withdraw",
            "synthesis:new_version",
            "synthesis:delete",
            "people:revoke",
            "people:training",
            "api-assessment-transition",
            "api-report-request",
            "api-training-session-cancel",
            "api-training-participant",
            "api-training-entitlement",
            "api-plan-findings",
            "api-plan-item-verify",
            "api-plan-item-reopen",
            "api-progress-report-submit",
            "api-committee-members-change",
            "api-committee-member-end",
            "api-committee-candidates",
            "api-committee-votes",
            "api-committee-results",
            "api-self-diagnosis-answers",
            "api-self-diagnosis-submit",
            "api-factory-import",
            "api-factory-import-apply",
            "api-history-import",
            "api-history-import-apply",
        ],
        WRITES,
    ),
    # The upload's GET answers 404 rather than 405: no page behind it either.
    "assessments:attachment_upload": WRITES,
}
# Where a GET of a write-only address answers otherwise than 405.
GET_ANSWERS = {"assessments:attachment_upload": 404}


def test_every_page_is_counted_or_exempt() -> None:
    """A new URL fails here until its page is counted above or exempted with its reason."""
    names = {route.name or route.pattern for route in qc.routes()}
    counted = {entry.name for entry in PAGES}
    assert not counted & set(EXEMPT), f"both counted and exempt: {sorted(counted & set(EXEMPT))}"
    assert not names - counted - set(EXEMPT), (
        f"pages without a query-count test (add them to PAGES, or to EXEMPT with why): "
        f"{sorted(names - counted - set(EXEMPT))}"
    )
    assert not (counted | set(EXEMPT)) - names, f"no such URL: {sorted((counted | set(EXEMPT)) - names)}"


def example_path(route: qc.Route) -> str:
    """The route with the Cambodian programme and ids no row has."""
    path = route.pattern.replace("<str:programme_code>", "KH")
    return re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "999999" if m[1] == "int" else "x", path)


# Where each redirect is tried, and by whom.
REDIRECTS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "set_language": ("lead", lambda w: "/i18n/setlang/"),
    "public:language": ("", lambda w: "/public/language/"),
    "buyer_statements:latest": ("buyer", lambda w: "/buyer/statements/"),
    "buyer_orgs:invite": ("global_", lambda w: f"/buyers/{w.brand.pk}/invite/"),
}


def test_exempt_writes_and_redirects_answer_a_get_as_said(world: Any, db: Any) -> None:
    """What EXEMPT calls write-only refuses a GET, and what it calls a redirect redirects: a page
    added behind such an address cannot hide there."""
    client = client_for(world, "manager")
    writes = [route for route in qc.routes() if EXEMPT.get(route.name) == WRITES]
    for route in writes:
        status = client.get(example_path(route)).status_code
        expected = GET_ANSWERS.get(route.name, 405)
        assert status == expected, f"{route.name}: a GET answered {status}, not {expected}"
    assert len({route.name for route in writes}) == list(EXEMPT.values()).count(WRITES)
    assert set(REDIRECTS) == {name for name, reason in EXEMPT.items() if reason == REDIRECT}
    for name, (user, path) in REDIRECTS.items():
        status = client_for(world, user).get(path(world)).status_code
        assert status == 302, f"{name}: a GET answered {status}, not a redirect"
