"""HTML to PDF with WeasyPrint, safely: the only resources a report may load are the platform's
own static files (fonts, stylesheets, images); any other URL, local path or data the user typed
is refused. Stylesheets and fonts are parsed once per worker process, not once per report."""

from __future__ import annotations

import functools
import mimetypes
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders

STATIC_PREFIX = "static:"
STYLESHEET = "reports/report.css"


class RefusedURL(ValueError):
    """A report tried to load something that is not one of our static files."""


def static_file(url: str) -> bytes:
    """The bytes of ``static:<path>``, one of our static files; anything else is refused."""
    if not url.startswith(STATIC_PREFIX):
        raise RefusedURL(f"Reports load only the platform's static files, not {url[:80]!r}.")
    relative = url[len(STATIC_PREFIX) :].lstrip("/")
    if ".." in Path(relative).parts:
        raise RefusedURL("No way out of the static files.")
    found = finders.find(relative) or (Path(settings.STATIC_ROOT) / relative)
    path = Path(str(found))
    if not path.is_file():
        raise RefusedURL(f"No static file {relative!r}.")
    return path.read_bytes()


@functools.cache
def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):  # type: ignore[misc]
        """WeasyPrint's fetcher, answering from our static files only; a refusal stops the render."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            kind = mimetypes.guess_type(url.removeprefix(STATIC_PREFIX))[0] or "application/octet-stream"
            return URLFetcherResponse(url, static_file(url), headers={"Content-Type": kind})

    return StaticOnlyFetcher(fail_on_errors=True)


@functools.cache
def _font_config() -> Any:
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@functools.cache
def _stylesheet() -> Any:
    from weasyprint import CSS

    return CSS(url=STATIC_PREFIX + STYLESHEET, url_fetcher=_fetcher(), font_config=_font_config())


def render_pdf(html: str) -> tuple[bytes, int]:
    """The PDF of ``html`` and its number of pages."""
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    try:
        document = HTML(string=html, base_url=STATIC_PREFIX, url_fetcher=_fetcher()).render(
            stylesheets=[_stylesheet()], font_config=_font_config()
        )
    except FatalURLFetchingError as error:  # a BaseException in WeasyPrint: made an ordinary failure
        raise RefusedURL(str(error)) from error
    return document.write_pdf(), len(document.pages)
