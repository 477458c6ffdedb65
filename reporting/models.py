"""Report jobs: one row per report (target, kind, language, template version, input), the single
truth about whether its PDF is queued, rendering, ready or failed, and where its file is."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from betterwork.tenancy import TenantModel


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RENDERING = "rendering", _("Rendering")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class ReportJob(TenantModel):
    kind = models.CharField(_("report"), max_length=40)
    # What the report is about, by the kind's own measure (an assessment's id for its report).
    target_id = models.BigIntegerField()
    language = models.CharField(_("language"), max_length=10)
    template_version = models.PositiveIntegerField()
    # sha256 of the snapshot of everything the report shows: new input, new job; same, same job.
    input_hash = models.CharField(max_length=64)
    status = models.CharField(_("status"), max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text=_("Per cent done."))
    message = models.TextField(blank=True)
    file = models.FileField(upload_to="reports/", blank=True, max_length=300)
    sha256 = models.CharField(max_length=64, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "kind", "target_id", "language", "template_version", "input_hash"],
                name="reportjob_once_per_input",
            ),
            models.CheckConstraint(
                name="reportjob_ready_has_file",
                condition=~models.Q(status="ready") | (~models.Q(file="") & ~models.Q(sha256="")),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "queued_at"]),
            models.Index(fields=["kind", "target_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_id} ({self.language})"

    @property
    def is_done(self) -> bool:
        return self.status in (JobStatus.READY, JobStatus.FAILED)


# --- Rollups: what dashboards and published figures read -----------------------------------------


class SizeBand(models.TextChoices):
    UNDER_500 = "lt500", _("Fewer than 500 workers")
    UNDER_2000 = "lt2000", _("500 to 1,999 workers")
    UNDER_5000 = "lt5000", _("2,000 to 4,999 workers")
    LARGER = "ge5000", _("5,000 workers or more")


def size_band(workers: int) -> str:
    for limit, band in ((500, SizeBand.UNDER_500), (2000, SizeBand.UNDER_2000), (5000, SizeBand.UNDER_5000)):
        if workers < limit:
            return band
    return SizeBand.LARGER


class Segment(TenantModel):
    """The cell of a rollup: a cycle, the year of the visit, and the factory's region, sector, size
    and union presence when the assessment became final (the dashboards' filters)."""

    cycle = models.PositiveSmallIntegerField(_("cycle"))
    year = models.PositiveSmallIntegerField(_("year"))
    region = models.CharField(_("region or zone"), max_length=120, blank=True)
    sector = models.CharField(_("sector"), max_length=20)
    size = models.CharField(_("size"), max_length=8, choices=SizeBand.choices)
    union_present = models.BooleanField(_("union present"))

    SEGMENT_FIELDS = ("programme", "cycle", "year", "region", "sector", "size", "union_present")

    class Meta(TenantModel.Meta):
        abstract = True


class CountedAssessment(Segment):
    """The assessment that counts for one factory's cycle (its latest final revision) and what it
    added to the rollups, kept so that a later revision takes exactly that back out."""

    factory = models.ForeignKey("factories.Factory", on_delete=models.CASCADE, related_name="+")
    assessment = models.ForeignKey("assessments.Assessment", on_delete=models.CASCADE, related_name="+")
    workers_female = models.PositiveIntegerField(default=0)
    workers_male = models.PositiveIntegerField(default=0)
    questions_assessed = ArrayField(models.BigIntegerField(), default=list)  # answered C or NC
    questions_non_compliant = ArrayField(models.BigIntegerField(), default=list)
    points_assessed = ArrayField(models.BigIntegerField(), default=list)
    points_non_compliant = ArrayField(models.BigIntegerField(), default=list)
    counted_at = models.DateTimeField(auto_now=True)

    class Meta(Segment.Meta):
        constraints = [
            models.UniqueConstraint(fields=["factory", "cycle"], name="countedassessment_once_per_cycle"),
        ]
        indexes = [models.Index(fields=["programme", "cycle"]), models.Index(fields=["assessment"])]


class SegmentRollup(Segment):
    """Factories counted in a cell, and their workers."""

    factories = models.IntegerField(default=0)
    workers_female = models.BigIntegerField(default=0)
    workers_male = models.BigIntegerField(default=0)

    class Meta(Segment.Meta):
        constraints = [
            models.UniqueConstraint(fields=list(Segment.SEGMENT_FIELDS), name="segmentrollup_once"),
        ]


class QuestionRollup(Segment):
    """Per cell and question: factories answering it C or NC, and those answering NC."""

    question = models.ForeignKey("assessments.Question", on_delete=models.PROTECT, related_name="+")
    assessed = models.IntegerField(default=0)
    non_compliant = models.IntegerField(default=0)

    class Meta(Segment.Meta):
        constraints = [
            models.UniqueConstraint(fields=[*Segment.SEGMENT_FIELDS, "question"], name="questionrollup_once"),
        ]


class QuestionTotal(TenantModel):
    """``QuestionRollup`` summed over the segments, per cycle and year: what the dashboard reads when
    no segment filter is set (a few thousand rows per programme instead of a few hundred thousand)."""

    cycle = models.PositiveSmallIntegerField(_("cycle"))
    year = models.PositiveSmallIntegerField(_("year"))
    question = models.ForeignKey("assessments.Question", on_delete=models.PROTECT, related_name="+")
    assessed = models.IntegerField(default=0)
    non_compliant = models.IntegerField(default=0)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "cycle", "year", "question"], name="questiontotal_once"
            ),
        ]


class PointTotal(TenantModel):
    """``PointRollup`` summed over the segments, per cycle and year (as ``QuestionTotal``)."""

    cycle = models.PositiveSmallIntegerField(_("cycle"))
    year = models.PositiveSmallIntegerField(_("year"))
    point = models.ForeignKey("assessments.CompliancePoint", on_delete=models.PROTECT, related_name="+")
    assessed = models.IntegerField(default=0)
    non_compliant = models.IntegerField(default=0)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["programme", "cycle", "year", "point"], name="pointtotal_once"),
        ]


class PointRollup(Segment):
    """Per cell and compliance point: factories where it was assessed (any question C or NC), and
    those non-compliant on it (any question NC)."""

    point = models.ForeignKey("assessments.CompliancePoint", on_delete=models.PROTECT, related_name="+")
    assessed = models.IntegerField(default=0)
    non_compliant = models.IntegerField(default=0)

    class Meta(Segment.Meta):
        constraints = [
            models.UniqueConstraint(fields=[*Segment.SEGMENT_FIELDS, "point"], name="pointrollup_once"),
        ]


# --- The transparency list: a factory's published response to its entry -------------------------


class TransparencyResponse(TenantModel):
    """A factory's response to its entry on the public transparency list (one per assessment),
    shown beside the entry once published. Written by the factory's own users."""

    assessment = models.ForeignKey("assessments.Assessment", on_delete=models.CASCADE, related_name="+")
    text = models.TextField(_("response"), max_length=2000)
    published = models.BooleanField(_("published"), default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Bumped by every save: a colleague's change meanwhile is refused, never overwritten.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("transparency list response")
        constraints = [
            models.UniqueConstraint(fields=["assessment"], name="transparencyresponse_once_per_assessment"),
        ]

    def __str__(self) -> str:
        return f"{self.assessment_id}: {self.text[:40]}"


# --- Synthesis reports: the programme's published figures ----------------------------------------


class SynthesisKind(models.TextChoices):
    ANNUAL = "annual", _("Annual")
    THEMATIC = "thematic", _("Thematic")


class SynthesisScope(models.TextChoices):
    CYCLES = "cycles", _("Assessment cycles")
    YEARS = "years", _("Years of the visits")


class SynthesisStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    # Not a factory's "withdrawn" (from the programme): a report taken off the public site.
    WITHDRAWN = "withdrawn", pgettext_lazy("synthesis report", "Withdrawn")


class SynthesisReport(TenantModel):
    """A synthesis report of the programme's figures (annual, or on a theme such as fire safety),
    composed by a programme manager and published on the public site. Its figures come from the
    rollups: computed live while a draft, frozen in ``snapshot`` when published, so that a later
    revision of an assessment never changes what was published. A published report never changes;
    a new version is a new report (``based_on``); a withdrawn one leaves the public site."""

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=12, choices=SynthesisKind.choices, default=SynthesisKind.ANNUAL
    )
    introduction = models.TextField(_("introduction"), blank=True, max_length=5000)
    # The scope: a set of cycles, or the visits of a range of years; then the dashboard's filters.
    scope = models.CharField(
        _("counted by"), max_length=8, choices=SynthesisScope.choices, default=SynthesisScope.YEARS
    )
    cycles = ArrayField(
        models.PositiveSmallIntegerField(), default=list, blank=True, verbose_name=_("cycles")
    )
    year_from = models.PositiveSmallIntegerField(_("from the year"), null=True, blank=True)
    year_to = models.PositiveSmallIntegerField(_("to the year"), null=True, blank=True)
    region = models.CharField(_("region or zone"), max_length=120, blank=True)
    sector = models.CharField(_("sector"), max_length=20, blank=True)
    size = models.CharField(_("size"), max_length=8, choices=SizeBand.choices, blank=True)
    union_present = models.BooleanField(_("union present"), null=True, blank=True)
    # The theme: questions by their stable key, matched across versions of the tool.
    theme_keys = ArrayField(
        models.CharField(max_length=32), default=list, blank=True, verbose_name=_("theme")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=SynthesisStatus.choices, default=SynthesisStatus.DRAFT
    )
    # Everything the published report shows (reporting/synthesis.py), frozen at publication.
    snapshot = models.JSONField(null=True, blank=True, editable=False)
    based_on = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("based on")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)
    # Bumped by every save: a colleague's change meanwhile is refused, never overwritten.
    version = models.PositiveIntegerField(default=1)

    class Meta(TenantModel.Meta):
        verbose_name = _("synthesis report")
        verbose_name_plural = _("synthesis reports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="synthesisreport_published_is_frozen",
                condition=models.Q(status="draft")
                | (models.Q(snapshot__isnull=False) & models.Q(published_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="synthesisreport_years_in_order",
                condition=models.Q(year_from__isnull=True)
                | models.Q(year_to__isnull=True)
                | models.Q(year_from__lte=models.F("year_to")),
            ),
        ]
        indexes = [models.Index(fields=["programme", "status", "published_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_draft(self) -> bool:
        return self.status == SynthesisStatus.DRAFT


class ArchiveStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    WRITING = "writing", _("Being written")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


def archive_path(instance: ProgrammeArchive, filename: str) -> str:
    return f"archives/{instance.programme_id}/{instance.pk}-{instance.created_at:%Y-%m-%d}.json.gz"


class ProgrammeArchive(TenantModel):
    """A programme's whole archive (``reporting.archive``) asked for on the Export data page and
    written by a worker; only the newest ready one keeps its file."""

    status = models.CharField(
        _("status"), max_length=12, choices=ArchiveStatus.choices, default=ArchiveStatus.QUEUED
    )
    file = models.FileField(upload_to=archive_path, blank=True, max_length=300)
    rows = models.PositiveBigIntegerField(_("rows"), default=0)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    message = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.programme_id} archive {self.created_at:%Y-%m-%d %H:%M}"
