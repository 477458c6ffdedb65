"""Benchmark: the programme dashboard from rollups, against the same figures by GROUP BY over the
answers, in one run.

Run on the scale data set (``manage.py seed_scale``, then ``manage.py rollups_rebuild``):
    .venv/bin/python -m benchmarks.dashboard --database betterwork_scale [--programme CODE] [--repeat 30]
or on a throwaway database it builds (small; CI runs it so):
    .venv/bin/python -m benchmarks.dashboard --factories 40 --cycles 3 --questions 30 --repeat 3

It measures, p50 / p95 / p99:
- the dashboard page as its manager opens it (every request through the middleware, the scope and
  the template), which reads rollups only;
- the figures the page shows (non-compliance per compliance point, per question, per cluster and
  cycle) computed by the naive way: each factory's latest final assessment per cycle picked, then
  GROUP BY over its answers;
and prints the ratio of the medians.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
from typing import Any

from benchmarks.assessment_form import timed

NAIVE_SQL = """
WITH latest AS (
  SELECT DISTINCT ON (factory_id, cycle) id, cycle FROM assessments_assessment
  WHERE programme_id = %(programme)s AND status IN ('final', 'published')
  ORDER BY factory_id, cycle, final_at DESC NULLS LAST, id DESC),
answered AS (
  SELECT latest.cycle, an.assessment_id, q.key, q.point_id, an.value = 'NC' AS nc
  FROM assessments_answer AS an
  JOIN latest ON latest.id = an.assessment_id
  JOIN assessments_question AS q ON q.id = an.question_id
  WHERE an.programme_id = %(programme)s AND an.value IN ('C', 'NC'))
SELECT 'point', point_id::text, NULL::int, count(*), count(*) FILTER (WHERE nc) FROM (
  SELECT assessment_id, point_id, bool_or(nc) AS nc FROM answered GROUP BY assessment_id, point_id) p
  GROUP BY point_id
UNION ALL
SELECT 'question', key, NULL, count(*), count(*) FILTER (WHERE nc) FROM answered GROUP BY key
UNION ALL
SELECT 'trend', point_id::text, cycle, count(*), count(*) FILTER (WHERE nc) FROM (
  SELECT cycle, assessment_id, point_id, bool_or(nc) AS nc FROM answered
  GROUP BY cycle, assessment_id, point_id) t
  GROUP BY point_id, cycle
"""


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def line(label: str, samples: list[float]) -> str:
    return (
        f"{label:44s} p50 {statistics.median(samples):8.1f} ms  p95 {percentile(samples, 0.95):8.1f} ms"
        f"  p99 {percentile(samples, 0.99):8.1f} ms"
    )


def compare(ours_label: str, ours: Any, naive_label: str, naive: Any, repeat: int) -> None:
    """Time our way (after one warming call: templates, translations) and the naive way (a fifth
    as often: it is slow) in the same run, and print both and the ratio of their medians."""
    ours()
    fast = timed(ours, repeat)
    slow = timed(naive, max(3, repeat // 5))
    print(line(ours_label, fast))
    print(line(naive_label, slow))
    print(f"ratio (median): {statistics.median(slow) / statistics.median(fast):.1f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="An existing database with rollups (e.g. betterwork_scale).")
    parser.add_argument("--programme", help="Its programme code (default: the one with most answers).")
    parser.add_argument("--factories", type=int, default=40)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    return setup(args, build, run)


def setup(args: argparse.Namespace, build: Any, run: Any) -> int:
    """Django on the named database (production settings), or on a throwaway one built small;
    then ``run(programme code, repeat)``. Shared by the benchmarks that read the scale data set."""
    if args.database:
        os.environ["DATABASE_URL"] = f"postgres://betterwork@127.0.0.1:5432/{args.database}"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "betterwork.settings")
        # Measured as in production: no debug toolbar of queries kept, no template debugging.
        os.environ["DEBUG"] = "0"
        os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 40)
        os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.conf import settings

    # Static files are served from the source folders: no collected manifest is needed here.
    settings.STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection, reset_queries
    from django.test.utils import setup_test_environment

    setup_test_environment()
    request_started.disconnect(close_old_connections)
    request_started.disconnect(reset_queries)
    request_finished.disconnect(close_old_connections)
    if args.database:
        run(args.programme, args.repeat)
        return 0
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        code = build(args.factories, args.cycles, args.questions)
        run(code, args.repeat)
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


def build(factories: int, cycles: int, questions: int) -> str:
    """A programme with a tool of ``questions`` questions and ``factories`` factories assessed in
    ``cycles`` cycles, every assessment final, its rollups rebuilt."""
    import datetime as dt

    import yaml
    from django.db import transaction
    from django.utils import timezone

    from assessments import services as tool_services
    from assessments.models import Answer, Assessment, CompliancePoint, Question
    from betterwork import tenancy
    from betterwork.models import Programme
    from factories.models import Factory
    from reporting import rollups
    from tests.conftest import TOOL_DIR

    rng = random.Random(2026)
    tool_services.points_load(data=yaml.safe_load((TOOL_DIR / "points.yaml").read_text()))
    points = list(CompliancePoint.objects.values_list("code", flat=True))
    version, _ = tool_services.tool_load(
        data={
            "tool": "global",
            "version": "bench",
            "effective_from": dt.date(2020, 1, 1),
            "questions": [
                {
                    "key": f"B{n:03d}",
                    "point": points[n % len(points)],
                    "noncompliant_answer": "yes",
                    "flags": [],
                    "text": {"en": f"Benchmark question {n}?"},
                }
                for n in range(questions)
            ],
        },
        publish=True,
    )
    programme = Programme.objects.create(code="BM", name="Benchmark programme", country="Nowhere")
    tool = list(Question.objects.filter(version=version))
    with tenancy.scope({programme.pk}), transaction.atomic():
        plants = Factory.objects.bulk_create(
            Factory(
                programme=programme, public_id=f"BM{n:05d}0", name=f"Factory {n:04d}", region=f"Zone {n % 5}"
            )
            for n in range(factories)
        )
        for cycle in range(1, cycles + 1):
            assessments = Assessment.objects.bulk_create(
                Assessment(
                    programme=programme,
                    factory=plant,
                    tool_version=version,
                    cycle=cycle,
                    status="final",
                    planned_date=dt.date(2020 + cycle, 3, 1),
                    final_at=timezone.now(),
                )
                for plant in plants
            )
            Answer.objects.bulk_create(
                Answer(
                    programme=programme,
                    assessment=assessment,
                    question=question,
                    value="NC" if rng.random() < 0.15 else "C",
                    finding="Seen.",
                )
                for assessment in assessments
                for question in tool
            )
        rollups.rebuild(programme)
    return "BM"


def run(code: str | None, repeat: int) -> None:
    from django.db import connection, transaction
    from django.test import Client

    from betterwork import tenancy
    from betterwork.models import Programme, Role, RoleGrant, User

    if code is None:
        with connection.cursor() as cursor:  # the scale set's programmes are alike: take the first
            cursor.execute("SELECT code FROM betterwork_programme ORDER BY id LIMIT 1")
            code = cursor.fetchone()[0]
    programme = Programme.objects.get(code=code)
    with tenancy.scope({programme.pk}), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), sum(cardinality(questions_assessed)) FROM reporting_countedassessment"
            " WHERE programme_id = %s",
            [programme.pk],
        )
        counted, answers = cursor.fetchone()
    if not counted:
        sys.exit(f"No rollups in {code}: run manage.py rollups_rebuild {code} first.")
    print(
        f"Programme {code}: {counted:,} assessments counted, {answers or 0:,} answers (C or NC) behind them"
    )

    manager = User.objects.create_user(f"bench-{programme.code.lower()}@bench.example", "pass")
    RoleGrant.objects.create(user=manager, role=Role.PROGRAMME_MANAGER, programme=programme)
    try:
        client = Client()
        client.force_login(manager)
        url = f"/p/{programme.code}/dashboard/"

        def page() -> None:
            response = client.get(url, secure=True)  # production settings redirect plain HTTP
            assert response.status_code == 200, response.status_code

        def naive() -> None:
            with tenancy.scope({programme.pk}), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(NAIVE_SQL, {"programme": programme.pk})
                cursor.fetchall()

        compare("dashboard page from rollups", page, "same figures by GROUP BY over answers", naive, repeat)
    finally:
        with tenancy.scope({programme.pk}), transaction.atomic():
            RoleGrant.objects.filter(user=manager).delete()
            manager.delete()


if __name__ == "__main__":
    sys.exit(main())
