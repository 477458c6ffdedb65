"""Read queries of the tenancy layer: programmes, users and grants, already scoped."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.functional import SimpleLazyObject

from betterwork.models import AuditEvent, Programme, Role, RoleGrant, User
from betterwork.permissions import Principal


def navigation_programmes(*, principal: Principal) -> SimpleLazyObject:
    """The programmes a principal's navigation offers (queried only if a page shows them)."""

    def load() -> list[Programme]:
        if principal.global_everywhere:
            return list(Programme.objects.all())
        ids = {g.programme_id for g in principal.grants if g.programme_id}
        return list(Programme.objects.filter(id__in=ids))

    return SimpleLazyObject(load)


def programme_list(*, principal: Principal) -> QuerySet[Programme]:
    if principal.global_everywhere:
        return Programme.objects.all()
    ids = {g.programme_id for g in principal.grants if g.programme_id and g.role != Role.BUYER}
    return Programme.objects.filter(id__in=ids)


def programme_users(*, programme: Programme, search: str = "") -> QuerySet[User]:
    """Users holding any grant in the programme, with those grants prefetched."""
    users = (
        User.objects.filter(grants__programme=programme)
        .distinct()
        .prefetch_related("grants")
        .order_by("full_name", "email")
    )
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


def audit_events(*, programme: Programme) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(programme=programme).select_related("actor")
