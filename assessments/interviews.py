"""Interview notes of an assessment visit: personal data (who was interviewed, what they said).

The assessment's assessors write them until the report is final; they, the programme's team
leaders and its managers read them; nobody else ever does (not the factory, buyers, the global
team or the public). Every reading is audited (``personal_data.view``), every change too
(``interview_note.add/update/delete``) — but the audit trail, which is kept for good, records
only the interview's kind, day and author and how long its texts are, never the texts: what
people said leaves the platform when its kept period ends (``interview_notes_purge``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import gettext as _

from assessments import selectors
from assessments.lifecycle import assessor_ids, programme_today
from assessments.models import Assessment, Case, CaseStatus, InterviewKind, InterviewNote
from betterwork import audit, permissions
from betterwork.models import Programme
from betterwork.permissions import INTERVIEW_NOTES_CLOSED_STATES, Principal

# Written to the audit trail as they are.
FACT_FIELDS = ["assessment", "kind", "held_on", "author"]
# Personal texts: the audit trail records only their length.
PERSONAL_FIELDS = ("interviewees", "notes")
# A zero-tolerance case still being handled keeps its assessment's notes, whatever their age.
CASE_IN_HAND = (CaseStatus.OPEN, CaseStatus.CONFIRMED)


def _picture(note: InterviewNote) -> dict[str, Any]:
    picture = audit.snapshot(note, FACT_FIELDS)
    for field in PERSONAL_FIELDS:
        picture[field] = {"characters": len(getattr(note, field))}
    return picture


def _clean(assessment: Assessment, data: Mapping[str, Any]) -> dict[str, Any]:
    kind = data.get("kind") or ""
    held_on = data.get("held_on")
    notes = (data.get("notes") or "").strip()
    errors: dict[str, str] = {}
    if kind not in InterviewKind.values:
        errors["kind"] = _("Choose who was interviewed.")
    if not isinstance(held_on, dt.date):
        errors["held_on"] = _("Give the day of the interview.")
    elif held_on > programme_today(assessment.programme):
        errors["held_on"] = _("Record an interview once it has been held.")
    if not notes:
        errors["notes"] = _("Write what was said first.")
    if errors:
        raise ValidationError(errors)
    return {
        "kind": kind,
        "held_on": held_on,
        "interviewees": " ".join(str(data.get("interviewees") or "").split())[:300],
        "notes": notes,
    }


def _writable(actor: Principal, assessment: Assessment) -> Assessment:
    """The assessment, locked against a transition meanwhile, if the actor may change its notes."""
    locked = Assessment.objects.select_for_update().select_related("programme").get(pk=assessment.pk)
    ids = assessor_ids(locked)
    if not permissions.can_write_interview_notes(actor, locked, ids):
        if permissions.can_answer(actor, locked, ids):  # an assessor, but the report is final
            raise ValidationError(_("Interview notes can change only until the report is final."))
        raise PermissionDenied
    return locked


@transaction.atomic
def interview_note_add(*, actor: Principal, assessment: Assessment, data: Mapping[str, Any]) -> InterviewNote:
    locked = _writable(actor, assessment)
    note = InterviewNote(
        programme_id=locked.programme_id, assessment=locked, author=actor.user, **_clean(locked, data)
    )
    note.full_clean(exclude=["assessment", "author"])
    note.save()
    audit.record(
        actor=actor.user,
        action="interview_note.add",
        obj=note,
        programme=locked.programme_id,
        after=_picture(note),
    )
    return note


@transaction.atomic
def interview_note_update(*, actor: Principal, note: InterviewNote, data: Mapping[str, Any]) -> InterviewNote:
    locked_assessment = _writable(actor, note.assessment)
    locked = InterviewNote.objects.select_for_update().get(pk=note.pk, assessment=locked_assessment)
    old_texts = {field: getattr(locked, field) for field in PERSONAL_FIELDS}
    before = _picture(locked)
    for key, value in _clean(locked_assessment, data).items():
        setattr(locked, key, value)
    locked.full_clean(exclude=["assessment", "author"])
    locked.save()
    old, new = audit.changed(
        {k: v for k, v in before.items() if k not in PERSONAL_FIELDS},
        {k: v for k, v in _picture(locked).items() if k not in PERSONAL_FIELDS},
    )
    for field in PERSONAL_FIELDS:
        if getattr(locked, field) != old_texts[field]:
            old[field], new[field] = before[field], {"characters": len(getattr(locked, field))}
    if new:
        audit.record(
            actor=actor.user,
            action="interview_note.update",
            obj=locked,
            programme=locked.programme_id,
            before=old,
            after=new,
        )
    return locked


@transaction.atomic
def interview_note_delete(*, actor: Principal, note: InterviewNote) -> None:
    locked_assessment = _writable(actor, note.assessment)
    locked = InterviewNote.objects.select_for_update().get(pk=note.pk, assessment=locked_assessment)
    audit.record(
        actor=actor.user,
        action="interview_note.delete",
        obj=locked,
        programme=locked.programme_id,
        before=_picture(locked),
    )
    locked.delete()


# --- Reading: checked and audited -------------------------------------------------------------


def _require_reader(actor: Principal, assessment: Assessment) -> None:
    ids = selectors.acting_assessor_ids(assessment=assessment, principal=actor)
    if not permissions.can_read_interview_notes(actor, assessment, ids):
        raise PermissionDenied


def _viewed(actor: Principal, assessment: Assessment, notes: list[InterviewNote]) -> None:
    if notes:
        audit.record(
            actor=actor.user,
            action="personal_data.view",
            obj=assessment,
            programme=assessment.programme_id,
            after={"interview_notes": len(notes), "ids": [n.pk for n in notes]},
        )


def interview_notes_read(*, actor: Principal, assessment: Assessment) -> list[InterviewNote]:
    """The notes of an assessment for someone entitled to them, the reading on record."""
    _require_reader(actor, assessment)
    notes = list(selectors.interview_notes(assessment=assessment))
    _viewed(actor, assessment, notes)
    return notes


def interview_note_read(*, actor: Principal, assessment: Assessment, note_id: int) -> InterviewNote:
    _require_reader(actor, assessment)
    note = selectors.access_interview_note(assessment=assessment, note_id=note_id)
    _viewed(actor, assessment, [note])
    return note


# --- Retention ------------------------------------------------------------------------------


def interview_notes_due(*, programme: Programme, today: dt.date) -> QuerySet[InterviewNote]:
    """Notes kept longer than ``settings.INTERVIEW_NOTES_KEPT_DAYS`` since their report became
    final (a cancelled assessment: since its visit), unless a zero-tolerance case of the
    assessment is still open or being remediated. Notes of reports not yet final stay."""
    cutoff = today - dt.timedelta(days=settings.INTERVIEW_NOTES_KEPT_DAYS)
    settled_on = Coalesce(
        TruncDate("assessment__final_at", tzinfo=ZoneInfo(programme.time_zone)),
        "assessment__visit_ended_on",
        "assessment__visit_started_on",
        "assessment__planned_date",
    )
    case_in_hand = Case.objects.filter(assessment=OuterRef("assessment_id"), status__in=CASE_IN_HAND)
    return (
        InterviewNote.objects.filter(
            programme=programme, assessment__status__in=INTERVIEW_NOTES_CLOSED_STATES
        )
        .alias(settled_on=settled_on)
        .filter(settled_on__lt=cutoff)
        .exclude(Exists(case_in_hand))
    )


@transaction.atomic
def interview_notes_purge(*, programme: Programme, today: dt.date, dry_run: bool = False) -> int:
    """Remove the notes whose kept period ended (``dry_run``: only count them). A system job:
    no acting person; the removal is on record, without the notes."""
    due = interview_notes_due(programme=programme, today=today)
    if dry_run:
        return due.count()
    assessments = sorted(set(due.values_list("assessment_id", flat=True)))
    removed, _by_model = InterviewNote.objects.filter(pk__in=due.values("pk")).delete()
    if removed:
        audit.record_purge(
            programme=programme,
            kind="interview_notes",
            removed=removed,
            kept_days=settings.INTERVIEW_NOTES_KEPT_DAYS,
            assessments=assessments,
        )
    return removed
