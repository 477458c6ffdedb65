"""The public site's programme page and its synthesis reports: the page, its tables as CSV and its
PDFs. No sign-in; the same for every visitor in a language (``public_page``); everything is read
inside ``transparency.public_reading``, scoped to the one programme of the address."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from betterwork.files import stored_download
from betterwork.replica import reads_from_replica
from betterwork.spreadsheets import export_response
from reporting import synthesis, transparency
from reporting.kinds import SYNTHESIS_REPORT
from reporting.transparency_views import public_page


@public_page
@reads_from_replica
def public_programme(request: HttpRequest, code: str) -> HttpResponse:
    programme = transparency.public_programme(code)
    with transparency.public_reading(programme):
        reports = synthesis.published_reports(programme=programme)
    return render(request, "public/programme.html", {"programme": programme, "reports": reports})


@public_page
@reads_from_replica
def public_synthesis(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    programme = transparency.public_programme(code)
    with transparency.public_reading(programme):
        report = synthesis.public_report(programme=programme, report_id=pk)
        context = synthesis.page_context(report)
        pdfs = synthesis.ready_pdfs(report)
        newer = synthesis.newer_version(report)
    # The PDF in the visitor's language, else English, else any; the others beside it.
    language = next((code for code in (request.LANGUAGE_CODE, "en") if code in pdfs), next(iter(pdfs), None))
    return render(
        request,
        "public/synthesis.html",
        {
            **context,
            "base": "public/base.html",
            "pdf_language": language,
            "other_pdfs": [code for code in pdfs if code != language],
            "newer": newer,
        },
    )


@public_page
@reads_from_replica
def public_synthesis_csv(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    programme = transparency.public_programme(code)
    with transparency.public_reading(programme):
        report = synthesis.public_report(programme=programme, report_id=pk)
    return export_response(
        f"synthesis-{programme.code}-{report.pk}",
        synthesis.csv_headers(),
        synthesis.csv_rows(synthesis.content(report)),
        "csv",
    )


@public_page
def public_synthesis_pdf(request: HttpRequest, code: str, pk: int, language: str) -> HttpResponseBase:
    """A ready PDF of a published report of this programme, as stored; anything else is 404."""
    programme = transparency.public_programme(code)
    with transparency.public_reading(programme):
        report = synthesis.public_report(programme=programme, report_id=pk)
        job = synthesis.ready_pdfs(report).get(language)
        if job is None:
            raise Http404
    return stored_download(
        job.file, filename=SYNTHESIS_REPORT.filename(report, language), content_type="application/pdf"
    )
