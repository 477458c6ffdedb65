"""A session's attendance sheet as a spreadsheet: exported and imported in the same shape.

One row per participant (name, sex, role, factory or organisation), one column per day of the
session marked yes/no. Importing adds the participants the session lacks and sets their
attendance to what the sheet says; participants missing from the sheet are left as they are.
The sheet is checked whole first and applied whole or not at all (``betterwork.imports``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from betterwork.imports import BaseImporter, RowsInvalid
from betterwork.models import Programme
from betterwork.permissions import Principal
from betterwork.spreadsheets import (
    Column,
    RowError,
    parse_bool,
    parse_choice,
    parse_date,
    parse_int,
    parse_text,
)
from factories.models import Factory
from training import services
from training.models import (
    RATING_FIELDS,
    Entitlement,
    Participant,
    ParticipantRole,
    Session,
    SessionDay,
    SessionMode,
    Sex,
)
from training.selectors import attendance_marks

KIND = "training.attendance"


def day_key(day: SessionDay) -> str:
    return f"day_{day.pk}"


class AttendanceImporter(BaseImporter):
    kind = KIND

    def __init__(self, session: Session) -> None:
        self.session = session
        self.days = list(SessionDay.objects.filter(session=session).order_by("date"))
        self.columns: Sequence[Column] = [
            Column("name", gettext_lazy("Name"), parse_text(120)),
            Column("sex", gettext_lazy("Sex"), parse_choice(Sex.choices)),
            Column("role", gettext_lazy("Role"), parse_choice(ParticipantRole.choices)),
            Column(
                "factory", gettext_lazy("Factory"), parse_text(200), required=False, aliases=("factory id",)
            ),
            Column("organisation", gettext_lazy("Organisation"), parse_text(200), required=False),
            # Days are yes/no cells; an empty cell is "absent", as on a paper sheet.
            *(Column(day_key(day), f"{day.date:%Y-%m-%d}", parse_bool, required=False) for day in self.days),
        ]

    # --- Resolving factories and people --------------------------------------------------

    def _resolve(
        self, row: dict[str, Any], factories: dict[str, Factory]
    ) -> tuple[dict[str, Any], str | None]:
        """The participant's fields for this row, or the reason it cannot be placed."""
        name = " ".join((row["name"] or "").split())
        factory_text = (row.get("factory") or "").strip()
        organisation = " ".join((row.get("organisation") or "").split())
        factory = factories.get(factory_text.casefold()) if factory_text else None
        if factory_text and factory is None:
            return {}, _("No factory of the programme has the id or name “%(value)s”.") % {
                "value": factory_text
            }
        if self.session.mode == SessionMode.FACTORY:
            if factory is None and not organisation:
                factory = self.session.factory
            if factory is None or factory.pk != self.session.factory_id:
                return {}, _("This session is for one factory: its participants come from it.")
        if factory is None and not organisation:
            return {}, _("Give the participant's factory or organisation.")
        fields = {
            "name": name,
            "sex": row["sex"],
            "role": row["role"],
            "factory": factory,
            "organisation": "" if factory else organisation,
        }
        return fields, None

    @staticmethod
    def _person_key(fields: dict[str, Any]) -> tuple[str, int | None, str]:
        factory = fields["factory"]
        return fields["name"].casefold(), factory.pk if factory else None, fields["organisation"].casefold()

    def _rows(
        self, rows: list[dict[str, Any]]
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None, RowError | None]]:
        factories = _factories_by_key(self.session.programme_id)
        seen: dict[tuple[str, int | None, str], int] = {}
        for row in rows:
            fields, problem = self._resolve(row, factories)
            if problem:
                yield row, None, RowError(row["_row"], "", problem)
                continue
            key = self._person_key(fields)
            if key in seen:
                yield (
                    row,
                    None,
                    RowError(
                        row["_row"],
                        _("Name"),
                        _("%(name)s is listed twice (also on row %(row)s).")
                        % {"name": fields["name"], "row": seen[key]},
                    ),
                )
                continue
            seen[key] = row["_row"]
            yield row, fields, None

    # --- The importer's interface ------------------------------------------------------

    def check(self, *, rows: list[dict[str, Any]], target: Any) -> list[RowError]:
        errors = [error for _row, _fields, error in self._rows(rows) if error]
        if self.session.is_cancelled:
            errors.append(RowError(0, "", _("This session was cancelled.")))
        today = self.session.programme.today()
        for day in self.days:
            if day.date > today and any(row.get(day_key(day)) for row in rows):
                errors.append(
                    RowError(
                        0,
                        f"{day.date:%Y-%m-%d}",
                        _("Attendance can be recorded only for days that have come."),
                    )
                )
        existing = {
            self._person_key(_fields_of(p))
            for p in Participant.objects.filter(session=self.session).select_related("factory")
        }
        new = {
            self._person_key(fields) for _row, fields, error in self._rows(rows) if fields is not None
        } - existing
        if len(existing) + len(new) > self.session.capacity:
            errors.append(
                RowError(
                    0,
                    "",
                    _(
                        "The sheet adds %(new)s participants; with %(have)s enrolled that is more than the %(places)s places."
                    )
                    % {"new": len(new), "have": len(existing), "places": self.session.capacity},
                )
            )
        return errors

    def apply(self, *, rows: list[dict[str, Any]], target: Any, actor: Principal) -> dict[str, int]:
        session = Session.objects.select_for_update().select_related("programme").get(pk=self.session.pk)
        people = {
            self._person_key(_fields_of(p)): p
            for p in Participant.objects.filter(session=session).select_related("factory")
        }
        listed: set[int] = set()
        present: set[tuple[int, int]] = set()
        created = 0
        for row, fields, error in self._rows(rows):
            if error or fields is None:
                raise RowsInvalid([error] if error else [])
            participant = people.get(self._person_key(fields))
            if participant is None:
                participant = Participant(programme_id=session.programme_id, session=session, **fields)
                participant.save()
                people[self._person_key(fields)] = participant
                created += 1
            listed.add(participant.pk)
            present |= {(participant.pk, day.pk) for day in self.days if row.get(day_key(day))}
        # Checked again under the session's lock: someone may have enrolled since the preview.
        if len(people) > session.capacity:
            raise RowsInvalid(
                [
                    RowError(
                        0,
                        "",
                        _("The session has %(places)s places; with this sheet %(n)s would be enrolled.")
                        % {"places": session.capacity, "n": len(people)},
                    )
                ]
            )
        # People the sheet does not list keep their attendance.
        kept = {(p, d) for p, d in _marks(session) if p not in listed}
        try:
            added, removed = services.attendance_grid_set(
                session=session, present=present | kept, today=session.programme.today()
            )
        except ValidationError as error:
            raise RowsInvalid([RowError(0, "", message) for message in error.messages]) from error
        return {
            "participants_added": created,
            "rows": len(listed),
            "days_marked": added,
            "days_cleared": removed,
        }


def _fields_of(participant: Participant) -> dict[str, Any]:
    return {
        "name": participant.name,
        "factory": participant.factory,
        "organisation": participant.organisation,
    }


def _marks(session: Session) -> set[tuple[int, int]]:
    return attendance_marks(session=session)


def attendance_sheet(session: Session) -> tuple[list[Column], list[list[Any]]]:
    """The session's attendance as rows for export (and as the template to fill in)."""
    importer = AttendanceImporter(session)
    marks = _marks(session)
    sex, role = dict(Sex.choices), dict(ParticipantRole.choices)
    rows = [
        [
            p.name,
            sex.get(p.sex, p.sex),
            role.get(p.role, p.role),
            p.factory.public_id if p.factory else "",
            p.organisation,
            *(_("yes") if (p.pk, day.pk) in marks else "" for day in importer.days),
        ]
        for p in Participant.objects.filter(session=session).select_related("factory").order_by("name", "id")
    ]
    return list(importer.columns), rows


class EntitlementImporter(BaseImporter):
    """Training-day entitlements of many factories at once, e.g. every factory's next cycle.
    A row for a factory and cycle that exist already changes that entitlement."""

    kind = "training.entitlements"
    columns: Sequence[Column] = [
        Column("factory", gettext_lazy("Factory"), parse_text(200), aliases=("factory id",)),
        Column("cycle", gettext_lazy("Cycle"), parse_int(1, 99)),
        Column("days", gettext_lazy("Training days"), parse_int(0, 365)),
        Column("starts_on", gettext_lazy("From"), parse_date),
        Column("ends_on", gettext_lazy("Until"), parse_date),
        Column("note", gettext_lazy("Note"), parse_text(300), required=False),
    ]

    def __init__(self, programme: Programme) -> None:
        self.programme = programme

    def _placed(
        self, rows: list[dict[str, Any]]
    ) -> tuple[list[tuple[dict[str, Any], Factory]], list[RowError]]:
        factories = _factories_by_key(self.programme.pk)
        placed, errors = [], []
        seen: dict[tuple[int, int], int] = {}
        for row in rows:
            factory = factories.get(row["factory"].strip().casefold())
            if factory is None:
                errors.append(
                    RowError(
                        row["_row"],
                        _("Factory"),
                        _("No factory of the programme has the id or name “%(value)s”.")
                        % {"value": row["factory"]},
                    )
                )
                continue
            if row["ends_on"] < row["starts_on"]:
                errors.append(RowError(row["_row"], _("Until"), _("The period ends before it starts.")))
                continue
            key = (factory.pk, row["cycle"])
            if key in seen:
                errors.append(
                    RowError(
                        row["_row"],
                        _("Cycle"),
                        _("This factory's cycle is also on row %(row)s.") % {"row": seen[key]},
                    )
                )
                continue
            seen[key] = row["_row"]
            placed.append((row, factory))
        return placed, errors

    def check(self, *, rows: list[dict[str, Any]], target: Any) -> list[RowError]:
        placed, errors = self._placed(rows)
        # The periods as they will be once imported: the sheet's rows replace the same cycles.
        periods: dict[int, dict[int, tuple[dt.date, dt.date, int]]] = {}
        factory_ids = {factory.pk for _row, factory in placed}
        for e in Entitlement.objects.filter(factory_id__in=factory_ids).only(
            "factory_id", "cycle", "starts_on", "ends_on"
        ):
            periods.setdefault(e.factory_id, {})[e.cycle] = (e.starts_on, e.ends_on, 0)
        for row, factory in placed:
            periods.setdefault(factory.pk, {})[row["cycle"]] = (row["starts_on"], row["ends_on"], row["_row"])
        for cycles in periods.values():
            ordered = sorted(cycles.items(), key=lambda item: item[1][0])
            for (cycle_a, (_s, end_a, _r)), (cycle_b, (start_b, _e, row_b)) in zip(
                ordered, ordered[1:], strict=False
            ):
                if start_b <= end_a:
                    errors.append(
                        RowError(
                            row_b or cycles[cycle_a][2],
                            _("From"),
                            _("Cycles %(a)s and %(b)s of this factory would overlap.")
                            % {"a": cycle_a, "b": cycle_b},
                        )
                    )
        return errors

    def apply(self, *, rows: list[dict[str, Any]], target: Any, actor: Principal) -> dict[str, int]:
        placed, errors = self._placed(rows)
        if errors:
            raise RowsInvalid(errors)
        created = changed = 0
        for row, factory in sorted(placed, key=lambda item: (item[1].pk, item[0]["starts_on"])):
            existed = Entitlement.objects.filter(factory=factory, cycle=row["cycle"]).exists()
            try:
                services.entitlement_save(actor=actor, factory=factory, cycle=row["cycle"], data=row)
            except ValidationError as error:
                raise RowsInvalid(
                    [RowError(row["_row"], "", message) for message in error.messages]
                ) from error
            changed, created = changed + existed, created + (not existed)
        return {"created": created, "changed": changed}


def _factories_by_key(programme_id: int) -> dict[str, Factory]:
    """Factories of the programme by public id and by name, folded for matching."""
    found: dict[str, Factory] = {}
    for factory in Factory.objects.filter(programme_id=programme_id).only(
        "pk", "name", "public_id", "programme_id"
    ):
        found[factory.public_id.casefold()] = factory
        found.setdefault(factory.name.casefold(), factory)
    return found


def entitlement_sheet(entitlements: Iterable[Any]) -> tuple[list[Column | str | Promise], list[list[Any]]]:
    """Entitlements with their use; the first columns import back unchanged."""
    columns: list[Column | str | Promise] = [
        *EntitlementImporter.columns,
        gettext_lazy("Factory name"),
        gettext_lazy("Used"),
        gettext_lazy("Booked"),
        gettext_lazy("Remaining"),
    ]
    rows = [
        [
            e.factory.public_id,
            e.cycle,
            e.days,
            e.starts_on,
            e.ends_on,
            e.note,
            e.factory.name,
            e.used,
            e.booked,
            e.remaining,
        ]
        for e in entitlements
    ]
    return columns, rows


PARTICIPANT_COLUMNS: list[Column | str | Promise] = [
    gettext_lazy("Course"),
    gettext_lazy("Session first day"),
    gettext_lazy("Session last day"),
    gettext_lazy("Who may attend"),
    gettext_lazy("Session for factory id"),
    gettext_lazy("Session for factory"),
    gettext_lazy("Session cancelled"),
    gettext_lazy("Participant"),
    gettext_lazy("Sex"),
    gettext_lazy("Role"),
    gettext_lazy("Factory id"),
    gettext_lazy("Factory name"),
    gettext_lazy("Organisation"),
    gettext_lazy("Days attended"),
    gettext_lazy("Days held"),
    gettext_lazy("Evaluation: overall"),
    gettext_lazy("Evaluation: content"),
    gettext_lazy("Evaluation: trainers"),
    gettext_lazy("Evaluation: usefulness at work"),
]


def participant_sheet(
    participants: Iterable[Any],
) -> tuple[list[Column | str | Promise], Iterator[list[Any]]]:
    """One row per participant (``selectors.programme_participants``): what the session page shows
    of them (name, sex, role, where they work), the days they attended of the days held, and their
    evaluation's ratings (empty without one). Rows are made as they are written."""

    def rows() -> Iterator[list[Any]]:
        for p in participants:
            session = p.session
            held_for = session.factory
            yield [
                session.course.title,
                session.starts_on,
                session.ends_on,
                session.get_mode_display(),
                held_for.public_id if held_for else "",
                held_for.name if held_for else "",
                session.is_cancelled,
                p.name,
                p.get_sex_display(),
                p.get_role_display(),
                p.factory.public_id if p.factory else "",
                p.factory.name if p.factory else "",
                p.organisation,
                p.days_attended,
                0 if session.is_cancelled else p.days_held,
                *(getattr(p, f"rating_{key}") for key in RATING_FIELDS),
            ]

    return PARTICIPANT_COLUMNS, rows()
