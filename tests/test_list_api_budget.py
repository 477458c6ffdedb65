"""The list APIs cost four SQL statements a request, with 10 rows or 200, by token or by session:
BEGIN, the scope's set_config, the page, COMMIT (who is asking comes from the cache).

Counted without a wrapping test transaction (``transaction=True``): inside one, a request's
transaction is a savepoint and its statements are not those of the real request."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from assessments.models import Assessment, AssessmentAssessor
from betterwork import tenancy
from betterwork.models import Role
from factories.models import Factory
from tests.model_factories import user_with_role

BUDGET = 4


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("rows", [10, 200])
def test_list_apis_cost_four_statements_whatever_the_rows(kh, tool, rows):
    manager = user_with_role(Role.PROGRAMME_MANAGER, kh)
    advisors = [user_with_role(Role.ADVISOR, kh) for _ in range(2)]
    with tenancy.scope({kh.pk}), transaction.atomic():
        plants = Factory.objects.bulk_create(
            Factory(programme=kh, name=f"Factory {n:03d}", public_id=f"KH{n:05d}0") for n in range(rows)
        )
        assessments = Assessment.objects.bulk_create(
            Assessment(
                programme=kh,
                factory=plant,
                tool_version=tool,
                cycle=1,
                status="final",
                planned_date=dt.date(2026, 3, 2),
            )
            for plant in plants
        )
        AssessmentAssessor.objects.bulk_create(
            AssessmentAssessor(programme=kh, assessment=a, user=advisor, lead=n == 0)
            for a in assessments
            for n, advisor in enumerate(advisors)
        )
    by_session = APIClient()
    by_session.force_login(manager)
    by_token = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=manager).key}")
    for client in (by_token, by_session):
        for path in ("/api/v1/p/KH/factories/", "/api/v1/p/KH/assessments/"):
            client.get(path)  # a first request fills the cache
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path)
            assert response.status_code == 200
            assert len(response.json()["results"]) == min(rows, 50)
            statements = [q["sql"] for q in queries.captured_queries]
            assert len(statements) <= BUDGET, "\n".join(s[:200] for s in statements)
    listed = by_token.get("/api/v1/p/KH/assessments/").json()["results"][0]
    assert listed["factory_name"].startswith("Factory ") and listed["tool"] == str(tool)
    assert listed["assessors"] == sorted(a.pk for a in advisors)
