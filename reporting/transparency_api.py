"""The transparency list as open data: a public, read-only endpoint (no sign-in, no session)."""

from __future__ import annotations

from typing import Any

from django.utils.cache import patch_cache_control, patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from reporting import transparency
from reporting.transparency import STATUSES, Entry
from reporting.transparency_views import PUBLIC_MAX_AGE


class IssueOutput(serializers.Serializer):
    key = serializers.CharField(help_text="The question's key, stable across versions of the tool.")
    question = serializers.CharField(help_text="The question, in the language asked for (else English).")
    point_code = serializers.CharField()
    point = serializers.CharField(help_text="The compliance point.")
    consecutive_assessments = serializers.IntegerField(
        source="cycles", help_text="Consecutive final assessments non-compliant on it, this one included."
    )
    remediated = serializers.BooleanField(
        help_text="The factory's newer report, still in its notice period, found it compliant."
    )


class ResponseOutput(serializers.Serializer):
    text = serializers.CharField()
    updated_on = serializers.DateField()


class EntryOutput(serializers.Serializer):
    public_id = serializers.CharField(help_text="The factory's public id.")
    name = serializers.CharField()
    region = serializers.CharField()
    cycle = serializers.IntegerField(help_text="The assessment's cycle (counted per factory).")
    visited_on = serializers.DateField(allow_null=True, help_text="First day of the assessment visit.")
    reported_on = serializers.DateField(help_text="The day the report became final.")
    listed_from = serializers.DateField(help_text="The day the entry appeared (after the notice period).")
    status = serializers.ChoiceField(choices=list(STATUSES))
    issues = IssueOutput(many=True, help_text="Publicly reported issues named by the programme's rules.")
    replaced_on = serializers.DateField(
        allow_null=True, help_text="When a newer final report will replace this entry, if one exists."
    )
    response = ResponseOutput(allow_null=True, help_text="The factory's published response.")


class TransparencyPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class PublicTransparencyList(generics.ListAPIView):
    """Factories of a programme and their compliance on the publicly reported questions of their
    latest final assessment, once the programme's notice period has passed."""

    authentication_classes: list[Any] = []  # the same answer for everyone: no session, no token
    permission_classes = [AllowAny]
    serializer_class = EntryOutput
    pagination_class = TransparencyPagination
    filter_backends: list[Any] = []

    def get_queryset(self) -> list[Entry]:  # type: ignore[override]
        programme = transparency.public_programme(self.kwargs["code"])
        status = self.request.query_params.get("status", "")
        with transparency.public_reading(programme):
            return transparency.transparency_list(
                programme=programme,
                search=self.request.query_params.get("search", "")[:100],
                status=status if status in STATUSES else "",
            )

    @extend_schema(
        summary="The public transparency list of a programme",
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="Programme code"),
            OpenApiParameter("search", OpenApiTypes.STR, description="Factory name or public id"),
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(STATUSES)),
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code == 200:
            patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response
