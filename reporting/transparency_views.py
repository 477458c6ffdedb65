"""The transparency list's pages: the public list (no sign-in, the same for every visitor, so
shared caches may keep it), its CSV, and the factory's own page with its response."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers
from django.views.i18n import set_language

from betterwork import permissions
from betterwork.forms import add_service_error
from betterwork.middleware import principal_of, programme_of
from betterwork.replica import reads_from_replica
from betterwork.spreadsheets import export_response
from reporting import transparency, transparency_services
from reporting.transparency import Entry, Rules
from reporting.transparency_forms import PublicFilterForm, ResponseForm

PAGE_SIZE = 25
# Public pages are the same for every visitor in a language: shared caches may keep them this long.
PUBLIC_MAX_AGE = 300


def public_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Read-only, cacheable by anyone for a few minutes, varying only with the language (chosen by
    the Accept-Language header or the language cookie)."""
    return require_safe(
        cache_control(public=True, max_age=PUBLIC_MAX_AGE)(vary_on_headers("Accept-Language", "Cookie")(view))
    )


# The public pages' language switch: the same as the signed-in one, without a CSRF token, so that
# public pages set no cookie and stay cacheable. Choosing a language is all it can do.
public_language = csrf_exempt(set_language)


@public_page
def public_index(request: HttpRequest) -> HttpResponse:
    return render(request, "public/index.html", {"programmes": transparency.public_programmes()})


def _public_list(request: HttpRequest, code: str) -> tuple[Any, Rules, PublicFilterForm, list[Entry]]:
    programme = transparency.public_programme(code)
    rules = Rules.of(programme)
    form = PublicFilterForm(request.GET or None, rules=rules)
    search, status = form.filters()
    with transparency.public_reading(programme):
        entries = transparency.transparency_list(programme=programme, search=search, status=status)
    return programme, rules, form, entries


@public_page
@reads_from_replica
def public_transparency(request: HttpRequest, code: str) -> HttpResponse:
    programme, rules, form, entries = _public_list(request, code)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    search, status = form.filters()
    return render(
        request,
        "public/transparency.html",
        {
            "programme": programme,
            "rules": rules,
            "statements": rules.statements(),
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "filtered": bool(search or status),
            "today": programme.today(),
        },
    )


def csv_headers() -> list[str]:
    return [
        _("Factory id"),
        _("Factory"),
        _("Region"),
        _("Cycle"),
        _("Visit"),
        _("Report final on"),
        _("Listed since"),
        _("Status"),
        _("Compliance point"),
        _("Issue"),
        _("Consecutive assessments non-compliant"),
        _("Compliant in the newer report"),
        _("Replaced on"),
        _("Response of the factory"),
    ]


def csv_rows(entries: list[Entry], rules: Rules) -> Iterator[list[Any]]:
    """One row per named issue; a factory with none has one row without an issue."""
    for entry in entries:
        head = [
            entry.public_id,
            entry.name,
            entry.region,
            entry.cycle,
            entry.visited_on,
            entry.reported_on,
            entry.listed_from,
            rules.status_label(entry.status),
        ]
        tail = [entry.replaced_on, entry.response.text if entry.response else ""]
        if not entry.issues:
            yield [*head, "", "", None, None, *tail]
        for issue in entry.issues:
            yield [*head, issue.point, issue.question, issue.cycles, issue.remediated, *tail]


@public_page
@reads_from_replica
def public_transparency_csv(request: HttpRequest, code: str) -> HttpResponse:
    programme, rules, _form, entries = _public_list(request, code)
    return export_response(
        f"transparency-{programme.code}-{programme.today().isoformat()}",
        csv_headers(),
        csv_rows(entries, rules),
        "csv",
    )


# --- The factory's own page -------------------------------------------------------------------


@login_required
def factory_transparency(request: HttpRequest, programme_code: str, factory_id: int) -> HttpResponse:
    """How the factory's entry looks today (or when it will appear), and its response."""
    programme, principal = programme_of(request), principal_of(request)
    factory = transparency.access_factory(principal=principal, programme=programme, factory_id=factory_id)
    view = transparency.factory_transparency(programme=programme, factory_id=factory.pk)
    can_respond = permissions.can_respond_on_transparency_list(principal, factory)
    forms: dict[int, ResponseForm] = {}
    if can_respond:
        for entry in view.respondable:
            saved = view.responses.get(entry.assessment_id)
            initial = (
                {"text": saved.text, "published": saved.published, "version": saved.version}
                if saved
                else {"version": 0}
            )
            forms[entry.assessment_id] = ResponseForm(
                initial=initial, prefix=f"response-{entry.assessment_id}"
            )
    if request.method == "POST":
        if not can_respond:
            raise Http404
        try:
            assessment_id = int(request.POST.get("assessment", ""))
        except ValueError as error:
            raise Http404 from error
        if assessment_id not in forms:
            messages.error(request, _("This entry is no longer on the list; respond to the current one."))
            return redirect("transparency:factory", programme_code=programme.code, factory_id=factory.pk)
        form = ResponseForm(request.POST, prefix=f"response-{assessment_id}")
        forms[assessment_id] = form
        if form.is_valid():
            try:
                response = transparency_services.transparency_response_save(
                    actor=principal,
                    programme=programme,
                    factory=factory,
                    assessment_id=assessment_id,
                    text=form.cleaned_data["text"],
                    published=form.cleaned_data["published"],
                    expected_version=form.cleaned_data["version"],
                )
            except PermissionDenied as error:
                raise Http404 from error
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(
                    request,
                    _("Your response is published beside the entry.")
                    if response.published
                    else _("Your response is saved; it is not published."),
                )
                return redirect("transparency:factory", programme_code=programme.code, factory_id=factory.pk)
    return render(
        request,
        "reporting/factory_transparency.html",
        {
            "programme": programme,
            "factory": factory,
            "view": view,
            "rules": view.rules,
            "statements": view.rules.statements(),
            "sections": [
                {"entry": entry, "form": forms.get(entry.assessment_id), "upcoming": entry is view.upcoming}
                for entry in view.respondable
            ],
            "can_respond": can_respond,
        },
    )
