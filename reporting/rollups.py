"""Rollups: per programme × cycle × year × segment (region, sector, size, union presence), the
factories counted and, per question and per compliance point, the factories assessed and the
factories non-compliant. Dashboards and published figures read these, never the answers.

Counting rules (DESIGN.md section 10): a factory counts once per cycle, with its latest final
revision (final or published; drafts never). A question is assessed when answered C or NC and
non-compliant when NC; a compliance point is assessed when any of its questions is assessed and
non-compliant when any is NC. Cells follow each factory's current region, sector, size and union
presence (``factory_changed``); the year is that of the assessment's visit.

``count_final`` runs when an assessment becomes final, in the same transaction: it takes the
contribution of the factory's cycle counted so far (kept in ``CountedAssessment``) back out and
adds the new one, so any sequence of finalisations and revisions leaves the rollups equal to a
recomputation from the answers (``rebuild``, which does exactly that, set-based, per programme).
"""

# SQL is built from the models' own table and column names only; values always go as parameters.
# ruff: noqa: S608

from __future__ import annotations

from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection, transaction
from django.db.models import Q

from assessments.models import Answer, AnswerValue, Assessment, AssessmentStatus
from betterwork.models import Programme
from factories.models import Factory
from reporting.models import (
    CountedAssessment,
    PointRollup,
    PointTotal,
    QuestionRollup,
    QuestionTotal,
    SegmentRollup,
    SizeBand,
    size_band,
)

COUNTED = (AssessmentStatus.FINAL, AssessmentStatus.PUBLISHED)
SEGMENT_COLUMNS = "programme_id, cycle, year, region, sector, size, union_present"
ROLLUPS = ((QuestionRollup, "question_id", "questions"), (PointRollup, "point_id", "points"))
# The same summed over the segments, per cycle and year: what unsegmented figures read.
TOTALS = ((QuestionTotal, "question_id", "questions"), (PointTotal, "point_id", "points"))


def _size_sql(workers: str) -> str:
    """``size_band`` as SQL, from the same thresholds."""
    limits = [(500, SizeBand.UNDER_500), (2000, SizeBand.UNDER_2000), (5000, SizeBand.UNDER_5000)]
    whens = " ".join(f"WHEN {workers} < {limit} THEN '{band.value}'" for limit, band in limits)
    return f"CASE {whens} ELSE '{SizeBand.LARGER.value}' END"


def _factory_cells(factory: Factory) -> dict[str, Any]:
    return {
        "region": factory.region,
        "sector": factory.sector,
        "size": size_band(factory.workers_female + factory.workers_male),
        "union_present": factory.union_present,
        "workers_female": factory.workers_female,
        "workers_male": factory.workers_male,
    }


def contribution(assessment: Assessment) -> CountedAssessment:
    """What this final assessment adds to the rollups (unsaved), from its answers in one query."""
    factory = assessment.factory
    visit = assessment.visit_started_on or assessment.planned_date
    arrays = Answer.objects.filter(
        assessment=assessment, value__in=(AnswerValue.COMPLIANT, AnswerValue.NON_COMPLIANT)
    ).aggregate(
        questions_assessed=ArrayAgg("question_id", default=[], ordering="question_id"),
        questions_non_compliant=ArrayAgg(
            "question_id", filter=Q(value=AnswerValue.NON_COMPLIANT), default=[], ordering="question_id"
        ),
        points_assessed=ArrayAgg("question__point_id", distinct=True, default=[]),
        points_non_compliant=ArrayAgg(
            "question__point_id", distinct=True, filter=Q(value=AnswerValue.NON_COMPLIANT), default=[]
        ),
    )
    return CountedAssessment(
        programme_id=assessment.programme_id,
        factory_id=factory.pk,
        assessment=assessment,
        cycle=assessment.cycle,
        year=visit.year,
        **_factory_cells(factory),
        **arrays,
    )


def _segment(counted: CountedAssessment) -> list[Any]:
    return [
        counted.programme_id,
        counted.cycle,
        counted.year,
        counted.region,
        counted.sector,
        counted.size,
        counted.union_present,
    ]


def _apply(counted: CountedAssessment, sign: int) -> None:
    """Add (+1) or take out (-1) one counted assessment: one upsert per rollup table."""
    segment = _segment(counted)
    placeholders = ", ".join(["%s"] * len(segment))
    conflict = f"ON CONFLICT ({SEGMENT_COLUMNS}"
    with connection.cursor() as cursor:
        table = SegmentRollup._meta.db_table
        cursor.execute(
            f"INSERT INTO {table} ({SEGMENT_COLUMNS}, factories, workers_female, workers_male) "
            f"VALUES ({placeholders}, %s, %s, %s) {conflict}) DO UPDATE SET "
            f"factories = {table}.factories + EXCLUDED.factories, "
            f"workers_female = {table}.workers_female + EXCLUDED.workers_female, "
            f"workers_male = {table}.workers_male + EXCLUDED.workers_male",
            [*segment, sign, sign * counted.workers_female, sign * counted.workers_male],
        )
        for model, key, column in ROLLUPS:
            table = model._meta.db_table
            cursor.execute(
                f"INSERT INTO {table} ({SEGMENT_COLUMNS}, {key}, assessed, non_compliant) "
                f"SELECT {placeholders}, k, sum(a), sum(n) FROM ("
                "SELECT unnest(%s::bigint[]) AS k, %s AS a, 0 AS n "
                "UNION ALL SELECT unnest(%s::bigint[]), 0, %s) AS changes GROUP BY k "
                f"{conflict}, {key}) DO UPDATE SET assessed = {table}.assessed + EXCLUDED.assessed, "
                f"non_compliant = {table}.non_compliant + EXCLUDED.non_compliant",
                [
                    *segment,
                    getattr(counted, f"{column}_assessed"),
                    sign,
                    getattr(counted, f"{column}_non_compliant"),
                    sign,
                ],
            )
        for total, key, column in TOTALS:
            table = total._meta.db_table
            cursor.execute(
                f"INSERT INTO {table} (programme_id, cycle, year, {key}, assessed, non_compliant)"
                " SELECT %s, %s, %s, k, sum(a), sum(n) FROM ("
                "SELECT unnest(%s::bigint[]) AS k, %s AS a, 0 AS n "
                "UNION ALL SELECT unnest(%s::bigint[]), 0, %s) AS changes GROUP BY k "
                f"ON CONFLICT (programme_id, cycle, year, {key}) DO UPDATE SET "
                f"assessed = {table}.assessed + EXCLUDED.assessed, "
                f"non_compliant = {table}.non_compliant + EXCLUDED.non_compliant",
                [
                    *segment[:3],
                    getattr(counted, f"{column}_assessed"),
                    sign,
                    getattr(counted, f"{column}_non_compliant"),
                    sign,
                ],
            )
        if sign < 0:  # cells left empty go, as a rebuild would not make them
            where = " AND ".join(f"{column.strip()} = %s" for column in SEGMENT_COLUMNS.split(","))
            cursor.execute(
                f"DELETE FROM {SegmentRollup._meta.db_table} WHERE {where} AND factories = 0", segment
            )
            for model, _key, _column in ROLLUPS:
                cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE {where} AND assessed = 0", segment)
            for total, _key, _column in TOTALS:
                cursor.execute(
                    f"DELETE FROM {total._meta.db_table} WHERE programme_id = %s AND cycle = %s"
                    " AND year = %s AND assessed = 0",
                    segment[:3],
                )


def _insert_counted(
    cursor: Any,
    assessments_sql: str,
    assessments_params: list[Any],
    answers_where: str,
    answers_params: list[Any],
    *,
    returning: bool = False,
) -> None:
    """Count the assessments that ``assessments_sql`` selects (one per factory and cycle): their
    ``CountedAssessment`` rows, from their answers grouped once. ``answers_where`` narrows the
    answers read (an indexed column) to those assessments'."""
    cursor.execute(
        f"WITH chosen AS ({assessments_sql}),"
        # Worked out once: with stale statistics (a fresh table of factories says "one row") the
        # planner may join per factory, and would group every answer again for each one.
        " answered AS MATERIALIZED ("
        "  SELECT an.assessment_id,"
        "    array_agg(an.question_id ORDER BY an.question_id) AS qa,"
        "    array_agg(an.question_id ORDER BY an.question_id) FILTER (WHERE an.value = 'NC') AS qn,"
        "    array_agg(DISTINCT q.point_id) AS pa,"
        "    array_agg(DISTINCT q.point_id) FILTER (WHERE an.value = 'NC') AS pn"
        "  FROM assessments_answer AS an"
        "  JOIN chosen ON chosen.id = an.assessment_id"
        "  JOIN assessments_question AS q ON q.id = an.question_id"
        f"  WHERE {answers_where} AND an.value IN ('C', 'NC')"
        "  GROUP BY an.assessment_id)"
        f" INSERT INTO {CountedAssessment._meta.db_table} ({SEGMENT_COLUMNS}, factory_id, assessment_id,"
        " workers_female, workers_male, questions_assessed, questions_non_compliant, points_assessed,"
        " points_non_compliant, counted_at)"
        " SELECT a.programme_id, a.cycle,"
        " EXTRACT(YEAR FROM COALESCE(a.visit_started_on, a.planned_date))::int, f.region, f.sector,"
        f" {_size_sql('(f.workers_female + f.workers_male)')}, f.union_present, a.factory_id, a.id,"
        " f.workers_female, f.workers_male, COALESCE(x.qa, '{}'), COALESCE(x.qn, '{}'),"
        " COALESCE(x.pa, '{}'), COALESCE(x.pn, '{}'), now()"
        " FROM chosen AS a JOIN factories_factory AS f ON f.id = a.factory_id"
        " LEFT JOIN answered AS x ON x.assessment_id = a.id" + (" RETURNING id" if returning else ""),
        [*assessments_params, *answers_params],
    )


def _add_many(cursor: Any, counted_ids: list[int], sign: int) -> None:
    """Add (+1) or take out (-1) many counted assessments at once: one upsert per rollup table,
    the same sums ``_apply`` makes one by one."""
    counted_table = CountedAssessment._meta.db_table
    segments = SegmentRollup._meta.db_table
    cursor.execute(
        f"INSERT INTO {segments} ({SEGMENT_COLUMNS}, factories, workers_female, workers_male)"
        f" SELECT {SEGMENT_COLUMNS}, %s * count(*), %s * sum(workers_female), %s * sum(workers_male)"
        f" FROM {counted_table} WHERE id = ANY(%s) GROUP BY {SEGMENT_COLUMNS}"
        f" ON CONFLICT ({SEGMENT_COLUMNS}) DO UPDATE SET factories = {segments}.factories + EXCLUDED.factories,"
        f" workers_female = {segments}.workers_female + EXCLUDED.workers_female,"
        f" workers_male = {segments}.workers_male + EXCLUDED.workers_male",
        [sign, sign, sign, counted_ids],
    )
    cells = [(model, key, column, SEGMENT_COLUMNS) for model, key, column in ROLLUPS] + [
        (total, key, column, "programme_id, cycle, year") for total, key, column in TOTALS
    ]
    for model, key, column, group in cells:
        table = model._meta.db_table
        cursor.execute(
            f"INSERT INTO {table} ({group}, {key}, assessed, non_compliant)"
            f" SELECT {group}, k, %s * sum(a), %s * sum(n) FROM ("
            f"  SELECT {group}, unnest({column}_assessed) AS k, 1 AS a, 0 AS n"
            f"  FROM {counted_table} WHERE id = ANY(%s)"
            f"  UNION ALL SELECT {group}, unnest({column}_non_compliant), 0, 1"
            f"  FROM {counted_table} WHERE id = ANY(%s)"
            f") AS changes GROUP BY {group}, k"
            f" ON CONFLICT ({group}, {key}) DO UPDATE SET assessed = {table}.assessed + EXCLUDED.assessed,"
            f" non_compliant = {table}.non_compliant + EXCLUDED.non_compliant",
            [sign, sign, counted_ids, counted_ids],
        )


@transaction.atomic
def count_many(programme: Programme, assessment_ids: list[int]) -> int:
    """Many assessments of the programme became final at once (an import): each is now what its
    factory's cycle counts, exactly as ``count_final`` one by one would leave the rollups, in
    a dozen statements whatever their number. Returns how many were counted."""
    if not assessment_ids:
        return 0
    counted_table = CountedAssessment._meta.db_table
    with connection.cursor() as cursor:
        # What the same factories' cycles counted so far comes out first.
        cursor.execute(
            f"SELECT c.id FROM {counted_table} AS c JOIN assessments_assessment AS a"
            " ON a.factory_id = c.factory_id AND a.cycle = c.cycle"
            " WHERE a.id = ANY(%s) AND c.programme_id = %s FOR UPDATE OF c",
            [assessment_ids, programme.pk],
        )
        previous = [row[0] for row in cursor.fetchall()]
        if previous:
            _add_many(cursor, previous, -1)
            cursor.execute(f"DELETE FROM {counted_table} WHERE id = ANY(%s)", [previous])
        _insert_counted(
            cursor,
            "SELECT * FROM assessments_assessment WHERE id = ANY(%s) AND programme_id = %s",
            [assessment_ids, programme.pk],
            "an.assessment_id = ANY(%s)",
            [assessment_ids],
            returning=True,
        )
        counted = [row[0] for row in cursor.fetchall()]
        _add_many(cursor, counted, +1)
        # Cells left empty go, as a rebuild would not make them.
        cursor.execute(
            f"DELETE FROM {SegmentRollup._meta.db_table} WHERE programme_id = %s AND factories = 0",
            [programme.pk],
        )
        for model in (*(m for m, _k, _c in ROLLUPS), *(t for t, _k, _c in TOTALS)):
            cursor.execute(
                f"DELETE FROM {model._meta.db_table} WHERE programme_id = %s AND assessed = 0", [programme.pk]
            )
    return len(counted)


@transaction.atomic
def count_final(assessment: Assessment) -> CountedAssessment:
    """The assessment just became final: it is now what its factory's cycle counts."""
    previous = (
        CountedAssessment.objects.select_for_update()
        .filter(factory_id=assessment.factory_id, cycle=assessment.cycle)
        .first()
    )
    if previous is not None:
        _apply(previous, -1)
        previous.delete()
    counted = contribution(assessment)
    counted.save()
    _apply(counted, +1)
    return counted


@transaction.atomic
def factory_changed(factory: Factory) -> int:
    """Figures are filtered by a factory's current region, sector, size and union presence: when
    those (or its workers) change, its counted cycles move to their new cells."""
    cells = _factory_cells(factory)
    moved = 0
    for counted in CountedAssessment.objects.select_for_update().filter(factory_id=factory.pk):
        if all(getattr(counted, name) == value for name, value in cells.items()):
            continue
        _apply(counted, -1)
        for name, value in cells.items():
            setattr(counted, name, value)
        counted.save()
        _apply(counted, +1)
        moved += 1
    return moved


@transaction.atomic
def rebuild(programme: Programme) -> int:
    """Recompute the programme's rollups from the answers of each factory's latest final
    revision per cycle; returns the number of assessments counted. Set-based: a few statements
    whatever the size (answers grouped once, by assessment)."""
    counted_table = CountedAssessment._meta.db_table
    with connection.cursor() as cursor:
        for model in (
            SegmentRollup,
            QuestionRollup,
            QuestionTotal,
            PointRollup,
            PointTotal,
            CountedAssessment,
        ):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE programme_id = %s", [programme.pk])
        _insert_counted(
            cursor,
            "SELECT DISTINCT ON (factory_id, cycle) * FROM assessments_assessment"
            " WHERE programme_id = %s AND status = ANY(%s)"
            " ORDER BY factory_id, cycle, final_at DESC NULLS LAST, id DESC",
            [programme.pk, [str(s) for s in COUNTED]],
            "an.programme_id = %s",
            [programme.pk],
        )
        counted = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {SegmentRollup._meta.db_table} ({SEGMENT_COLUMNS}, factories, workers_female,"
            f" workers_male) SELECT {SEGMENT_COLUMNS}, count(*), sum(workers_female), sum(workers_male)"
            f" FROM {counted_table} WHERE programme_id = %s GROUP BY {SEGMENT_COLUMNS}",
            [programme.pk],
        )
        for model, key, column in ROLLUPS:
            cursor.execute(
                f"INSERT INTO {model._meta.db_table} ({SEGMENT_COLUMNS}, {key}, assessed, non_compliant)"
                f" SELECT {SEGMENT_COLUMNS}, k, sum(a), sum(n) FROM ("
                f"  SELECT {SEGMENT_COLUMNS}, unnest({column}_assessed) AS k, 1 AS a, 0 AS n"
                f"  FROM {counted_table} WHERE programme_id = %s"
                f"  UNION ALL SELECT {SEGMENT_COLUMNS}, unnest({column}_non_compliant), 0, 1"
                f"  FROM {counted_table} WHERE programme_id = %s"
                f") AS cells GROUP BY {SEGMENT_COLUMNS}, k",
                [programme.pk, programme.pk],
            )
        for (total, key, _column), (cells, _, _) in zip(TOTALS, ROLLUPS, strict=True):
            cursor.execute(
                f"INSERT INTO {total._meta.db_table} (programme_id, cycle, year, {key}, assessed, non_compliant)"
                f" SELECT programme_id, cycle, year, {key}, sum(assessed), sum(non_compliant)"
                f" FROM {cells._meta.db_table} WHERE programme_id = %s GROUP BY programme_id, cycle, year, {key}",
                [programme.pk],
            )
    return counted
