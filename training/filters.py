"""Filters of training lists (API), with django-filter."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from training import selectors
from training.models import Session


class SessionFilter(django_filters.FilterSet):
    course = extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(label=_("Course"), field_name="course_id")
    )
    factory = django_filters.NumberFilter(
        label=_("Factory (sessions held for it or attended by its people)"), method="with_factory"
    )
    starts_after = django_filters.DateFilter(
        label=_("First day on or after"), field_name="starts_on", lookup_expr="gte"
    )
    starts_before = django_filters.DateFilter(
        label=_("First day on or before"), field_name="starts_on", lookup_expr="lte"
    )
    cancelled = django_filters.BooleanFilter(label=_("Cancelled"), method="by_cancelled")

    class Meta:
        model = Session
        fields = ["course", "factory", "starts_after", "starts_before", "cancelled"]

    def with_factory(self, queryset: QuerySet[Session], name: str, value: int) -> QuerySet[Session]:
        return selectors.sessions_with_factory(queryset, factory_id=int(value))

    def by_cancelled(self, queryset: QuerySet[Session], name: str, value: bool) -> QuerySet[Session]:
        return queryset.filter(cancelled_at__isnull=not value)
