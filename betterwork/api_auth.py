"""API authentication, kept apart from the API views so DRF's settings can import it early."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request


class ScopeTokenAuthentication(BaseAuthentication):
    """The user ScopeMiddleware already authenticated from an API token (no second lookup).

    Token requests carry no cookies, so no CSRF check applies; session requests fall through
    to SessionAuthentication, which enforces CSRF.
    """

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        django_request = request._request
        if getattr(django_request, "token_authenticated", False):
            return (django_request.user, None)
        if django_request.headers.get("Authorization", "").startswith("Token "):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return None

    def authenticate_header(self, request: Request) -> str:
        return "Token"
