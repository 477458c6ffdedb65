"""Zero-tolerance cases: opened the moment such a finding is saved, the programme's managers
alerted at once, then investigated, confirmed or not, remediated and closed — all audited."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.models import Answer, Assessment, Case, CaseNote, CaseStatus
from betterwork import audit, notifications, permissions
from betterwork.models import Role, User
from betterwork.permissions import Principal

# Which status may follow which.
NEXT_STATUS = {
    CaseStatus.OPEN: {CaseStatus.CONFIRMED, CaseStatus.NOT_CONFIRMED},
    CaseStatus.CONFIRMED: {CaseStatus.CLOSED},
    CaseStatus.NOT_CONFIRMED: set(),
    CaseStatus.CLOSED: set(),
}


def open_cases_for(*, assessment: Assessment, answers: list[Answer], actor: Principal) -> list[Case]:
    """Open a case for each zero-tolerance question newly answered non-compliant."""
    flagged = [a for a in answers if a.value == "NC" and a.question.zero_tolerance]
    if not flagged:
        return []
    already = set(
        Case.objects.filter(assessment=assessment, question_id__in=[a.question_id for a in flagged])
        .exclude(status__in=[CaseStatus.CLOSED, CaseStatus.NOT_CONFIRMED])
        .values_list("question_id", flat=True)
    )
    opened = []
    for answer in flagged:
        if answer.question_id in already:
            continue
        case = Case(
            programme_id=assessment.programme_id,
            assessment=assessment,
            factory_id=assessment.factory_id,
            question=answer.question,
            finding=answer.finding,
        )
        case.save()
        audit.record(
            actor=actor.user,
            action="case.open",
            obj=case,
            programme=case.programme_id,
            after={"question": answer.question.key, "finding": answer.finding},
        )
        managers = User.objects.filter(
            grants__programme_id=assessment.programme_id, grants__role=Role.PROGRAMME_MANAGER
        ).distinct()
        notifications.notify(
            recipients=managers,
            programme=assessment.programme_id,
            template="notifications/case_opened",
            context={"case": case, "factory": assessment.factory, "question": answer.question},
            link=reverse(
                "assessments:case", kwargs={"programme_code": assessment.programme.code, "pk": case.pk}
            ),
        )
        opened.append(case)
    return opened


@transaction.atomic
def case_note_add(*, actor: Principal, case: Case, text: str) -> CaseNote:
    if not permissions.can_handle_cases(actor, case.programme_id):
        raise PermissionDenied
    if not text.strip():
        raise ValidationError({"text": _("Write the note first.")})
    note = CaseNote(programme_id=case.programme_id, case=case, author=actor.user, text=text.strip())
    note.save()
    audit.record(
        actor=actor.user, action="case.note", obj=case, programme=case.programme_id, after={"note": note.text}
    )
    return note


@transaction.atomic
def case_set_status(*, actor: Principal, case: Case, status: str, remediation: str = "") -> Case:
    if not permissions.can_handle_cases(actor, case.programme_id):
        raise PermissionDenied
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if status not in NEXT_STATUS.get(locked.status, set()):
        raise ValidationError(
            _("A case cannot go from %(from)s to %(to)s.")
            % {"from": locked.get_status_display(), "to": status}
        )
    if status == CaseStatus.CLOSED and not (remediation or locked.remediation).strip():
        raise ValidationError({"remediation": _("Record the remediation steps before closing the case.")})
    before = {"status": locked.status}
    locked.status = status
    if remediation:
        locked.remediation = remediation
    if status in (CaseStatus.CLOSED, CaseStatus.NOT_CONFIRMED):
        locked.closed_at = timezone.now()
    locked.save()
    audit.record(
        actor=actor.user,
        action="case.status",
        obj=locked,
        programme=locked.programme_id,
        before=before,
        after={"status": status, "remediation": locked.remediation},
    )
    return locked
