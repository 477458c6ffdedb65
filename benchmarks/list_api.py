"""Benchmark: the list APIs, a deep page by its cursor against the same page by OFFSET, and the
buyer's factory list against asking each factory's figures one by one, in one run.

Run on the scale data set (``manage.py seed_scale``):
    .venv/bin/python -m benchmarks.list_api --database betterwork_scale [--programme CODE] [--depth 40]
        [--buyer-factories 300] [--repeat 30]
or on a throwaway database it builds (small; CI runs it so):
    .venv/bin/python -m benchmarks.list_api --factories 12 --cycles 2 --page-size 3 --depth 3 \
        --buyer-factories 4 --repeat 2

As a programme manager (a temporary user, grant and API token, removed at the end) it measures,
p50 / p95 / p99 and the SQL statements of one request (BEGIN, set_config and COMMIT included):
- the factory list and the assessment list of the API at page 1 and at page ``--depth``, reached by
  following the cursor ``next`` links (the deep page's URL is kept and requested again);
- their naive twin: the same pages by OFFSET (DRF's LimitOffsetPagination, with its COUNT) through
  the same view, scope and serializer (``benchmarks.list_api_urls``).
As a buyer subscribed to ``--buyer-factories`` factories (organisation, user, subscriptions and
consents made through the services, inside a transaction rolled back at the end, so nothing of it
stays, audit rows included):
- the portal page ``/buyer/`` and ``/api/v1/buyer/factories/``;
- the list's data by ``buyers.selectors.buyer_factories`` against the naive way: each factory's
  access rows, latest readable assessment, cluster figures, plan and reports asked one by one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
from dataclasses import dataclass
from typing import Any

from benchmarks.assessment_form import timed
from benchmarks.dashboard import percentile

BOOKKEEPING = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="An existing database to read (e.g. betterwork_scale).")
    parser.add_argument("--programme", help="Its programme code (default: the first).")
    parser.add_argument("--depth", type=int, default=40, help="the deep page's number")
    parser.add_argument("--page-size", type=int, help="rows per page (default: the API's own, 50)")
    parser.add_argument("--buyer-factories", type=int, default=300)
    parser.add_argument("--factories", type=int, default=120, help="throwaway database: factories")
    parser.add_argument("--cycles", type=int, default=3, help="throwaway database: cycles per factory")
    parser.add_argument("--questions", type=int, default=30, help="throwaway database: questions")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)

    # The buyers' API is throttled per hour: the benchmark asks it far more often than a buyer.
    os.environ["API_BUYER_RATE"] = "1000000/hour"
    if args.database:
        os.environ["DATABASE_URL"] = f"postgres://betterwork@127.0.0.1:5432/{args.database}"
    # Production settings with DEBUG off, less what a test client cannot do (HTTPS redirects).
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection, reset_queries
    from django.test.utils import override_settings, setup_test_environment

    setup_test_environment()
    # As Django's test runner does: requests must not close the connection under the measurement.
    request_started.disconnect(close_old_connections)
    request_started.disconnect(reset_queries)
    request_finished.disconnect(close_old_connections)
    if args.page_size:  # small data sets need small pages to have deep ones
        from assessments.api import AssessmentPagination
        from factories.api import FactoryPagination

        FactoryPagination.page_size = AssessmentPagination.page_size = args.page_size
    with override_settings(ROOT_URLCONF="benchmarks.list_api_urls"):
        if args.database:
            run(args.programme, args.depth, args.buyer_factories, args.repeat)
            return 0
        old_name = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            code = build(args.factories, args.cycles, args.questions)
            run(code, args.depth, args.buyer_factories, args.repeat)
        finally:
            connection.close()
            connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


def build(factories: int, cycles: int, questions: int) -> str:
    """The dashboard benchmark's programme (every assessment final, with answers), its assessments
    published and each assessed by two advisors."""
    from django.db import transaction
    from django.utils import timezone

    from assessments.models import Assessment, AssessmentAssessor
    from benchmarks import dashboard
    from betterwork import tenancy
    from betterwork.models import Programme, Role, RoleGrant, User

    code = dashboard.build(factories, cycles, questions)
    programme = Programme.objects.get(code=code)
    advisors = [User.objects.create_user(f"advisor{n}@bench.example", "pass") for n in range(2)]
    for advisor in advisors:
        RoleGrant.objects.create(user=advisor, role=Role.ADVISOR, programme=programme)
    with tenancy.scope({programme.pk}), transaction.atomic():
        Assessment.objects.update(status="published", published_at=timezone.now())
        AssessmentAssessor.objects.bulk_create(
            AssessmentAssessor(programme=programme, assessment_id=pk, user=advisor, lead=n == 0)
            for pk in Assessment.objects.values_list("pk", flat=True)
            for n, advisor in enumerate(advisors)
        )
    return code


# --- Measuring requests ---------------------------------------------------------------------------


@dataclass
class Measured:
    samples: list[float]
    statements: int
    sql: list[str]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)


def statements_of(captured: list[dict[str, Any]], *, nested: bool) -> list[str]:
    """The statements of one request as it runs on its own. Inside the benchmark's own transaction
    (``nested``) a request's transaction is a savepoint and the scope is written on entering and
    again on leaving; on its own the same request runs BEGIN, one set_config and COMMIT instead."""
    sql = [q["sql"] for q in captured]
    if not nested:
        return sql
    sql = [s for s in sql if not s.startswith(BOOKKEEPING)]
    scope_writes = [i for i, s in enumerate(sql) if s.startswith("SELECT set_config(")]
    if scope_writes:
        del sql[scope_writes[-1]]
    return ["BEGIN", *sql, "COMMIT"]


def measure(client: Any, url: str, repeat: int, *, nested: bool = False, **headers: Any) -> Measured:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get() -> Any:
        response = client.get(url, **headers)
        assert response.status_code == 200, (url, response.status_code)
        return response

    get()  # warm: the first request loads templates and caches the programme
    with CaptureQueriesContext(connection) as captured:
        get()
    sql = statements_of(captured.captured_queries, nested=nested)
    return Measured(timed(get, repeat), len(sql), sql)


def line(label: str, measured: Measured, extra: str = "") -> None:
    samples = measured.samples
    print(
        f"{label:46s} p50 {statistics.median(samples):7.1f} ms  p95 {percentile(samples, 0.95):7.1f} ms"
        f"  p99 {percentile(samples, 0.99):7.1f} ms  {measured.statements:3d} SQL statements{extra}"
    )


def ratio(label: str, numerator: Measured, denominator: Measured) -> None:
    print(f"  {label}: {numerator.p50 / denominator.p50:.2f}x (p50)")


def follow(client: Any, url: str, depth: int, **headers: Any) -> str:
    """The URL of page ``depth``, reached by following ``next`` from page 1."""
    for page in range(1, depth):
        following = client.get(url, **headers).json()["next"]
        if not following:
            sys.exit(f"{url} is the last page ({page}): not enough rows for page {depth}.")
        url = following
    return url


def ids(client: Any, url: str, **headers: Any) -> list[int]:
    return [row["id"] for row in client.get(url, **headers).json()["results"]]


# --- The run ---------------------------------------------------------------------------------


def run(code: str | None, depth: int, buyer_factories: int, repeat: int) -> None:
    from django.db import connection, transaction
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from assessments.api import AssessmentPagination
    from betterwork import tenancy
    from betterwork.models import Programme, Role, RoleGrant, User
    from factories.api import FactoryPagination

    if code is None:
        with connection.cursor() as cursor:  # the scale set's programmes are alike: take the first
            cursor.execute("SELECT code FROM betterwork_programme ORDER BY id LIMIT 1")
            code = cursor.fetchone()[0]
    programme = Programme.objects.get(code=code)
    manager = User.objects.create_user(f"bench-lists-{code.lower()}@bench.example", "pass")
    RoleGrant.objects.create(user=manager, role=Role.PROGRAMME_MANAGER, programme=programme)
    token = Token.objects.create(user=manager)
    session = Client()
    try:
        session.force_login(manager)
        api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
        for name, size in (
            ("factories", FactoryPagination.page_size),
            ("assessments", AssessmentPagination.page_size),
        ):
            first = f"/api/v1/p/{code}/{name}/"
            deep = follow(api, first, depth)
            offset = f"/api/v1/p/{code}/by-offset/{name}/?limit={size}&offset={(depth - 1) * size}"
            assert ids(api, deep) == ids(api, offset), f"page {depth} of {name}: cursor and offset differ"
            print(f"The {name} API of {code}, {size} rows a page, page 1 and page {depth} (token)")
            ours_first = measure(api, first, repeat)
            ours_deep = measure(api, deep, repeat)
            theirs_first = measure(
                api, first.replace(f"/{name}/", f"/by-offset/{name}/") + f"?limit={size}", repeat
            )
            theirs_deep = measure(api, offset, repeat)
            by_session = measure(session, first, 1)
            line("  page 1 by cursor", ours_first)
            line(f"  page {depth} by cursor (saved next link)", ours_deep)
            line("  page 1 by OFFSET (with COUNT)", theirs_first)
            line(f"  page {depth} by OFFSET (with COUNT)", theirs_deep)
            print(f"  signed in with a session instead of a token: {by_session.statements} SQL statements")
            ratio(f"page {depth} / page 1, by cursor (bar: 1.5x)", ours_deep, ours_first)
            ratio(f"page {depth}: OFFSET / cursor", theirs_deep, ours_deep)
            if ours_first.statements > 4:
                print("  statements of page 1:\n" + "\n".join(f"    {s[:160]}" for s in ours_first.sql))
    finally:
        session.logout()  # its session row goes too
        with tenancy.scope({programme.pk}), transaction.atomic():
            Token.objects.filter(user=manager).delete()
            RoleGrant.objects.filter(user=manager).delete()
            manager.delete()
    buyer_list(buyer_factories, repeat)


# --- The buyer's factory list ---------------------------------------------------------------


def chosen_factories(count: int) -> list[tuple[Any, int]]:
    """``count`` factories spread over (up to) three programmes, each with the cycle of its latest
    published assessment."""
    from assessments.models import Assessment, AssessmentStatus
    from betterwork import tenancy
    from betterwork.models import Programme
    from factories.models import Factory

    programmes = list(Programme.objects.order_by("pk")[:3])
    chosen: list[tuple[Any, int]] = []
    for n, programme in enumerate(programmes):
        share = count // len(programmes) + (n < count % len(programmes))
        with tenancy.scope({programme.pk}):
            latest = (
                Assessment.objects.filter(programme=programme, status=AssessmentStatus.PUBLISHED)
                .order_by("factory_id", "-cycle")
                .distinct("factory_id")
                .values_list("factory_id", "cycle")[:share]
            )
            cycles = dict(latest)
            plants = Factory.objects.filter(pk__in=cycles).select_related("programme").order_by("pk")
            chosen += [(plant, cycles[plant.pk]) for plant in plants]
    return chosen


def subscribe(count: int) -> tuple[Any, Any]:
    """A buyer organisation and user, subscribed (requested and activated by the programme's
    manager) to the latest published cycle of ``count`` factories that each consent."""
    from betterwork import tenancy
    from betterwork.models import Role, RoleGrant, User
    from betterwork.permissions import Principal
    from buyers import services
    from buyers.models import Buyer

    chosen = chosen_factories(count)
    brand = Buyer.objects.create(name="Benchmark Apparel", headquarters_country="Nowhere")
    buyer = User.objects.create_user("bench-buyer@bench.example", "pass")
    RoleGrant.objects.create(user=buyer, role=Role.BUYER, buyer=brand)
    staff = User.objects.create_user("bench-buyer-manager@bench.example", "pass")
    people = User.objects.create_user("bench-buyer-factories@bench.example", "pass")
    for programme_id in {plant.programme_id for plant, _ in chosen}:
        RoleGrant.objects.create(user=staff, role=Role.PROGRAMME_MANAGER, programme_id=programme_id)
    RoleGrant.objects.bulk_create(
        RoleGrant(user=people, role=Role.FACTORY, programme_id=plant.programme_id, factory=plant)
        for plant, _ in chosen
    )
    as_buyer, as_manager, as_factory = (Principal.for_user(u) for u in (buyer, staff, people))
    for plant, cycle in chosen:
        today = plant.programme.today()
        with tenancy.scope({plant.programme_id}):
            subscription = services.subscription_request(
                actor=as_buyer, buyer=brand, factory=plant, cycle=cycle
            )
            services.subscription_activate(
                actor=as_manager,
                subscription=subscription,
                starts_on=today - dt.timedelta(days=10),
                ends_on=today + dt.timedelta(days=300),
            )
            services.consent_set(actor=as_factory, factory=plant, buyer=brand, granted=True)
    return buyer, as_buyer


def naive_buyer_factories(principal: Any) -> list[tuple[int, int | None, list[tuple[str, int, int]]]]:
    """The buyer's list with each factory asked one by one: its access rows, its latest readable
    published assessment, that assessment's cluster figures, its plan and its new reports."""
    from django.utils import timezone

    from advisory.models import ImprovementPlan
    from advisory.selectors import plan_summaries
    from assessments.models import Assessment, AssessmentStatus
    from buyers import access, selectors

    today = timezone.localdate()
    since = timezone.now() - dt.timedelta(days=selectors.NEW_FOR_DAYS)
    order = (
        access.live_rows(principal)
        .order_by("factory_name", "factory_id")
        .values_list("factory_id", flat=True)
    )
    rows = []
    for factory_id in dict.fromkeys(order):
        subscribed = list(
            access.live_rows(principal).filter(factory_id=factory_id).select_related("programme")
        )
        readable = [
            r.cycle
            for r in subscribed
            if r.consented and r.valid_from and r.valid_until and r.valid_from <= today <= r.valid_until
        ]
        assessment = (
            Assessment.objects.filter(
                factory_id=factory_id, cycle__in=readable, status=AssessmentStatus.PUBLISHED
            )
            .order_by("-cycle")
            .first()
        )
        clusters = (
            selectors.cluster_figures(assessment_ids=[assessment.pk]).get(assessment.pk, [])
            if assessment
            else []
        )
        plan = (
            ImprovementPlan.objects.filter(factory_id=factory_id, cycle__in=readable)
            .order_by("-cycle")
            .first()
        )
        if plan:
            plan_summaries(plan_ids=[plan.pk], today=today)
        if assessment:
            jobs = selectors.report_jobs(targets=[(selectors.ASSESSMENT_KIND, assessment.pk)])
            sum(1 for job in jobs if job.finished_at and job.finished_at >= since)
        rows.append(
            (
                factory_id,
                max(readable) if readable else None,
                [(c.cluster.code, c.points_assessed, c.points_non_compliant) for c in clusters],
            )
        )
    return rows


def buyer_list(count: int, repeat: int) -> None:
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from betterwork import tenancy
    from buyers import access, selectors

    with transaction.atomic():
        buyer, principal = subscribe(count)
        client = Client()
        client.force_login(buyer)
        page = measure(client, "/buyer/", repeat, nested=True)
        api = measure(client, "/api/v1/buyer/factories/", repeat, nested=True)
        listed = len(client.get("/api/v1/buyer/factories/").json())
        print(
            f"The buyer's factory list, {listed} factories subscribed and consenting, in 3 programmes or fewer"
        )
        line("  /buyer/ (the portal page)", page)
        line("  /api/v1/buyer/factories/", api)
        with tenancy.scope(access.scope_for(principal)):

            def ours() -> list[tuple[int, int | None, list[tuple[str, int, int]]]]:
                return [
                    (
                        r.factory.pk,
                        r.latest_cycle,
                        [(c.cluster.code, c.points_assessed, c.points_non_compliant) for c in r.clusters],
                    )
                    for r in selectors.buyer_factories(principal=principal)
                ]

            assert ours() == naive_buyer_factories(principal), "the naive buyer list differs"
            counted: dict[str, int] = {}
            for label, fn in (("ours", ours), ("naive", lambda: naive_buyer_factories(principal))):
                with CaptureQueriesContext(connection) as captured:
                    fn()
                counted[label] = len(captured)
            selector = Measured(timed(ours, repeat), counted["ours"], [])
            naive = Measured(
                timed(lambda: naive_buyer_factories(principal), max(3, repeat // 5)), counted["naive"], []
            )
        line("  the list's data: grouped queries", selector)
        line("  the list's data: each factory asked alone", naive)
        ratio("naive / grouped", naive, selector)
        client.logout()
        transaction.set_rollback(True)  # nothing of the buyer stays: rows, audit events, session


if __name__ == "__main__":
    sys.exit(main())
