"""Template context for the shared chrome: navigation by role, computed by the permission rules."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from betterwork import permissions, selectors


def navigation(request: HttpRequest) -> dict[str, Any]:
    principal = getattr(request, "principal", None)
    if principal is None or not principal.is_authenticated:
        return {"nav_programmes": [], "current_programme": None}

    def entries() -> list[dict[str, Any]]:
        return [
            {
                "programme": programme,
                "factories": permissions.can_list_factories(principal, programme.pk),
                "users": permissions.can_manage_programme_users(principal, programme.pk),
                "audit": permissions.can_view_audit(principal, programme.pk),
            }
            for programme in selectors.navigation_programmes(principal=principal)
        ]

    return {
        "nav_programmes": SimpleLazyObject(entries),
        "nav_manage_programmes": permissions.can_manage_programmes(principal),
        "current_programme": getattr(request, "programme", None),
    }
