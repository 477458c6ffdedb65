"""The factory's side of buyers (/p/<code>/factories/<id>/buyers/): which buyers subscribe, the
factory's consent (granted or revoked with a confirmation and a note), its history, and who
downloaded which report when. Programme staff read it; programme managers also record, activate
and cancel subscriptions on the page below it. Thin views over selectors and services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from betterwork.forms import add_service_error
from betterwork.middleware import principal_of, programme_of
from betterwork.permissions import Principal
from buyers import selectors, services
from buyers.forms import ActivateForm, CancelForm, ConsentForm, SubscriptionRequestForm
from buyers.models import PaidBy
from factories import selectors as factory_selectors
from factories.models import Factory


def _factory(request: HttpRequest, factory_id: int) -> tuple[Factory, Principal]:
    """The factory for its own users and the programme's staff; anyone else gets 404."""
    principal = principal_of(request)
    found = factory_selectors.access_factory(
        principal=principal, factory_id=factory_id, programme=programme_of(request)
    )
    return found, principal


@login_required
def factory_buyers(request: HttpRequest, programme_code: str, factory_id: int) -> HttpResponse:
    found, principal = _factory(request, factory_id)
    return render(
        request,
        "buyers/factory_buyers.html",
        {
            "factory": found,
            "programme": found.programme,
            "buyers": selectors.factory_buyers(factory=found),
            "history": selectors.consent_history(factory=found)[:100],
            "downloads": selectors.report_downloads(factory=found),
            "can_decide": found.pk in principal.factory_ids(),
            "can_manage": selectors.can_manage_subscriptions(principal, found),
        },
    )


@login_required
def consent_change(request: HttpRequest, programme_code: str, factory_id: int, buyer_id: int) -> HttpResponse:
    """A confirmation page (GET ?granted=1 or 0), then the decision (POST)."""
    found, principal = _factory(request, factory_id)
    if found.pk not in principal.factory_ids():
        raise Http404
    buyer = selectors.access_factory_buyer(factory=found, buyer_id=buyer_id)
    form = ConsentForm(
        request.POST if request.method == "POST" else None,
        initial={"granted": request.GET.get("granted", "1")},
    )
    if request.method == "POST" and form.is_valid():
        granted = form.cleaned_data["granted"]
        try:
            services.consent_set(
                actor=principal, factory=found, buyer=buyer, granted=granted, note=form.cleaned_data["note"]
            )
        except PermissionDenied as error:
            raise Http404 from error
        if granted:
            messages.success(request, _("%(buyer)s may now read your reports.") % {"buyer": buyer})
        else:
            messages.success(request, _("%(buyer)s can no longer read your reports.") % {"buyer": buyer})
        return redirect("factory_buyers:list", programme_code=programme_code, factory_id=found.pk)
    granted = form["granted"].value() in ("1", True)
    return render(
        request,
        "buyers/consent_confirm.html",
        {"factory": found, "programme": found.programme, "buyer": buyer, "form": form, "granted": granted},
    )


# --- Programme managers: the factory's subscriptions -----------------------------------------


def _managed_factory(request: HttpRequest, factory_id: int) -> tuple[Factory, Principal]:
    found, principal = _factory(request, factory_id)
    if not selectors.can_manage_subscriptions(principal, found):
        raise Http404
    return found, principal


@login_required
def subscriptions(request: HttpRequest, programme_code: str, factory_id: int) -> HttpResponse:
    found, principal = _managed_factory(request, factory_id)
    form = SubscriptionRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.subscription_request(
                actor=principal,
                buyer=form.cleaned_data["buyer"],
                factory=found,
                cycle=form.cleaned_data["cycle"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The subscription request is recorded."))
            return redirect(
                "factory_buyers:subscriptions", programme_code=programme_code, factory_id=found.pk
            )
    return render(
        request,
        "buyers/subscriptions.html",
        {
            "factory": found,
            "programme": found.programme,
            "subscriptions": selectors.subscriptions_with_credits(factory=found),
            "form": form,
            "activate_form": ActivateForm(),
            "cancel_form": CancelForm(),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def subscription_activate(
    request: HttpRequest, programme_code: str, factory_id: int, subscription_id: int
) -> HttpResponse:
    found, principal = _managed_factory(request, factory_id)
    subscription = selectors.access_factory_subscription(factory=found, subscription_id=subscription_id)
    form = ActivateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the period's first and last day."))
    else:
        try:
            services.subscription_activate(actor=principal, subscription=subscription, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if form.cleaned_data["paid_by"] == PaidBy.CREDIT:
                messages.success(request, _("The subscription is active, paid with a credit."))
            else:
                messages.success(request, _("The subscription is active."))
    return redirect("factory_buyers:subscriptions", programme_code=programme_code, factory_id=found.pk)


@login_required
@require_POST
def subscription_cancel(
    request: HttpRequest, programme_code: str, factory_id: int, subscription_id: int
) -> HttpResponse:
    found, principal = _managed_factory(request, factory_id)
    subscription = selectors.access_factory_subscription(factory=found, subscription_id=subscription_id)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the subscription is cancelled."))
    else:
        services.subscription_cancel(
            actor=principal, subscription=subscription, reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("The subscription is cancelled."))
    return redirect("factory_buyers:subscriptions", programme_code=programme_code, factory_id=found.pk)
