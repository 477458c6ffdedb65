"""The improvement plan and the progress reports: every write checked, in one transaction, audited.

A plan belongs to a factory and a cycle. Advisors start it from the cycle's assessment (its
non-compliant findings become items, one click each or all at once); the factory adds its own
and those of its self-diagnosis, keeps each item's root cause, action, owner, due date and
status, and files progress reports. Publicly reported items the factory marks done wait for the
programme's verification. A finding that persists into the next cycle carries its item over.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from advisory.diagnosis_selectors import diagnosis_findings
from advisory.models import (
    OPEN_STATUSES,
    CommitteeMember,
    ImprovementPlan,
    ItemSource,
    ItemStatus,
    PlanItem,
    PlanItemComment,
    PlanItemEvidence,
    ProgressReport,
    ProgressStatus,
    SelfDiagnosis,
)
from advisory.signals import progress_report_submitted
from assessments.attachments import SUFFIXES, clean_evidence_file, evidence_name
from assessments.models import Answer, AnswerValue, Assessment, AssessmentStatus
from betterwork import audit, notifications, permissions
from betterwork.permissions import Principal
from factories.models import Factory

EDITABLE_ITEM_FIELDS = (
    "root_cause",
    "action",
    "responsible",
    "committee_owner",
    "due_on",
    "priority",
    "status",
)
CARRIED_FIELDS = ("root_cause", "action", "responsible", "priority")
REPORTED_STATES = (AssessmentStatus.FINAL, AssessmentStatus.PUBLISHED)


class ItemChanged(Exception):
    """Someone saved the item since the editor loaded it: ``current`` is the saved item."""

    def __init__(self, current: PlanItem) -> None:
        super().__init__("changed meanwhile")
        self.current = current


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _item_picture(item: PlanItem) -> dict[str, Any]:
    return audit.snapshot(item, [*EDITABLE_ITEM_FIELDS, "done_on", "verified_at"])


# --- Starting a plan --------------------------------------------------------------------------


@transaction.atomic
def plan_start(
    *, actor: Principal, factory: Factory, assessment: Assessment | None = None
) -> ImprovementPlan:
    """The plan of the assessment's cycle (or, before any assessment, of the factory's first
    cycle); made once, and tied to the assessment when it comes. Progress reports are due from
    the assessment report."""
    _require(permissions.can_start_plan(actor, factory))
    Factory.objects.select_for_update().get(pk=factory.pk)
    if assessment is not None:
        if assessment.factory_id != factory.pk:
            raise PermissionDenied
        if assessment.status not in REPORTED_STATES:
            raise ValidationError(_("A plan is built from the assessment once its report is final."))
    cycle = assessment.cycle if assessment is not None else 1
    plan = ImprovementPlan.objects.filter(factory=factory, cycle=cycle).first()
    if plan is None:
        plan = ImprovementPlan(
            programme_id=factory.programme_id, factory=factory, cycle=cycle, created_by=actor.user
        )
        plan.assessment = assessment
        plan.save()
        audit.record(
            actor=actor.user,
            action="plan.start",
            obj=plan,
            programme=factory.programme_id,
            after={"cycle": cycle},
        )
    elif assessment is not None and plan.assessment_id is None:
        plan.assessment = assessment
        plan.save(update_fields=["assessment"])
    if plan.assessment is not None:
        _open_progress_reports(plan)
    return plan


def _open_progress_reports(plan: ImprovementPlan) -> None:
    """Progress Report 1 is due 30 days after the assessment report became final, the second later."""
    assessment = plan.assessment
    assert assessment is not None
    final_on = (
        timezone.localdate(assessment.final_at) if assessment.final_at else plan.factory.programme.today()
    )
    for number, days in ((1, settings.PROGRESS_REPORT_1_DAYS), (2, settings.PROGRESS_REPORT_2_DAYS)):
        ProgressReport.objects.get_or_create(
            plan=plan,
            number=number,
            defaults={
                "programme_id": plan.programme_id,
                "factory_id": plan.factory_id,
                "due_on": final_on + dt.timedelta(days=days),
            },
        )


def _previous_items(plan: ImprovementPlan) -> dict[str, PlanItem]:
    """The last plan's items by question key: a persisting finding carries its item over."""
    previous = (
        ImprovementPlan.objects.filter(factory_id=plan.factory_id, cycle__lt=plan.cycle)
        .order_by("-cycle")
        .first()
    )
    if previous is None:
        return {}
    return {
        item.question_key: item for item in PlanItem.objects.filter(plan=previous).exclude(question_key="")
    }


@transaction.atomic
def items_from_findings(
    *, actor: Principal, plan: ImprovementPlan, question_ids: Iterable[int] | None = None
) -> list[PlanItem]:
    """Turn the assessment's non-compliant findings into items (all of them, or those chosen);
    findings already in the plan are skipped."""
    _require(permissions.can_start_plan(actor, plan.factory))
    if plan.assessment_id is None:
        raise ValidationError(
            _("This plan has no assessment yet: add the factory's own items or its self-diagnosis.")
        )
    answers = Answer.objects.filter(
        assessment_id=plan.assessment_id, value=AnswerValue.NON_COMPLIANT
    ).select_related("question")
    if question_ids is not None:
        answers = answers.filter(question_id__in=list(question_ids))
    have = set(PlanItem.objects.filter(plan=plan).values_list("question_key", flat=True))
    earlier = _previous_items(plan)
    new: list[PlanItem] = []
    for answer in answers.order_by("question__order"):
        key = answer.question.key
        if key in have:
            continue
        item = PlanItem(
            programme_id=plan.programme_id,
            plan=plan,
            source=ItemSource.ASSESSMENT,
            question=answer.question,
            question_key=key,
            finding=answer.finding or answer.question.display_text,
            publicly_reported=answer.question.publicly_reported,
            updated_by=actor.user,
        )
        carried = earlier.get(key)
        if carried is not None:
            item.carried_from = carried
            for field in CARRIED_FIELDS:
                setattr(item, field, getattr(carried, field))
        new.append(item)
    created = PlanItem.objects.bulk_create(new)
    if created:
        audit.record(
            actor=actor.user,
            action="plan.items_from_findings",
            obj=plan,
            programme=plan.programme_id,
            after={
                "items": [item.question_key for item in created],
                "carried_over": sum(1 for i in created if i.carried_from_id),
            },
        )
    return created


@transaction.atomic
def items_from_self_diagnosis(
    *, actor: Principal, plan: ImprovementPlan, diagnosis: SelfDiagnosis
) -> list[PlanItem]:
    """The factory's own non-compliance from its submitted self-diagnosis, as items."""
    _require(permissions.can_edit_plan(actor, plan.factory))
    if diagnosis.factory_id != plan.factory_id:
        raise PermissionDenied
    if diagnosis.status != "submitted":
        raise ValidationError(_("Submit the self-diagnosis first."))
    have = set(PlanItem.objects.filter(plan=plan).values_list("question_key", flat=True))
    new = [
        PlanItem(
            programme_id=plan.programme_id,
            plan=plan,
            source=ItemSource.SELF_DIAGNOSIS,
            question=question,
            question_key=question.key,
            finding=note or question.display_text,
            publicly_reported=question.publicly_reported,
            updated_by=actor.user,
        )
        for question, note in diagnosis_findings(diagnosis)
        if question.key not in have
    ]
    created = PlanItem.objects.bulk_create(new)
    if created:
        audit.record(
            actor=actor.user,
            action="plan.items_from_self_diagnosis",
            obj=plan,
            programme=plan.programme_id,
            after={"items": [item.question_key for item in created]},
        )
    return created


def _clean_owner(plan: ImprovementPlan, owner: CommitteeMember | None) -> None:
    if owner is not None and owner.committee.factory_id != plan.factory_id:
        raise ValidationError({"committee_owner": _("Choose a member of this factory's committee.")})


@transaction.atomic
def item_add(*, actor: Principal, plan: ImprovementPlan, data: dict[str, Any]) -> PlanItem:
    """An item the factory (or its committee, or the advisor) raises itself."""
    _require(permissions.can_edit_plan(actor, plan.factory))
    finding = (data.get("finding") or "").strip()
    if not finding:
        raise ValidationError({"finding": _("Say what needs improving.")})
    _clean_owner(plan, data.get("committee_owner"))
    item = PlanItem(
        programme_id=plan.programme_id,
        plan=plan,
        source=ItemSource.FACTORY,
        finding=finding,
        updated_by=actor.user,
        **{k: v for k, v in data.items() if k in EDITABLE_ITEM_FIELDS and k != "status"},
    )
    item.full_clean(exclude=["question_key"], validate_constraints=False)
    item.save()
    audit.record(
        actor=actor.user,
        action="plan.item.add",
        obj=item,
        programme=plan.programme_id,
        after=_item_picture(item),
    )
    return item


# --- Following the plan -------------------------------------------------------------------------


@transaction.atomic
def item_update(
    *, actor: Principal, item: PlanItem, data: dict[str, Any], version: int | None = None
) -> PlanItem:
    """Change an item's root cause, action, owner, due date, priority or status.

    ``version`` is what the editor loaded: if someone saved the item meanwhile, ``ItemChanged``
    carries the saved item so the editor can show both. Verified is not a status one sets here
    (``item_verify``); a verified item changes only once reopened."""
    locked = PlanItem.objects.select_for_update().select_related("plan__factory").get(pk=item.pk)
    _require(permissions.can_edit_plan(actor, locked.plan.factory))
    if version is not None and version != locked.version:
        raise ItemChanged(locked)
    if locked.status == ItemStatus.VERIFIED:
        raise ValidationError(_("This item was verified; ask the advisor to reopen it before changing it."))
    changes = {k: v for k, v in data.items() if k in EDITABLE_ITEM_FIELDS}
    if changes.get("status") == ItemStatus.VERIFIED:
        raise ValidationError({"status": _("Only the programme verifies an item, once it is done.")})
    if "committee_owner" in changes:
        _clean_owner(locked.plan, changes["committee_owner"])
    before = _item_picture(locked)
    for key, value in changes.items():
        setattr(locked, key, value)
    if locked.status == ItemStatus.DONE and before["status"] != ItemStatus.DONE:
        locked.done_on = locked.plan.factory.programme.today()
    elif locked.status in OPEN_STATUSES:
        locked.done_on = None
    after = _item_picture(locked)
    if after == before:
        return locked
    locked.version += 1
    locked.updated_by = actor.user
    locked.full_clean(exclude=["question_key"], validate_constraints=False)
    locked.save()
    audit.record_changes(
        actor=actor.user,
        action="plan.item.update",
        obj=locked,
        programme=locked.programme_id,
        before=before,
        after=after,
    )
    if locked.status == ItemStatus.DONE and before["status"] != ItemStatus.DONE and locked.publicly_reported:
        _ask_for_verification(locked)
    return locked


def _ask_for_verification(item: PlanItem) -> None:
    """A publicly reported item marked done: the factory's advisor is asked to verify it."""
    factory = item.plan.factory
    advisor = factory.designated_advisor
    if advisor is None:
        return
    notifications.notify(
        recipients=[advisor],
        programme=item.programme_id,
        template="notifications/plan_item_done",
        context={"item": item, "factory": factory},
        link=reverse("advisory:item", kwargs={"programme_code": factory.programme.code, "pk": item.pk}),
    )


@transaction.atomic
def item_verify(*, actor: Principal, item: PlanItem, note: str = "") -> PlanItem:
    locked = PlanItem.objects.select_for_update().select_related("plan__factory").get(pk=item.pk)
    _require(permissions.can_verify_items(actor, locked.plan.factory))
    if locked.status != ItemStatus.DONE:
        raise ValidationError(_("Only an item the factory marked done can be verified."))
    locked.status = ItemStatus.VERIFIED
    locked.verified_by = actor.user
    locked.verified_at = timezone.now()
    locked.version += 1
    locked.save(update_fields=["status", "verified_by", "verified_at", "version", "updated_at"])
    if note.strip():
        PlanItemComment.objects.create(
            programme_id=locked.programme_id, item=locked, author=actor.user, text=note.strip()
        )
    audit.record(
        actor=actor.user,
        action="plan.item.verify",
        obj=locked,
        programme=locked.programme_id,
        reason=note.strip(),
    )
    return locked


@transaction.atomic
def item_reopen(*, actor: Principal, item: PlanItem, reason: str) -> PlanItem:
    """A done or verified item that turns out not to hold goes back to in progress, with a reason."""
    locked = PlanItem.objects.select_for_update().select_related("plan__factory").get(pk=item.pk)
    _require(permissions.can_verify_items(actor, locked.plan.factory))
    if locked.status not in (ItemStatus.DONE, ItemStatus.VERIFIED):
        raise ValidationError(_("Only a done or verified item can be reopened."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the item is reopened; the factory reads it.")})
    locked.status = ItemStatus.IN_PROGRESS
    locked.done_on = None
    locked.verified_by = None
    locked.verified_at = None
    locked.version += 1
    locked.save(update_fields=["status", "done_on", "verified_by", "verified_at", "version", "updated_at"])
    PlanItemComment.objects.create(
        programme_id=locked.programme_id, item=locked, author=actor.user, text=reason.strip()
    )
    audit.record(
        actor=actor.user,
        action="plan.item.reopen",
        obj=locked,
        programme=locked.programme_id,
        reason=reason.strip(),
    )
    return locked


@transaction.atomic
def item_comment(*, actor: Principal, item: PlanItem, text: str) -> PlanItemComment:
    _require(permissions.can_edit_plan(actor, item.plan.factory))
    if not text.strip():
        raise ValidationError({"text": _("Write the comment first.")})
    comment = PlanItemComment.objects.create(
        programme_id=item.programme_id, item=item, author=actor.user, text=text.strip()[:5000]
    )
    audit.record(
        actor=actor.user,
        action="plan.item.comment",
        obj=item,
        programme=item.programme_id,
        after={"comment": comment.pk},
    )
    return comment


@transaction.atomic
def evidence_add(*, actor: Principal, item: PlanItem, upload: UploadedFile) -> PlanItemEvidence:
    """A photo (re-encoded without its location data) or a PDF showing what was done."""
    _require(permissions.can_edit_plan(actor, item.plan.factory))
    content, content_type = clean_evidence_file(upload)
    name = evidence_name(upload)
    evidence = PlanItemEvidence(
        programme_id=item.programme_id,
        item=item,
        original_name=name,
        content_type=content_type,
        size=len(content),
        uploaded_by=actor.user,
    )
    # Stored under a fresh name whose extension says what the file is, not what it was called.
    evidence.file.save(f"evidence{SUFFIXES[content_type]}", ContentFile(content), save=False)
    evidence.save()
    audit.record(
        actor=actor.user,
        action="plan.item.evidence",
        obj=item,
        programme=item.programme_id,
        after={"name": name, "type": content_type, "size": len(content)},
    )
    return evidence


# --- Progress reports -------------------------------------------------------------------------


@transaction.atomic
def progress_report_submit(
    *, actor: Principal, report: ProgressReport, statement: str, snapshot: dict[str, Any]
) -> ProgressReport:
    """The factory submits what the report shows now (``snapshot``, assembled by the selector);
    it is frozen, made into a PDF, and the factory's advisor is told."""
    locked = ProgressReport.objects.select_for_update().select_related("factory__programme").get(pk=report.pk)
    factory = locked.factory
    _require(factory.pk in actor.factory_ids() or permissions.is_programme_staff(actor, factory.programme_id))
    if locked.status == ProgressStatus.SUBMITTED:
        raise ValidationError(_("This progress report was already submitted."))
    if (
        locked.number == 2
        and ProgressReport.objects.filter(
            plan_id=locked.plan_id, number=1, status=ProgressStatus.DRAFT
        ).exists()
    ):
        raise ValidationError(_("Submit Progress Report 1 first."))
    locked.factory_statement = statement.strip()
    locked.snapshot = snapshot
    locked.status = ProgressStatus.SUBMITTED
    locked.submitted_at = timezone.now()
    locked.submitted_by = actor.user
    locked.save()
    audit.record(
        actor=actor.user,
        action="progress_report.submit",
        obj=locked,
        programme=factory.programme_id,
        after={"number": locked.number, "late": factory.programme.today() > locked.due_on},
    )
    progress_report_submitted.send(sender=ProgressReport, report=locked)
    staff = [factory.designated_advisor] if factory.designated_advisor else []
    notifications.notify(
        recipients=staff,
        programme=factory.programme_id,
        template="notifications/progress_report_submitted",
        context={"report": locked, "factory": factory},
        link=reverse("advisory:progress", kwargs={"programme_code": factory.programme.code, "pk": locked.pk}),
    )
    return locked


def evidence_downloaded(*, actor: Principal, evidence: PlanItemEvidence) -> None:
    """A plan item's evidence may show workers and their workplace: each download is on record."""
    audit.record(
        actor=actor.user,
        action="evidence.download",
        obj=evidence,
        programme=evidence.programme_id,
        after={"item": evidence.item_id},
    )
