"""Writes of the committees (PICC and kin): each checked, in one transaction, and audited.

The rules a committee's current members keep (``committee_selectors.Composition`` says them in
the page's words; every change of members goes through ``_apply`` which checks the state the
change would leave, under a lock of the committee row):

- **Size**: more members than the kind's ``max_members`` is refused; fewer than ``min_members``
  is allowed with a warning (a committee is formed, or loses members, one step at a time).
- **Equal sides** apply once the committee is *constituted*, that is has at least
  ``min_members`` current members. Below that it is being formed (or wound down) and its page
  only says what each side still needs. A constituted committee whose kind *enforces* equal
  sides refuses a change that leaves the sides unequal, unless the change brings them closer
  together (so an old, unequal committee can be repaired step by step, and a committee formed
  one side first can still be completed). Growing a balanced committee (3+3 to 4+4), or
  replacing a member, therefore takes one change with both sides in it: the "record several
  changes at once" form (``members_change``) checks only the final state. A kind that only
  *warns* accepts the change and says what is missing.
- **Chairs**: at most one chair; co-chairs come one from each side; never a chair and co-chairs
  together. A lone co-chair (the other side's not named yet) and a constituted committee
  without any chair are warnings.
- A member's name appears once among the current members; terms start on a day that has come,
  and end (``term_ends_on``) on a day that has come: ending keeps the member's history.

Ending the term of a member who signed in (committee-member role) takes their sign-in back,
unless they still sit on another of the factory's committees.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from advisory import committee_selectors as selectors
from advisory.models import (
    Candidate,
    Committee,
    CommitteeKind,
    CommitteeMember,
    CommitteeRole,
    Decision,
    Election,
    EqualSides,
    Meeting,
    MeetingAttendance,
    PlanItem,
    Side,
)
from betterwork import audit, permissions
from betterwork.models import Programme, Role, RoleGrant, User
from betterwork.permissions import Principal
from betterwork.services import send_invitation
from factories.models import Factory

MEMBER_FIELDS = ("name", "side", "sex", "union_member", "role", "position", "term_starts_on")
KIND_FIELDS = ("code", "name", "equal_sides", "min_members", "max_members")
ELECTION_FIELDS = ("held_on", "seats", "voters", "ballots_cast", "notes")
MAX_COMMITTEE_SIZE = 100


# --- Kinds ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindPreset:
    code: str
    name: str | Promise
    equal_sides: str
    min_members: int
    max_members: int
    programmes: tuple[str, ...] = ()  # empty: any programme


PICC = KindPreset(
    "picc",
    gettext_lazy("Performance Improvement Consultative Committee (PICC)"),
    EqualSides.ENFORCE,
    4,
    16,
)
KIND_PRESETS = (
    PICC,
    KindPreset(
        "participation-committee", gettext_lazy("Participation committee"), EqualSides.WARN, 6, 30, ("BD",)
    ),
    KindPreset("safety-committee", gettext_lazy("Safety committee"), EqualSides.WARN, 6, 12, ("BD",)),
    KindPreset("lks-bipartit", gettext_lazy("LKS Bipartit"), EqualSides.ENFORCE, 6, 20, ("ID",)),
    KindPreset("osh-committee", gettext_lazy("OSH committee"), EqualSides.WARN, 4, 20),
)


def suggested_kinds(*, programme: Programme, existing_codes: set[str]) -> list[KindPreset]:
    """The presets that fit the programme's country and that it does not have yet."""
    return [
        preset
        for preset in KIND_PRESETS
        if (not preset.programmes or programme.code in preset.programmes)
        and preset.code not in existing_codes
    ]


def _preset_kind(programme: Programme, preset: KindPreset) -> CommitteeKind:
    # Kind names are the programme's data: written in its main language, edited there later.
    language = (programme.languages or ["en"])[0]
    with translation.override(language):
        name = str(preset.name)
    kind = CommitteeKind(
        programme=programme,
        code=preset.code,
        name=name,
        equal_sides=preset.equal_sides,
        min_members=preset.min_members,
        max_members=preset.max_members,
    )
    kind.full_clean(validate_constraints=False, validate_unique=False)
    kind.save()
    return kind


@transaction.atomic
def committee_kinds_ensure(programme: Programme, *, actor: Principal | None = None) -> list[CommitteeKind]:
    """The programme's kinds of committee; the PICC (equal sides enforced, 4 to 16 members) is
    created when it has none. Called when someone who may manage committees first opens a
    factory's committees, and by the demo."""
    kinds = list(CommitteeKind.objects.filter(programme=programme))
    if kinds:
        return kinds
    Programme.objects.select_for_update().get(pk=programme.pk)  # two first visits create one PICC
    kinds = list(CommitteeKind.objects.filter(programme=programme))
    if kinds:
        return kinds
    kind = _preset_kind(programme, PICC)
    audit.record(
        actor=actor.user if actor else None,
        action="committee.kind.create",
        obj=kind,
        programme=programme,
        after=audit.snapshot(kind, list(KIND_FIELDS)),
    )
    return [kind]


def _clean_kind(programme: Programme, kind: CommitteeKind | None, fields: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    code = fields.get("code")
    if code is not None:
        clash = CommitteeKind.objects.filter(programme=programme, code=code)
        if kind is not None:
            clash = clash.exclude(pk=kind.pk)
        if clash.exists():
            errors.setdefault("code", []).append(_("The programme already has a kind with this code."))
    low, high = fields["min_members"], fields["max_members"]
    if low < 2:
        errors.setdefault("min_members", []).append(
            _("A committee has at least two members, one of each side.")
        )
    if high < low:
        errors.setdefault("max_members", []).append(_("The most members cannot be fewer than the fewest."))
    if high > MAX_COMMITTEE_SIZE:
        errors.setdefault("max_members", []).append(_("At most %(n)s members.") % {"n": MAX_COMMITTEE_SIZE})
    if fields["equal_sides"] == EqualSides.ENFORCE:
        for key in ("min_members", "max_members"):
            if fields[key] % 2:
                errors.setdefault(key, []).append(
                    _("With equal sides enforced, the number of members is even.")
                )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def committee_kind_save(
    *, actor: Principal, programme: Programme, kind: CommitteeKind | None, data: dict[str, Any]
) -> CommitteeKind:
    """Add a kind of committee to the programme, or change one (its programme managers)."""
    if not permissions.can_configure_committee_kinds(actor, programme.pk):
        raise PermissionDenied
    changes = {key: value for key, value in data.items() if key in KIND_FIELDS}
    if "name" in changes:
        changes["name"] = " ".join(str(changes["name"]).split())
    locked = CommitteeKind.objects.select_for_update().get(pk=kind.pk) if kind is not None else None
    current = {key: getattr(locked, key) for key in KIND_FIELDS} if locked else {}
    _clean_kind(programme, locked, {**current, **changes})
    if locked is None:
        created = CommitteeKind(programme=programme, **changes)
        created.full_clean(validate_constraints=False, validate_unique=False)
        created.save()
        audit.record(
            actor=actor.user,
            action="committee.kind.create",
            obj=created,
            programme=programme,
            after=audit.snapshot(created, list(KIND_FIELDS)),
        )
        return created
    audit.save_changes(
        actor=actor.user,
        instance=locked,
        changes=changes,
        action="committee.kind.update",
        programme=programme,
    )
    return locked


@transaction.atomic
def committee_kind_add_suggested(*, actor: Principal, programme: Programme, code: str) -> CommitteeKind:
    if not permissions.can_configure_committee_kinds(actor, programme.pk):
        raise PermissionDenied
    existing = set(CommitteeKind.objects.filter(programme=programme).values_list("code", flat=True))
    preset = next(
        (p for p in suggested_kinds(programme=programme, existing_codes=existing) if p.code == code), None
    )
    if preset is None:
        raise ValidationError(
            _("This kind of committee cannot be added here, or the programme has it already.")
        )
    kind = _preset_kind(programme, preset)
    audit.record(
        actor=actor.user,
        action="committee.kind.create",
        obj=kind,
        programme=programme,
        after=audit.snapshot(kind, list(KIND_FIELDS)),
    )
    return kind


# --- Committees -------------------------------------------------------------------------------


def _require_manage(actor: Principal, factory: Factory) -> None:
    if not permissions.can_manage_committees(actor, factory):
        raise PermissionDenied


def _lock(committee: Committee) -> Committee:
    return (
        Committee.objects.select_for_update(of=("self",))
        .select_related("kind", "factory", "programme")
        .get(pk=committee.pk)
    )


@transaction.atomic
def committee_create(
    *, actor: Principal, factory: Factory, kind: CommitteeKind, established_on: dt.date | None = None
) -> Committee:
    """Form a committee of a kind at a factory: one active committee per kind."""
    _require_manage(actor, factory)
    if kind.programme_id != factory.programme_id:
        raise ValidationError({"kind": _("Choose a kind of committee of this programme.")})
    Factory.objects.select_for_update().get(pk=factory.pk)  # one committee of a kind at a time
    if Committee.objects.filter(factory=factory, kind=kind, is_active=True).exists():
        raise ValidationError(
            {"kind": _("The factory already has an active %(kind)s.") % {"kind": kind.name}}
        )
    if established_on is not None and established_on > factory.programme.today():
        raise ValidationError({"established_on": _("Give a date that has come.")})
    committee = Committee(
        programme_id=factory.programme_id, factory=factory, kind=kind, established_on=established_on
    )
    try:
        with transaction.atomic():
            committee.save()
    except IntegrityError as error:  # pragma: no cover - the lock above makes it unlikely
        raise ValidationError(
            {"kind": _("The factory already has an active committee of this kind.")}
        ) from error
    audit.record(
        actor=actor.user,
        action="committee.create",
        obj=committee,
        programme=committee.programme_id,
        after=audit.snapshot(committee, ["factory", "kind", "established_on", "is_active"]),
    )
    return committee


@transaction.atomic
def committee_dissolve(*, actor: Principal, committee: Committee, on: dt.date) -> Committee:
    """The committee stops: its current members' terms end on that day; its records stay."""
    locked = _lock(committee)
    _require_manage(actor, locked.factory)
    if not locked.is_active:
        return locked
    if on > locked.programme.today():
        raise ValidationError({"on": _("Give a date that has come.")})
    members = selectors.current_members(committee=locked)
    late = [m.name for m in members if m.term_starts_on > on]
    if late:
        raise ValidationError({"on": _("%(names)s joined after that day.") % {"names": ", ".join(late)}})
    for member in members:
        member.term_ends_on = on
    CommitteeMember.objects.bulk_update(members, ["term_ends_on"])
    locked.is_active = False
    locked.save(update_fields=["is_active"])
    for user_id in {m.user_id for m in members if m.user_id}:
        _revoke_sign_in_if_unused(actor, locked, user_id)
    audit.record(
        actor=actor.user,
        action="committee.dissolve",
        obj=locked,
        programme=locked.programme_id,
        before={"is_active": True},
        after={"is_active": False, "on": on.isoformat(), "terms_ended": len(members)},
    )
    return locked


# --- Members ----------------------------------------------------------------------------------


@dataclass
class MemberChange:
    added: list[CommitteeMember] = field(default_factory=list)
    ended: list[CommitteeMember] = field(default_factory=list)
    updated: list[CommitteeMember] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _new_member(
    committee: Committee, data: Mapping[str, Any], today: dt.date, elected_in: Election | None
) -> CommitteeMember:
    name = " ".join(str(data.get("name") or "").split())
    if not name:
        raise ValidationError({"name": _("Give the member's name.")})
    start = data.get("term_starts_on") or today
    if start > today:
        raise ValidationError(
            {
                "term_starts_on": _(
                    "A term starts on a day that has come: add members once they take their seat."
                )
            }
        )
    member = CommitteeMember(
        programme_id=committee.programme_id,
        committee=committee,
        name=name,
        side=data.get("side") or "",
        sex=data.get("sex") or "",
        union_member=bool(data.get("union_member")),
        role=data.get("role") or CommitteeRole.MEMBER,
        position=" ".join(str(data.get("position") or "").split()),
        term_starts_on=start,
        elected_in=elected_in,
    )
    member.full_clean(exclude=["committee", "elected_in", "user"], validate_constraints=False)
    return member


def _gap(composition: selectors.Composition) -> int:
    return abs(composition.management.total - composition.workers.total)


def _check(
    kind: CommitteeKind, before: Sequence[CommitteeMember], after: Sequence[CommitteeMember]
) -> list[str]:
    """Refuse what the rules forbid in the state a change leaves; the warnings that remain.

    A rule already broken before the change (an old committee, a kind whose limits changed)
    refuses only changes that make it worse, so that such a committee can be put right."""
    old, new = selectors.Composition.of(kind, before), selectors.Composition.of(kind, after)
    refusals: list[str] = []
    warnings: list[str] = [c.message for c in new.size_checks() if c.level == selectors.WARNING]
    if new.total > kind.max_members:
        message = new.size_checks()[0].message
        (warnings if new.total < old.total else refusals).append(message)
    balance = new.balance_check()
    if balance.level == selectors.REFUSED:
        if _gap(new) < _gap(old):  # a step towards equal sides
            warnings.append(balance.message)
        else:
            refusals.append(
                _(
                    "The sides of a %(kind)s must be equal: this change would leave %(m)s management and "
                    "%(w)s worker members. %(missing)s Record the changes of both sides together with "
                    "“Record several changes at once”."
                )
                % {
                    "kind": kind.name,
                    "m": new.management.total,
                    "w": new.workers.total,
                    "missing": balance.message,
                }
            )
    elif balance.level == selectors.WARNING:
        warnings.append(
            _("The sides are unequal (%(m)s management, %(w)s workers): %(missing)s")
            % {"m": new.management.total, "w": new.workers.total, "missing": balance.message}
        )
    known = set(old.role_refusals())
    refusals += [text for text in new.role_refusals() if text not in known]
    warnings += [c.message for c in new.role_checks() if c.level == selectors.WARNING]
    if refusals:
        raise ValidationError(refusals)
    return warnings


def _apply(
    actor: Principal,
    committee: Committee,
    *,
    add: Sequence[Mapping[str, Any]] = (),
    ends: Mapping[int, dt.date] | None = None,
    updates: Sequence[tuple[CommitteeMember, Mapping[str, Any]]] = (),
    elected_in: Election | None = None,
) -> MemberChange:
    """Apply additions, term ends and edits to a locked committee's current members at once,
    checking the state they leave."""
    if not committee.is_active:
        raise ValidationError(_("This committee was dissolved: its records can no longer change."))
    ends = dict(ends or {})
    today = committee.programme.today()
    before = selectors.current_members(committee=committee)
    by_pk = {m.pk: m for m in before}
    errors: list[str] = []
    for pk, day in ends.items():
        member = by_pk.get(pk)
        if member is None:
            raise ValidationError(_("Only a current member's term can end."))
        if day > today:
            errors.append(_("A term ends on a day that has come (%(name)s).") % {"name": member.name})
        elif day < member.term_starts_on:
            errors.append(
                _("%(name)s's term began on %(start)s: it cannot end before.")
                % {"name": member.name, "start": f"{member.term_starts_on:%Y-%m-%d}"}
            )
    if errors:
        raise ValidationError({"term_ends_on": errors})
    edited: dict[int, CommitteeMember] = {}
    for member, data in updates:
        if member.pk not in by_pk:
            raise ValidationError(_("Only a current member can be changed here."))
        changed = copy.copy(by_pk[member.pk])
        for key in MEMBER_FIELDS:
            if key in data:
                value = data[key]
                if key in ("name", "position"):
                    value = " ".join(str(value or "").split())
                setattr(changed, key, value)
        if not changed.name:
            raise ValidationError({"name": _("Give the member's name.")})
        if changed.term_starts_on > today:
            raise ValidationError({"term_starts_on": _("A term starts on a day that has come.")})
        changed.full_clean(exclude=["committee", "elected_in", "user"], validate_constraints=False)
        edited[member.pk] = changed
    new: list[CommitteeMember] = []
    for number, data in enumerate(add, start=1):
        try:
            new.append(_new_member(committee, data, today, elected_in))
        except ValidationError as error:
            if len(add) == 1:
                raise
            raise ValidationError(
                _("New member %(n)s: %(problems)s") % {"n": number, "problems": " ".join(error.messages)}
            ) from error
    after = [edited.get(m.pk, m) for m in before if m.pk not in ends] + new
    seen: set[str] = set()
    for member in after:
        key = _name_key(member.name)
        if key in seen:
            raise ValidationError(
                {"name": _("%(name)s is already a member of this committee.") % {"name": member.name}}
            )
        seen.add(key)
    change = MemberChange(warnings=_check(committee.kind, before, after))

    ended = [by_pk[pk] for pk in ends]
    for member in ended:
        member.term_ends_on = ends[member.pk]
    CommitteeMember.objects.bulk_update(ended, ["term_ends_on"])
    change.ended = ended
    for pk, changed in edited.items():
        before_picture = audit.snapshot(by_pk[pk], list(MEMBER_FIELDS))
        changed.save()
        audit.record_changes(
            actor=actor.user,
            action="committee.member.update",
            obj=changed,
            programme=committee.programme_id,
            before=before_picture,
            after=audit.snapshot(changed, list(MEMBER_FIELDS)),
        )
        change.updated.append(changed)
    change.added = CommitteeMember.objects.bulk_create(new)
    audit.record_many(
        actor=actor.user,
        action="committee.member.add",
        programme=committee.programme_id,
        changes=[
            (m, None, audit.snapshot(m, [*MEMBER_FIELDS, "committee", "elected_in"])) for m in change.added
        ],
    )
    audit.record_many(
        actor=actor.user,
        action="committee.member.end",
        programme=committee.programme_id,
        changes=[(m, {"term_ends_on": None}, {"term_ends_on": m.term_ends_on.isoformat()}) for m in ended],  # type: ignore[union-attr]
    )
    for user_id in {m.user_id for m in ended if m.user_id}:
        _revoke_sign_in_if_unused(actor, committee, user_id)
    return change


@transaction.atomic
def members_change(
    *,
    actor: Principal,
    committee: Committee,
    add: Sequence[Mapping[str, Any]] = (),
    end: Sequence[CommitteeMember] = (),
    ends_on: dt.date | None = None,
) -> MemberChange:
    """Record several members joining and leaving at once (a committee growing from 3+3 to 4+4,
    a member replaced): the rules are checked on the state the whole change leaves."""
    locked = _lock(committee)
    _require_manage(actor, locked.factory)
    if not add and not end:
        raise ValidationError(_("Add a member or end a term."))
    day = ends_on or locked.programme.today()
    return _apply(actor, locked, add=add, ends={m.pk: day for m in end})


@transaction.atomic
def member_add(*, actor: Principal, committee: Committee, data: Mapping[str, Any]) -> MemberChange:
    locked = _lock(committee)
    _require_manage(actor, locked.factory)
    return _apply(actor, locked, add=[data])


@transaction.atomic
def member_update(*, actor: Principal, member: CommitteeMember, data: Mapping[str, Any]) -> MemberChange:
    """Change a member's details; a current member's side and role go through the rules. A former
    member's details can be corrected (their term dates stay in order)."""
    locked = _lock(member.committee)
    _require_manage(actor, locked.factory)
    fresh = CommitteeMember.objects.select_for_update().get(pk=member.pk, committee=locked)
    if fresh.term_ends_on is None:
        return _apply(actor, locked, updates=[(fresh, data)])
    before = audit.snapshot(fresh, list(MEMBER_FIELDS))
    for key in MEMBER_FIELDS:
        if key in data:
            value = data[key]
            setattr(fresh, key, " ".join(str(value or "").split()) if key in ("name", "position") else value)
    if fresh.term_starts_on > fresh.term_ends_on:
        raise ValidationError({"term_starts_on": _("The term would start after it ended.")})
    fresh.full_clean(exclude=["committee", "elected_in", "user"], validate_constraints=False)
    fresh.save()
    audit.record_changes(
        actor=actor.user,
        action="committee.member.update",
        obj=fresh,
        programme=locked.programme_id,
        before=before,
        after=audit.snapshot(fresh, list(MEMBER_FIELDS)),
    )
    return MemberChange(updated=[fresh])


@transaction.atomic
def member_end(*, actor: Principal, member: CommitteeMember, ends_on: dt.date) -> MemberChange:
    """End a member's term (they resigned, left the factory, or their term ran out)."""
    locked = _lock(member.committee)
    _require_manage(actor, locked.factory)
    return _apply(actor, locked, ends={member.pk: ends_on})


# --- Committee members' sign-in (read-only) ---------------------------------------------------


def _grant_picture(grant: RoleGrant) -> dict[str, Any]:
    return {
        "user": grant.user.email,
        "role": grant.role,
        "programme_id": grant.programme_id,
        "factory_id": grant.factory_id,
    }


@transaction.atomic
def member_give_sign_in(
    *,
    actor: Principal,
    member: CommitteeMember,
    email: str,
    full_name: str = "",
    language: str = "en",
    base_url: str,
) -> RoleGrant:
    """Let a worker member sign in to read the committee's records and the plan (the
    committee-member role for this factory); a new account gets an invitation e-mail."""
    locked = _lock(member.committee)
    _require_manage(actor, locked.factory)
    fresh = CommitteeMember.objects.select_for_update().get(pk=member.pk, committee=locked)
    if fresh.term_ends_on is not None:
        raise ValidationError(_("Only a current member can be given a sign-in."))
    if fresh.side != Side.WORKER:
        raise ValidationError(
            _("Sign-in is for worker members; management members sign in as the factory's users.")
        )
    if fresh.user_id:
        raise ValidationError(_("%(name)s already has a sign-in.") % {"name": fresh.name})
    email = User.objects.normalize_email(email).strip().lower()
    if not email:
        raise ValidationError({"email": _("Give an e-mail address.")})
    user = User.objects.filter(email__iexact=email).first()
    new_account = user is None
    if user is None:
        user = User(email=email, full_name=" ".join((full_name or fresh.name).split()), language=language)
        user.set_unusable_password()
        user.full_clean()
        user.save()
    elif CommitteeMember.objects.filter(committee=locked, user=user, term_ends_on__isnull=True).exists():
        raise ValidationError(
            {"email": _("This address already signs in for another member of this committee.")}
        )
    grant, created = RoleGrant.objects.get_or_create(
        user=user,
        role=Role.COMMITTEE_MEMBER,
        programme_id=locked.programme_id,
        factory_id=locked.factory_id,
        buyer=None,
        defaults={"granted_by": actor.user},
    )
    if created:
        audit.record(
            actor=actor.user,
            action="role.grant",
            obj=grant,
            programme=locked.programme_id,
            after=_grant_picture(grant),
        )
    fresh.user = user
    fresh.save(update_fields=["user"])
    audit.record(
        actor=actor.user,
        action="committee.member.sign_in",
        obj=fresh,
        programme=locked.programme_id,
        before={"user": None},
        after={"user": user.pk},
    )
    if new_account:
        send_invitation(user=user, programme=locked.programme, invited_by=actor.user, base_url=base_url)
    return grant


@transaction.atomic
def member_remove_sign_in(*, actor: Principal, member: CommitteeMember) -> None:
    locked = _lock(member.committee)
    _require_manage(actor, locked.factory)
    fresh = CommitteeMember.objects.select_for_update().get(pk=member.pk, committee=locked)
    if not fresh.user_id:
        return
    user_id = fresh.user_id
    fresh.user = None
    fresh.save(update_fields=["user"])
    audit.record(
        actor=actor.user,
        action="committee.member.sign_in",
        obj=fresh,
        programme=locked.programme_id,
        before={"user": user_id},
        after={"user": None},
    )
    _revoke_sign_in_if_unused(actor, locked, user_id)


def _revoke_sign_in_if_unused(actor: Principal, committee: Committee, user_id: int) -> None:
    """Take back the committee-member role once the user sits on none of the factory's committees."""
    still = CommitteeMember.objects.filter(
        committee__factory_id=committee.factory_id, user_id=user_id, term_ends_on__isnull=True
    ).exists()
    if still:
        return
    for grant in RoleGrant.objects.filter(
        user_id=user_id, role=Role.COMMITTEE_MEMBER, factory_id=committee.factory_id
    ).select_related("user"):
        audit.record(
            actor=actor.user,
            action="role.revoke",
            obj=grant,
            programme=committee.programme_id,
            before=_grant_picture(grant),
        )
        grant.delete()


# --- Elections --------------------------------------------------------------------------------


def _clean_turnout(seats: int, voters: int | None, ballots: int | None, votes: Sequence[int]) -> None:
    errors: dict[str, list[str]] = {}
    if voters is not None and ballots is not None and ballots > voters:
        errors.setdefault("ballots_cast", []).append(
            _("More ballots (%(ballots)s) than workers entitled to vote (%(voters)s).")
            % {"ballots": ballots, "voters": voters}
        )
    if ballots is not None and votes:
        if any(v > ballots for v in votes):
            errors.setdefault("votes", []).append(
                _("A candidate cannot have more votes than the %(ballots)s ballots cast.")
                % {"ballots": ballots}
            )
        if sum(votes) > ballots * seats:
            errors.setdefault("votes", []).append(
                _(
                    "%(total)s votes in all is more than %(ballots)s ballots × %(seats)s seats = %(most)s: check the counts."
                )
                % {"total": sum(votes), "ballots": ballots, "seats": seats, "most": ballots * seats}
            )
    if errors:
        raise ValidationError(errors)


def _lock_election(election: Election) -> tuple[Committee, Election]:
    committee = _lock(election.committee)
    return committee, Election.objects.select_for_update().get(pk=election.pk, committee=committee)


def _open(election: Election) -> None:
    if election.results_recorded_at is not None:
        raise ValidationError(_("The results of this election are recorded: it can no longer change."))


@transaction.atomic
def election_create(*, actor: Principal, committee: Committee, data: Mapping[str, Any]) -> Election:
    """A worker election for the committee: date, seats, who may vote, ballots cast."""
    locked = _lock(committee)
    _require_manage(actor, locked.factory)
    if not locked.is_active:
        raise ValidationError(_("This committee was dissolved."))
    fields = {key: data.get(key) for key in ELECTION_FIELDS}
    fields["notes"] = (fields["notes"] or "").strip()
    seats = fields["seats"] or 0
    if not 1 <= seats <= locked.kind.max_members:
        raise ValidationError(
            {
                "seats": _("From 1 to %(n)s seats (the most members of a %(kind)s).")
                % {"n": locked.kind.max_members, "kind": locked.kind.name}
            }
        )
    if not fields["held_on"]:
        raise ValidationError({"held_on": _("Give the day of the election.")})
    _clean_turnout(seats, fields["voters"], fields["ballots_cast"], [])
    election = Election(programme_id=locked.programme_id, committee=locked, **fields)
    election.full_clean(exclude=["committee"], validate_constraints=False)
    election.save()
    audit.record(
        actor=actor.user,
        action="committee.election.create",
        obj=election,
        programme=locked.programme_id,
        after=audit.snapshot(election, [*ELECTION_FIELDS, "committee"]),
    )
    return election


@transaction.atomic
def candidate_add(*, actor: Principal, election: Election, data: Mapping[str, Any]) -> Candidate:
    """A worker nominated for the election."""
    committee, locked = _lock_election(election)
    _require_manage(actor, committee.factory)
    _open(locked)
    name = " ".join(str(data.get("name") or "").split())
    if not name:
        raise ValidationError({"name": _("Give the candidate's name.")})
    if any(_name_key(c.name) == _name_key(name) for c in Candidate.objects.filter(election=locked)):
        raise ValidationError({"name": _("%(name)s is already a candidate.") % {"name": name}})
    candidate = Candidate(
        programme_id=locked.programme_id,
        election=locked,
        name=name,
        sex=data.get("sex") or "",
        union_member=bool(data.get("union_member")),
    )
    candidate.full_clean(exclude=["election"], validate_constraints=False)
    candidate.save()
    audit.record(
        actor=actor.user,
        action="committee.candidate.add",
        obj=candidate,
        programme=locked.programme_id,
        after=audit.snapshot(candidate, ["election", "name", "sex", "union_member"]),
    )
    return candidate


@transaction.atomic
def candidate_remove(*, actor: Principal, candidate: Candidate) -> None:
    committee, locked = _lock_election(candidate.election)
    _require_manage(actor, committee.factory)
    _open(locked)
    audit.record(
        actor=actor.user,
        action="committee.candidate.remove",
        obj=candidate,
        programme=locked.programme_id,
        before=audit.snapshot(candidate, ["election", "name", "sex", "union_member", "votes"]),
    )
    candidate.delete()


@transaction.atomic
def election_votes_record(
    *,
    actor: Principal,
    election: Election,
    votes: Mapping[int, int | None],
    ballots_cast: int | None = None,
    voters: int | None = None,
) -> Election:
    """The count: votes per candidate (and, when given, the ballots cast and workers entitled).
    Each candidate has at most one vote per ballot, and the votes add up to at most
    ballots × seats."""
    committee, locked = _lock_election(election)
    _require_manage(actor, committee.factory)
    _open(locked)
    candidates = {c.pk: c for c in Candidate.objects.filter(election=locked)}
    if set(votes) - candidates.keys():
        raise ValidationError({"votes": _("Some votes are for candidates of another election.")})
    if any(v is not None and v < 0 for v in votes.values()):
        raise ValidationError({"votes": _("Votes are counted from 0.")})
    before = {
        "voters": locked.voters,
        "ballots_cast": locked.ballots_cast,
        "votes": {str(pk): c.votes for pk, c in candidates.items()},
    }
    if ballots_cast is not None:
        locked.ballots_cast = ballots_cast
    if voters is not None:
        locked.voters = voters
    for pk, count in votes.items():
        candidates[pk].votes = count
    counted = [c.votes for c in candidates.values() if c.votes is not None]
    _clean_turnout(locked.seats, locked.voters, locked.ballots_cast, counted)
    locked.save(update_fields=["voters", "ballots_cast"])
    Candidate.objects.bulk_update(list(candidates.values()), ["votes"])
    audit.record_changes(
        actor=actor.user,
        action="committee.election.votes",
        obj=locked,
        programme=locked.programme_id,
        before=before,
        after={
            "voters": locked.voters,
            "ballots_cast": locked.ballots_cast,
            "votes": {str(pk): c.votes for pk, c in candidates.items()},
        },
    )
    return locked


@dataclass
class ElectionResult:
    election: Election
    elected: list[Candidate]
    change: MemberChange


@transaction.atomic
def election_results_record(
    *, actor: Principal, election: Election, replace_workers: bool = False
) -> ElectionResult:
    """The ``seats`` candidates with most votes are elected and join the committee as worker
    members, their term from the day of the election (a tie for the last seat is refused: it is
    resolved by the election's own rules first). With ``replace_workers`` the terms of the
    current worker members end the day before. The committee's rules apply to the result."""
    committee, locked = _lock_election(election)
    _require_manage(actor, committee.factory)
    _open(locked)
    today = committee.programme.today()
    if locked.held_on > today:
        raise ValidationError(_("Record the results once the election has been held."))
    candidates = list(Candidate.objects.filter(election=locked))
    if not candidates:
        raise ValidationError(_("Nominate the candidates and record their votes first."))
    missing = [c.name for c in candidates if c.votes is None]
    if missing:
        raise ValidationError(
            _("Record every candidate's votes first (missing: %(names)s).")
            % {"names": ", ".join(sorted(missing))}
        )
    _clean_turnout(locked.seats, locked.voters, locked.ballots_cast, [c.votes or 0 for c in candidates])
    ranking = sorted(candidates, key=lambda c: (-(c.votes or 0), _name_key(c.name), c.pk))
    seats = locked.seats
    if len(ranking) > seats and ranking[seats - 1].votes == ranking[seats].votes:
        votes = ranking[seats].votes
        tied = [c.name for c in ranking if c.votes == votes]
        open_seats = sum(1 for c in ranking[:seats] if c.votes == votes)
        raise ValidationError(
            _(
                "%(names)s are tied with %(votes)s votes for the last %(seats)s seat(s): resolve the tie as the "
                "election's rules say (a run-off, or drawing lots), record the deciding votes, then the results."
            )
            % {"names": ", ".join(tied), "votes": votes, "seats": open_seats}
        )
    elected = ranking[:seats]
    ends: dict[int, dt.date] = {}
    if replace_workers:
        day_before = locked.held_on - dt.timedelta(days=1)
        for member in selectors.current_members(committee=committee):
            if member.side == Side.WORKER:
                ends[member.pk] = max(day_before, member.term_starts_on)
    try:
        change = _apply(
            actor,
            committee,
            add=[
                {
                    "name": c.name,
                    "side": Side.WORKER,
                    "sex": c.sex,
                    "union_member": c.union_member,
                    "role": CommitteeRole.MEMBER,
                    "term_starts_on": locked.held_on,
                }
                for c in elected
            ],
            ends=ends,
            elected_in=locked,
        )
    except ValidationError as error:
        hint = (
            _("Adjust the management side first, then record the results.")
            if replace_workers
            else _(
                "If the elected replace the current worker members, say so; else adjust the committee first."
            )
        )
        raise ValidationError([*error.messages, hint]) from error
    if len(candidates) < seats:
        change.warnings.append(
            _("%(n)s candidates for %(seats)s seats: every candidate was elected.")
            % {"n": len(candidates), "seats": seats}
        )
    for candidate in candidates:
        candidate.elected = candidate in elected
    Candidate.objects.bulk_update(candidates, ["elected"])
    locked.results_recorded_at = timezone.now()
    locked.save(update_fields=["results_recorded_at"])
    audit.record(
        actor=actor.user,
        action="committee.election.results",
        obj=locked,
        programme=locked.programme_id,
        after={
            "elected": [c.pk for c in elected],
            "members": [m.pk for m in change.added],
            "terms_ended": [m.pk for m in change.ended],
        },
    )
    return ElectionResult(election=locked, elected=elected, change=change)


# --- Meetings ---------------------------------------------------------------------------------


def _meeting_picture(meeting: Meeting, attendees: set[int], decisions: Sequence[Decision]) -> dict[str, Any]:
    return {
        **audit.snapshot(meeting, ["committee", "held_on", "agenda", "minutes"]),
        "attendees": sorted(attendees),
        "decisions": [{"id": d.pk, "text": d.text, "item": d.item_id} for d in decisions],
    }


@transaction.atomic
def meeting_save(
    *,
    actor: Principal,
    committee: Committee,
    meeting: Meeting | None,
    data: Mapping[str, Any],
    attendee_ids: Sequence[int],
    decisions: Sequence[Mapping[str, Any]],
) -> Meeting:
    """Record a meeting (``meeting`` None) or change one: its date, agenda, minutes, who attended
    (members serving on that day) and its decisions, each optionally about an item of the
    factory's improvement plan. ``decisions`` lists them all: ``{"id": existing or None, "text",
    "item": PlanItem or id or None}``; an existing decision left out is removed."""
    locked = _lock(committee)
    _require_manage(actor, locked.factory)
    today = locked.programme.today()
    if meeting is None and not locked.is_active:
        raise ValidationError(_("This committee was dissolved."))
    current = (
        Meeting.objects.select_for_update().get(pk=meeting.pk, committee=locked)
        if meeting is not None
        else None
    )
    held_on = data.get("held_on") or (current.held_on if current else None)
    if held_on is None:
        raise ValidationError({"held_on": _("Give the day of the meeting.")})
    wanted = set(attendee_ids)
    members = {m.pk: m for m in CommitteeMember.objects.filter(committee=locked, pk__in=wanted)}
    if wanted - members.keys():
        raise ValidationError({"attendees": _("Some attendees are not members of this committee.")})
    if wanted and held_on > today:
        raise ValidationError({"attendees": _("Attendance is recorded once the meeting has been held.")})
    absent = [m.name for m in members.values() if not selectors.serving_on([m], held_on)]
    if absent:
        raise ValidationError(
            {
                "attendees": _("%(names)s did not serve on the committee on %(day)s.")
                % {"names": ", ".join(sorted(absent)), "day": f"{held_on:%Y-%m-%d}"}
            }
        )
    items = set(selectors.plan_items_for(factory=locked.factory).values_list("pk", flat=True))
    existing = {d.pk: d for d in Decision.objects.filter(meeting=current)} if current else {}
    wanted_decisions = []
    for entry in decisions:
        text = (entry.get("text") or "").strip()
        item = entry.get("item")
        item_id = item.pk if isinstance(item, PlanItem) else item
        decision_id = entry.get("id")
        if decision_id is not None and decision_id not in existing:
            raise ValidationError({"decisions": _("Some decisions belong to another meeting.")})
        if item_id is not None and item_id not in items:
            raise ValidationError({"decisions": _("Choose an item of this factory's improvement plan.")})
        if not text:
            if item_id is not None:
                raise ValidationError({"decisions": _("Say what was decided about the plan item.")})
            continue
        wanted_decisions.append((decision_id, text, item_id))

    before = (
        _meeting_picture(current, selectors.meeting_attendee_ids(meeting=current), list(existing.values()))
        if current
        else None
    )
    saved = current or Meeting(programme_id=locked.programme_id, committee=locked, created_by=actor.user)
    saved.held_on = held_on
    for key in ("agenda", "minutes"):
        if key in data:
            setattr(saved, key, (data.get(key) or "").strip())
    saved.full_clean(exclude=["committee", "created_by"], validate_constraints=False)
    saved.save()

    have = selectors.meeting_attendee_ids(meeting=saved) if current else set()
    MeetingAttendance.objects.filter(meeting=saved, member_id__in=have - wanted).delete()
    MeetingAttendance.objects.bulk_create(
        [
            MeetingAttendance(programme_id=locked.programme_id, meeting=saved, member_id=pk)
            for pk in sorted(wanted - have)
        ]
    )
    kept = {pk for pk, _text, _item in wanted_decisions if pk is not None}
    Decision.objects.filter(meeting=saved).exclude(pk__in=kept).delete()
    changed_decisions = []
    for pk, text, item_id in wanted_decisions:
        if pk is None:
            continue
        decision = existing[pk]
        if decision.text != text or decision.item_id != item_id:
            decision.text, decision.item_id = text, item_id
            changed_decisions.append(decision)
    Decision.objects.bulk_update(changed_decisions, ["text", "item"])
    Decision.objects.bulk_create(
        [
            Decision(programme_id=locked.programme_id, meeting=saved, text=text, item_id=item_id)
            for pk, text, item_id in wanted_decisions
            if pk is None
        ]
    )
    after = _meeting_picture(saved, wanted, list(Decision.objects.filter(meeting=saved)))
    if current is None:
        audit.record(
            actor=actor.user,
            action="committee.meeting.create",
            obj=saved,
            programme=locked.programme_id,
            after=after,
        )
    else:
        audit.record_changes(
            actor=actor.user,
            action="committee.meeting.update",
            obj=saved,
            programme=locked.programme_id,
            before=before,
            after=after,
        )
    return saved
