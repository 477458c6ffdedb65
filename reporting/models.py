"""Report jobs: one row per report (target, kind, language, template version, input), the single
truth about whether its PDF is queued, rendering, ready or failed, and where its file is."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

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
