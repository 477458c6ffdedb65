"""Reports made without being asked: an assessment's report, as soon as it is final."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from assessments.models import Assessment
from assessments.signals import assessment_finalised
from reporting import kinds, services


@receiver(assessment_finalised, dispatch_uid="reporting.report_on_final")
def report_on_final(sender: Any, assessment: Assessment, **kwargs: Any) -> None:
    """Render the report in English and each of the programme's languages, in the background."""
    for language in kinds.ASSESSMENT_REPORT.languages(assessment):
        services.report_request(
            actor=None, kind_name=kinds.ASSESSMENT_REPORT.name, target_id=assessment.pk, language=language
        )
