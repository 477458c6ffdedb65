"""Template context for the shared chrome: navigation by role, computed by the permission rules."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from betterwork import permissions, selectors

# Up to this many programmes get their own links in the navigation bar.
NAV_PROGRAMMES_MAX = 3


def navigation(request: HttpRequest) -> dict[str, Any]:
    principal = getattr(request, "principal", None)
    if principal is None or not principal.is_authenticated:
        return {"nav_programmes": [], "current_programme": None, "nav_buyer": False}

    current = getattr(request, "programme", None)

    def entries() -> list[dict[str, Any]]:
        programmes = selectors.navigation_programmes(principal=principal, known=current)
        if len(programmes) > NAV_PROGRAMMES_MAX:
            return []  # the home page lists them all; the bar stays short
        return [
            {
                "programme": programme,
                "factories": permissions.can_list_factories(principal, programme.pk),
                "users": permissions.can_manage_programme_users(principal, programme.pk),
                "audit": permissions.can_view_audit(principal, programme.pk),
            }
            for programme in programmes
        ]

    return {
        "nav_programmes": SimpleLazyObject(entries),
        "nav_manage_programmes": permissions.can_manage_programmes(principal),
        "nav_tool": permissions.can_manage_tool(principal),
        "nav_buyer": bool(principal.buyer_ids()),
        "current_programme": getattr(request, "programme", None),
    }
