"""Buyer organisations: the global team lists, creates and edits them and invites their users
(/buyers/); a buyer's admins invite their own colleagues from the portal (/buyer/people/).
Thin views over ``buyers.org_selectors`` and ``buyers.orgs``; refusals are 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from betterwork.forms import add_service_error
from betterwork.middleware import principal_of
from betterwork.permissions import Principal
from buyers import org_selectors, orgs
from buyers.models import Buyer
from buyers.org_forms import BuyerForm, BuyerInviteForm


@login_required
def buyer_list(request: HttpRequest) -> HttpResponse:
    rows = org_selectors.buyer_rows(principal=principal_of(request))
    return render(request, "buyers/orgs/list.html", {"rows": rows})


def _save(request: HttpRequest, principal: Principal, buyer: Buyer | None) -> tuple[BuyerForm, Buyer | None]:
    initial = {name: getattr(buyer, name) for name in orgs.BUYER_FIELDS} if buyer else None
    form = BuyerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            return form, orgs.buyer_save(actor=principal, data=form.cleaned_data, buyer=buyer)
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            add_service_error(form, error)
    return form, None


@login_required
def buyer_create(request: HttpRequest) -> HttpResponse:
    principal = principal_of(request)
    org_selectors.buyer_rows(principal=principal)  # the global team only (404 otherwise)
    form, saved = _save(request, principal, None)
    if saved is not None:
        messages.success(request, _("%(buyer)s is created.") % {"buyer": saved})
        return redirect("buyer_orgs:detail", buyer_id=saved.pk)
    return render(request, "buyers/orgs/form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def buyer_detail(request: HttpRequest, buyer_id: int) -> HttpResponse:
    """The buyer's details (editable), its users and the invitation form."""
    principal = principal_of(request)
    buyer = org_selectors.access_managed_buyer(principal=principal, buyer_id=buyer_id)
    form, saved = _save(request, principal, buyer)
    if saved is not None:
        messages.success(request, _("%(buyer)s is saved.") % {"buyer": saved})
        return redirect("buyer_orgs:detail", buyer_id=saved.pk)
    return render(
        request,
        "buyers/orgs/detail.html",
        {
            "buyer": buyer,
            "form": form,
            "users": org_selectors.buyer_users(buyer=buyer),
            "invite_form": BuyerInviteForm(initial={"language": request.LANGUAGE_CODE}),
        },
        status=400 if form.errors else 200,
    )


def _invite(request: HttpRequest, principal: Principal, buyer: Buyer) -> BuyerInviteForm | None:
    """Invite from the posted form; None once done (the caller redirects)."""
    form = BuyerInviteForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            grant = orgs.buyer_user_invite(
                actor=principal,
                buyer=buyer,
                email=data["email"],
                full_name=data["full_name"],
                language=data["language"],
                is_admin=data["is_admin"],
                base_url=request.build_absolute_uri("/"),
            )
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, _("%(name)s now works for %(buyer)s.") % {"name": grant.user, "buyer": buyer}
            )
            return None
    return form


@login_required
def buyer_invite(request: HttpRequest, buyer_id: int) -> HttpResponse:
    principal = principal_of(request)
    buyer = org_selectors.access_managed_buyer(principal=principal, buyer_id=buyer_id)
    if request.method != "POST":
        return redirect("buyer_orgs:detail", buyer_id=buyer.pk)
    form = _invite(request, principal, buyer)
    if form is None:
        return redirect("buyer_orgs:detail", buyer_id=buyer.pk)
    return render(
        request,
        "buyers/orgs/detail.html",
        {
            "buyer": buyer,
            "form": BuyerForm(initial={name: getattr(buyer, name) for name in orgs.BUYER_FIELDS}),
            "users": org_selectors.buyer_users(buyer=buyer),
            "invite_form": form,
        },
        status=400,
    )


def _buyer_id(request: HttpRequest) -> int | None:
    raw = request.GET.get("buyer") or request.POST.get("buyer")
    if raw is None:
        return None
    if not raw.isdigit():
        raise Http404
    return int(raw)


@login_required
def colleagues(request: HttpRequest) -> HttpResponse:
    """A buyer admin's colleagues, and the invitation of another (their own buyer only)."""
    principal = principal_of(request)
    buyer = org_selectors.access_colleagues_buyer(principal=principal, buyer_id=_buyer_id(request))
    form: BuyerInviteForm | None = BuyerInviteForm(initial={"language": request.LANGUAGE_CODE})
    if request.method == "POST":
        form = _invite(request, principal, buyer)
        if form is None:
            return redirect(f"{request.path}?buyer={buyer.pk}")
    return render(
        request,
        "buyers/orgs/colleagues.html",
        {
            "buyer": buyer,
            "users": org_selectors.buyer_users(buyer=buyer),
            "invite_form": form,
            "invite_action": f"{request.path}?buyer={buyer.pk}",
        },
        status=400 if form is not None and form.errors else 200,
    )
