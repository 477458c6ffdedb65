"""Advisory: the factory's improvement plan, its bipartite committees (members, elections,
meetings), the advisors' visits, the factory's self-diagnosis and its progress reports."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any
from uuid import uuid4

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from betterwork.tenancy import TenantModel

# --- The improvement plan -------------------------------------------------------------------


class ItemSource(models.TextChoices):
    ASSESSMENT = "assessment", _("Assessment finding")
    SELF_DIAGNOSIS = "self_diagnosis", _("Self-diagnosis")
    FACTORY = "factory", _("Raised by the factory")


class ItemStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    VERIFIED = "verified", _("Verified")


class ItemPriority(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


OPEN_STATUSES = (ItemStatus.NOT_STARTED, ItemStatus.IN_PROGRESS)


class ImprovementPlan(TenantModel):
    """A factory's plan for one cycle: what it will fix, how, who, by when."""

    factory = models.ForeignKey("factories.Factory", on_delete=models.PROTECT, related_name="plans")
    cycle = models.PositiveSmallIntegerField(_("cycle"))
    assessment = models.ForeignKey(
        "assessments.Assessment",
        verbose_name=_("assessment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plans",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["factory", "-cycle"]
        constraints = [models.UniqueConstraint(fields=["factory", "cycle"], name="plan_once_per_cycle")]

    def __str__(self) -> str:
        return f"{self.factory} · {_('Cycle')} {self.cycle}"


class PlanItem(TenantModel):
    plan = models.ForeignKey(ImprovementPlan, on_delete=models.CASCADE, related_name="items")
    source = models.CharField(_("source"), max_length=20, choices=ItemSource.choices)
    question = models.ForeignKey(
        "assessments.Question", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The question's key, stable across tool versions: a finding that persists into the next
    # cycle finds its item by it.
    question_key = models.CharField(_("question"), max_length=32, blank=True)
    finding = models.TextField(_("finding"))
    publicly_reported = models.BooleanField(_("publicly reported"), default=False)
    root_cause = models.TextField(_("root cause"), blank=True)
    action = models.TextField(_("action"), blank=True)
    responsible = models.CharField(_("responsible person"), max_length=200, blank=True)
    committee_owner = models.ForeignKey(
        "CommitteeMember",
        verbose_name=_("committee owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_items",
    )
    due_on = models.DateField(_("due date"), null=True, blank=True)
    priority = models.CharField(
        _("priority"), max_length=10, choices=ItemPriority.choices, default=ItemPriority.MEDIUM
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ItemStatus.choices, default=ItemStatus.NOT_STARTED
    )
    done_on = models.DateField(_("done on"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    carried_from = models.ForeignKey(
        "self",
        verbose_name=_("carried over from"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1)  # optimistic lock for inline edits
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["plan", "-publicly_reported", "due_on", "id"]
        indexes = [
            models.Index(fields=["plan", "status"]),
            models.Index(fields=["programme", "status", "due_on"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "question_key"],
                condition=~Q(question_key=""),
                name="planitem_one_per_finding",
            ),
            models.CheckConstraint(
                name="planitem_verified_has_verifier",
                condition=~Q(status="verified") | Q(verified_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.question_key or self.finding[:60]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class PlanItemComment(TenantModel):
    item = models.ForeignKey(PlanItem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(_("comment"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["created_at", "id"]


def evidence_path(instance: Any, filename: str) -> str:
    # A fresh name per file: nothing of the uploader's file name reaches the storage path.
    suffix = PurePath(filename).suffix.lower()[:8]
    return f"advisory/{instance.programme_id}/{instance.item.plan_id}/{uuid4().hex}{suffix}"


class PlanItemEvidence(TenantModel):
    """A photo or PDF that shows what was done."""

    item = models.ForeignKey(PlanItem, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_path)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


# --- Committees -----------------------------------------------------------------------------


class EqualSides(models.TextChoices):
    ENFORCE = "enforce", _("Refuse unequal sides")
    WARN = "warn", _("Warn about unequal sides")


class CommitteeKind(TenantModel):
    """A kind of committee a programme works with: the PICC, or a national variant."""

    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=120)
    equal_sides = models.CharField(
        _("equal management and worker members"),
        max_length=10,
        choices=EqualSides.choices,
        default=EqualSides.ENFORCE,
    )
    min_members = models.PositiveSmallIntegerField(_("fewest members"), default=4)
    max_members = models.PositiveSmallIntegerField(_("most members"), default=16)

    class Meta(TenantModel.Meta):
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="committeekind_code_unique"),
            models.CheckConstraint(
                name="committeekind_sizes_in_order", condition=Q(max_members__gte=F("min_members"))
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Committee(TenantModel):
    factory = models.ForeignKey("factories.Factory", on_delete=models.PROTECT, related_name="committees")
    kind = models.ForeignKey(
        CommitteeKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="committees"
    )
    established_on = models.DateField(_("established on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["factory", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["factory", "kind"], condition=Q(is_active=True), name="committee_one_active_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} · {self.factory.name}"


class Side(models.TextChoices):
    MANAGEMENT = "management", _("Management")
    WORKER = "worker", _("Workers")


class CommitteeRole(models.TextChoices):
    MEMBER = "member", _("Member")
    CHAIR = "chair", _("Chair")
    CO_CHAIR = "co_chair", _("Co-chair")
    SECRETARY = "secretary", _("Secretary")


class MemberSex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class CommitteeMember(TenantModel):
    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("name"), max_length=120)
    side = models.CharField(_("side"), max_length=12, choices=Side.choices)
    sex = models.CharField(_("sex"), max_length=8, choices=MemberSex.choices)
    union_member = models.BooleanField(_("union member"), default=False)
    role = models.CharField(
        _("role"), max_length=12, choices=CommitteeRole.choices, default=CommitteeRole.MEMBER
    )
    position = models.CharField(_("job in the factory"), max_length=120, blank=True)
    term_starts_on = models.DateField(_("term from"))
    term_ends_on = models.DateField(_("term until"), null=True, blank=True)
    elected_in = models.ForeignKey(
        "Election",
        verbose_name=_("elected in"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # A worker member who signs in to read the plan and minutes (committee-member role).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Names of members who left long ago are erased (settings.COMMITTEE_NAMES_KEPT_DAYS); side,
    # sex, role and term stay for the committee's figures.
    name_erased_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["side", "name", "id"]
        constraints = [
            models.CheckConstraint(
                name="committeemember_term_in_order",
                condition=Q(term_ends_on__isnull=True) | Q(term_ends_on__gte=F("term_starts_on")),
            )
        ]

    def __str__(self) -> str:
        return self.name


class Election(TenantModel):
    """A worker election: nominations, votes counted, who was elected."""

    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="elections")
    held_on = models.DateField(_("held on"))
    seats = models.PositiveSmallIntegerField(_("seats"))
    voters = models.PositiveIntegerField(_("workers entitled to vote"), null=True, blank=True)
    ballots_cast = models.PositiveIntegerField(_("ballots cast"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    results_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-held_on", "-id"]
        constraints = [
            models.CheckConstraint(
                name="election_ballots_within_voters",
                condition=Q(voters__isnull=True)
                | Q(ballots_cast__isnull=True)
                | Q(ballots_cast__lte=F("voters")),
            )
        ]


class Candidate(TenantModel):
    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="candidates")
    name = models.CharField(_("name"), max_length=120)
    sex = models.CharField(_("sex"), max_length=8, choices=MemberSex.choices)
    union_member = models.BooleanField(_("union member"), default=False)
    votes = models.PositiveIntegerField(_("votes"), null=True, blank=True)
    elected = models.BooleanField(_("elected"), default=False)
    # Erased with the names of the members elected that day (settings.COMMITTEE_NAMES_KEPT_DAYS).
    name_erased_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-votes", "name", "id"]


class Meeting(TenantModel):
    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="meetings")
    held_on = models.DateField(_("held on"))
    agenda = models.TextField(_("agenda"), blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    attendees = models.ManyToManyField(CommitteeMember, through="MeetingAttendance", related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["-held_on", "-id"]


class MeetingAttendance(TenantModel):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    member = models.ForeignKey(CommitteeMember, on_delete=models.CASCADE, related_name="meetings_attended")

    class Meta(TenantModel.Meta):
        constraints = [models.UniqueConstraint(fields=["meeting", "member"], name="meetingattendance_once")]


class Decision(TenantModel):
    """What a meeting decided, often about an item of the plan."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    text = models.TextField(_("decision"))
    item = models.ForeignKey(
        PlanItem,
        verbose_name=_("plan item"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="decisions",
    )

    class Meta(TenantModel.Meta):
        ordering = ["id"]


# --- Advisory visits ------------------------------------------------------------------------


class VisitMode(models.TextChoices):
    ON_SITE = "on_site", _("On site")
    VIRTUAL = "virtual", _("Virtual")


class AdvisoryVisit(TenantModel):
    factory = models.ForeignKey("factories.Factory", on_delete=models.PROTECT, related_name="advisory_visits")
    visited_on = models.DateField(_("date"))
    mode = models.CharField(_("mode"), max_length=10, choices=VisitMode.choices, default=VisitMode.ON_SITE)
    with_labour_inspector = models.BooleanField(_("joint with a labour inspector"), default=False)
    with_union = models.BooleanField(_("joint with the union"), default=False)
    advisors = models.ManyToManyField(settings.AUTH_USER_MODEL, through="VisitAdvisor", related_name="+")
    topics = models.TextField(_("topics"))
    follow_ups = models.TextField(_("agreed follow-ups"), blank=True)
    items = models.ManyToManyField(PlanItem, through="VisitItem", related_name="visits")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["factory", "-visited_on"])]

    def __str__(self) -> str:
        return f"{self.factory.name} · {self.visited_on:%Y-%m-%d}"


class VisitAdvisor(TenantModel):
    visit = models.ForeignKey(AdvisoryVisit, on_delete=models.CASCADE, related_name="advisor_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta(TenantModel.Meta):
        constraints = [models.UniqueConstraint(fields=["visit", "user"], name="visitadvisor_once")]


class VisitItem(TenantModel):
    visit = models.ForeignKey(AdvisoryVisit, on_delete=models.CASCADE, related_name="item_links")
    item = models.ForeignKey(PlanItem, on_delete=models.CASCADE, related_name="visit_links")

    class Meta(TenantModel.Meta):
        constraints = [models.UniqueConstraint(fields=["visit", "item"], name="visititem_once")]


# --- Self-diagnosis -------------------------------------------------------------------------


class DiagnosisStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")


class SelfDiagnosis(TenantModel):
    """The factory's own answers to a subset of the tool, before its first assessment."""

    factory = models.ForeignKey("factories.Factory", on_delete=models.PROTECT, related_name="self_diagnoses")
    tool_version = models.ForeignKey("assessments.ToolVersion", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=DiagnosisStatus.choices, default=DiagnosisStatus.DRAFT
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]


class DiagnosisAnswer(TenantModel):
    diagnosis = models.ForeignKey(SelfDiagnosis, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey("assessments.Question", on_delete=models.PROTECT, related_name="+")
    value = models.CharField(
        _("answer"),
        max_length=2,
        choices=[("C", _("Compliant")), ("NC", _("Non-compliant")), ("NA", _("Not applicable"))],
    )
    note = models.TextField(_("what the factory found"), blank=True)

    class Meta(TenantModel.Meta):
        constraints = [models.UniqueConstraint(fields=["diagnosis", "question"], name="diagnosisanswer_once")]


# --- Progress reports -----------------------------------------------------------------------


class ProgressStatus(models.TextChoices):
    DRAFT = "draft", _("Being prepared")
    SUBMITTED = "submitted", _("Submitted")


class ProgressReport(TenantModel):
    """Progress Report 1 (within 30 days of the assessment report) or 2 (later): the plan, the
    committee and its meetings, the advisory visits and the training, as the factory submitted it."""

    plan = models.ForeignKey(ImprovementPlan, on_delete=models.PROTECT, related_name="progress_reports")
    factory = models.ForeignKey(
        "factories.Factory", on_delete=models.PROTECT, related_name="progress_reports"
    )
    number = models.PositiveSmallIntegerField(_("progress report"), choices=[(1, "1"), (2, "2")])
    due_on = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=10, choices=ProgressStatus.choices, default=ProgressStatus.DRAFT
    )
    factory_statement = models.TextField(_("the factory's statement"), blank=True)
    # What the report says, frozen at submission (the PDF and buyers read this, not live data).
    snapshot = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="progressreport_once_per_plan")
        ]

    def __str__(self) -> str:
        return f"{_('Progress Report')} {self.number} · {self.factory.name}"
