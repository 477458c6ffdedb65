"""The signed-in user's inbox: what the platform told them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from betterwork import selectors, services
from betterwork.middleware import principal_of


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
