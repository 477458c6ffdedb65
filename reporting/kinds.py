"""The kinds of report the platform renders. A kind is a template and a context selector, plus
how to find its target, who may read it and what fingerprints its input; adding a kind (the
progress reports, the synthesis report) is adding one entry here, its selector and its template."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from betterwork import permissions
from betterwork.permissions import Principal
from buyers import access as buyer_access
from reporting import selectors, statements, synthesis


@dataclass(frozen=True)
class ReportKind:
    name: str
    title: str | Promise
    template: str
    # Raise it when the template changes what a report looks like: reports render anew.
    template_version: int
    load: Callable[[int], Any]  # the target, within the current scope, or Http404
    may_read: Callable[[Principal, Any], bool]
    snapshot: Callable[[Any], dict[str, Any]]  # everything the report shows, to fingerprint
    context: Callable[[Any], dict[str, Any]]  # the template's context, built in the report's language
    filename: Callable[[Any, str], str]
    languages: Callable[[Any], list[str]]  # English and the programme's languages

    def input_hash(self, target: Any) -> str:
        """The fingerprint of what the report would show now: same input, same job."""
        return fingerprint(self.snapshot(target))


def fingerprint(snapshot: dict[str, Any]) -> str:
    """The hash of a report's snapshot (``ReportKind.input_hash``), for snapshots taken in bulk."""
    text = json.dumps(snapshot, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def programme_languages(target: Any) -> list[str]:
    languages = ["en", *target.programme.languages]
    return list(dict.fromkeys(code for code in languages if code))


ASSESSMENT_REPORT = ReportKind(
    name="assessment",
    title=_("Assessment report"),
    template="reports/assessment.html",
    template_version=1,
    load=selectors.report_assessment,
    may_read=lambda principal, a: (
        permissions.can_read_final_report(principal, a)
        or (
            a.status == "published"
            and buyer_access.may_read(principal, factory_id=a.factory_id, cycle=a.cycle)
        )
    ),
    snapshot=selectors.assessment_report_snapshot,
    context=selectors.assessment_report_context,
    filename=lambda a, language: f"{a.factory.public_id}-cycle-{a.cycle}-{language}.pdf",
    languages=programme_languages,
)

PROGRESS_REPORT = ReportKind(
    name="progress_report",
    title=_("Progress report"),
    template="reports/progress.html",
    # 2: committee members are shown by role and side, without names.
    template_version=2,
    load=selectors.report_progress,
    may_read=lambda principal, report: (
        permissions.can_view_plan(principal, report.factory)
        or buyer_access.may_read(principal, factory_id=report.factory_id, cycle=report.plan.cycle)
    ),
    snapshot=selectors.progress_report_snapshot,
    context=selectors.progress_report_context,
    filename=lambda r, language: (
        f"{r.factory.public_id}-cycle-{r.plan.cycle}-progress-{r.number}-{language}.pdf"
    ),
    languages=programme_languages,
)

# A buyer's statement of one programme and year (reporting/statements.py says why per programme).
BUYER_STATEMENT = ReportKind(
    name=statements.KIND_NAME,
    title=_("Buyer statement"),
    template="reports/statement.html",
    template_version=1,
    load=statements.load_statement,
    may_read=statements.may_read_statement,
    snapshot=statements.statement_snapshot,
    context=statements.statement_context,
    filename=lambda s, language: f"statement-{s.year}-{s.programme.code}-{s.buyer.pk}-{language}.pdf",
    languages=programme_languages,
)

# A synthesis report of the programme's figures: a draft for its managers, public once published.
SYNTHESIS_REPORT = ReportKind(
    name=synthesis.KIND_NAME,
    title=_("Synthesis report"),
    template="reports/synthesis.html",
    template_version=1,
    load=synthesis.load_report,
    may_read=permissions.can_read_synthesis,
    snapshot=synthesis.report_snapshot,
    context=synthesis.report_context,
    filename=lambda r, language: f"{r.programme.code}-synthesis-{r.pk}-{language}.pdf",
    languages=programme_languages,
)

KINDS: dict[str, ReportKind] = {
    kind.name: kind for kind in (ASSESSMENT_REPORT, PROGRESS_REPORT, BUYER_STATEMENT, SYNTHESIS_REPORT)
}
