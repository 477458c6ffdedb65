"""Spreadsheet imports over the API: the same two steps as the pages, for any kind of import.

    POST {prefix}/imports/                 a file (multipart, field "file"): checked, never written;
                                           201 with the run: its errors, or its plan
    GET  {prefix}/imports/<id>/            the run as it stands
    POST {prefix}/imports/<id>/apply/      {"decisions": {"<row>": "<record id>" | "new"}}: imported
                                           whole (200); for a large file, sent to a worker (202:
                                           read the run until it is no longer "applying"); or
                                           refused: 400 (waits for choices, or was
                                           applied or rejected already), 409 (the data changed: the
                                           run carries the new plan to confirm), 422 (rejected now,
                                           with its errors)

An app wires an import with ``import_urls(make_importer, allowed, name)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from betterwork.imports import (
    Importer,
    PlanChanged,
    applies_in_background,
    import_apply,
    import_apply_later,
    import_preview,
    import_run_for,
)
from betterwork.middleware import principal_of, programme_of
from betterwork.models import ImportRun, Programme
from betterwork.permissions import Principal

MakeImporter = Callable[[Programme, Mapping[int, str]], Importer]
Allowed = Callable[[Principal, int], bool]


class ImportRunOutput(serializers.ModelSerializer):
    class Meta:
        model = ImportRun
        fields = [
            "id",
            "kind",
            "filename",
            "sha256",
            "status",
            "row_count",
            "errors",
            "plan",
            "summary",
            "created_at",
            "applied_at",
            "notice",
        ]
        read_only_fields = fields


class ImportApplyInput(serializers.Serializer):
    decisions = serializers.DictField(
        child=serializers.CharField(max_length=32),
        required=False,
        help_text='For rows the plan marks "choose": the row number → a candidate\'s id, or "new".',
    )

    def validate_decisions(self, value: dict[str, str]) -> dict[int, str]:
        if any(not str(row).isdigit() for row in value):
            raise serializers.ValidationError(_("Give row numbers as the keys."))
        return {int(row): choice for row, choice in value.items()}


class _ImportView(APIView):
    make_importer: MakeImporter | None = None
    allowed: Allowed | None = None

    def _context(
        self, request: Request, decisions: Mapping[int, str] | None = None
    ) -> tuple[Any, Any, Importer]:
        programme, principal = programme_of(request), principal_of(request)
        assert self.allowed is not None and self.make_importer is not None
        if not self.allowed(principal, programme.pk):
            raise exceptions.NotFound
        return programme, principal, self.make_importer(programme, decisions or {})

    def _run(self, importer: Importer, programme: Programme, run_id: int) -> ImportRun:
        run = import_run_for(run_id=run_id, kind=importer.kind, target_id=importer.target_id(programme))
        if run is None:
            raise exceptions.NotFound
        return run


class ImportCreate(_ImportView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Check a spreadsheet to import (nothing is written)",
        request={"multipart/form-data": inline_serializer("ImportUpload", {"file": serializers.FileField()})},
        responses={201: ImportRunOutput},
    )
    def post(self, request: Request, programme_code: str) -> Response:
        programme, principal, importer = self._context(request)
        upload = request.FILES.get("file")
        if upload is None:
            raise exceptions.ValidationError(
                {"file": [_("Send the spreadsheet as the multipart field “file”.")]}
            )
        if upload.size > importer.max_bytes:
            raise exceptions.ValidationError(
                {
                    "file": [
                        _("This file is larger than %(max)s MB. Split it into smaller files.")
                        % {"max": importer.max_bytes // (1024 * 1024)}
                    ]
                }
            )
        run = import_preview(
            actor=principal,
            programme=programme,
            importer=importer,
            target=programme,
            content=upload,
            filename=upload.name or "",
        )
        return Response(ImportRunOutput(run).data, status=status.HTTP_201_CREATED)


class ImportDetail(_ImportView):
    @extend_schema(summary="A spreadsheet import as it stands", responses=ImportRunOutput)
    def get(self, request: Request, programme_code: str, run_id: int) -> Response:
        programme, _principal, importer = self._context(request)
        return Response(ImportRunOutput(self._run(importer, programme, run_id)).data)


class ImportApply(_ImportView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Import a checked spreadsheet, whole or not at all",
        request=ImportApplyInput,
        responses={200: ImportRunOutput, 202: ImportRunOutput, 409: ImportRunOutput, 422: ImportRunOutput},
    )
    def post(self, request: Request, programme_code: str, run_id: int) -> Response:
        data = ImportApplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        programme, principal, importer = self._context(request, data.validated_data.get("decisions"))
        run = self._run(importer, programme, run_id)
        try:
            if applies_in_background(importer, run):
                decisions = data.validated_data.get("decisions") or {}
                run = import_apply_later(
                    actor=principal, run=run, importer=importer, target=programme, decisions=decisions
                )
                return Response(ImportRunOutput(run).data, status=status.HTTP_202_ACCEPTED)
            run = import_apply(actor=principal, run=run, importer=importer, target=programme)
        except PermissionDenied as error:
            raise exceptions.NotFound from error
        except PlanChanged as error:
            changed = self._run(importer, programme, run_id)
            return Response(
                {"detail": " ".join(error.messages), **ImportRunOutput(changed).data},
                status=status.HTTP_409_CONFLICT,
            )
        except ValidationError as error:
            raise exceptions.ValidationError({"detail": error.messages}) from error
        code = (
            status.HTTP_200_OK
            if run.status == ImportRun.Status.APPLIED
            else status.HTTP_422_UNPROCESSABLE_ENTITY
        )
        return Response(ImportRunOutput(run).data, status=code)


def import_urls(make_importer: MakeImporter, allowed: Allowed, name: str) -> list[URLPattern]:
    """The three routes of one kind of import, under the app's API prefix."""
    kwargs = {"make_importer": make_importer, "allowed": allowed}
    return [
        path("imports/", ImportCreate.as_view(**kwargs), name=f"api-{name}-import"),
        path("imports/<int:run_id>/", ImportDetail.as_view(**kwargs), name=f"api-{name}-import-detail"),
        path("imports/<int:run_id>/apply/", ImportApply.as_view(**kwargs), name=f"api-{name}-import-apply"),
    ]
