"""Writes of advisory visits: log, change and delete a visit, each checked, in one transaction,
and audited.

Who: any of the programme's staff logs a visit (``permissions.can_log_visits``); its advisors,
whoever logged it, team leaders and programme managers change it; whoever logged it may delete
it within ``permissions.VISIT_DELETABLE_FOR`` of logging it (a mistaken entry), never later: the log is what the
progress reports and the programme's figures count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from advisory import visit_selectors as selectors
from advisory.models import AdvisoryVisit, PlanItem, VisitAdvisor, VisitItem, VisitMode
from betterwork import audit, permissions
from betterwork.models import User
from betterwork.permissions import Principal
from factories.models import Factory

VISIT_FIELDS = ("visited_on", "mode", "with_labour_inspector", "with_union", "topics", "follow_ups")


# --- Rules of this module (they build on betterwork.permissions) ----------------------------


# --- Checks ---------------------------------------------------------------------------------


def _clean(
    factory: Factory,
    fields: dict[str, Any],
    advisors: Sequence[User],
    items: Sequence[PlanItem],
    kept_advisors: frozenset[int] = frozenset(),
) -> None:
    """``kept_advisors``: advisors the visit already names, who stay even if they left the programme."""
    errors: dict[str, list[str]] = {}
    visited_on = fields.get("visited_on")
    today = factory.programme.today()
    if visited_on is None:
        errors.setdefault("visited_on", []).append(_("Give the date of the visit."))
    elif visited_on > today:
        errors.setdefault("visited_on", []).append(
            _("A visit is logged once it took place: the date cannot be after today (%(today)s).")
            % {"today": f"{today:%Y-%m-%d}"}
        )
    if fields.get("mode") not in VisitMode.values:
        errors.setdefault("mode", []).append(_("Choose whether the visit was on site or virtual."))
    if not str(fields.get("topics") or "").strip():
        errors.setdefault("topics", []).append(_("Say what the visit was about."))
    staff = set(selectors.visit_advisor_choices(programme=factory.programme).values_list("pk", flat=True))
    outsiders = [str(user) for user in advisors if user.pk not in staff and user.pk not in kept_advisors]
    if outsiders:
        errors.setdefault("advisors", []).append(
            _("Advisors must be staff of this programme (not: %(names)s).") % {"names": ", ".join(outsiders)}
        )
    if not advisors:
        errors.setdefault("advisors", []).append(_("Name at least one advisor who made the visit."))
    allowed = set(selectors.plan_items_of(factory=factory).values_list("pk", flat=True))
    if any(item.pk not in allowed for item in items):
        errors.setdefault("items", []).append(_("Link only items of this factory's improvement plan."))
    if errors:
        raise ValidationError(errors)


def _normalised(data: dict[str, Any]) -> dict[str, Any]:
    fields = {key: data[key] for key in VISIT_FIELDS if key in data}
    for key in ("topics", "follow_ups"):
        if key in fields:
            fields[key] = str(fields[key] or "").strip()
    for key in ("with_labour_inspector", "with_union"):
        if key in fields:
            fields[key] = bool(fields[key])
    return fields


def _set_links(visit: AdvisoryVisit, advisors: Sequence[User], items: Sequence[PlanItem]) -> None:
    wanted_users = {user.pk for user in advisors}
    VisitAdvisor.objects.filter(visit=visit).exclude(user_id__in=wanted_users).delete()
    have = set(VisitAdvisor.objects.filter(visit=visit).values_list("user_id", flat=True))
    VisitAdvisor.objects.bulk_create(
        [
            VisitAdvisor(programme_id=visit.programme_id, visit=visit, user_id=pk)
            for pk in sorted(wanted_users - have)
        ]
    )
    wanted_items = {item.pk for item in items}
    VisitItem.objects.filter(visit=visit).exclude(item_id__in=wanted_items).delete()
    have = set(VisitItem.objects.filter(visit=visit).values_list("item_id", flat=True))
    VisitItem.objects.bulk_create(
        [
            VisitItem(programme_id=visit.programme_id, visit=visit, item_id=pk)
            for pk in sorted(wanted_items - have)
        ]
    )


def _picture(visit: AdvisoryVisit) -> dict[str, Any]:
    picture = audit.snapshot(visit, ["factory", *VISIT_FIELDS])
    picture["advisors"] = sorted(VisitAdvisor.objects.filter(visit=visit).values_list("user_id", flat=True))
    picture["items"] = sorted(VisitItem.objects.filter(visit=visit).values_list("item_id", flat=True))
    return picture


# --- Services -------------------------------------------------------------------------------


@transaction.atomic
def visit_log(
    *,
    actor: Principal,
    factory: Factory,
    data: dict[str, Any],
    advisors: Sequence[User] = (),
    items: Sequence[PlanItem] = (),
) -> AdvisoryVisit:
    """Log a visit that took place. Without advisors named, whoever logs it made it."""
    if not permissions.can_log_visits(actor, factory.programme_id):
        raise PermissionDenied
    fields = {"mode": VisitMode.ON_SITE, **_normalised(data)}
    advisors = list(advisors) or ([actor.user] if actor.user else [])
    _clean(factory, fields, advisors, items)
    visit = AdvisoryVisit(programme_id=factory.programme_id, factory=factory, created_by=actor.user, **fields)
    visit.full_clean()
    visit.save()
    _set_links(visit, advisors, items)
    audit.record(
        actor=actor.user,
        action="advisory.visit.create",
        obj=visit,
        programme=factory.programme_id,
        after=_picture(visit),
    )
    return visit


@transaction.atomic
def visit_update(
    *,
    actor: Principal,
    visit: AdvisoryVisit,
    data: dict[str, Any],
    advisors: Sequence[User] | None = None,
    items: Sequence[PlanItem] | None = None,
) -> AdvisoryVisit:
    """Change a visit; fields left out keep their values, and so do advisors and items when None."""
    locked = AdvisoryVisit.objects.select_for_update().select_related("factory__programme").get(pk=visit.pk)
    advisor_ids = set(VisitAdvisor.objects.filter(visit=locked).values_list("user_id", flat=True))
    if not permissions.can_edit_visit(actor, locked, advisor_ids):
        raise PermissionDenied
    fields = _normalised(data)
    if advisors is None:
        advisors = list(User.objects.filter(pk__in=advisor_ids))
    if items is None:
        items = list(PlanItem.objects.filter(visit_links__visit=locked))
    merged = {**{key: getattr(locked, key) for key in VISIT_FIELDS}, **fields}
    _clean(locked.factory, merged, advisors, items, kept_advisors=frozenset(advisor_ids))
    before = _picture(locked)
    for key, value in fields.items():
        setattr(locked, key, value)
    locked.full_clean()
    locked.save()
    _set_links(locked, advisors, items)
    audit.record_changes(
        actor=actor.user,
        action="advisory.visit.update",
        obj=locked,
        programme=locked.programme_id,
        before=before,
        after=_picture(locked),
    )
    return locked


@transaction.atomic
def visit_delete(*, actor: Principal, visit: AdvisoryVisit) -> None:
    """Remove a mistaken entry: whoever logged it, within a week."""
    locked = AdvisoryVisit.objects.select_for_update().get(pk=visit.pk)
    if not permissions.can_log_visits(actor, locked.programme_id) or (
        actor.user is None or locked.created_by_id != actor.user.pk
    ):
        raise PermissionDenied
    if not permissions.can_delete_visit(actor, locked):
        raise ValidationError(
            _("A visit can be deleted only within %(days)s days of logging it; correct it instead.")
            % {"days": permissions.VISIT_DELETABLE_FOR.days}
        )
    audit.record(
        actor=actor.user,
        action="advisory.visit.delete",
        obj=locked,
        programme=locked.programme_id,
        before=_picture(locked),
    )
    locked.delete()
