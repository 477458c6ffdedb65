"""The programme's price bands: its managers read and replace the sliding scale."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from betterwork.middleware import principal_of, programme_of
from buyers import price_selectors, prices
from buyers.price_forms import ROWS, PriceBandsForm


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
