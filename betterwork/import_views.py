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
from betterwork.imports import (
    Importer,
    applies_in_background,
    import_apply,
    import_apply_later,
    import_preview,
    import_run_for,
    progress_of,
)
from betterwork.models import ImportRun, Programme
from betterwork.permissions import Principal


@dataclass
class ImportStep:
    form: SpreadsheetUploadForm
    run: ImportRun | None = None
    confirmed: bool = False  # this request confirmed the run

    @property
    def applied(self) -> bool:
        """Applied by this request (a POST): the page goes on to what was imported. A run shown
        by its address (``?run=``) is shown as it stands, applied or not."""
        return self.confirmed and self.run is not None and self.run.status == ImportRun.Status.APPLIED


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
        # A run named in the address is shown as it stands (a large one while a worker applies it).
        shown = request.GET.get("run", "")
        if shown.isdigit():
            step.run = import_run_for(
                run_id=int(shown), kind=importer.kind, target_id=importer.target_id(target)
            )
        return step
    run_id = request.POST.get("run", "")
    if run_id.isdigit():
        run = import_run_for(run_id=int(run_id), kind=importer.kind, target_id=importer.target_id(target))
        if run is None:
            raise Http404
        step.confirmed = True
        try:
            if applies_in_background(importer, run):
                step.run = import_apply_later(
                    actor=actor, run=run, importer=importer, target=target, decisions=decisions_of(request)
                )
            else:
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
            content=upload,
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
            "progress": progress_of(step.run) if step.run else None,
            "here": here,
            "columns": importer.columns,
            "template_url": template_url,
            **extra,
        },
    )
