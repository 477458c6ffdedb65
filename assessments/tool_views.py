"""Pages of the compliance tool: every signed-in user reads its published versions; the global
team uploads drafts, edits their questions, sends them to review, and publishes them."""

from __future__ import annotations

from typing import Any

import yaml
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from assessments import selectors, services
from assessments.forms import ToolCopyForm, ToolQuestionForm, ToolReturnForm, ToolUploadForm
from assessments.models import ToolStatus, ToolVersion
from betterwork import permissions
from betterwork.forms import add_service_error
from betterwork.middleware import principal_of


def _version(request: HttpRequest, pk: int) -> ToolVersion:
    return selectors.tool_version_for(principal=principal_of(request), pk=pk)


@login_required
def tool_list(request: HttpRequest) -> HttpResponse:
    principal = principal_of(request)
    manage = permissions.can_manage_tool(principal)
    versions = selectors.tool_versions(principal=principal, with_counts=True)
    upload = ToolUploadForm()
    if request.method == "POST":
        if not manage:
            raise Http404
        upload = ToolUploadForm(request.POST, request.FILES)
        if upload.is_valid():
            try:
                version, outcome = services.tool_upload(actor=principal, data=upload.cleaned_data["file"])
            except ValidationError as error:
                add_service_error(upload, error)
            else:
                notices = {
                    "created": _("%(version)s was created as a draft."),
                    "replaced": _("The draft %(version)s now holds the uploaded questions."),
                    "unchanged": _("%(version)s already holds exactly these questions: nothing changed."),
                }
                messages.success(request, notices[outcome] % {"version": version})
                return redirect("tool:detail", pk=version.pk)
    return render(
        request,
        "tool/list.html",
        {"versions": versions, "manage": manage, "upload": upload},
        status=422 if upload.errors else 200,
    )


def _detail_context(request: HttpRequest, version: ToolVersion, **forms: Any) -> dict[str, Any]:
    principal = principal_of(request)
    manage = permissions.can_manage_tool(principal)
    return {
        "version": version,
        "manage": manage,
        "outline": selectors.tool_outline(version=version),
        "changes": selectors.tool_changes(version=version),
        "may_publish": manage
        and version.status == ToolStatus.REVIEW
        and version.submitted_by_id != getattr(principal.user, "pk", None),
        "copy_form": forms.get("copy_form") or ToolCopyForm(),
        "return_form": forms.get("return_form") or ToolReturnForm(),
        "action_error": forms.get("action_error"),
    }


@login_required
def tool_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    return render(request, "tool/detail.html", _detail_context(request, version))


@login_required
def tool_export(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    body = yaml.safe_dump(
        selectors.tool_export(version=version), sort_keys=False, allow_unicode=True, width=110
    )
    response = HttpResponse(body, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{version.tool}-{version.version}.yaml"'
    return response


@login_required
@require_POST
def tool_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Send to review, return to draft, or publish; a refusal shows on the version's page."""
    principal = principal_of(request)
    version = _version(request, pk)
    return_form = ToolReturnForm(request.POST) if action == "return" else None
    try:
        if action == "submit":
            services.tool_submit(actor=principal, version=version)
            messages.success(request, _("Sent to review. Another member of the global team publishes it."))
        elif action == "publish":
            services.tool_publish(actor=principal, version=version)
            messages.success(request, _("Published. New assessments use this version from its start date."))
        elif action == "return" and return_form is not None:
            if not return_form.is_valid():
                raise ValidationError(
                    {"note": return_form.errors.get("note", [_("Say what should change.")])}
                )
            services.tool_return(actor=principal, version=version, note=return_form.cleaned_data["note"])
            messages.success(request, _("Returned to draft with your note."))
        else:
            raise Http404
    except PermissionDenied as error:
        raise Http404 from error
    except ValidationError as error:
        if return_form is not None:
            add_service_error(return_form, error)
        context = _detail_context(
            request, version, return_form=return_form, action_error=None if return_form else error.messages
        )
        return render(request, "tool/detail.html", context, status=422)
    return redirect("tool:detail", pk=version.pk)


@login_required
@require_POST
def tool_copy(request: HttpRequest, pk: int) -> HttpResponse:
    principal = principal_of(request)
    source = _version(request, pk)
    if not permissions.can_manage_tool(principal):
        raise Http404
    form = ToolCopyForm(request.POST)
    if form.is_valid():
        try:
            draft = services.tool_draft_copy(
                actor=principal,
                source=source,
                version=form.cleaned_data["version"].strip(),
                effective_from=form.cleaned_data["effective_from"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("%(version)s was created as a draft.") % {"version": draft})
            return redirect("tool:detail", pk=draft.pk)
    return render(request, "tool/detail.html", _detail_context(request, source, copy_form=form), status=422)


@login_required
def tool_question_edit(request: HttpRequest, pk: int, question_id: int) -> HttpResponse:
    principal = principal_of(request)
    version = _version(request, pk)
    if not permissions.can_manage_tool(principal) or version.status != ToolStatus.DRAFT:
        raise Http404
    question = selectors.tool_question(version=version, question_id=question_id)
    languages = selectors.tool_languages(version=version)
    if request.method == "POST":
        form = ToolQuestionForm(request.POST, languages=languages)
        if form.is_valid():
            try:
                services.tool_question_update(actor=principal, question=question, changes=form.changes())
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("Question %(key)s saved.") % {"key": question.key})
                return redirect(
                    reverse("tool:detail", kwargs={"pk": version.pk}) + f"#question-{question.pk}"
                )
    else:
        form = ToolQuestionForm(
            initial=ToolQuestionForm.initial_for(question, languages), languages=languages
        )
    return render(
        request,
        "tool/question_form.html",
        {"version": version, "question": question, "form": form},
        status=422 if form.errors else 200,
    )
