"""Advisory-visit pages: thin views over the visit selectors and services.

A factory's visit log is for the programme's staff and the factory's own users (advisory
visits are announced); the programme's list and figures are for its staff and the global team.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from advisory import visit_selectors as selectors
from advisory import visits as services
from advisory.models import AdvisoryVisit
from advisory.visit_forms import VisitFilterForm, VisitForm
from betterwork import permissions
from betterwork.forms import add_service_error
from betterwork.middleware import principal_of, programme_of
from betterwork.permissions import Principal
from factories.models import Factory

PAGE_SIZE = 50


def _with_rights(visits: Any, principal: Principal) -> list[AdvisoryVisit]:
    """Mark each visit of a page with what the principal may do to it (no query: links are prefetched)."""
    now = timezone.now()
    rows = list(visits)
    for visit in rows:
        advisor_ids = selectors.visit_advisor_ids(visit=visit)
        visit.can_edit = permissions.can_edit_visit(principal, visit, advisor_ids)  # type: ignore[attr-defined]
        visit.can_delete = permissions.can_delete_visit(principal, visit, now=now)  # type: ignore[attr-defined]
    return rows


# --- A factory's visit log ------------------------------------------------------------------


@login_required
def factory_visits(request: HttpRequest, programme_code: str, factory_id: int) -> HttpResponse:
    programme, principal = programme_of(request), principal_of(request)
    factory = selectors.access_visit_factory(principal=principal, programme=programme, factory_id=factory_id)
    page = Paginator(selectors.factory_visits(factory=factory), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _with_rights(page.object_list, principal)
    return render(
        request,
        "advisory/visits/factory_visits.html",
        {
            "programme": programme,
            "factory": factory,
            "page": page,
            "counts": selectors.visit_counts(factory=factory, today=programme.today()),
            "year": programme.today().year,
            "can_log": permissions.can_log_visits(principal, programme.pk),
            "is_staff": permissions.can_list_factories(principal, programme.pk),
        },
    )


def _visit_form(
    request: HttpRequest,
    principal: Principal,
    factory: Factory,
    visit: AdvisoryVisit | None,
    initial: dict[str, Any],
) -> HttpResponse:
    """Log a visit (``visit`` None) or change one: the same form, the matching service."""
    programme = factory.programme
    kept = {user.pk for user in initial.get("advisors", [])}
    form = VisitForm(request.POST or None, factory=factory, initial=initial, keep_advisors=kept)
    if request.method == "POST" and form.is_valid():
        fields: dict[str, Any] = {
            "data": form.service_data(),
            "advisors": list(form.cleaned_data["advisors"]),
            "items": list(form.cleaned_data["items"]),
        }
        try:
            if visit is None:
                services.visit_log(actor=principal, factory=factory, **fields)
            else:
                services.visit_update(actor=principal, visit=visit, **fields)
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Visit logged.") if visit is None else _("Changes saved."))
            return redirect("visits:factory", programme_code=programme.code, factory_id=factory.pk)
    return render(
        request,
        "advisory/visits/visit_form.html",
        {"programme": programme, "factory": factory, "form": form, "visit": visit},
    )


@login_required
def visit_create(request: HttpRequest, programme_code: str, factory_id: int) -> HttpResponse:
    programme, principal = programme_of(request), principal_of(request)
    factory = selectors.access_visit_factory(principal=principal, programme=programme, factory_id=factory_id)
    if not permissions.can_log_visits(principal, programme.pk):
        raise Http404
    return _visit_form(request, principal, factory, None, {"visited_on": programme.today()})


def _editable_visit(request: HttpRequest, pk: int) -> tuple[AdvisoryVisit, Principal]:
    programme, principal = programme_of(request), principal_of(request)
    visit = selectors.access_visit(principal=principal, programme=programme, visit_id=pk)
    if not permissions.can_edit_visit(principal, visit, selectors.visit_advisor_ids(visit=visit)):
        raise Http404
    return visit, principal


@login_required
def visit_edit(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    visit, principal = _editable_visit(request, pk)
    initial = {
        **{key: getattr(visit, key) for key in services.VISIT_FIELDS},
        "advisors": [link.user for link in visit.advisor_links.all()],
        "items": [link.item for link in visit.item_links.all()],
    }
    return _visit_form(request, principal, visit.factory, visit, initial)


@login_required
def visit_delete(request: HttpRequest, programme_code: str, pk: int) -> HttpResponse:
    programme, principal = programme_of(request), principal_of(request)
    visit = selectors.access_visit(principal=principal, programme=programme, visit_id=pk)
    if not permissions.can_delete_visit(principal, visit):
        raise Http404
    if request.method == "POST":
        try:
            services.visit_delete(actor=principal, visit=visit)
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Visit deleted."))
        return redirect("visits:factory", programme_code=programme.code, factory_id=visit.factory_id)
    return render(
        request,
        "advisory/visits/visit_delete.html",
        {"programme": programme, "factory": visit.factory, "visit": visit},
    )


# --- The programme's visits -----------------------------------------------------------------


@login_required
def programme_visits(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_list_factories(principal, programme.pk):
        raise Http404
    form = VisitFilterForm(request.GET or None, programme=programme)
    filters = form.filters()
    today = programme.today()
    visits = selectors.programme_visits(principal=principal, programme=programme, filters=filters)
    page = Paginator(visits, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _with_rights(page.object_list, principal)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "advisory/visits/programme_visits.html",
        {
            "programme": programme,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "figures": selectors.visit_figures(programme=programme, filters=filters, today=today),
            "can_log": permissions.can_log_visits(principal, programme.pk),
        },
    )


@login_required
def visit_new(request: HttpRequest, programme_code: str) -> HttpResponse:
    """From the programme's list: choose the factory, then log the visit on its own form."""
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_log_visits(principal, programme.pk):
        raise Http404
    factory_id = request.GET.get("factory", "")
    if not factory_id.isdigit():
        return render(
            request,
            "advisory/visits/choose_factory.html",
            {
                "programme": programme,
                "factories": selectors.factories_for_choice(programme=programme),
                "asked": "factory" in request.GET,
            },
        )
    factory = selectors.access_visit_factory(
        principal=principal, programme=programme, factory_id=int(factory_id)
    )
    return redirect("visits:create", programme_code=programme.code, factory_id=factory.pk)
