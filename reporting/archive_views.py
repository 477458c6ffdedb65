"""The Export data page of a programme (every dataset's downloads, and the whole archive that a
worker writes on request), for its managers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from betterwork import permissions
from betterwork.files import stored_download
from betterwork.middleware import principal_of, programme_of
from betterwork.models import Programme
from betterwork.permissions import Principal
from reporting import archive_services, selectors
from reporting.models import ArchiveStatus


def _manager(request: HttpRequest) -> tuple[Programme, Principal]:
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_export_programme_data(principal, programme.pk):
        raise Http404
    return programme, principal


@login_required
def programme_export(request: HttpRequest, programme_code: str) -> HttpResponse:
    """Every dataset of the programme with its downloads (each download checks its own rule)."""
    programme, _principal = _manager(request)
    archives = selectors.programme_archives(programme=programme)
    under_way = next((a for a in archives if a.status in archive_services.UNDER_WAY), None)
    progress = cache.get(archive_services.progress_key(under_way.pk)) if under_way else None
    return render(
        request,
        "reporting/export.html",
        {
            "programme": programme,
            "archives": archives,
            "under_way": under_way,
            "progress": progress if isinstance(progress, dict) and progress.get("total") else None,
            "ready": ArchiveStatus.READY,
        },
    )


@login_required
@require_POST
def archive_request(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, principal = _manager(request)
    archive_services.archive_request(actor=principal, programme=programme)
    return redirect("programme_export", programme_code=programme.code)


@login_required
def archive_download(request: HttpRequest, programme_code: str, pk: int) -> HttpResponseBase:
    """The stored archive; the download is on record."""
    programme, principal = _manager(request)
    archive = selectors.programme_archive(programme=programme, archive_id=pk)
    if archive.status != ArchiveStatus.READY or not archive.file:
        raise Http404
    archive_services.archive_downloaded(actor=principal, archive=archive)
    return stored_download(
        archive.file,
        filename=f"programme-{programme.code}-{archive.created_at:%Y-%m-%d}.json.gz",
        content_type="application/gzip",
    )
