"""Read queries of the factory registry, scoped and with what their pages need joined."""

from __future__ import annotations

from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import Http404

from betterwork import permissions
from betterwork.models import Programme
from betterwork.permissions import Principal
from factories.models import EnrolmentChange, EnrolmentStatus, Factory


def factory_list(*, principal: Principal, programme: Programme) -> QuerySet[Factory]:
    """The registry of one programme as this principal may see it."""
    if not permissions.can_list_factories(principal, programme.pk):
        return Factory.objects.none()
    return (
        Factory.objects.filter(programme=programme)
        .select_related("designated_advisor")
        .annotate(workers_total_db=F("workers_female") + F("workers_male"))
    )


def factory_search(qs: QuerySet[Factory], text: str) -> QuerySet[Factory]:
    text = text.strip()
    if not text:
        return qs
    return qs.filter(
        Q(name__icontains=text)
        | Q(public_id__iexact=text)
        | Q(legacy_id__iexact=text)
        | Q(manufacturing_group__icontains=text)
        | Q(region__icontains=text)
    )


def access_factory(*, principal: Principal, factory_id: int, programme: Programme | None = None) -> Factory:
    """One factory if this principal may see it, else 404 (absent and forbidden look alike)."""
    qs = Factory.objects.select_related("programme", "designated_advisor")
    if programme is not None:
        qs = qs.filter(programme=programme)
    factory = qs.filter(pk=factory_id).first()
    if factory is None or not permissions.can_view_factory(principal, factory):
        raise Http404
    return factory


def factories_of_user(*, principal: Principal) -> QuerySet[Factory]:
    """The factories a factory user belongs to."""
    return Factory.objects.filter(pk__in=principal.factory_ids()).select_related("programme")


def factories_on_committee(*, principal: Principal) -> QuerySet[Factory]:
    """The factories whose committee this principal sits on (read-only members)."""
    ids = principal.committee_factory_ids()
    return Factory.objects.filter(pk__in=ids).select_related("programme") if ids else Factory.objects.none()


def enrolment_history(*, factory: Factory) -> QuerySet[EnrolmentChange]:
    return EnrolmentChange.objects.filter(factory=factory).select_related("changed_by")


def programme_summaries(*, programme_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per programme: factories by enrolment status, all factories and all workers, in one query."""
    rows = (
        Factory.objects.filter(programme_id__in=programme_ids)
        .values("programme_id", "enrolment_status")
        .annotate(factories=Count("id"), workers=Sum(F("workers_female") + F("workers_male")))
        .order_by()
    )
    summaries: dict[int, dict[str, int]] = {
        pid: {"factories": 0, "workers": 0, **dict.fromkeys(EnrolmentStatus.values, 0)}
        for pid in programme_ids
    }
    for row in rows:
        summary = summaries[row["programme_id"]]
        summary[row["enrolment_status"]] = row["factories"]
        summary["factories"] += row["factories"]
        summary["workers"] += row["workers"] or 0
    return summaries
