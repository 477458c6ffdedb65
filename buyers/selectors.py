"""Read queries of the buyer portal, the factory's buyers page and the programme's subscriptions.

A buyer's pages run under its scope (the programmes where it may read something now, see
``buyers.access``); a factory awaiting consent is listed from the buyer's access rows alone, and
every query of a programme's rows narrows further to the buyer's own factories and to the cycles
it may read now. The portal list costs the same handful of queries for 2 or 200 factories:
figures are grouped in SQL, never asked per factory.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.module_loading import import_string

from advisory.models import ImprovementPlan, ProgressReport, ProgressStatus
from assessments.models import Answer, AnswerValue, Assessment, AssessmentStatus, Cluster
from betterwork import permissions
from betterwork.models import AuditEvent, Programme, Role, RoleGrant, User
from betterwork.permissions import Principal
from buyers import access
from buyers.models import Buyer, BuyerAccess, Consent, ConsentChange, Subscription
from factories.models import Factory

NEW_FOR_DAYS = 30
SHARED, AWAITING_CONSENT, NOT_ACTIVE = "shared", "awaiting_consent", "not_active"
STATUSES = (SHARED, AWAITING_CONSENT, NOT_ACTIVE)
ASSESSMENT_KIND = "assessment"
PROGRESS_KIND = "progress_report"


@dataclass
class ClusterShare:
    """One cluster of one assessment: its assessed and non-compliant compliance points."""

    cluster: Cluster
    points_assessed: int = 0
    points_non_compliant: int = 0

    @property
    def share(self) -> float | None:
        return self.points_non_compliant / self.points_assessed if self.points_assessed else None


@dataclass(frozen=True)
class SubscribedFactory:
    """What a buyer knows of a factory it subscribes to, from its access rows alone (no programme's
    rows are read): enough to list it, with or without consent."""

    pk: int
    name: str
    region: str
    programme: Programme

    @classmethod
    def of(cls, row: BuyerAccess) -> SubscribedFactory:
        return cls(
            pk=row.factory_id, name=row.factory_name, region=row.factory_region, programme=row.programme
        )


@dataclass
class FactoryRow:
    factory: SubscribedFactory
    consented: bool
    cycles: list[int]  # subscribed (live)
    readable_cycles: list[int]
    assessment: Assessment | None = None  # the latest readable published one
    clusters: list[ClusterShare] = field(default_factory=list)
    plan: dict[str, int] | None = None
    new_reports: int = 0

    @property
    def latest_cycle(self) -> int | None:
        return max(self.readable_cycles) if self.readable_cycles else None

    @property
    def status(self) -> str:
        """ "shared": a cycle is readable now; "awaiting_consent"; "not_active": the factory
        consents but no subscription runs today (requested, or its period not begun)."""
        if self.readable_cycles:
            return SHARED
        return NOT_ACTIVE if self.consented else AWAITING_CONSENT

    def non_compliant_in(self, cluster_code: str) -> bool:
        return any(c.cluster.code == cluster_code and c.points_non_compliant for c in self.clusters)

    @property
    def points_non_compliant(self) -> int:
        return sum(c.points_non_compliant for c in self.clusters)


# --- Cluster figures for many assessments in one grouped query ----------------------------------


def cluster_figures(*, assessment_ids: list[int]) -> dict[int, list[ClusterShare]]:
    """Per assessment, per cluster: compliance points assessed (any question answered C or NC)
    and non-compliant (any NC), the counting rules of ``assessments.figures``, in two queries."""
    if not assessment_ids:
        return {}
    per_point = (
        Answer.objects.filter(assessment_id__in=assessment_ids)
        .exclude(value="")
        .values("assessment_id", "question__point_id", "question__point__cluster_id")
        .annotate(
            assessed=Count("id", filter=Q(value__in=(AnswerValue.COMPLIANT, AnswerValue.NON_COMPLIANT))),
            nc=Count("id", filter=Q(value=AnswerValue.NON_COMPLIANT)),
        )
    )
    clusters = {c.pk: c for c in Cluster.objects.all()}
    found: dict[int, dict[int, ClusterShare]] = defaultdict(dict)
    for row in per_point:
        cluster_id = row["question__point__cluster_id"]
        share = found[row["assessment_id"]].setdefault(cluster_id, ClusterShare(cluster=clusters[cluster_id]))
        share.points_assessed += row["assessed"] > 0
        share.points_non_compliant += row["nc"] > 0
    return {
        assessment_id: sorted(by_cluster.values(), key=lambda c: c.cluster.order)
        for assessment_id, by_cluster in found.items()
    }


def _plan_summaries(plans: list[ImprovementPlan], today: dt.date) -> dict[int, dict[str, int]]:
    from advisory.selectors import plan_summaries

    return plan_summaries(plan_ids=[p.pk for p in plans], today=today)


# --- The buyer's factories ------------------------------------------------------------------------


def buyer_factories(*, principal: Principal) -> list[FactoryRow]:
    """Every factory the buyer holds a live subscription to, with what it may read of it."""
    today = timezone.localdate()
    rows: dict[int, FactoryRow] = {}
    access_rows = (
        access.live_rows(principal)
        .select_related("programme")
        .order_by("factory_name", "factory_id", "cycle")
    )
    for row in access_rows:
        entry = rows.get(row.factory_id)
        if entry is None:
            entry = rows[row.factory_id] = FactoryRow(
                factory=SubscribedFactory.of(row), consented=False, cycles=[], readable_cycles=[]
            )
        entry.cycles.append(row.cycle)
        entry.consented = entry.consented or row.consented
        if (
            row.consented
            and row.valid_from
            and row.valid_until
            and row.valid_from <= today <= row.valid_until
        ):
            entry.readable_cycles.append(row.cycle)
    readable = {f: set(r.readable_cycles) for f, r in rows.items() if r.readable_cycles}
    if not readable:
        return list(rows.values())

    all_cycles = set().union(*readable.values())
    published = [
        a
        for a in Assessment.objects.filter(
            factory_id__in=readable, cycle__in=all_cycles, status=AssessmentStatus.PUBLISHED
        ).order_by("factory_id", "cycle")
        if a.cycle in readable[a.factory_id]
    ]
    for assessment in published:  # ordered by cycle: the latest wins
        rows[assessment.factory_id].assessment = assessment
    figures = cluster_figures(assessment_ids=[r.assessment.pk for r in rows.values() if r.assessment])
    for entry in rows.values():
        if entry.assessment:
            entry.clusters = figures.get(entry.assessment.pk, [])

    plans = [
        p
        for p in ImprovementPlan.objects.filter(factory_id__in=readable, cycle__in=all_cycles).order_by(
            "cycle"
        )
        if p.cycle in readable[p.factory_id]
    ]
    latest_plan = {p.factory_id: p for p in plans}
    summaries = _plan_summaries(list(latest_plan.values()), today)
    for factory_id, plan in latest_plan.items():
        rows[factory_id].plan = summaries.get(plan.pk)

    since = timezone.now() - dt.timedelta(days=NEW_FOR_DAYS)
    progress = ProgressReport.objects.filter(
        plan_id__in=[p.pk for p in plans], status=ProgressStatus.SUBMITTED
    ).values_list("pk", "factory_id")
    targets = {(ASSESSMENT_KIND, a.pk): a.factory_id for a in published}
    targets |= {(PROGRESS_KIND, pk): factory_id for pk, factory_id in progress}
    fresh = {
        (job.kind, job.target_id)
        for job in report_jobs(targets=list(targets))
        if job.finished_at and job.finished_at >= since
    }
    for key in fresh:
        rows[targets[key]].new_reports += 1
    return list(rows.values())


def filter_factories(
    rows: list[FactoryRow], *, programme: str = "", status: str = "", cluster: str = "", new: bool = False
) -> list[FactoryRow]:
    """The portal's and the API's filters; ``cluster``: non-compliant in that cluster (by its code)
    in the latest readable published assessment."""
    if programme:
        rows = [r for r in rows if r.factory.programme.code == programme]
    if status:
        rows = [r for r in rows if r.status == status]
    if cluster:
        rows = [r for r in rows if r.non_compliant_in(cluster)]
    if new:
        rows = [r for r in rows if r.new_reports]
    return rows


def cluster_choices() -> QuerySet[Cluster]:
    return Cluster.objects.order_by("order", "code")


def buyer_programmes(rows: list[FactoryRow]) -> list[Programme]:
    return sorted({r.factory.programme for r in rows}, key=lambda p: p.code)


def access_buyer_factory(
    *, principal: Principal, factory_id: int
) -> tuple[SubscribedFactory, bool, list[int]]:
    """A factory the buyer holds a live subscription to: the factory, whether it consents, and the
    cycles the buyer may read now; else 404 (absent and forbidden look alike)."""
    if not principal.buyer_ids():
        raise Http404
    cycles = sorted(access.readable_factories(principal).get(factory_id, set()))
    rows = list(access.live_rows(principal).filter(factory_id=factory_id).select_related("programme"))
    if not rows:
        raise Http404
    return SubscribedFactory.of(rows[0]), any(r.consented for r in rows), cycles


@dataclass
class CycleReports:
    cycle: int
    assessment: Assessment | None
    clusters: list[ClusterShare]
    plan: ImprovementPlan | None
    plan_summary: dict[str, int] | None
    progress_reports: list[ProgressReport]


def buyer_factory_reports(*, factory: SubscribedFactory, cycles: list[int]) -> list[CycleReports]:
    """For each readable cycle (latest first): its published assessment, its plan and the
    submitted progress reports, in a few queries however many cycles."""
    if not cycles:
        return []
    assessments = {
        a.cycle: a
        for a in Assessment.objects.filter(
            factory_id=factory.pk, cycle__in=cycles, status=AssessmentStatus.PUBLISHED
        )
    }
    figures = cluster_figures(assessment_ids=[a.pk for a in assessments.values()])
    plans = {p.cycle: p for p in ImprovementPlan.objects.filter(factory_id=factory.pk, cycle__in=cycles)}
    reports: dict[int, list[ProgressReport]] = defaultdict(list)
    for report in ProgressReport.objects.filter(
        plan__in=plans.values(), status=ProgressStatus.SUBMITTED
    ).select_related("plan"):
        reports[report.plan.cycle].append(report)
    summaries = _plan_summaries(list(plans.values()), factory.programme.today())
    return [
        CycleReports(
            cycle=cycle,
            assessment=assessments.get(cycle),
            clusters=figures.get(assessments[cycle].pk, []) if cycle in assessments else [],
            plan=plans.get(cycle),
            plan_summary=summaries.get(plans[cycle].pk) if cycle in plans else None,
            progress_reports=reports.get(cycle, []),
        )
        for cycle in sorted(cycles, reverse=True)
    ]


def supply_base(*, rows: list[FactoryRow]) -> tuple[list[dict[str, Any]], int]:
    """Across the buyer's readable factories' latest published assessments: per cluster, the
    share of factories non-compliant among those where the cluster was assessed."""
    counted = [r for r in rows if r.assessment]
    per_cluster: dict[int, dict[str, Any]] = {}
    for row in counted:
        for share in row.clusters:
            entry = per_cluster.setdefault(
                share.cluster.pk, {"cluster": share.cluster, "assessed": 0, "non_compliant": 0}
            )
            entry["assessed"] += share.points_assessed > 0
            entry["non_compliant"] += share.points_non_compliant > 0
    result = sorted(per_cluster.values(), key=lambda e: e["cluster"].order)
    for entry in result:
        entry["share"] = entry["non_compliant"] / entry["assessed"] if entry["assessed"] else None
    return result, len(counted)


# --- The factory's side: its buyers, consents and downloads --------------------------------------


def factory_subscriptions(*, factory: Factory) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(factory=factory).select_related("buyer").order_by("buyer__name", "-cycle")
    )


def subscriptions_with_credits(*, factory: Factory) -> list[Subscription]:
    """The factory's subscriptions, each with ``credit_balance``: its buyer's credits left in the
    factory's programme (what the activation form offers)."""
    from buyers.credits import credits_balances

    found = list(factory_subscriptions(factory=factory))
    balances = credits_balances(programme=factory.programme, buyer_ids=sorted({s.buyer_id for s in found}))
    for subscription in found:
        subscription.credit_balance = balances.get(subscription.buyer_id, {}).get("left", 0)  # type: ignore[attr-defined]
    return found


def factory_buyers(*, factory: Factory) -> list[dict[str, Any]]:
    """One entry per buyer holding a subscription to the factory: its subscriptions and consent."""
    consents = {c.buyer_id: c for c in Consent.objects.filter(factory=factory)}
    buyers: dict[int, dict[str, Any]] = {}
    for subscription in factory_subscriptions(factory=factory):
        entry = buyers.setdefault(
            subscription.buyer_id,
            {
                "buyer": subscription.buyer,
                "subscriptions": [],
                "consent": consents.get(subscription.buyer_id),
            },
        )
        entry["subscriptions"].append(subscription)
    return list(buyers.values())


def consent_history(*, factory: Factory) -> QuerySet[ConsentChange]:
    return ConsentChange.objects.filter(consent__factory=factory).select_related("consent__buyer", "by")


def report_jobs(*, targets: list[tuple[str, int]], ready_only: bool = True) -> list[Any]:
    """Report jobs of these (kind, target id) pairs, newest first, from reporting's selector
    (named in settings: reporting sits above buyers)."""
    selector = import_string(settings.REPORT_JOBS_SELECTOR)
    jobs: list[Any] = selector(targets=targets, ready_only=ready_only)
    return jobs


def report_downloads(*, factory: Factory, limit: int = 200) -> list[dict[str, Any]]:
    """Who downloaded which of the factory's reports when (the ``report.download`` audit events)."""
    targets = [
        (ASSESSMENT_KIND, pk)
        for pk in Assessment.objects.filter(factory=factory).values_list("pk", flat=True)
    ]
    targets += [
        (PROGRESS_KIND, pk)
        for pk in ProgressReport.objects.filter(factory=factory).values_list("pk", flat=True)
    ]
    jobs = {str(job.pk): job for job in report_jobs(targets=targets, ready_only=False)}
    if not jobs:
        return []
    events = list(
        AuditEvent.objects.filter(
            programme_id=factory.programme_id,
            action="report.download",
            object_type=next(iter(jobs.values()))._meta.label_lower,
            object_id__in=list(jobs),
        ).select_related("actor")[:limit]
    )
    buyer_of = _buyer_names({e.actor_id for e in events if e.actor_id})
    return [
        {"event": event, "job": jobs[event.object_id], "buyer": buyer_of.get(event.actor_id or 0, "")}
        for event in events
    ]


def _buyer_names(user_ids: set[int]) -> dict[int, str]:
    rows = RoleGrant.objects.filter(user_id__in=user_ids, role=Role.BUYER).values_list(
        "user_id", "buyer__name"
    )
    return dict(rows)


def access_factory_subscription(*, factory: Factory, subscription_id: int) -> Subscription:
    found = factory_subscriptions(factory=factory).filter(pk=subscription_id).first()
    if found is None:
        raise Http404
    return found


def access_factory_buyer(*, factory: Factory, buyer_id: int) -> Buyer:
    """A buyer holding (or having held) a subscription to this factory."""
    found = Buyer.objects.filter(pk=buyer_id, subscriptions__factory=factory).distinct().first()
    if found is None:
        raise Http404
    return found


def buyer_choices() -> QuerySet[Buyer]:
    return Buyer.objects.order_by("name")


def can_manage_subscriptions(principal: Principal, factory: Factory) -> bool:
    return permissions.can_manage_programme_users(principal, factory.programme_id)


# --- The programme's export ---------------------------------------------------------------------


def programme_subscriptions(*, programme: Programme) -> Iterator[Subscription]:
    """Every subscription to the programme's factories with its buyer, factory and credit purchase,
    and the factory's consent to that buyer (``consent_granted``: True, False, or None when the
    factory has not decided; ``consent_changed_at``); by factory, buyer and cycle, read 2,000 at a
    time: the same queries for any number of subscriptions."""
    consent = Consent.objects.filter(factory=OuterRef("factory"), buyer=OuterRef("buyer"))
    return (
        Subscription.objects.filter(programme=programme)
        .select_related("buyer", "factory", "credit_purchase")
        .annotate(
            consent_granted=Subquery(consent.values("granted")[:1]),
            consent_changed_at=Subquery(consent.values("changed_at")[:1]),
        )
        .order_by("factory__name", "factory_id", "buyer__name", "buyer_id", "cycle", "id")
        .iterator(chunk_size=2000)
    )


# --- Who hears about a new report -------------------------------------------------------------


def readers_of(*, factory_id: int, cycle: int) -> list[User]:
    """Users of buyers that may read this factory's reports of this cycle now."""
    today = timezone.localdate()
    buyer_ids = BuyerAccess.objects.filter(
        factory_id=factory_id, cycle=cycle, consented=True, valid_from__lte=today, valid_until__gte=today
    ).values("buyer_id")
    return list(
        User.objects.filter(
            is_active=True, grants__role=Role.BUYER, grants__buyer_id__in=buyer_ids
        ).distinct()
    )


def readable_report_jobs(*, cycles: list[CycleReports]) -> list[dict[str, Any]]:
    """The readable reports of a factory with their ready PDFs (the newest per language)."""
    reports: list[dict[str, Any]] = []
    for entry in cycles:
        if entry.assessment:
            reports.append(
                {"kind": ASSESSMENT_KIND, "target": entry.assessment.pk, "cycle": entry.cycle, "number": None}
            )
        for progress in entry.progress_reports:
            reports.append(
                {
                    "kind": PROGRESS_KIND,
                    "target": progress.pk,
                    "cycle": entry.cycle,
                    "number": progress.number,
                }
            )
    jobs: dict[tuple[str, int], dict[str, Any]] = defaultdict(dict)
    for job in report_jobs(targets=[(r["kind"], r["target"]) for r in reports]):
        jobs[(job.kind, job.target_id)].setdefault(job.language, job)  # newest first: the first wins
    for report in reports:
        report["jobs"] = sorted(jobs[(report["kind"], report["target"])].values(), key=lambda j: j.language)
    return reports
