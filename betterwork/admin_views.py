"""Pages of user, role and programme administration, and the programme's audit trail."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from betterwork import permissions, selectors, services
from betterwork.forms import AuditFilterForm, InviteForm, ProgrammeForm
from betterwork.middleware import principal_of, programme_of
from betterwork.models import PROGRAMME_STAFF_ROLES, Programme, Role

PAGE_SIZE = 25


def _programme_manager_context(request: HttpRequest) -> tuple[Programme, permissions.Principal]:
    programme = programme_of(request)
    principal = principal_of(request)
    if not permissions.can_manage_programme_users(principal, programme.pk):
        raise Http404
    return programme, principal


@login_required
def user_list(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, _principal = _programme_manager_context(request)
    search = request.GET.get("q", "").strip()
    users = selectors.programme_users_with_grants(programme=programme, search=search)
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "people/user_list.html",
        {"programme": programme, "page": page, "search": search, "query": f"q={search}" if search else ""},
    )


@login_required
def user_invite(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme, principal = _programme_manager_context(request)
    # Factory users are invited from their factory's page.
    roles = [str(r) for r in permissions.GRANTABLE_BY_PROGRAMME_MANAGER if r != Role.FACTORY]
    form = InviteForm(request.POST or None, roles=roles, initial={"language": programme.main_language})
    if request.method == "POST" and form.is_valid():
        try:
            grant = services.user_invite(
                actor=principal,
                programme=programme,
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                role=form.cleaned_data["role"],
                language=form.cleaned_data["language"],
                manages_training=form.cleaned_data["manages_training"],
                base_url=request.build_absolute_uri("/"),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("%(name)s can now work here as %(role)s.")
                % {"name": grant.user, "role": grant.get_role_display()},
            )
            return redirect("people:detail", programme_code=programme.code, user_id=grant.user_id)
    return render(request, "people/invite.html", {"programme": programme, "form": form})


@login_required
def user_detail(request: HttpRequest, programme_code: str, user_id: int) -> HttpResponse:
    programme, _principal = _programme_manager_context(request)
    person = selectors.access_programme_user(programme=programme, user_id=user_id)
    return render(
        request,
        "people/user_detail.html",
        {
            "programme": programme,
            "person": person,
            "grants": selectors.grants_in_programme(programme=programme, user=person),
            "staff_roles": sorted(PROGRAMME_STAFF_ROLES),
        },
    )


@login_required
@require_POST
def grant_revoke(request: HttpRequest, programme_code: str, user_id: int, grant_id: int) -> HttpResponse:
    programme, principal = _programme_manager_context(request)
    person = selectors.access_programme_user(programme=programme, user_id=user_id)
    grant = selectors.access_grant(programme=programme, user=person, grant_id=grant_id)
    try:
        services.role_revoke(actor=principal, grant=grant)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        raise Http404 from error
    else:
        messages.success(request, _("Role removed."))
    return redirect("people:detail", programme_code=programme.code, user_id=person.pk)


@login_required
@require_POST
def grant_training(request: HttpRequest, programme_code: str, user_id: int, grant_id: int) -> HttpResponse:
    programme, principal = _programme_manager_context(request)
    person = selectors.access_programme_user(programme=programme, user_id=user_id)
    grant = selectors.access_grant(programme=programme, user=person, grant_id=grant_id)
    on = request.POST.get("manages_training") == "1"
    try:
        services.grant_set_training(actor=principal, grant=grant, manages_training=on)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        raise Http404 from error
    else:
        messages.success(
            request,
            _("%(name)s is now a training officer.") % {"name": person}
            if on
            else _("%(name)s is no longer a training officer.") % {"name": person},
        )
    return redirect("people:detail", programme_code=programme.code, user_id=person.pk)


@login_required
def user_active(request: HttpRequest, programme_code: str, user_id: int) -> HttpResponse:
    """Deactivate or reactivate an account, after a confirmation page."""
    programme, principal = _programme_manager_context(request)
    person = selectors.access_programme_user(programme=programme, user_id=user_id)
    if request.method == "POST":
        try:
            services.user_set_active(
                actor=principal, user=person, active=not person.is_active, programme=programme
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except PermissionDenied:
            messages.error(request, _("This person also works in programmes you do not manage."))
        else:
            messages.success(
                request, _("Account reactivated.") if person.is_active else _("Account deactivated.")
            )
        return redirect("people:detail", programme_code=programme.code, user_id=person.pk)
    return render(request, "people/confirm_active.html", {"programme": programme, "person": person})


@login_required
def audit_list(request: HttpRequest, programme_code: str) -> HttpResponse:
    programme = programme_of(request)
    if not permissions.can_view_audit(principal_of(request), programme.pk):
        raise Http404
    form = AuditFilterForm(request.GET or None)
    search = form.cleaned_data if form.is_valid() else None
    events = selectors.audit_events(programme=programme, search=search)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "people/audit.html",
        {"programme": programme, "form": form, "page": page, "query": query.urlencode()},
    )


@login_required
def programme_list(request: HttpRequest) -> HttpResponse:
    principal = principal_of(request)
    if not permissions.can_manage_programmes(principal):
        raise Http404
    return render(
        request, "people/programme_list.html", {"programmes": selectors.programme_list(principal=principal)}
    )


@login_required
def programme_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    principal = principal_of(request)
    if not permissions.can_manage_programmes(principal):
        raise Http404
    programme = selectors.access_programme(programme_id=pk) if pk else None
    form = ProgrammeForm(request.POST or None, instance=programme)
    if request.method == "POST" and form.is_valid():
        try:
            if programme is None:
                programme = services.programme_create(actor=principal, data=form.cleaned_data)
            else:
                programme = services.programme_update(
                    actor=principal, programme=programme, data=form.cleaned_data
                )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Programme %(name)s saved.") % {"name": programme.name})
            return redirect("people:programmes")
    return render(request, "people/programme_form.html", {"form": form, "programme": programme})
