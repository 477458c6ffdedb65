"""The programme's price bands and credits: its managers read and replace the sliding scale, and
record buyers' purchases of prepaid credits."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from betterwork.forms import add_service_error
from betterwork.middleware import principal_of, programme_of
from buyers import credits, price_selectors, prices
from buyers.price_forms import ROWS, CreditPurchaseForm, PriceBandsForm


@login_required
def price_bands(request: HttpRequest, programme_code: str) -> HttpResponse:
    principal, programme = principal_of(request), programme_of(request)
    bands = price_selectors.access_price_bands(principal=principal, programme=programme)
    if request.method == "POST":
        form = PriceBandsForm(request.POST)
        if form.is_valid():
            steps = form.bands()
            if form.is_valid():
                try:
                    prices.price_bands_set(
                        actor=principal,
                        programme=programme,
                        bands=steps,
                        currency=form.cleaned_data["currency"],
                    )
                except PermissionDenied as error:
                    raise Http404 from error
                except ValidationError as error:
                    for message in error.messages:
                        form.add_error(None, message)
                else:
                    messages.success(request, _("The price bands are saved."))
                    return redirect("buyer_prices:bands", programme_code=programme.code)
    else:
        initial: dict[str, object] = {"currency": bands[0].currency if bands else programme.currency}
        for row, band in enumerate(bands[:ROWS]):
            initial[f"from_{row}"], initial[f"price_{row}"] = band.from_subscriptions, band.price
        form = PriceBandsForm(initial=initial)
    return render(
        request, "buyers/statements/prices.html", {"programme": programme, "bands": bands, "form": form}
    )


@login_required
def credits_page(request: HttpRequest, programme_code: str) -> HttpResponse:
    """Record a buyer's purchase of credits; see each buyer's credits bought, used and left."""
    principal, programme = principal_of(request), programme_of(request)
    books = price_selectors.access_credits(principal=principal, programme=programme)
    form = CreditPurchaseForm(
        request.POST or None, initial={"purchased_on": programme.today(), "currency": books["currency"]}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            purchase = credits.credits_buy(
                actor=principal,
                programme=programme,
                buyer=data["buyer"],
                credits=data["credits"],
                amount=data["amount"],
                currency=data["currency"],
                purchased_on=data["purchased_on"],
                reference=data["reference"],
            )
        except PermissionDenied as error:
            raise Http404 from error
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _("%(credits)s credits recorded for %(buyer)s.")
                % {"credits": purchase.credits, "buyer": purchase.buyer},
            )
            return redirect("buyer_prices:credits", programme_code=programme.code)
    return render(
        request,
        "buyers/statements/credits.html",
        {"programme": programme, "form": form, **books},
        status=400 if form.errors else 200,
    )
