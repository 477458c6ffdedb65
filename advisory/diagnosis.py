"""Writes of the self-diagnosis: start it, answer as it goes, submit it; each checked, in one
transaction, and audited.

Before its first assessment a factory answers part of the compliance tool itself (see
``diagnosis_selectors``): its own users fill it, with the programme's staff. A factory has at
most one draft at a time (starting takes the factory's row lock, so two people starting at once
get the same draft); once submitted it is read-only, and a later one starts afresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from advisory import diagnosis_selectors as selectors
from advisory.models import DiagnosisAnswer, DiagnosisStatus, SelfDiagnosis
from assessments.lifecycle import tool_for
from assessments.models import Question
from betterwork import audit, permissions
from betterwork.permissions import Principal
from factories.models import Factory

VALUES = ("C", "NC", "NA")
NOTE_MAX = 2000


@dataclass(frozen=True)
class AnswerInput:
    """One question's answer as given: a value (empty clears the answer) and a note."""

    value: str
    note: str = ""


class DiagnosisIncomplete(ValidationError):
    """Submitting with questions left unanswered; ``missing`` lists them in the tool's order."""

    def __init__(self, missing: list[Question]) -> None:
        self.missing = missing
        super().__init__(
            {
                "answers": [
                    _("%(n)s questions are not answered yet:") % {"n": len(missing)},
                    *(f"{q.key}: {q.display_text}" for q in missing),
                ]
            }
        )


def _require_fill(actor: Principal, factory: Factory) -> None:
    if not permissions.can_fill_self_diagnosis(actor, factory):
        raise PermissionDenied


def _locked_draft(actor: Principal, diagnosis: SelfDiagnosis) -> SelfDiagnosis:
    locked = SelfDiagnosis.objects.select_for_update().select_related("factory").get(pk=diagnosis.pk)
    _require_fill(actor, locked.factory)
    if locked.status != DiagnosisStatus.DRAFT:
        raise ValidationError(_("This self-diagnosis was submitted: it can no longer be changed."))
    return locked


@transaction.atomic
def diagnosis_start(*, actor: Principal, factory: Factory) -> tuple[SelfDiagnosis, bool]:
    """Start the factory's self-diagnosis on the tool in force today; returns (draft, created).
    A factory's draft in progress is returned as it is: there is one draft at a time."""
    _require_fill(actor, factory)
    locked = Factory.objects.select_for_update().select_related("programme").get(pk=factory.pk)
    draft = selectors.draft_of(factory=locked)
    if draft is not None:
        return draft, False
    version = tool_for(programme_code=locked.programme.code, on=locked.programme.today())
    if not selectors.diagnosis_questions(version=version).exists():
        raise ValidationError(_("The compliance tool in force has no question for a self-diagnosis."))
    diagnosis = SelfDiagnosis.objects.create(
        programme_id=locked.programme_id, factory=locked, tool_version=version
    )
    audit.record(
        actor=actor.user,
        action="advisory.diagnosis.start",
        obj=diagnosis,
        programme=locked.programme_id,
        after={"factory": locked.pk, "tool_version": version.pk},
    )
    return diagnosis, True


@transaction.atomic
def diagnosis_answer(
    *, actor: Principal, diagnosis: SelfDiagnosis, answers: Mapping[int, AnswerInput]
) -> int:
    """Save answers by question id: a value of C, NC or NA with a note, or an empty value (and
    no note) to clear one. All or nothing; returns how many answers changed. One audit event
    keyed by question, with each changed answer's before and after."""
    locked = _locked_draft(actor, diagnosis)
    questions = {
        q.pk: q
        for q in selectors.diagnosis_questions(version=locked.tool_version_id).filter(pk__in=list(answers))
    }
    errors: dict[str, list[str]] = {}
    for question_id, given in answers.items():
        question = questions.get(question_id)
        if question is None:
            errors.setdefault("answers", []).append(
                _("Question %(id)s is not part of this self-diagnosis.") % {"id": question_id}
            )
            continue
        if given.value and given.value not in VALUES:
            errors.setdefault(f"q{question_id}", []).append(_("Answer C, NC or NA."))
        elif not given.value and given.note.strip():
            errors.setdefault(f"q{question_id}", []).append(
                _("Choose compliant, non-compliant or not applicable to keep the note.")
            )
        elif len(given.note) > NOTE_MAX:
            errors.setdefault(f"q{question_id}", []).append(
                _("Keep the note under %(n)s characters.") % {"n": NOTE_MAX}
            )
    if errors:
        raise ValidationError(errors)
    existing = {
        a.question_id: a
        for a in DiagnosisAnswer.objects.filter(diagnosis=locked, question_id__in=list(answers))
    }
    before: dict[str, object] = {}
    after: dict[str, object] = {}
    to_create, to_update, to_delete = [], [], []
    for question_id, given in answers.items():
        key = questions[question_id].key
        note = given.note.strip()
        current = existing.get(question_id)
        now = {"value": given.value, "note": note} if given.value else None
        was = {"value": current.value, "note": current.note} if current else None
        if now == was:
            continue
        before[key], after[key] = was, now
        if current is None:
            to_create.append(
                DiagnosisAnswer(
                    programme_id=locked.programme_id,
                    diagnosis=locked,
                    question_id=question_id,
                    value=given.value,
                    note=note,
                )
            )
        elif now is None:
            to_delete.append(current.pk)
        else:
            current.value, current.note = given.value, note
            to_update.append(current)
    DiagnosisAnswer.objects.bulk_create(to_create)
    DiagnosisAnswer.objects.bulk_update(to_update, ["value", "note"])
    DiagnosisAnswer.objects.filter(pk__in=to_delete).delete()
    if after:
        audit.record(
            actor=actor.user,
            action="advisory.diagnosis.answers",
            obj=locked,
            programme=locked.programme_id,
            before=before,
            after=after,
        )
    return len(after)


@transaction.atomic
def diagnosis_submit(*, actor: Principal, diagnosis: SelfDiagnosis) -> SelfDiagnosis:
    """Submit a complete self-diagnosis; with questions unanswered, ``DiagnosisIncomplete`` lists them."""
    locked = _locked_draft(actor, diagnosis)
    missing = selectors.missing_questions(diagnosis=locked)
    if missing:
        raise DiagnosisIncomplete(missing)
    locked.status = DiagnosisStatus.SUBMITTED
    locked.submitted_at = timezone.now()
    locked.submitted_by = actor.user
    locked.save(update_fields=["status", "submitted_at", "submitted_by"])
    findings = len(selectors.diagnosis_findings(locked))
    audit.record(
        actor=actor.user,
        action="advisory.diagnosis.submit",
        obj=locked,
        programme=locked.programme_id,
        after={"status": locked.status, "noncompliant": findings},
    )
    return locked
