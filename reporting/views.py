"""The home page: one section for each kind of grant the signed-in user holds."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from betterwork.middleware import principal_of
from reporting import selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "reporting/home.html", selectors.home_sections(principal=principal_of(request)))
