"""Pages of the factory registry: thin views over selectors and services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from betterwork import permissions
from betterwork import selectors as people_selectors
from betterwork import services as people_services
from betterwork.import_views import decisions_of, import_page, import_step
from betterwork.middleware import principal_of, programme_of
from betterwork.models import Role
from betterwork.replica import reads_from_replica
from betterwork.spreadsheets import Format, export_response
from factories import selectors, services
from factories.filters import ORDERINGS, FactoryFilter
from factories.forms import FactoryForm, StaffInviteForm, StatusForm
from factories.imports import FactoryImporter, registry_sheet

PAGE_SIZE = 25


@login_required
def factory_list(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme = programme_of(request)
    principal = principal_of(request)
    if not permissions.can_list_factories(principal, programme.pk):
        raise Http404
    factory_filter = FactoryFilter(
        request.GET, queryset=selectors.factory_list(principal=principal, programme=programme)
    )
    sort = request.GET.get("sort", "name")
    ordering = ORDERINGS.get(sort, ORDERINGS["name"])
    page = Paginator(factory_filter.qs.order_by(*ordering), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "factories/list.html",
        {
            "programme": programme,
            "filter": factory_filter,
            "page": page,
            "sort": sort,
            "query": query.urlencode(),
            "can_create": permissions.can_create_factory(principal, programme.pk),
            "can_import": permissions.can_import_factories(principal, programme.pk),
            "can_export": permissions.can_export_factories(principal, programme.pk),
            "can_export_all": permissions.can_export_programme_data(principal, programme.pk),
        },
    )


@login_required
def factory_import(request: HttpRequest, programme_code: str) -> HttpResponse:
    """Upload a factory list, see what it will create and change (and choose where a row could be
    one of several factories), then confirm: the registry is updated in one step."""
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_import_factories(principal, programme.pk):
        raise Http404
    importer = FactoryImporter(programme, decisions=decisions_of(request))
    step = import_step(request, actor=principal, programme=programme, importer=importer, target=programme)
    if step.applied and step.run:
        summary = step.run.summary
        messages.success(
            request,
            _(
                "Registry updated: %(created)s factories registered, %(updated)s changed, %(unchanged)s unchanged."
            )
            % {key: summary.get(key, 0) for key in ("created", "updated", "unchanged")},
        )
        return redirect("factories:list", programme_code=programme.code)
    return import_page(
        request,
        "factories/import.html",
        programme=programme,
        step=step,
        importer=importer,
        here=reverse("factories:import", kwargs={"programme_code": programme.code}),
        template_url=reverse("factories:export", kwargs={"programme_code": programme.code})
        + "?format=xlsx&template=1",
    )


@login_required
@reads_from_replica
def factory_export(request: HttpRequest, programme_code: str) -> HttpResponse:
    """The registry (as the list's filters narrow it) as CSV or XLSX, in the import's columns;
    ``template=1`` gives the header alone."""
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_export_factories(principal, programme.pk):
        raise Http404
    factories = FactoryFilter(
        request.GET, queryset=selectors.factory_list(principal=principal, programme=programme)
    ).qs.order_by("name", "pk")
    columns, rows = registry_sheet(
        programme, [] if request.GET.get("template") else factories.iterator(chunk_size=2000)
    )
    fmt: Format = "csv" if request.GET.get("format") == "csv" else "xlsx"
    stem = f"factories-{programme.code}-{'template' if request.GET.get('template') else programme.today().isoformat()}"
    return export_response(stem, columns, rows, fmt)


@login_required
def factory_detail(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    principal = principal_of(request)
    factory = selectors.access_factory(principal=principal, factory_id=pk, programme=programme_of(request))
    return render(
        request,
        "factories/detail.html",
        {
            "programme": factory.programme,
            "factory": factory,
            "history": selectors.enrolment_history(factory=factory),
            "buyers": [line.strip() for line in factory.buyers_supplied.splitlines() if line.strip()],
            "can_edit": permissions.can_edit_factory(principal, factory),
            "can_manage_staff": permissions.can_manage_factory_staff(principal, factory),
        },
    )


@login_required
def factory_create(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme = programme_of(request)
    principal = principal_of(request)
    if not permissions.can_create_factory(principal, programme.pk):
        raise Http404
    form = FactoryForm(request.POST or None, programme=programme)
    if request.method == "POST" and form.is_valid():
        try:
            factory = services.factory_create(actor=principal, programme=programme, data=form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Factory %(name)s registered as %(id)s.") % {"name": factory.name, "id": factory.public_id},
            )
            return redirect("factories:detail", programme_code=programme.code, pk=factory.pk)
    return render(request, "factories/form.html", {"programme": programme, "form": form, "factory": None})


@login_required
def factory_edit(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    programme = programme_of(request)
    principal = principal_of(request)
    factory = selectors.access_factory(principal=principal, factory_id=pk, programme=programme)
    if not permissions.can_edit_factory(principal, factory):
        raise Http404
    form = FactoryForm(request.POST or None, instance=factory, programme=programme)
    if request.method == "POST" and form.is_valid():
        try:
            services.factory_update(actor=principal, factory=factory, data=form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        except PermissionDenied as error:
            raise Http404 from error
        else:
            messages.success(request, _("Changes saved."))
            return redirect("factories:detail", programme_code=programme.code, pk=factory.pk)
    return render(request, "factories/form.html", {"programme": programme, "form": form, "factory": factory})


@login_required
def factory_status(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    programme = programme_of(request)
    principal = principal_of(request)
    factory = selectors.access_factory(principal=principal, factory_id=pk, programme=programme)
    if not permissions.can_edit_factory(principal, factory):
        raise Http404
    form = StatusForm(request.POST or None, initial={"status": factory.enrolment_status})
    if request.method == "POST" and form.is_valid():
        services.factory_change_status(
            actor=principal,
            factory=factory,
            status=form.cleaned_data["status"],
            on=form.cleaned_data["on"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("Enrolment status updated."))
        return redirect("factories:detail", programme_code=programme.code, pk=factory.pk)
    return render(
        request, "factories/status.html", {"programme": programme, "factory": factory, "form": form}
    )


@login_required
def factory_staff(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    """The factory's own users, managed by its administrator or the programme's managers."""
    programme = programme_of(request)
    principal = principal_of(request)
    factory = selectors.access_factory(principal=principal, factory_id=pk, programme=programme)
    if not permissions.can_manage_factory_staff(principal, factory):
        raise Http404
    form = StaffInviteForm(request.POST or None, initial={"language": programme.main_language})
    if request.method == "POST" and form.is_valid():
        try:
            grant = people_services.user_invite(
                actor=principal,
                programme=programme,
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                role=Role.FACTORY,
                language=form.cleaned_data["language"],
                factory=factory,
                is_admin=form.cleaned_data["is_admin"],
                base_url=request.build_absolute_uri("/"),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(name)s was added to the factory's users.") % {"name": grant.user})
            return redirect("factories:staff", programme_code=programme.code, pk=factory.pk)
    return render(
        request,
        "factories/staff.html",
        {
            "programme": programme,
            "factory": factory,
            "staff": people_selectors.factory_staff(factory_id=factory.pk),
            "form": form,
        },
    )


@login_required
@require_POST
def factory_staff_revoke(request: HttpRequest, programme_code: str, pk: int, grant_id: int) -> HttpResponse:
    programme = programme_of(request)
    principal = principal_of(request)
    factory = selectors.access_factory(principal=principal, factory_id=pk, programme=programme)
    grant = people_selectors.factory_staff(factory_id=factory.pk).filter(pk=grant_id).first()
    if grant is None or not permissions.can_manage_factory_staff(principal, factory):
        raise Http404
    try:
        people_services.role_revoke(actor=principal, grant=grant)
    except PermissionDenied as error:
        raise Http404 from error
    messages.success(request, _("Access removed."))
    return redirect("factories:staff", programme_code=programme.code, pk=factory.pk)
