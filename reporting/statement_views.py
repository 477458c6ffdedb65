"""A buyer's statement PDFs (one per programme and language): ask for one, see it, download it.
Mounted under /buyer/statements/<year>/pdf/ by buyers.statement_urls."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from betterwork import tenancy
from betterwork.files import stored_download
from betterwork.middleware import principal_of
from buyers import statement_selectors
from buyers.models import Buyer
from reporting import selectors, services, statements
from reporting.kinds import BUYER_STATEMENT, fingerprint
from reporting.models import JobStatus


def _buyer(request: HttpRequest) -> Buyer:
    raw = request.GET.get("buyer") or request.POST.get("buyer")
    if raw is not None and not raw.isdigit():
        raise Http404
    return statement_selectors.access_buyer(
        principal=principal_of(request), buyer_id=int(raw) if raw is not None else None
    )


@login_required
def statement_pdfs(request: HttpRequest, year: int) -> HttpResponse:
    buyer = _buyer(request)
    with statement_selectors.buyer_books(buyer):
        programmes = statements.statement_programmes(buyer=buyer, year=year)
        targets = [statements.BuyerStatement(buyer=buyer, programme=p, year=year) for p in programmes]
        snapshots = statements.statement_snapshots(buyer=buyer, year=year, programmes=programmes)
        jobs = selectors.current_jobs_of(
            kind=BUYER_STATEMENT,
            targets=targets,
            hashes={t.pk: fingerprint(snapshots[t.programme.pk]) for t in targets},
        )
    rows = [{"target": target, "jobs": jobs[target.pk]} for target in targets]
    return render(request, "buyers/statements/pdfs.html", {"buyer": buyer, "year": year, "rows": rows})


@login_required
@require_POST
def statement_pdf_request(request: HttpRequest, year: int, code: str, language: str) -> HttpResponse:
    buyer = _buyer(request)
    with statement_selectors.buyer_books(buyer):
        programme = next(
            (p for p in statements.statement_programmes(buyer=buyer, year=year) if p.code == code), None
        )
        if programme is None:
            raise Http404
        target_id = statements.statement_target_id(buyer_id=buyer.pk, programme_id=programme.pk, year=year)
        # The job and its worker carry this one programme's scope, like every report job.
        with tenancy.scope({programme.pk}):
            try:
                services.report_request(
                    actor=principal_of(request),
                    kind_name=BUYER_STATEMENT.name,
                    target_id=target_id,
                    language=language,
                    retry=request.POST.get("retry") == "1",
                )
            except (ValidationError, PermissionDenied) as error:
                raise Http404 from error
    return redirect(reverse("buyer_statements:pdf", kwargs={"year": year}) + f"?buyer={buyer.pk}")


@login_required
def statement_pdf_download(request: HttpRequest, year: int, pk: int) -> HttpResponseBase:
    """The stored PDF; permission is checked anew and the download logged."""
    buyer = _buyer(request)
    principal = principal_of(request)
    with statement_selectors.buyer_books(buyer):
        kind, target, job = statements.access_statement_job(
            principal=principal, buyer=buyer, year=year, job_id=pk
        )
        if job.status != JobStatus.READY:
            raise Http404
        services.report_downloaded(actor=principal, job=job)
    return stored_download(
        job.file, filename=kind.filename(target, job.language), content_type="application/pdf"
    )
