"""The signed-in person's own pages: their inbox, their language, their two-step sign-in."""

from __future__ import annotations

import base64
from typing import cast

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, get_language_bidi
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language
from django_otp import login as otp_login

from betterwork import offline, selectors, services
from betterwork.forms import TwoFactorCodeForm
from betterwork.middleware import principal_of
from betterwork.models import User


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


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Turn on two-step sign-in: scan the code into an authenticator app, give the first code."""
    user = cast(User, request.user)
    if user.two_factor_enabled and not request.user.is_verified():  # type: ignore[union-attr]
        # Moving it to another app takes a code from the current one: a password alone never does.
        return redirect(f"{reverse('two_factor_verify')}?next={reverse('two_factor_setup')}")
    device = services.two_factor_device(user=user)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confirmed = services.two_factor_confirm(user=user, code=form.cleaned_data["code"])
        if confirmed is not None:
            otp_login(request, confirmed)
            messages.success(request, _("Two-step sign-in is on: each sign-in now asks for a code."))
            return redirect(_next_page(request))
        form.add_error(
            "code", _("This code is not the one the app shows now. Check the app's clock and try again.")
        )
    secret = base64.b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "qr": segno.make(device.config_url, error="m").svg_inline(scale=5, dark="#14213d", light="#ffffff"),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "required": services.two_factor_required(user),
        "next": _next_page(request),
    }
    return render(request, "registration/two_factor_setup.html", context)


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: the code the person's authenticator app shows now."""
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.two_factor_check(user=cast(User, request.user), code=form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next_page(request))
        form.add_error("code", _("This code is not the one the app shows now. Try the next one."))
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next_page(request)})


def _next_page(request: HttpRequest) -> str:
    """Where the person was going, if it is a page of this site; else home."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return wanted if wanted and safe else reverse("home")


class SignInView(LoginView):
    """Django's sign-in page; each sign-in with a password goes on the audit trail."""

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        services.sign_in_record(
            user=user, action=services.SIGN_IN, address=services.client_address(self.request)
        )
        return response


class SignOutView(LogoutView):
    """Django's sign-out, which also tells the browser to delete what it keeps for working offline:
    stored pages and unsent changes (a shared tablet must not keep the last user's findings). The
    page asks before signing out while changes wait to be sent (static/js/offline.js)."""

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response


@require_GET
@never_cache
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from the root so that it may look after every page; browsers fetch it again on each
    visit, so it reads no rows: its assets and their version are known without the database."""
    response = render(request, "offline/sw.js", offline.worker_context(), content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def web_manifest(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(
        offline.manifest(get_language(), get_language_bidi()), content_type="application/manifest+json"
    )
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
def offline_page(request: HttpRequest) -> HttpResponse:
    """What the service worker shows for a page it has not kept: it names nobody and nothing."""
    return render(request, "offline/offline.html")
