"""The programme managers' synthesis reports: the list, composing a draft, its preview (the
public page itself, marked as a draft), publishing, withdrawing, a new version."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from betterwork import permissions
from betterwork.forms import add_service_error
from betterwork.middleware import principal_of, programme_of
from reporting import synthesis, synthesis_services
from reporting.kinds import SYNTHESIS_REPORT
from reporting.models import SynthesisReport
from reporting.synthesis_forms import SynthesisForm, WithdrawForm


def _composer(request: HttpRequest) -> Any:
    principal, programme = principal_of(request), programme_of(request)
    if not permissions.can_compose_synthesis(principal, programme.pk):
        raise Http404
    return principal, programme


def _report(request: HttpRequest, pk: int) -> SynthesisReport:
    return synthesis.access_synthesis(
        principal=principal_of(request), programme=programme_of(request), report_id=pk
    )


def _form(request: HttpRequest, programme: Any, report: SynthesisReport | None) -> SynthesisForm:
    return SynthesisForm(
        request.POST if request.method == "POST" else None,
        choices=synthesis.scope_choices(programme=programme),
        theme=synthesis.theme_choices(programme=programme),
        report=report,
    )


@login_required
def synthesis_list(request: HttpRequest, programme_code: str) -> HttpResponse:
    _principal, programme = _composer(request)
    return render(
        request,
        "reporting/synthesis_list.html",
        {"programme": programme, "reports": synthesis.synthesis_list(programme=programme)},
    )


@login_required
def synthesis_create(request: HttpRequest, programme_code: str) -> HttpResponse:
    principal, programme = _composer(request)
    form = _form(request, programme, None)
    if request.method == "POST" and form.is_valid():
        try:
            report = synthesis_services.synthesis_create(
                actor=principal, programme=programme, data=form.data_input()
            )
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The draft is saved. This is how it will look once published."))
            return redirect("synthesis:preview", programme_code=programme.code, pk=report.pk)
    return render(
        request, "reporting/synthesis_form.html", {"programme": programme, "form": form, "report": None}
    )


@login_required
def synthesis_edit(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    principal, programme = _composer(request)
    report = _report(request, pk)
    if not report.is_draft:  # published reports never change
        raise Http404
    form = _form(request, programme, report)
    if request.method == "POST" and form.is_valid():
        try:
            synthesis_services.synthesis_update(
                actor=principal,
                report=report,
                data=form.data_input(),
                expected_version=form.cleaned_data["version"] or 0,
            )
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The draft is saved."))
            return redirect("synthesis:preview", programme_code=programme.code, pk=report.pk)
    return render(
        request, "reporting/synthesis_form.html", {"programme": programme, "form": form, "report": report}
    )


def _preview(
    request: HttpRequest, report: SynthesisReport, withdraw: WithdrawForm | None = None
) -> HttpResponse:
    return render(
        request,
        "public/synthesis.html",
        {
            **synthesis.page_context(report),
            "base": "base.html",
            "preview": True,
            "withdraw_form": withdraw or WithdrawForm(),
            "kind_name": SYNTHESIS_REPORT.name,
        },
    )


@login_required
def synthesis_preview(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    _composer(request)
    return _preview(request, _report(request, pk))


@login_required
@require_POST
def synthesis_publish(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    principal, programme = _composer(request)
    report = _report(request, pk)
    version = request.POST.get("version", "")
    try:
        synthesis_services.synthesis_publish(
            actor=principal, report=report, expected_version=int(version) if version.isdigit() else -1
        )
    except PermissionDenied as error:
        raise Http404 from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The report is published; its PDFs are being made."))
    return redirect("synthesis:preview", programme_code=programme.code, pk=report.pk)


@login_required
@require_POST
def synthesis_withdraw(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    principal, programme = _composer(request)
    report = _report(request, pk)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            synthesis_services.synthesis_withdraw(
                actor=principal, report=report, reason=form.cleaned_data["reason"]
            )
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The report is withdrawn from the public site."))
            return redirect("synthesis:preview", programme_code=programme.code, pk=report.pk)
    return _preview(request, report, withdraw=form)


@login_required
@require_POST
def synthesis_new_version(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    principal, programme = _composer(request)
    report = _report(request, pk)
    try:
        draft = synthesis_services.synthesis_new_version(actor=principal, report=report)
    except PermissionDenied as error:
        raise Http404 from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("synthesis:preview", programme_code=programme.code, pk=report.pk)
    messages.success(
        request, _("A new draft is made from this report: change what you need, then publish it.")
    )
    return redirect("synthesis:edit", programme_code=programme.code, pk=draft.pk)


@login_required
@require_POST
def synthesis_delete(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    principal, programme = _composer(request)
    report = _report(request, pk)
    version = request.POST.get("version", "")
    try:
        synthesis_services.synthesis_delete(
            actor=principal, report=report, expected_version=int(version) if version.isdigit() else -1
        )
    except PermissionDenied as error:
        raise Http404 from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("synthesis:preview", programme_code=programme.code, pk=report.pk)
    messages.success(request, _("The draft is deleted."))
    return redirect("synthesis:list", programme_code=programme.code)
