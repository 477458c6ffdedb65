"""The scale data set (``manage.py seed_scale``): its programmes and staff, and the machinery each
app's ``<app>/scale.py`` uses to stream its tables into PostgreSQL with COPY.

Row-level security makes PostgreSQL refuse ``COPY FROM`` for roles it applies to, so the tables
are loaded over a second connection as ``betterwork_loader``: a role with BYPASSRLS and without
SUPERUSER that is a member of the application role (which owns the tables, so the loader may
also drop and rebuild their indexes). Only this command connects as it; the web and worker
processes never do. The application role is not a member of the loader, so it cannot borrow
BYPASSRLS with ``SET ROLE``.

Everything an app loads is written in one transaction: its tables are locked, their secondary
indexes and foreign keys dropped, the rows copied, the indexes built and the keys validated
again, the sequences moved past the loaded ids, and only then committed; a failure leaves the
database as it was.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import dj_database_url
import psycopg2
from django.apps import apps
from django.core.management.base import CommandError, CommandParser
from django.db import connections, models
from django.utils import timezone
from psycopg2 import sql

from betterwork.demo import DEMO_DOMAIN, PROGRAMMES, ProgrammeFacts
from betterwork.models import AuditEvent, Programme, RoleGrant

LOADER_ROLE = "betterwork_loader"
SCALE_DOMAIN = f"scale.{DEMO_DOMAIN}"
# Scale programmes take the demo's countries with codes of their own (KHS1, BDS1, ..., KHS2):
# they can sit beside the demo, and --replace finds them again by this pattern.
SCALE_CODE_PATTERN = "^[A-Z]{2}S[0-9]+$"
# Bytes handed to PostgreSQL per read: big enough that the per-call cost vanishes.
COPY_BUFFER = 1 << 20
# Index builds sort in memory up to this much (per build); PostgreSQL's default is 64 MB.
MAINTENANCE_WORK_MEM = "1GB"


class LoaderRoleMissing(RuntimeError):
    """The loader role is missing or wrongly set up, and no superuser could fix it."""


@dataclass(frozen=True)
class ScaleSize:
    programmes: int
    factories: int  # per programme
    cycles: int
    questions: int  # per assessment
    seed: int


@dataclass
class ScaleProgramme:
    code: str
    facts: ProgrammeFacts
    programme: Programme
    manager_id: int
    team_leader_ids: list[int]
    advisor_ids: list[int]


def scale_programmes(count: int) -> list[tuple[str, str, ProgrammeFacts]]:
    """Code, name and demo facts of each scale programme: the demo's countries in turn."""
    found = []
    for n in range(count):
        facts = PROGRAMMES[n % len(PROGRAMMES)]
        k = n // len(PROGRAMMES) + 1
        found.append((f"{facts.code}S{k}", f"{facts.name} (scale {k})", facts))
    return found


# --- COPY's text format ---------------------------------------------------------------------

_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def copy_text(value: Any) -> str:
    """One value in COPY's text format (``\\N`` is NULL; tabs and newlines are escaped)."""
    kind = type(value)
    if kind is str:
        return value.translate(_ESCAPES)
    if kind is int or kind is float or kind is Decimal:
        return str(value)
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return str(value).translate(_ESCAPES)


class CopyStream:
    """A file to read from for psycopg2's ``copy_expert``, over text chunks of whole rows: rows
    are made while PostgreSQL stores the previous ones, and never all held in memory."""

    def __init__(self, chunks: Iterable[str]) -> None:
        self._chunks = iter(chunks)
        self.rows = 0

    def read(self, size: int = -1) -> bytes:
        parts: list[bytes] = []
        have = 0
        for chunk in self._chunks:
            data = chunk.encode()
            parts.append(data)
            have += len(data)
            if have >= COPY_BUFFER:
                break
        out = b"".join(parts)
        # Newlines inside values are escaped, so each one ends a row.
        self.rows += out.count(b"\n")
        return out


_REQUIRED = object()


def _field_default(f: models.Field) -> Any:
    if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
        return timezone.now()
    if f.has_default():
        return f.get_default()
    if f.blank and f.empty_strings_allowed and not f.null:
        return ""  # what Django writes for an optional text left empty
    if f.null:
        return None
    return _REQUIRED


def model_lines(model: type[models.Model], rows: Iterable[dict[str, Any]], batch: int = 500) -> Iterator[str]:
    """Rows given as {attname: value} as COPY text, in the order of ``model_columns``; a missing
    value takes the field's default, and a NOT NULL column left without one is an error."""
    fields = list(model._meta.concrete_fields)
    names = [f.attname for f in fields]
    defaults = [_field_default(f) for f in fields]
    nullable = [f.null for f in fields]
    lines: list[str] = []
    for row in rows:
        values = []
        for name, default, null in zip(names, defaults, nullable, strict=True):
            value = row.get(name, default)
            if value is _REQUIRED or (value is None and not null):
                raise ValueError(f"{model._meta.label}.{name} needs a value")
            values.append(copy_text(value))
        lines.append("\t".join(values) + "\n")
        if len(lines) >= batch:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def model_columns(model: type[models.Model]) -> list[str]:
    return [str(f.column) for f in model._meta.concrete_fields]


# --- The loader role and its connection ------------------------------------------------------


def _connection_params(settings_dict: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    params = {
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
        "dbname": settings_dict["NAME"],
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def _params_from_url(url: str, dbname: str) -> dict[str, Any]:
    parsed = dj_database_url.parse(url)
    return _connection_params({**parsed, "NAME": dbname})


def loader_role_problem(app_role: str) -> str | None:
    """What is wrong with the loader role, as seen by the application's own connection; None if
    it exists, may bypass row-level security, is no superuser and is a member of the app role."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolbypassrls, rolcanlogin, pg_has_role(rolname, %s, 'MEMBER'),"
            " pg_has_role(%s, rolname, 'MEMBER') FROM pg_roles WHERE rolname = %s",
            [app_role, app_role, LOADER_ROLE],
        )
        row = cursor.fetchone()
    if row is None:
        return f"the role {LOADER_ROLE} does not exist"
    superuser, bypass, login, member, app_is_member = row
    if app_is_member:
        # The application could SET ROLE to the loader and skip row-level security: never.
        raise LoaderRoleMissing(
            f"the application role {app_role} is a member of {LOADER_ROLE}: revoke that first "
            f"(REVOKE {LOADER_ROLE} FROM {app_role})"
        )
    if superuser or not bypass or not login or not member:
        return f"the role {LOADER_ROLE} is not LOGIN NOSUPERUSER BYPASSRLS and a member of {app_role}"
    return None


def ensure_loader_role(*, app_role: str, superuser_params: dict[str, Any]) -> bool:
    """Create or repair the loader role as a superuser when needed; True if anything changed."""
    problem = loader_role_problem(app_role)
    if problem is None:
        return False
    try:
        admin = psycopg2.connect(**superuser_params, application_name="betterwork seed_scale (role)")
    except psycopg2.Error as error:
        raise LoaderRoleMissing(
            f"{problem}, and no superuser connection to create it ({str(error).strip()}); "
            "give --superuser-url, or run scripts/setup.sh's ensure_app_role"
        ) from error
    loader, app = sql.Identifier(LOADER_ROLE), sql.Identifier(app_role)
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [LOADER_ROLE])
            verb = "ALTER" if cursor.fetchone() else "CREATE"
            cursor.execute(sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER BYPASSRLS").format(loader))
            cursor.execute(sql.SQL("GRANT {} TO {}").format(app, loader))
    finally:
        admin.close()
    return True


def add_loader_arguments(parser: CommandParser) -> None:
    """The options of a command that connects as the loader role (seed_scale, restore_programme)."""
    parser.add_argument(
        "--loader-url",
        default=os.environ.get("LOADER_DATABASE_URL"),
        help=f"Credentials of the {LOADER_ROLE} role as a URL (its database name is ignored); "
        f"default LOADER_DATABASE_URL, else the configured server as {LOADER_ROLE}.",
    )
    parser.add_argument(
        "--superuser-url",
        default=os.environ.get("SUPERUSER_DATABASE_URL"),
        help=f"A superuser, used only to create {LOADER_ROLE} when it is missing; "
        "default SUPERUSER_DATABASE_URL, else postgres on the configured server.",
    )


def loader_for_command(*, loader_url: str | None, superuser_url: str | None) -> Loader:
    try:
        return Loader.connect(loader_url=loader_url, superuser_url=superuser_url)
    except (LoaderRoleMissing, psycopg2.Error) as error:
        raise CommandError(f"Cannot connect as {LOADER_ROLE}: {str(error).strip()}") from error


@dataclass
class TableLoad:
    table: str
    rows: int = 0
    seconds: float = 0.0


@dataclass
class _Deferred:
    """Secondary indexes and foreign keys dropped for the load, to build again after it."""

    indexes: list[tuple[str, str, str]] = field(default_factory=list)  # table, index, CREATE INDEX
    unique: list[tuple[str, str, str]] = field(default_factory=list)  # table, constraint, definition
    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)


class Loader:
    """The loader role's connection to the target database, and what it timed."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.loads: dict[str, TableLoad] = {}
        self.steps: list[tuple[str, float]] = []
        self._freeze: set[str] = set()

    @classmethod
    def connect(cls, *, loader_url: str | None, superuser_url: str | None) -> Loader:
        settings_dict = connections["default"].settings_dict
        dbname = settings_dict["NAME"]
        superuser = (
            _params_from_url(superuser_url, "postgres")
            if superuser_url
            else _connection_params(settings_dict, dbname="postgres", user="postgres", password=None)
        )
        ensure_loader_role(app_role=settings_dict["USER"], superuser_params=superuser)
        params = (
            _params_from_url(loader_url, dbname)
            if loader_url
            else _connection_params(settings_dict, user=LOADER_ROLE, password=None)
        )
        connection = psycopg2.connect(**params, application_name="betterwork seed_scale")
        connection.autocommit = False
        return cls(connection)

    def close(self) -> None:
        self.connection.close()

    # -- small helpers --

    def _fetch(self, statement: str | sql.Composable, params: Any = None) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def execute(self, statement: str | sql.Composable, params: Any = None) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute(statement, params)
            return int(cursor.rowcount)

    def occupied(self, tables: list[str]) -> list[str]:
        """Which of these tables hold any row (whatever the programme)."""
        found = [table for table in tables if self._has_rows(table)]
        self.connection.rollback()
        return found

    def _has_rows(self, table: str) -> bool:
        return bool(
            self._fetch(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table)))[0][0]
        )

    def programmes(self, pattern: str) -> list[tuple[int, str]]:
        rows = self._fetch(
            sql.SQL("SELECT id, code FROM {} WHERE code ~ %s ORDER BY id").format(
                sql.Identifier(Programme._meta.db_table)
            ),
            [pattern],
        )
        self.connection.rollback()
        return [(int(pk), str(code)) for pk, code in rows]

    @contextmanager
    def transaction(self) -> Iterator[Loader]:
        try:
            yield self
            self.connection.commit()
        except BaseException:
            self.connection.rollback()
            raise

    # -- removing a previous load --

    def remove_programme_data(self, programme_ids: list[int]) -> None:
        """Delete every row of these programmes from every table with a programme column (in the
        caller's transaction), keeping the audit trail and the programmes' staff grants. A table
        holding only these programmes' rows, and referred to only by such tables, is truncated."""
        if not programme_ids:
            return
        tables = sorted(
            {
                m._meta.db_table
                for m in apps.get_models()
                if any(
                    f.name == "programme" and f.related_model is Programme for f in m._meta.concrete_fields
                )
            }
            - {AuditEvent._meta.db_table, RoleGrant._meta.db_table}
        )
        only_these = {
            table
            for table in tables
            if not self._fetch(
                sql.SQL(
                    "SELECT EXISTS (SELECT 1 FROM {} WHERE programme_id IS NULL OR programme_id <> ALL(%s))"
                ).format(sql.Identifier(table)),
                [programme_ids],
            )[0][0]
        }
        references = self._fetch(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint WHERE contype = 'f'"
        )
        truncate = set(only_these)
        changed = True
        while changed:  # TRUNCATE refuses a table that a table it keeps refers to
            changed = False
            for source, target in references:
                if target in truncate and source not in truncate:
                    truncate.discard(target)
                    changed = True
        self.execute("SET CONSTRAINTS ALL DEFERRED")
        if truncate:
            self.execute(
                sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, sorted(truncate))))
            )
        for table in tables:
            if table not in truncate:
                self.execute(
                    sql.SQL("DELETE FROM {} WHERE programme_id = ANY(%s)").format(sql.Identifier(table)),
                    [programme_ids],
                )
        # Factory users' grants name factories that are gone; staff grants are made again anyway.
        self.execute(
            sql.SQL("DELETE FROM {} WHERE factory_id IS NOT NULL AND programme_id = ANY(%s)").format(
                sql.Identifier(RoleGrant._meta.db_table)
            ),
            [programme_ids],
        )

    # -- the load itself --

    def bulk(self, models_: list[type[models.Model]]) -> _Bulk:
        return _Bulk(self, [m._meta.db_table for m in models_])

    def first_id(self, model: type[models.Model]) -> int:
        """The first free id of a table, past both its rows and its sequence (the table is locked)."""
        table = model._meta.db_table
        top = self._fetch(sql.SQL("SELECT COALESCE(MAX(id), 0) FROM {}").format(sql.Identifier(table)))[0][0]
        return max(int(top), self._sequence_position(table)) + 1

    def _sequence_position(self, table: str) -> int:
        sequence = self._fetch("SELECT pg_get_serial_sequence(%s, 'id')", [table])[0][0]
        last, called = self._fetch(sql.SQL("SELECT last_value, is_called FROM {}").format(sql.SQL(sequence)))[
            0
        ]
        return int(last) if called else int(last) - 1

    def set_sequence(self, table: str) -> None:
        """Move the id sequence past the loaded rows, so the application inserts after them."""
        top = self._fetch(sql.SQL("SELECT COALESCE(MAX(id), 0) FROM {}").format(sql.Identifier(table)))[0][0]
        if int(top) > self._sequence_position(table):
            self.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, true)", [table, int(top)])

    def copy(self, model: type[models.Model], columns: list[str], chunks: Iterable[str]) -> int:
        """Stream rows (COPY text, in ``columns`` order) into the model's table; returns how many."""
        table = model._meta.db_table
        missing = [
            f.column
            for f in model._meta.concrete_fields
            if not f.null and f.column not in columns and _field_default(f) is _REQUIRED
        ]
        if missing or set(columns) - set(model_columns(model)):
            raise ValueError(f"COPY into {table}: columns {columns} do not fill {missing}")
        statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
            sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            # A table emptied in this transaction takes its rows frozen: no later rewrite of
            # every page to set hint bits, and index-only scans work at once.
            sql.SQL(" WITH (FREEZE)" if table in self._freeze else ""),
        )
        stream = CopyStream(chunks)
        start = time.perf_counter()
        with self.connection.cursor() as cursor:
            cursor.copy_expert(statement, stream)
        self._count(table, stream.rows, time.perf_counter() - start)
        return stream.rows

    def copy_rows(self, model: type[models.Model], rows: Iterable[dict[str, Any]]) -> int:
        return self.copy(model, model_columns(model), model_lines(model, rows))

    def insert(self, model: type[models.Model], statement: str | sql.Composable, params: Any = None) -> int:
        """An INSERT ... SELECT into the model's table, counted like a COPY."""
        start = time.perf_counter()
        count = self.execute(statement, params)
        self._count(model._meta.db_table, count, time.perf_counter() - start)
        return count

    def _count(self, table: str, rows: int, seconds: float) -> None:
        load = self.loads.setdefault(table, TableLoad(table))
        load.rows += rows
        load.seconds += seconds

    def analyze(self, tables: list[str]) -> None:
        start = time.perf_counter()
        self.connection.autocommit = True
        try:
            for table in tables:
                self.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
        finally:
            self.connection.autocommit = False
        self.steps.append(("analyze", time.perf_counter() - start))

    def analyze_changed(self) -> None:
        """Analyze the tables written since their last ANALYZE (those the rollups filled)."""
        changed = [
            table
            for (table,) in self._fetch(
                "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema()"
                " AND n_mod_since_analyze > 0 ORDER BY relname"
            )
        ]
        self.connection.rollback()
        self.analyze(changed)

    # -- indexes and keys --

    def _drop_secondary(self, tables: list[str]) -> _Deferred:
        deferred = _Deferred()
        deferred.foreign_keys = [
            (t, n, d)
            for t, n, d in self._fetch(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
                [tables],
            )
        ]
        deferred.unique = [
            (t, n, d)
            for t, n, d in self._fetch(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE contype IN ('u', 'x') AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
                [tables],
            )
        ]
        # Indexes of their own (not a primary key's or a unique constraint's).
        deferred.indexes = [
            (t, n, d)
            for t, n, d in self._fetch(
                "SELECT i.indrelid::regclass::text, c.relname, pg_get_indexdef(i.indexrelid)"
                " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary AND NOT EXISTS ("
                "   SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid"
                "   AND k.contype IN ('p', 'u', 'x')) ORDER BY 1, 2",
                [tables],
            )
        ]
        for table, name, _definition in deferred.foreign_keys + deferred.unique:
            self.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    sql.Identifier(table), sql.Identifier(name)
                )
            )
        for _table, name, _definition in deferred.indexes:
            self.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        return deferred

    def _restore(self, deferred: _Deferred) -> None:
        # Indexes first, then the keys: validating a foreign key is one join per key, and it is
        # the fast path only because the loader bypasses row-level security.
        for table, _name, definition in deferred.indexes:
            self._timed_on(table, "indexes", sql.SQL(definition))
        for table, name, definition in deferred.unique + deferred.foreign_keys:
            kind = "foreign keys" if (table, name, definition) in deferred.foreign_keys else "indexes"
            self._timed_on(
                table,
                kind,
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)
                ),
            )

    def _timed_on(self, table: str, kind: str, statement: sql.Composable) -> None:
        start = time.perf_counter()
        self.execute(statement)
        label = f"{kind} of {table}"
        elapsed = time.perf_counter() - start
        for n, (existing, seconds) in enumerate(self.steps):
            if existing == label:
                self.steps[n] = (label, seconds + elapsed)
                return
        self.steps.append((label, elapsed))


class _Bulk:
    """The load's transaction: tables locked, secondary indexes and foreign keys dropped, and on a
    clean exit rebuilt, sequences moved past the loaded ids, committed. Any error rolls back."""

    def __init__(self, loader: Loader, tables: list[str]) -> None:
        self.loader = loader
        self.tables = tables
        self._deferred = _Deferred()

    def __enter__(self) -> Loader:
        loader = self.loader
        loader.execute("SET LOCAL lock_timeout = '60s'")
        loader.execute("SET LOCAL statement_timeout = 0")
        loader.execute(
            sql.SQL("SET LOCAL maintenance_work_mem = {}").format(sql.Literal(MAINTENANCE_WORK_MEM))
        )
        # The rollups' GROUP BY holds every group in memory rather than spilling to disk.
        loader.execute("SET LOCAL work_mem = '512MB'")
        loader.execute(
            sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                sql.SQL(", ").join(map(sql.Identifier, self.tables))
            )
        )
        referenced = {
            target
            for (target,) in loader._fetch(
                "SELECT DISTINCT confrelid::regclass::text FROM pg_constraint WHERE contype = 'f'"
            )
        }
        empty = [t for t in self.tables if t not in referenced and not loader._has_rows(t)]
        if empty:
            # Emptied in this transaction, they may take COPY ... FREEZE.
            loader.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, empty))))
            loader._freeze.update(empty)
        self._deferred = loader._drop_secondary(self.tables)
        return loader

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        loader = self.loader
        try:
            if exc_type is None:
                loader._restore(self._deferred)
                for table in self.tables:
                    loader.set_sequence(table)
                start = time.perf_counter()
                loader.connection.commit()
                loader.steps.append(("commit", time.perf_counter() - start))
            else:
                loader.connection.rollback()
        finally:
            loader._freeze.clear()


@dataclass
class ScaleContext:
    """What the command hands each app's ``scale.load``: the size, the loader, the programmes
    and their staff, and what one app's loading leaves for the next (``shared``)."""

    size: ScaleSize
    loader: Loader
    today: date
    programmes: list[ScaleProgramme] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)

    def rng(self, *parts: object) -> random.Random:
        return random.Random("-".join(str(p) for p in (self.size.seed, *parts)))  # noqa: S311 - reproducible data

    @property
    def history_start(self) -> date:
        """Every visit of the data set falls after this day (cycles are a year apart)."""
        return self.today - timedelta(days=365 * self.size.cycles + 30)
