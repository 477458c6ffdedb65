"""Synthesis reports: what they count and show, read from the rollups only (through the
dashboard's own selectors, one set of filters for the report's whole scope), never from answers.

What a report shows is one plain, JSON-safe dictionary (``compute``): its scope, what was
counted, non-compliance by cluster and compliance point, the ten most common issues, the trend
of each cluster across cycles and, for a theme, each of its questions per cycle (matched across
versions of the tool by the question's stable key). Names and question texts are kept in every
language the tool has them in, so that the page, the PDF and the open data show the same figures
in the reader's language. A draft computes it live; publishing freezes it in the report's
``snapshot``, so a later revision of an assessment never changes a published report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, IntegerField, Max, Min, Q, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessments.models import Question, ToolStatus, in_language
from betterwork import permissions
from betterwork.models import Programme
from betterwork.permissions import Principal
from factories.models import Sector
from reporting import dashboard
from reporting.dashboard import Filters
from reporting.models import (
    CountedAssessment,
    JobStatus,
    QuestionRollup,
    ReportJob,
    SegmentRollup,
    SizeBand,
    SynthesisReport,
    SynthesisScope,
    SynthesisStatus,
)

# Raise when the snapshot's shape changes; templates read older shapes too.
SNAPSHOT_FORMAT = 1
KIND_NAME = "synthesis_report"


# --- The scope --------------------------------------------------------------------------------


def scope_filters(report: SynthesisReport) -> Filters:
    """The dashboard's filters for the report's whole scope."""
    common: dict[str, Any] = {
        "region": report.region,
        "sector": report.sector,
        "size": report.size,
        "union_present": report.union_present,
    }
    if report.scope == SynthesisScope.CYCLES:
        # No cycle chosen counts nothing, never everything (the services refuse it anyway).
        return Filters(cycles=tuple(sorted(set(report.cycles))) or (0,), **common)
    return Filters(year_from=report.year_from, year_to=report.year_to, **common)


def _scope(report: SynthesisReport) -> dict[str, Any]:
    return {
        "by": report.scope,
        "cycles": sorted(set(report.cycles)) if report.scope == SynthesisScope.CYCLES else [],
        "year_from": report.year_from if report.scope == SynthesisScope.YEARS else None,
        "year_to": report.year_to if report.scope == SynthesisScope.YEARS else None,
        "region": report.region,
        "sector": report.sector,
        "size": report.size,
        "union_present": report.union_present,
        "theme": list(report.theme_keys),
    }


# --- The figures ------------------------------------------------------------------------------


def _share(assessed: int, non_compliant: int) -> float | None:
    return non_compliant / assessed if assessed else None


def _rate(assessed: int, non_compliant: int) -> dict[str, Any]:
    return {"assessed": assessed, "non_compliant": non_compliant, "share": _share(assessed, non_compliant)}


def _counted(programme: Programme, filters: Filters) -> dict[str, Any]:
    per_cycle = (
        SegmentRollup.objects.filter(programme=programme)
        .filter(filters.cells())
        .values("cycle")
        .annotate(factories=Sum("factories"))
        .order_by("cycle")
    )
    totals = (
        CountedAssessment.objects.filter(programme=programme)
        .filter(filters.cells())
        .aggregate(
            assessments=Count("id"),
            factories=Count("factory_id", distinct=True),
            first_year=Min("year"),
            last_year=Max("year"),
        )
    )
    return {
        "factories": totals["factories"],
        "assessments": totals["assessments"],
        "first_year": totals["first_year"],
        "last_year": totals["last_year"],
        "per_cycle": [[row["cycle"], row["factories"]] for row in per_cycle],
    }


def _theme(
    programme: Programme,
    filters: Filters,
    keys: list[str],
    cycles: list[int],
    totals: dict[str, dashboard.QuestionRow],
) -> dict[str, Any]:
    """Each question of the theme: its rate over the whole scope and in each cycle, by key."""
    if not keys:
        return {"cycles": cycles, "questions": []}
    rows = (
        QuestionRollup.objects.filter(programme=programme, question__key__in=keys)
        .filter(filters.cells())
        .values("cycle", "question__key")
        .annotate(assessed=Sum("assessed"), non_compliant=Sum("non_compliant"))
    )
    by_cycle = {(r["cycle"], r["question__key"]): r for r in rows}
    # The text of the newest version counted, else of the newest version of the programme's tool.
    counted_ids = [totals[key].question.pk for key in keys if key in totals]
    others = [key for key in keys if key not in totals]
    questions: dict[str, Question] = {}
    found = (
        Question.objects.filter(
            Q(pk__in=counted_ids)
            | Q(
                key__in=others,
                version__tool__in=[programme.code, "global"],
                version__status=ToolStatus.PUBLISHED,
            )
        )
        .select_related("point__cluster")
        .order_by("key", "-pk")
    )
    for question in found:
        if question.key in totals:
            questions[question.key] = question
        else:
            questions.setdefault(question.key, question)
    result = []
    for key in keys:
        shown = questions.get(key)
        total = totals.get(key)
        result.append(
            {
                "key": key,
                "text": shown.text if shown else {},
                "point": shown.point.code if shown else "",
                "point_name": shown.point.name if shown else {},
                "cluster": shown.point.cluster.code if shown else "",
                "order": [
                    shown.point.cluster.order if shown else 999,
                    shown.point.order if shown else 999,
                    shown.order if shown else 0,
                ],
                **(_rate(total.rate.assessed, total.rate.non_compliant) if total else _rate(0, 0)),
                "per_cycle": [
                    _rate(by_cycle[(c, key)]["assessed"], by_cycle[(c, key)]["non_compliant"])
                    if (c, key) in by_cycle
                    else None
                    for c in cycles
                ],
            }
        )
    # In the tool's order: by cluster, compliance point and question.
    result.sort(key=lambda row: (row["order"], row["key"]))
    for row in result:
        del row["order"]
    return {"cycles": cycles, "questions": result}


def compute(report: SynthesisReport) -> dict[str, Any]:
    """Everything the report shows, computed now from the rollups (a dozen grouped queries,
    whatever the number of factories or cycles)."""
    programme = report.programme
    filters = scope_filters(report)
    clusters = dashboard.clusters(programme=programme, filters=filters)
    question_rows = dashboard.questions(programme=programme, filters=filters)
    cycles, trends = dashboard.trends(programme=programme, filters=filters)
    points = {p.point.pk: p.point for c in clusters for p in c.points}
    return {
        "format": SNAPSHOT_FORMAT,
        "computed_at": timezone.now().isoformat(),
        "scope": _scope(report),
        "counted": _counted(programme, filters),
        "clusters": [
            {
                "code": c.cluster.code,
                "name": c.cluster.name,
                "share": c.share,
                "points": [
                    {
                        "code": p.point.code,
                        "name": p.point.name,
                        **_rate(p.rate.assessed, p.rate.non_compliant),
                    }
                    for p in c.points
                ],
            }
            for c in clusters
        ],
        "top": [
            {
                "key": row.key,
                "text": row.question.text,
                "point": points[row.question.point_id].code if row.question.point_id in points else "",
                "point_name": points[row.question.point_id].name if row.question.point_id in points else {},
                **_rate(row.rate.assessed, row.rate.non_compliant),
            }
            for row in dashboard.top_issues(question_rows)
        ],
        "trends": {
            "cycles": cycles,
            "clusters": [
                {"code": t["cluster"].code, "name": t["cluster"].name, "shares": t["shares"]} for t in trends
            ],
        },
        "theme": _theme(
            programme, filters, list(report.theme_keys), cycles, {row.key: row for row in question_rows}
        ),
    }


def content(report: SynthesisReport) -> dict[str, Any]:
    """What the report shows: frozen once published, live while a draft."""
    if report.snapshot is not None and not report.is_draft:
        return report.snapshot
    return compute(report)


# --- The counting rules in words ----------------------------------------------------------------


def _date(value: str | None) -> str:
    if not value:
        return ""
    return date_format(dt.datetime.fromisoformat(value).date(), "DATE_FORMAT")


def statements(snapshot: dict[str, Any]) -> list[str]:
    """The scope and the counting rules in plain words, in the active language."""
    scope, counted = snapshot["scope"], snapshot["counted"]
    lines: list[str] = []
    if scope["by"] == SynthesisScope.CYCLES:
        cycles = [str(c) for c in scope["cycles"]]
        lines.append(
            ngettext(
                "The report counts the assessments of cycle %(cycles)s.",
                "The report counts the assessments of cycles %(cycles)s.",
                len(cycles),
            )
            % {"cycles": get_text_list(cycles, _("and"))}
        )
    elif scope["year_from"] == scope["year_to"]:
        lines.append(
            _("The report counts the assessments whose visit took place in %(year)s.")
            % {"year": scope["year_from"]}
        )
    else:
        lines.append(
            _("The report counts the assessments whose visit took place from %(first)s to %(last)s.")
            % {"first": scope["year_from"], "last": scope["year_to"]}
        )
    lines.append(
        ngettext(
            "%(assessments)s final assessment counted, of %(factories)s factory.",
            "%(assessments)s final assessments counted, of %(factories)s factories.",
            counted["factories"],
        )
        % {"assessments": counted["assessments"], "factories": counted["factories"]}
    )
    only = []
    if scope["region"]:
        only.append(_("in the region or zone “%(region)s”") % {"region": scope["region"]})
    if scope["sector"]:
        only.append(
            _("of the %(sector)s sector")
            % {"sector": str(dict(Sector.choices).get(scope["sector"], scope["sector"])).lower()}
        )
    if scope["size"]:
        only.append(
            _("with %(size)s")
            % {"size": str(dict(SizeBand.choices).get(scope["size"], scope["size"])).lower()}
        )
    if scope["union_present"] is True:
        only.append(_("where a union is present"))
    elif scope["union_present"] is False:
        only.append(_("where no union is present"))
    if only:
        lines.append(_("Only factories %(conditions)s.") % {"conditions": get_text_list(only, _("and"))})
    lines += [
        _(
            "A factory counts once in each cycle, with its latest final assessment; drafts never count. "
            "A factory assessed in several cycles counts in each of them."
        ),
        _(
            "A question's rate is the factories found non-compliant divided by the factories whose "
            "answer was compliant or non-compliant (not applicable leaves a factory out)."
        ),
        _(
            "A compliance point is assessed when any of its questions is, and non-compliant when any "
            "is; a cluster's rate is the mean of its points' rates."
        ),
        _(
            "Questions are matched across versions of the compliance tool by their stable key. Region, "
            "sector, size and union presence are each factory's at the time of counting; the year is "
            "that of the assessment visit."
        ),
        _("Figures as counted on %(date)s.") % {"date": _date(snapshot.get("computed_at"))},
    ]
    return lines


# --- The tables as rows, for the CSV ------------------------------------------------------------


def csv_headers() -> list[str]:
    return [
        _("Table"),
        _("Cluster"),
        _("Compliance point"),
        _("Question"),
        _("Text"),
        _("Cycle"),
        _("Factories assessed"),
        _("Factories non-compliant"),
        _("Rate (%)"),
    ]


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def csv_rows(snapshot: dict[str, Any]) -> Iterator[list[Any]]:
    """Every table of the report, one row per figure, in the active language."""
    for cluster in snapshot["clusters"]:
        name = in_language(cluster["name"])
        yield [_("Clusters"), name, "", "", "", "", None, None, _percent(cluster["share"])]
        for point in cluster["points"]:
            yield [
                _("Compliance points"),
                name,
                in_language(point["name"]),
                "",
                "",
                "",
                point["assessed"],
                point["non_compliant"],
                _percent(point["share"]),
            ]
    for row in snapshot["top"]:
        yield [
            _("Most common issues"),
            "",
            in_language(row["point_name"]) if row["point_name"] else "",
            row["key"],
            in_language(row["text"]) if row["text"] else "",
            "",
            row["assessed"],
            row["non_compliant"],
            _percent(row["share"]),
        ]
    trends = snapshot["trends"]
    for cluster in trends["clusters"]:
        for cycle, share in zip(trends["cycles"], cluster["shares"], strict=True):
            yield [_("Trends"), in_language(cluster["name"]), "", "", "", cycle, None, None, _percent(share)]
    theme = snapshot["theme"]
    for row in theme["questions"]:
        common = [
            in_language(row["point_name"]) if row["point_name"] else "",
            row["key"],
            in_language(row["text"]) if row["text"] else "",
        ]
        yield [_("Theme"), "", *common, "", row["assessed"], row["non_compliant"], _percent(row["share"])]
        for cycle, rate in zip(theme["cycles"], row["per_cycle"], strict=True):
            if rate is not None:
                yield [
                    _("Theme by cycle"),
                    "",
                    *common,
                    cycle,
                    rate["assessed"],
                    rate["non_compliant"],
                    _percent(rate["share"]),
                ]


# --- Reading reports ----------------------------------------------------------------------------


def synthesis_list(*, programme: Programme) -> list[SynthesisReport]:
    return list(
        SynthesisReport.objects.filter(programme=programme)
        .select_related("created_by", "published_by")
        .order_by("-created_at", "-id")
    )


def access_synthesis(*, principal: Principal, programme: Programme, report_id: int) -> SynthesisReport:
    """A report of this programme its managers may compose or read; else 404 (absent and
    forbidden look alike)."""
    if not permissions.can_compose_synthesis(principal, programme.pk):
        raise Http404
    report = (
        SynthesisReport.objects.filter(programme=programme, pk=report_id)
        .select_related("programme", "created_by", "published_by", "withdrawn_by", "based_on")
        .first()
    )
    if report is None:
        raise Http404
    return report


def load_report(report_id: int) -> SynthesisReport:
    """The report a PDF job is about, within the current scope (drafts included: who may read
    them is the kind's ``may_read``)."""
    report = SynthesisReport.objects.filter(pk=report_id).select_related("programme").first()
    if report is None:
        raise Http404
    return report


def report_snapshot(report: SynthesisReport) -> dict[str, Any]:
    """A fingerprint of everything the PDF shows: a published report's never changes."""
    return {
        "report": [report.pk, report.kind, report.title, report.introduction, str(report.published_at)],
        "draft": report.is_draft,
        "programme": [report.programme.code, report.programme.name],
        "content": content(report),
    }


def page_context(report: SynthesisReport) -> dict[str, Any]:
    """What the report's page shows: the public page and the managers' preview alike."""
    shown = content(report)
    return {
        "report": report,
        "programme": report.programme,
        "content": shown,
        "statements": statements(shown),
    }


def report_context(report: SynthesisReport) -> dict[str, Any]:
    """The PDF's context (built with the report's language active)."""
    shown = content(report)
    return {
        "report": report,
        "programme": report.programme,
        "content": shown,
        "statements": statements(shown),
        "report_id": f"{report.programme.code}-SR{report.pk}",
        "draft": report.is_draft,
    }


# --- What the composer offers ----------------------------------------------------------------


@dataclass
class PickerQuestion:
    key: str
    text: str


@dataclass
class PickerPoint:
    code: str
    name: str
    questions: list[PickerQuestion]


@dataclass
class PickerCluster:
    code: str
    name: str
    points: list[PickerPoint]


def theme_choices(*, programme: Programme) -> list[PickerCluster]:
    """The questions of the programme's compliance tool (its own published versions, else the
    global template's), newest wording per key, grouped by cluster and compliance point."""
    tools = [programme.code, "global"]
    if Question.objects.filter(version__tool=programme.code, version__status=ToolStatus.PUBLISHED).exists():
        tools = [programme.code]
    newest: dict[str, Question] = {}
    for question in (
        Question.objects.filter(version__tool__in=tools, version__status=ToolStatus.PUBLISHED)
        .select_related("point__cluster")
        .order_by("key", "-version__effective_from", "-pk")
    ):
        newest.setdefault(question.key, question)
    clusters: dict[int, PickerCluster] = {}
    points: dict[int, PickerPoint] = {}
    ordered = sorted(
        newest.values(),
        key=lambda q: (q.point.cluster.order, q.point.cluster.code, q.point.order, q.order, q.key),
    )
    for question in ordered:
        point = question.point
        cluster = clusters.setdefault(
            point.cluster_id, PickerCluster(point.cluster.code, str(point.cluster), [])
        )
        if point.pk not in points:
            points[point.pk] = PickerPoint(point.code, str(point), [])
            cluster.points.append(points[point.pk])
        points[point.pk].questions.append(PickerQuestion(question.key, question.display_text))
    return list(clusters.values())


def scope_choices(*, programme: Programme) -> dict[str, list[Any]]:
    return dashboard.filter_choices(programme=programme)


# --- The public site ----------------------------------------------------------------------------


def published_reports(*, programme: Programme) -> list[SynthesisReport]:
    """The programme's published reports, newest first (read inside ``public_reading``), each with
    ``factories_counted``; the snapshots themselves stay in the database (a list needs one number
    of each)."""
    return list(
        SynthesisReport.objects.filter(programme=programme, status=SynthesisStatus.PUBLISHED)
        .defer("snapshot")
        .annotate(factories_counted=Cast(KT("snapshot__counted__factories"), IntegerField()))
        .order_by("-published_at", "-id")
    )


def public_report(*, programme: Programme, report_id: int) -> SynthesisReport:
    """A published report of this programme; drafts, withdrawn ones and other programmes' are 404."""
    report = (
        SynthesisReport.objects.filter(programme=programme, pk=report_id, status=SynthesisStatus.PUBLISHED)
        .select_related("programme")
        .first()
    )
    if report is None:
        raise Http404
    return report


def ready_pdfs(report: SynthesisReport) -> dict[str, ReportJob]:
    """The ready PDFs of the report as it stands (its published figures), by language, in one
    query; a PDF made of a draft never shows here (its input differs)."""
    from reporting.kinds import KINDS  # the kinds name this module's selectors: imported late

    kind = KINDS[KIND_NAME]
    jobs = ReportJob.objects.filter(
        kind=kind.name,
        target_id=report.pk,
        status=JobStatus.READY,
        template_version=kind.template_version,
        input_hash=kind.input_hash(report),
    ).order_by("-finished_at", "-id")
    found: dict[str, ReportJob] = {}
    for job in jobs:
        found.setdefault(job.language, job)
    return {language: found[language] for language in kind.languages(report) if language in found}


def newer_version(report: SynthesisReport) -> SynthesisReport | None:
    """The newest published report made from this one, if any (the public page points to it)."""
    return (
        SynthesisReport.objects.filter(based_on=report, status=SynthesisStatus.PUBLISHED)
        .order_by("-published_at")
        .first()
    )
