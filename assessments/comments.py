"""The factory's side of the draft report: comments and disputes within the review window,
and the programme's answers to them — each recorded and audited."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.lifecycle import programme_today
from assessments.models import (
    Answer,
    Assessment,
    AssessmentAssessor,
    CommentOutcome,
    FindingComment,
    Question,
)
from betterwork import audit, notifications, permissions
from betterwork.models import User
from betterwork.permissions import Principal


@transaction.atomic
def comment_add(
    *, actor: Principal, assessment: Assessment, question: Question, kind: str, text: str
) -> FindingComment:
    locked = (
        Assessment.objects.select_for_update().select_related("programme", "factory").get(pk=assessment.pk)
    )
    if not permissions.can_comment_on_draft(actor, locked):
        raise PermissionDenied
    if locked.factory_review_until and programme_today(locked.programme) > locked.factory_review_until:
        raise ValidationError(
            _("The review window closed on %(date)s.") % {"date": locked.factory_review_until}
        )
    if not Answer.objects.filter(assessment=locked, question=question, value="NC").exists():
        raise ValidationError(_("Comments are made on the findings of the report."))
    if not text.strip():
        raise ValidationError({"text": _("Write your comment first.")})
    comment = FindingComment(
        programme_id=locked.programme_id,
        assessment=locked,
        question=question,
        kind=kind,
        text=text.strip(),
        author=actor.user,
    )
    comment.save()
    audit.record(
        actor=actor.user,
        action=f"finding.{kind}",
        obj=comment,
        programme=locked.programme_id,
        after={"question": question.key, "text": comment.text},
    )
    assessors = User.objects.filter(
        pk__in=AssessmentAssessor.objects.filter(assessment=locked).values("user_id")
    )
    notifications.notify(
        recipients=assessors,
        programme=locked.programme_id,
        template="notifications/finding_comment",
        context={"comment": comment, "factory": locked.factory, "question": question},
        link=reverse("assessments:detail", kwargs={"programme_code": locked.programme.code, "pk": locked.pk}),
    )
    return comment


@transaction.atomic
def comment_respond(
    *, actor: Principal, comment: FindingComment, response: str, outcome: str
) -> FindingComment:
    locked = (
        FindingComment.objects.select_for_update(of=("self",))
        .select_related("assessment__programme", "question", "author")
        .get(pk=comment.pk)
    )
    if not permissions.is_programme_staff(actor, locked.programme_id):
        raise PermissionDenied
    if outcome not in CommentOutcome.values or not response.strip():
        raise ValidationError({"response": _("Answer the comment and record its outcome.")})
    locked.response, locked.outcome = response.strip(), outcome
    locked.responded_by, locked.responded_at = actor.user, timezone.now()
    locked.save()
    audit.record(
        actor=actor.user,
        action="finding.response",
        obj=locked,
        programme=locked.programme_id,
        after={"response": locked.response, "outcome": outcome},
    )
    if locked.author is not None:
        notifications.notify(
            recipients=[locked.author],
            programme=locked.programme_id,
            template="notifications/finding_response",
            context={"comment": locked, "question": locked.question},
            link=reverse(
                "assessments:draft",
                kwargs={"programme_code": locked.assessment.programme.code, "pk": locked.assessment_id},
            ),
        )
    return locked
