"""Benchmark: opening the advisor's form and autosaving answers, against the naive way.

Run:  DEBUG=1 .venv/bin/python -m benchmarks.assessment_form [--questions 250] [--repeat 30]
It builds a throwaway test database, a published tool of N questions and an assessment in
progress, then measures in the same run:
- opening a cluster page (p50/p95 over the requests, and SQL statements), and the form's data
  built by our selector against a naive one that queries each question's answer, point and
  cluster one by one;
- autosaving 1, 5 and 25 answers in one request, against saving them one request each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def report(label: str, ours: list[float], naive: list[float] | None = None, extra: str = "") -> None:
    line = (
        f"{label:42s} p50 {statistics.median(ours):7.1f} ms  p95 {percentile(ours, 0.95):7.1f} ms"
        f"  p99 {percentile(ours, 0.99):7.1f} ms"
    )
    if naive:
        line += f"  | naive p50 {statistics.median(naive):7.1f} ms  ratio {statistics.median(naive) / statistics.median(ours):5.1f}x"
    print(line + (f"  {extra}" if extra else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=250)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    # As Django's test runner does: requests must not close the connection under the measurement.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, reset_queries

    request_started.disconnect(close_old_connections)
    request_started.disconnect(reset_queries)  # else the statement count of a request reads zero
    request_finished.disconnect(close_old_connections)
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args.questions, args.repeat)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


def run(count: int, repeat: int) -> None:
    import yaml
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from assessments import lifecycle, selectors, services
    from assessments.models import Answer, Question
    from betterwork import tenancy
    from betterwork.models import Programme, Role, RoleGrant, User
    from betterwork.permissions import Principal
    from factories.models import Factory

    tool_dir = os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "assessments", "tool"
    )
    with open(os.path.join(tool_dir, "points.yaml"), encoding="utf-8") as points_file:
        points_data = yaml.safe_load(points_file)
    services.points_load(data=points_data)
    points = [p["code"] for c in points_data["clusters"] for p in c["points"]]
    programme = Programme.objects.create(
        code="BM", name="Benchmark programme", country="Nowhere", languages=["en"]
    )
    services.tool_load(
        data={
            "tool": "BM",
            "version": "1",
            "effective_from": dt.date(2020, 1, 1),
            "questions": [
                {
                    "key": f"Q-{n:03d}",
                    "point": points[n * len(points) // count],
                    "noncompliant_answer": "yes",
                    "flags": [],
                    "text": {"en": f"Question number {n}?"},
                    "guidance": {"en": "Look."},
                }
                for n in range(count)
            ],
        },
        publish=True,
    )
    users = []
    for n in range(2):
        user = User.objects.create_user(
            f"assessor{n}@bench.example", "bench-pass-1", full_name=f"Assessor {n}"
        )
        RoleGrant.objects.create(user=user, role=Role.ADVISOR, programme=programme)
        users.append(user)
    with tenancy.scope({programme.pk}), transaction.atomic():
        factory = Factory(
            programme=programme,
            public_id="BM000018",
            name="Bench Garments",
            workers_female=10,
            workers_male=10,
        )
        factory.save()
        principal = Principal.for_user(users[0])
        assessment = lifecycle.assessment_plan(
            actor=principal, factory=factory, planned_date=dt.date(2026, 1, 5), assessors=users
        )
        lifecycle.assessment_transition(
            actor=principal, assessment=assessment, to="in_progress", expected_version=1
        )
    questions = list(Question.objects.filter(version__tool="BM").order_by("order"))
    first_cluster = selectors.question_of(
        assessment=assessment, question_id=questions[0].pk
    ).point.cluster.code

    client = Client()
    client.force_login(users[0])
    page = f"/p/BM/assessments/{assessment.pk}/clusters/{first_cluster}/"
    client.get(page)
    with CaptureQueriesContext(connection) as queries:
        client.get(page)
    print(
        f"Opening the form ({count} questions in the tool, {len(questions) // len(points) or 1}+ per point)"
    )
    report(
        "GET a cluster page", timed(lambda: client.get(page), repeat), extra=f"{len(queries)} SQL statements"
    )

    def naive_form() -> list[tuple[Any, Any, Any, Any]]:
        rows = []
        for question in Question.objects.filter(version_id=assessment.tool_version_id).order_by("order"):
            answer = Answer.objects.filter(assessment=assessment, question=question).first()
            point = question.point
            rows.append((question, answer, point, point.cluster))
        return rows

    with tenancy.scope({programme.pk}), transaction.atomic():
        ours = timed(lambda: selectors.assessment_form(assessment=assessment), repeat)
        naive = timed(naive_form, repeat)
    report("the form's data (selector vs per question)", ours, naive)

    print("Autosaving answers")
    api = f"/api/v1/p/BM/assessments/{assessment.pk}/answers/"
    versions: dict[int, int] = {}

    def save(batch: list[Question], value: str) -> None:
        body = {
            "answers": [{"question": q.pk, "value": value, "version": versions.get(q.pk, 0)} for q in batch]
        }
        response = client.post(api, body, content_type="application/json")
        assert response.status_code == 200, response.content
        for item in response.json():
            versions[item["question"]] = item["version"]

    for size in (1, 5, 25):
        batch = questions[:size]
        values = itertools.cycle(["C", "NA"])
        ours = timed(lambda batch=batch, values=values: save(batch, next(values)), repeat)
        naive = timed(
            lambda batch=batch, values=values: [save([q], next(values)) for q in batch], max(3, repeat // 5)
        )
        report(f"save {size:2d} answer(s): one request vs one each", ours, naive)

    # The page's autosave: one question's form posted by HTMX, answered with its saved state.
    question = questions[-1]

    def save_from_page() -> None:
        prefix = f"q{question.pk}"
        response = client.post(
            f"/p/BM/assessments/{assessment.pk}/answers/{question.pk}/",
            {
                f"{prefix}-question": question.pk,
                f"{prefix}-version": versions.get(question.pk, 0),
                f"{prefix}-value": "C",
                f"{prefix}-finding": "",
            },
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 200, response.content
        versions[question.pk] = versions.get(question.pk, 0) + 1

    report("save 1 answer from the page (HTMX)", timed(save_from_page, repeat))
    return None


if __name__ == "__main__":
    sys.exit(main())
