"""Sets the request's programme scope from the principal's grants and the URL.

Pages and endpoints under ``/p/<code>/`` are scoped to that programme, and only when the
principal holds a grant there (else 404: another programme's pages do not exist for them).
Every other route is scoped to all of the principal's granted programmes. The scope is reset
in ``finally`` so nothing carries over to the next request served by this thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from betterwork import audit, auth_cache, selectors, services, tenancy
from betterwork.models import Programme
from betterwork.permissions import Principal

logger = logging.getLogger(__name__)


def _api_token_user(request: HttpRequest) -> object | None:
    """Token-authenticated API calls: the user is known before the view, so is the scope.

    Only under /api/: pages are for browser sessions (with their CSRF protection). The token's
    user comes through the cache (``betterwork.auth_cache``), like a session's.
    """
    if not request.path_info.startswith("/api/"):
        return None
    header = request.headers.get("Authorization", "")
    if not header.startswith("Token "):
        return None
    parts = header.split()
    if len(parts) != 2:
        return None
    return auth_cache.token_user(parts[1])


def _provided_scope(principal: Principal) -> frozenset[int]:
    """Programmes that apps grant beyond role grants (a buyer's live, consented subscriptions),
    named in ``settings.SCOPE_PROVIDERS`` so that this module imports no app."""
    ids: frozenset[int] = frozenset()
    for path in settings.SCOPE_PROVIDERS:
        ids |= import_string(path)(principal)
    return ids


class ScopeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token_user = _api_token_user(request)
        if token_user is not None:
            request.user = token_user  # type: ignore[assignment]
            request.token_authenticated = True  # type: ignore[attr-defined]
        user = getattr(request, "user", AnonymousUser())
        principal = auth_cache.principal_for(user) if user.is_authenticated else Principal.anonymous()  # type: ignore[arg-type]
        request.principal = principal  # type: ignore[attr-defined]
        request.programme = None  # type: ignore[attr-defined]

        programme_ids = self._scope_for(request, principal)
        with tenancy.scope(programme_ids):
            return self.get_response(request)

    def _scope_for(self, request: HttpRequest, principal: Principal) -> frozenset[int]:
        if not principal.is_authenticated:
            return frozenset()
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
        code = match.kwargs.get("programme_code") if match else None
        if code is None:
            if principal.global_everywhere:
                return frozenset(Programme.objects.values_list("id", flat=True))
            return principal.granted_programme_ids(()) | _provided_scope(principal)
        programme = selectors.programme_by_code(code)
        if programme is None or not (
            principal.roles_in(programme.pk) or programme.pk in _provided_scope(principal)
        ):
            raise Http404(_("No such programme."))
        request.programme = programme  # type: ignore[attr-defined]
        return frozenset({programme.pk})


def principal_of(request: HttpRequest | Any) -> Principal:
    """The acting principal ScopeMiddleware attached to the request."""
    principal: Principal = getattr(request, "principal")  # noqa: B009 - set by ScopeMiddleware
    return principal


def programme_of(request: HttpRequest | Any) -> Programme:
    """The programme of a /p/<code>/ route (the middleware already checked the grant)."""
    programme: Programme | None = getattr(request, "programme", None)
    if programme is None:
        raise Http404
    return programme


class RefusalAuditMiddleware:
    """Puts each refusal of a signed-in person on the audit trail (``audit.record_refusal``): in
    the programme of the address when they work there, else in the programmes they work in (a
    programme's manager sees their people trying another programme's addresses)."""

    REFUSALS = (403, 404)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (
            response.status_code in self.REFUSALS
            and user is not None
            and user.is_authenticated
            and _is_an_address(request.path_info)
        ):
            programme = getattr(request, "programme", None)
            principal = getattr(request, "principal", None)
            if programme is not None:
                ids = frozenset({programme.pk})
            elif principal is not None and not principal.global_everywhere:
                ids = principal.granted_programme_ids(())
            else:
                ids = frozenset()
            try:
                audit.record_refusal(
                    user=user,  # type: ignore[arg-type]
                    programme_ids=ids,
                    method=request.method or "",
                    path=request.get_full_path(),
                    status=response.status_code,
                )
            except DatabaseError:
                # The refusal stands whether or not it could be written down.
                logger.exception("could not record a refusal of %s %s", request.method, request.path)
        return response


def _is_an_address(path: str) -> bool:
    """Whether the path is one of the platform's addresses: a mistyped one, or the browser asking
    for a favicon, is not a refusal."""
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


class UserLanguageMiddleware:
    """Signed-in users see their own language unless they chose another with the switcher."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
            and user.language in dict(settings.LANGUAGES)
        ):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class TwoFactorMiddleware:
    """A signed-in person whose session has not given a code yet goes to give one first: to
    the code page if they set up an authenticator, else, where their role requires one, to
    setting it up. Signing in and out, languages, static files and the public pages stay open."""

    OPEN = (
        "/accounts/login/",
        "/accounts/logout/",
        "/accounts/password_reset/",
        "/accounts/reset/",
        "/accounts/two-step/",
        "/i18n/",
        "/static/",
        "/healthz",
        "/public/",
        "/sw.js",
        "/manifest.webmanifest",
        "/offline/",
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        # django_otp's middleware gives the user ``is_verified``: whether this session gave a code.
        verified = getattr(user, "is_verified", lambda: False)
        if user.is_authenticated and not request.path_info.startswith(self.OPEN) and not verified():
            if user.two_factor_enabled:
                return _to("two_factor_verify", request)
            if services.two_factor_required(user):
                return _to("two_factor_setup", request)
        return self.get_response(request)


def _to(name: str, request: HttpRequest) -> HttpResponse:
    url = reverse(name)
    if request.method == "GET":
        url += "?" + urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(url)


def _refusal(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """A short answer that needs no database: JSON like the API's errors under /api/, else a
    plain page (the navigation of the usual pages reads the database)."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return HttpResponse(render_to_string("503.html", {"message": message}), status=status)


class RequestSizeMiddleware:
    """Refuses a request larger than any upload the platform takes (``UPLOAD_MAX_REQUEST_BYTES``)
    before anything reads it: Django would otherwise write a body of any size to a temporary
    file before a form could say that the file is too large. Smaller uploads over a form's own
    limit still get that form's message."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.UPLOAD_MAX_REQUEST_BYTES:
            return _refusal(request, _("This upload is too large. Go back and choose a smaller file."), 413)
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A request whose database connection broke (a restart, a failover, a lost network) answers
    503 "try again" instead of an error page. Its transaction never committed (ATOMIC_REQUESTS),
    so nothing of it was saved, and trying again is all it takes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.warning("database unavailable during %s %s: %s", request.method, request.path, exception)
        response = _refusal(
            request, _("The database could not be reached; nothing was saved. Please try again."), 503
        )
        response["Retry-After"] = "5"
        return response
