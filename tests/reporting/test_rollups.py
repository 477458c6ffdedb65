"""Rollups equal a recomputation from the answers: after a finalisation through the lifecycle, and
after any sequence of finalisations, revisions and factory changes (property-based)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessments import services as tool_services
from assessments.models import Answer, Assessment, AssessmentStatus, Question
from betterwork import tenancy
from factories.models import Factory
from reporting import rollups
from reporting.models import (
    CountedAssessment,
    PointRollup,
    PointTotal,
    QuestionRollup,
    QuestionTotal,
    SegmentRollup,
    size_band,
)
from tests.conftest import TOOL_DIR
from tests.model_factories import FactoryFactory

POINTS = ("CL.CHILD_LABOURERS", "OSH.EMERGENCY", "WT.OVERTIME", "FA.FREEDOM_TO_ASSOCIATE")


@pytest.fixture
def wide_tool(db):
    """Eight questions, two per compliance point, so that "any question NC" is exercised."""
    tool_services.points_load(data=yaml.safe_load((TOOL_DIR / "points.yaml").read_text()))
    version, _ = tool_services.tool_load(
        data={
            "tool": "global",
            "version": "2026.9",
            "effective_from": dt.date(2020, 1, 1),
            "questions": [
                {
                    "key": f"Q{n}",
                    "point": POINTS[n // 2],
                    "noncompliant_answer": "yes",
                    "flags": [],
                    "text": {"en": f"Question {n}?"},
                }
                for n in range(8)
            ],
        },
        publish=True,
    )
    return version


def recompute(programme_id: int) -> dict[str, Counter[Any]]:
    """The figures from the raw answers, in Python: each factory's latest final revision per cycle,
    in the cell of the factory's current attributes and the year of the visit."""
    latest: dict[tuple[int, int], Assessment] = {}
    for assessment in (
        Assessment.objects.filter(programme_id=programme_id, status__in=rollups.COUNTED)
        .select_related("factory")
        .order_by("final_at", "id")
    ):
        latest[(assessment.factory_id, assessment.cycle)] = assessment
    figures: dict[str, Counter[Any]] = {"segment": Counter(), "question": Counter(), "point": Counter()}
    for assessment in latest.values():
        factory = assessment.factory
        cell = (
            assessment.cycle,
            (assessment.visit_started_on or assessment.planned_date).year,
            factory.region,
            factory.sector,
            size_band(factory.workers_female + factory.workers_male),
            factory.union_present,
        )
        figures["segment"][(*cell, "factories")] += 1
        figures["segment"][(*cell, "female")] += factory.workers_female
        figures["segment"][(*cell, "male")] += factory.workers_male
        points: dict[int, bool] = {}
        for answer in Answer.objects.filter(assessment=assessment, value__in=("C", "NC")).select_related(
            "question"
        ):
            figures["question"][(*cell, answer.question_id, "assessed")] += 1
            figures["question"][(*cell, answer.question_id, "nc")] += answer.value == "NC"
            point = answer.question.point_id
            points[point] = points.get(point, False) or answer.value == "NC"
        for point, non_compliant in points.items():
            figures["point"][(*cell, point, "assessed")] += 1
            figures["point"][(*cell, point, "nc")] += non_compliant
    return {name: +counter for name, counter in figures.items()}  # drop zeros


def stored(programme_id: int) -> dict[str, Counter[Any]]:
    figures: dict[str, Counter[Any]] = {"segment": Counter(), "question": Counter(), "point": Counter()}
    cell_fields = ("cycle", "year", "region", "sector", "size", "union_present")
    for row in SegmentRollup.objects.filter(programme_id=programme_id).values():
        cell = tuple(row[f] for f in cell_fields)
        figures["segment"][(*cell, "factories")] += row["factories"]
        figures["segment"][(*cell, "female")] += row["workers_female"]
        figures["segment"][(*cell, "male")] += row["workers_male"]
    for model, key, name in ((QuestionRollup, "question_id", "question"), (PointRollup, "point_id", "point")):
        for row in model.objects.filter(programme_id=programme_id).values():
            cell = tuple(row[f] for f in cell_fields)
            figures[name][(*cell, row[key], "assessed")] += row["assessed"]
            figures[name][(*cell, row[key], "nc")] += row["non_compliant"]
    return {name: +counter for name, counter in figures.items()}


def totals_agree(programme_id: int) -> bool:
    """The per-cycle-and-year totals equal the cells summed, for questions and points."""
    for cells, totals, key in (
        (QuestionRollup, QuestionTotal, "question_id"),
        (PointRollup, PointTotal, "point_id"),
    ):
        summed: Counter[Any] = Counter()
        for row in cells.objects.filter(programme_id=programme_id).values():
            summed[(row["cycle"], row["year"], row[key], "assessed")] += row["assessed"]
            summed[(row["cycle"], row["year"], row[key], "nc")] += row["non_compliant"]
        kept: Counter[Any] = Counter()
        for row in totals.objects.filter(programme_id=programme_id).values():
            kept[(row["cycle"], row["year"], row[key], "assessed")] += row["assessed"]
            kept[(row["cycle"], row["year"], row[key], "nc")] += row["non_compliant"]
        if +summed != +kept or totals.objects.filter(assessed=0).exists():
            return False
    return True


def test_finalising_through_the_lifecycle_counts_at_once(kh, final):
    with tenancy.scope({kh.pk}), transaction.atomic():
        counted = CountedAssessment.objects.get()
        assert counted.assessment_id == final.pk
        assert stored(kh.pk) == recompute(kh.pk)
        assert totals_agree(kh.pk)
        assert sum(r.non_compliant for r in QuestionRollup.objects.all()) == 3  # every answer NC
        assert sum(r.factories for r in SegmentRollup.objects.all()) == 1


def test_drafts_never_count_and_the_rebuild_agrees(kh, vn, wide_tool):
    with tenancy.scope({kh.pk, vn.pk}), transaction.atomic():
        factory = FactoryFactory(programme=kh, region="Phnom Penh", workers_female=400, workers_male=300)
        final = make_assessment(factory, wide_tool, cycle=1, values="CNNCCAAN")
        make_assessment(factory, wide_tool, cycle=2, values="NNNNNNNN", status=AssessmentStatus.IN_REVIEW)
        rollups.count_final(final)
        other = FactoryFactory(programme=vn)
        rollups.count_final(make_assessment(other, wide_tool, cycle=1, values="NNNNNNNN"))
    with tenancy.scope({kh.pk}), transaction.atomic():
        figures = stored(kh.pk)
        assert figures == recompute(kh.pk)
        assert {key[0] for key in figures["question"]} == {1}  # the draft's cycle is absent
        # The point of questions 0 and 1 (C, N): assessed and non-compliant; of 4 and 5 (C, C): compliant.
        point = {q.key: q.point_id for q in Question.objects.filter(version=wide_tool)}
        cell = (1, 2025, "Phnom Penh", factory.sector, "lt2000", False)
        assert figures["point"][(*cell, point["Q0"], "nc")] == 1
        assert figures["point"][(*cell, point["Q4"], "assessed")] == 1
        assert figures["point"][(*cell, point["Q4"], "nc")] == 0
        assert figures["point"][(*cell, point["Q6"], "assessed")] == 1  # Q6 NA, Q7 NC
    call_command("rollups_rebuild", "KH", stdout=open("/dev/null", "w"))  # noqa: SIM115
    with tenancy.scope({kh.pk, vn.pk}), transaction.atomic():
        assert stored(kh.pk) == recompute(kh.pk) and totals_agree(kh.pk)
        assert stored(vn.pk) == recompute(vn.pk) and totals_agree(vn.pk)  # left alone


def make_assessment(factory: Factory, version, *, cycle: int, values: str, status=AssessmentStatus.FINAL):
    """An assessment with one answer per question: C, N (non-compliant), A (not applicable) or -
    (unanswered)."""
    assessment = Assessment.objects.create(
        programme_id=factory.programme_id,
        factory=factory,
        tool_version=version,
        cycle=cycle,
        status=status,
        planned_date=dt.date(2025 + cycle // 2, 3, 1),
        final_at=timezone.now() if status == AssessmentStatus.FINAL else None,
    )
    answer_values(assessment, version, values)
    return assessment


def answer_values(assessment: Assessment, version, values: str) -> None:
    Answer.objects.filter(assessment=assessment).delete()
    questions = list(Question.objects.filter(version=version).order_by("key"))
    code = {"C": "C", "N": "NC", "A": "NA", "-": ""}
    Answer.objects.bulk_create(
        Answer(
            programme_id=assessment.programme_id,
            assessment=assessment,
            question=question,
            value=code[value],
            finding="Seen on the visit." if value == "N" else "",
        )
        for question, value in zip(questions, values, strict=True)
    )


ANSWERS = st.text(alphabet="CNA-", min_size=8, max_size=8)
STEPS = st.lists(
    st.one_of(
        # finalise (or revise and finalise again) factory f's cycle c with these answers
        st.tuples(st.just("final"), st.integers(0, 2), st.integers(1, 3), ANSWERS),
        # a factory changes: region, size, union presence
        st.tuples(
            st.just("factory"),
            st.integers(0, 2),
            st.sampled_from(["North", "South"]),
            st.integers(0, 6000),
            st.booleans(),
        ),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_rollups_equal_a_recomputation_after_any_sequence(kh, wide_tool, steps):
    with tenancy.scope({kh.pk}), transaction.atomic():
        factories = [FactoryFactory(programme=kh, region="North") for _ in range(3)]
        by_cycle: dict[tuple[int, int], Assessment] = {}
        for step in steps:
            if step[0] == "final":
                _, f, cycle, values = step
                assessment = by_cycle.get((f, cycle))
                if assessment is None:
                    assessment = by_cycle[(f, cycle)] = make_assessment(
                        factories[f], wide_tool, cycle=cycle, values=values
                    )
                else:  # a revision: new answers, final again
                    answer_values(assessment, wide_tool, values)
                    Assessment.objects.filter(pk=assessment.pk).update(final_at=timezone.now())
                    assessment.refresh_from_db()
                rollups.count_final(assessment)
            else:
                _, f, region, workers, union = step
                factory = factories[f]
                factory.region, factory.union_present = region, union
                factory.workers_female, factory.workers_male = workers // 2, workers - workers // 2
                factory.save()  # the signal moves its counted cycles
            assert stored(kh.pk) == recompute(kh.pk)
            assert totals_agree(kh.pk)
        incremental = stored(kh.pk)
        rollups.rebuild(kh)
        assert stored(kh.pk) == incremental and totals_agree(kh.pk)
        transaction.set_rollback(True)


BATCHES = st.lists(
    st.lists(st.tuples(st.integers(0, 2), st.integers(1, 3), ANSWERS), min_size=1, max_size=5),
    min_size=1,
    max_size=4,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=BATCHES,
    counted_one_by_one=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 3), ANSWERS), max_size=3),
)
def test_counting_many_at_once_equals_a_recomputation(kh, wide_tool, batches, counted_one_by_one):
    """An import counts its assessments set-based (``count_many``): new cycles and revisions of
    cycles counted before, one by one or by an earlier import, leave the rollups as a recount."""
    with tenancy.scope({kh.pk}), transaction.atomic():
        factories = [FactoryFactory(programme=kh, region=region) for region in ("North", "South", "North")]
        by_cycle: dict[tuple[int, int], Assessment] = {}

        def final(f: int, cycle: int, values: str) -> Assessment:
            assessment = by_cycle.get((f, cycle))
            if assessment is None:
                assessment = by_cycle[(f, cycle)] = make_assessment(
                    factories[f], wide_tool, cycle=cycle, values=values
                )
            else:
                answer_values(assessment, wide_tool, values)
            return assessment

        for f, cycle, values in counted_one_by_one:
            rollups.count_final(final(f, cycle, values))
        for batch in batches:
            chosen = {final(f, cycle, values).pk for f, cycle, values in batch}
            assert rollups.count_many(kh, sorted(chosen)) == len(chosen)
            assert stored(kh.pk) == recompute(kh.pk)
            assert totals_agree(kh.pk)
        transaction.set_rollback(True)
