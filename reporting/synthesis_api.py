"""Published synthesis reports as open data: a public, read-only endpoint (no sign-in, no
session) listing a programme's published reports and giving each one's frozen figures."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from reporting import synthesis, transparency
from reporting.models import SynthesisKind, SynthesisReport, SynthesisScope
from reporting.transparency_views import PUBLIC_MAX_AGE

TEXTS_HELP = "By language code: the text in each language the compliance tool has it in."


def texts() -> serializers.DictField:
    return serializers.DictField(child=serializers.CharField(), help_text=TEXTS_HELP)


class SynthesisRateOutput(serializers.Serializer):
    assessed = serializers.IntegerField(help_text="Factories answering compliant or non-compliant.")
    non_compliant = serializers.IntegerField(help_text="Factories found non-compliant.")
    share = serializers.FloatField(
        allow_null=True, help_text="non_compliant / assessed; null when none assessed."
    )


class SynthesisPointOutput(SynthesisRateOutput):
    code = serializers.CharField()
    name = texts()


class SynthesisClusterOutput(serializers.Serializer):
    code = serializers.CharField()
    name = texts()
    share = serializers.FloatField(allow_null=True, help_text="The mean of its assessed points' shares.")
    points = SynthesisPointOutput(many=True)


class SynthesisIssueOutput(SynthesisRateOutput):
    key = serializers.CharField(help_text="The question's key, stable across versions of the tool.")
    text = texts()
    point = serializers.CharField(help_text="The compliance point's code.")
    point_name = texts()


class SynthesisTrendClusterOutput(serializers.Serializer):
    code = serializers.CharField()
    name = texts()
    shares = serializers.ListField(
        child=serializers.FloatField(allow_null=True),
        help_text="The cluster's share in each cycle of `cycles`.",
    )


class SynthesisTrendsOutput(serializers.Serializer):
    cycles = serializers.ListField(child=serializers.IntegerField())
    clusters = SynthesisTrendClusterOutput(many=True)


class SynthesisThemeQuestionOutput(SynthesisIssueOutput):
    cluster = serializers.CharField(help_text="The cluster's code.")
    per_cycle = serializers.ListField(
        child=SynthesisRateOutput(allow_null=True),
        help_text="Its rate in each cycle of `cycles` (null: not assessed).",
    )


class SynthesisThemeOutput(serializers.Serializer):
    cycles = serializers.ListField(child=serializers.IntegerField())
    questions = SynthesisThemeQuestionOutput(many=True)


class SynthesisScopeOutput(serializers.Serializer):
    by = serializers.ChoiceField(choices=SynthesisScope.choices)
    cycles = serializers.ListField(
        child=serializers.IntegerField(), help_text="The cycles counted (by cycles)."
    )
    year_from = serializers.IntegerField(
        allow_null=True, help_text="First year of the visits counted (by years)."
    )
    year_to = serializers.IntegerField(
        allow_null=True, help_text="Last year of the visits counted (by years)."
    )
    region = serializers.CharField(help_text="Only factories of this region or zone (empty: all).")
    sector = serializers.CharField()
    size = serializers.CharField()
    union_present = serializers.BooleanField(allow_null=True)
    theme = serializers.ListField(child=serializers.CharField(), help_text="Question keys of the theme.")


class SynthesisCountedOutput(serializers.Serializer):
    factories = serializers.IntegerField(help_text="Distinct factories counted.")
    assessments = serializers.IntegerField(help_text="Final assessments counted: one per factory and cycle.")
    first_year = serializers.IntegerField(allow_null=True)
    last_year = serializers.IntegerField(allow_null=True)
    per_cycle = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()), help_text="[cycle, factories] pairs."
    )


class SynthesisSnapshotOutput(serializers.Serializer):
    format = serializers.IntegerField()
    computed_at = serializers.DateTimeField(
        help_text="When the figures were counted (frozen at publication)."
    )
    scope = SynthesisScopeOutput()
    counted = SynthesisCountedOutput()
    clusters = SynthesisClusterOutput(many=True, help_text="Non-compliance by cluster and compliance point.")
    top = SynthesisIssueOutput(many=True, help_text="The ten most common issues.")
    trends = SynthesisTrendsOutput(help_text="Each cluster's share across cycles.")
    theme = SynthesisThemeOutput(help_text="Each question of the theme, overall and per cycle.")


class SynthesisSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=SynthesisKind.choices)
    published_at = serializers.DateTimeField()
    factories = serializers.IntegerField(help_text="Distinct factories counted.")
    page = serializers.CharField(help_text="The report's public page.")
    csv = serializers.CharField(help_text="Its tables as CSV.")
    detail = serializers.CharField(help_text="Its figures in this API.")


class SynthesisOutput(SynthesisSummaryOutput):
    introduction = serializers.CharField()
    pdfs = serializers.DictField(child=serializers.CharField(), help_text="Ready PDFs, by language code.")
    snapshot = SynthesisSnapshotOutput(help_text="Everything the report shows, frozen when it was published.")


def _summary(report: SynthesisReport, code: str, factories: int) -> dict[str, Any]:
    pk = report.pk
    return {
        "id": pk,
        "title": report.title,
        "kind": report.kind,
        "published_at": report.published_at,
        "factories": factories,
        "page": reverse("public:synthesis", kwargs={"code": code, "pk": pk}),
        "csv": reverse("public:synthesis_csv", kwargs={"code": code, "pk": pk}),
        "detail": reverse("api-public-synthesis", kwargs={"code": code, "pk": pk}),
    }


class PublicCache:
    """The same answer for everyone: cacheable for a few minutes, varying with the language."""

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if response.status_code == 200:
            patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response


CODE = OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="Programme code")


class SynthesisPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class PublicSynthesisList(PublicCache, generics.ListAPIView):
    """A programme's published synthesis reports, newest first."""

    authentication_classes: list[Any] = []  # the same answer for everyone: no session, no token
    permission_classes = [AllowAny]
    serializer_class = SynthesisSummaryOutput
    pagination_class = SynthesisPagination
    filter_backends: list[Any] = []

    def get_queryset(self) -> list[dict[str, Any]]:  # type: ignore[override]
        programme = transparency.public_programme(self.kwargs["code"])
        with transparency.public_reading(programme):
            reports = synthesis.published_reports(programme=programme)
        return [
            _summary(report, programme.code, report.factories_counted)  # type: ignore[attr-defined]
            for report in reports
        ]

    @extend_schema(summary="The published synthesis reports of a programme", parameters=[CODE])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class PublicSynthesisDetail(PublicCache, generics.GenericAPIView):
    """One published synthesis report: its words and its figures, frozen when it was published."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    serializer_class = SynthesisOutput

    @extend_schema(
        summary="A published synthesis report and its figures",
        parameters=[CODE, OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    def get(self, request: Request, code: str, pk: int) -> Response:
        programme = transparency.public_programme(code)
        with transparency.public_reading(programme):
            report = synthesis.public_report(programme=programme, report_id=pk)
            pdfs = synthesis.ready_pdfs(report)
        data = {
            **_summary(report, programme.code, (report.snapshot or {})["counted"]["factories"]),
            "introduction": report.introduction,
            "pdfs": {
                language: reverse(
                    "public:synthesis_pdf",
                    kwargs={"code": programme.code, "pk": report.pk, "language": language},
                )
                for language in pdfs
            },
            "snapshot": report.snapshot,
        }
        return Response(self.get_serializer(data).data)
