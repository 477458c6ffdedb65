"""Reports made without being asked: an assessment's report as soon as it is final, a progress
report as soon as the factory submits it."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from advisory.models import ProgressReport
from advisory.signals import progress_report_submitted
from assessments.models import Assessment
from assessments.signals import assessment_finalised, assessment_published
from reporting import kinds, services


@receiver(assessment_finalised, dispatch_uid="reporting.report_on_final")
@receiver(assessment_published, dispatch_uid="reporting.report_on_published")
def report_on_final(sender: Any, assessment: Assessment, **kwargs: Any) -> None:
    """Render the report in English and each of the programme's languages, in the background: when
    final, and again when published (its buyers are told once their copy is ready)."""
    for language in kinds.ASSESSMENT_REPORT.languages(assessment):
        services.report_request(
            actor=None, kind_name=kinds.ASSESSMENT_REPORT.name, target_id=assessment.pk, language=language
        )


@receiver(progress_report_submitted, dispatch_uid="reporting.report_on_progress_submitted")
def report_on_progress_submitted(sender: Any, report: ProgressReport, **kwargs: Any) -> None:
    for language in kinds.PROGRESS_REPORT.languages(report):
        services.report_request(
            actor=None, kind_name=kinds.PROGRESS_REPORT.name, target_id=report.pk, language=language
        )
