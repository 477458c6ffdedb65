"""A programme's archive asked for on the Export data page: a worker writes it
(``reporting.write_archive``) into storage; the newest ready archive keeps its file."""

from __future__ import annotations

import gzip
import tempfile
from typing import IO, cast

from django.core.cache import cache
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from betterwork import audit
from betterwork.models import Programme
from betterwork.permissions import Principal
from reporting.archive import write_archive
from reporting.models import ArchiveStatus, ProgrammeArchive

UNDER_WAY = (ArchiveStatus.QUEUED, ArchiveStatus.WRITING)


def progress_key(archive_id: int) -> str:
    return f"archive-progress:{archive_id}"


class CachedArchiveProgress:
    """Rows written so far, kept in the cache for the page (the worker writes from one long
    read-only transaction, which cannot write to the database)."""

    def __init__(self, archive_id: int) -> None:
        self.key = progress_key(archive_id)
        self.state = {"done": 0, "total": 0}

    def start(self, total: int) -> None:
        self.state["total"] = total
        cache.set(self.key, self.state, timeout=24 * 3600)

    def advance(self, rows: int) -> None:
        self.state["done"] += rows
        cache.set(self.key, self.state, timeout=24 * 3600)

    def clear(self) -> None:
        cache.delete(self.key)


@transaction.atomic
def archive_request(*, actor: Principal, programme: Programme) -> ProgrammeArchive:
    """Ask a worker for the programme's archive; one under way already is the answer."""
    Programme.objects.select_for_update().filter(pk=programme.pk).first()  # one request at a time
    under_way = ProgrammeArchive.objects.filter(programme=programme, status__in=UNDER_WAY).first()
    if under_way is not None:
        return under_way
    archive = ProgrammeArchive.objects.create(programme=programme, requested_by=actor.user)
    audit.record(actor=actor.user, action="archive.request", obj=archive, programme=programme)
    from betterwork.tasks import enqueue_on_commit
    from reporting.tasks import write_programme_archive

    enqueue_on_commit(write_programme_archive, archive.pk)
    return archive


def archive_write(archive_id: int) -> str:
    """The worker's part: write the archive to a temporary file, then into storage; older
    archives of the programme lose their files. Returns what became of it."""
    with transaction.atomic():
        archive = (
            ProgrammeArchive.objects.select_for_update()
            .select_related("programme")
            .filter(pk=archive_id, status=ArchiveStatus.QUEUED)
            .first()
        )
        if archive is None:
            return "gone"  # a message delivered twice, or an archive already written
        archive.status = ArchiveStatus.WRITING
        archive.save(update_fields=["status"])
    told = CachedArchiveProgress(archive.pk)
    try:
        with tempfile.TemporaryFile() as scratch:
            with gzip.GzipFile(fileobj=scratch, mode="wb", compresslevel=6) as out:
                summary = write_archive(
                    cast(IO[bytes], out), archive.programme, on_start=told.start, progress=told.advance
                )
            scratch.seek(0)
            with transaction.atomic():
                archive.file.save("archive.json.gz", File(scratch), save=False)
                archive.status = ArchiveStatus.READY
                archive.rows = summary.rows
                archive.size = archive.file.size
                archive.finished_at = timezone.now()
                archive.save(update_fields=["file", "status", "rows", "size", "finished_at"])
                _drop_older_files(archive)
    except Exception as error:
        with transaction.atomic():
            ProgrammeArchive.objects.filter(pk=archive.pk).update(
                status=ArchiveStatus.FAILED,
                finished_at=timezone.now(),
                message=_("The archive could not be written (%(reason)s).")
                % {"reason": type(error).__name__},
            )
        raise
    finally:
        told.clear()
    return ArchiveStatus.READY


def _drop_older_files(archive: ProgrammeArchive) -> None:
    older = ProgrammeArchive.objects.filter(
        programme_id=archive.programme_id, status=ArchiveStatus.READY, created_at__lt=archive.created_at
    ).exclude(file="")
    for previous in older:
        previous.file.delete(save=False)
    older.update(file="")


def archive_downloaded(*, actor: Principal, archive: ProgrammeArchive) -> None:
    audit.record(
        actor=actor.user,
        action="archive.download",
        obj=archive,
        programme=archive.programme_id,
        after={"rows": archive.rows, "size": archive.size},
    )
