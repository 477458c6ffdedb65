"""``manage.py seed_scale`` at a tiny size: what it loads, that tenancy and row-level security still
hold for the application afterwards, that the application can insert after the loaded ids, and
that it refuses tables that already hold rows unless told to replace them."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, F

from assessments.models import Answer, Assessment, AssessmentAssessor, AssessmentStatus, Question, Round
from betterwork import tenancy
from betterwork.models import Programme, Role, RoleGrant
from betterwork.scale import LOADER_ROLE
from factories.models import EnrolmentChange, Factory
from factories.services import is_valid_public_id

# The loader commits over its own connection: the test cannot wrap it in a transaction.
pytestmark = pytest.mark.django_db(transaction=True)

SIZE = ["--programmes", "2", "--factories", "5", "--cycles", "2", "--questions", "20"]
LOADED = ["factories_factory", "assessments_assessment", "assessments_answer"]


def seed(*extra: str) -> str:
    out = io.StringIO()
    call_command("seed_scale", *SIZE, *extra, stdout=out)
    return out.getvalue()


def everything():
    return tenancy.scope(Programme.objects.values_list("id", flat=True))


def schema(tables: list[str]) -> set[tuple[str, str]]:
    """Index and constraint names of these tables, with their definitions."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)"
            " UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = ANY(%s::regclass[])",
            [tables, tables],
        )
        return set(cursor.fetchall())


def test_the_scale_data_set_is_consistent_and_the_application_works_on_it():
    before = schema(LOADED)
    output = seed()
    assert "assessments_answer" in output and "rows/s" in output
    # Secondary indexes and foreign keys dropped for the load are back, as the migrations made them.
    assert schema(LOADED) == before

    kh, bd = Programme.objects.get(code="KHS1"), Programme.objects.get(code="BDS1")
    with everything(), transaction.atomic():
        assert Factory.objects.count() == 10 and EnrolmentChange.objects.count() >= 10
        assert all(is_valid_public_id(p) for p in Factory.objects.values_list("public_id", flat=True))
        assessments = list(Assessment.objects.annotate(answered=Count("answers")))
        assert len(assessments) == 20
        assert {(a.factory_id, a.cycle) for a in assessments} == {
            (f, c) for f in Factory.objects.values_list("id", flat=True) for c in (1, 2)
        }
        for a in assessments:
            if a.status == AssessmentStatus.PLANNED:
                assert a.answered == 0
            elif a.status == AssessmentStatus.IN_PROGRESS:
                assert 0 < a.answered <= 20
            else:
                assert a.answered == 20
            if a.cycle == 1:
                assert a.status in (AssessmentStatus.FINAL, AssessmentStatus.PUBLISHED)
        assert Answer.objects.filter(value="NC").exists()
        assert not Answer.objects.filter(value="NC", finding="").exists()

        # Every row belongs to the programme of what it hangs from.
        assert not Assessment.objects.exclude(programme_id=F("factory__programme_id")).exists()
        assert not Assessment.objects.exclude(round__programme_id=F("programme_id")).exists()
        assert not Assessment.objects.exclude(tool_version__tool=F("programme__code")).exists()
        assert not Answer.objects.exclude(programme_id=F("assessment__programme_id")).exists()
        assert not Answer.objects.exclude(question__version_id=F("assessment__tool_version_id")).exists()
        assert not AssessmentAssessor.objects.exclude(programme_id=F("assessment__programme_id")).exists()
        assert not EnrolmentChange.objects.exclude(programme_id=F("factory__programme_id")).exists()
        # Two assessors each, staff of the programme; the reviewer is never one of them.
        assert AssessmentAssessor.objects.count() == 40
        staff = set(
            RoleGrant.objects.filter(role__in=[Role.ADVISOR, Role.TEAM_LEADER]).values_list(
                "user_id", "programme_id"
            )
        )
        assert set(AssessmentAssessor.objects.values_list("user_id", "programme_id")) <= staff
        assert not AssessmentAssessor.objects.filter(assessment__reviewer_id=F("user_id")).exists()

    # Row-level security still applies to the application's role: one programme's scope reads only
    # its rows, no scope reads nothing.
    with tenancy.scope({kh.pk}), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, r.rolbypassrls OR r.rolsuper, count(*), count(*) FILTER (WHERE a.programme_id = %s)"
            " FROM assessments_answer a, pg_roles r WHERE r.rolname = current_user GROUP BY 1, 2",
            [kh.pk],
        )
        user, bypasses, visible, own = cursor.fetchone()
    assert user == connection.settings_dict["USER"] and not bypasses
    assert visible == own > 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM assessments_answer")
        assert cursor.fetchone()[0] == 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolbypassrls, pg_has_role(%s, rolname, 'MEMBER') FROM pg_roles WHERE rolname = %s",
            [connection.settings_dict["USER"], LOADER_ROLE],
        )
        assert cursor.fetchone() == (False, True, False)

    # The application inserts after the loaded ids: every sequence was moved past them.
    with tenancy.scope({bd.pk}), transaction.atomic():
        loaded_answers = Answer.objects.count()
        factory = Factory.objects.filter(programme=bd).first()
        latest = Assessment.objects.filter(factory=factory).order_by("-cycle").first()
        new_factory = Factory.objects.create(programme=bd, name="New Garments", public_id="BDS1999990")
        EnrolmentChange.objects.create(
            programme=bd, factory=new_factory, status="registered", on=dt.date.today()
        )
        new_round = Round.objects.create(
            programme=bd, name="Extra round", starts_on=dt.date(2030, 1, 1), ends_on=dt.date(2030, 6, 30)
        )
        assessment = Assessment.objects.create(
            programme=bd,
            factory=factory,
            tool_version_id=latest.tool_version_id,
            cycle=3,
            round=new_round,
            planned_date=dt.date(2030, 2, 1),
        )
        AssessmentAssessor.objects.create(
            programme=bd, assessment=assessment, user_id=latest.assessor_links.first().user_id
        )
        question = Question.objects.filter(version_id=latest.tool_version_id).first()
        answer = Answer.objects.create(programme=bd, assessment=assessment, question=question, value="C")
        assert (
            answer.pk > Answer.objects.exclude(pk=answer.pk).order_by("-pk").values_list("pk", flat=True)[0]
        )
        assert Answer.objects.count() == loaded_answers + 1
    # Nor does another programme see that new row.
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert not Answer.objects.unscoped(reason="test").filter(pk=answer.pk).exists()


def test_it_refuses_tables_that_hold_rows_unless_asked_to_replace_them():
    seed()
    with everything():
        first = set(Factory.objects.values_list("pk", flat=True))
    with pytest.raises(CommandError, match="--replace"):
        seed()
    seed("--replace")
    with everything(), transaction.atomic():
        # The previous load is gone, the new one is the same size (the same seed, the same data).
        assert Factory.objects.count() == 10 and not Factory.objects.filter(pk__in=first).exists()
        assert Assessment.objects.count() == 20 and Answer.objects.filter(assessment__cycle=1).count() == 200
