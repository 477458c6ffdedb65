"""Stored files (attachments, plan evidence) handed to the person who asks for them."""

from __future__ import annotations

from typing import IO, Any

from django.db.models.fields.files import FieldFile
from django.http import Http404


def open_stored(stored: FieldFile) -> IO[Any]:
    """The stored file, open for reading; "not found" when storage no longer holds it (a
    programme restored without its files, a volume lost) rather than an error page."""
    try:
        return stored.open("rb")
    except FileNotFoundError:
        raise Http404 from None
