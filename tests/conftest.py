from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.db import transaction
from django.utils import translation

from assessments import lifecycle, services
from assessments.models import Assessment
from betterwork import tenancy
from betterwork.models import Programme, Role
from betterwork.permissions import Principal
from tests.model_factories import FactoryFactory, ProgrammeFactory, user_with_role


@pytest.fixture(autouse=True)
def _interface_in_english():
    """Each test starts in the default language: a request signed in as an Arabic-speaking user
    leaves its thread's language active after the response (each new request sets its own)."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def kh(db) -> Programme:
    return ProgrammeFactory(
        code="KH", name="Better Factories Cambodia", country="Cambodia", languages=["km", "en"]
    )


@pytest.fixture
def vn(db) -> Programme:
    return ProgrammeFactory(code="VN", name="Better Work Vietnam", country="Vietnam", languages=["vi", "en"])


@pytest.fixture
def kh_factory(kh):
    return FactoryFactory(programme=kh, name="Angkor Garments", public_id="KH000018")


@pytest.fixture
def vn_factory(vn):
    return FactoryFactory(programme=vn, name="Saigon Apparel", public_id="VN000018")


@pytest.fixture
def kh_manager(kh):
    return user_with_role(Role.PROGRAMME_MANAGER, kh)


@pytest.fixture
def vn_manager(vn):
    return user_with_role(Role.PROGRAMME_MANAGER, vn)


@pytest.fixture
def kh_advisor(kh):
    return user_with_role(Role.ADVISOR, kh)


# --- Assessments: a small published tool, a programme team, a planned assessment ----------

TOOL_DIR = Path(__file__).resolve().parents[1] / "assessments" / "tool"


@pytest.fixture
def tool(db):
    services.points_load(data=yaml.safe_load((TOOL_DIR / "points.yaml").read_text()))
    version, _ = services.tool_load(
        data={
            "tool": "global",
            "version": "2026.1",
            "effective_from": dt.date(2020, 1, 1),
            "questions": [
                {
                    "key": "CL-01",
                    "point": "CL.CHILD_LABOURERS",
                    "noncompliant_answer": "yes",
                    "flags": ["zero_tolerance"],
                    "text": {"en": "Are any workers under age?"},
                },
                {
                    "key": "OSH-01",
                    "point": "OSH.EMERGENCY",
                    "noncompliant_answer": "yes",
                    "flags": ["publicly_reported"],
                    "text": {"en": "Are exits locked in working hours?"},
                },
                {
                    "key": "WT-01",
                    "point": "WT.OVERTIME",
                    "noncompliant_answer": "no",
                    "flags": [],
                    "text": {"en": "Is overtime voluntary?"},
                },
            ],
        },
        publish=True,
    )
    return version


@pytest.fixture
def team(kh):
    return {
        "lead": user_with_role(Role.ADVISOR, kh),
        "second": user_with_role(Role.ADVISOR, kh),
        "leader": user_with_role(Role.TEAM_LEADER, kh),
        "manager": user_with_role(Role.PROGRAMME_MANAGER, kh),
    }


def act(user, programme, fn, **kwargs):
    """Run a service as this user, inside the programme's scope and a transaction, like a request."""
    with tenancy.scope({programme.pk}), transaction.atomic():
        return fn(actor=Principal.for_user(user), **kwargs)


@pytest.fixture
def planned(kh, kh_factory, tool, team):
    return act(
        team["leader"],
        kh,
        lifecycle.assessment_plan,
        factory=kh_factory,
        planned_date=dt.date(2026, 3, 2),
        assessors=[team["lead"], team["second"]],
    )


@pytest.fixture
def final(kh, team, planned):
    """A final assessment with findings (the window closed, then the team leader finalised it)."""
    from tests.assessments.test_lifecycle import answer_all, move

    move(team["lead"], kh, planned, "in_progress")
    answer_all(team["lead"], kh, planned, value="NC")
    move(team["lead"], kh, planned, "submitted")
    move(team["leader"], kh, planned, "in_review")
    move(team["leader"], kh, planned, "factory_review")
    with tenancy.scope({kh.pk}), transaction.atomic():
        Assessment.objects.filter(pk=planned.pk).update(factory_review_until=dt.date(2026, 1, 1))
    return move(team["leader"], kh, planned, "final")


def signs_in(client, email: str, password: str) -> bool:
    """Whether the sign-in page lets this person in, as they would try it (the lock-out after
    failed attempts needs the request a test client's ``login`` does not give)."""
    response = client.post("/accounts/login/", {"username": email, "password": password})
    return response.status_code == 302
