"""Training pages: thin views over the training selectors and services."""

from __future__ import annotations

import re
from typing import Any, Literal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from betterwork import permissions
from betterwork.forms import add_service_error
from betterwork.import_views import import_page, import_step
from betterwork.middleware import principal_of, programme_of
from betterwork.replica import reads_from_replica
from betterwork.spreadsheets import Format, export_response
from factories import selectors as factory_selectors
from training import selectors, services
from training.forms import (
    RATING_CHOICES,
    CancelForm,
    CourseForm,
    CourseTemplateForm,
    EntitlementForm,
    FigureFilterForm,
    ParticipantForm,
    SessionForm,
)
from training.imports import (
    AttendanceImporter,
    EntitlementImporter,
    attendance_sheet,
    entitlement_sheet,
    participant_sheet,
)
from training.models import RATING_FIELDS, Session, SessionMode

PAGE_SIZE = 25


def _staff_programme(request: HttpRequest) -> tuple[Any, permissions.Principal]:
    programme = programme_of(request)
    principal = principal_of(request)
    if not permissions.can_view_training(principal, programme.pk):
        raise Http404
    return programme, principal


def _session_for_running(request: HttpRequest, session_id: int) -> tuple[Session, permissions.Principal]:
    programme, principal = _staff_programme(request)
    session = selectors.access_session(principal=principal, programme=programme, session_id=session_id)
    if not permissions.can_run_session(principal, session, services.trainer_ids(session)):
        raise Http404
    return session, principal


# --- Sessions -------------------------------------------------------------------------------

SESSION_VIEWS = {
    "upcoming": lambda qs, today: qs.filter(ends_on__gte=today, cancelled_at__isnull=True).order_by(
        "starts_on", "id"
    ),
    "past": lambda qs, today: qs.filter(ends_on__lt=today, cancelled_at__isnull=True),
    "cancelled": lambda qs, today: qs.filter(cancelled_at__isnull=False),
}


@login_required
def session_list(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, principal = _staff_programme(request)
    today = programme.today()
    show = request.GET.get("show", "")
    show = show if show in SESSION_VIEWS else "upcoming"
    sessions: QuerySet[Session] = SESSION_VIEWS[show](
        selectors.session_list(principal=principal, programme=programme), today
    )
    course_id = request.GET.get("course", "")
    if course_id.isdigit():
        sessions = sessions.filter(course_id=int(course_id))
    factory_id = request.GET.get("factory", "")
    if factory_id.isdigit():
        sessions = selectors.sessions_with_factory(sessions, factory_id=int(factory_id))
    page = Paginator(sessions, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "training/session_list.html",
        {
            "programme": programme,
            "page": page,
            "show": show,
            "today": today,
            "courses": selectors.course_list(programme=programme),
            "factories": selectors.factories_for_choice(programme=programme),
            "course_id": course_id,
            "factory_id": factory_id,
            "query": query.urlencode(),
            "can_schedule": permissions.can_schedule_session(principal, programme.pk),
            "can_manage": permissions.can_manage_training(principal, programme.pk),
        },
    )


def _session_form_data(form: SessionForm) -> dict[str, Any]:
    return {key: value for key, value in form.cleaned_data.items() if key in services.SESSION_FIELDS}


@login_required
def session_create(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, principal = _staff_programme(request)
    if not permissions.can_schedule_session(principal, programme.pk):
        raise Http404
    initial = {"mode": SessionMode.OPEN, "capacity": 25, "counts_toward_entitlement": True}
    if request.GET.get("course", "").isdigit():
        initial["course"] = int(request.GET["course"])
    return _session_form(request, principal, programme, None, initial)


@login_required
def session_edit(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    session, principal = _session_for_running(request, pk)
    programme = session.programme
    days = selectors.session_days(session=session)
    initial = {
        **services.audit_fields(session),
        "dates": ", ".join(f"{day.date:%Y-%m-%d}" for day in days),
        "trainers": selectors.session_trainers(session=session),
    }
    return _session_form(request, principal, programme, session, initial)


def _session_form(
    request: HttpRequest,
    principal: permissions.Principal,
    programme: Any,
    session: Session | None,
    initial: dict[str, Any],
) -> HttpResponse:
    """Schedule a session (``session`` None) or change one: the same form, the matching service."""
    form = SessionForm(request.POST or None, programme=programme, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = {
            "data": _session_form_data(form),
            "dates": form.cleaned_data["day_list"],
            "trainers": list(form.cleaned_data["trainers"]),
        }
        try:
            if session is None:
                saved = services.session_create(actor=principal, programme=programme, **fields)
            else:
                saved = services.session_update(actor=principal, session=session, **fields)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _("Session scheduled. Enrol its participants below.")
                if session is None
                else _("Changes saved."),
            )
            return redirect("training:session", programme_code=programme.code, pk=saved.pk)
    return render(
        request, "training/session_form.html", {"programme": programme, "form": form, "session": session}
    )


@login_required
def session_cancel(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    session, principal = _session_for_running(request, pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_cancel(actor=principal, session=session, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Session cancelled."))
            return redirect("training:session", programme_code=session.programme.code, pk=session.pk)
    return render(
        request,
        "training/session_cancel.html",
        {"programme": session.programme, "session": session, "form": form},
    )


def _session_page(
    request: HttpRequest, session: Session, principal: permissions.Principal, **extra: Any
) -> HttpResponse:
    programme = session.programme
    participants = list(selectors.session_participants(session=session))
    days = selectors.session_days(session=session)
    marks = selectors.attendance_marks(session=session)
    today = programme.today()
    rows = [
        {
            "participant": p,
            "cells": [
                {"day": day, "present": (p.pk, day.pk) in marks, "future": day.date > today} for day in days
            ],
        }
        for p in participants
    ]
    can_run = permissions.can_run_session(principal, session, services.trainer_ids(session))
    participant_form = extra.pop("participant_form", None) or ParticipantForm(
        programme=programme, initial={"factory": session.factory_id} if session.factory_id else None
    )
    return render(
        request,
        "training/session_detail.html",
        {
            "programme": programme,
            "session": session,
            "days": days,
            "rows": rows,
            "day_totals": [sum(1 for p, d in marks if d == day.pk) for day in days],
            "participant_days": len(marks),
            "trainers": selectors.session_trainers(session=session),
            "evaluations": selectors.evaluation_summary(session=session),
            "can_run": can_run and not session.is_cancelled,
            "participant_form": participant_form,
            "places_left": max(session.capacity - len(participants), 0),
            "any_day_come": any(day.date <= today for day in days),
            "names_kept_years": max(round(settings.TRAINING_NAMES_KEPT_DAYS / 365), 1),
            **extra,
        },
    )


@login_required
def session_detail(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    programme, principal = _staff_programme(request)
    session = selectors.access_session(principal=principal, programme=programme, session_id=pk)
    return _session_page(request, session, principal)


@login_required
@require_POST
def participant_add(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    session, principal = _session_for_running(request, pk)
    form = ParticipantForm(request.POST, programme=session.programme)
    if form.is_valid():
        try:
            participant = services.participant_enrol(actor=principal, session=session, data=form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("%(name)s enrolled.") % {"name": participant.name})
            return redirect("training:session", programme_code=session.programme.code, pk=session.pk)
    return _session_page(request, session, principal, participant_form=form)


@login_required
@require_POST
def participant_remove(
    request: HttpRequest, programme_code: str, pk: int, participant_id: int
) -> HttpResponse:
    session, principal = _session_for_running(request, pk)
    participant = selectors.access_participant(session=session, participant_id=participant_id)
    try:
        services.participant_remove(actor=principal, participant=participant)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(name)s removed.") % {"name": participant.name})
    return redirect("training:session", programme_code=session.programme.code, pk=session.pk)


RATING_LABELS = {
    "overall": gettext_lazy("Overall"),
    "content": gettext_lazy("Content"),
    "trainers": gettext_lazy("Trainers"),
    "usefulness": gettext_lazy("Useful at work"),
}
MARK = re.compile(r"^present-(\d+)-(\d+)$")


@login_required
@require_POST
def attendance_save(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    session, principal = _session_for_running(request, pk)
    present = {(int(m[1]), int(m[2])) for key in request.POST if (m := MARK.match(key))}
    try:
        added, removed = services.attendance_record(actor=principal, session=session, present=present)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("Attendance saved: %(days)s participant training days.") % {"days": len(present)}
        )
    return redirect("training:session", programme_code=session.programme.code, pk=session.pk)


@login_required
def evaluations(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    """Type in the participants' rating forms, one row each."""
    programme, principal = _staff_programme(request)
    session = selectors.access_session(principal=principal, programme=programme, session_id=pk)
    can_run = (
        permissions.can_run_session(principal, session, services.trainer_ids(session))
        and not session.is_cancelled
    )
    participants = [p for p in selectors.session_participants(session=session) if p.days_attended]  # type: ignore[attr-defined]
    existing = selectors.session_evaluations(session=session)
    errors: dict[int, list[str]] = {}
    if request.method == "POST":
        if not can_run:
            raise Http404
        saved = 0
        for participant in participants:
            values = {field: request.POST.get(f"ev-{participant.pk}-{field}", "") for field in RATING_FIELDS}
            comment = request.POST.get(f"ev-{participant.pk}-comment", "").strip()
            if not any(values.values()) and not comment:
                continue
            data: dict[str, Any] = {
                field: int(value) if value.isdigit() else None for field, value in values.items()
            }
            data["comment"] = comment
            current = existing.get(participant.pk)
            if (
                current
                and all(getattr(current, f) == data[f] for f in RATING_FIELDS)
                and current.comment == comment
            ):
                continue
            try:
                services.evaluation_record(actor=principal, participant=participant, data=data)
                saved += 1
            except ValidationError as error:
                errors[participant.pk] = error.messages
        if not errors:
            messages.success(request, _("%(n)s evaluations saved.") % {"n": saved})
            return redirect("training:evaluations", programme_code=programme.code, pk=session.pk)
        messages.error(request, _("Some rows could not be saved; they are marked below."))
    rows = []
    for participant in participants:
        current = existing.get(participant.pk)
        rows.append(
            {
                "participant": participant,
                "cells": [
                    (
                        field,
                        RATING_LABELS[field],
                        request.POST.get(
                            f"ev-{participant.pk}-{field}", str(getattr(current, field, "") or "")
                        ),
                    )
                    for field in RATING_FIELDS
                ],
                "comment": request.POST.get(
                    f"ev-{participant.pk}-comment", current.comment if current else ""
                ),
                "errors": errors.get(participant.pk, []),
            }
        )
    return render(
        request,
        "training/evaluations.html",
        {
            "programme": programme,
            "session": session,
            "rows": rows,
            "rating_fields": RATING_FIELDS,
            "rating_choices": RATING_CHOICES,
            "summary": selectors.evaluation_summary(session=session),
            "can_run": can_run,
        },
    )


# --- The catalogue --------------------------------------------------------------------------


@login_required
def course_list(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, principal = _staff_programme(request)
    can_manage = permissions.can_manage_training(principal, programme.pk)
    return render(
        request,
        "training/course_list.html",
        {
            "programme": programme,
            "courses": selectors.course_list(programme=programme),
            "templates": selectors.templates_not_in_catalogue(programme=programme) if can_manage else [],
            "can_manage": can_manage,
            "can_schedule": permissions.can_schedule_session(principal, programme.pk),
        },
    )


@login_required
def course_edit(request: HttpRequest, programme_code: str, pk: int | None = None) -> HttpResponse:
    programme, principal = _staff_programme(request)
    if not permissions.can_manage_training(principal, programme.pk):
        raise Http404
    course = selectors.access_course(principal=principal, programme=programme, course_id=pk) if pk else None
    form = CourseForm(request.POST or None, instance=course)
    if request.method == "POST" and form.is_valid():
        try:
            services.course_save(actor=principal, programme=programme, course=course, data=form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Catalogue saved."))
            return redirect("training:courses", programme_code=programme.code)
    return render(
        request, "training/course_form.html", {"programme": programme, "form": form, "course": course}
    )


@login_required
@require_POST
def course_copy(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, principal = _staff_programme(request)
    template = selectors.template_list(active_only=True).filter(pk=request.POST.get("template") or 0).first()
    if template is None:
        raise Http404
    try:
        course = services.course_from_template(actor=principal, programme=programme, template=template)
    except PermissionDenied as error:
        raise Http404 from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("training:courses", programme_code=programme.code)
    messages.success(
        request, _("“%(title)s” added to the catalogue: adapt it to the programme.") % {"title": course.title}
    )
    return redirect("training:course_edit", programme_code=programme.code, pk=course.pk)


# --- Entitlements ---------------------------------------------------------------------------


@login_required
def entitlement_list(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, principal = _staff_programme(request)
    today = programme.today()
    current_only = request.GET.get("show") != "all"
    rows = selectors.entitlement_list(programme=programme, today=today, current_only=current_only)
    text = request.GET.get("q", "").strip()
    if text:
        rows = rows.filter(
            factory__in=factory_selectors.factory_search(
                selectors.factories_for_choice(programme=programme), text
            )
        )
    rows = rows.order_by("factory__name", "-cycle")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    page.object_list = selectors.with_use(page.object_list, today=today)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "training/entitlement_list.html",
        {
            "programme": programme,
            "page": page,
            "current_only": current_only,
            "q": text,
            "query": query.urlencode(),
            "today": today,
            "can_manage": permissions.can_manage_training(principal, programme.pk),
        },
    )


@login_required
def entitlement_edit(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, principal = _staff_programme(request)
    if not permissions.can_manage_training(principal, programme.pk):
        raise Http404
    initial: dict[str, Any] = {"days": 15}
    factory_id, cycle = request.GET.get("factory", ""), request.GET.get("cycle", "")
    if factory_id.isdigit():
        factory = factory_selectors.access_factory(
            principal=principal, factory_id=int(factory_id), programme=programme
        )
        existing = (
            selectors.access_entitlement(programme=programme, factory_id=factory.pk, cycle=int(cycle))
            if cycle.isdigit()
            else None
        )
        if existing:
            initial = {k: getattr(existing, k) for k in ("cycle", "days", "starts_on", "ends_on", "note")}
        else:
            initial = selectors.suggested_entitlement(factory=factory, today=programme.today())
        initial["factory"] = factory
    form = EntitlementForm(request.POST or None, programme=programme, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.entitlement_save(
                actor=principal, factory=data["factory"], cycle=data["cycle"], data=data
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Entitlement saved."))
            return redirect("training:entitlements", programme_code=programme.code)
    return render(request, "training/entitlement_form.html", {"programme": programme, "form": form})


@login_required
def factory_training(request: HttpRequest, programme_code: str, factory_id: int) -> HttpResponse:
    """One factory's entitlements and the sessions its people attended: for staff and its own users."""
    programme = programme_of(request)
    principal = principal_of(request)
    factory = factory_selectors.access_factory(
        principal=principal, factory_id=factory_id, programme=programme
    )
    if not permissions.can_view_factory_training(principal, factory):
        raise Http404
    today = programme.today()
    return render(
        request,
        "training/factory_training.html",
        {
            "programme": programme,
            "factory": factory,
            "entitlements": selectors.factory_entitlements(factory=factory, today=today),
            "sessions": selectors.factory_sessions(factory=factory)[:100],
            "today": today,
            "is_staff": permissions.can_view_training(principal, programme.pk),
            "can_manage": permissions.can_manage_training(principal, programme.pk),
        },
    )


# --- Figures --------------------------------------------------------------------------------


@login_required
def figures(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, principal = _staff_programme(request)
    form = FigureFilterForm(request.GET or None, programme=programme)
    result = selectors.training_figures(programme=programme, filters=form.filters())
    return render(
        request,
        "training/figures.html",
        {"programme": programme, "form": form, "figures": result, "query": request.GET.urlencode()},
    )


# --- Global course templates ----------------------------------------------------------------


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    if not permissions.can_manage_tool(principal_of(request)):
        raise Http404
    return render(request, "training/template_list.html", {"templates": selectors.template_list()})


@login_required
def template_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    principal = principal_of(request)
    if not permissions.can_manage_tool(principal):
        raise Http404
    template = selectors.template_list().filter(pk=pk).first() if pk else None
    if pk and template is None:
        raise Http404
    form = CourseTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        try:
            services.template_save(actor=principal, template=template, data=form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Course template saved."))
            return redirect("training_templates:list")
    return render(request, "training/template_form.html", {"form": form, "template": template})


# --- Attendance sheets ----------------------------------------------------------------------


@login_required
def attendance_export(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    """The attendance sheet as CSV or XLSX; with no one enrolled yet it is the blank template."""
    programme, principal = _staff_programme(request)
    session = selectors.access_session(principal=principal, programme=programme, session_id=pk)
    fmt: Literal["csv", "xlsx"] = "csv" if request.GET.get("format") == "csv" else "xlsx"
    columns, rows = attendance_sheet(session)
    stem = f"attendance-{programme.code}-{session.starts_on:%Y-%m-%d}-{session.pk}"
    return export_response(stem, columns, rows, fmt)


@login_required
def attendance_import(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    """Upload an attendance sheet, see every problem or a clean preview, then confirm."""
    session, principal = _session_for_running(request, pk)
    programme = session.programme
    importer = AttendanceImporter(session)
    step = import_step(request, actor=principal, programme=programme, importer=importer, target=session)
    if step.applied and step.run:
        summary = step.run.summary
        messages.success(
            request,
            _(
                "Attendance imported: %(rows)s participants (%(new)s new), %(marked)s days marked, %(cleared)s cleared."
            )
            % {
                "rows": summary.get("rows", 0),
                "new": summary.get("participants_added", 0),
                "marked": summary.get("days_marked", 0),
                "cleared": summary.get("days_cleared", 0),
            },
        )
        return redirect("training:session", programme_code=programme.code, pk=session.pk)
    here = reverse("training:attendance_import", kwargs={"programme_code": programme.code, "pk": session.pk})
    return import_page(
        request,
        "training/attendance_import.html",
        programme=programme,
        step=step,
        importer=importer,
        here=here,
        template_url=reverse(
            "training:attendance_export", kwargs={"programme_code": programme.code, "pk": session.pk}
        )
        + "?format=xlsx",
        session=session,
    )


@login_required
@reads_from_replica
def entitlement_export(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, _principal = _staff_programme(request)
    current_only = request.GET.get("show") != "all"
    today = programme.today()
    rows = selectors.entitlement_list(programme=programme, today=today, current_only=current_only)
    columns, lines = entitlement_sheet(
        selectors.with_use(rows.order_by("factory__name", "-cycle"), today=today)
    )
    fmt: Literal["csv", "xlsx"] = "csv" if request.GET.get("format") == "csv" else "xlsx"
    return export_response(f"entitlements-{programme.code}-{today:%Y-%m-%d}", columns, lines, fmt)


@login_required
@reads_from_replica
def programme_export(request: HttpRequest, programme_code: str) -> HttpResponse:
    """Every participant of the programme's sessions, one row each, as CSV or XLSX."""
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_export_programme_data(principal, programme.pk):
        raise Http404
    today = programme.today()
    columns, rows = participant_sheet(selectors.programme_participants(programme=programme, today=today))
    fmt: Format = "csv" if request.GET.get("format") == "csv" else "xlsx"
    return export_response(f"training-{programme.code}-{today.isoformat()}", columns, rows, fmt)


@login_required
def entitlement_import(request: HttpRequest, programme_code: str) -> HttpResponse:
    """Set many factories' entitlements from a spreadsheet, e.g. every factory's next cycle."""
    programme, principal = _staff_programme(request)
    if not permissions.can_manage_training(principal, programme.pk):
        raise Http404
    importer = EntitlementImporter(programme)
    step = import_step(request, actor=principal, programme=programme, importer=importer, target=programme)
    if step.applied and step.run:
        messages.success(
            request,
            _("Entitlements imported: %(created)s new, %(changed)s changed.")
            % {"created": step.run.summary.get("created", 0), "changed": step.run.summary.get("changed", 0)},
        )
        return redirect("training:entitlements", programme_code=programme.code)
    return import_page(
        request,
        "training/entitlement_import.html",
        programme=programme,
        step=step,
        importer=importer,
        here=reverse("training:entitlement_import", kwargs={"programme_code": programme.code}),
        template_url=reverse("training:entitlement_export", kwargs={"programme_code": programme.code})
        + "?show=all",
    )
