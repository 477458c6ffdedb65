"""The tenancy layer's data: programmes, users, role grants and the audit trail."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from betterwork.tenancy import TenantModel


class Programme(models.Model):
    """A country programme: the tenant. Not itself tenant-scoped: it is what scopes are made of."""

    code = models.CharField(_("code"), max_length=8, unique=True)
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=100)
    languages = models.JSONField(
        _("languages"), default=list, help_text=_("Language codes, first is the main one.")
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    started_on = models.DateField(_("started on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    factory_review_days = models.PositiveSmallIntegerField(
        _("factory review window (days)"),
        default=14,
        help_text=_("How long a factory may comment on or dispute a draft report before it becomes final."),
    )
    # The public transparency list (reporting/transparency.py states these rules in plain words).
    transparency_notice_days = models.PositiveSmallIntegerField(
        _("transparency list: notice period (days)"),
        default=60,
        validators=[MaxValueValidator(730)],
        help_text=_(
            "Days after a factory's assessment report became final before its publicly reported "
            "issues appear on the public transparency list, so that the factory can act on them first."
        ),
    )
    transparency_min_cycles = models.PositiveSmallIntegerField(
        _("transparency list: listed from assessment number"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_(
            "A factory is listed only from this final assessment on: 1 lists every factory with a final "
            "report, 2 only factories assessed at least twice."
        ),
    )
    transparency_persisting_cycles = models.PositiveSmallIntegerField(
        _("transparency list: persisting issues only (assessments)"),
        default=0,
        validators=[MaxValueValidator(20)],
        help_text=_(
            "0 names every publicly reported issue found non-compliant in the factory's latest report. "
            "A number N names only issues found non-compliant in N consecutive assessments of the factory."
        ),
    )
    # The last factory number handed out: public ids are never reused.
    last_factory_number = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")

    def __str__(self) -> str:
        return self.name

    @property
    def main_language(self) -> str:
        """The first of the programme's languages the platform offers: new users' language."""
        offered = dict(settings.LANGUAGES)
        return next((code for code in self.languages or [] if code in offered), settings.LANGUAGE_CODE)

    def today(self) -> date:
        """Today in the programme's time zone: deadlines and "has this day come" are local."""
        return timezone.now().astimezone(ZoneInfo(self.time_zone)).date()

    def local_date(self, moment: datetime | None) -> date | None:
        """The day a moment fell on in the programme's time zone (None stays None)."""
        return moment.astimezone(ZoneInfo(self.time_zone)).date() if moment is not None else None


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an e-mail address. What they may do comes from RoleGrant."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    # Set once an authenticator app is confirmed (betterwork.services.two_factor_confirm): from
    # then on every sign-in asks for its code. Kept here so requests know without a query.
    two_factor_enabled = models.BooleanField(_("two-step sign-in"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Role(models.TextChoices):
    ADVISOR = "advisor", _("Enterprise advisor")
    TEAM_LEADER = "team_leader", _("Team leader")
    PROGRAMME_MANAGER = "programme_manager", _("Programme manager")
    FACTORY = "factory", _("Factory user")
    COMMITTEE_MEMBER = "committee_member", _("Committee member (reads the plan and minutes)")
    BUYER = "buyer", _("Buyer user")
    GLOBAL = "global", _("Global staff")


PROGRAMME_STAFF_ROLES = frozenset({Role.ADVISOR, Role.TEAM_LEADER, Role.PROGRAMME_MANAGER})


class RoleGrant(models.Model):
    """One role held by one user, where it applies. Every permission starts from these rows.

    - advisor, team_leader, programme_manager: ``programme`` set.
    - factory: ``programme`` and ``factory`` set; ``is_admin`` lets them manage their staff.
    - buyer: ``buyer`` set (buyer organisations are global); ``is_admin`` likewise.
    - global: ``programme`` set for one programme, or empty for every programme.

    Grants are read to compute the scope itself, so this table carries no row-level policy.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, null=True, blank=True, related_name="grants"
    )
    factory = models.ForeignKey(
        "factories.Factory", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    buyer = models.ForeignKey(
        "buyers.Buyer", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    is_admin = models.BooleanField(_("manages the organisation's users"), default=False)
    # Training officers are advisors (or team leaders) holding this permission, not another role.
    manages_training = models.BooleanField(
        _("training officer"),
        default=False,
        help_text=_("Manages the programme's course catalogue, all training sessions and entitlements."),
    )
    granted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("role grant")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "programme", "factory", "buyer"],
                nulls_distinct=False,
                name="rolegrant_unique",
            ),
            models.CheckConstraint(
                name="rolegrant_shape",
                condition=(
                    models.Q(
                        role__in=["advisor", "team_leader", "programme_manager"],
                        programme__isnull=False,
                        factory__isnull=True,
                        buyer__isnull=True,
                    )
                    | models.Q(
                        role__in=["factory", "committee_member"],
                        programme__isnull=False,
                        factory__isnull=False,
                        buyer__isnull=True,
                    )
                    | models.Q(
                        role="buyer", programme__isnull=True, factory__isnull=True, buyer__isnull=False
                    )
                    | models.Q(role="global", factory__isnull=True, buyer__isnull=True)
                ),
            ),
            models.CheckConstraint(
                name="rolegrant_training_for_staff",
                condition=models.Q(manages_training=False)
                | models.Q(role__in=["advisor", "team_leader", "programme_manager"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class AuditEvent(TenantModel):
    """Who did what, when, in which programme, to which object, with its state before and after.

    Written only by services (``betterwork.audit.record``), in the same transaction as the
    change it describes, so a rolled-back change leaves no audit row and vice versa.
    """

    # Empty for actions on no programme (a buyer's staff, a global grant): such rows may be
    # written by anyone acting, and are read only by database administrators.
    programme = models.ForeignKey(  # type: ignore[assignment]
        Programme, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["programme", "object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


class Notification(TenantModel):
    """One message to one user, in their in-app inbox (and by e-mail when sent so)."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.subject


class ImportAction(models.TextChoices):
    """What applying an import will do with a row (``betterwork.imports.PlannedRow``)."""

    CREATE = "create", _("New")
    UPDATE = "update", _("Changed")
    UNCHANGED = "unchanged", _("Unchanged")
    CHOOSE = "choose", _("To choose")


def import_path(instance: ImportRun, filename: str) -> str:
    return f"imports/{instance.programme_id}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class ImportRun(TenantModel):
    """One spreadsheet uploaded for import: checked first (the preview), applied on confirmation.

    The file is kept until then so that confirming applies exactly what was previewed, and is
    dropped once the run is applied or rejected (its sha256 still identifies it).
    """

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("checked, waiting for confirmation")
        APPLYING = "applying", _("importing in the background")
        APPLIED = "applied", _("imported")
        REJECTED = "rejected", _("rejected")

    kind = models.CharField(_("kind"), max_length=64)
    # What the rows go into (a training session, ...); empty when the import has no one target.
    target_id = models.CharField(max_length=64, blank=True)
    filename = models.CharField(_("file name"), max_length=200)
    # The checked upload, kept in storage (read again a chunk at a time on confirmation) until it
    # is applied or rejected.
    file = models.FileField(upload_to=import_path, blank=True, max_length=300)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PREVIEWED)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row", "column", "message"}]
    summary = models.JSONField(default=dict, blank=True)  # what applying did: {"created": 10, ...}
    # What applying will do, row by row (betterwork.imports.PlannedRow), for importers that say.
    plan = models.JSONField(default=list, blank=True)
    # A large run is applied by a worker: with these choices, on behalf of this person; a
    # notice says why it came back unapplied (the data changed, a choice is missing).
    decisions = models.JSONField(default=dict, blank=True)
    applied_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    notice = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["programme", "kind", "target_id"])]
        verbose_name = _("spreadsheet import")

    def __str__(self) -> str:
        return f"{self.kind} · {self.filename}"

    # The preview lists at most this many rows that do something; the counts cover them all.
    PLAN_SHOWN = 1000

    @property
    def plan_counts(self) -> list[tuple[str, int]]:
        counts = Counter(item["action"] for item in self.plan)
        return [(str(label), counts[action]) for action, label in ImportAction.choices if counts[action]]

    @property
    def plan_shown(self) -> list[dict[str, Any]]:
        """The rows that create, change or wait for a choice (those first), with their action's label."""
        labels = dict(ImportAction.choices)
        acting = [item for item in self.plan if item["action"] != ImportAction.UNCHANGED]
        acting.sort(key=lambda item: (item["action"] != ImportAction.CHOOSE, item["row"]))
        return [
            {**item, "action_label": labels.get(item["action"], "")} for item in acting[: self.PLAN_SHOWN]
        ]

    @property
    def plan_hidden(self) -> int:
        acting = sum(1 for item in self.plan if item["action"] != ImportAction.UNCHANGED)
        return max(acting - self.PLAN_SHOWN, 0)

    @property
    def summary_lines(self) -> list[tuple[str, int]]:
        """What an import that plans its rows did, by action."""
        done = {
            "created": ImportAction.CREATE.label,
            "updated": ImportAction.UPDATE.label,
            "unchanged": ImportAction.UNCHANGED.label,
        }
        return [
            (str(label), self.summary[key])
            for key, label in done.items()
            if key in self.summary and self.plan
        ]
