"""Read queries of advisory visits: a factory's visit log and the programme's list and figures.

Advisory visits are announced (unlike assessment visits), so a factory's own users read its
log. Lists prefetch advisors and linked plan items: a page costs the same few queries whatever
the number of visits on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import ExtractYear, TruncMonth
from django.http import Http404

from advisory.models import AdvisoryVisit, PlanItem, VisitAdvisor, VisitItem
from advisory.selectors import access_advisory_factory
from betterwork import permissions
from betterwork import selectors as people_selectors
from betterwork.models import Programme, User
from betterwork.permissions import Principal
from factories.models import Factory

JOINT = Q(with_labour_inspector=True) | Q(with_union=True)


def a_year_before(day: dt.date) -> dt.date:
    """The same day a year earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


# --- Access ---------------------------------------------------------------------------------


def access_visit_factory(*, principal: Principal, programme: Programme, factory_id: int) -> Factory:
    """A factory whose visit log this principal may read (its staff, its own users); else 404."""
    return access_advisory_factory(
        principal=principal, programme=programme, factory_id=factory_id, may=permissions.can_view_visits
    )


def access_visit(*, principal: Principal, programme: Programme, visit_id: int) -> AdvisoryVisit:
    """One visit of the programme the principal may read, with its factory; else 404."""
    visit = (
        with_people(AdvisoryVisit.objects.filter(programme=programme, pk=visit_id))
        .select_related("factory__programme")
        .first()
    )
    if visit is None or not permissions.can_view_visits(principal, visit.factory):
        raise Http404
    return visit


# --- Lists ----------------------------------------------------------------------------------


def with_people(visits: QuerySet[AdvisoryVisit]) -> QuerySet[AdvisoryVisit]:
    """Visits with their factory, advisors and linked plan items (two prefetch queries in all)."""
    return visits.select_related("factory", "created_by").prefetch_related(
        Prefetch(
            "advisor_links",
            queryset=VisitAdvisor.objects.select_related("user").order_by("user__full_name", "user_id"),
        ),
        Prefetch("item_links", queryset=VisitItem.objects.select_related("item__plan").order_by("item_id")),
    )


def factory_visits(*, factory: Factory) -> QuerySet[AdvisoryVisit]:
    """A factory's visits, newest first."""
    return with_people(AdvisoryVisit.objects.filter(factory=factory)).order_by("-visited_on", "-id")


def visit_counts(*, factory: Factory, today: dt.date) -> dict[str, int]:
    """A factory's visits this calendar year, in the last 12 months and in all, in one query."""
    return AdvisoryVisit.objects.filter(factory=factory).aggregate(
        total=Count("id"),
        this_year=Count("id", filter=Q(visited_on__year=today.year)),
        last_12_months=Count("id", filter=Q(visited_on__gt=a_year_before(today))),
        joint=Count("id", filter=JOINT),
    )


@dataclass(frozen=True)
class VisitFilters:
    advisor_id: int | None = None
    factory_id: int | None = None
    year: int | None = None
    month: dt.date | None = None  # the first day of the month
    joint: str = ""  # "", "joint", "inspector", "union", "not_joint"


JOINT_FILTERS: dict[str, Q] = {
    "joint": JOINT,
    "inspector": Q(with_labour_inspector=True),
    "union": Q(with_union=True),
    "not_joint": ~JOINT,
}


def _dates(filters: VisitFilters) -> Q:
    q = Q()
    if filters.year:
        q &= Q(visited_on__year=filters.year)
    if filters.month:
        q &= Q(visited_on__year=filters.month.year, visited_on__month=filters.month.month)
    return q


def _filtered(
    qs: QuerySet[AdvisoryVisit], filters: VisitFilters, *, dates: bool = True
) -> QuerySet[AdvisoryVisit]:
    if filters.advisor_id:
        qs = qs.filter(advisor_links__user_id=filters.advisor_id)  # one link per advisor and visit
    if filters.factory_id:
        qs = qs.filter(factory_id=filters.factory_id)
    if filters.joint in JOINT_FILTERS:
        qs = qs.filter(JOINT_FILTERS[filters.joint])
    return qs.filter(_dates(filters)) if dates else qs


def programme_visits(
    *, principal: Principal, programme: Programme, filters: VisitFilters
) -> QuerySet[AdvisoryVisit]:
    """The programme's visits for its staff (and the global team), filtered, newest first."""
    if not permissions.can_list_factories(principal, programme.pk):
        return AdvisoryVisit.objects.none()
    qs = _filtered(AdvisoryVisit.objects.filter(programme=programme), filters)
    return with_people(qs).order_by("-visited_on", "-id")


@dataclass
class VisitFigures:
    totals: dict[str, Any]
    by_year: list[dict[str, Any]]
    by_month: list[dict[str, Any]]


def _grouped(qs: QuerySet[AdvisoryVisit], **key: Any) -> list[dict[str, Any]]:
    (name,) = key
    rows: Any = (
        qs.values(**key)
        .annotate(
            visits=Count("id"),
            joint=Count("id", filter=JOINT),
            with_inspector=Count("id", filter=Q(with_labour_inspector=True)),
            with_union=Count("id", filter=Q(with_union=True)),
            factories=Count("factory", distinct=True),
        )
        .order_by(f"-{name}")
    )
    return list(rows)


def visit_figures(*, programme: Programme, filters: VisitFilters, today: dt.date) -> VisitFigures:
    """Visits and joint visits of the filtered selection: totals (and the last 12 months, which
    ignores the year and month filters), by year and by month; three queries."""
    qs = _filtered(AdvisoryVisit.objects.filter(programme=programme), filters, dates=False)
    recent = Q(visited_on__gt=a_year_before(today), visited_on__lte=today)
    dated = _dates(filters)
    totals = qs.aggregate(
        last_12_months=Count("id", filter=recent),
        joint_last_12_months=Count("id", filter=recent & JOINT),
        factories_last_12_months=Count("factory", filter=recent, distinct=True),
        visits=Count("id", filter=dated or None),
        joint=Count("id", filter=dated & JOINT),
        with_inspector=Count("id", filter=dated & Q(with_labour_inspector=True)),
        with_union=Count("id", filter=dated & Q(with_union=True)),
        factories=Count("factory", filter=dated or None, distinct=True),
    )
    dated_qs = qs.filter(dated)
    return VisitFigures(
        totals=totals,
        by_year=_grouped(dated_qs, year=ExtractYear("visited_on")),
        by_month=_grouped(dated_qs, month=TruncMonth("visited_on")),
    )


# --- Choices for forms ----------------------------------------------------------------------


def visit_advisor_choices(*, programme: Programme, keep: Collection[int] = ()) -> QuerySet[User]:
    """Who may be named as a visit's advisor: the programme's active staff (and, when a visit is
    changed, the advisors it already names, even if they have left since)."""
    staff = people_selectors.programme_staff(programme=programme)
    if not keep:
        return staff
    return User.objects.filter(Q(pk__in=staff.values("pk")) | Q(pk__in=list(keep))).order_by(
        "full_name", "email"
    )


def plan_items_of(*, factory: Factory) -> QuerySet[PlanItem]:
    """The items of a factory's improvement plans, which a visit may follow up."""
    return (
        PlanItem.objects.filter(plan__factory=factory)
        .select_related("plan")
        .order_by("-plan__cycle", "-publicly_reported", "due_on", "id")
    )


def factories_for_choice(*, programme: Programme) -> QuerySet[Factory]:
    return Factory.objects.filter(programme=programme).only("pk", "name", "public_id").order_by("name")


def visit_advisor_ids(*, visit: AdvisoryVisit) -> set[int]:
    """The visit's advisors (from the prefetched links when the visit came from a list)."""
    return {link.user_id for link in visit.advisor_links.all()}
