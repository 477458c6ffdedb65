"""Writes of synthesis reports: compose a draft, publish it (its figures frozen, its PDFs made),
withdraw it from the public site, start a new version, discard a draft. Only the programme's
managers act (``permissions.can_compose_synthesis``); every action is audited."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from betterwork import audit, permissions
from betterwork.models import Programme
from betterwork.permissions import Principal
from reporting import services, synthesis
from reporting.kinds import SYNTHESIS_REPORT
from reporting.models import SynthesisKind, SynthesisReport, SynthesisScope, SynthesisStatus

TITLE_MAX_LENGTH = 200
INTRODUCTION_MAX_LENGTH = 5000
REASON_MAX_LENGTH = 2000
THEME_MAX_QUESTIONS = 300
EARLIEST_YEAR, LATEST_YEAR = 1990, 2100


class StaleSynthesis(ValidationError):
    """A colleague changed the report meanwhile: nothing was applied."""


def _stale() -> StaleSynthesis:
    return StaleSynthesis(_("Someone else changed this report meanwhile; reload the page to see it."))


@dataclass
class SynthesisInput:
    """What a manager composes: the words, the scope and the theme."""

    title: str
    kind: str = SynthesisKind.ANNUAL
    introduction: str = ""
    scope: str = SynthesisScope.YEARS
    cycles: list[int] = field(default_factory=list)
    year_from: int | None = None
    year_to: int | None = None
    region: str = ""
    sector: str = ""
    size: str = ""
    union_present: bool | None = None
    theme_keys: list[str] = field(default_factory=list)

    def cleaned(self) -> SynthesisInput:
        """The input checked and tidied; ValidationError names the fields at fault."""
        errors: dict[str, str] = {}
        title, introduction = self.title.strip(), self.introduction.strip()
        if not title:
            errors["title"] = _("Give the report a title.")
        elif len(title) > TITLE_MAX_LENGTH:
            errors["title"] = _("Keep the title under %(count)s characters.") % {"count": TITLE_MAX_LENGTH}
        if len(introduction) > INTRODUCTION_MAX_LENGTH:
            errors["introduction"] = _("Keep the introduction under %(count)s characters.") % {
                "count": INTRODUCTION_MAX_LENGTH
            }
        if self.kind not in SynthesisKind.values:
            errors["kind"] = _("Choose annual or thematic.")
        cycles: list[int] = []
        year_from = year_to = None
        if self.scope == SynthesisScope.CYCLES:
            cycles = sorted({int(c) for c in self.cycles if int(c) > 0})
            if not cycles:
                errors["cycles"] = _("Choose at least one cycle.")
        elif self.scope == SynthesisScope.YEARS:
            year_from, year_to = self.year_from, self.year_to
            if year_from is None or year_to is None:
                errors["year_from"] = _("Give the first and the last year of the visits counted.")
            elif not EARLIEST_YEAR <= year_from <= year_to <= LATEST_YEAR:
                errors["year_to"] = _("The last year cannot come before the first.")
        else:
            errors["scope"] = _("Count by cycles or by years.")
        keys = list(dict.fromkeys(key.strip() for key in self.theme_keys if key.strip()))
        if self.kind == SynthesisKind.THEMATIC and not keys:
            errors["theme_questions"] = _("A thematic report needs at least one question in its theme.")
        if len(keys) > THEME_MAX_QUESTIONS:
            errors["theme_questions"] = _("A theme holds at most %(count)s questions.") % {
                "count": THEME_MAX_QUESTIONS
            }
        if errors:
            raise ValidationError(errors)
        return SynthesisInput(
            title=title,
            kind=self.kind,
            introduction=introduction,
            scope=self.scope,
            cycles=cycles,
            year_from=year_from,
            year_to=year_to,
            region=self.region.strip(),
            sector=self.sector,
            size=self.size,
            union_present=self.union_present,
            theme_keys=keys,
        )


AUDITED = [
    "title",
    "kind",
    "introduction",
    "scope",
    "cycles",
    "year_from",
    "year_to",
    "region",
    "sector",
    "size",
    "union_present",
    "theme_keys",
    "status",
    "based_on",
]


def _check(actor: Principal, programme_id: int) -> None:
    if not permissions.can_compose_synthesis(actor, programme_id):
        raise PermissionDenied


def _locked(report: SynthesisReport, expected_version: int | None) -> SynthesisReport:
    locked = SynthesisReport.objects.select_for_update().select_related("programme").get(pk=report.pk)
    if expected_version is not None and locked.version != expected_version:
        raise _stale()
    return locked


@transaction.atomic
def synthesis_create(
    *, actor: Principal, programme: Programme, data: SynthesisInput, based_on: SynthesisReport | None = None
) -> SynthesisReport:
    """A new draft."""
    _check(actor, programme.pk)
    report = SynthesisReport(
        programme=programme, created_by=actor.user, based_on=based_on, **asdict(data.cleaned())
    )
    report.full_clean()
    report.save()
    audit.record(
        actor=actor.user,
        action="synthesis.create",
        obj=report,
        programme=programme,
        after=audit.snapshot(report, AUDITED),
    )
    return report


@transaction.atomic
def synthesis_update(
    *, actor: Principal, report: SynthesisReport, data: SynthesisInput, expected_version: int
) -> SynthesisReport:
    """Change a draft; a published report never changes (a new version is a new report)."""
    _check(actor, report.programme_id)
    report = _locked(report, expected_version)
    if not report.is_draft:
        raise ValidationError(_("A published report never changes: start a new version instead."))
    changes = asdict(data.cleaned())
    if any(getattr(report, name) != value for name, value in changes.items()):
        audit.save_changes(
            actor=actor.user,
            instance=report,
            changes={**changes, "version": report.version + 1},
            action="synthesis.update",
            programme=report.programme_id,
        )
    return report


def _snapshot_sha256(snapshot: dict[str, object]) -> str:
    text = json.dumps(snapshot, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@transaction.atomic
def synthesis_publish(*, actor: Principal, report: SynthesisReport, expected_version: int) -> SynthesisReport:
    """Freeze the figures as they stand, put the report on the public site, and make its PDFs in
    English and the programme's languages (in the background, once this commits)."""
    _check(actor, report.programme_id)
    report = _locked(report, expected_version)
    if not report.is_draft:
        raise ValidationError(_("This report is already published."))
    snapshot = synthesis.compute(report)
    if not snapshot["counted"]["assessments"]:
        raise ValidationError(_("Nothing to publish: no final assessment counts within this scope."))
    report.snapshot = snapshot
    report.status = SynthesisStatus.PUBLISHED
    report.published_at = timezone.now()
    report.published_by = actor.user
    report.version += 1
    report.save(update_fields=["snapshot", "status", "published_at", "published_by", "version", "updated_at"])
    audit.record(
        actor=actor.user,
        action="synthesis.publish",
        obj=report,
        programme=report.programme_id,
        before={"status": SynthesisStatus.DRAFT},
        after={
            "status": report.status,
            "published_at": report.published_at.isoformat(),
            "factories": snapshot["counted"]["factories"],
            "assessments": snapshot["counted"]["assessments"],
            "snapshot_sha256": _snapshot_sha256(snapshot),
        },
    )
    for language in SYNTHESIS_REPORT.languages(report):
        services.report_request(
            actor=None, kind_name=SYNTHESIS_REPORT.name, target_id=report.pk, language=language
        )
    return report


@transaction.atomic
def synthesis_withdraw(*, actor: Principal, report: SynthesisReport, reason: str) -> SynthesisReport:
    """Take a published report off the public site, saying why; it stays on record."""
    _check(actor, report.programme_id)
    report = _locked(report, None)
    if report.status != SynthesisStatus.PUBLISHED:
        raise ValidationError(_("Only a published report can be withdrawn."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the report is withdrawn.")})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": _("Keep the reason under %(count)s characters.") % {"count": REASON_MAX_LENGTH}}
        )
    report.status = SynthesisStatus.WITHDRAWN
    report.withdrawn_at = timezone.now()
    report.withdrawn_by = actor.user
    report.withdrawal_reason = reason
    report.version += 1
    report.save(
        update_fields=["status", "withdrawn_at", "withdrawn_by", "withdrawal_reason", "version", "updated_at"]
    )
    audit.record(
        actor=actor.user,
        action="synthesis.withdraw",
        obj=report,
        programme=report.programme_id,
        before={"status": SynthesisStatus.PUBLISHED},
        after={"status": report.status},
        reason=reason,
    )
    return report


@transaction.atomic
def synthesis_new_version(*, actor: Principal, report: SynthesisReport) -> SynthesisReport:
    """A new draft with the words, scope and theme of a published (or withdrawn) report."""
    _check(actor, report.programme_id)
    if report.is_draft:
        raise ValidationError(_("A draft is changed in place; a new version starts from a published report."))
    data = SynthesisInput(**{name: getattr(report, name) for name in SynthesisInput.__dataclass_fields__})
    return synthesis_create(actor=actor, programme=report.programme, data=data, based_on=report)


@transaction.atomic
def synthesis_delete(*, actor: Principal, report: SynthesisReport, expected_version: int) -> None:
    """Discard a draft; published reports stay on record (withdraw them instead)."""
    _check(actor, report.programme_id)
    report = _locked(report, expected_version)
    if not report.is_draft:
        raise ValidationError(_("Only a draft can be deleted; withdraw a published report instead."))
    audit.record(
        actor=actor.user,
        action="synthesis.delete",
        obj=report,
        programme=report.programme_id,
        before=audit.snapshot(report, AUDITED),
    )
    report.delete()
