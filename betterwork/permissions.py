"""Every permission rule of the platform, in one module.

A ``Principal`` is built once per request from the user's role grants. Rules take the
principal and the object; views and selectors ask here and answer 404 when refused, so
that ids of other programmes' objects do not leak.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Protocol

from django.utils import timezone

from betterwork.models import PROGRAMME_STAFF_ROLES, Programme, Role, RoleGrant, User


class ProgrammeObject(Protocol):
    programme_id: int


class FactoryObject(Protocol):
    pk: int
    programme_id: int


@dataclass(frozen=True)
class Grant:
    role: str
    programme_id: int | None
    factory_id: int | None
    buyer_id: int | None
    is_admin: bool
    manages_training: bool = False


@dataclass
class Principal:
    user: User | None
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    # Filled by betterwork.selectors.navigation_programmes: one query per request at most.
    programmes_cache: list[Programme] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(user=None)

    @classmethod
    def for_user(cls, user: User) -> Principal:
        if not user.is_authenticated or not user.is_active:
            return cls.anonymous()
        rows = RoleGrant.objects.filter(user=user).values_list(
            "role", "programme_id", "factory_id", "buyer_id", "is_admin", "manages_training"
        )
        return cls(user=user, grants=tuple(Grant(*row) for row in rows))

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None

    def roles(self) -> set[str]:
        return {g.role for g in self.grants}

    def has_role(self, role: str, programme_id: int | None = None) -> bool:
        return any(
            g.role == role and (programme_id is None or g.programme_id in (None, programme_id))
            for g in self.grants
        )

    @cached_property
    def is_global(self) -> bool:
        return any(g.role == Role.GLOBAL for g in self.grants)

    @cached_property
    def global_everywhere(self) -> bool:
        return any(g.role == Role.GLOBAL and g.programme_id is None for g in self.grants)

    def roles_in(self, programme_id: int) -> set[str]:
        roles = {g.role for g in self.grants if g.programme_id == programme_id}
        if self.global_everywhere:
            roles.add(Role.GLOBAL)
        return roles

    def granted_programme_ids(self, all_programme_ids: Iterable[int]) -> frozenset[int]:
        """The programmes this principal may touch at all: its scope outside a programme URL.

        Buyers get none here: their reach is their live, consented subscriptions, which the
        buyers app grants factory by factory.
        """
        if self.global_everywhere:
            return frozenset(all_programme_ids)
        return frozenset(
            g.programme_id for g in self.grants if g.programme_id is not None and g.role != Role.BUYER
        )

    def factory_ids(self) -> set[int]:
        return {g.factory_id for g in self.grants if g.role == Role.FACTORY and g.factory_id}

    def committee_factory_ids(self) -> set[int]:
        """Factories whose committee this principal sits on (read-only access to plan and minutes)."""
        return {g.factory_id for g in self.grants if g.role == Role.COMMITTEE_MEMBER and g.factory_id}

    def admin_factory_ids(self) -> set[int]:
        return {g.factory_id for g in self.grants if g.role == Role.FACTORY and g.factory_id and g.is_admin}

    def manages_training_in(self, programme_id: int) -> bool:
        return any(g.manages_training and g.programme_id == programme_id for g in self.grants)

    def buyer_ids(self) -> set[int]:
        return {g.buyer_id for g in self.grants if g.role == Role.BUYER and g.buyer_id}

    def admin_buyer_ids(self) -> set[int]:
        """Buyers whose users this principal manages (a buyer grant with ``is_admin``)."""
        return {g.buyer_id for g in self.grants if g.role == Role.BUYER and g.buyer_id and g.is_admin}


# --- Programme-level rules ------------------------------------------------------------------


def is_programme_staff(principal: Principal, programme_id: int) -> bool:
    return bool(principal.roles_in(programme_id) & PROGRAMME_STAFF_ROLES)


def can_view_programme(principal: Principal, programme: Programme | int) -> bool:
    programme_id = programme if isinstance(programme, int) else programme.pk
    return bool(principal.roles_in(programme_id))


def can_list_factories(principal: Principal, programme_id: int) -> bool:
    roles = principal.roles_in(programme_id)
    return bool(roles & (PROGRAMME_STAFF_ROLES | {Role.GLOBAL}))


def can_create_factory(principal: Principal, programme_id: int) -> bool:
    return is_programme_staff(principal, programme_id)


def can_import_factories(principal: Principal, programme_id: int) -> bool:
    """Replacing many registry entries at once is the programme manager's."""
    return Role.PROGRAMME_MANAGER in principal.roles_in(programme_id)


def can_import_assessments(principal: Principal, programme_id: int) -> bool:
    """Historical assessments enter the figures at once: the programme manager's to import."""
    return Role.PROGRAMME_MANAGER in principal.roles_in(programme_id)


def can_export_factories(principal: Principal, programme_id: int) -> bool:
    return is_programme_staff(principal, programme_id)


def can_export_programme_data(principal: Principal, programme_id: int) -> bool:
    """The programme's records as spreadsheets (improvement plans, committees, training,
    subscriptions) and the page listing every export: its managers, as for the assessments'."""
    return Role.PROGRAMME_MANAGER in principal.roles_in(programme_id)


def can_manage_programme_users(principal: Principal, programme_id: int) -> bool:
    return Role.PROGRAMME_MANAGER in principal.roles_in(programme_id)


def can_manage_programmes(principal: Principal) -> bool:
    return principal.global_everywhere


def can_manage_tool(principal: Principal) -> bool:
    """The compliance tool is global: the global team drafts, reviews and publishes it."""
    return principal.global_everywhere


def can_view_dashboard(principal: Principal, programme_id: int) -> bool:
    """The programme's figures (aggregates and the factories behind them): its staff and the
    global team."""
    return bool(principal.roles_in(programme_id) & (PROGRAMME_STAFF_ROLES | {Role.GLOBAL}))


def can_compare_programmes(principal: Principal) -> bool:
    return principal.global_everywhere


def can_view_audit(principal: Principal, programme_id: int) -> bool:
    roles = principal.roles_in(programme_id)
    return bool(roles & {Role.PROGRAMME_MANAGER, Role.GLOBAL})


# Which roles a programme manager may hand out inside their programme.
GRANTABLE_BY_PROGRAMME_MANAGER = (Role.ADVISOR, Role.TEAM_LEADER, Role.PROGRAMME_MANAGER, Role.FACTORY)


# --- Buyer organisations -------------------------------------------------------------------
# Buyer organisations are global (no programme): the global team keeps them; a buyer's own admins
# invite their colleagues.


def can_manage_buyers(principal: Principal) -> bool:
    return principal.global_everywhere


def can_invite_for_buyer(principal: Principal, buyer_id: int) -> bool:
    return can_manage_buyers(principal) or buyer_id in principal.admin_buyer_ids()


# --- Factory-level rules --------------------------------------------------------------------


def can_view_factory(principal: Principal, factory: FactoryObject) -> bool:
    if can_list_factories(principal, factory.programme_id):
        return True
    return factory.pk in principal.factory_ids()


def can_edit_factory(principal: Principal, factory: FactoryObject) -> bool:
    return is_programme_staff(principal, factory.programme_id)


def can_manage_factory_staff(principal: Principal, factory: FactoryObject) -> bool:
    if can_manage_programme_users(principal, factory.programme_id):
        return True
    return factory.pk in principal.admin_factory_ids()


# --- Assessment rules -----------------------------------------------------------------------
# Assessment objects are duck-typed (programme_id, factory_id, status, assessor ids) so this
# module needs no import of the assessments app.

# States in which a factory user sees its assessment (the draft report and after).
FACTORY_VISIBLE_STATES = frozenset({"factory_review", "final", "published"})


class AssessmentObject(Protocol):
    programme_id: int
    factory_id: int
    status: str


def can_manage_rounds(principal: Principal, programme_id: int) -> bool:
    """Rounds organise a programme's assessment calendar: its team leaders and managers set them."""
    return bool(principal.roles_in(programme_id) & {Role.TEAM_LEADER, Role.PROGRAMME_MANAGER})


def can_plan_assessment(principal: Principal, programme_id: int) -> bool:
    return is_programme_staff(principal, programme_id)


def can_view_assessment(principal: Principal, assessment: AssessmentObject) -> bool:
    if can_list_factories(principal, assessment.programme_id):
        return True
    return assessment.factory_id in principal.factory_ids() and assessment.status in FACTORY_VISIBLE_STATES


def can_see_visit_plans(principal: Principal, programme_id: int) -> bool:
    """Visits are unannounced: planned dates and assessors are for programme staff only."""
    return can_list_factories(principal, programme_id)


def is_one_of(principal: Principal, user_ids: set[int]) -> bool:
    return principal.user is not None and principal.user.pk in user_ids


is_assessor = is_one_of


def can_answer(principal: Principal, assessment: AssessmentObject, assessor_ids: set[int]) -> bool:
    return is_programme_staff(principal, assessment.programme_id) and is_assessor(principal, assessor_ids)


def can_review(principal: Principal, assessment: AssessmentObject, assessor_ids: set[int]) -> bool:
    """Team leaders and managers review, never their own assessment."""
    roles = principal.roles_in(assessment.programme_id)
    return bool(roles & {Role.TEAM_LEADER, Role.PROGRAMME_MANAGER}) and not is_assessor(
        principal, assessor_ids
    )


def can_finalise_or_cancel(principal: Principal, assessment: AssessmentObject) -> bool:
    return bool(principal.roles_in(assessment.programme_id) & {Role.TEAM_LEADER, Role.PROGRAMME_MANAGER})


def can_publish(principal: Principal, assessment: AssessmentObject) -> bool:
    return Role.PROGRAMME_MANAGER in principal.roles_in(assessment.programme_id)


def can_handle_cases(principal: Principal, programme_id: int) -> bool:
    """Zero-tolerance cases are handled by the programme's managers and team leaders."""
    return bool(principal.roles_in(programme_id) & {Role.TEAM_LEADER, Role.PROGRAMME_MANAGER})


def can_comment_on_draft(principal: Principal, assessment: AssessmentObject) -> bool:
    """The factory's own users comment on its draft report while it is in factory review."""
    return assessment.factory_id in principal.factory_ids() and assessment.status == "factory_review"


# Interview notes name and quote workers: personal data that never leaves the programme's team.
INTERVIEW_NOTES_CLOSED_STATES = frozenset({"final", "published", "cancelled"})


def can_read_interview_notes(
    principal: Principal, assessment: AssessmentObject, assessor_ids: set[int]
) -> bool:
    """The assessment's own assessors, and the programme's team leaders and managers who review
    it; never other advisors, factory, committee or buyer users, nor the global team."""
    if principal.roles_in(assessment.programme_id) & {Role.TEAM_LEADER, Role.PROGRAMME_MANAGER}:
        return True
    return can_answer(principal, assessment, assessor_ids)


def can_write_interview_notes(
    principal: Principal, assessment: AssessmentObject, assessor_ids: set[int]
) -> bool:
    """The assessment's assessors, until the report is final (then the notes are a record)."""
    return assessment.status not in INTERVIEW_NOTES_CLOSED_STATES and can_answer(
        principal, assessment, assessor_ids
    )


REPORTED_STATES = frozenset({"final", "published"})


def can_read_final_report(principal: Principal, assessment: AssessmentObject) -> bool:
    """The report PDF exists from final on: for the programme's staff and the factory's own users.
    (Buyers read it once published, consented and subscribed: the buyers' rules decide that.)"""
    return assessment.status in REPORTED_STATES and can_view_assessment(principal, assessment)


def can_read_draft_report(principal: Principal, assessment: AssessmentObject) -> bool:
    return can_view_assessment(principal, assessment) and assessment.status in FACTORY_VISIBLE_STATES


# --- The public transparency list ------------------------------------------------------------
# The list itself is public (reporting/transparency.py decides what it shows and when).


def can_view_transparency_entry(principal: Principal, factory: FactoryObject) -> bool:
    """How a factory's entry looks, or when it appears: the factory's own users and the staff."""
    return can_view_factory(principal, factory)


def can_respond_on_transparency_list(principal: Principal, factory: FactoryObject) -> bool:
    """A response beside the entry speaks for the factory: only its own users write and publish it."""
    return factory.pk in principal.factory_ids()


# --- Synthesis reports ----------------------------------------------------------------------
# A published synthesis report is public; drafts and withdrawn ones are the managers' own.


class SynthesisObject(Protocol):
    programme_id: int
    status: str


def can_compose_synthesis(principal: Principal, programme_id: int) -> bool:
    """Compose, preview, publish and withdraw the programme's synthesis reports: its managers."""
    return Role.PROGRAMME_MANAGER in principal.roles_in(programme_id)


def can_read_synthesis(principal: Principal, report: SynthesisObject) -> bool:
    """Anyone reads a published report (the public included); a draft or a withdrawn one only
    the programme's managers."""
    return report.status == "published" or can_compose_synthesis(principal, report.programme_id)


# --- Training rules -------------------------------------------------------------------------
# Training officers are advisors holding the training permission (RoleGrant.manages_training).


class SessionObject(Protocol):
    programme_id: int


def can_view_training(principal: Principal, programme_id: int) -> bool:
    """Sessions, participants' names and evaluations: the programme's staff and the global team."""
    return can_list_factories(principal, programme_id)


def can_manage_training(principal: Principal, programme_id: int) -> bool:
    """The catalogue, every session and the entitlements: training officers and managers."""
    return principal.manages_training_in(programme_id) or Role.PROGRAMME_MANAGER in principal.roles_in(
        programme_id
    )


def can_schedule_session(principal: Principal, programme_id: int) -> bool:
    """Advisors train too: any of the programme's staff may schedule a session (and then runs it)."""
    return is_programme_staff(principal, programme_id)


def can_run_session(principal: Principal, session: SessionObject, trainer_ids: set[int]) -> bool:
    """Enrol, record attendance and evaluations: the session's trainers, training officers, managers."""
    if can_manage_training(principal, session.programme_id):
        return True
    return is_programme_staff(principal, session.programme_id) and is_one_of(principal, trainer_ids)


def can_view_factory_training(principal: Principal, factory: FactoryObject) -> bool:
    """A factory's own users see its training use and its participants; staff see every factory's."""
    return can_view_training(principal, factory.programme_id) or factory.pk in principal.factory_ids()


# --- Advisory rules -------------------------------------------------------------------------
# The plan, the committee and its minutes belong to the factory: its users keep them, with the
# programme's staff; committee members read them. Advisors alone log visits and verify items.


def can_view_plan(principal: Principal, factory: FactoryObject) -> bool:
    return (
        can_list_factories(principal, factory.programme_id)
        or factory.pk in principal.factory_ids()
        or factory.pk in principal.committee_factory_ids()
    )


def can_edit_plan(principal: Principal, factory: FactoryObject) -> bool:
    return is_programme_staff(principal, factory.programme_id) or factory.pk in principal.factory_ids()


def can_start_plan(principal: Principal, factory: FactoryObject) -> bool:
    """Advisors turn an assessment's findings into the plan (the factory adds its own items)."""
    return is_programme_staff(principal, factory.programme_id)


def can_verify_items(principal: Principal, factory: FactoryObject) -> bool:
    """Publicly reported items the factory says are done need the programme's verification."""
    return is_programme_staff(principal, factory.programme_id)


def can_log_visits(principal: Principal, programme_id: int) -> bool:
    return is_programme_staff(principal, programme_id)


def can_view_visits(principal: Principal, factory: FactoryObject) -> bool:
    return can_list_factories(principal, factory.programme_id) or factory.pk in principal.factory_ids()


def can_view_committees(principal: Principal, factory: FactoryObject) -> bool:
    """Members, meetings and minutes: as the plan."""
    return can_view_plan(principal, factory)


def can_manage_committees(principal: Principal, factory: FactoryObject) -> bool:
    """The factory keeps its committee records, with the programme's staff."""
    return can_edit_plan(principal, factory)


def can_configure_committee_kinds(principal: Principal, programme_id: int) -> bool:
    return Role.PROGRAMME_MANAGER in principal.roles_in(programme_id)


def can_fill_self_diagnosis(principal: Principal, factory: FactoryObject) -> bool:
    return factory.pk in principal.factory_ids() or is_programme_staff(principal, factory.programme_id)


def can_view_self_diagnosis(principal: Principal, factory: FactoryObject) -> bool:
    """The factory's own users and the programme's staff fill it; the global team reads it too."""
    return can_fill_self_diagnosis(principal, factory) or can_list_factories(principal, factory.programme_id)


class VisitObject(Protocol):
    programme_id: int
    created_by_id: int | None
    created_at: datetime


EDIT_ANY_VISIT_ROLES = frozenset({Role.TEAM_LEADER, Role.PROGRAMME_MANAGER})
VISIT_DELETABLE_FOR = timedelta(days=7)


def can_edit_visit(principal: Principal, visit: VisitObject, advisor_ids: set[int]) -> bool:
    """Its advisors and whoever logged it, if still staff; team leaders and managers of the programme."""
    if not can_log_visits(principal, visit.programme_id):
        return False
    if principal.roles_in(visit.programme_id) & EDIT_ANY_VISIT_ROLES:
        return True
    return is_one_of(principal, advisor_ids | {visit.created_by_id or 0})


def can_delete_visit(principal: Principal, visit: VisitObject, *, now: datetime | None = None) -> bool:
    """Whoever logged it, within a week of logging it (a mistake, not a record to rewrite)."""
    if principal.user is None or visit.created_by_id != principal.user.pk:
        return False
    if not can_log_visits(principal, visit.programme_id):
        return False
    return (now or timezone.now()) - visit.created_at <= VISIT_DELETABLE_FOR
