"""The buyers' API (/api/v1/buyer/): the same selectors as the portal. Throttled with the
"buyer" scope (``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from betterwork.middleware import principal_of
from betterwork.permissions import Principal
from buyers import selectors


class BuyerClusterOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    points_assessed = serializers.IntegerField()
    points_non_compliant = serializers.IntegerField()


class BuyerPlanOutput(serializers.Serializer):
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    verified = serializers.IntegerField()
    overdue = serializers.IntegerField()


class BuyerFactoryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    programme = serializers.CharField(help_text="The programme's code.")
    region = serializers.CharField()
    country = serializers.CharField()
    consent = serializers.ChoiceField(
        choices=["granted", "awaiting"], help_text='"awaiting": nothing but name and location is shown.'
    )
    status = serializers.ChoiceField(
        choices=list(selectors.STATUSES),
        help_text='"shared": a cycle is readable now; "not_active": consented, no subscription runs today.',
    )
    latest_cycle = serializers.IntegerField(allow_null=True)
    clusters = BuyerClusterOutput(
        many=True, help_text="Non-compliance of the latest readable published assessment."
    )
    plan = BuyerPlanOutput(allow_null=True)
    new_reports = serializers.IntegerField(help_text="Reports made ready in the last 30 days.")


def factory_data(row: selectors.FactoryRow) -> dict[str, Any]:
    factory = row.factory
    data: dict[str, Any] = {
        "id": factory.pk,
        "name": factory.name,
        "programme": factory.programme.code,
        "region": factory.region,
        "country": factory.programme.country,
        "consent": "granted" if row.consented else "awaiting",
        "status": row.status,
        "latest_cycle": None,
        "clusters": [],
        "plan": None,
        "new_reports": 0,
    }
    if row.readable_cycles:
        data |= {
            "latest_cycle": row.latest_cycle,
            "clusters": [
                {
                    "code": share.cluster.code,
                    "name": str(share.cluster),
                    "points_assessed": share.points_assessed,
                    "points_non_compliant": share.points_non_compliant,
                }
                for share in row.clusters
            ],
            "plan": row.plan,
            "new_reports": row.new_reports,
        }
    return data


def _buyer(request: Request) -> Principal:
    principal = principal_of(request)
    if not principal.buyer_ids():
        raise Http404
    return principal


class BuyerAPIView(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "buyer"


class BuyerFactoryList(BuyerAPIView):
    @extend_schema(
        responses=BuyerFactoryOutput(many=True),
        parameters=[
            OpenApiParameter("programme", str, description="A programme's code."),
            OpenApiParameter("status", str, enum=list(selectors.STATUSES)),
            OpenApiParameter(
                "cluster", str, description="A cluster's code: only factories non-compliant in it."
            ),
            OpenApiParameter("new", bool, description="Only factories with new reports."),
        ],
    )
    def get(self, request: Request) -> Response:
        """The buyer's factories across programmes (live subscriptions), with what it may read."""
        rows = selectors.filter_factories(
            selectors.buyer_factories(principal=_buyer(request)),
            programme=request.query_params.get("programme", ""),
            status=request.query_params.get("status", ""),
            cluster=request.query_params.get("cluster", ""),
            new=request.query_params.get("new", "") in ("1", "true"),
        )
        return Response(BuyerFactoryOutput([factory_data(r) for r in rows], many=True).data)


class BuyerJobOutput(serializers.Serializer):
    id = serializers.IntegerField()
    language = serializers.CharField()
    finished_at = serializers.DateTimeField()
    sha256 = serializers.CharField()
    download = serializers.URLField()


class BuyerReportOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[selectors.ASSESSMENT_KIND, selectors.PROGRESS_KIND])
    target = serializers.IntegerField(help_text="The assessment's or progress report's id.")
    cycle = serializers.IntegerField()
    number = serializers.IntegerField(allow_null=True, help_text="The progress report's number.")
    jobs = BuyerJobOutput(many=True, help_text="Ready PDFs, one per language.")


class BuyerFactoryReportsOutput(serializers.Serializer):
    factory = BuyerFactoryOutput()
    reports = BuyerReportOutput(many=True)


class BuyerFactoryReports(BuyerAPIView):
    @extend_schema(responses=BuyerFactoryReportsOutput)
    def get(self, request: Request, factory_id: int) -> Response:
        """A factory's reports the buyer may read now, with their PDFs' download URLs (each
        download is checked again and logged). Without the factory's consent: no reports."""
        principal = _buyer(request)
        factory, consented, cycles = selectors.access_buyer_factory(
            principal=principal, factory_id=factory_id
        )
        code = factory.programme.code
        reports = selectors.readable_report_jobs(
            cycles=selectors.buyer_factory_reports(factory=factory, cycles=cycles)
        )
        for report in reports:
            report["jobs"] = [
                {
                    "id": job.pk,
                    "language": job.language,
                    "finished_at": job.finished_at,
                    "sha256": job.sha256,
                    "download": reverse(
                        "api-report-download", kwargs={"programme_code": code, "pk": job.pk}, request=request
                    ),
                }
                for job in report["jobs"]
            ]
        row = selectors.FactoryRow(factory=factory, consented=consented, cycles=cycles, readable_cycles=[])
        summary = factory_data(row) | {"latest_cycle": max(cycles) if cycles else None}
        return Response(BuyerFactoryReportsOutput({"factory": summary, "reports": reports}).data)
