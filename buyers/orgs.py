"""Buyer organisations and their users: the global team creates and edits buyers; it and a
buyer's own admins invite the buyer's users. Buyers belong to no programme, so these actions are
audited with an empty programme (written, never read back through the application)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from betterwork import audit, permissions
from betterwork.models import Role, RoleGrant, User
from betterwork.permissions import Principal
from betterwork.services import send_invitation
from buyers.models import Buyer, BuyerKind

BUYER_FIELDS = ["name", "kind", "headquarters_country", "contact_name", "contact_email"]


@transaction.atomic
def buyer_save(*, actor: Principal, data: dict[str, Any], buyer: Buyer | None = None) -> Buyer:
    """Create a buyer organisation, or change one (the global team only)."""
    if not permissions.can_manage_buyers(actor):
        raise PermissionDenied
    if data.get("kind") not in BuyerKind.values:
        raise ValidationError({"kind": _("Choose participant or partner.")})
    name = str(data.get("name", "")).strip()
    taken = Buyer.objects.filter(name__iexact=name)
    if buyer is not None:
        taken = taken.exclude(pk=buyer.pk)
    if taken.exists():
        raise ValidationError({"name": _("Another buyer has this name.")})
    target = Buyer() if buyer is None else Buyer.objects.select_for_update().get(pk=buyer.pk)
    before = audit.snapshot(target, BUYER_FIELDS) if buyer is not None else None
    for name_ in BUYER_FIELDS:
        value = data.get(name_, "")
        setattr(target, name_, value.strip() if isinstance(value, str) else value)
    target.full_clean()
    target.save()
    after = audit.snapshot(target, BUYER_FIELDS)
    if before is None:
        audit.record(actor=actor.user, action="buyer.create", obj=target, programme=None, after=after)
    elif before != after:
        audit.record_changes(
            actor=actor.user, action="buyer.update", obj=target, programme=None, before=before, after=after
        )
    return target


@transaction.atomic
def buyer_user_invite(
    *,
    actor: Principal,
    buyer: Buyer,
    email: str,
    full_name: str,
    language: str = "en",
    is_admin: bool = False,
    base_url: str,
) -> RoleGrant:
    """Give someone a buyer role for this buyer: a new account with an invitation e-mail, or a new
    role for an existing one (the global team, or the buyer's own admins)."""
    if not permissions.can_invite_for_buyer(actor, buyer.pk):
        raise PermissionDenied
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email__iexact=email).first()
    new_account = user is None
    if user is None:
        user = User(email=email, full_name=full_name.strip(), language=language)
        user.set_unusable_password()
        user.full_clean()
        user.save()
    if RoleGrant.objects.filter(user=user, role=Role.BUYER, buyer=buyer).exists():
        raise ValidationError({"email": _("This person already works for this buyer here.")})
    grant = RoleGrant.objects.create(
        user=user, role=Role.BUYER, buyer=buyer, is_admin=is_admin, granted_by=actor.user
    )
    audit.record(
        actor=actor.user,
        action="role.grant",
        obj=grant,
        programme=None,
        after={"user": user.email, "role": Role.BUYER, "buyer_id": buyer.pk, "is_admin": is_admin},
    )
    if new_account:
        send_invitation(
            user=user, programme=None, invited_by=actor.user, base_url=base_url, organisation=buyer.name
        )
    return grant
