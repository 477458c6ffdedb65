"""A buyer's statements: its subscriptions of a calendar year and what they cost, per currency."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from betterwork.middleware import principal_of
from buyers import statement_selectors


def _buyer_id(request: HttpRequest) -> int | None:
    raw = request.GET.get("buyer")
    if raw is None:
        return None
    if not raw.isdigit():
        raise Http404
    return int(raw)


@login_required
def statement_latest(request: HttpRequest) -> HttpResponse:
    statement_selectors.access_buyer(principal=principal_of(request), buyer_id=_buyer_id(request))
    return redirect("buyer_statements:year", year=timezone.localdate().year)


@login_required
def statement_year(request: HttpRequest, year: int) -> HttpResponse:
    buyer = statement_selectors.access_buyer(principal=principal_of(request), buyer_id=_buyer_id(request))
    if not 2000 <= year <= 2999:
        raise Http404
    with statement_selectors.buyer_books(buyer):
        context = statement_selectors.statement(buyer=buyer, year=year)
        context["years"] = statement_selectors.statement_years(buyer=buyer)
    return render(request, "buyers/statements/statement.html", context)
