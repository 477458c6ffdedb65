"""Benchmark: the training figures and the entitlement list, against the naive way, in one run.

Run:  .venv/bin/python -m benchmarks.training_figures [--sessions 400] [--factories 300] [--repeat 30]
It builds a throwaway test database with one programme, N factories with three cycles of
entitlements each, and S sessions of about 20 participants over 1-4 days with attendance, then
measures:
- the figures (participant training days by sex, role, course, factory and month, and the
  evaluation averages) by our grouped queries, against the naive way (every attendance row
  loaded with its participant and session and counted in Python);
- a page of 50 entitlements with days used and booked (one query with correlated counts),
  against the naive way (one count query per entitlement);
- the figures page and the entitlement page as requests (p50/p95 and SQL statements).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
from collections import Counter
from typing import Any

from benchmarks.assessment_form import report, timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=400)
    parser.add_argument("--factories", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection, reset_queries
    from django.test.utils import setup_test_environment

    setup_test_environment()
    request_started.disconnect(close_old_connections)
    request_started.disconnect(reset_queries)
    request_finished.disconnect(close_old_connections)
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args.sessions, args.factories, args.repeat)
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


def build(sessions: int, factories: int) -> dict[str, Any]:
    from django.db import connection, transaction

    from betterwork import tenancy
    from betterwork.models import Programme, Role, RoleGrant, User
    from factories.models import Factory
    from training.models import (
        Attendance,
        Course,
        Entitlement,
        Evaluation,
        Participant,
        ParticipantRole,
        Session,
        SessionDay,
        SessionMode,
        SessionTrainer,
        Sex,
    )

    rng = random.Random(2019)
    programme = Programme.objects.create(
        code="BM", name="Benchmark programme", country="Nowhere", languages=["en"]
    )
    officer = User.objects.create_user("officer@bench.example", "pass", full_name="Training Officer")
    RoleGrant.objects.create(user=officer, role=Role.ADVISOR, programme=programme, manages_training=True)
    today = programme.today()
    with tenancy.scope({programme.pk}), transaction.atomic():
        plants = Factory.objects.bulk_create(
            Factory(programme=programme, public_id=f"BM{n:05d}0", name=f"Factory {n:04d}")
            for n in range(factories)
        )
        courses = Course.objects.bulk_create(
            Course(programme=programme, title=f"Course {n}", days=1 + n % 4, audience="mixed")
            for n in range(7)
        )
        for plant in plants:
            start = dt.date(today.year - 2, rng.randint(1, 12), 1)
            Entitlement.objects.bulk_create(
                Entitlement(
                    programme=programme,
                    factory=plant,
                    cycle=c + 1,
                    days=15,
                    starts_on=start.replace(year=start.year + c),
                    ends_on=start.replace(year=start.year + c + 1) - dt.timedelta(days=1),
                )
                for c in range(3)
            )
        first = today - dt.timedelta(days=700)
        for n in range(sessions):
            course = rng.choice(courses)
            begin = first + dt.timedelta(days=rng.randint(0, 760))
            dates = [begin + dt.timedelta(days=d) for d in range(course.days)]
            session = Session.objects.create(
                programme=programme,
                course=course,
                mode=SessionMode.OPEN,
                starts_on=dates[0],
                ends_on=dates[-1],
            )
            SessionTrainer.objects.create(programme=programme, session=session, user=officer)
            days = SessionDay.objects.bulk_create(
                SessionDay(programme=programme, session=session, date=d) for d in dates
            )
            people = Participant.objects.bulk_create(
                Participant(
                    programme=programme,
                    session=session,
                    name=f"Person {n}-{k}",
                    sex=rng.choice((Sex.FEMALE, Sex.FEMALE, Sex.MALE)),
                    role=rng.choice(ParticipantRole.values),
                    factory=rng.choice(plants),
                )
                for k in range(20)
            )
            Attendance.objects.bulk_create(
                Attendance(programme=programme, participant=p, day=d)
                for p in people
                for d in days
                if d.date <= today and rng.random() < 0.9
            )
            if dates[-1] <= today:
                Evaluation.objects.bulk_create(
                    Evaluation(
                        programme=programme, participant=p, overall=4, content=4, trainers=5, usefulness=3
                    )
                    for p in people[:12]
                )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would after a load
    return {"programme": programme, "officer": officer, "today": today}


def naive_figures(programme: Any) -> dict[str, Counter[Any]]:
    """Every attended day loaded and counted in Python."""
    from training.models import Attendance

    counts: dict[str, Counter[Any]] = {
        key: Counter() for key in ("sex", "role", "course", "factory", "month")
    }
    rows = Attendance.objects.filter(
        programme=programme, day__session__cancelled_at__isnull=True
    ).select_related("participant", "day__session__course")
    for row in rows:
        counts["sex"][row.participant.sex] += 1
        counts["role"][row.participant.role] += 1
        counts["course"][row.day.session.course.title] += 1
        counts["factory"][row.participant.factory_id] += 1
        counts["month"][row.day.date.replace(day=1)] += 1
    return counts


def naive_entitlements(programme: Any, today: dt.date) -> list[tuple[int, int]]:
    """A count query per entitlement on the page."""
    from training.models import Attendance, Entitlement

    page = list(
        Entitlement.objects.filter(programme=programme)
        .select_related("factory")
        .order_by("factory__name", "-cycle")[:50]
    )
    return [
        (
            e.pk,
            Attendance.objects.filter(
                participant__factory=e.factory,
                day__date__range=(e.starts_on, e.ends_on),
                day__session__counts_toward_entitlement=True,
                day__session__cancelled_at__isnull=True,
            ).count(),
        )
        for e in page
    ]


def correlated_entitlements(programme: Any) -> Any:
    """One query whose days used are a count correlated to each row: the planner guesses the
    date range blind and scans every day of the programme for each entitlement."""
    from django.db.models import OuterRef

    from training.models import Attendance, Entitlement
    from training.selectors import SubqueryCount

    used = SubqueryCount(
        Attendance.objects.filter(
            participant__factory_id=OuterRef("factory_id"),
            day__date__gte=OuterRef("starts_on"),
            day__date__lte=OuterRef("ends_on"),
            day__session__counts_toward_entitlement=True,
            day__session__cancelled_at__isnull=True,
        ).values("pk")
    )
    return (
        Entitlement.objects.filter(programme=programme)
        .select_related("factory")
        .annotate(used=used)
        .order_by("factory__name", "-cycle")[:50]
    )


def run(sessions: int, factories: int, repeat: int) -> None:
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from betterwork import tenancy
    from training import selectors
    from training.models import Attendance

    built = build(sessions, factories)
    programme, today = built["programme"], built["today"]
    with tenancy.scope({programme.pk}), transaction.atomic():
        days = Attendance.objects.count()
        ours = selectors.training_figures(programme=programme, filters=selectors.FigureFilters())
        naive = naive_figures(programme)
        assert ours.totals["ptd"] == days == sum(naive["sex"].values())
        assert {r["participant__sex"]: r["ptd"] for r in ours.by_sex} == dict(naive["sex"])

        def page_with_use() -> list[Any]:
            ordered = selectors.entitlement_list(programme=programme, today=today).order_by(
                "factory__name", "-cycle"
            )
            return selectors.with_use(ordered[:50], today=today)

        assert [(e.pk, e.used) for e in page_with_use()] == naive_entitlements(programme, today)
        assert [e.used for e in correlated_entitlements(programme)] == [e.used for e in page_with_use()]
        print(
            f"{factories} factories, {sessions} sessions, {days:,} participant training days; {repeat} repeats"
        )
        report(
            "figures (7 grouped queries)",
            timed(
                lambda: selectors.training_figures(programme=programme, filters=selectors.FigureFilters()),
                repeat,
            ),
            timed(lambda: naive_figures(programme), max(3, repeat // 5)),
        )
        ours_page = timed(page_with_use, repeat)
        report(
            "entitlements page of 50 with use",
            ours_page,
            timed(lambda: naive_entitlements(programme, today), repeat),
        )
        report(
            "  against one query, counts per row",
            ours_page,
            timed(lambda: list(correlated_entitlements(programme)), max(3, repeat // 5)),
        )

    client = Client()
    client.force_login(built["officer"])
    for label, path in (
        ("figures page (request)", "/p/BM/training/figures/"),
        ("entitlements page (request)", "/p/BM/training/entitlements/?show=all"),
        ("sessions page (request)", "/p/BM/training/?show=past"),
    ):
        assert client.get(path).status_code == 200
        with CaptureQueriesContext(connection) as ctx:
            client.get(path)
        report(
            label,
            timed(lambda path=path: client.get(path), repeat),
            extra=f"{len(ctx.captured_queries)} SQL statements",
        )


if __name__ == "__main__":
    sys.exit(main())
