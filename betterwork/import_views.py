"""The two steps of a spreadsheet import as a page sees them, shared by every import page.

A POST with a file checks it (``import_preview``); a POST naming a clean run confirms it
(``import_apply``). The page renders ``includes/import_upload.html`` and, once there is a
run, ``includes/import_preview.html``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from betterwork.forms import SpreadsheetUploadForm
from betterwork.imports import Importer, import_apply, import_preview, import_run_for
from betterwork.models import ImportRun, Programme
from betterwork.permissions import Principal


@dataclass
class ImportStep:
    form: SpreadsheetUploadForm
    run: ImportRun | None = None

    @property
    def applied(self) -> bool:
        return self.run is not None and self.run.status == ImportRun.Status.APPLIED


def decisions_of(request: HttpRequest) -> dict[int, str]:
    """The person's choices for rows that could be one of several records: row → record id or
    ``new`` (the confirmation form's ``decide-<row>`` fields)."""
    decisions: dict[int, str] = {}
    for name, value in request.POST.items():
        prefix, _dash, row = name.partition("-")
        if prefix == "decide" and row.isdigit() and isinstance(value, str) and value:
            decisions[int(row)] = value
    return decisions


def import_step(
    request: HttpRequest, *, actor: Principal, programme: Programme, importer: Importer, target: Any
) -> ImportStep:
    """Handle the request's step of the import; the caller has checked who may import here."""
    limits = {"max_bytes": importer.max_bytes, "max_rows": importer.max_rows}
    step = ImportStep(form=SpreadsheetUploadForm(**limits))
    if request.method != "POST":
        return step
    run_id = request.POST.get("run", "")
    if run_id.isdigit():
        run = import_run_for(run_id=int(run_id), kind=importer.kind, target_id=importer.target_id(target))
        if run is None:
            raise Http404
        try:
            step.run = import_apply(actor=actor, run=run, importer=importer, target=target)
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            # Shown again as it stands: still waiting for choices, or with the plan of now.
            step.run = import_run_for(run_id=run.pk, kind=importer.kind, target_id=importer.target_id(target))
        return step
    step.form = SpreadsheetUploadForm(request.POST, request.FILES, **limits)
    if step.form.is_valid():
        upload = step.form.cleaned_data["spreadsheet"]
        step.run = import_preview(
            actor=actor,
            programme=programme,
            importer=importer,
            target=target,
            content=upload.read(),
            filename=upload.name,
        )
    return step


def import_page(
    request: HttpRequest,
    template: str,
    *,
    programme: Programme,
    step: ImportStep,
    importer: Importer,
    here: str,
    template_url: str,
    **extra: Any,
) -> HttpResponse:
    """An import page: the upload form under the run's preview or result, once there is one."""
    return render(
        request,
        template,
        {
            "programme": programme,
            "form": step.form,
            "run": step.run,
            "here": here,
            "columns": importer.columns,
            "template_url": template_url,
            **extra,
        },
    )
