"""Stored files (reports, attachments, plan evidence, archives) handed to the person who asks for them.

The view decides who may have a file; how its bytes travel depends on where files are kept:
- in S3-compatible object storage, the browser is sent to a presigned URL that lives for
  FILE_URL_SECONDS, so the bytes go from the bucket to the browser and no web process holds them;
- on local disk behind the reverse proxy (FILE_INTERNAL_REDIRECT_PREFIX set), nginx is told to send
  the file from its internal location (X-Accel-Redirect);
- otherwise the web process streams it.
"""

from __future__ import annotations

from typing import IO, Any
from urllib.parse import quote

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header
from storages.backends.s3 import S3Storage


def open_stored(stored: FieldFile) -> IO[Any]:
    """The stored file, open for reading; "not found" when storage no longer holds it (a
    programme restored without its files, a volume lost) rather than an error page."""
    try:
        return stored.open("rb")
    except FileNotFoundError:
        raise Http404 from None


def stored_download(
    stored: FieldFile, *, filename: str, content_type: str, as_attachment: bool = True
) -> HttpResponseBase:
    """The response that hands an authorised user a stored file, named and typed as given."""
    disposition = content_disposition_header(as_attachment, filename) or "inline"
    name = stored.name or ""
    storage = stored.storage
    if isinstance(storage, S3Storage):
        if not name or not storage.exists(name):
            raise Http404
        url = storage.url(
            name,
            parameters={"ResponseContentDisposition": disposition, "ResponseContentType": content_type},
            expire=settings.FILE_URL_SECONDS,
        )
        response: HttpResponseBase = HttpResponseRedirect(url)
    elif settings.FILE_INTERNAL_REDIRECT_PREFIX:
        if not name or not storage.exists(name):
            raise Http404
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.FILE_INTERNAL_REDIRECT_PREFIX + quote(name)
        response["Content-Disposition"] = disposition
    else:
        response = FileResponse(
            open_stored(stored), as_attachment=as_attachment, filename=filename, content_type=content_type
        )
    # Neither the address of the file nor the file may be kept by a browser or a shared cache.
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
