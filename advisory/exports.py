"""The programme's improvement plans and committees as spreadsheets: flat rows, one per plan item
and one per committee member, for the programme's managers (read by ``selectors`` and
``committee_selectors``; written by ``betterwork.spreadsheets``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from advisory.models import OPEN_STATUSES, CommitteeMember, PlanItem
from betterwork.models import Programme

Sheet = tuple[list[str | Promise], Iterator[Sequence[Any]]]

PLAN_ITEM_COLUMNS: list[str | Promise] = [
    _("Factory id"),
    _("Factory name"),
    _("Cycle"),
    _("Assessment report final on"),
    _("Source"),
    _("Question key"),
    _("Finding"),
    _("Publicly reported"),
    _("Root cause"),
    _("Action"),
    _("Responsible person"),
    _("Committee owner"),
    _("Priority"),
    _("Due date"),
    _("Status"),
    _("Overdue"),
    _("Done on"),
    _("Verified on"),
    _("Verified by"),
    _("Carried over from cycle"),
    _("Last changed on"),
]


def plan_item_sheet(items: Iterable[PlanItem], *, programme: Programme) -> Sheet:
    """One row per item (``advisory.selectors.programme_plan_items``), rows made as they are
    written: dates are the programme's local days."""
    today = programme.today()

    def rows() -> Iterator[Sequence[Any]]:
        for item in items:
            factory = item.plan.factory
            yield (
                factory.public_id,
                factory.name,
                item.plan.cycle,
                programme.local_date(item.assessment_final_at),  # type: ignore[attr-defined]
                item.get_source_display(),
                item.question_key,
                item.finding,
                item.publicly_reported,
                item.root_cause,
                item.action,
                item.responsible,
                item.committee_owner.name if item.committee_owner else "",
                item.get_priority_display(),
                item.due_on,
                item.get_status_display(),
                item.status in OPEN_STATUSES and item.due_on is not None and item.due_on < today,
                item.done_on,
                programme.local_date(item.verified_at),
                item.verified_by_name or "",  # type: ignore[attr-defined]
                item.carried_from_cycle,  # type: ignore[attr-defined]
                programme.local_date(item.updated_at),
            )

    return PLAN_ITEM_COLUMNS, rows()


COMMITTEE_MEMBER_COLUMNS: list[str | Promise] = [
    _("Factory id"),
    _("Factory name"),
    _("Committee"),
    _("Committee established on"),
    _("Committee active"),
    _("Member"),
    _("Side"),
    _("Role"),
    _("Sex"),
    _("Union member"),
    _("Job in the factory"),
    _("Term from"),
    _("Term until"),
    _("Current member"),
    _("Elected in (election date)"),
]


def committee_member_sheet(members: Iterable[CommitteeMember]) -> Sheet:
    """One row per member the committees have had (``committee_selectors.programme_committee_members``),
    as the committee's page shows them."""

    def rows() -> Iterator[Sequence[Any]]:
        for member in members:
            committee = member.committee
            yield (
                committee.factory.public_id,
                committee.factory.name,
                committee.kind.name,
                committee.established_on,
                committee.is_active,
                member.name,
                member.get_side_display(),
                member.get_role_display(),
                member.get_sex_display(),
                member.union_member,
                member.position,
                member.term_starts_on,
                member.term_ends_on,
                member.term_ends_on is None,
                member.elected_in.held_on if member.elected_in else None,
            )

    return COMMITTEE_MEMBER_COLUMNS, rows()
