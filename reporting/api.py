"""Report PDFs over the API: ask for one (202 with its job), poll the job, download the file."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from betterwork.files import stored_download
from betterwork.middleware import principal_of, programme_of
from reporting import selectors, services
from reporting.models import JobStatus, ReportJob


class ReportRequestInput(serializers.Serializer):
    kind = serializers.CharField(help_text='"assessment": the assessment report.')
    target = serializers.IntegerField(help_text="What the report is about: the assessment's id.")
    language = serializers.CharField(help_text="English or one of the programme's languages.")
    retry = serializers.BooleanField(default=False, help_text="Queue a failed job again.")


class JobOutput(serializers.ModelSerializer):
    target = serializers.IntegerField(source="target_id")
    download = serializers.SerializerMethodField()

    class Meta:
        model = ReportJob
        fields = [
            "id",
            "kind",
            "target",
            "language",
            "status",
            "progress",
            "message",
            "pages",
            "sha256",
            "created_at",
            "finished_at",
            "download",
        ]

    def get_download(self, job: ReportJob) -> str | None:
        if job.status != JobStatus.READY:
            return None
        request = self.context["request"]
        return reverse(
            "api-report-download",
            kwargs={"programme_code": request.programme.code, "pk": job.pk},
            request=request,
        )


class ReportRequest(APIView):
    @extend_schema(request=ReportRequestInput, responses={202: JobOutput, 200: JobOutput})
    def post(self, request: Request, programme_code: str) -> Response:
        """Ask for a report: 202 with a new job, or 200 with the job that already holds it."""
        data = ReportRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        principal, programme = principal_of(request), programme_of(request)
        selectors.access_report(
            principal=principal,
            programme=programme,
            kind_name=data.validated_data["kind"],
            target_id=data.validated_data["target"],
        )
        try:
            job, sent = services.report_request(
                actor=principal,
                kind_name=data.validated_data["kind"],
                target_id=data.validated_data["target"],
                language=data.validated_data["language"],
                retry=data.validated_data["retry"],
            )
        except PermissionDenied as error:
            raise Http404 from error
        code = status.HTTP_202_ACCEPTED if sent else status.HTTP_200_OK
        return Response(JobOutput(job, context={"request": request}).data, status=code)


class ReportJobDetail(APIView):
    @extend_schema(responses=JobOutput)
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        _kind, _target, job = selectors.access_job(
            principal=principal_of(request), programme=programme_of(request), job_id=pk
        )
        return Response(JobOutput(job, context={"request": request}).data)


class ReportDownload(APIView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(description="The report's PDF.")})
    def get(self, request: Request, programme_code: str, pk: int) -> Any:
        kind, target, job = selectors.access_job(
            principal=principal_of(request), programme=programme_of(request), job_id=pk
        )
        if job.status != JobStatus.READY:
            raise Http404
        services.report_downloaded(actor=principal_of(request), job=job)
        return stored_download(
            job.file, filename=kind.filename(target, job.language), content_type="application/pdf"
        )
