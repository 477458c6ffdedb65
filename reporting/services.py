"""Report jobs: requesting a report returns its one job (creating and enqueueing it only when no
job holds this input yet), and the worker's steps move the job from queued to ready or failed."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from betterwork import audit
from betterwork.notifications import notify
from betterwork.permissions import Principal
from betterwork.tasks import enqueue_on_commit
from buyers import selectors as buyer_selectors
from reporting.kinds import ASSESSMENT_REPORT, KINDS, PROGRESS_REPORT, ReportKind
from reporting.models import JobStatus, ReportJob


def kind_of(name: str) -> ReportKind:
    kind = KINDS.get(name)
    if kind is None:
        raise ValidationError({"kind": _("No such report.")})
    return kind


def report_request(
    *, actor: Principal | None, kind_name: str, target_id: int, language: str, retry: bool = False
) -> tuple[ReportJob, bool]:
    """The job of this report: the existing one for the same input, else a new one, enqueued when
    the caller's transaction commits. ``actor`` None is the platform itself (a report made on
    finalisation). ``retry`` enqueues a failed job again. Returns the job and whether it was sent."""
    kind = kind_of(kind_name)
    target = kind.load(target_id)
    if actor is not None and not kind.may_read(actor, target):
        raise PermissionDenied
    if language not in kind.languages(target):
        raise ValidationError({"language": _("This report is not made in that language.")})
    key = {
        "programme_id": target.programme_id,
        "kind": kind.name,
        "target_id": target.pk,
        "language": language,
        "template_version": kind.template_version,
        "input_hash": kind.input_hash(target),
    }
    job = ReportJob.objects.filter(**key).first()
    created = False
    if job is None:
        try:
            # A savepoint: when twenty people ask at once, the losers of the race read the winner's row.
            with transaction.atomic():
                job = ReportJob.objects.create(
                    **key,
                    requested_by=actor.user if actor is not None else None,
                    queued_at=timezone.now(),
                )
                created = True
        except IntegrityError:
            job = ReportJob.objects.get(**key)
    send = created
    if retry and job.status == JobStatus.FAILED:
        job = ReportJob.objects.select_for_update().get(pk=job.pk)
        if job.status == JobStatus.FAILED:
            job.status, job.progress, job.message, job.queued_at = JobStatus.QUEUED, 0, "", timezone.now()
            job.save(update_fields=["status", "progress", "message", "queued_at"])
            send = True
    if send:
        from reporting.tasks import render_report

        enqueue_on_commit(render_report, job.pk)
    return job, send


def report_downloaded(*, actor: Principal, job: ReportJob) -> None:
    """Every download is on record: who took which report."""
    audit.record(
        actor=actor.user,
        action="report.download",
        obj=job,
        programme=job.programme_id,
        after={"kind": job.kind, "target": job.target_id, "language": job.language, "sha256": job.sha256},
    )


def stuck_jobs_requeue(*, now: dt.datetime | None = None) -> list[int]:
    """Jobs queued or rendering for too long lost their worker or their message: send them again.
    Redis hands an unacknowledged task to another worker only after its visibility timeout (an
    hour), and a broker restarted without persistence forgets queued messages altogether."""
    now = now or timezone.now()
    stale_after = dt.timedelta(seconds=settings.REPORT_STUCK_AFTER_SECONDS)
    stuck = list(
        ReportJob.objects.unscoped(reason="the report sweeper looks at every programme's jobs")
        .select_for_update(skip_locked=True)
        .filter(
            Q(status=JobStatus.QUEUED, queued_at__lt=now - stale_after)
            | Q(status=JobStatus.RENDERING, started_at__lt=now - stale_after, queued_at__lt=now - stale_after)
        )
    )
    from reporting.tasks import render_report

    for job in stuck:
        job.queued_at = now  # the next sweep waits a full period again
        job.message = _("Sent again after it stalled.")
        job.save(update_fields=["queued_at", "message"])
        transaction.on_commit(functools.partial(render_report.apply_async, args=[job.pk], kwargs=_scope(job)))
    return [job.pk for job in stuck]


def _scope(job: ReportJob) -> dict[str, Any]:
    from betterwork.tasks import SCOPE_KWARG

    return {SCOPE_KWARG: [job.programme_id]}


# --- The worker's steps -------------------------------------------------------------------------


def job_start(*, job_id: int) -> ReportJob | None:
    """Take the job for rendering, or None when there is nothing to do: it is ready, or another
    worker started it recently (a duplicate message); a stalled one is the sweeper's to resend."""
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status == JobStatus.READY:
            return None
        now = timezone.now()
        fresh = dt.timedelta(seconds=settings.REPORT_STUCK_AFTER_SECONDS)
        if job.status == JobStatus.RENDERING and job.started_at and job.started_at > now - fresh:
            return None
        job.status, job.progress, job.started_at = JobStatus.RENDERING, 5, now
        job.attempts += 1
        job.save(update_fields=["status", "progress", "started_at", "attempts"])
        return job


def job_progress(*, job_id: int, progress: int) -> None:
    with transaction.atomic():
        ReportJob.objects.filter(pk=job_id, status=JobStatus.RENDERING).update(progress=progress)


def job_finish(*, job_id: int, name: str, sha256: str, pages: int | None) -> ReportJob:
    """Mark the job ready with its stored file; a job another attempt finished stays as it is."""
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().get(pk=job_id)
        if job.status != JobStatus.READY:
            job.file.name, job.sha256, job.pages = name, sha256, pages
            job.status, job.progress, job.message, job.finished_at = JobStatus.READY, 100, "", timezone.now()
            job.save(
                update_fields=["file", "sha256", "pages", "status", "progress", "message", "finished_at"]
            )
            buyers_tell(job=job)
        return job


def buyers_tell(*, job: ReportJob) -> int:
    """A report buyers may read became ready: tell the users of every buyer with live, consented
    access to that factory and cycle (inbox now, e-mail on commit, each in their own language).
    Once per report: only its English job tells, not one mail per language."""
    if job.language != "en":
        return 0
    target = KINDS[job.kind].load(job.target_id) if job.kind in KINDS else None
    if job.kind == ASSESSMENT_REPORT.name and target is not None and target.status == "published":
        factory, cycle, template = target.factory, target.cycle, "notifications/buyer_report_ready"
    elif job.kind == PROGRESS_REPORT.name and target is not None:
        factory, cycle, template = target.factory, target.plan.cycle, "notifications/buyer_report_ready"
    else:
        return 0
    recipients = buyer_selectors.readers_of(factory_id=factory.pk, cycle=cycle)
    if not recipients:
        return 0
    notify(
        recipients=recipients,
        programme=job.programme_id,
        template=template,
        context={
            "factory": factory,
            "cycle": cycle,
            "kind": job.kind,
            "number": getattr(target, "number", None),
        },
        link=reverse("buyer:factory", kwargs={"factory_id": factory.pk}),
    )
    return len(recipients)


def job_fail(*, job_id: int, reason: str) -> None:
    with transaction.atomic():
        ReportJob.objects.filter(pk=job_id).exclude(status=JobStatus.READY).update(
            status=JobStatus.FAILED, message=reason[:2000], finished_at=timezone.now()
        )
