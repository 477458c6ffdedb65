"""The signed-in user's inbox: what the platform told them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

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


def language_set(request: HttpRequest) -> HttpResponse:
    """The language switcher (Django's ``set_language``); a signed-in user's choice is also kept
    on their account, so that their e-mails and their other devices follow it."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.method == "POST" and request.user.is_authenticated and response.status_code in (200, 302):
        services.user_language_set(user=request.user, language=language)
    return response


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """A sign-in refused after too many failures (django-axes's ``AXES_LOCKOUT_CALLABLE``): a page
    that says what happened and what to do, "Too many requests" to machines."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "registration/locked_out.html", context, status=429)
