"""The programme dashboard, the factories behind a figure, and the global comparison. Thin views
over ``reporting.dashboard``; every table can be downloaded as CSV or XLSX."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from betterwork import permissions
from betterwork.middleware import principal_of, programme_of
from betterwork.replica import reads_from_replica
from betterwork.selectors import programme_list
from betterwork.spreadsheets import export_response
from reporting import charts, dashboard
from reporting.dashboard_forms import DashboardFilterForm

FORMATS = ("csv", "xlsx")


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def _export(request: HttpRequest, stem: str, headers: list[str], rows: list[list[Any]]) -> HttpResponse:
    fmt = request.GET.get("format", "csv")
    if fmt not in FORMATS:
        raise Http404
    return export_response(stem, headers, rows, fmt)  # type: ignore[arg-type]


@login_required
@reads_from_replica
def programme_dashboard(request: HttpRequest, programme_code: str) -> HttpResponse:
    principal, programme = principal_of(request), programme_of(request)
    if not permissions.can_view_dashboard(principal, programme.pk):
        raise Http404
    form = DashboardFilterForm(request.GET or None, choices=dashboard.filter_choices(programme=programme))
    filters = form.filters()
    clusters = dashboard.clusters(programme=programme, filters=filters)
    questions = dashboard.questions(programme=programme, filters=filters)
    cycles, trends = dashboard.trends(programme=programme, filters=filters)

    table = request.GET.get("export")
    if table == "clusters":
        return _export(
            request,
            f"{programme.code}-non-compliance-by-point",
            [
                _("Cluster"),
                _("Compliance point"),
                _("Factories assessed"),
                _("Factories non-compliant"),
                _("Rate (%)"),
            ],
            [
                [str(c.cluster), str(p.point), p.rate.assessed, p.rate.non_compliant, _percent(p.rate.share)]
                for c in clusters
                for p in c.points
            ],
        )
    if table == "questions":
        return _export(
            request,
            f"{programme.code}-non-compliance-by-question",
            [_("Question"), _("Text"), _("Factories assessed"), _("Factories non-compliant"), _("Rate (%)")],
            [
                [
                    q.key,
                    q.question.display_text,
                    q.rate.assessed,
                    q.rate.non_compliant,
                    _percent(q.rate.share),
                ]
                for q in questions
            ],
        )
    if table == "trends":
        return _export(
            request,
            f"{programme.code}-trends",
            [_("Cluster"), *(_("Cycle %(n)s (%%)") % {"n": c} for c in cycles)],
            [[str(t["cluster"]), *(_percent(s) for s in t["shares"])] for t in trends],
        )
    if table is not None:
        raise Http404

    rtl = request.LANGUAGE_CODE in ("ar",)
    for cluster in clusters:
        cluster.bar = charts.share_bar(cluster.share, label=str(cluster.cluster), rtl=rtl)  # type: ignore[attr-defined]
    for trend in trends:
        trend["line"] = charts.trend_line(trend["shares"], label=str(trend["cluster"]))
    top = dashboard.top_issues(questions)
    for row in top:
        row.bar = charts.share_bar(row.rate.share, label=row.key, rtl=rtl)  # type: ignore[attr-defined]
    return render(
        request,
        "reporting/dashboard.html",
        {
            "programme": programme,
            "form": form,
            "query": request.GET.urlencode(),
            "overview": dashboard.overview(programme=programme, filters=filters, today=programme.today()),
            "clusters": clusters,
            "question_count": len(questions),
            "top": top,
            "cycles": cycles,
            "trends": trends,
        },
    )


@login_required
@reads_from_replica
def all_questions(request: HttpRequest, programme_code: str) -> HttpResponse:
    """Every question's non-compliance within the dashboard's filters, highest rate first."""
    principal, programme = principal_of(request), programme_of(request)
    if not permissions.can_view_dashboard(principal, programme.pk):
        raise Http404
    form = DashboardFilterForm(request.GET or None, choices=dashboard.filter_choices(programme=programme))
    return render(
        request,
        "reporting/dashboard_questions.html",
        {
            "programme": programme,
            "questions": dashboard.questions(programme=programme, filters=form.filters()),
            "query": request.GET.urlencode(),
        },
    )


@login_required
@reads_from_replica
def factories_behind(request: HttpRequest, programme_code: str) -> HttpResponse:
    """The factories non-compliant on one question (``?question=KEY``) or compliance point
    (``?point=ID``), within the dashboard's filters."""
    principal, programme = principal_of(request), programme_of(request)
    if not permissions.can_view_dashboard(principal, programme.pk):
        raise Http404
    form = DashboardFilterForm(request.GET or None, choices=dashboard.filter_choices(programme=programme))
    filters = form.filters()
    key, point = request.GET.get("question", ""), request.GET.get("point", "")
    if not key and not point.isdigit():
        raise Http404
    rows = dashboard.factories_behind(
        programme=programme,
        filters=filters,
        question_key=key,
        point_id=int(point) if point.isdigit() else None,
    )
    subject = dashboard.drill_subject(question_key=key, point_id=int(point) if point.isdigit() else None)
    if subject is None:
        raise Http404
    if request.GET.get("export") == "factories":
        return _export(
            request,
            f"{programme.code}-factories-{key or point}",
            [_("Factory id"), _("Factory"), _("Region or zone"), _("Cycle")],
            [[r["factory__public_id"], r["factory__name"], r["factory__region"], r["cycle"]] for r in rows],
        )
    return render(
        request,
        "reporting/factories_behind.html",
        {
            "programme": programme,
            "rows": rows,
            "subject": subject,
            "form": form,
            "query": request.GET.urlencode(),
        },
    )


@login_required
def compare(request: HttpRequest) -> HttpResponse:
    """Global staff compare programmes on one indicator."""
    principal = principal_of(request)
    if not permissions.can_compare_programmes(principal):
        raise Http404
    points = dashboard.point_choices()
    point = request.GET.get("point", "")
    cycle = request.GET.get("cycle", "")
    chosen = next((p for p in points if str(p.pk) == point), None)
    rows = dashboard.programmes_compared(
        programmes=list(programme_list(principal=principal)),
        point_id=chosen.pk if chosen else None,
        cycle=int(cycle) if cycle.isdigit() else None,
    )
    rtl = request.LANGUAGE_CODE in ("ar",)
    for row in rows:
        row["bar"] = charts.share_bar(row["share"], label=row["programme"].name, rtl=rtl)
    if request.GET.get("export") == "programmes":
        return _export(
            request,
            "programmes-compared",
            [_("Programme"), _("Factories counted"), _("Rate (%)")],
            [[r["programme"].name, r["factories"], _percent(r["share"])] for r in rows],
        )
    return render(
        request,
        "reporting/compare.html",
        {"rows": rows, "points": points, "point": chosen, "cycle": cycle, "query": request.GET.urlencode()},
    )
