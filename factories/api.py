"""The factory registry over the API: the same selectors and services as the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from betterwork import permissions
from betterwork import selectors as people_selectors
from betterwork.middleware import principal_of, programme_of
from factories import selectors, services
from factories.filters import FactoryFilter
from factories.models import Factory
from factories.services import EDITABLE_FIELDS


class FactoryOutput(serializers.ModelSerializer):
    programme = serializers.CharField(source="programme.code", read_only=True)
    workers_total = serializers.IntegerField(read_only=True)

    class Meta:
        model = Factory
        fields = [
            "id",
            "public_id",
            "programme",
            *EDITABLE_FIELDS,
            "workers_total",
            "enrolment_status",
            "status_changed_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class FactoryInput(serializers.ModelSerializer):
    class Meta:
        model = Factory
        fields = list(EDITABLE_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        programme = self.context.get("programme")
        if programme is not None:  # the schema generator builds it without one
            advisor = self.fields["designated_advisor"]
            advisor.queryset = people_selectors.programme_staff(programme=programme)  # type: ignore[attr-defined]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        current = self.instance
        female = attrs.get("workers_female", getattr(current, "workers_female", 0))
        male = attrs.get("workers_male", getattr(current, "workers_male", 0))
        migrant = attrs.get("workers_migrant", getattr(current, "workers_migrant", 0))
        if migrant > female + male:
            raise serializers.ValidationError(
                {
                    "workers_migrant": _(
                        "Migrant workers are counted within the workforce: at most %(total)s here."
                    )
                    % {"total": female + male}
                }
            )
        return attrs


class FactoryPagination(CursorPagination):
    ordering = ("name", "id")
    page_size = 50


class FactoryListCreate(generics.ListAPIView):
    """Factories of one programme: list with filters, and register new ones."""

    serializer_class = FactoryOutput
    filter_backends = [DjangoFilterBackend]
    filterset_class = FactoryFilter
    pagination_class = FactoryPagination

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no scope
            return QuerySet(model=Factory).none()
        programme = programme_of(self.request)
        principal = principal_of(self.request)
        if not permissions.can_list_factories(principal, programme.pk):
            raise Http404
        return selectors.factory_list(principal=principal, programme=programme).select_related("programme")

    @extend_schema(request=FactoryInput, responses={201: FactoryOutput})
    def post(self, request: Request, programme_code: str) -> Response:
        programme = programme_of(request)
        principal = principal_of(request)
        if not permissions.can_create_factory(principal, programme.pk):
            raise exceptions.PermissionDenied
        data = FactoryInput(data=request.data, context={"programme": programme})
        data.is_valid(raise_exception=True)
        factory = services.factory_create(actor=principal, programme=programme, data=data.validated_data)
        return Response(FactoryOutput(factory).data, status=status.HTTP_201_CREATED)


class FactoryDetail(APIView):
    """One factory: read it, or change it (programme staff)."""

    def _factory(self, request: Request, pk: int) -> Factory:
        return selectors.access_factory(
            principal=principal_of(request), factory_id=pk, programme=programme_of(request)
        )

    @extend_schema(responses=FactoryOutput)
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        return Response(FactoryOutput(self._factory(request, pk)).data)

    @extend_schema(request=FactoryInput, responses=FactoryOutput)
    def put(self, request: Request, programme_code: str, pk: int) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(request=FactoryInput, responses=FactoryOutput)
    def patch(self, request: Request, programme_code: str, pk: int) -> Response:
        return self._update(request, pk, partial=True)

    def _update(self, request: Request, pk: int, *, partial: bool) -> Response:
        factory = self._factory(request, pk)
        if not permissions.can_edit_factory(principal_of(request), factory):
            raise Http404
        data = FactoryInput(
            factory, data=request.data, partial=partial, context={"programme": factory.programme}
        )
        data.is_valid(raise_exception=True)
        principal = principal_of(request)
        updated = services.factory_update(actor=principal, factory=factory, data=data.validated_data)
        return Response(FactoryOutput(updated).data)
