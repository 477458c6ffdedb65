"""The workers' tasks of reporting: render one report job exactly once, however often it is sent;
send stalled jobs again; keep the public transparency lists computed."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from celery import shared_task
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, transaction
from django.template.loader import render_to_string
from django.utils import translation
from redis.exceptions import RedisError

from betterwork import tenancy
from betterwork.tasks import LongScopedTask, ScopedTask
from reporting import rendering, services, transparency
from reporting.kinds import KINDS
from reporting.models import ReportJob

logger = logging.getLogger(__name__)
# Worth another try: the database or storage was briefly away. Anything else is a failure to show.
TRANSIENT = (OperationalError, InterfaceError, RedisError, ConnectionError, TimeoutError)
MAX_RETRIES = 5


class ReportTask(ScopedTask):
    one_transaction = False


def stored_name(job: ReportJob) -> str:
    """One file name per job: a second attempt finds the first one's file instead of adding one."""
    return f"reports/{job.programme_id}/{job.kind}/{job.pk}-{job.input_hash[:16]}-{job.language}.pdf"


def _is_whole_pdf(content: bytes) -> bool:
    return content.startswith(b"%PDF-") and b"%%EOF" in content[-1024:]


@shared_task(
    base=ReportTask, name="reporting.render_report", bind=True, acks_late=True, max_retries=MAX_RETRIES
)
def render_report(self: Any, job_id: int) -> str:
    job = services.job_start(job_id=job_id)
    if job is None:
        return "nothing to do"
    try:
        name = stored_name(job)
        content = _existing(name)
        if content is None:
            content, pages = _render(job)
            services.job_progress(job_id=job.pk, progress=90)
            if default_storage.exists(name):  # a partial file of an attempt killed while writing
                default_storage.delete(name)
            saved = default_storage.save(name, ContentFile(content))
            assert saved == name, f"storage renamed {name} to {saved}"
        else:
            pages = None
        services.job_finish(
            job_id=job.pk, name=name, sha256=hashlib.sha256(content).hexdigest(), pages=pages or job.pages
        )
        return "ready"
    except TRANSIENT as error:
        if self.request.retries < MAX_RETRIES:
            raise self.retry(exc=error, countdown=min(60, 2 ** (self.request.retries + 1))) from error
        services.job_fail(job_id=job.pk, reason=f"Gave up after {MAX_RETRIES} tries: {error}")
        return "failed"
    except Exception as error:  # a report that cannot render shows why, and nothing retries it
        logger.exception("report job %s failed", job.pk)
        services.job_fail(job_id=job.pk, reason=f"{type(error).__name__}: {error}")
        return "failed"


def _existing(name: str) -> bytes | None:
    """The file an earlier attempt stored completely before it died, if there is one."""
    if not default_storage.exists(name):
        return None
    with default_storage.open(name, "rb") as stored:
        content = stored.read()
    return content if _is_whole_pdf(content) else None


def _render(job: ReportJob) -> tuple[bytes, int]:
    kind = KINDS[job.kind]
    with transaction.atomic(), translation.override(job.language):
        target = kind.load(job.target_id)
        context = kind.context(target)
        html = render_to_string(
            kind.template,
            {**context, "language": job.language, "job": job, "bidi": translation.get_language_bidi()},
        )
    services.job_progress(job_id=job.pk, progress=40)
    return rendering.render_pdf(html)


@shared_task(name="reporting.sweep_stuck_reports")
def sweep_stuck_reports() -> list[int]:
    """Beat runs this every minute: jobs that stalled in queued or rendering are sent again."""
    from betterwork.models import Programme

    with tenancy.scope(set(Programme.objects.values_list("pk", flat=True))), transaction.atomic():
        return services.stuck_jobs_requeue()


@shared_task(name="reporting.keep_transparency_lists")
def keep_transparency_lists(programme_ids: list[int] | None = None) -> list[str]:
    """Compute the public transparency lists of these programmes (of every active one when none
    are given) before a visitor asks: beat runs this every ten minutes, as a list changes with the
    day, and a report becoming final or a factory's published response sends it for its programme.
    Public data only, read under each programme's own public scope."""
    kept = []
    for programme in transparency.public_programmes():
        if programme_ids is None or programme.pk in programme_ids:
            transparency.keep_list(programme)
            kept.append(programme.code)
    return kept


def keep_transparency_list_on_commit(programme_id: int) -> None:
    """Once the current transaction commits, compute the programme's list anew in the background."""
    transaction.on_commit(lambda: keep_transparency_lists.delay([programme_id]))


@shared_task(base=LongScopedTask, name="reporting.write_programme_archive")
def write_programme_archive(archive_id: int) -> str:
    """Write a programme's whole archive that its manager asked for (``reporting.archive_services``)."""
    from reporting.archive_services import archive_write

    return archive_write(archive_id)


@shared_task(name="reporting.purge_personal_data")
def purge_personal_data() -> dict[str, dict[str, int]]:
    """Beat runs this daily: each programme, in its own scope, loses the personal data whose kept
    period ended (``reporting.retention``)."""
    from betterwork.models import Programme
    from reporting import retention

    purged: dict[str, dict[str, int]] = {}
    for programme in Programme.objects.order_by("code"):
        with tenancy.scope({programme.pk}):
            purged[programme.code] = retention.personal_data_purge(
                programme=programme, today=programme.today()
            )
    return purged
