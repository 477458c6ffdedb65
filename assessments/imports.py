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

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import batched, chain
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from assessments.figures import COUNTED
from assessments.lifecycle import tool_for
from assessments.models import Answer, AnswerValue, Assessment, AssessmentStatus, Question, ToolVersion
from assessments.signals import assessments_imported
from betterwork import audit, tenancy
from betterwork.imports import CREATE, UNCHANGED, UPDATE, BaseImporter, PlannedRow, RowsInvalid
from betterwork.models import Programme
from betterwork.permissions import Principal
from betterwork.spreadsheets import Column, RowError, parse_date, parse_int, parse_text
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
    answers: dict[int, tuple[str, str]] = field(default_factory=dict)  # question id → (value, finding)
    existing: Assessment | None = None


class HistoryImporter(BaseImporter):
    kind = KIND
    columns = COLUMNS
    max_bytes = MAX_BYTES
    max_rows = MAX_ROWS

    background = True

    def __init__(self, programme: Programme, decisions: Mapping[int, str] | None = None) -> None:
        self.programme = programme  # a file of answers leaves nothing to choose: no decisions
        self._grouped: tuple[list[dict[str, Any]], tuple[list[_Cycle], list[RowError]]] | None = None

    # --- The importer's interface ------------------------------------------------------

    def check(self, *, rows: list[dict[str, Any]], target: Any) -> list[RowError]:
        return self.grouped(rows)[1]

    def plan(self, *, rows: list[dict[str, Any]], target: Any) -> list[PlannedRow]:
        cycles, _errors = self.grouped(rows)
        existing_answers = _answers_of([c.existing.pk for c in cycles if c.existing is not None])
        questions = _question_keys(cycles)
        plan = []
        for item in cycles:
            label = _("%(factory)s (%(id)s), cycle %(cycle)s, visit %(date)s: %(count)s answers") % {
                "factory": item.factory.name,
                "id": item.factory.public_id,
                "cycle": item.cycle,
                "date": item.visit_date.isoformat(),
                "count": len(item.answers),
            }
            if item.existing is None:
                plan.append(PlannedRow(item.first_row, CREATE, label))
                continue
            changes = _answer_changes(existing_answers.get(item.existing.pk, {}), item.answers, questions)
            shown = changes[:CHANGES_SHOWN]
            if len(changes) > CHANGES_SHOWN:
                more = len(changes) - CHANGES_SHOWN
                shown.append(
                    ngettext("… and %(count)s more answer", "… and %(count)s more answers", more)
                    % {"count": more}
                )
            plan.append(
                PlannedRow(
                    item.first_row,
                    UPDATE if changes else UNCHANGED,
                    label,
                    changes=shown,
                    record=item.existing.pk,
                )
            )
        return plan

    def apply(self, *, rows: list[dict[str, Any]], target: Any, actor: Principal) -> dict[str, int]:
        return write_cycles(self, rows, actor)

    # --- Grouping and checking ---------------------------------------------------------

    def grouped(self, rows: list[dict[str, Any]]) -> tuple[list[_Cycle], list[RowError]]:
        """The file's rows as cycles of factories, and every problem found: worked out once per
        list of rows (checking, planning and writing ask in turn, in one transaction), under the
        programme's lock, so that two imports of the same cycles never both create them."""
        if self._grouped is not None and self._grouped[0] is rows:
            return self._grouped[1]
        Programme.objects.select_for_update().filter(pk=self.programme.pk).first()
        result = self._group(rows)
        self._grouped = (rows, result)
        return result

    def _group(self, rows: list[dict[str, Any]]) -> tuple[list[_Cycle], list[RowError]]:
        programme = self.programme
        factories = _factories(programme)
        versions: dict[dt.date, ToolVersion | None] = {}
        questions: dict[int, dict[str, Question]] = {}
        cycles: dict[tuple[int, int], _Cycle] = {}
        seen: dict[tuple[int, int, int], int] = {}
        errors: list[RowError] = []

        def error(row: dict[str, Any], column: Any, message: str) -> None:
            errors.append(RowError(row["_row"], str(column), message))

        for row in rows:
            code = (row.get("programme") or "").strip()
            if code and code.casefold() != programme.code.casefold():
                error(
                    row,
                    COLUMNS[0].header,
                    _("This row is for programme %(row)s; this import is for %(programme)s.")
                    % {"row": code, "programme": programme.code},
                )
                continue
            factory = factories.get(row["factory"].strip().casefold())
            if factory is None:
                error(
                    row,
                    COLUMNS[1].header,
                    _("No factory of the programme has the id or legacy id “%(value)s”.")
                    % {"value": row["factory"]},
                )
                continue
            visit = row["visit_date"]
            if visit not in versions:
                try:
                    versions[visit] = tool_for(programme_code=programme.code, on=visit)
                except ValidationError:
                    versions[visit] = None
            version = versions[visit]
            if version is None:
                error(
                    row,
                    COLUMNS[3].header,
                    _("No published compliance tool is in force on %(date)s.") % {"date": visit},
                )
                continue
            if version.pk not in questions:
                questions[version.pk] = {q.key: q for q in Question.objects.filter(version=version)}
            question = questions[version.pk].get(row["question"].strip())
            if question is None:
                error(
                    row,
                    COLUMNS[4].header,
                    _("The tool in force on %(date)s (%(tool)s %(version)s) has no question “%(key)s”.")
                    % {
                        "date": visit,
                        "tool": version.tool,
                        "version": version.version,
                        "key": row["question"],
                    },
                )
                continue
            if row["answer"] == AnswerValue.NON_COMPLIANT and not (row.get("finding") or "").strip():
                error(row, COLUMNS[6].header, _("A non-compliant answer needs its finding."))
                continue
            key = (factory.pk, row["cycle"])
            item = cycles.get(key)
            if item is None:
                item = cycles[key] = _Cycle(
                    factory, row["cycle"], visit, row.get("final_on"), version, first_row=row["_row"]
                )
            elif visit != item.visit_date:
                error(
                    row,
                    COLUMNS[3].header,
                    _("Row %(row)s gives this factory's cycle %(cycle)s the visit date %(date)s.")
                    % {"row": item.first_row, "cycle": item.cycle, "date": item.visit_date},
                )
                continue
            elif row.get("final_on") and item.final_on and row["final_on"] != item.final_on:
                error(
                    row,
                    COLUMNS[7].header,
                    _("Row %(row)s says this factory's cycle %(cycle)s became final on %(date)s.")
                    % {"row": item.first_row, "cycle": item.cycle, "date": item.final_on},
                )
                continue
            item.final_on = item.final_on or row.get("final_on")
            answer_key = (factory.pk, row["cycle"], question.pk)
            if answer_key in seen:
                error(
                    row,
                    COLUMNS[4].header,
                    _("Question %(key)s of this factory's cycle %(cycle)s is answered on row %(row)s too.")
                    % {"key": question.key, "cycle": row["cycle"], "row": seen[answer_key]},
                )
                continue
            seen[answer_key] = row["_row"]
            item.answers[question.pk] = (row["answer"], (row.get("finding") or "").strip())
        errors += _against_the_platform(list(cycles.values()), programme)
        return sorted(cycles.values(), key=lambda c: c.first_row), errors


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
    wanted = Q()
    for item in cycles:
        wanted |= Q(factory_id=item.factory.pk, cycle=item.cycle)
    existing = {
        (a.factory_id, a.cycle): a
        for a in Assessment.objects.filter(programme=programme)
        .exclude(status=AssessmentStatus.CANCELLED)
        .filter(wanted)
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


def _answers_of(assessment_ids: list[int]) -> dict[int, dict[int, tuple[str, str]]]:
    found: dict[int, dict[int, tuple[str, str]]] = {}
    if assessment_ids:
        for assessment_id, question_id, value, finding in Answer.objects.filter(
            assessment_id__in=assessment_ids
        ).values_list("assessment_id", "question_id", "value", "finding"):
            found.setdefault(assessment_id, {})[question_id] = (value, finding)
    return found


def _question_keys(cycles: Iterable[_Cycle]) -> dict[int, str]:
    versions = {item.version.pk for item in cycles}
    return dict(Question.objects.filter(version_id__in=versions).values_list("pk", "key"))


def _answer_changes(
    before: dict[int, tuple[str, str]], after: dict[int, tuple[str, str]], keys: dict[int, str]
) -> list[str]:
    """What the file changes in an assessment's answers; questions the file leaves out keep theirs."""
    labels = dict(AnswerValue.choices)
    lines = []
    for question_id, (value, finding) in sorted(after.items(), key=lambda item: keys.get(item[0], "")):
        old = before.get(question_id)
        if old == (value, finding):
            continue
        key = keys.get(question_id, "?")
        if old is None:
            lines.append(_("%(key)s: not answered → %(new)s") % {"key": key, "new": labels[value]})
        elif old[0] != value:
            lines.append(
                _("%(key)s: %(old)s → %(new)s") % {"key": key, "old": labels[old[0]], "new": labels[value]}
            )
        else:
            lines.append(_("%(key)s: the finding changes") % {"key": key})
    return lines


# --- Writing ----------------------------------------------------------------------------------


def _final_at(item: _Cycle, programme: Programme) -> dt.datetime:
    """When the report became final: the day given, else the visit's, at noon in the programme's zone."""
    day = item.final_on or item.visit_date
    return dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo(programme.time_zone))


def write_cycles(importer: HistoryImporter, rows: list[dict[str, Any]], actor: Principal) -> dict[str, int]:
    """New cycles as final assessments with their answers (a few INSERTs whatever their number);
    revised cycles get their changed answers and a new lock version, each on record with the
    file as the reason. Then the figures count them (``assessments_imported``)."""
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
    added: list[Answer] = []  # answers new to revised cycles
    revised, changed_answers = _revise(
        [item for item in cycles if item.existing is not None], programme, actor, added
    )
    # Made a batch at a time: a model instance per answer of the file would take more memory
    # than the file's rows themselves.
    answers = chain(
        (
            _answer(assessment, question_id, value, finding, actor)
            for assessment, item in zip(new, creates, strict=True)
            for question_id, (value, finding) in item.answers.items()
        ),
        added,
    )
    written = 0
    for batch in batched(answers, WRITE_BATCH):
        Answer.objects.bulk_create(batch)
        importer.progress.advance(len(batch))
        written += len(batch)
    importer.progress.advance(len(rows) - written)  # rows that changed or kept an answer
    if written >= ANALYZE_FROM:
        # Statistics that know of the new rows: the figures' queries that follow in this
        # transaction planned a nested loop over "a few" answers and took seconds instead.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Answer._meta.db_table}, {Assessment._meta.db_table}")
    keys = _question_keys(cycles)
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
                    "answers": len(item.answers),
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
                {keys[q]: old for q, (old, _new) in changes.items()},
                {keys[q]: now for q, (_old, now) in changes.items()},
            )
            for assessment, changes in revised
        ],
    )
    importer.progress.stage("counting", len(new) + len(revised))
    assessments_imported.send(
        sender=Assessment,
        programme=programme,
        assessments=[*new, *(assessment for assessment, _c in revised)],
    )
    importer.progress.advance(len(new) + len(revised))
    return {
        "created": len(new),
        "updated": len(revised),
        "unchanged": len(cycles) - len(new) - len(revised),
        "answers": written + changed_answers,
    }


def _answer(assessment: Assessment, question_id: int, value: str, finding: str, actor: Principal) -> Answer:
    return Answer(
        programme_id=assessment.programme_id,
        assessment=assessment,
        question_id=question_id,
        value=value,
        finding=finding,
        updated_by=actor.user,
    )


def _revise(
    cycles: list[_Cycle], programme: Programme, actor: Principal, new_answers: list[Answer]
) -> tuple[list[tuple[Assessment, dict[int, tuple[str, str]]]], int]:
    """Apply the file's answers to cycles the platform holds; new answers are added to
    ``new_answers``. Returns each revised assessment with its changes (question → (old, new)
    value) and the number of answers changed."""
    existing = _answers_of([item.existing.pk for item in cycles if item.existing is not None])
    rows = {
        (answer.assessment_id, answer.question_id): answer
        for answer in Answer.objects.filter(assessment_id__in=[i.existing.pk for i in cycles if i.existing])
    }
    updated: list[Answer] = []
    revised = []
    for item in cycles:
        assessment = item.existing
        assert assessment is not None
        before = existing.get(assessment.pk, {})
        changes: dict[int, tuple[str, str]] = {}
        for question_id, (value, finding) in item.answers.items():
            old = before.get(question_id)
            if old == (value, finding):
                continue
            changes[question_id] = (old[0] if old else "", value)
            answer = rows.get((assessment.pk, question_id))
            if answer is None:
                new_answers.append(_answer(assessment, question_id, value, finding, actor))
            else:
                answer.value, answer.finding, answer.updated_by = value, finding, actor.user
                answer.version += 1
                updated.append(answer)
        if changes:
            revised.append((assessment, changes))
    if updated:
        Answer.objects.bulk_update(updated, ["value", "finding", "updated_by", "version"], batch_size=2000)
    if revised:
        # A new lock version: the revision is a change of the assessment as a whole (the public
        # transparency list, for one, sees it).
        Assessment.objects.filter(pk__in=[assessment.pk for assessment, _changes in revised]).update(
            lock_version=F("lock_version") + 1
        )
        for assessment, _changes in revised:
            assessment.lock_version += 1
    return revised, len(updated)


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
