"""Filters of the factory registry, shared by the list page and the API."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from factories import selectors
from factories.models import EnrolmentStatus, Factory, FactoryType, Ownership, Sector

ORDERINGS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "workers": ("workers_total_db", "id"),
    "-workers": ("-workers_total_db", "-id"),
    "status": ("enrolment_status", "name", "id"),
    "public_id": ("public_id",),
}


class FactoryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    enrolment_status = django_filters.ChoiceFilter(label=_("Status"), choices=EnrolmentStatus.choices)
    sector = django_filters.ChoiceFilter(label=_("Sector"), choices=Sector.choices)
    factory_type = django_filters.ChoiceFilter(label=_("Type"), choices=FactoryType.choices)
    ownership = django_filters.ChoiceFilter(label=_("Ownership"), choices=Ownership.choices)
    region = django_filters.CharFilter(label=_("Region"), lookup_expr="iexact")
    union_present = django_filters.BooleanFilter(label=_("Union present"))

    class Meta:
        model = Factory
        fields = ["q", "enrolment_status", "sector", "factory_type", "ownership", "region", "union_present"]

    def search(self, queryset: QuerySet[Factory], name: str, value: str) -> QuerySet[Factory]:
        return selectors.factory_search(queryset, value)
