"""Work done without being asked: an assessment counts in the rollups and its report is made as
soon as it is final; a progress report is made as soon as the factory submits it."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from advisory.models import ProgressReport
from advisory.signals import progress_report_submitted
from assessments.models import Assessment
from assessments.signals import assessment_finalised, assessment_published, assessments_imported
from factories.models import Factory
from reporting import kinds, rollups, services, tasks


@receiver(assessment_finalised, dispatch_uid="reporting.count_final")
def count_final(sender: Any, assessment: Assessment, **kwargs: Any) -> None:
    """The figures count the assessment from the moment it is final, in the same transaction."""
    rollups.count_final(assessment)


@receiver(assessment_finalised, dispatch_uid="reporting.transparency_list_on_final")
def transparency_list_on_final(sender: Any, assessment: Assessment, **kwargs: Any) -> None:
    """A report that became final may replace entries (today, or once its notice has passed)."""
    tasks.keep_transparency_list_on_commit(assessment.programme_id)


@receiver(assessments_imported, dispatch_uid="reporting.count_imported")
def count_imported(sender: Any, programme: Any, assessments: list[Assessment], **kwargs: Any) -> None:
    """Imported historical assessments count as final ones do, all at once (no report is made
    for them)."""
    rollups.count_many(programme, [assessment.pk for assessment in assessments])
    if assessments:
        tasks.keep_transparency_list_on_commit(programme.pk)


@receiver(post_save, sender=Factory, dispatch_uid="reporting.factory_changed")
def factory_changed(sender: Any, instance: Factory, created: bool, **kwargs: Any) -> None:
    if not created:
        rollups.factory_changed(instance)


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
