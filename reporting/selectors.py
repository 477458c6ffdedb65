"""Read queries behind the home page: what each kind of user should see first."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Q, Sum
from django.http import Http404

from advisory.models import ProgressReport, ProgressStatus
from assessments import figures
from assessments.models import Answer, Assessment, AssessmentAssessor
from betterwork import permissions
from betterwork import selectors as people_selectors
from betterwork.models import PROGRAMME_STAFF_ROLES, Programme, Role
from betterwork.permissions import Principal
from buyers.models import Buyer
from factories import selectors as factory_selectors
from reporting.models import JobStatus, ProgrammeArchive, ReportJob


def home_sections(*, principal: Principal) -> dict[str, Any]:
    """One section per kind of grant; every figure comes from one grouped query."""
    programmes = people_selectors.navigation_programmes(principal=principal)
    summaries = factory_selectors.programme_summaries(programme_ids=[p.pk for p in programmes])
    staff: list[dict[str, Any]] = []
    global_rows: list[dict[str, Any]] = []
    for programme in programmes:
        roles = principal.roles_in(programme.pk)
        entry = {
            "programme": programme,
            "summary": summaries[programme.pk],
            "roles": [Role(r).label for r in sorted(roles & PROGRAMME_STAFF_ROLES)],
            "can_manage_users": permissions.can_manage_programme_users(principal, programme.pk),
            "can_export": permissions.can_export_programme_data(principal, programme.pk),
        }
        if roles & PROGRAMME_STAFF_ROLES:
            staff.append(entry)
        if Role.GLOBAL in roles:
            global_rows.append(entry)
    return {
        "staff_programmes": staff,
        "global_programmes": global_rows,
        "global_totals": _totals(global_rows),
        "my_factories": list(factory_selectors.factories_of_user(principal=principal)),
        "my_reports": list(
            Assessment.objects.filter(
                factory_id__in=principal.factory_ids(), status__in=permissions.FACTORY_VISIBLE_STATES
            ).select_related("factory", "programme")
        )
        if principal.factory_ids()
        else [],
        "committee_factories": list(factory_selectors.factories_on_committee(principal=principal)),
        "buyers": list(Buyer.objects.filter(pk__in=principal.buyer_ids())),
        "can_manage_programmes": permissions.can_manage_programmes(principal),
    }


def _totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "factories": sum(r["summary"]["factories"] for r in rows),
        "workers": sum(r["summary"]["workers"] for r in rows),
    }


# --- Report jobs and the contexts of report templates ----------------------------------------


def report_assessment(assessment_id: int) -> Assessment:
    """The assessment a report is about, with what its cover shows, in the current scope."""
    found = (
        Assessment.objects.select_related("factory", "programme", "tool_version", "reviewer")
        .filter(pk=assessment_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


def assessment_report_snapshot(assessment: Assessment) -> dict[str, Any]:
    """A fingerprint of everything the report shows: any change to it makes a new report."""
    answers = Answer.objects.filter(assessment=assessment).aggregate(
        count=Count("id"), versions=Sum("version"), latest=Max("updated_at")
    )
    previous = figures.previous_assessment(assessment)
    factory = assessment.factory
    return {
        "assessment": [assessment.pk, assessment.lock_version, assessment.status, str(assessment.final_at)],
        "answers": [answers["count"], answers["versions"], str(answers["latest"])],
        "factory": [factory.name, factory.public_id, factory.address, factory.region],
        "programme": [assessment.programme.name],
        "previous": [previous.pk, previous.lock_version] if previous else None,
        "assessors": sorted(
            AssessmentAssessor.objects.filter(assessment=assessment).values_list("user_id", flat=True)
        ),
    }


def assessment_report_context(assessment: Assessment) -> dict[str, Any]:
    """What the assessment report shows (built with the report's language active)."""
    found = figures.assessment_figures(assessment=assessment)
    by_cluster: dict[int, dict[str, Any]] = {}
    for item in found.clusters:
        by_cluster[item.cluster.pk] = {"figure": item, "points": [], "findings": []}
    for point in found.points:
        by_cluster[point.point.cluster_id]["points"].append(point)
    cluster_of_point = {p.point.code: p.point.cluster_id for p in found.points}
    for finding in found.non_compliant:
        by_cluster[cluster_of_point[finding.point_code]]["findings"].append(finding)
    earlier = list(
        Assessment.objects.filter(
            factory_id=assessment.factory_id, cycle__lt=assessment.cycle, status__in=figures.COUNTED
        )
        .order_by("cycle")
        .values("cycle", "visit_started_on", "visit_ended_on", "final_at")
    )
    assessors = [
        link.user.full_name or link.user.email
        for link in AssessmentAssessor.objects.filter(assessment=assessment)
        .select_related("user")
        .order_by("-lead")
    ]
    return {
        "assessment": assessment,
        "factory": assessment.factory,
        "programme": assessment.programme,
        "figures": found,
        "clusters": list(by_cluster.values()),
        "new_count": sum(1 for f in found.non_compliant if f.change == "new"),
        "persisting_count": sum(1 for f in found.non_compliant if f.change == "persisting"),
        "earlier": earlier,
        "assessors": assessors,
        "report_id": f"{assessment.factory.public_id}-C{assessment.cycle}-{assessment.pk}",
        "issued_on": assessment.final_at,
    }


def current_jobs(*, kind: Any, target: Any) -> list[tuple[str, ReportJob | None]]:
    """For each language of the report, its job for the target's present input (None: not asked yet)."""
    return current_jobs_of(kind=kind, targets=[target], hashes={target.pk: kind.input_hash(target)})[
        target.pk
    ]


def current_jobs_of(
    *, kind: Any, targets: list[Any], hashes: dict[int, str]
) -> dict[int, list[tuple[str, ReportJob | None]]]:
    """``current_jobs`` of several targets of one kind in one query, by target id; ``hashes``
    gives each target's input hash (by target id), taken however the caller best can."""
    found = {
        (job.target_id, job.language, job.input_hash): job
        for job in ReportJob.objects.filter(
            kind=kind.name,
            target_id__in=list(hashes),
            template_version=kind.template_version,
            input_hash__in=set(hashes.values()),
        )
    }
    return {
        target.pk: [
            (language, found.get((target.pk, language, hashes[target.pk])))
            for language in kind.languages(target)
        ]
        for target in targets
    }


def job_in(*, programme: Programme, job_id: int) -> ReportJob:
    job = ReportJob.objects.filter(programme=programme, pk=job_id).first()
    if job is None:
        raise Http404
    return job


def access_report(
    *, principal: Principal, programme: Programme, kind_name: str, target_id: int
) -> tuple[Any, Any]:
    """A report kind and its target in this programme, if the principal may read it; else 404
    (absent and forbidden look alike)."""
    from reporting.kinds import KINDS  # the kinds name this module's selectors: imported late

    kind = KINDS.get(kind_name)
    if kind is None:
        raise Http404
    target = kind.load(target_id)
    if target.programme_id != programme.pk or not kind.may_read(principal, target):
        raise Http404
    return kind, target


def access_job(*, principal: Principal, programme: Programme, job_id: int) -> tuple[Any, Any, ReportJob]:
    job = job_in(programme=programme, job_id=job_id)
    kind, target = access_report(
        principal=principal, programme=programme, kind_name=job.kind, target_id=job.target_id
    )
    return kind, target, job


def report_progress(report_id: int) -> ProgressReport:
    """A submitted progress report, in the current scope (drafts have no PDF)."""
    found = (
        ProgressReport.objects.select_related("factory", "programme", "plan", "submitted_by")
        .filter(pk=report_id, status=ProgressStatus.SUBMITTED)
        .first()
    )
    if found is None:
        raise Http404
    return found


def progress_report_snapshot(report: ProgressReport) -> dict[str, Any]:
    """What the PDF shows is frozen at submission: the snapshot and the statement fingerprint it."""
    return {
        "report": [report.pk, report.number, str(report.submitted_at)],
        "content": report.snapshot,
        "statement": report.factory_statement,
        "factory": [report.factory.name, report.factory.public_id],
        "programme": [report.programme.name],
    }


def progress_report_context(report: ProgressReport) -> dict[str, Any]:
    return {
        "report": report,
        "content": report.snapshot,
        "factory": report.factory,
        "programme": report.programme,
        "report_id": f"{report.factory.public_id}-C{report.plan.cycle}-PR{report.number}",
    }


def report_jobs(*, targets: list[tuple[str, int]], ready_only: bool = True) -> list[ReportJob]:
    """The jobs of these reports (kind, target id), newest first, in one query; named in
    ``settings.REPORT_JOBS_SELECTOR`` so that the buyer pages, which sit below reporting, can
    list a report's PDFs and tell new ones without importing this app."""
    if not targets:
        return []
    by_kind: dict[str, set[int]] = {}
    for kind_name, target_id in targets:
        by_kind.setdefault(kind_name, set()).add(target_id)
    condition = Q()
    for kind_name, target_ids in by_kind.items():
        condition |= Q(kind=kind_name, target_id__in=target_ids)
    jobs = ReportJob.objects.filter(condition)
    if ready_only:
        jobs = jobs.filter(status=JobStatus.READY)
    return list(jobs.order_by("-finished_at", "-id"))


def programme_archives(*, programme: Programme, limit: int = 5) -> list[ProgrammeArchive]:
    """The programme's latest archives, newest first (only the newest ready one has its file)."""
    return list(ProgrammeArchive.objects.filter(programme=programme).select_related("requested_by")[:limit])


def programme_archive(*, programme: Programme, archive_id: int) -> ProgrammeArchive:
    archive = ProgrammeArchive.objects.filter(programme=programme, pk=archive_id).first()
    if archive is None:
        raise Http404
    return archive
