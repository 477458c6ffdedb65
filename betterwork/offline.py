"""What the browser keeps for working without a connection: the service worker's script (the
static assets it stores, and a version that changes whenever they do), the web app manifest, and
the texts the offline script shows.

The assessment pages themselves are stored by the service worker as the advisor opens them; the
changes made offline live in the browser's IndexedDB until they are sent (static/js/offline.js).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.utils.translation import gettext as _

# Everything a stored page needs to display and work: its style, its scripts, its icon.
ASSETS = ("css/app.css", "js/app.js", "js/offline.js", "vendor/htmx/htmx.min.js", "favicon.svg")
# Photos and PDFs queued offline, all together: a tablet's storage is shared with everything else.
QUEUE_MAX_BYTES = 100 * 1024 * 1024


def asset_urls() -> list[str]:
    return [static(name) for name in ASSETS]


def worker_version() -> str:
    """Changes whenever a stored asset does, so browsers replace their copies. In production the
    asset URLs carry their content's hash; in development the files' contents are read."""
    if settings.DEBUG:
        return _contents_hash(tuple(asset_urls()))
    return _urls_hash(tuple(asset_urls()))


@lru_cache(maxsize=4)
def _urls_hash(urls: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join(urls).encode()).hexdigest()[:16]


def _contents_hash(urls: tuple[str, ...]) -> str:
    digest = hashlib.sha256("\n".join(urls).encode())
    for name in ASSETS:
        path = finders.find(name)
        if path:
            with open(str(path), "rb") as file:
                digest.update(file.read())
    return digest.hexdigest()[:16]


def worker_context() -> dict[str, Any]:
    return {"version": worker_version(), "assets": json.dumps(asset_urls())}


def manifest(language: str, bidi: bool) -> dict[str, Any]:
    """The web app manifest: the platform installs on a tablet's home screen and opens full-screen."""
    return {
        "name": "Betterwork",
        "short_name": "Betterwork",
        "description": _("Labour compliance for country programmes."),
        "lang": language,
        "dir": "rtl" if bidi else "ltr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#10263f",
        "icons": [{"src": static("favicon.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    }


def texts() -> dict[str, str]:
    """What the offline script says, in the user's language ({n} stands for a number)."""
    return {
        "offline": _(
            "You are offline. Your answers and photos are kept on this device and sent when the connection returns."
        ),
        "waiting": _("Changes waiting to be sent: {n}."),
        "sending": _("Sending your changes…"),
        "sent": _("All your changes are saved on the server."),
        "conflicts": _("Answers a colleague changed meanwhile: {n}. Choose which to keep."),
        "refused": _("Changes the server refused: {n}. Review them."),
        "signin": _("Your session has ended: sign in again to send your changes."),
        "review": _("Review the changes"),
        "state_waiting": _("Kept on this device; waiting to be sent."),
        "state_conflict": _("A colleague changed this answer meanwhile: choose which to keep."),
        "state_refused": _("Not saved: {error}"),
        "state_sent": _("Sent."),
        "file_waiting": _("waiting to be sent"),
        "file_remove": _("Remove"),
        "file_added": _("Evidence added."),
        "file_choose": _("Choose a file first."),
        "file_too_big": _("Files may be at most 10 MB."),
        "file_type": _("Only photos (JPEG, PNG, WebP) and PDF files are accepted."),
        "queue_full": _(
            "This device keeps at most {size} MB of photos waiting to be sent: send them before adding more."
        ),
        "storage_full": _("This device has no room left to keep the file."),
        "not_kept": _("This change could not be kept on this device: {error}"),
        "others": _(
            "This device also keeps {n} unsent changes of another user; they are sent when that user signs in again."
        ),
        "signout_title": _("Changes not yet sent"),
        "signout_lead": _("Signing out deletes what this device keeps, including these changes:"),
        "signout_others": _("and {n} unsent changes of another user."),
        "signout_offline": _("You are offline: these changes cannot be sent now."),
        "signout_send": _("Send them now"),
        "signout_stay": _("Stay signed in"),
        "signout_confirm": _("Sign out and delete them"),
        "answer": _("Answer"),
        "finding": _("Finding"),
        "evidence": _("Evidence"),
        "yours": _("Yours, kept on this device"),
        "theirs": _("Saved by {who} (version {version})"),
        "a_colleague": _("a colleague"),
        "keep_mine": _("Keep mine"),
        "keep_theirs": _("Keep theirs"),
        "open_question": _("Open the question"),
        "discard": _("Discard"),
        "nothing": _("Nothing is waiting: every change made on this device has been sent."),
        "photo": _("Photo or PDF"),
    }
