"""Pages of the improvement plan and progress reports: thin views over selectors and services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from advisory import selectors, services
from advisory.exports import plan_item_sheet
from advisory.forms import (
    CommentForm,
    EvidenceForm,
    ItemForm,
    NewItemForm,
    ProgressSubmitForm,
    ReopenForm,
    VerifyForm,
)
from advisory.models import ImprovementPlan, ItemStatus, PlanItem, ProgressStatus
from betterwork import permissions
from betterwork.files import stored_download
from betterwork.forms import add_service_error
from betterwork.middleware import principal_of, programme_of
from betterwork.replica import reads_from_replica
from betterwork.spreadsheets import Format, export_response

# --- A factory's plan -------------------------------------------------------------------------


def _plan_for(request: HttpRequest, pk: int) -> tuple[ImprovementPlan, permissions.Principal]:
    principal = principal_of(request)
    return selectors.access_plan(principal=principal, programme=programme_of(request), plan_id=pk), principal


@login_required
def factory_plan(request: HttpRequest, programme_code: str, factory_id: int) -> HttpResponse:
    """The factory's current plan, or the way to start one."""
    programme = programme_of(request)
    principal = principal_of(request)
    factory = selectors.access_advisory_factory(
        principal=principal, programme=programme, factory_id=factory_id, may=permissions.can_view_plan
    )
    plans = list(selectors.factory_plans(factory=factory))
    assessment = selectors.plannable_assessment(factory=factory)
    if plans and (assessment is None or plans[0].cycle >= assessment.cycle):
        return redirect("advisory:plan", programme_code=programme.code, pk=plans[0].pk)
    return render(
        request,
        "advisory/plan_start.html",
        {
            "programme": programme,
            "factory": factory,
            "plans": plans,
            "assessment": assessment,
            "can_start": permissions.can_start_plan(principal, factory),
        },
    )


@login_required
@require_POST
def plan_start(request: HttpRequest, programme_code: str, factory_id: int) -> HttpResponse:
    programme = programme_of(request)
    principal = principal_of(request)
    factory = selectors.access_advisory_factory(
        principal=principal, programme=programme, factory_id=factory_id, may=permissions.can_start_plan
    )
    try:
        plan = services.plan_start(
            actor=principal, factory=factory, assessment=selectors.plannable_assessment(factory=factory)
        )
    except PermissionDenied as error:
        raise Http404 from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("advisory:factory_plan", programme_code=programme.code, factory_id=factory.pk)
    messages.success(request, _("The plan of cycle %(cycle)s is open.") % {"cycle": plan.cycle})
    return redirect("advisory:plan", programme_code=programme.code, pk=plan.pk)


def _item_form(plan: ImprovementPlan, item: PlanItem | None = None, data: Any = None) -> ItemForm:
    members = selectors.committee_members_for_choice(factory=plan.factory)
    if item is None:
        return NewItemForm(data, members=members, prefix="new")
    initial = {field: getattr(item, field) for field in services.EDITABLE_ITEM_FIELDS}
    initial["version"] = item.version
    return ItemForm(data, members=members, initial=initial, prefix=f"item{item.pk}")


@login_required
def plan_detail(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    plan, principal = _plan_for(request, pk)
    return _plan_page(request, plan, principal)


def _plan_page(
    request: HttpRequest,
    plan: ImprovementPlan,
    principal: permissions.Principal,
    new_item_form: ItemForm | None = None,
) -> HttpResponse:
    factory = plan.factory
    today = factory.programme.today()
    filters = selectors.ItemFilters(
        status=request.GET.get("status", "") if request.GET.get("status") in ItemStatus.values else "",
        overdue=request.GET.get("overdue") == "1",
        publicly_reported=request.GET.get("public") == "1",
    )
    can_edit = permissions.can_edit_plan(principal, factory)
    can_start = permissions.can_start_plan(principal, factory)
    return render(
        request,
        "advisory/plan_detail.html",
        {
            "programme": factory.programme,
            "factory": factory,
            "plan": plan,
            "plans": selectors.factory_plans(factory=factory),
            "items": selectors.plan_items(plan=plan, today=today, filters=filters),
            "filters": filters,
            "summary": selectors.plan_summary(plan=plan, today=today),
            "today": today,
            "findings": selectors.findings_not_in_plan(plan=plan) if can_start else [],
            "diagnosis": selectors.submitted_self_diagnosis(factory=factory) if can_edit else None,
            "reports": selectors.plan_progress_reports(plan=plan),
            "new_item_form": new_item_form or (_item_form(plan) if can_edit else None),
            "can_edit": can_edit,
            "can_start": can_start,
            "can_verify": permissions.can_verify_items(principal, factory),
            "status_choices": ItemStatus.choices,
        },
    )


@login_required
@require_POST
def plan_add_findings(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    """Turn one finding (``question``) or every remaining finding into items."""
    plan, principal = _plan_for(request, pk)
    chosen = request.POST.getlist("question")
    try:
        created = services.items_from_findings(
            actor=principal,
            plan=plan,
            question_ids=[int(q) for q in chosen if q.isdigit()] if chosen else None,
        )
    except PermissionDenied as error:
        raise Http404 from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("%(n)s items added from the assessment's findings.") % {"n": len(created)}
        )
    return redirect("advisory:plan", programme_code=plan.factory.programme.code, pk=plan.pk)


@login_required
@require_POST
def plan_add_diagnosis(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    plan, principal = _plan_for(request, pk)
    diagnosis = selectors.submitted_self_diagnosis(factory=plan.factory)
    if diagnosis is None:
        raise Http404
    try:
        created = services.items_from_self_diagnosis(actor=principal, plan=plan, diagnosis=diagnosis)
    except PermissionDenied as error:
        raise Http404 from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(n)s items added from the self-diagnosis.") % {"n": len(created)})
    return redirect("advisory:plan", programme_code=plan.factory.programme.code, pk=plan.pk)


@login_required
@require_POST
def plan_add_item(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    plan, principal = _plan_for(request, pk)
    if not permissions.can_edit_plan(principal, plan.factory):
        raise Http404
    form = _item_form(plan, data=request.POST)
    if form.is_valid():
        try:
            services.item_add(actor=principal, plan=plan, data=form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Item added to the plan."))
            return redirect("advisory:plan", programme_code=plan.factory.programme.code, pk=plan.pk)
    return _plan_page(request, plan, principal, new_item_form=form)


# --- One item ---------------------------------------------------------------------------------


def _item_for(request: HttpRequest, pk: int) -> tuple[PlanItem, permissions.Principal]:
    principal = principal_of(request)
    return selectors.access_item(principal=principal, programme=programme_of(request), item_id=pk), principal


def _annotated(item: PlanItem) -> PlanItem:
    """The item as the plan's rows show it (with its evidence and comment counts)."""
    today = item.plan.factory.programme.today()
    return selectors.plan_items(plan=item.plan, today=today).get(pk=item.pk)


@login_required
def item_row(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    """One row of the plan, shown or edited in place (HTMX); without HTMX, the item's page."""
    item, principal = _item_for(request, pk)
    plan = item.plan
    can_edit = permissions.can_edit_plan(principal, plan.factory) and item.status != ItemStatus.VERIFIED
    if not request.headers.get("HX-Request"):
        return redirect("advisory:item", programme_code=programme_code, pk=item.pk)
    context: dict[str, Any] = {
        "item": item,
        "plan": plan,
        "today": plan.factory.programme.today(),
        "can_edit": can_edit,
    }
    if request.method == "POST":
        if not can_edit:
            raise Http404
        form = _item_form(plan, item, request.POST)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k in services.EDITABLE_ITEM_FIELDS}
            try:
                services.item_update(
                    actor=principal, item=item, data=data, version=form.cleaned_data["version"]
                )
            except services.ItemChanged as changed:
                context["conflict"] = changed.current
                # The editor keeps what they typed, now against the saved version: saving again wins.
                data = request.POST.copy()
                data[f"item{item.pk}-version"] = str(changed.current.version)
                form = _item_form(plan, changed.current, data)
                form.add_error(
                    None,
                    _(
                        "Someone saved this item meanwhile: their version is shown above. Save again to keep yours."
                    ),
                )
                return render(request, "advisory/_item_edit.html", {**context, "form": form}, status=409)
            except ValidationError as error:
                add_service_error(form, error)
            else:
                # The row, and the plan's counts swapped out of band so they follow the change.
                today = plan.factory.programme.today()
                context.update(
                    item=_annotated(item),
                    oob=True,
                    summary=selectors.plan_summary(plan=plan, today=today),
                    reports=selectors.plan_progress_reports(plan=plan),
                    programme=plan.factory.programme,
                )
                return render(request, "advisory/_item_saved.html", context)
        return render(request, "advisory/_item_edit.html", {**context, "form": form}, status=422)
    if request.GET.get("edit") == "1" and can_edit:
        return render(request, "advisory/_item_edit.html", {**context, "form": _item_form(plan, item)})
    return render(request, "advisory/_item_row.html", {**context, "item": _annotated(item)})


@login_required
def item_detail(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    item, principal = _item_for(request, pk)
    plan = item.plan
    factory = plan.factory
    can_edit = permissions.can_edit_plan(principal, factory) and item.status != ItemStatus.VERIFIED
    form = _item_form(plan, item, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not can_edit:
            raise Http404
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k in services.EDITABLE_ITEM_FIELDS}
            try:
                services.item_update(
                    actor=principal, item=item, data=data, version=form.cleaned_data["version"]
                )
            except services.ItemChanged:
                messages.error(
                    request,
                    _("Someone saved this item meanwhile: check their changes, then save yours again."),
                )
                return redirect("advisory:item", programme_code=programme_code, pk=item.pk)
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("Item saved."))
                return redirect("advisory:item", programme_code=programme_code, pk=item.pk)
    return render(
        request,
        "advisory/item_detail.html",
        {
            "programme": factory.programme,
            "factory": factory,
            "plan": plan,
            "item": item,
            "form": form,
            "comments": selectors.item_comments(item=item),
            "evidence": selectors.item_evidence(item=item),
            "comment_form": CommentForm(),
            "evidence_form": EvidenceForm(),
            "verify_form": VerifyForm(),
            "reopen_form": ReopenForm(),
            "can_edit": can_edit,
            "can_comment": permissions.can_edit_plan(principal, factory),
            "can_verify": permissions.can_verify_items(principal, factory),
        },
    )


def _item_action(request: HttpRequest, pk: int, form_class: type, act: Any, done: str) -> HttpResponse:
    """Run one POSTed action on an item and come back to its page with what happened."""
    item, principal = _item_for(request, pk)
    form = form_class(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    else:
        try:
            act(principal, item, form.cleaned_data)
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, done)
    return redirect("advisory:item", programme_code=item.plan.factory.programme.code, pk=item.pk)


@login_required
@require_POST
def item_comment(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    return _item_action(
        request,
        pk,
        CommentForm,
        lambda p, i, d: services.item_comment(actor=p, item=i, text=d["text"]),
        _("Comment added."),
    )


@login_required
@require_POST
def item_evidence(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    return _item_action(
        request,
        pk,
        EvidenceForm,
        lambda p, i, d: services.evidence_add(actor=p, item=i, upload=d["file"]),
        _("Evidence added."),
    )


@login_required
@require_POST
def item_verify(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    return _item_action(
        request,
        pk,
        VerifyForm,
        lambda p, i, d: services.item_verify(actor=p, item=i, note=d["note"]),
        _("Item verified."),
    )


@login_required
@require_POST
def item_reopen(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    return _item_action(
        request,
        pk,
        ReopenForm,
        lambda p, i, d: services.item_reopen(actor=p, item=i, reason=d["reason"]),
        _("Item reopened."),
    )


@login_required
def evidence_download(
    request: HttpRequest, programme_code: str, pk: int, evidence_id: int
) -> HttpResponseBase:
    item, principal = _item_for(request, pk)
    evidence = selectors.access_evidence(item=item, evidence_id=evidence_id)
    services.evidence_downloaded(actor=principal, evidence=evidence)
    return stored_download(
        evidence.file,
        filename=evidence.original_name,
        content_type=evidence.content_type,
        as_attachment=evidence.content_type == "application/pdf",
    )


# --- Progress reports -------------------------------------------------------------------------


@login_required
def progress_detail(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    principal = principal_of(request)
    report = selectors.access_progress_report(
        principal=principal, programme=programme_of(request), report_id=pk
    )
    factory = report.factory
    today = factory.programme.today()
    submitted = report.status == ProgressStatus.SUBMITTED
    may_submit = not submitted and (
        factory.pk in principal.factory_ids()
        or permissions.is_programme_staff(principal, factory.programme_id)
    )
    form = ProgressSubmitForm(request.POST or None, initial={"statement": report.factory_statement})
    if request.method == "POST":
        if not may_submit:
            raise Http404
        if form.is_valid():
            try:
                services.progress_report_submit(
                    actor=principal,
                    report=report,
                    statement=form.cleaned_data["statement"],
                    snapshot=selectors.progress_snapshot(report=report, today=today),
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("Progress Report %(n)s submitted.") % {"n": report.number})
                return redirect("advisory:progress", programme_code=programme_code, pk=report.pk)
    return render(
        request,
        "advisory/progress_detail.html",
        {
            "programme": factory.programme,
            "factory": factory,
            "report": report,
            "content": report.snapshot
            if submitted
            else selectors.progress_snapshot(report=report, today=today),
            "form": form,
            "may_submit": may_submit,
            "today": today,
        },
    )


# --- The programme's view -------------------------------------------------------------------


@login_required
def overview(request: HttpRequest, programme_code: str) -> HttpResponse:
    """Overdue items by factory and progress reports due, for the programme's staff."""
    programme = programme_of(request)
    principal = principal_of(request)
    if not permissions.can_list_factories(principal, programme.pk):
        raise Http404
    today = programme.today()
    return render(
        request,
        "advisory/overview.html",
        {
            "programme": programme,
            "overdue": selectors.overdue_by_factory(programme=programme, today=today)[:50],
            "reports_due": selectors.progress_reports_due(programme=programme, today=today)[:100],
            "today": today,
        },
    )


@login_required
@reads_from_replica
def plans_export(request: HttpRequest, programme_code: str) -> HttpResponse:
    """Every item of the programme's improvement plans, one row each, as CSV or XLSX."""
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_export_programme_data(principal, programme.pk):
        raise Http404
    columns, rows = plan_item_sheet(selectors.programme_plan_items(programme=programme), programme=programme)
    fmt: Format = "csv" if request.GET.get("format") == "csv" else "xlsx"
    return export_response(f"plans-{programme.code}-{programme.today().isoformat()}", columns, rows, fmt)
