"""The compliance tool: global clusters and compliance points, and versioned question sets.

The tool is published reference data shared by every programme (questions are not
confidential), so its tables carry no programme column: a country version names its
country by code. Assessments and answers, which are tenant data, refer to it.
"""

from __future__ import annotations

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _


def in_language(texts: dict[str, str]) -> str:
    """The text in the active language, else English, else any."""
    language = (translation.get_language() or "en").split("-")[0]
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")


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
        return f"{self.key}: {in_language(self.text)}"
