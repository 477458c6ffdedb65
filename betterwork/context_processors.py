"""Template context for the shared chrome: navigation by role."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from betterwork import selectors


def navigation(request: HttpRequest) -> dict[str, Any]:
    principal = getattr(request, "principal", None)
    if principal is None or not principal.is_authenticated:
        return {"nav_programmes": [], "current_programme": None}
    return {
        "nav_programmes": selectors.navigation_programmes(principal=principal),
        "current_programme": getattr(request, "programme", None),
    }
