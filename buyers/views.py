"""The buyer portal (/buyer/): the buyer's factories across programmes, one factory's readable
reports, and an aggregate view of its supply base. Thin views over ``buyers.selectors``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from betterwork.middleware import principal_of
from betterwork.permissions import Principal
from buyers import selectors
from buyers.forms import PortalFilterForm


def _buyer(request: HttpRequest) -> Principal:
    principal = principal_of(request)
    if not principal.buyer_ids():
        raise Http404
    return principal


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    principal = _buyer(request)
    rows = selectors.buyer_factories(principal=principal)
    form = PortalFilterForm(
        request.GET or None, programmes=selectors.buyer_programmes(rows), clusters=selectors.cluster_choices()
    )
    shown = selectors.filter_factories(rows, **form.cleaned_data) if form.is_valid() else rows
    return render(
        request,
        "buyers/portal.html",
        {
            "rows": shown,
            "total": len(rows),
            "form": form,
            "new_for_days": selectors.NEW_FOR_DAYS,
            "can_invite": bool(principal.admin_buyer_ids()),
        },
    )


@login_required
def factory(request: HttpRequest, factory_id: int) -> HttpResponse:
    principal = _buyer(request)
    found, consented, cycles = selectors.access_buyer_factory(principal=principal, factory_id=factory_id)
    return render(
        request,
        "buyers/factory.html",
        {
            "factory": found,
            "consented": consented,
            "cycles": selectors.buyer_factory_reports(factory=found, cycles=cycles),
        },
    )


@login_required
def supply_base(request: HttpRequest) -> HttpResponse:
    rows = selectors.buyer_factories(principal=_buyer(request))
    clusters, counted = selectors.supply_base(rows=rows)
    return render(
        request,
        "buyers/supply_base.html",
        {"clusters": clusters, "counted": counted, "total": len(rows)},
    )
