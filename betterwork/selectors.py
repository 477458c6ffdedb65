"""Read queries of the tenancy layer: programmes, users and grants, already scoped."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from betterwork.models import (
    PROGRAMME_STAFF_ROLES,
    AuditEvent,
    Notification,
    Programme,
    Role,
    RoleGrant,
    User,
)
from betterwork.permissions import Principal


def navigation_programmes(*, principal: Principal, known: Programme | None = None) -> list[Programme]:
    """The programmes a principal works in; loaded once per request (navigation and pages share it).

    ``known`` is the programme the request already loaded: when it is the only one, no query.
    """
    ids = {g.programme_id for g in principal.grants if g.programme_id}
    if principal.programmes_cache is None and known is not None and ids == {known.pk}:
        principal.programmes_cache = [known]
    if principal.programmes_cache is None:
        if principal.global_everywhere:
            principal.programmes_cache = list(Programme.objects.all())
        else:
            principal.programmes_cache = list(Programme.objects.filter(id__in=ids))
    return principal.programmes_cache


def programme_list(*, principal: Principal) -> QuerySet[Programme]:
    if principal.global_everywhere:
        return Programme.objects.all()
    ids = {g.programme_id for g in principal.grants if g.programme_id and g.role != Role.BUYER}
    return Programme.objects.filter(id__in=ids)


def programme_users(*, programme: Programme, search: str = "") -> QuerySet[User]:
    """Users holding any grant in the programme, with those grants prefetched."""
    users = User.objects.filter(grants__programme=programme).distinct().order_by("full_name", "email")
    if search:
        users = users.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    return users


def access_programme_user(*, programme: Programme, user_id: int) -> User:
    """A user of this programme, or 404 (users of other programmes do not exist here)."""
    user = User.objects.filter(pk=user_id, grants__programme=programme).distinct().first()
    if user is None:
        raise Http404
    return user


def grants_in_programme(*, programme: Programme, user: User) -> QuerySet[RoleGrant]:
    return RoleGrant.objects.filter(user=user, programme=programme).select_related("factory")


def programme_user_counts(*, programme: Programme) -> dict[str, int]:
    rows = (
        RoleGrant.objects.filter(programme=programme).values("role").annotate(n=Count("user", distinct=True))
    )
    return {row["role"]: row["n"] for row in rows}


def audit_events(*, programme: Programme, search: dict[str, Any] | None = None) -> QuerySet[AuditEvent]:
    """The programme's trail, newest first, narrowed by the audit page's search (dates are days of
    the programme's own calendar)."""
    events = AuditEvent.objects.filter(programme=programme).select_related("actor")
    search = search or {}
    if search.get("who"):
        events = events.filter(
            Q(actor__full_name__icontains=search["who"]) | Q(actor__email__icontains=search["who"])
        )
    for field in ("action", "object_type"):
        if search.get(field):
            events = events.filter(**{f"{field}__icontains": search[field]})
    if search.get("object_id"):
        events = events.filter(object_id=search["object_id"].strip())
    if search.get("text"):
        text = search["text"]
        events = events.filter(
            Q(object_repr__icontains=text)
            | Q(reason__icontains=text)
            | Q(before__icontains=text)
            | Q(after__icontains=text)
        )
    zone = ZoneInfo(programme.time_zone)
    if search.get("since"):
        events = events.filter(at__gte=dt.datetime.combine(search["since"], dt.time.min, tzinfo=zone))
    if search.get("until"):
        next_day = search["until"] + dt.timedelta(days=1)
        events = events.filter(at__lt=dt.datetime.combine(next_day, dt.time.min, tzinfo=zone))
    return events


def programme_staff(*, programme: Programme) -> QuerySet[User]:
    """Active advisors, team leaders and managers of a programme (who may be designated)."""
    return (
        User.objects.filter(
            is_active=True, grants__programme=programme, grants__role__in=sorted(PROGRAMME_STAFF_ROLES)
        )
        .distinct()
        .order_by("full_name", "email")
    )


def programme_users_with_grants(*, programme: Programme, search: str = "") -> QuerySet[User]:
    """Users of a programme, each with only their grants in this programme prefetched."""
    grants = RoleGrant.objects.filter(programme=programme).select_related("factory").order_by("role")
    return programme_users(programme=programme, search=search).prefetch_related(
        Prefetch("grants", queryset=grants, to_attr="programme_grants")
    )


def access_grant(*, programme: Programme, user: User, grant_id: int) -> RoleGrant:
    grant = (
        RoleGrant.objects.filter(pk=grant_id, user=user, programme=programme)
        .select_related("factory")
        .first()
    )
    if grant is None:
        raise Http404
    return grant


def factory_staff(*, factory_id: int) -> QuerySet[RoleGrant]:
    return (
        RoleGrant.objects.filter(role=Role.FACTORY, factory_id=factory_id)
        .select_related("user")
        .order_by("user__full_name")
    )


def factory_staff_of(*, factory_ids: set[int]) -> dict[int, list[User]]:
    """The active users of several factories at once, by factory id."""
    staff: dict[int, list[User]] = {}
    grants = RoleGrant.objects.filter(role=Role.FACTORY, factory_id__in=factory_ids, user__is_active=True)
    for grant in grants.select_related("user"):
        staff.setdefault(grant.factory_id, []).append(grant.user)  # type: ignore[arg-type]
    return staff


def access_programme(*, programme_id: int) -> Programme:
    programme = Programme.objects.filter(pk=programme_id).first()
    if programme is None:
        raise Http404
    return programme


def user_grants(*, user: User) -> QuerySet[RoleGrant]:
    return RoleGrant.objects.filter(user=user).select_related("programme")


def inbox(*, user: User | None) -> QuerySet[Notification]:
    """The user's notifications in the programmes of the request's scope."""
    return Notification.objects.filter(recipient=user)


PROGRAMME_CACHE_SECONDS = 300


def programme_cache_key(code: str) -> str:
    return f"programme:code:{code.upper()}"


def programme_by_code(code: str) -> Programme | None:
    """The programme of a /p/<code>/ URL, read on every such request: kept in the cache
    (cleared whenever a programme is saved or deleted, see BetterworkConfig.ready). A code no
    programme can have (PostgreSQL refuses NUL in text) names none, unasked."""
    if "\x00" in code:
        return None
    key = programme_cache_key(code)
    programme = cache.get(key)
    if programme is None:
        programme = Programme.objects.filter(code__iexact=code).first()
        if programme is not None:
            cache.set(key, programme, PROGRAMME_CACHE_SECONDS)
    return programme
