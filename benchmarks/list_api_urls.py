"""The platform's URLs plus the naive twins of the list APIs for ``benchmarks.list_api``: the same
views, scope and serializers, paginated by OFFSET (DRF's LimitOffsetPagination, with its COUNT)
instead of by cursor. Used only by the benchmark, which makes it the root URLconf of its run."""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from rest_framework.pagination import LimitOffsetPagination

from assessments.api import AssessmentListCreate, AssessmentPagination
from factories.api import FactoryListCreate, FactoryPagination


class OffsetPagination(LimitOffsetPagination):
    default_limit = 50


class FactoryListByOffset(FactoryListCreate):
    pagination_class = OffsetPagination

    def get_queryset(self) -> Any:
        return super().get_queryset().order_by(*FactoryPagination.ordering)


class AssessmentListByOffset(AssessmentListCreate):
    pagination_class = OffsetPagination

    def get_queryset(self) -> Any:
        return super().get_queryset().order_by(*AssessmentPagination.ordering)


urlpatterns = [
    path("api/v1/p/<str:programme_code>/by-offset/factories/", FactoryListByOffset.as_view()),
    path("api/v1/p/<str:programme_code>/by-offset/assessments/", AssessmentListByOffset.as_view()),
    path("", include("betterwork.urls")),
]
