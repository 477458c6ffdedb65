"""Read queries behind the home page: what each kind of user should see first."""

from __future__ import annotations

from typing import Any

from assessments.models import Assessment
from betterwork import permissions
from betterwork import selectors as people_selectors
from betterwork.models import PROGRAMME_STAFF_ROLES, Role
from betterwork.permissions import Principal
from buyers.models import Buyer
from factories import selectors as factory_selectors


def home_sections(*, principal: Principal) -> dict[str, Any]:
    """One section per kind of grant; every figure comes from one grouped query."""
    programmes = people_selectors.navigation_programmes(principal=principal)
    summaries = factory_selectors.programme_summaries(programme_ids=[p.pk for p in programmes])
    staff: list[dict[str, Any]] = []
    global_rows: list[dict[str, Any]] = []
    for programme in programmes:
        roles = principal.roles_in(programme.pk)
        entry = {
            "programme": programme,
            "summary": summaries[programme.pk],
            "roles": [Role(r).label for r in sorted(roles & PROGRAMME_STAFF_ROLES)],
            "can_manage_users": permissions.can_manage_programme_users(principal, programme.pk),
        }
        if roles & PROGRAMME_STAFF_ROLES:
            staff.append(entry)
        if Role.GLOBAL in roles:
            global_rows.append(entry)
    return {
        "staff_programmes": staff,
        "global_programmes": global_rows,
        "global_totals": _totals(global_rows),
        "my_factories": list(factory_selectors.factories_of_user(principal=principal)),
        "my_reports": list(
            Assessment.objects.filter(
                factory_id__in=principal.factory_ids(), status__in=permissions.FACTORY_VISIBLE_STATES
            ).select_related("factory", "programme")
        )
        if principal.factory_ids()
        else [],
        "buyers": list(Buyer.objects.filter(pk__in=principal.buyer_ids())),
        "can_manage_programmes": permissions.can_manage_programmes(principal),
    }


def _totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "factories": sum(r["summary"]["factories"] for r in rows),
        "workers": sum(r["summary"]["workers"] for r in rows),
    }
