"""The compliance tool (global reference data) and assessments of factories against it (tenant data).

The tool is published reference data shared by every programme (questions are not
confidential), so its tables carry no programme column: a country version names its
country by code. Assessments and answers, which are tenant data, refer to it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from betterwork.tenancy import TenantModel


def in_language(texts: dict[str, str]) -> str:
    """The text in the active language, else English, else any."""
    language = (translation.get_language() or "en").split("-")[0]
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")


# The flags a question can carry, in the order the data files list them.
FLAGS = ("publicly_reported", "gender_sensitive", "zero_tolerance")


class Cluster(models.Model):
    code = models.CharField(_("code"), max_length=16, unique=True)
    core = models.BooleanField(_("core labour standard"), default=False)
    name = models.JSONField(_("name"), default=dict)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return in_language(self.name)


class CompliancePoint(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="points")
    name = models.JSONField(_("name"), default=dict)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["cluster__order", "order"]

    def __str__(self) -> str:
        return in_language(self.name)


class ToolStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")


class ToolVersion(models.Model):
    """One version of a tool: the global template or a country's, valid from a date."""

    tool = models.CharField(_("tool"), max_length=16, help_text=_('"global" or a country programme code'))
    version = models.CharField(_("version"), max_length=32)
    title = models.JSONField(_("title"), default=dict)
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ToolStatus.choices, default=ToolStatus.DRAFT
    )
    published_at = models.DateTimeField(null=True, blank=True)
    # Four eyes: whoever sends a draft to review may not publish it.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    review_note = models.TextField(_("review note"), blank=True)
    # sha256 of the canonical content: a published version's questions can never change.
    content_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["tool", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["tool", "version"], name="toolversion_unique")]

    def __str__(self) -> str:
        return f"{self.tool} {self.version}"


class Question(models.Model):
    version = models.ForeignKey(ToolVersion, on_delete=models.CASCADE, related_name="questions")
    key = models.CharField(_("key"), max_length=32, help_text=_("Stable across versions of the same tool."))
    global_key = models.CharField(_("equivalent global question"), max_length=32, blank=True)
    point = models.ForeignKey(CompliancePoint, on_delete=models.PROTECT, related_name="questions")
    noncompliant_when_yes = models.BooleanField(_("non-compliant when answered yes"))
    publicly_reported = models.BooleanField(_("publicly reported"), default=False)
    gender_sensitive = models.BooleanField(_("gender-sensitive"), default=False)
    zero_tolerance = models.BooleanField(_("zero tolerance"), default=False)
    text = models.JSONField(_("question"), default=dict)
    guidance = models.JSONField(_("guidance"), default=dict)
    legal_reference = models.CharField(_("legal reference"), max_length=300, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="question_key_unique_in_version")
        ]
        indexes = [models.Index(fields=["global_key"])]

    def __str__(self) -> str:
        return f"{self.key}: {self.display_text}"

    @property
    def display_text(self) -> str:
        return in_language(self.text)

    @property
    def guidance_text(self) -> str:
        return in_language(self.guidance) if self.guidance else ""


# --- Assessments: tenant data --------------------------------------------------------------


class AssessmentStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    FACTORY_REVIEW = "factory_review", _("Factory review")
    FINAL = "final", _("Final")
    PUBLISHED = "published", _("Published")
    CANCELLED = "cancelled", _("Cancelled")


class Round(TenantModel):
    """An optional programme-wide assessment round (e.g. "2026 round 1")."""

    name = models.CharField(_("name"), max_length=120)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))

    class Meta(TenantModel.Meta):
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(name="round_dates_in_order", condition=Q(ends_on__gte=F("starts_on")))
        ]

    def __str__(self) -> str:
        return self.name


class Assessment(TenantModel):
    factory = models.ForeignKey("factories.Factory", on_delete=models.PROTECT, related_name="assessments")
    tool_version = models.ForeignKey(ToolVersion, on_delete=models.PROTECT, related_name="+")
    cycle = models.PositiveSmallIntegerField(_("cycle"), help_text=_("Counted per factory: Cycle 1, 2, ..."))
    round = models.ForeignKey(
        Round, on_delete=models.SET_NULL, null=True, blank=True, related_name="assessments"
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=AssessmentStatus.choices,
        default=AssessmentStatus.PLANNED,
        db_index=True,
    )
    # Planning: visits are unannounced, so these are never shown to factory or buyer users.
    planned_date = models.DateField(_("planned visit date"))
    due_date = models.DateField(_("report due"), null=True, blank=True)
    assessors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="AssessmentAssessor", related_name="+", verbose_name=_("assessors")
    )
    # Process facts of the visit.
    visit_started_on = models.DateField(_("visit started"), null=True, blank=True)
    visit_ended_on = models.DateField(_("visit ended"), null=True, blank=True)
    person_days = models.DecimalField(_("person-days"), max_digits=4, decimal_places=1, null=True, blank=True)
    access_restricted = models.BooleanField(_("access was restricted"), default=False)
    documents_on_time = models.BooleanField(_("documents were provided on time"), default=True)
    interviews = models.JSONField(_("interviews"), default=dict, blank=True)
    # Review and dates of the lifecycle.
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    review_comments = models.TextField(_("review comments"), blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    factory_review_until = models.DateField(_("factory may comment until"), null=True, blank=True)
    final_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every transition: a stale transition is refused, never applied twice.
    lock_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["-planned_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["factory", "cycle"],
                condition=~Q(status="cancelled"),
                name="assessment_one_per_factory_cycle",
            )
        ]
        indexes = [models.Index(fields=["programme", "status"]), models.Index(fields=["factory", "-cycle"])]

    def __str__(self) -> str:
        return f"{self.factory} · {_('Cycle')} {self.cycle}"


class AssessmentAssessor(TenantModel):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="assessor_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    lead = models.BooleanField(_("lead assessor"), default=False)

    class Meta(TenantModel.Meta):
        constraints = [models.UniqueConstraint(fields=["assessment", "user"], name="assessor_once")]


class AnswerValue(models.TextChoices):
    COMPLIANT = "C", _("Compliant")
    NON_COMPLIANT = "NC", _("Non-compliant")
    NOT_APPLICABLE = "NA", _("Not applicable")


class EvidenceSource(models.TextChoices):
    DOCUMENTS = "documents", _("Documents")
    OBSERVATION = "observation", _("Observation")
    MANAGEMENT = "management_interview", _("Management interview")
    WORKERS = "worker_interview", _("Worker interview")
    UNION = "union_interview", _("Union interview")


class Answer(TenantModel):
    """One question answered in one assessment; ``version`` guards against lost updates."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    value = models.CharField(_("answer"), max_length=2, choices=AnswerValue.choices, blank=True)
    finding = models.TextField(_("finding"), blank=True)
    evidence = models.JSONField(_("evidence sources"), default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["assessment", "question"], name="answer_once_per_question"),
            models.CheckConstraint(name="answer_nc_has_finding", condition=~Q(value="NC") | ~Q(finding="")),
        ]


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open: being investigated")
    CONFIRMED = "confirmed", _("Confirmed: being remediated")
    NOT_CONFIRMED = "not_confirmed", _("Not confirmed")
    CLOSED = "closed", _("Closed: remediated")


class Case(TenantModel):
    """A zero-tolerance finding (child labour, forced labour, ...): escalated at once,
    investigated, confirmed or not, remediated and closed, every step on record."""

    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="cases")
    factory = models.ForeignKey("factories.Factory", on_delete=models.PROTECT, related_name="cases")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    finding = models.TextField(_("finding"))
    remediation = models.TextField(_("remediation steps"), blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "question"],
                condition=~Q(status="closed") & ~Q(status="not_confirmed"),
                name="case_one_open_per_question",
            )
        ]

    def __str__(self) -> str:
        return f"{self.factory.name}: {self.question.key}"


class CaseNote(TenantModel):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["created_at"]


class CommentKind(models.TextChoices):
    COMMENT = "comment", _("Comment")
    DISPUTE = "dispute", _("Dispute")


class CommentOutcome(models.TextChoices):
    UPHELD = "upheld", _("Finding upheld")
    REVISED = "revised", _("Finding revised")
    NOTED = "noted", _("Comment noted")


class FindingComment(TenantModel):
    """A factory's comment on, or dispute of, one finding of its draft report, and the answer."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="finding_comments")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(
        _("kind"), max_length=10, choices=CommentKind.choices, default=CommentKind.COMMENT
    )
    text = models.TextField(_("comment"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    response = models.TextField(_("response"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=CommentOutcome.choices, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["created_at"]


def attachment_path(instance: Attachment, filename: str) -> str:
    # Stored under a random name: the uploader's file name is kept only for display.
    return (
        f"assessments/{instance.programme_id}/{instance.assessment_id}/{uuid.uuid4().hex}{instance.extension}"
    )


class Attachment(TenantModel):
    """Evidence for an assessment or one of its questions: a photo or a PDF."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="attachments")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    file = models.FileField(upload_to=attachment_path)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def extension(self) -> str:
        return {
            "application/pdf": ".pdf",
            "image/jpeg": ".jpg",
            "image/png": ".png",
            "image/webp": ".webp",
        }.get(self.content_type, "")


class InterviewKind(models.TextChoices):
    """Who was interviewed: the interview sources of evidence, with the same values."""

    MANAGEMENT = EvidenceSource.MANAGEMENT.value, EvidenceSource.MANAGEMENT.label
    WORKERS = EvidenceSource.WORKERS.value, EvidenceSource.WORKERS.label
    UNION = EvidenceSource.UNION.value, EvidenceSource.UNION.label


class InterviewNote(TenantModel):
    """What was said in one interview of an assessment visit. Personal data: it names or
    describes workers and quotes them, so only the assessment's assessors and the programme's
    team leaders and managers read it, every read is audited, and it is removed once the
    programme's kept period has passed (``settings.INTERVIEW_NOTES_KEPT_DAYS``)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="interview_notes")
    kind = models.CharField(_("interview"), max_length=24, choices=InterviewKind.choices)
    held_on = models.DateField(_("held on"))
    interviewees = models.CharField(
        _("interviewees"),
        max_length=300,
        blank=True,
        help_text=_('Names or a description of the people, for example "3 sewing operators, line 4".'),
    )
    notes = models.TextField(_("notes"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantModel.Meta):
        ordering = ["held_on", "id"]

    def __str__(self) -> str:
        # Shown in the audit trail: the interview's kind and day, never who was interviewed.
        return f"{self.get_kind_display()} · {self.held_on:%Y-%m-%d}"
