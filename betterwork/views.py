"""The signed-in user's inbox: what the platform told them; a programme's page of exports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from betterwork import permissions, selectors, services
from betterwork.middleware import principal_of, programme_of


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = principal_of(request).user
    page = Paginator(selectors.inbox(user=user), 30).get_page(request.GET.get("page"))
    return render(request, "betterwork/inbox.html", {"page": page, "query": ""})


@login_required
@require_POST
def inbox_mark_read(request: HttpRequest) -> HttpResponse:
    services.inbox_mark_read(user=principal_of(request).user)
    return redirect("inbox")


@login_required
def programme_export(request: HttpRequest, programme_code: str) -> HttpResponse:
    """Every dataset of the programme with its downloads (each download checks its own rule), for
    the programme's managers. The apps' export URLs are named in the template: this app imports none."""
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_export_programme_data(principal, programme.pk):
        raise Http404
    return render(
        request,
        "betterwork/export.html",
        {"programme": programme},
    )
