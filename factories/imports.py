"""The factory registry as a spreadsheet: exported and imported in the same shape.

One row per factory. A row is matched to a factory of the programme by its factory id when it
has one; else by its legacy id (the id of the programme's older system); else by its name and
address, both normalised (case, punctuation, spacing and legal forms such as "Co., Ltd." do not
count). A name that matches with another address, or several factories, is shown for a decision:
the person says which factory the row is, or that it is a new one. Unmatched rows register new
factories. In an update an empty cell leaves the factory's value as it is. The file is checked
whole first and applied whole or not at all (``betterwork.imports``).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Field, Model
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from betterwork import audit
from betterwork.imports import CHOOSE, CREATE, NEW, UNCHANGED, UPDATE, BaseImporter, PlannedRow, RowsInvalid
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
from factories import services
from factories.models import EnrolmentChange, EnrolmentStatus, Factory, FactoryType, Ownership, Sector

KIND = "factories.registry"


def _field(name: str) -> Field[Any, Any]:
    field = Factory._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _label(name: str) -> Promise:
    return capfirst(_field(name).verbose_name)  # type: ignore[return-value]


def _given(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """A parser for which an empty cell is None ("not given"), whatever ``parse`` makes of it."""

    def parse_given(value: str) -> Any:
        return None if value == "" else parse(value)

    return parse_given


def _parse_buyers(value: str) -> str:
    """Brands one per line; a cell may also separate them with semicolons."""
    names = [" ".join(name.split()) for name in re.split(r"[;\n]", value)]
    return "\n".join(name for name in names if name)[:4000]


COLUMNS: Sequence[Column] = [
    Column(
        "programme", gettext_lazy("Programme"), parse_text(16), required=False, aliases=("programme code",)
    ),
    Column("public_id", _label("public_id"), parse_text(16), required=False, aliases=("factory_id",)),
    Column("legacy_id", _label("legacy_id"), _given(parse_text(64)), required=False),
    Column("name", _label("name"), parse_text(200), aliases=("factory name", "factory")),
    Column("address", _label("address"), _given(parse_text(1000)), required=False),
    Column("region", _label("region"), _given(parse_text(120)), required=False, aliases=("region", "zone")),
    Column("sector", _label("sector"), _given(parse_choice(Sector.choices)), required=False),
    Column(
        "factory_type",
        _label("factory_type"),
        _given(parse_choice(FactoryType.choices)),
        required=False,
        aliases=("factory type",),
    ),
    Column("ownership", _label("ownership"), _given(parse_choice(Ownership.choices)), required=False),
    Column("ownership_country", _label("ownership_country"), _given(parse_text(100)), required=False),
    Column("manufacturing_group", _label("manufacturing_group"), _given(parse_text(200)), required=False),
    Column("workers_female", _label("workers_female"), _given(parse_int(0, 1_000_000)), required=False),
    Column("workers_male", _label("workers_male"), _given(parse_int(0, 1_000_000)), required=False),
    Column("workers_migrant", _label("workers_migrant"), _given(parse_int(0, 1_000_000)), required=False),
    Column("union_present", _label("union_present"), _given(parse_bool), required=False, aliases=("union",)),
    Column(
        "enrolment_status",
        _label("enrolment_status"),
        _given(parse_choice(EnrolmentStatus.choices)),
        required=False,
        aliases=("status",),
    ),
    Column("status_changed_on", _label("status_changed_on"), _given(parse_date), required=False),
    Column("enrolled_on", _label("enrolled_on"), _given(parse_date), required=False),
    Column("buyers_supplied", _label("buyers_supplied"), _given(_parse_buyers), required=False),
]

# The factory's fields a row may set, in the columns' order (exports write them so); the first
# two columns, the programme and the factory id, identify the row and are never written.
FIELDS = tuple(column.key for column in COLUMNS[2:])

# Legal forms and filler words that differ between two spellings of the same factory's name.
_NOISE = {
    "co",
    "company",
    "corp",
    "corporation",
    "inc",
    "incorporated",
    "jsc",
    "limited",
    "llc",
    "ltd",
    "plc",
    "pt",
    "pvt",
    "private",
    "sa",
    "tbk",
    "the",
}


def normalised(text: str, *, drop_noise: bool = False) -> str:
    """Text for matching: accents, case, punctuation and spacing removed; with ``drop_noise``,
    legal forms too ("Angkor Garment Co., Ltd." and "ANGKOR GARMENT" match)."""
    decomposed = unicodedata.normalize("NFKD", text.replace("&", " and "))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    words = re.sub(r"[^\w]+", " ", plain).split()
    if drop_noise:
        words = [word for word in words if word not in _NOISE]
    return " ".join(words)


@dataclass
class _Row:
    """A row resolved against the registry: the factory it updates (None: a new one)."""

    data: dict[str, Any]
    planned: PlannedRow
    factory: Factory | None = None


class FactoryImporter(BaseImporter):
    kind = KIND
    columns = COLUMNS
    background = True

    def __init__(self, programme: Programme, decisions: Mapping[int, str] | None = None) -> None:
        self.programme = programme
        self.decisions = dict(decisions or {})

    # --- The importer's interface ------------------------------------------------------

    def check(self, *, rows: list[dict[str, Any]], target: Any) -> list[RowError]:
        return self.resolve(rows)[1]

    def plan(self, *, rows: list[dict[str, Any]], target: Any) -> list[PlannedRow]:
        return [item.planned for item in self.resolve(rows)[0]]

    def apply(self, *, rows: list[dict[str, Any]], target: Any, actor: Principal) -> dict[str, int]:
        return write_rows(self, rows, actor)

    # --- Matching ----------------------------------------------------------------------

    def _registry(self) -> list[Factory]:
        return list(Factory.objects.filter(programme=self.programme).order_by("pk"))

    def resolve(self, rows: list[dict[str, Any]]) -> tuple[list[_Row], list[RowError]]:
        """Each row's plan, and the rows that cannot be placed."""
        factories = self._registry()
        by_id = {factory.public_id.casefold(): factory for factory in factories}
        by_pk = {factory.pk: factory for factory in factories}
        by_legacy: dict[str, list[Factory]] = {}
        by_name: dict[str, list[Factory]] = {}
        for known in factories:
            if known.legacy_id:
                by_legacy.setdefault(known.legacy_id.strip().casefold(), []).append(known)
            by_name.setdefault(normalised(known.name, drop_noise=True), []).append(known)
        resolved: list[_Row] = []
        errors: list[RowError] = []
        for row in rows:
            number = row["_row"]
            problem, factory, candidates = self._match(row, by_id, by_legacy, by_name)
            if problem:
                errors.append(problem)
                continue
            decision = self.decisions.get(number, "")
            if factory is None and candidates:
                chosen = by_pk.get(int(decision)) if decision.isdigit() else None
                if decision == NEW:
                    candidates = []
                elif chosen is not None and chosen in candidates:
                    factory, candidates = chosen, []
            if factory is None and candidates:
                planned = PlannedRow(
                    number,
                    CHOOSE,
                    row["name"],
                    candidates=[(c.pk, f"{c.name} ({c.public_id}) · {c.address or '—'}") for c in candidates],
                )
            elif factory is None:
                planned = PlannedRow(number, CREATE, row["name"])
            else:
                changes = _changes(factory, row)
                planned = PlannedRow(
                    number,
                    UPDATE if changes else UNCHANGED,
                    f"{factory.name} ({factory.public_id})",
                    changes=changes,
                    record=factory.pk,
                )
            resolved.append(_Row(row, planned, factory))
        errors += _conflicts(resolved)
        return resolved, errors

    def _match(
        self,
        row: dict[str, Any],
        by_id: dict[str, Factory],
        by_legacy: dict[str, list[Factory]],
        by_name: dict[str, list[Factory]],
    ) -> tuple[RowError | None, Factory | None, list[Factory]]:
        """(problem, the factory the row is, candidates to choose from)."""
        number = row["_row"]
        code = (row.get("programme") or "").strip()
        if code and code.casefold() != self.programme.code.casefold():
            return (
                RowError(
                    number,
                    str(COLUMNS[0].header),
                    _("This row is for programme %(row)s; this import is for %(programme)s.")
                    % {"row": code, "programme": self.programme.code},
                ),
                None,
                [],
            )
        public_id = (row.get("public_id") or "").strip()
        if public_id:
            factory = by_id.get(public_id.casefold())
            if factory is None:
                return (
                    RowError(
                        number,
                        str(_label("public_id")),
                        _(
                            "No factory of the programme has the id %(id)s. Leave it empty to register a new factory."
                        )
                        % {"id": public_id},
                    ),
                    None,
                    [],
                )
            return None, factory, []
        legacy = (row.get("legacy_id") or "").strip().casefold()
        if legacy and len(by_legacy.get(legacy, [])) == 1:
            return None, by_legacy[legacy][0], []
        same_name = by_name.get(normalised(row["name"], drop_noise=True), [])
        address = normalised(row.get("address") or "")
        same_place = [f for f in same_name if address and normalised(f.address) == address]
        if len(same_place) == 1:
            return None, same_place[0], []
        return None, None, same_place or same_name


def _changes(factory: Factory, row: dict[str, Any]) -> list[str]:
    """What the row changes, as "Field: old → new" lines; empty cells change nothing."""
    lines = []
    for field in FIELDS:
        value = row.get(field)
        if value is None or _same(field, value, getattr(factory, field)):
            continue
        lines.append(
            f"{_label(field)}: {_shown(factory, field, getattr(factory, field))} → {_shown(factory, field, value)}"
        )
    return lines


def _same(field: str, value: Any, current: Any) -> bool:
    """Names and addresses that differ only in case, spacing or punctuation are the same: a list
    typed again elsewhere does not rewrite the registry."""
    if field in ("name", "address"):
        return normalised(value) == normalised(current)
    return bool(value == current)


def _shown(factory: Factory, field: str, value: Any) -> str:
    choices = dict(_field(field).choices or [])
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(choices.get(value, value)).replace("\n", "; ")


def _conflicts(resolved: list[_Row]) -> list[RowError]:
    """Two rows that are the same factory, and workforce figures that do not add up."""
    errors = []
    seen_factory: dict[int, int] = {}
    seen_new: dict[tuple[str, str], int] = {}
    for item in resolved:
        number = item.planned.row
        if item.factory is not None:
            other = seen_factory.setdefault(item.factory.pk, number)
            if other != number:
                errors.append(
                    RowError(number, "", _("This row is the same factory as row %(row)s.") % {"row": other})
                )
        elif item.planned.action == CREATE:
            key = (normalised(item.data["name"], drop_noise=True), normalised(item.data.get("address") or ""))
            other = seen_new.setdefault(key, number)
            if other != number:
                errors.append(
                    RowError(
                        number,
                        "",
                        _("This row registers the same factory as row %(row)s (same name and address).")
                        % {"row": other},
                    )
                )
        female, male, migrant = (
            _value(item, field) for field in ("workers_female", "workers_male", "workers_migrant")
        )
        if migrant > female + male:
            errors.append(
                RowError(
                    number,
                    str(_label("workers_migrant")),
                    _("Migrant workers are counted within the workforce: at most %(total)s here.")
                    % {"total": female + male},
                )
            )
    return errors


def _value(item: _Row, field: str) -> Any:
    """The value the factory will have: the row's, else the factory's own, else the default."""
    value = item.data.get(field)
    if value is not None:
        return value
    if item.factory is not None:
        return getattr(item.factory, field)
    return _field(field).get_default()


def _fields_for_create(row: dict[str, Any], today: dt.date) -> dict[str, Any]:
    fields = {field: row[field] for field in FIELDS if row.get(field) is not None}
    fields.setdefault("enrolment_status", EnrolmentStatus.REGISTERED)
    fields.setdefault("status_changed_on", today)
    if fields["enrolment_status"] == EnrolmentStatus.ACTIVE:
        fields.setdefault("enrolled_on", fields["status_changed_on"])
    return fields


def _validated(factory: Factory, number: int) -> Factory:
    try:
        factory.clean_fields(exclude=["public_id", "programme"])
    except ValidationError as error:
        raise RowsInvalid(
            [
                RowError(number, str(_label(name)), " ".join(str(m) for m in messages))
                for name, messages in error.message_dict.items()
            ]
        ) from error
    return factory


def _status_entry(factory: Factory, actor: Principal) -> EnrolmentChange:
    """The factory's enrolment status, as the import set it, for its history."""
    return EnrolmentChange(
        programme_id=factory.programme_id,
        factory=factory,
        status=factory.enrolment_status,
        on=factory.status_changed_on,
        changed_by=actor.user,
        note=_("Imported"),
    )


def write_rows(importer: FactoryImporter, rows: list[dict[str, Any]], actor: Principal) -> dict[str, int]:
    """Write the file's rows: new factories in one INSERT with their public ids and first
    enrolment status, changed ones in one UPDATE, each audited; unchanged rows are left alone."""
    # Rows are matched again under the programme's lock: two imports, or an import and a
    # factory registered by hand, never both create the same factory.
    programme = Programme.objects.select_for_update().get(pk=importer.programme.pk)
    resolved, errors = importer.resolve(rows)
    if errors:
        raise RowsInvalid(errors)
    undecided = [item.planned.row for item in resolved if item.planned.action == CHOOSE]
    if undecided:
        raise RowsInvalid([RowError(number, "", _("Say which factory this row is.")) for number in undecided])
    today = programme.today()
    creates = [item for item in resolved if item.planned.action == CREATE]
    updates = [item for item in resolved if item.planned.action == UPDATE]
    public_ids = services.allocate_public_ids(programme, len(creates))
    new_factories = [
        _validated(
            Factory(programme=programme, public_id=public_id, **_fields_for_create(item.data, today)),
            item.planned.row,
        )
        for item, public_id in zip(creates, public_ids, strict=True)
    ]
    Factory.objects.bulk_create(new_factories)
    history = [_status_entry(factory, actor) for factory in new_factories]
    changed: list[tuple[Model, dict[str, Any] | None, dict[str, Any] | None]] = []
    fields_written: set[str] = set()
    for item in updates:
        factory = item.factory
        assert factory is not None
        before = audit.snapshot(factory)
        status_before = factory.enrolment_status
        for field in FIELDS:
            value = item.data.get(field)
            if value is not None and not _same(field, value, getattr(factory, field)):
                setattr(factory, field, value)
                fields_written.add(field)
        if factory.enrolment_status != status_before:
            if item.data.get("status_changed_on") is None:
                factory.status_changed_on = today
                fields_written.add("status_changed_on")
            if factory.enrolment_status == EnrolmentStatus.ACTIVE and factory.enrolled_on is None:
                factory.enrolled_on = factory.status_changed_on
                fields_written.add("enrolled_on")
            history.append(_status_entry(factory, actor))
        _validated(factory, item.planned.row)
        old, new = audit.changed(before, audit.snapshot(factory))
        changed.append((factory, old, new))
    if updates:
        for item in updates:
            assert item.factory is not None
            item.factory.updated_at = timezone.now()
        Factory.objects.bulk_update(
            [item.factory for item in updates if item.factory is not None],
            sorted(fields_written | {"updated_at"}),
        )
    EnrolmentChange.objects.bulk_create(history)
    audit.record_many(
        actor=actor.user,
        action="factory.create",
        programme=programme,
        changes=[(factory, None, audit.snapshot(factory)) for factory in new_factories],
    )
    audit.record_many(actor=actor.user, action="factory.update", programme=programme, changes=changed)
    importer.progress.advance(len(rows))  # written in a handful of statements: all at once
    return {
        "created": len(creates),
        "updated": len(updates),
        "unchanged": sum(1 for item in resolved if item.planned.action == UNCHANGED),
    }


def registry_sheet(
    programme: Programme, factories: Iterable[Factory]
) -> tuple[list[Column], Iterable[list[Any]]]:
    """The registry as rows for export, in the import's columns: a file exported here imports
    back unchanged (and, without rows, is the template)."""
    labels = {
        field: dict(_field(field).choices or [])
        for field in ("sector", "factory_type", "ownership", "enrolment_status")
    }

    def rows() -> Iterable[list[Any]]:
        for factory in factories:
            line: list[Any] = [programme.code, factory.public_id]
            for field in FIELDS:
                value = getattr(factory, field)
                if field in labels:
                    value = str(labels[field].get(value, value))
                elif field == "buyers_supplied":
                    value = "; ".join(name for name in value.splitlines() if name.strip())
                line.append(value)
            yield line

    return list(COLUMNS), rows()
