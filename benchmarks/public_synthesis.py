"""Benchmark: a public synthesis report page, from its frozen figures, against the same figures
computed from the answers on every request, in one run.

Run on the scale data set:
    .venv/bin/python -m benchmarks.public_synthesis --database betterwork_scale [--repeat 30]
or on a throwaway database it builds (small; CI runs it so):
    .venv/bin/python -m benchmarks.public_synthesis --factories 40 --cycles 3 --questions 30 --repeat 3

A manager (made for the run) composes and publishes a report of every cycle; a visitor, not signed
in, opens its public page. Everything the run writes is rolled back at the end (the services also
write audit rows, which the platform's role may not delete). Prints p50 / p95 / p99 and the ratio.
"""

from __future__ import annotations

import argparse
import sys

from benchmarks.dashboard import NAIVE_SQL, build, compare, setup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="An existing database with rollups (e.g. betterwork_scale).")
    parser.add_argument("--programme", help="Its programme code (default: the first).")
    parser.add_argument("--factories", type=int, default=40)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    return setup(args, build, run)


def run(code: str | None, repeat: int) -> None:
    from django.db import connection, transaction
    from django.test import Client

    from betterwork import tenancy
    from betterwork.models import Programme, Role, RoleGrant, User
    from betterwork.permissions import Principal
    from reporting import synthesis_services
    from reporting.models import CountedAssessment

    programme = Programme.objects.get(code=code) if code else Programme.objects.order_by("id").first()
    assert programme is not None
    with transaction.atomic():  # rolled back at the end: the run leaves nothing behind
        manager = User.objects.create_user(f"bench-synthesis-{programme.code.lower()}@bench.example", "pass")
        RoleGrant.objects.create(user=manager, role=Role.PROGRAMME_MANAGER, programme=programme)
        with tenancy.scope({programme.pk}):
            cycles = sorted(
                set(CountedAssessment.objects.filter(programme=programme).values_list("cycle", flat=True))
            )
            actor = Principal.for_user(manager)
            draft = synthesis_services.synthesis_create(
                actor=actor,
                programme=programme,
                data=synthesis_services.SynthesisInput(
                    title="Benchmark report", scope="cycles", cycles=cycles
                ),
            )
            report = synthesis_services.synthesis_publish(
                actor=actor, report=draft, expected_version=draft.version
            )
        print(f"Programme {programme.code}: a report of cycles {cycles}")
        visitor = Client()
        url = f"/public/{programme.code}/synthesis/{report.pk}/"

        def page() -> None:
            response = visitor.get(url, secure=True)
            assert response.status_code == 200, response.status_code

        def naive() -> None:
            with tenancy.scope({programme.pk}), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(NAIVE_SQL, {"programme": programme.pk})
                cursor.fetchall()

        compare(
            "public synthesis page (frozen figures)",
            page,
            "same figures by GROUP BY over answers",
            naive,
            repeat,
        )
        transaction.set_rollback(True)


if __name__ == "__main__":
    sys.exit(main())
