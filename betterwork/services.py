"""User, role and programme administration: each write checked, audited, in a transaction."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from betterwork import audit, auth_cache, permissions, tenancy
from betterwork.models import PROGRAMME_STAFF_ROLES, Notification, Programme, Role, RoleGrant, User
from betterwork.permissions import Principal
from betterwork.selectors import programme_cache_key

PLATFORM_LANGUAGES = ("en", "km", "vi", "bn", "ar", "am", "id", "fr", "es", "ht")


def _grant_snapshot(grant: RoleGrant) -> dict[str, object]:
    return {
        "user": grant.user.email,
        "role": grant.role,
        "programme_id": grant.programme_id,
        "factory_id": grant.factory_id,
        "buyer_id": grant.buyer_id,
        "is_admin": grant.is_admin,
        "manages_training": grant.manages_training,
    }


def _may_grant(actor: Principal, *, role: str, programme: Programme, factory: object | None) -> bool:
    if role == Role.FACTORY:
        return factory is not None and permissions.can_manage_factory_staff(actor, factory)  # type: ignore[arg-type]
    return role in permissions.GRANTABLE_BY_PROGRAMME_MANAGER and permissions.can_manage_programme_users(
        actor, programme.pk
    )


def send_invitation(
    *,
    user: User,
    programme: Programme | None,
    invited_by: User | None,
    base_url: str,
    organisation: str = "",
) -> None:
    """E-mail a link to set a password, in the invitee's language, once the transaction commits.
    Without a programme (a buyer's users), the e-mail names the ``organisation`` instead."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = base_url.rstrip("/") + reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    with translation.override(user.language):
        context = {
            "user": user,
            "programme": programme,
            "organisation": organisation,
            "invited_by": invited_by,
            "link": link,
        }
        subject = render_to_string("people/emails/invitation_subject.txt", context).strip()
        body = render_to_string("people/emails/invitation.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))


@transaction.atomic
def user_invite(
    *,
    actor: Principal,
    programme: Programme,
    email: str,
    full_name: str,
    role: str,
    language: str | None = None,
    factory: Any = None,
    is_admin: bool = False,
    manages_training: bool = False,
    base_url: str,
) -> RoleGrant:
    """Invite someone into a role in a programme: a new account, or a new role for an existing one."""
    if factory is not None and getattr(factory, "programme_id", None) != programme.pk:
        raise PermissionDenied
    if not _may_grant(actor, role=role, programme=programme, factory=factory):
        raise PermissionDenied
    if role == Role.FACTORY and factory is None:
        raise ValidationError({"factory": _("Choose the factory this user works for.")})
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email__iexact=email).first()
    new_account = user is None
    if user is None:
        user = User(email=email, full_name=full_name, language=language or programme.main_language)
        user.set_unusable_password()
        user.full_clean()
        user.save()
    if RoleGrant.objects.filter(user=user, role=role, programme=programme, factory=factory).exists():
        raise ValidationError({"email": _("This person already holds that role here.")})
    grant = RoleGrant.objects.create(
        user=user,
        role=role,
        programme=programme,
        factory=factory,
        is_admin=is_admin and role == Role.FACTORY,
        manages_training=manages_training and role in PROGRAMME_STAFF_ROLES,
        granted_by=actor.user,
    )
    audit.record(
        actor=actor.user, action="role.grant", obj=grant, programme=programme, after=_grant_snapshot(grant)
    )
    if new_account:
        send_invitation(user=user, programme=programme, invited_by=actor.user, base_url=base_url)
    return grant


@transaction.atomic
def grant_set_training(*, actor: Principal, grant: RoleGrant, manages_training: bool) -> RoleGrant:
    """Give or take the training permission: training officers are staff holding it."""
    programme = grant.programme
    if programme is None or not permissions.can_manage_programme_users(actor, programme.pk):
        raise PermissionDenied
    if grant.role not in PROGRAMME_STAFF_ROLES:
        raise ValidationError(_("Only the programme's staff can be training officers."))
    locked = RoleGrant.objects.select_for_update().get(pk=grant.pk)
    if locked.manages_training == manages_training:
        return locked
    before = _grant_snapshot(locked)
    locked.manages_training = manages_training
    locked.save(update_fields=["manages_training"])
    audit.record(
        actor=actor.user,
        action="role.training",
        obj=locked,
        programme=programme,
        before=before,
        after=_grant_snapshot(locked),
    )
    return locked


@transaction.atomic
def role_revoke(*, actor: Principal, grant: RoleGrant) -> None:
    programme = grant.programme
    if programme is None or not _may_grant(
        actor, role=grant.role, programme=programme, factory=grant.factory
    ):
        raise PermissionDenied
    if grant.role == Role.PROGRAMME_MANAGER:
        managers = RoleGrant.objects.filter(
            programme=programme, role=Role.PROGRAMME_MANAGER, user__is_active=True
        )
        if managers.exclude(pk=grant.pk).count() == 0:
            raise ValidationError(_("A programme must keep at least one active programme manager."))
    snapshot = _grant_snapshot(grant)
    grant.delete()
    audit.record(actor=actor.user, action="role.revoke", obj=grant, programme=programme, before=snapshot)


def _manages_all_grants_of(actor: Principal, user: User) -> bool:
    """Only someone who manages every programme the user works in may (de)activate the account."""
    grants = list(user.grants.all())
    return bool(grants) and all(
        g.programme_id is not None
        and (
            permissions.can_manage_programme_users(actor, g.programme_id)
            or (g.role == Role.FACTORY and g.factory_id in actor.admin_factory_ids())
        )
        for g in grants
    )


@transaction.atomic
def user_set_active(*, actor: Principal, user: User, active: bool, programme: Programme) -> User:
    if actor.user is not None and user.pk == actor.user.pk:
        raise ValidationError(_("You cannot deactivate your own account."))
    if not _manages_all_grants_of(actor, user):
        raise PermissionDenied
    if not active:
        sole_manager_of = [
            g.programme_id
            for g in user.grants.filter(role=Role.PROGRAMME_MANAGER)
            if not RoleGrant.objects.filter(
                programme=g.programme, role=Role.PROGRAMME_MANAGER, user__is_active=True
            )
            .exclude(user=user)
            .exists()
        ]
        if sole_manager_of:
            raise ValidationError(_("This is the programme's only active manager; appoint another first."))
    before = {"is_active": user.is_active}
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit.record(
        actor=actor.user,
        action="user.activate" if active else "user.deactivate",
        obj=user,
        programme=programme,
        before=before,
        after={"is_active": active},
    )
    return user


# The transparency list's settings of a programme and the values they may take.
TRANSPARENCY_LIMITS = (
    ("transparency_notice_days", 0, 730),
    ("transparency_min_cycles", 1, 20),
    ("transparency_persisting_cycles", 0, 20),
)


def _clean_programme_fields(data: dict[str, object]) -> dict[str, object]:
    errors: dict[str, str] = {}
    code = str(data.get("code", "")).strip().upper()
    if not (2 <= len(code) <= 3 and code.isalpha() and code.isascii()):
        errors["code"] = _("Use two or three letters, such as KH or VN.")
    languages = [str(code) for code in data.get("languages") or []]  # type: ignore[attr-defined]
    if not languages or any(lang not in PLATFORM_LANGUAGES for lang in languages):
        errors["languages"] = _("Choose at least one of the platform's languages.")
    if data.get("time_zone") not in available_timezones():
        errors["time_zone"] = _("Unknown time zone; use a name such as Asia/Phnom_Penh.")
    currency = str(data.get("currency", "")).strip().upper()
    if not (len(currency) == 3 and currency.isalpha()):
        errors["currency"] = _("Use the three-letter currency code, such as USD.")
    for name, low, high in TRANSPARENCY_LIMITS:
        value = data.get(name)
        if value is not None and not (isinstance(value, int) and low <= value <= high):
            errors[name] = _("Use a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}
    if errors:
        raise ValidationError(errors)
    return {**data, "code": code, "currency": currency, "languages": languages}


@transaction.atomic
def programme_create(*, actor: Principal, data: dict[str, object]) -> Programme:
    if not permissions.can_manage_programmes(actor):
        raise PermissionDenied
    fields = _clean_programme_fields(data)
    if Programme.objects.filter(code=fields["code"]).exists():
        raise ValidationError({"code": _("A programme with this code exists already.")})
    programme = Programme(**fields)
    programme.full_clean()
    programme.save()
    # The new programme is not yet in the request's scope; its first audit row belongs to it.
    with tenancy.scope(tenancy.require_scope() | {programme.pk}):
        audit.record(
            actor=actor.user,
            action="programme.create",
            obj=programme,
            programme=programme,
            after=audit.snapshot(programme),
        )
    return programme


@transaction.atomic
def programme_update(*, actor: Principal, programme: Programme, data: dict[str, object]) -> Programme:
    if not permissions.can_manage_programmes(actor):
        raise PermissionDenied
    fields = _clean_programme_fields(data)
    if Programme.objects.filter(code=fields["code"]).exclude(pk=programme.pk).exists():
        raise ValidationError({"code": _("A programme with this code exists already.")})
    locked = Programme.objects.select_for_update().get(pk=programme.pk)
    # A renamed code stops resolving at once; again after commit, in case a request cached it meanwhile.
    old_key = programme_cache_key(locked.code)
    cache.delete(old_key)
    transaction.on_commit(lambda: cache.delete(old_key))
    audit.save_changes(
        actor=actor.user, instance=locked, changes=fields, action="programme.update", programme=locked
    )
    return locked


@transaction.atomic
def inbox_mark_read(*, user: User | None) -> int:
    """Mark every unread notification of this user (in the request's scope) as read."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def user_language_set(*, user: User, language: str) -> bool:
    """Keep the language a person chose with the switcher as theirs; whether it changed."""
    if language not in dict(settings.LANGUAGES) or user.language == language:
        return False
    user.language = language
    user.save(update_fields=["language"])
    return True


SIGN_IN, SIGN_IN_FAILED, LOCKED_OUT = "auth.sign_in", "auth.sign_in_failed", "auth.locked_out"
TWO_FACTOR_ON = "auth.two_factor_on"


def client_address(request: HttpRequest | None) -> str:
    """The address a request came from, as the sign-in lock-out sees it (``TRUSTED_PROXIES``)."""
    from axes.helpers import get_client_ip_address

    return (get_client_ip_address(request) or "") if request is not None else ""


def sign_in_record(*, user: User, action: str, address: str) -> None:
    """A sign-in, a failed one or a lock-out, on record in each programme the account works in
    (its managers see it there), or once without a programme for an account of none."""
    programmes = sorted(
        {pid for pid in RoleGrant.objects.filter(user=user).values_list("programme_id", flat=True) if pid}
    )
    with tenancy.scope(programmes), transaction.atomic():
        targets: list[int | None] = [*programmes] or [None]
        for programme in targets:
            audit.record(
                actor=None if action in (SIGN_IN_FAILED, LOCKED_OUT) else user,  # a failure: whoever typed
                action=action,
                obj=user,
                programme=programme,
                after={"address": address},
            )


# Who must sign in with a code where TWO_FACTOR_REQUIRED is on: the people who see many
# factories' data. Factory and buyer users may turn it on too.
TWO_FACTOR_ROLES = frozenset({*PROGRAMME_STAFF_ROLES, Role.GLOBAL})


def two_factor_required(user: User) -> bool:
    return settings.TWO_FACTOR_REQUIRED and any(
        g.role in TWO_FACTOR_ROLES for g in auth_cache.grants_of(user)
    )


def two_factor_device(*, user: User) -> TOTPDevice:
    """The authenticator being set up: the one not yet confirmed, else a new secret."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def two_factor_confirm(*, user: User, code: str) -> TOTPDevice | None:
    """Turn two-step sign-in on with the first code the new authenticator shows; None when the
    code is wrong. Other authenticators of the account are dropped: one app at a time."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not device.verify_token(code.strip()):
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    user.two_factor_enabled = True
    user.save(update_fields=["two_factor_enabled"])
    sign_in_record(user=user, action=TWO_FACTOR_ON, address="")
    return device


def two_factor_check(*, user: User, code: str) -> TOTPDevice | None:
    """The confirmed authenticator that shows this code now, if any (each code works once;
    repeated wrong codes slow further tries down)."""
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(code.strip()):
            return device
    return None
