"""Filters of assessment lists (API), with django-filter."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from assessments.models import Assessment, AssessmentStatus


class AssessmentFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=AssessmentStatus.choices)
    factory = django_filters.NumberFilter(label=_("Factory"), field_name="factory_id")
    cycle = django_filters.NumberFilter(label=_("Cycle"))
    round = django_filters.NumberFilter(label=_("Round"), field_name="round_id")

    class Meta:
        model = Assessment
        fields = ["status", "factory", "cycle", "round"]
