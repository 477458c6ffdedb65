"""The home page (one section for each kind of grant the user holds) and the report PDFs' pages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from betterwork.files import stored_download
from betterwork.middleware import principal_of, programme_of
from reporting import selectors, services
from reporting.kinds import ReportKind
from reporting.models import JobStatus, ReportJob


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "reporting/home.html", selectors.home_sections(principal=principal_of(request)))


# --- Report PDFs: ask for one, watch it render, download it ----------------------------------


def _kind_and_target(request: HttpRequest, kind_name: str, target_id: int) -> tuple[ReportKind, Any]:
    return selectors.access_report(
        principal=principal_of(request),
        programme=programme_of(request),
        kind_name=kind_name,
        target_id=target_id,
    )


def _job(request: HttpRequest, pk: int) -> tuple[ReportKind, Any, ReportJob]:
    return selectors.access_job(principal=principal_of(request), programme=programme_of(request), job_id=pk)


def _job_context(kind: ReportKind, target: Any, language: str, job: ReportJob | None) -> dict[str, Any]:
    return {"kind": kind, "target": target, "language": language, "job": job}


@login_required
def report_panel(request: HttpRequest, programme_code: str, kind_name: str, target_id: int) -> HttpResponse:
    """The report's PDFs, one line per language, each with its state (loaded into a page by HTMX)."""
    kind, target = _kind_and_target(request, kind_name, target_id)
    rows = [
        _job_context(kind, target, language, job)
        for language, job in selectors.current_jobs(kind=kind, target=target)
    ]
    template = "reports/_panel.html" if request.headers.get("HX-Request") else "reports/panel_page.html"
    return render(
        request, template, {"kind": kind, "target": target, "rows": rows, "programme": programme_of(request)}
    )


@login_required
@require_POST
def report_request(
    request: HttpRequest, programme_code: str, kind_name: str, target_id: int, language: str
) -> HttpResponse:
    kind, target = _kind_and_target(request, kind_name, target_id)
    try:
        job, _sent = services.report_request(
            actor=principal_of(request),
            kind_name=kind.name,
            target_id=target.pk,
            language=language,
            retry=request.POST.get("retry") == "1",
        )
    except ValidationError as error:
        raise Http404 from error
    except PermissionDenied as error:
        raise Http404 from error
    if request.headers.get("HX-Request"):
        return render(request, "reports/_job.html", _job_context(kind, target, language, job))
    return redirect("reports:panel", programme_code=programme_code, kind_name=kind.name, target_id=target.pk)


@login_required
def job_status(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    """One job's line, which polls itself while the PDF is queued or rendering."""
    kind, target, job = _job(request, pk)
    return render(request, "reports/_job.html", _job_context(kind, target, job.language, job))


@login_required
def job_download(request: HttpRequest, programme_code: str, pk: int) -> HttpResponseBase:
    """The stored PDF, never rendered again here; permission is checked anew and the download logged."""
    kind, target, job = _job(request, pk)
    if job.status != JobStatus.READY:
        raise Http404
    services.report_downloaded(actor=principal_of(request), job=job)
    return stored_download(
        job.file, filename=kind.filename(target, job.language), content_type="application/pdf"
    )
