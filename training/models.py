"""Training: the course catalogue, sessions, participants, attendance per day, evaluations and
each factory's training-day entitlement per cycle.

Participant training days are counted from attendance rows (one row = one participant present
on one day), never from enrolments. Participants' names are personal data: a name, sex, role
and where they work is all the platform keeps, and public figures carry none of it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from betterwork.tenancy import TenantModel


class Audience(models.TextChoices):
    WORKERS = "workers", _("Workers")
    SUPERVISORS = "supervisors", _("Supervisors and line leaders")
    MANAGERS = "managers", _("Managers")
    HR = "hr", _("HR and compliance staff")
    COMMITTEE = "committee", _("Committee members")
    MIXED = "mixed", _("Workers and management together")


class CourseTemplate(models.Model):
    """A course the global team offers every programme to copy into its catalogue and adapt."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=200)
    topics = models.TextField(_("topics"), blank=True, help_text=_("One topic per line."))
    days = models.PositiveSmallIntegerField(_("duration in days"))
    audience = models.CharField(_("audience"), max_length=20, choices=Audience.choices)
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("course template")
        constraints = [
            models.CheckConstraint(name="coursetemplate_days_1_to_10", condition=Q(days__gte=1, days__lte=10))
        ]

    def __str__(self) -> str:
        return self.title


class Course(TenantModel):
    """A course of one programme's catalogue, often a global template adapted (title, days)."""

    template = models.ForeignKey(
        CourseTemplate, verbose_name=_("copied from"), on_delete=models.SET_NULL, null=True, blank=True
    )
    title = models.CharField(_("title"), max_length=200)
    topics = models.TextField(_("topics"), blank=True, help_text=_("One topic per line."))
    days = models.PositiveSmallIntegerField(_("duration in days"))
    audience = models.CharField(_("audience"), max_length=20, choices=Audience.choices)
    is_active = models.BooleanField(_("in the catalogue"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["title", "id"]
        verbose_name = _("course")
        constraints = [
            models.UniqueConstraint("programme", Lower("title"), name="course_title_unique_in_programme"),
            models.CheckConstraint(name="course_days_1_to_10", condition=Q(days__gte=1, days__lte=10)),
        ]

    def __str__(self) -> str:
        return self.title

    def topic_list(self) -> list[str]:
        return [line.strip() for line in self.topics.splitlines() if line.strip()]


class SessionMode(models.TextChoices):
    FACTORY = "factory", _("For one factory")
    OPEN = "open", _("Open to many factories")


class Session(TenantModel):
    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="sessions"
    )
    mode = models.CharField(_("who may attend"), max_length=10, choices=SessionMode.choices)
    factory = models.ForeignKey(
        "factories.Factory",
        verbose_name=_("factory"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="training_sessions",
    )
    # First and last day, kept with the days so lists sort and filter without a join.
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    online = models.BooleanField(_("online"), default=False)
    online_link = models.URLField(_("online meeting link"), blank=True)
    capacity = models.PositiveSmallIntegerField(_("number of places"), default=25)
    # Training is given in the workers' languages, far more than the interface's.
    language = models.CharField(_("language"), max_length=10, blank=True)
    counts_toward_entitlement = models.BooleanField(
        _("counts toward entitlements"),
        default=True,
        help_text=_("Days attended use the participants' factories' training-day entitlements."),
    )
    other_trainers = models.CharField(
        _("other trainers"), max_length=300, blank=True, help_text=_("Trainers from outside the programme.")
    )
    notes = models.TextField(_("notes"), blank=True)
    trainers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="SessionTrainer", related_name="+", verbose_name=_("trainers")
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["-starts_on", "-id"]
        verbose_name = _("training session")
        indexes = [models.Index(fields=["programme", "starts_on"])]
        constraints = [
            models.CheckConstraint(
                name="session_factory_when_for_one_factory",
                condition=Q(mode="factory", factory__isnull=False) | Q(mode="open", factory__isnull=True),
            ),
            models.CheckConstraint(name="session_days_in_order", condition=Q(ends_on__gte=F("starts_on"))),
            models.CheckConstraint(name="session_capacity_positive", condition=Q(capacity__gte=1)),
        ]

    def __str__(self) -> str:
        return f"{self.course.title} · {self.starts_on:%Y-%m-%d}"

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class SessionTrainer(TenantModel):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="trainer_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta(TenantModel.Meta):
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="sessiontrainer_unique")]


class SessionDay(TenantModel):
    """One day the session meets: attendance is taken per day."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))

    class Meta(TenantModel.Meta):
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["session", "date"], name="sessionday_unique")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d}"


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    NOT_STATED = "not_stated", _("Not stated")


class ParticipantRole(models.TextChoices):
    WORKER = "worker", _("Worker")
    SUPERVISOR = "supervisor", _("Supervisor")
    MANAGER = "manager", _("Manager")
    COMMITTEE_MEMBER = "committee_member", _("Committee member")
    OTHER = "other", _("Other")


class Participant(TenantModel):
    """Someone enrolled in one session: from a factory of the programme or an outside organisation."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="participants")
    name = models.CharField(_("name"), max_length=120)
    sex = models.CharField(_("sex"), max_length=12, choices=Sex.choices)
    role = models.CharField(_("role"), max_length=20, choices=ParticipantRole.choices)
    factory = models.ForeignKey(
        "factories.Factory",
        verbose_name=_("factory"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="training_participants",
    )
    organisation = models.CharField(
        _("organisation"),
        max_length=200,
        blank=True,
        help_text=_("For participants from outside the programme's factories."),
    )
    enrolled_at = models.DateTimeField(auto_now_add=True)
    # Names are kept only as long as the programme needs them (settings.TRAINING_NAMES_KEPT_DAYS).
    name_erased_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                name="participant_from_somewhere", condition=Q(factory__isnull=False) | ~Q(organisation="")
            ),
            models.UniqueConstraint(
                "session",
                Lower("name"),
                "factory",
                Lower("organisation"),
                name="participant_once_per_session",
                nulls_distinct=False,
            ),
        ]
        indexes = [models.Index(fields=["factory", "session"])]

    def __str__(self) -> str:
        return self.name

    @property
    def comes_from(self) -> str:
        return self.factory.name if self.factory_id and self.factory else self.organisation


class Attendance(TenantModel):
    """A participant present on one day of their session: one participant training day."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="attendance")
    day = models.ForeignKey(SessionDay, on_delete=models.CASCADE, related_name="attendance")

    class Meta(TenantModel.Meta):
        constraints = [models.UniqueConstraint(fields=["participant", "day"], name="attendance_once_per_day")]


RATING_FIELDS = ("overall", "content", "trainers", "usefulness")


def _rating(label: Any) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(label)


class Evaluation(TenantModel):
    """A participant's short rating form (1 poor … 5 excellent), recorded once per participant."""

    participant = models.OneToOneField(Participant, on_delete=models.CASCADE, related_name="evaluation")
    overall = _rating(_("overall"))
    content = _rating(_("content"))
    trainers = _rating(_("trainers"))
    usefulness = _rating(_("usefulness at work"))
    comment = models.TextField(_("comment"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.CheckConstraint(
                name=f"evaluation_{field}_1_to_5", condition=Q(**{f"{field}__gte": 1, f"{field}__lte": 5})
            )
            for field in RATING_FIELDS
        ]


class Entitlement(TenantModel):
    """Training days a factory may use in one of its cycles: participant training days attended
    between ``starts_on`` and ``ends_on`` in sessions that count toward entitlements."""

    factory = models.ForeignKey(
        "factories.Factory",
        verbose_name=_("factory"),
        on_delete=models.PROTECT,
        related_name="training_entitlements",
    )
    cycle = models.PositiveSmallIntegerField(_("cycle"))
    days = models.PositiveSmallIntegerField(_("training days"))
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantModel.Meta):
        ordering = ["factory", "-cycle"]
        constraints = [
            models.UniqueConstraint(fields=["factory", "cycle"], name="entitlement_once_per_cycle"),
            models.CheckConstraint(
                name="entitlement_dates_in_order", condition=Q(ends_on__gte=F("starts_on"))
            ),
            models.CheckConstraint(name="entitlement_cycle_positive", condition=Q(cycle__gte=1)),
        ]

    def __str__(self) -> str:
        return f"{self.factory} · {_('Cycle')} {self.cycle}"

    # ``used`` is set by training.selectors.with_use (two grouped queries for a page);
    # these derive from it rather than repeat its subquery in SQL.
    @property
    def remaining(self) -> int:
        return int(self.days) - int(getattr(self, "used", 0))

    @property
    def over_by(self) -> int:
        return max(-self.remaining, 0)
