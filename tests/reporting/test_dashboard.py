"""The programme dashboard reads rollups only, counts what its rules say, drills down to the
factories behind a figure, exports its tables, and shows nothing to those without a grant."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from betterwork import tenancy
from betterwork.models import Role
from reporting import rollups
from tests.model_factories import FactoryFactory, user_with_role
from tests.reporting.test_rollups import make_assessment, wide_tool  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def counted(kh, wide_tool):  # noqa: F811
    """Three factories: two final (one with a draft of the next cycle), one never assessed."""
    from django.db import transaction

    with tenancy.scope({kh.pk}), transaction.atomic():
        north = FactoryFactory(programme=kh, name="North Garments", region="North", union_present=True)
        south = FactoryFactory(programme=kh, name="South Textiles", region="South")
        FactoryFactory(programme=kh, name="Quiet Knitwear", region="South")
        # Questions Q0..Q7, two per point (CL, OSH, WT, FA): C=compliant, N=non-compliant, A=n/a.
        rollups.count_final(make_assessment(north, wide_tool, cycle=1, values="NCCCNNAA"))
        rollups.count_final(make_assessment(south, wide_tool, cycle=1, values="CCNCCCCN"))
        make_assessment(south, wide_tool, cycle=2, values="NNNNNNNN", status="in_review")
    return {"north": north, "south": south}


def test_the_dashboard_counts_by_the_rules_and_never_reads_answers(kh, counted, kh_manager):
    client = client_for(kh_manager)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/p/KH/dashboard/")
    assert page.status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if "assessments_answer" in q["sql"]]
    html = page.content.decode()
    # Two factories counted; the draft of cycle 2 is nowhere.
    assert '<span class="stat__value">2</span><span class="stat__label">factories assessed' in html
    assert "Cycle 2" not in html
    # Child labour: its point assessed in both (Q0 N / Q1 C, Q0 C / Q1 C): 1 of 2 = 50%.
    # Working time: Q4,Q5 N,N in north and C,C in south: 50%. Freedom of association: Q6,Q7 A,A in
    # north (not assessed) and C,N in south: 1 of 1 = 100%.
    assert "50%" in html and "100%" in html
    # Top issues: Q7 (1 of 1) first.
    top = html.split('id="top"')[1]
    assert top.index("Q7") < top.index("Q0")


def test_filters_and_the_query_count_stay_flat(kh, counted, kh_manager, wide_tool):  # noqa: F811
    client = client_for(kh_manager)
    north = client.get("/p/KH/dashboard/?region=North").content.decode()
    assert '<span class="stat__value">1</span><span class="stat__label">factories assessed' in north
    union = client.get("/p/KH/dashboard/?union=no").content.decode()
    assert '<span class="stat__value">1</span><span class="stat__label">factories assessed' in union
    assert client.get("/p/KH/dashboard/?cycle=9").status_code == 200  # not a choice: all figures

    with CaptureQueriesContext(connection) as few:
        client.get("/p/KH/dashboard/")
    from django.db import transaction

    with tenancy.scope({kh.pk}), transaction.atomic():
        for n in range(10):
            factory = FactoryFactory(programme=kh, region=f"Zone {n}")
            rollups.count_final(make_assessment(factory, wide_tool, cycle=1 + n % 3, values="NNCCAANC"))
    with CaptureQueriesContext(connection) as many:
        client.get("/p/KH/dashboard/")
    assert len(many.captured_queries) == len(few.captured_queries)


def test_drill_down_and_exports(kh, counted, kh_manager):
    client = client_for(kh_manager)
    every = client.get("/p/KH/dashboard/questions/?region=South").content.decode()
    assert "Question 7?" in every and "Question 0?" in every  # all questions, the south's rates
    assert every.index("Question 7?") < every.index("Question 0?")  # highest rate first
    behind = client.get("/p/KH/dashboard/factories/?question=Q0")
    assert behind.status_code == 200
    html = behind.content.decode()
    assert "North Garments" in html and "South Textiles" not in html
    by_point = client.get("/p/KH/dashboard/factories/?question=Q7").content.decode()
    assert "South Textiles" in by_point and "North Garments" not in by_point
    assert client.get("/p/KH/dashboard/factories/?question=NOPE").status_code == 404
    assert client.get("/p/KH/dashboard/factories/").status_code == 404

    exported = client.get("/p/KH/dashboard/?export=questions&format=csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Question" and {r[0] for r in rows[1:]} >= {"Q0", "Q7"}
    q7 = next(r for r in rows if r[0] == "Q7")
    assert q7[2:] == ["1", "1", "100.0"]
    sheet = load_workbook(
        io.BytesIO(client.get("/p/KH/dashboard/?export=clusters&format=xlsx").content)
    ).active
    assert sheet.cell(1, 1).value == "Cluster" and sheet.max_row > 2
    assert client.get("/p/KH/dashboard/?export=nothing").status_code == 404
    assert client.get("/p/KH/dashboard/?export=trends&format=pdf").status_code == 404
    factories = client.get("/p/KH/dashboard/factories/?question=Q0&export=factories&format=csv")
    assert "North Garments" in factories.content.decode("utf-8-sig")


def test_nobody_else_sees_the_figures(kh, vn, counted, vn_manager, kh_factory):
    assert client_for(vn_manager).get("/p/KH/dashboard/").status_code == 404
    factory_user = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    assert client_for(factory_user).get("/p/KH/dashboard/").status_code == 404
    assert client_for(factory_user).get("/p/KH/dashboard/factories/?question=Q0").status_code == 404
    assert Client().get("/p/KH/dashboard/").status_code == 302  # to sign in
    # Another programme's manager: not in the comparison either.
    assert client_for(vn_manager).get("/compare/").status_code == 404


def test_global_staff_compare_programmes(kh, vn, counted):
    staff = user_with_role(Role.GLOBAL, None)
    page = client_for(staff).get("/compare/")
    assert page.status_code == 200
    html = page.content.decode()
    assert kh.name in html and vn.name in html
    csv_rows = client_for(staff).get("/compare/?export=programmes&format=csv").content.decode("utf-8-sig")
    assert kh.name in csv_rows
