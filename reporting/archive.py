"""A programme's archive: every row of one country programme, the shared rows they refer to and
its files, in one JSON file; and its restore into a database that does not hold the programme
(an empty one, or one holding other programmes), every id kept.

    manage.py export_programme KH --output kh.json.gz
    manage.py restore_programme kh.json.gz

The archive is written from one snapshot (a repeatable-read transaction) and carries the
dashboard's figures of that moment (``reporting.dashboard.figures``). A restore copies the rows
in with COPY over the loader role (``betterwork.scale.Loader``: row-level security refuses COPY to
the application's role), rebuilds what is derived from them (rollups, buyers' access) and
compares the figures; when any differs, or anything fails, what it wrote is removed again, so a
restore is whole or nothing. Both directions stream: memory does not grow with the programme.

Left out: passwords and API keys (people set a new password with "Forgot your password?"),
sessions, rendered report files (rendered again on request), and the tables in ``DERIVED``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

import ijson
import psycopg2
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.contrib.postgres.fields import ArrayField
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from psycopg2 import sql

from betterwork import audit, tenancy
from betterwork.models import Programme, RoleGrant, User
from betterwork.scale import Loader, _field_default, copy_text
from buyers.services import access_rebuild_programme
from reporting import rollups
from reporting.dashboard import figures, figures_differing

FORMAT = "betterwork-programme-archive"
VERSION = 1
ROWS_PER_FETCH = 5000

# Made again from the archived rows by a restore (``_rebuild_derived``).
DERIVED = frozenset(
    {
        "reporting.countedassessment",
        "reporting.segmentrollup",
        "reporting.questionrollup",
        "reporting.questiontotal",
        "reporting.pointrollup",
        "reporting.pointtotal",
        "buyers.buyeraccess",
    }
)
# Never archived, and why.
LEFT_OUT = {
    "reporting.reportjob": "rendered report files: rendered again on request",
    "reporting.programmearchive": "archives themselves: written again on request",
    "authtoken.token": "API keys: people make new ones",
    "authtoken.tokenproxy": "API keys: people make new ones",
    "sessions.session": "sign-ins",
    "admin.logentry": "the admin site's own history",
    "auth.permission": "made by migrate",
    "auth.group": "not used: roles are role grants",
    "contenttypes.contenttype": "made by migrate",
    "axes.accessattempt": "sign-in attempts: this installation's own security record",
    "axes.accessattemptexpiration": "sign-in attempts: this installation's own security record",
    "axes.accessfailurelog": "sign-in attempts: this installation's own security record",
    "axes.accesslog": "sign-in attempts: this installation's own security record",
    "otp_totp.totpdevice": "authenticator secrets: people set up two-step sign-in again",
}
# Columns never written to an archive; a restore fills them (a password nobody can sign in with,
# two-step sign-in off: its secrets stay behind, so people set it up again).
SECRET_COLUMNS = {"betterwork.user": {"password", "two_factor_enabled"}}


INCOMPLETE = "The archive ends in the middle: it is not complete."


class ArchiveError(Exception):
    """The archive cannot be written or restored; the message says why, for the person."""


# --- What an archive holds -----------------------------------------------------------------------


@dataclass
class Part:
    """The rows of one table in the archive: the programme's own (selected by programme), or
    shared with other programmes (selected by id: a restore keeps an identical existing row)."""

    model: type[models.Model]
    shared: bool
    ids: set[int] = field(default_factory=set)

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def table(self) -> str:
        return self.model._meta.db_table


def programme_models() -> list[type[models.Model]]:
    """The tables whose rows of a programme an archive holds whole."""
    return [
        model
        for model in apps.get_models()
        if model._meta.label_lower not in DERIVED | LEFT_OUT.keys()
        and any(f.name == "programme" and f.related_model is Programme for f in model._meta.concrete_fields)
    ]


def _references(model: type[models.Model]) -> list[tuple[str, type[models.Model]]]:
    return [
        (str(f.column), f.related_model)  # type: ignore[misc]
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model is not None
    ]


def _archive_columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    secret = SECRET_COLUMNS.get(model._meta.label_lower, set())
    return [f for f in model._meta.concrete_fields if f.attname not in secret]


def _select_expression(f: models.Field[Any, Any]) -> sql.Composable:
    """How a column is written into the archive: JSON and array values as their text (restored
    as they were, digit for digit), bytes as hex, everything else as PostgreSQL's JSON of it."""
    column = sql.Identifier(str(f.column))
    if isinstance(f, (models.JSONField, ArrayField)):
        return sql.SQL("{}::text").format(column)
    if isinstance(f, models.BinaryField):
        return sql.SQL("'\\x' || encode({}, 'hex')").format(column)
    return column


def plan_parts(programme: Programme) -> list[Part]:
    """The programme's row, the shared rows its rows refer to (followed until nothing new turns
    up: a tool version brings its questions, a buyer its staff's grants), then its own tables."""
    own = [Part(model, shared=False) for model in programme_models()]
    shared: dict[type[models.Model], Part] = {}

    def shared_part(model: type[models.Model]) -> Part:
        return shared.setdefault(model, Part(model, shared=True))

    tool_version = apps.get_model("assessments", "ToolVersion")
    question = apps.get_model("assessments", "Question")
    buyer = apps.get_model("buyers", "Buyer")
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT id FROM {} WHERE tool IN ('global', %s)").format(
                sql.Identifier(tool_version._meta.db_table)
            ),
            [programme.code],
        )
        shared_part(tool_version).ids.update(pk for (pk,) in cursor.fetchall())
        for part in own:
            for column, target in _references(part.model):
                if target is Programme or not _is_shared(target):
                    continue
                cursor.execute(
                    sql.SQL(
                        "SELECT DISTINCT {c} FROM {t} WHERE programme_id = %s AND {c} IS NOT NULL"
                    ).format(c=sql.Identifier(column), t=sql.Identifier(part.table)),
                    [programme.pk],
                )
                shared_part(target).ids.update(pk for (pk,) in cursor.fetchall())
        grants = Part(RoleGrant, shared=True)
        changed = True
        while changed:
            before = {model: len(part.ids) for model, part in shared.items()} | {RoleGrant: len(grants.ids)}
            if tool_version in shared:
                _add_where(cursor, shared_part(question), "version_id", shared[tool_version].ids)
            if buyer in shared:
                _add_where(cursor, grants, "buyer_id", shared[buyer].ids, "programme_id IS NULL")
            for part in [*shared.values(), grants]:
                for column, target in _references(part.model):
                    if target is Programme or not _is_shared(target) or not part.ids:
                        continue
                    cursor.execute(
                        sql.SQL("SELECT DISTINCT {c} FROM {t} WHERE id = ANY(%s) AND {c} IS NOT NULL").format(
                            c=sql.Identifier(column), t=sql.Identifier(part.table)
                        ),
                        [sorted(part.ids)],
                    )
                    shared_part(target).ids.update(pk for (pk,) in cursor.fetchall())
            after = {model: len(part.ids) for model, part in shared.items()} | {RoleGrant: len(grants.ids)}
            changed = after != before
    order = {model: n for n, model in enumerate(apps.get_models())}
    ordered = sorted(shared.values(), key=lambda p: order[p.model])
    return [Part(Programme, shared=False, ids={programme.pk}), *ordered, grants, *own]


def _is_shared(model: type[models.Model]) -> bool:
    """A table whose rows belong to no one programme (users, the compliance tool, buyers, ...)."""
    return not any(f.name == "programme" for f in model._meta.concrete_fields)


def _add_where(cursor: Any, part: Part, column: str, values: set[int], extra: str = "TRUE") -> None:
    if not values:
        return
    cursor.execute(
        sql.SQL("SELECT id FROM {} WHERE {} = ANY(%s) AND {}").format(
            sql.Identifier(part.table), sql.Identifier(column), sql.SQL(extra)
        ),
        [sorted(values)],
    )
    part.ids.update(pk for (pk,) in cursor.fetchall())


def _selection(part: Part, programme: Programme) -> tuple[sql.Composable, list[Any]]:
    if part.model is Programme:
        return sql.SQL("id = %s"), [programme.pk]
    if part.shared:
        return sql.SQL("id = ANY(%s)"), [sorted(part.ids)]
    return sql.SQL("programme_id = %s"), [programme.pk]


def _file_fields(model: type[models.Model]) -> list[models.FileField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]


# --- Writing ------------------------------------------------------------------------------------


@dataclass
class ExportSummary:
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    files_missing: list[str] = field(default_factory=list)
    figures: int = 0

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


@contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view of the database for the whole export (repeatable read, read only)."""
    outermost = not connection.in_atomic_block
    if outermost:
        with connection.cursor() as cursor:
            cursor.execute(
                "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
            )
    try:
        with transaction.atomic():
            yield
    finally:
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED READ WRITE"
                )


def _applied_migrations() -> dict[str, str]:
    """The newest applied migration of each app (by name, which sorts by number)."""
    newest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        if name > newest.get(app, ""):
            newest[app] = name
    return newest


def write_archive(
    out: IO[bytes],
    programme: Programme,
    *,
    with_files: bool = True,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write the programme's archive to ``out`` (a binary file); ``on_start`` hears how many rows
    will follow, ``progress`` each batch written."""
    summary = ExportSummary()
    with tenancy.scope({programme.pk}), _snapshot():
        parts = plan_parts(programme)
        counts = [_count(part, programme) for part in parts]
        if on_start:
            on_start(sum(counts))
        today = programme.today()
        found = figures(programme=programme, today=today)
        summary.figures = len(found)
        head = {
            "format": FORMAT,
            "version": VERSION,
            "programme": programme.code,
            "exported_at": timezone.now().isoformat(),
            "today": today.isoformat(),
            "migrations": _applied_migrations(),
            "parts": [
                {"model": p.label, "shared": p.shared, "rows": n} for p, n in zip(parts, counts, strict=True)
            ],
            "figures": found,
        }
        out.write(json.dumps(head, ensure_ascii=False, indent=1)[:-2].encode())
        out.write(b',\n "tables": [')
        for n, part in enumerate(parts):
            written = _write_part(out, part, programme, first=n == 0, progress=progress)
            summary.tables[part.label] = summary.tables.get(part.label, 0) + written
        out.write(b'\n ],\n "files": [')
        if with_files:
            _write_files(out, parts, programme, summary)
        out.write(b"\n ]\n}\n")
    return summary


def _count(part: Part, programme: Programme) -> int:
    where, params = _selection(part, programme)
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE ").format(sql.Identifier(part.table)) + where, params
        )
        return int(cursor.fetchone()[0])


def _write_part(
    out: IO[bytes], part: Part, programme: Programme, *, first: bool, progress: Callable[[int], None] | None
) -> int:
    columns = _archive_columns(part.model)
    meta = {"model": part.label, "shared": part.shared, "columns": [str(f.column) for f in columns]}
    out.write(("\n  " if first else ",\n  ").encode())
    out.write(json.dumps(meta, ensure_ascii=False)[:-1].encode() + b', "rows": [')
    where, params = _selection(part, programme)
    statement = (
        sql.SQL("SELECT json_build_array({})::text FROM {} WHERE ").format(
            sql.SQL(", ").join(map(_select_expression, columns)), sql.Identifier(part.table)
        )
        + where
        + sql.SQL(" ORDER BY id")
    )
    written = 0
    # A server-side cursor: the rows come ROWS_PER_FETCH at a time, never all in memory.
    with connection.chunked_cursor() as cursor:
        cursor.cursor.itersize = ROWS_PER_FETCH
        cursor.execute(statement.as_string(connection.connection), params)
        while batch := cursor.fetchmany(ROWS_PER_FETCH):
            lead = b"\n   " if written == 0 else b",\n   "
            out.write(lead + ",\n   ".join(row for (row,) in batch).encode())
            written += len(batch)
            if progress:
                progress(len(batch))
    out.write(b"]}")
    return written


def _write_files(out: IO[bytes], parts: list[Part], programme: Programme, summary: ExportSummary) -> None:
    first = True
    for part in parts:
        for f in _file_fields(part.model):
            where, params = _selection(part, programme)
            with connection.cursor() as cursor:
                cursor.execute(
                    sql.SQL("SELECT DISTINCT {c} FROM {t} WHERE {c} <> '' AND ").format(
                        c=sql.Identifier(str(f.column)), t=sql.Identifier(part.table)
                    )
                    + where,
                    params,
                )
                names = sorted(name for (name,) in cursor.fetchall())
            for name in names:
                try:
                    with default_storage.open(name, "rb") as handle:
                        item: dict[str, Any] = {
                            "name": name,
                            "base64": base64.b64encode(handle.read()).decode(),
                        }
                    summary.files += 1
                except OSError:
                    item = {"name": name, "missing": True}
                    summary.files_missing.append(name)
                out.write(("\n  " if first else ",\n  ").encode() + json.dumps(item).encode())
                first = False


# --- Reading -------------------------------------------------------------------------------------


@dataclass
class Header:
    programme: str
    today: dt.date
    migrations: dict[str, str]
    parts: list[dict[str, Any]]
    figures: dict[str, Any]

    @property
    def rows(self) -> int:
        return sum(int(p["rows"]) for p in self.parts)


class ArchiveReader:
    """Reads an archive as it streams: the header, then each table's rows, then the files."""

    def __init__(self, source: IO[bytes]) -> None:
        self._events = ijson.parse(source)
        self.header = self._read_header()

    def _value(self, prefix: str, event: str, value: Any) -> Any:
        if event not in ("start_map", "start_array"):
            return value
        builder = ijson.ObjectBuilder()
        builder.event(event, value)
        end = "end_map" if event == "start_map" else "end_array"
        while True:
            p, e, v = self._next()
            builder.event(e, v)
            if p == prefix and e == end:
                return builder.value

    def _next(self) -> tuple[str, str, Any]:
        try:
            return next(self._events)
        except StopIteration:
            raise ArchiveError(INCOMPLETE) from None
        except ijson.JSONError as error:
            message = error.args[0] if error.args else ""
            text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
            reason = text.strip().splitlines()[0] if text.strip() else "unreadable"
            if "premature EOF" in reason:  # the parser's words for a file cut short
                raise ArchiveError(INCOMPLETE) from error
            raise ArchiveError(
                f"This is not a programme archive: it is not valid JSON ({reason})."
            ) from error

    def _read_header(self) -> Header:
        found: dict[str, Any] = {}
        prefix, event, _value = self._next()
        if event != "start_map":
            raise ArchiveError("This is not a programme archive: it does not start with a JSON object.")
        while True:
            prefix, event, key = self._next()
            if event != "map_key":
                raise ArchiveError("The archive has no tables.")
            if key == "tables":
                if self._next()[1] != "start_array":
                    raise ArchiveError("The archive's tables are not a list.")
                break
            found[key] = self._value(key, *self._next()[1:])
        if found.get("format") != FORMAT:
            raise ArchiveError("This is not a programme archive (its format is not named).")
        if found.get("version") != VERSION:
            raise ArchiveError(
                f"This archive is of version {found.get('version')}; this platform reads version {VERSION}."
            )
        try:
            return Header(
                programme=str(found["programme"]),
                today=dt.date.fromisoformat(found["today"]),
                migrations=dict(found["migrations"]),
                parts=list(found["parts"]),
                figures=_plain(found["figures"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ArchiveError(f"The archive's header is incomplete ({error}).") from error

    def tables(self) -> Iterator[tuple[dict[str, Any], Iterator[list[Any]]]]:
        """Each table's description and its rows (read them before asking for the next table)."""
        while True:
            prefix, event, _v = self._next()
            if event == "end_array" and prefix == "tables":
                return
            if event != "start_map":
                raise ArchiveError("A table of the archive is not a JSON object.")
            meta: dict[str, Any] = {}
            while True:
                prefix, event, key = self._next()
                if event == "end_map":
                    raise ArchiveError(f"The table {meta.get('model')} has no rows.")
                if key == "rows":
                    break
                meta[key] = self._value(f"tables.item.{key}", *self._next()[1:])
            if self._next()[1] != "start_array":
                raise ArchiveError(f"The rows of {meta.get('model')} are not a list.")
            rows = self._rows()
            yield meta, rows
            for _row in rows:  # whatever the reader left
                pass
            if self._next()[1] != "end_map":
                raise ArchiveError(f"The table {meta.get('model')} goes on after its rows.")

    def _rows(self) -> Iterator[list[Any]]:
        while True:
            prefix, event, value = self._next()
            if event == "end_array" and prefix == "tables.item.rows":
                return
            row = self._value(prefix, event, value)
            if not isinstance(row, list):
                raise ArchiveError("A row of the archive is not a list of values.")
            yield row

    def files(self) -> Iterator[dict[str, Any]]:
        prefix, event, key = self._next()
        if event == "end_map":
            return
        if key != "files" or self._next()[1] != "start_array":
            raise ArchiveError("The archive's files are not a list.")
        while True:
            prefix, event, value = self._next()
            if event == "end_array" and prefix == "files":
                return
            item = self._value(prefix, event, value)
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise ArchiveError("A file of the archive has no name.")
            yield item


def _plain(value: Any) -> Any:
    """JSON values as ``json.loads`` gives them (the streaming parser gives decimals)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# --- Restoring -----------------------------------------------------------------------------------


@dataclass
class RestoreSummary:
    programme: str = ""
    tables: dict[str, int] = field(default_factory=dict)
    shared_kept: int = 0
    files: int = 0
    figures: int = 0

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


@dataclass
class _Written:
    """What a restore wrote, so that a failure can take it away again."""

    programme_id: int | None = None
    committed: bool = False  # until then, a failure rolls the load back by itself
    shared: dict[type[models.Model], list[int]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


class FiguresDiffer(ArchiveError):
    def __init__(self, lines: list[str]) -> None:
        shown = "\n  ".join(lines[:20])
        more = f"\n  ... and {len(lines) - 20} more" if len(lines) > 20 else ""
        super().__init__(
            f"The restored dashboard differs from the archive's in {len(lines)} figure{'' if len(lines) == 1 else 's'}, "
            f"so the restore was undone:\n  {shown}{more}"
        )
        self.lines = lines


def restore_archive(
    source: IO[bytes],
    *,
    loader: Loader,
    reason: str = "",
    on_start: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> RestoreSummary:
    """Restore the archive read from ``source`` (a binary file) through ``loader``."""
    reader = ArchiveReader(source)
    header = reader.header
    _check_migrations(header)
    if on_start:
        on_start(header.rows)
    summary = RestoreSummary(programme=header.programme)
    written = _Written()
    try:
        _load(reader, loader, summary, written, progress)
        if written.programme_id is None:
            raise ArchiveError("The archive holds no programme.")
        programme = Programme.objects.get(pk=written.programme_id)
        with tenancy.scope({programme.pk}), transaction.atomic():
            _rebuild_derived(programme)
            found = figures(programme=programme, today=header.today)
            differing = figures_differing(header.figures, found)
            if differing:
                raise FiguresDiffer(differing)
            summary.figures = len(found)
            audit.record(
                actor=None,
                action="programme.restored",
                obj=programme,
                programme=programme,
                after={"rows": summary.rows, "files": summary.files, "figures": summary.figures},
                reason=reason,
            )
    except BaseException:
        _undo(loader, written)
        raise
    return summary


def _check_migrations(header: Header) -> None:
    here = _applied_migrations()
    missing = [
        f"{app}.{name}" for app, name in sorted(header.migrations.items()) if app in here and here[app] < name
    ]
    if missing:
        raise ArchiveError(
            "This database's schema is older than the archive's: run manage.py migrate first "
            f"(it lacks {', '.join(missing)})."
        )


def _load(
    reader: ArchiveReader,
    loader: Loader,
    summary: RestoreSummary,
    written: _Written,
    progress: Callable[[int], None] | None,
) -> None:
    code = reader.header.programme
    if loader._fetch(
        sql.SQL("SELECT 1 FROM {} WHERE code = %s").format(sql.Identifier(Programme._meta.db_table)), [code]
    ):
        loader.connection.rollback()
        raise ArchiveError(
            f"This database already holds the programme {code}: a restore never overwrites one."
        )
    # Timestamps compared as text must read as they were written (in UTC).
    loader.execute("SET TIME ZONE 'UTC'")
    models_: list[type[models.Model]] = [
        Programme,
        *{_model_of(p) for p in reader.header.parts if p.get("model") != "betterwork.programme"},
    ]
    try:
        with loader.bulk(sorted(set(models_), key=lambda m: m._meta.db_table)):
            for meta, rows in reader.tables():
                model = _model_of(meta)
                columns = list(meta.get("columns") or [])
                if bool(meta.get("shared")):
                    rows = _new_shared_rows(loader, model, columns, rows, summary, written)
                elif model is Programme:
                    rows = _programme_row(rows, written)
                count = loader.copy(model, *_copy_input(model, columns, rows, progress))
                summary.tables[model._meta.label_lower] = (
                    summary.tables.get(model._meta.label_lower, 0) + count
                )
            for item in reader.files():
                if item.get("missing"):
                    continue
                summary.files += _restore_file(item, written)
    except psycopg2.IntegrityError as error:
        detail = error.diag.message_detail or str(error).strip()
        raise ArchiveError(
            f"The archive's rows collide with rows already in this database ({detail}): restore into an "
            "empty database, or one that never held this programme."
        ) from error
    written.committed = True
    loader.analyze(sorted({m._meta.db_table for m in models_}))


def _model_of(meta: dict[str, Any]) -> type[models.Model]:
    label = str(meta.get("model", ""))
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        raise ArchiveError(f"The archive holds a table this platform does not have: {label}.") from None
    if label in DERIVED or label in LEFT_OUT:
        raise ArchiveError(f"The archive holds {label}, which an archive never holds.")
    return model


def _programme_row(rows: Iterator[list[Any]], written: _Written) -> Iterator[list[Any]]:
    for row in rows:
        written.programme_id = int(row[0])
        yield row


def _copy_input(
    model: type[models.Model],
    columns: list[str],
    rows: Iterator[list[Any]],
    progress: Callable[[int], None] | None,
) -> tuple[list[str], Iterator[str]]:
    """The COPY columns (every column of the table) and text: a column the archive lacks (a
    secret, or one added since) takes its default."""
    fields = list(model._meta.concrete_fields)
    known = {str(f.column) for f in fields}
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise ArchiveError(
            f"The archive's {model._meta.label_lower} has columns this platform does not: {', '.join(unknown)}."
        )
    position = {c: n for n, c in enumerate(columns)}
    fillers: list[tuple[int | None, str]] = []
    for f in fields:
        if str(f.column) in position:
            fillers.append((position[str(f.column)], ""))
        elif f.attname == "password":
            fillers.append((None, copy_text(make_password(None))))
        else:
            default = _field_default(f)
            if default is not None and not isinstance(
                default, (str, int, bool, dict, list, dt.date, Decimal)
            ):
                raise ArchiveError(f"The archive's {model._meta.label_lower} lacks the column {f.column}.")
            fillers.append((None, copy_text(default)))

    def lines() -> Iterator[str]:
        batch: list[str] = []
        for row in rows:
            if len(row) != len(columns):
                raise ArchiveError(
                    f"A row of {model._meta.label_lower} has {len(row)} values, not {len(columns)}."
                )
            batch.append(
                "\t".join(copy_text(row[i]) if i is not None else text for i, text in fillers) + "\n"
            )
            if len(batch) >= 500:
                if progress:
                    progress(len(batch))
                yield "".join(batch)
                batch = []
        if batch:
            if progress:
                progress(len(batch))
            yield "".join(batch)

    return [str(f.column) for f in fields], lines()


def _identity(model: type[models.Model], columns: list[str]) -> list[str]:
    """The columns that make a shared row the same row: its unique columns, else all of them."""
    unique = [str(f.column) for f in model._meta.concrete_fields if f.unique and not f.primary_key]
    if not unique:
        for constraint in model._meta.constraints:
            if (
                isinstance(constraint, models.UniqueConstraint)
                and constraint.fields
                and constraint.condition is None
            ):
                unique = [
                    str(getattr(model._meta.get_field(name), "column", name)) for name in constraint.fields
                ]
                break
    return [c for c in (unique or columns) if c in columns and c != "id"]


def _new_shared_rows(
    loader: Loader,
    model: type[models.Model],
    columns: list[str],
    rows: Iterator[list[Any]],
    summary: RestoreSummary,
    written: _Written,
) -> Iterator[list[Any]]:
    """The shared rows the database lacks. A row it has with the same id and identity is kept as
    it is; the same id with another identity, or the identity under another id, is a conflict
    (the database's rows are read now, before the COPY the rows go to)."""
    identity = _identity(model, columns)
    fields = {str(f.column): f for f in model._meta.concrete_fields}
    existing: dict[int, tuple[Any, ...]] = {}
    statement = sql.SQL("SELECT id, json_build_array({})::text FROM {}").format(
        sql.SQL(", ").join(_select_expression(fields[c]) for c in identity) if identity else sql.SQL(""),
        sql.Identifier(model._meta.db_table),
    )
    for pk, values in loader._fetch(statement):
        existing[int(pk)] = tuple(json.loads(values, parse_float=Decimal))
    taken = {values: pk for pk, values in existing.items()}
    at = [columns.index(c) for c in identity]
    id_at = columns.index("id")
    label = model._meta.verbose_name

    def new_rows() -> Iterator[list[Any]]:  # read inside COPY: no queries from here on
        for row in rows:
            pk = int(row[id_at])
            values = tuple(row[i] for i in at)
            if pk in existing:
                if existing[pk] != values:
                    raise ArchiveError(
                        f"The database's {label} {pk} is not the archive's ({_show(identity, existing[pk])} here, "
                        f"{_show(identity, values)} in the archive): restore into an empty database."
                    )
                summary.shared_kept += 1
                continue
            if values in taken:
                raise ArchiveError(
                    f"The database has the archive's {label} {_show(identity, values)} under another id "
                    f"({taken[values]}, not {pk}): restore into an empty database."
                )
            written.shared.setdefault(model, []).append(pk)
            yield row

    return new_rows()


def _show(columns: list[str], values: tuple[Any, ...]) -> str:
    return ", ".join(f"{c} {v}" for c, v in zip(columns, values, strict=True))


def _restore_file(item: dict[str, Any], written: _Written) -> int:
    name = item["name"]
    if default_storage.exists(name):
        return 0
    try:
        content = base64.b64decode(item.get("base64", ""), validate=True)
    except ValueError as error:
        raise ArchiveError(f"The archive's file {name} is damaged.") from error
    saved = default_storage.save(name, ContentFile(content))
    written.files.append(saved)
    if saved != name:
        raise ArchiveError(f"The file {name} could not be stored under its own name.")
    return 1


def _rebuild_derived(programme: Programme) -> None:
    rollups.rebuild(programme)
    access_rebuild_programme(programme=programme)


def _undo(loader: Loader, written: _Written) -> None:
    """Take away what a failed restore wrote (the loader's own transaction rolled back already
    when the failure came during the load)."""
    for name in written.files:
        default_storage.delete(name)
    if not written.committed or written.programme_id is None:
        return
    with loader.transaction():
        loader.execute("SET CONSTRAINTS ALL DEFERRED")
        for model in [*programme_models(), *(apps.get_model(label) for label in sorted(DERIVED))]:
            loader.execute(
                sql.SQL("DELETE FROM {} WHERE programme_id = %s").format(
                    sql.Identifier(model._meta.db_table)
                ),
                [written.programme_id],
            )
        for model, ids in written.shared.items():
            loader.execute(
                sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(sql.Identifier(model._meta.db_table)),
                [ids],
            )
        loader.execute(
            sql.SQL("DELETE FROM {} WHERE id = %s").format(sql.Identifier(Programme._meta.db_table)),
            [written.programme_id],
        )


def users_to_invite(summary: RestoreSummary) -> int:
    """How many people of the restored programme need a new password (all of them)."""
    return User.objects.filter(grants__programme__code=summary.programme).distinct().count()
