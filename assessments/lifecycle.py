"""The life of an assessment: planning, transitions and answers. Every write is checked,
audited, and safe when two people act at once (row locks and version checks)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments import selectors
from assessments.cases import open_cases_for
from assessments.models import (
    Answer,
    AnswerValue,
    Assessment,
    AssessmentAssessor,
    AssessmentStatus,
    EvidenceSource,
    Question,
    Round,
    ToolStatus,
    ToolVersion,
)
from assessments.signals import assessment_finalised, assessment_published
from betterwork import audit, notifications, permissions
from betterwork import selectors as people_selectors
from betterwork.models import PROGRAMME_STAFF_ROLES, User
from betterwork.permissions import Principal
from factories.models import Factory

S = AssessmentStatus


class StaleState(ValidationError):
    """The assessment changed since the acting page was loaded: nothing was applied."""


@dataclass
class AnswerConflict(Exception):
    """Some answers changed since the editor loaded them; ``current`` holds the saved versions."""

    current: list[dict[str, Any]]


def programme_today(programme: Any) -> dt.date:
    return programme.today()


def tool_for(*, programme_code: str, on: dt.date) -> ToolVersion:
    """The published tool in force on a date: the country's own, else the global template."""
    version = tools_in_force(programme_code=programme_code, days=[on])[on]
    if version is None:
        raise ValidationError(_("No published compliance tool is in force on %(date)s.") % {"date": on})
    return version


def tools_in_force(*, programme_code: str, days: Iterable[dt.date]) -> dict[dt.date, ToolVersion | None]:
    """``tool_for`` of each day (None where no tool is in force), in one query however many days."""
    published = list(
        ToolVersion.objects.filter(tool__in=[programme_code, "global"], status=ToolStatus.PUBLISHED).order_by(
            "-effective_from"
        )
    )
    found: dict[dt.date, ToolVersion | None] = {}
    for day in days:
        in_force = [
            v
            for v in published
            if v.effective_from <= day and (v.effective_to is None or v.effective_to >= day)
        ]
        found[day] = next(
            (v for tool in (programme_code, "global") for v in in_force if v.tool == tool), None
        )
    return found


def assessor_ids(assessment: Assessment) -> set[int]:
    return set(AssessmentAssessor.objects.filter(assessment=assessment).values_list("user_id", flat=True))


@transaction.atomic
def assessment_plan(
    *,
    actor: Principal,
    factory: Factory,
    planned_date: dt.date,
    assessors: list[User],
    due_date: dt.date | None = None,
    round: Round | None = None,
) -> Assessment:
    if not permissions.can_plan_assessment(actor, factory.programme_id):
        raise PermissionDenied
    if len({a.pk for a in assessors}) < 2:
        raise ValidationError(
            {"assessors": _("Assessments are done in pairs: choose at least two assessors.")}
        )
    staff = set(
        User.objects.filter(
            pk__in=[a.pk for a in assessors],
            is_active=True,
            grants__programme_id=factory.programme_id,
            grants__role__in=sorted(PROGRAMME_STAFF_ROLES),
        ).values_list("pk", flat=True)
    )
    if staff != {a.pk for a in assessors}:
        raise ValidationError({"assessors": _("Every assessor must be active staff of this programme.")})
    if due_date is not None and due_date < planned_date:
        raise ValidationError({"due_date": _("The report cannot be due before the visit.")})
    if round is not None and not round.starts_on <= planned_date <= round.ends_on:
        raise ValidationError(
            {
                "planned_date": _("The visit must fall within the round: %(start)s to %(end)s.")
                % {"start": round.starts_on.isoformat(), "end": round.ends_on.isoformat()}
            }
        )
    # Lock the factory: two plans at once must not take the same cycle number.
    Factory.objects.select_for_update().get(pk=factory.pk)
    last = (
        Assessment.objects.filter(factory=factory).exclude(status=S.CANCELLED).aggregate(n=Max("cycle"))["n"]
    )
    assessment = Assessment(
        programme_id=factory.programme_id,
        factory=factory,
        tool_version=tool_for(programme_code=factory.programme.code, on=planned_date),
        cycle=(last or 0) + 1,
        round=round,
        planned_date=planned_date,
        due_date=due_date,
    )
    assessment.save()
    for n, user in enumerate(assessors):
        AssessmentAssessor(
            programme_id=factory.programme_id, assessment=assessment, user=user, lead=n == 0
        ).save()
    audit.record(
        actor=actor.user,
        action="assessment.plan",
        obj=assessment,
        programme=assessment.programme_id,
        after={**audit.snapshot(assessment), "assessors": [a.pk for a in assessors]},
    )
    return assessment


def missing_answers(assessment: Assessment) -> list[Question]:
    """Questions not yet answered, or non-compliant without a finding: what blocks submission."""
    answered = {
        a.question_id
        for a in Answer.objects.filter(assessment=assessment).exclude(value="")
        if a.value != AnswerValue.NON_COMPLIANT or a.finding.strip()
    }
    return [q for q in Question.objects.filter(version_id=assessment.tool_version_id) if q.pk not in answered]


# Which transitions exist, and who may make them.
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.PLANNED, S.IN_PROGRESS): "assessor",
    (S.IN_PROGRESS, S.SUBMITTED): "assessor",
    (S.SUBMITTED, S.IN_REVIEW): "reviewer",
    (S.IN_REVIEW, S.IN_PROGRESS): "reviewer",
    (S.IN_REVIEW, S.FACTORY_REVIEW): "reviewer",
    (S.FACTORY_REVIEW, S.FINAL): "lead",
    (S.FINAL, S.PUBLISHED): "manager",
    **{(state, S.CANCELLED): "lead" for state in (S.PLANNED, S.IN_PROGRESS, S.SUBMITTED, S.IN_REVIEW)},
}


def allowed(actor: Principal, who: str, assessment: Assessment, assessors: set[int]) -> bool:
    if who == "assessor":
        return permissions.can_answer(actor, assessment, assessors)
    if who == "reviewer":
        return permissions.can_review(actor, assessment, assessors)
    if who == "lead":
        return permissions.can_finalise_or_cancel(actor, assessment)
    return permissions.can_publish(actor, assessment)


@transaction.atomic
def assessment_transition(
    *,
    actor: Principal,
    assessment: Assessment,
    to: str,
    expected_version: int,
    comments: str = "",
    system: bool = False,
) -> Assessment:
    """Move an assessment to the state ``to``; ``expected_version`` is what the actor saw."""
    locked = (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("programme", "factory")
        .get(pk=assessment.pk)
    )
    if locked.lock_version != expected_version:
        raise StaleState(_("Someone else changed this assessment meanwhile; reload to see its state."))
    who = TRANSITIONS.get((locked.status, to))
    if who is None:
        raise ValidationError(
            _("An assessment cannot go from %(from)s to %(to)s.")
            % {"from": locked.get_status_display(), "to": to}
        )
    assessors = assessor_ids(locked)
    if not system and not allowed(actor, who, locked, assessors):
        raise PermissionDenied
    before = {"status": locked.status}
    now = timezone.now()
    today = programme_today(locked.programme)
    if to == S.SUBMITTED:
        missing = missing_answers(locked)
        if missing:
            raise ValidationError(
                _("%(count)s questions are not answered yet, or lack a finding: %(keys)s")
                % {"count": len(missing), "keys": ", ".join(q.key for q in missing[:20])}
            )
        locked.submitted_at = now
    elif to == S.IN_REVIEW:
        locked.reviewer = actor.user
    elif to == S.IN_PROGRESS and locked.status == S.IN_REVIEW:
        if not comments.strip():
            raise ValidationError({"comments": _("Say what must change before returning the assessment.")})
        locked.review_comments = comments
    elif to == S.FACTORY_REVIEW:
        locked.factory_review_until = today + dt.timedelta(days=locked.programme.factory_review_days)
    elif to == S.FINAL:
        if not system and locked.factory_review_until and today <= locked.factory_review_until:
            raise ValidationError(
                _("The factory may comment until %(date)s; the report becomes final after that.")
                % {"date": locked.factory_review_until}
            )
        locked.final_at = now
    elif to == S.PUBLISHED:
        locked.published_at = now
    locked.status = to
    locked.lock_version += 1
    locked.save()
    audit.record(
        actor=actor.user,
        action=f"assessment.{to}",
        obj=locked,
        programme=locked.programme_id,
        before=before,
        after={"status": to},
        reason=comments,
    )
    if to in (S.FACTORY_REVIEW, S.FINAL):
        _tell_factory(locked)
    if to == S.FINAL:
        assessment_finalised.send(sender=Assessment, assessment=locked)
    elif to == S.PUBLISHED:
        assessment_published.send(sender=Assessment, assessment=locked)
    return locked


@transaction.atomic
def round_save(
    *,
    actor: Principal,
    programme_id: int,
    name: str,
    starts_on: dt.date,
    ends_on: dt.date,
    round: Round | None = None,
) -> Round:
    """Create a programme-wide round, or change one; its planned visits must stay inside it."""
    if not permissions.can_manage_rounds(actor, programme_id):
        raise PermissionDenied
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("A round ends on or after the day it starts.")})
    if not name.strip():
        raise ValidationError({"name": _("Name the round.")})
    if round is not None:
        round = Round.objects.select_for_update().get(pk=round.pk)
        outside = Assessment.objects.filter(round=round).exclude(planned_date__range=(starts_on, ends_on))
        if outside.exists():
            raise ValidationError(
                _("%(count)s planned visits of this round fall outside these dates; move them first.")
                % {"count": outside.count()}
            )
    clash = Round.objects.filter(programme_id=programme_id, name__iexact=name.strip())
    if round is not None:
        clash = clash.exclude(pk=round.pk)
    if clash.exists():
        raise ValidationError({"name": _("This programme already has a round of that name.")})
    before = (
        {"name": round.name, "starts_on": round.starts_on.isoformat(), "ends_on": round.ends_on.isoformat()}
        if round
        else None
    )
    round = round or Round(programme_id=programme_id)
    round.name, round.starts_on, round.ends_on = name.strip(), starts_on, ends_on
    round.save()
    audit.record(
        actor=actor.user,
        action="round.save",
        obj=round,
        programme=programme_id,
        before=before,
        after={"name": round.name, "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()},
    )
    return round


def finalise_closed_reviews(*, programme: Any) -> list[int]:
    """Make final the programme's assessments whose factory review window has closed, once every
    comment the factory made has its answer; those with unanswered comments wait for the team.
    Runs in the programme's scope (beat calls it daily for each programme)."""
    today = programme_today(programme)
    ready = (
        Assessment.objects.filter(
            programme=programme, status=S.FACTORY_REVIEW, factory_review_until__lt=today
        )
        .exclude(finding_comments__outcome="")
        .values_list("pk", "lock_version")
    )
    finalised = []
    for pk, version in ready:
        try:
            with transaction.atomic():
                assessment_transition(
                    actor=Principal.anonymous(),
                    assessment=Assessment(pk=pk),
                    to=S.FINAL,
                    expected_version=version,
                    system=True,
                )
        except StaleState:
            continue  # someone acted on it meanwhile: the next run looks again
        finalised.append(pk)
    return finalised


def _tell_factory(assessment: Assessment) -> None:
    """The factory's users learn that their draft report awaits their comments, or that the report
    is final. Only from the draft report on: visits are unannounced, so nothing before."""
    template = (
        "notifications/draft_report_ready"
        if assessment.status == S.FACTORY_REVIEW
        else "notifications/report_final"
    )
    notifications.notify(
        recipients=[grant.user for grant in people_selectors.factory_staff(factory_id=assessment.factory_id)],
        programme=assessment.programme_id,
        template=template,
        context={"assessment": assessment, "factory": assessment.factory},
        link=reverse(
            "assessments:draft", kwargs={"programme_code": assessment.programme.code, "pk": assessment.pk}
        ),
    )


def _clean_change(change: dict[str, Any], questions: Collection[int]) -> dict[str, Any]:
    question_id = change.get("question")
    if question_id not in questions:
        raise ValidationError(
            {"question": _("Question %(id)s is not part of this assessment's tool.") % {"id": question_id}}
        )
    value = change.get("value") or ""
    if value not in ("", *AnswerValue.values):
        raise ValidationError({"value": _("Answer C, NC or NA.")})
    evidence = list(change.get("evidence") or [])
    if set(evidence) - set(EvidenceSource.values):
        raise ValidationError({"evidence": _("Unknown evidence source.")})
    finding = str(change.get("finding") or "")
    if value == AnswerValue.NON_COMPLIANT and not finding.strip():
        raise ValidationError({"finding": _("A non-compliance needs its finding.")})
    return {
        "question_id": question_id,
        "value": value,
        "finding": finding,
        "evidence": evidence,
        "version": int(change.get("version") or 0),
    }


@transaction.atomic
def answers_save(*, actor: Principal, assessment: Assessment, changes: list[dict[str, Any]]) -> list[Answer]:
    """Save answers at once. Each change says which ``version`` it was made on (0 for a new one);
    if any answer moved on since, nothing is saved and ``AnswerConflict`` carries the saved ones."""
    locked = (
        Assessment.objects.select_for_update(of=("self",))
        .annotate(acting_is_assessor=selectors.acting_is_assessor(actor))
        .get(pk=assessment.pk)
    )
    if not permissions.can_answer(
        actor, locked, selectors.acting_assessor_ids(assessment=locked, principal=actor)
    ):
        raise PermissionDenied
    if locked.status != S.IN_PROGRESS:
        raise ValidationError(_("Answers can be changed only while the assessment is in progress."))
    # Only the questions being answered, and only from this assessment's tool version.
    questions = Question.objects.only("version_id", "key", "zero_tolerance").in_bulk(
        [c.get("question") for c in changes if isinstance(c.get("question"), int)]
    )
    questions = {pk: q for pk, q in questions.items() if q.version_id == locked.tool_version_id}
    cleaned = [_clean_change(change, questions.keys()) for change in changes]
    existing = {
        a.question_id: a
        for a in Answer.objects.select_for_update().filter(
            assessment=locked, question_id__in=[c["question_id"] for c in cleaned]
        )
    }
    conflicts = [
        existing.get(c["question_id"])
        for c in cleaned
        if (existing[c["question_id"]].version if c["question_id"] in existing else 0) != c["version"]
    ]
    if conflicts:
        raise AnswerConflict(
            current=[
                {
                    "question": a.question_id,
                    "value": a.value,
                    "finding": a.finding,
                    "evidence": a.evidence,
                    "version": a.version,
                    "updated_by": str(a.updated_by or ""),
                }
                for a in conflicts
                if a is not None
            ]
        )
    # One INSERT for the new answers, one UPDATE for the changed ones, one INSERT for their
    # audit rows: a save of 25 answers costs the same few statements as a save of one.
    now = timezone.now()
    created, updated, events = [], [], []
    for c in cleaned:
        answer = existing.get(c["question_id"])
        before = {"value": answer.value, "finding": answer.finding} if answer else None
        if answer is None:
            answer = Answer(
                programme_id=locked.programme_id, assessment=locked, question_id=c["question_id"], version=0
            )
            created.append(answer)
        else:
            updated.append(answer)
        answer.value, answer.finding, answer.evidence = c["value"], c["finding"], c["evidence"]
        answer.version += 1
        answer.updated_by = actor.user
        answer.updated_at = now
        events.append((answer, before))
    Answer.objects.bulk_create(created)
    _answers_update(updated)
    # One audit row per save, on the assessment, keyed by question: the history of every answer,
    # without 25 rows (and their cost) for a save of 25 answers.
    keys = {pk: q.key for pk, q in questions.items()}
    audit.record(
        actor=actor.user,
        action="answers.save",
        obj=locked,
        programme=locked.programme_id,
        before={keys[a.question_id]: before for a, before in events if before is not None} or None,
        after={
            keys[a.question_id]: {"value": a.value, "finding": a.finding, "version": a.version}
            for a, _ in events
        },
    )
    saved = [answer for answer, _ in events]
    for answer in saved:
        answer.question = questions[answer.question_id]
    open_cases_for(assessment=locked, answers=saved, actor=actor)
    return saved


def _answers_update(answers: list[Answer]) -> None:
    """One UPDATE from arrays for all changed answers. Django's bulk_update builds a CASE per
    column and row, which costs several milliseconds of Python for 25 answers; this costs none.
    Row-level security still applies: it is an ordinary statement on the tenant table."""
    if not answers:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Answer._meta.db_table} AS a
               SET value = v.value, finding = v.finding, evidence = v.evidence::jsonb,
                   version = v.version, updated_by_id = v.updated_by_id, updated_at = v.updated_at
              FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::int[], %s::bigint[],
                          %s::timestamptz[])
                   AS v(id, value, finding, evidence, version, updated_by_id, updated_at)
             WHERE a.id = v.id AND a.programme_id = %s
            """,  # noqa: S608 - the table name is the model's, every value is a parameter
            [
                [a.pk for a in answers],
                [a.value for a in answers],
                [a.finding for a in answers],
                [json.dumps(a.evidence) for a in answers],
                [a.version for a in answers],
                [a.updated_by_id for a in answers],
                [a.updated_at for a in answers],
                answers[0].programme_id,
            ],
        )


VISIT_FIELDS = (
    "visit_started_on",
    "visit_ended_on",
    "person_days",
    "access_restricted",
    "documents_on_time",
    "interviews",
)


@transaction.atomic
def visit_update(*, actor: Principal, assessment: Assessment, data: dict[str, Any]) -> Assessment:
    """Record the process facts of the visit: dates, person-days, access, documents, interviews."""
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if not permissions.can_answer(actor, locked, assessor_ids(locked)):
        raise PermissionDenied
    if locked.status not in (S.PLANNED, S.IN_PROGRESS):
        raise ValidationError(_("The visit's facts can be changed only until the assessment is submitted."))
    start, end = data.get("visit_started_on"), data.get("visit_ended_on")
    if start and end and end < start:
        raise ValidationError({"visit_ended_on": _("The visit cannot end before it starts.")})
    audit.save_changes(
        actor=actor.user,
        instance=locked,
        action="assessment.visit",
        programme=locked.programme_id,
        changes={k: v for k, v in data.items() if k in VISIT_FIELDS},
    )
    return locked
