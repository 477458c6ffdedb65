"""API plumbing shared by every app: authentication, errors, the docs page and /me."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.csp import CSP
from django.views import defaults
from django.views.decorators.csp import csp_override
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from betterwork import selectors, tenancy
from betterwork.models import RoleGrant, User


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Services raise Django's errors; the API answers them as 400 and 404, never 500."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A missing page under /api/ (no such route, no such programme) answers as the API's own 404s
    do, in JSON; any other, the page."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=404)
    return defaults.page_not_found(request, exception)


class GrantOutput(serializers.ModelSerializer):
    programme: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = RoleGrant
        fields = ["role", "programme", "factory", "buyer", "is_admin"]


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    language = serializers.CharField()
    grants = GrantOutput(many=True)


@extend_schema(responses=MeOutput, summary="The signed-in user and their role grants")
@api_view(["GET"])
def me(request: Request) -> Response:
    user: User = request.user  # type: ignore[assignment]
    grants = selectors.user_grants(user=user)
    return Response(
        MeOutput(
            {
                "id": user.pk,
                "email": user.email,
                "full_name": user.full_name,
                "language": user.language,
                "grants": grants,
            }  # type: ignore[union-attr]
        ).data
    )


# Redoc renders its styles from script: this one page allows inline styles, never inline scripts.
@csp_override(
    {
        **cast(dict[str, Any], settings.SECURE_CSP),
        "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
        "worker-src": [CSP.SELF, "blob:"],
    }
)
def docs(request: HttpRequest) -> HttpResponse:
    return render(request, "api/docs.html")


class ScopeFreeSchemaGenerator(SchemaGenerator):
    """Builds the OpenAPI schema with an empty programme scope: it describes, never reads, tenant data."""

    def get_schema(self, request: Any = None, public: bool = False) -> Any:
        with tenancy.scope(()):
            return super().get_schema(request=request, public=public)


class ScopeTokenScheme(OpenApiAuthenticationExtension):
    target_class = "betterwork.api_auth.ScopeTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Token-based authentication: "Token <key>".',
        }
