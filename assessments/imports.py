"""Historical assessments from a spreadsheet: one row per answer, grouped into final assessments.

A row names the factory (its factory id, or its legacy id), the cycle, the visit date, the
question (its key in the programme's tool version in force on the visit date), the answer and the
finding. The rows of one factory and cycle make one final assessment: they must agree on the
visit date (and on the report's final date, when given) and answer each question once. A cycle
the platform already holds as a final assessment is compared answer by answer: the same answers
change nothing (importing a file twice changes nothing); other answers revise it, on record with
the file as the reason. A cycle the platform holds as an assessment under way is an error.

Imported assessments count in the figures at once (``assessments_imported``); they are not sent
to the factory or to buyers, and no report or zero-tolerance case is made for them. The file is
checked whole first and applied whole or not at all (``betterwork.imports``).
"""

# SQL is built from the models' table names and this module's temporary ones; values go as parameters.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import batched
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from assessments.figures import COUNTED
from assessments.lifecycle import tools_in_force
from assessments.models import Answer, AnswerValue, Assessment, AssessmentStatus, Question, ToolVersion
from assessments.signals import assessments_imported
from betterwork import audit, tenancy
from betterwork.imports import CREATE, UNCHANGED, UPDATE, BaseImporter, PlannedRow, RowsInvalid
from betterwork.models import Programme
from betterwork.permissions import Principal
from betterwork.scale import copy_text
from betterwork.spreadsheets import MAX_ERRORS, Column, RowError, parse_date, parse_int, parse_text
from factories.models import Factory

KIND = "assessments.history"
# Bigger than other imports: a year of a programme's assessments is some 100,000 answers.
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 150_000
CHANGES_SHOWN = 12  # per assessment in the preview; the count says how many more
ANALYZE_FROM = 20_000  # answers written at once, from which statistics are brought up to date
WRITE_BATCH = 5000  # answers per INSERT, and per step of the progress shown


def _fold(value: str) -> str:
    return " ".join(value.replace("_", " ").replace("-", " ").split()).casefold()


_SPELLINGS: dict[str | None, dict[str, str]] = {}  # per language, built on first use


def parse_answer(value: str) -> str:
    """compliant / non_compliant / not_applicable, C / NC / NA, or the labels in any language."""
    language = translation.get_language()
    spellings = _SPELLINGS.get(language)
    if spellings is None:
        spellings = _SPELLINGS[language] = _answer_spellings()
    answer = spellings.get(_fold(value))
    if answer is None:
        raise ValidationError(
            _("“%(value)s” is not an answer: write compliant, non_compliant or not_applicable.")
            % {"value": value}
        )
    return answer


def _answer_spellings() -> dict[str, str]:
    spellings: dict[str, str] = {
        "c": AnswerValue.COMPLIANT,
        "compliant": AnswerValue.COMPLIANT,
        "nc": AnswerValue.NON_COMPLIANT,
        "non compliant": AnswerValue.NON_COMPLIANT,
        "noncompliant": AnswerValue.NON_COMPLIANT,
        "na": AnswerValue.NOT_APPLICABLE,
        "n/a": AnswerValue.NOT_APPLICABLE,
        "not applicable": AnswerValue.NOT_APPLICABLE,
    }
    spellings.update({_fold(str(label)): str(choice) for choice, label in AnswerValue.choices})
    return {spelling: str(choice) for spelling, choice in spellings.items()}


COLUMNS: Sequence[Column] = [
    Column(
        "programme", gettext_lazy("Programme"), parse_text(16), required=False, aliases=("programme code",)
    ),
    Column(
        "factory", gettext_lazy("Factory id"), parse_text(64), aliases=("factory", "factory_id", "legacy id")
    ),
    Column("cycle", gettext_lazy("Cycle"), parse_int(1, 99)),
    Column(
        "visit_date", gettext_lazy("Visit date"), parse_date, aliases=("visit", "visited on", "visit_date")
    ),
    Column(
        "question", gettext_lazy("Question key"), parse_text(32), aliases=("question", "key", "question_key")
    ),
    Column("answer", gettext_lazy("Answer"), parse_answer),
    Column("finding", gettext_lazy("Finding"), parse_text(5000), required=False),
    Column(
        "final_on",
        gettext_lazy("Report final on"),
        parse_date,
        required=False,
        aliases=("final on", "final_on", "report final"),
    ),
]


@dataclass
class _Cycle:
    """The rows of one factory's cycle: one final assessment."""

    factory: Factory
    cycle: int
    visit_date: dt.date
    final_on: dt.date | None
    version: ToolVersion
    first_row: int
    answer_count: int
    existing: Assessment | None = None


# The file's rows live in temporary tables of the transaction that checks, plans and writes them:
# whatever the file's length, the importer holds only its cycles (a few hundred for a year).
STAGED = "pg_temp.history_rows"  # the rows as parsed
CHECKED = "pg_temp.history_checked"  # each row with its factory, tool and question, or its problem
TARGETS = "pg_temp.history_targets"  # each cycle's assessment, when writing


@dataclass(frozen=True, eq=False)
class StagedRows:
    """What ``HistoryImporter.load`` holds of a file instead of a list: its rows are in ``STAGED``."""

    count: int


class HistoryImporter(BaseImporter):
    kind = KIND
    columns = COLUMNS
    max_bytes = MAX_BYTES
    max_rows = MAX_ROWS

    background = True

    def __init__(self, programme: Programme, decisions: Mapping[int, str] | None = None) -> None:
        self.programme = programme  # a file of answers leaves nothing to choose: no decisions
        self._grouped: tuple[StagedRows, tuple[list[_Cycle], list[RowError]]] | None = None

    # --- The importer's interface ------------------------------------------------------

    def load(self, rows: Iterator[dict[str, Any]]) -> StagedRows:  # type: ignore[override]
        """COPY the rows into ``STAGED``, a few thousand at a time (a file found unreadable
        halfway stops between two COPYs, with its own message)."""
        self._grouped = None
        count = 0
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGED}, {CHECKED}, {TARGETS}")
            cursor.execute(
                f"""CREATE TEMPORARY TABLE {STAGED.removeprefix("pg_temp.")} (
                    line integer PRIMARY KEY, programme text NOT NULL, factory text NOT NULL,
                    factory_key text NOT NULL, cycle integer NOT NULL, visit date NOT NULL,
                    question text NOT NULL, answer text NOT NULL, finding text NOT NULL, final_on date
                ) ON COMMIT DROP"""
            )
            for batch in batched(rows, LOAD_BATCH):
                text = "".join(_staged_line(row) for row in batch)
                cursor.copy_expert(f"COPY {STAGED} FROM STDIN", io.BytesIO(text.encode()))
                count += len(batch)
            # Temporary tables are never analysed on their own: the checks' plan needs the counts.
            cursor.execute(f"ANALYZE {STAGED}")
        return StagedRows(count)

    def check(self, *, rows: StagedRows, target: Any) -> list[RowError]:  # type: ignore[override]
        return self.grouped(rows)[1]

    def plan(self, *, rows: StagedRows, target: Any) -> list[PlannedRow]:  # type: ignore[override]
        cycles, _errors = self.grouped(rows)
        changes = _changes_shown([item for item in cycles if item.existing is not None])
        plan = []
        for item in cycles:
            label = _("%(factory)s (%(id)s), cycle %(cycle)s, visit %(date)s: %(count)s answers") % {
                "factory": item.factory.name,
                "id": item.factory.public_id,
                "cycle": item.cycle,
                "date": item.visit_date.isoformat(),
                "count": item.answer_count,
            }
            if item.existing is None:
                plan.append(PlannedRow(item.first_row, CREATE, label))
                continue
            shown, total = changes.get(item.existing.pk, ([], 0))
            if total > len(shown):
                more = total - len(shown)
                shown.append(
                    ngettext("… and %(count)s more answer", "… and %(count)s more answers", more)
                    % {"count": more}
                )
            plan.append(
                PlannedRow(
                    item.first_row,
                    UPDATE if total else UNCHANGED,
                    label,
                    changes=shown,
                    record=item.existing.pk,
                )
            )
        return plan

    def apply(self, *, rows: StagedRows, target: Any, actor: Principal) -> dict[str, int]:  # type: ignore[override]
        return write_cycles(self, rows, actor)

    # --- Grouping and checking ---------------------------------------------------------

    def grouped(self, rows: StagedRows) -> tuple[list[_Cycle], list[RowError]]:
        """The file's rows as cycles of factories, and every problem found: worked out once per
        load (checking, planning and writing ask in turn, in one transaction), under the
        programme's lock, so that two imports of the same cycles never both create them."""
        if self._grouped is not None and self._grouped[0] is rows:
            return self._grouped[1]
        Programme.objects.select_for_update().filter(pk=self.programme.pk).first()
        result = self._group()
        self._grouped = (rows, result)
        return result

    def _group(self) -> tuple[list[_Cycle], list[RowError]]:
        programme = self.programme
        factories = _factories(programme)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT visit FROM {STAGED}")
            versions = tools_in_force(
                programme_code=programme.code, days=[day for (day,) in cursor.fetchall()]
            )
            in_force = {day: version for day, version in versions.items() if version is not None}
            cursor.execute(
                CHECK_ROWS,
                {
                    "programme": programme.code,
                    "keys": list(factories),
                    "factories": [factory.pk for factory in factories.values()],
                    "days": list(in_force),
                    "versions": [version.pk for version in in_force.values()],
                },
            )
            cursor.execute(f"ALTER TABLE {CHECKED} ADD PRIMARY KEY (line)")
            cursor.execute(f"ANALYZE {CHECKED}")
            cursor.execute(
                f"SELECT line, problem, programme, factory, visit, question, first_row, cycle_visit,"
                f" cycle_final, answered_on, cycle FROM {CHECKED}"
                f" WHERE problem IS NOT NULL ORDER BY line LIMIT %s",
                [MAX_ERRORS],
            )
            errors = Problems(_row_error(programme, versions, *found) for found in cursor.fetchall())
            if len(errors) == MAX_ERRORS:
                cursor.execute(f"SELECT count(*) FROM {CHECKED} WHERE problem IS NOT NULL")
                errors.more = cursor.fetchone()[0] - MAX_ERRORS
            cursor.execute(
                f"SELECT factory_id, cycle, min(visit), max(final_on), min(version_id), min(line), count(*)"
                f" FROM {CHECKED} WHERE problem IS NULL GROUP BY factory_id, cycle ORDER BY min(line)"
            )
            by_id = {factory.pk: factory for factory in factories.values()}
            tools = {version.pk: version for version in in_force.values()}
            cycles = [
                _Cycle(by_id[factory_id], cycle, visit, final_on, tools[version_id], first_row, count)
                for factory_id, cycle, visit, final_on, version_id, first_row, count in cursor.fetchall()
            ]
        errors += _against_the_platform(cycles, programme)
        errors.sort(key=lambda error: error.row)
        return cycles, errors


LOAD_BATCH = 5000  # rows per COPY into the staging table


def _staged_line(row: dict[str, Any]) -> str:
    factory = row["factory"].strip()
    values = (
        row["_row"],
        (row.get("programme") or "").strip(),
        factory,
        factory.casefold(),
        row["cycle"],
        row["visit_date"],
        row["question"].strip(),
        row["answer"],
        (row.get("finding") or "").strip(),
        row.get("final_on"),
    )
    return "\t".join(copy_text(value) for value in values) + "\n"


# Each row checked in the order a person would (the first problem of a row is the one told):
# programme, factory, tool in force, question, finding; then, among the rows that pass, the
# cycle's visit date and final date are its first row's, and a question is answered once.
CHECK_ROWS = f"""
CREATE TEMPORARY TABLE {CHECKED.removeprefix("pg_temp.")} ON COMMIT DROP AS
WITH resolved AS (
    SELECT h.*, f.factory_id, v.version_id, q.id AS question_id,
        CASE
            WHEN h.programme <> '' AND lower(h.programme) <> lower(%(programme)s) THEN 'programme'
            WHEN f.factory_id IS NULL THEN 'factory'
            WHEN v.version_id IS NULL THEN 'tool'
            WHEN q.id IS NULL THEN 'question'
            WHEN h.answer = '{AnswerValue.NON_COMPLIANT}' AND h.finding = '' THEN 'finding'
        END AS problem
    FROM {STAGED} h
    LEFT JOIN unnest(%(keys)s::text[], %(factories)s::integer[]) AS f(factory_key, factory_id)
        USING (factory_key)
    LEFT JOIN unnest(%(days)s::date[], %(versions)s::integer[]) AS v(visit, version_id) USING (visit)
    LEFT JOIN {Question._meta.db_table} q ON q.version_id = v.version_id AND q.key = h.question
), cycles AS (
    SELECT line, visit, final_on,
        first_value(line) OVER w AS first_row, first_value(visit) OVER w AS cycle_visit
    FROM resolved WHERE problem IS NULL
    WINDOW w AS (PARTITION BY factory_id, cycle ORDER BY line)
), dated AS (
    SELECT r.line, r.final_on, c.first_row, c.cycle_visit,
        first_value(r.final_on) OVER (
            PARTITION BY r.factory_id, r.cycle ORDER BY r.final_on IS NULL, r.line
        ) AS cycle_final
    FROM resolved r JOIN cycles c USING (line) WHERE c.visit = c.cycle_visit
), answered AS (
    SELECT r.line, first_value(r.line) OVER (
            PARTITION BY r.factory_id, r.cycle, r.question_id ORDER BY r.line
        ) AS answered_on
    FROM resolved r JOIN dated d USING (line) WHERE d.final_on IS NULL OR d.final_on = d.cycle_final
)
SELECT r.line, r.programme, r.factory, r.factory_id, r.cycle, r.visit, r.final_on, r.version_id,
    r.question, r.question_id, r.answer, r.finding, c.first_row, c.cycle_visit, d.cycle_final,
    a.answered_on,
    coalesce(
        r.problem,
        CASE
            WHEN d.line IS NULL THEN 'visit'
            WHEN a.line IS NULL THEN 'final_on'
            WHEN a.answered_on <> r.line THEN 'twice'
        END
    ) AS problem
FROM resolved r
LEFT JOIN cycles c USING (line)
LEFT JOIN dated d USING (line)
LEFT JOIN answered a USING (line)
"""


class Problems(list[RowError]):
    """The first ``MAX_ERRORS`` problems, and how many more there are."""

    more = 0


def _row_error(
    programme: Programme,
    versions: Mapping[dt.date, ToolVersion | None],
    line: int,
    problem: str,
    code: str,
    factory: str,
    visit: dt.date,
    question: str,
    first_row: int | None,
    cycle_visit: dt.date | None,
    cycle_final: dt.date | None,
    answered_on: int | None,
    cycle: int,
) -> RowError:
    if problem == "programme":
        message = _("This row is for programme %(row)s; this import is for %(programme)s.") % {
            "row": code,
            "programme": programme.code,
        }
        return RowError(line, str(COLUMNS[0].header), message)
    if problem == "factory":
        message = _("No factory of the programme has the id or legacy id “%(value)s”.") % {"value": factory}
        return RowError(line, str(COLUMNS[1].header), message)
    if problem == "tool":
        message = _("No published compliance tool is in force on %(date)s.") % {"date": visit}
        return RowError(line, str(COLUMNS[3].header), message)
    if problem == "question":
        version = versions[visit]
        assert version is not None
        message = _("The tool in force on %(date)s (%(tool)s %(version)s) has no question “%(key)s”.") % {
            "date": visit,
            "tool": version.tool,
            "version": version.version,
            "key": question,
        }
        return RowError(line, str(COLUMNS[4].header), message)
    if problem == "finding":
        return RowError(line, str(COLUMNS[6].header), _("A non-compliant answer needs its finding."))
    if problem == "visit":
        message = _("Row %(row)s gives this factory's cycle %(cycle)s the visit date %(date)s.") % {
            "row": first_row,
            "cycle": cycle,
            "date": cycle_visit,
        }
        return RowError(line, str(COLUMNS[3].header), message)
    if problem == "final_on":
        message = _("Row %(row)s says this factory's cycle %(cycle)s became final on %(date)s.") % {
            "row": first_row,
            "cycle": cycle,
            "date": cycle_final,
        }
        return RowError(line, str(COLUMNS[7].header), message)
    message = _("Question %(key)s of this factory's cycle %(cycle)s is answered on row %(row)s too.") % {
        "key": question,
        "cycle": cycle,
        "row": answered_on,
    }
    return RowError(line, str(COLUMNS[4].header), message)


def _factories(programme: Programme) -> dict[str, Factory]:
    """The programme's factories by folded factory id and legacy id (an id wins over a legacy id)."""
    found: dict[str, Factory] = {}
    # Whole rows: the figures read each factory's region, sector, size and union presence.
    factories = list(Factory.objects.filter(programme=programme))
    for factory in factories:
        if factory.legacy_id:
            found.setdefault(factory.legacy_id.strip().casefold(), factory)
    for factory in factories:
        found[factory.public_id.casefold()] = factory
    return found


def _against_the_platform(cycles: list[_Cycle], programme: Programme) -> list[RowError]:
    """Cycles the platform already holds: final ones are compared later; others are errors."""
    if not cycles:
        return []
    existing = {
        (a.factory_id, a.cycle): a
        for a in Assessment.objects.filter(programme=programme)
        .exclude(status=AssessmentStatus.CANCELLED)
        .filter(
            factory_id__in={item.factory.pk for item in cycles}, cycle__in={item.cycle for item in cycles}
        )
        .select_related("tool_version")
    }
    errors = []
    for item in cycles:
        found = existing.get((item.factory.pk, item.cycle))
        if found is None:
            continue
        where = {"cycle": item.cycle, "factory": item.factory.public_id}
        if found.status not in COUNTED:
            errors.append(
                RowError(
                    item.first_row,
                    "",
                    _(
                        "Cycle %(cycle)s of %(factory)s is an assessment under way in the platform (%(status)s): "
                        "finish or cancel it first."
                    )
                    % {**where, "status": found.get_status_display()},
                )
            )
        elif found.visit_started_on and found.visit_started_on != item.visit_date:
            errors.append(
                RowError(
                    item.first_row,
                    str(COLUMNS[3].header),
                    _("Cycle %(cycle)s of %(factory)s was visited on %(date)s in the platform.")
                    % {**where, "date": found.visit_started_on},
                )
            )
        elif found.tool_version_id != item.version.pk:
            errors.append(
                RowError(
                    item.first_row,
                    "",
                    _(
                        "Cycle %(cycle)s of %(factory)s was assessed with tool version %(version)s in the platform."
                    )
                    % {**where, "version": found.tool_version.version},
                )
            )
        else:
            item.existing = found
    return errors


def _existing(cycles: list[_Cycle]) -> dict[str, list[int]]:
    """The cycles the platform holds, as arrays for ``unnest``."""
    held = [item for item in cycles if item.existing is not None]
    return {
        "factories": [item.factory.pk for item in held],
        "cycles": [item.cycle for item in held],
        "assessments": [item.existing.pk for item in held if item.existing is not None],
    }


# The file's answers that differ from those of the cycles the platform holds, by question key.
CHANGED_ANSWERS = f"""
SELECT e.assessment_id, q.key, a.id IS NOT NULL, coalesce(a.value, ''), h.answer,
    row_number() OVER held AS place, count(*) OVER held AS total
FROM {CHECKED} h
JOIN unnest(%(factories)s::integer[], %(cycles)s::integer[], %(assessments)s::integer[])
    AS e(factory_id, cycle, assessment_id) USING (factory_id, cycle)
JOIN {Question._meta.db_table} q ON q.id = h.question_id
LEFT JOIN {Answer._meta.db_table} a ON a.assessment_id = e.assessment_id AND a.question_id = h.question_id
WHERE h.problem IS NULL AND (a.id IS NULL OR a.value <> h.answer OR a.finding <> h.finding)
WINDOW held AS (PARTITION BY e.assessment_id ORDER BY q.key)
"""


def _changes_shown(cycles: list[_Cycle]) -> dict[int, tuple[list[str], int]]:
    """For the preview: the first ``CHANGES_SHOWN`` changes of each held cycle, and their number."""
    if not cycles:
        return {}
    labels = dict(AnswerValue.choices)
    found: dict[int, tuple[list[str], int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM ({CHANGED_ANSWERS}) c WHERE place <= %(shown)s ORDER BY 1, place",
            {
                **_existing(cycles),
                "shown": CHANGES_SHOWN,
            },
        )
        for assessment_id, key, answered, old, new, _place, total in cursor.fetchall():
            if not answered:
                line = _("%(key)s: not answered → %(new)s") % {"key": key, "new": labels[new]}
            elif old != new:
                line = _("%(key)s: %(old)s → %(new)s") % {"key": key, "old": labels[old], "new": labels[new]}
            else:
                line = _("%(key)s: the finding changes") % {"key": key}
            found.setdefault(assessment_id, ([], total))[0].append(line)
    return found


# --- Writing ----------------------------------------------------------------------------------


def _final_at(item: _Cycle, programme: Programme) -> dt.datetime:
    """When the report became final: the day given, else the visit's, at noon in the programme's zone."""
    day = item.final_on or item.visit_date
    return dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo(programme.time_zone))


# A batch of the file's answers that its cycles' assessments lack, written; says how many and
# the last line written (the next batch starts after it).
WRITE_ANSWERS = f"""
WITH batch AS (
    SELECT h.line, t.assessment_id, h.question_id, h.answer, h.finding
    FROM {CHECKED} h JOIN {TARGETS} t USING (factory_id, cycle)
    WHERE h.problem IS NULL AND h.line > %(after)s AND NOT EXISTS (
        SELECT FROM {Answer._meta.db_table} a
        WHERE a.assessment_id = t.assessment_id AND a.question_id = h.question_id
    )
    ORDER BY h.line LIMIT %(size)s
), written AS (
    INSERT INTO {Answer._meta.db_table}
        (programme_id, assessment_id, question_id, value, finding, evidence, version, updated_by_id, updated_at)
    SELECT %(programme)s, assessment_id, question_id, answer, finding, '[]'::jsonb, 1, %(user)s, %(now)s
    FROM batch
)
SELECT count(*), max(line) FROM batch
"""

# The held cycles' answers the file changes, in place, with a new version each.
REVISE_ANSWERS = f"""
UPDATE {Answer._meta.db_table} a
SET value = h.answer, finding = h.finding, updated_by_id = %(user)s, updated_at = %(now)s,
    version = a.version + 1
FROM {CHECKED} h JOIN {TARGETS} t USING (factory_id, cycle)
WHERE h.problem IS NULL AND a.assessment_id = t.assessment_id AND a.question_id = h.question_id
    AND (a.value <> h.answer OR a.finding <> h.finding)
"""


def write_cycles(importer: HistoryImporter, rows: StagedRows, actor: Principal) -> dict[str, int]:
    """New cycles as final assessments with their answers; revised cycles get their changed
    answers and a new lock version, each on record with the file as the reason; all in a few
    statements per 5,000 answers, straight from the checked rows. Then the figures count them
    (``assessments_imported``)."""
    programme = importer.programme
    cycles, errors = importer.grouped(rows)
    if errors:
        raise RowsInvalid(errors)
    reason = _("Imported from a spreadsheet of historical assessments")
    creates = [item for item in cycles if item.existing is None]
    new = Assessment.objects.bulk_create(
        Assessment(
            programme=programme,
            factory=item.factory,
            tool_version=item.version,
            cycle=item.cycle,
            status=AssessmentStatus.FINAL,
            planned_date=item.visit_date,
            visit_started_on=item.visit_date,
            visit_ended_on=item.visit_date,
            final_at=_final_at(item, programme),
        )
        for item in creates
    )
    held = [item for item in cycles if item.existing is not None]
    changes = _changes(held)  # before writing: the audit keeps the answers they replace
    targets = [(a.factory_id, a.cycle, a.pk) for a in new] + [
        (item.factory.pk, item.cycle, item.existing.pk) for item in held if item.existing is not None
    ]
    written = 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {TARGETS.removeprefix('pg_temp.')} ON COMMIT DROP AS"
            f" SELECT * FROM unnest(%s::integer[], %s::integer[], %s::integer[]) AS t(factory_id, cycle, assessment_id)",
            [list(column) for column in zip(*targets, strict=True)] if targets else [[], [], []],
        )
        cursor.execute(f"ALTER TABLE {TARGETS} ADD PRIMARY KEY (factory_id, cycle)")
        writing = {
            "programme": programme.pk,
            "user": actor.user.pk if actor.user else None,
            "now": timezone.now(),
        }
        cursor.execute(REVISE_ANSWERS, writing)
        updated = cursor.rowcount
        after = 0
        while True:
            cursor.execute(WRITE_ANSWERS, {**writing, "after": after, "size": WRITE_BATCH})
            count, last = cursor.fetchone()
            if not count:
                break
            written, after = written + count, last
            importer.progress.advance(count)
        importer.progress.advance(rows.count - written)  # rows that changed or kept an answer
        if written >= ANALYZE_FROM:
            # Statistics that know of the new rows: the figures' queries that follow in this
            # transaction planned a nested loop over "a few" answers and took seconds instead.
            cursor.execute(f"ANALYZE {Answer._meta.db_table}, {Assessment._meta.db_table}")
    revised = [item.existing for item in held if item.existing is not None and item.existing.pk in changes]
    if revised:
        # A new lock version: the revision is a change of the assessment as a whole (the public
        # transparency list, for one, sees it).
        Assessment.objects.filter(pk__in=[assessment.pk for assessment in revised]).update(
            lock_version=F("lock_version") + 1
        )
        for assessment in revised:
            assessment.lock_version += 1
    audit.record_many(
        actor=actor.user,
        action="assessment.import",
        programme=programme,
        reason=reason,
        changes=[
            (
                assessment,
                None,
                {
                    "factory": item.factory.public_id,
                    "cycle": item.cycle,
                    "visit": str(item.visit_date),
                    "answers": item.answer_count,
                },
            )
            for assessment, item in zip(new, creates, strict=True)
        ],
    )
    audit.record_many(
        actor=actor.user,
        action="assessment.revise",
        programme=programme,
        reason=reason,
        changes=[
            (
                assessment,
                {key: old for key, (old, _new) in changes[assessment.pk].items()},
                {key: now for key, (_old, now) in changes[assessment.pk].items()},
            )
            for assessment in revised
        ],
    )
    importer.progress.stage("counting", len(new) + len(revised))
    assessments_imported.send(sender=Assessment, programme=programme, assessments=[*new, *revised])
    importer.progress.advance(len(new) + len(revised))
    return {
        "created": len(new),
        "updated": len(revised),
        "unchanged": len(cycles) - len(new) - len(revised),
        "answers": written + updated,
    }


def _changes(held: list[_Cycle]) -> dict[int, dict[str, tuple[str, str]]]:
    """What the file changes in the cycles the platform holds: per assessment, question key →
    (answer before, or "" when unanswered; answer after)."""
    found: dict[int, dict[str, tuple[str, str]]] = {}
    if held:
        with connection.cursor() as cursor:
            cursor.execute(CHANGED_ANSWERS, _existing(held))
            for assessment_id, key, _answered, old, new, _place, _total in cursor.fetchall():
                found.setdefault(assessment_id, {})[key] = (old, new)
    return found


def history_rows(programme: Programme) -> Iterator[list[Any]]:
    """Every answer of the programme's final and published assessments, in the import's columns,
    read in chunks: exported here, a file imports back unchanged. Read while the response is
    sent, after the request's own scope has ended: so in a scope and a read-only transaction of
    its own (one consistent snapshot however long the download)."""
    labels = {"C": "compliant", "NC": "non_compliant", "NA": "not_applicable"}
    zone = ZoneInfo(programme.time_zone)
    with tenancy.scope({programme.pk}), transaction.atomic():
        answers = (
            Answer.objects.filter(programme=programme, assessment__status__in=COUNTED)
            .order_by("assessment__factory__public_id", "assessment__cycle", "question__order", "question_id")
            .values_list(
                "assessment__factory__public_id",
                "assessment__cycle",
                "assessment__visit_started_on",
                "assessment__planned_date",
                "question__key",
                "value",
                "finding",
                "assessment__final_at",
            )
        )
        for public_id, cycle, visited, planned, key, value, finding, final_at in answers.iterator(
            chunk_size=5000
        ):
            final_on = final_at.astimezone(zone).date() if final_at else None
            yield [
                programme.code,
                public_id,
                cycle,
                visited or planned,
                key,
                labels[value],
                finding,
                final_on,
            ]
