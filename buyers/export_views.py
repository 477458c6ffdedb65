"""The programme's buyer subscriptions as a download, for its managers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from betterwork import permissions
from betterwork.middleware import principal_of, programme_of
from betterwork.replica import reads_from_replica
from betterwork.spreadsheets import Format, export_response
from buyers import selectors
from buyers.exports import subscription_sheet


@login_required
@reads_from_replica
def subscriptions_export(request: HttpRequest, programme_code: str) -> HttpResponse:
    """Every subscription to the programme's factories, one row each, as CSV or XLSX."""
    programme, principal = programme_of(request), principal_of(request)
    if not permissions.can_export_programme_data(principal, programme.pk):
        raise Http404
    columns, rows = subscription_sheet(
        selectors.programme_subscriptions(programme=programme), programme=programme
    )
    fmt: Format = "csv" if request.GET.get("format") == "csv" else "xlsx"
    return export_response(
        f"subscriptions-{programme.code}-{programme.today().isoformat()}", columns, rows, fmt
    )
