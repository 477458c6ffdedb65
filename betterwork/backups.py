"""Backups of the whole platform (``manage.py backup`` and ``manage.py restore_backup``): one tar
archive holding a ``pg_dump --format=custom`` of the database, a tar of the media files (evidence
photos, report PDFs, uploads) and a manifest with the checksum of each.

Both commands connect as ``betterwork_loader`` (see ``betterwork.scale``): row-level security
applies to the application role, so a dump taken as it would hold only the rows of the scope it
happens to have, none at all here. The loader bypasses row-level security and, as a member of
the application role, may create the tables and hand them to their owner again.

The manifest's row counts are taken in the very snapshot pg_dump dumps (``--snapshot``), so a
restore can be held to them exactly. A restore is one transaction (pg_restore's script run by
psql with ``--single-transaction``): with ``--replace`` it first drops everything in the target
database, then recreates it from the archive, then compares every table's rows, owner,
row-level security and policies with the manifest, and commits only if they all agree. Anything
wrong leaves the database as it was.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from django.db.migrations.loader import MigrationLoader

FORMAT = "betterwork-backup"
VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "database.dump"
MEDIA = "media.tar"
PG_DUMP = shutil.which("pg_dump") or "/usr/bin/pg_dump"
PG_RESTORE = shutil.which("pg_restore") or "/usr/bin/pg_restore"
PSQL = shutil.which("psql") or "/usr/bin/psql"
# How long a dump waits for its share locks, and a replacing restore for its exclusive ones,
# before giving up: a running platform holding them gets a clear error, not a silent hang.
LOCK_WAIT = "60s"
CHUNK = 1 << 20

Say = Callable[[str], None]


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why, for the operator."""


# --- The database's state: what a restore must reproduce -------------------------------------

_USER_SCHEMAS = r"""
    SELECT oid, nspname, nspowner FROM pg_catalog.pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_%'
"""
_EXTENSION_MEMBER = """
    EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
            WHERE d.classid = '{catalog}'::regclass AND d.objid = {oid} AND d.deptype = 'e')
"""

# Every table of the database, as one jsonb: its rows, owner, privileges, row-level security and
# policies. Runs both in Python (the backup) and inside the restore's transaction (the check).
TABLES_STATE = f"""
SELECT coalesce(jsonb_object_agg(format('%I.%I', n.nspname, c.relname), jsonb_build_object(
    'rows', (xpath('/row/n/text()', query_to_xml(
        format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint,
    'owner', pg_get_userbyid(c.relowner),
    'acl', coalesce(c.relacl::text, ''),
    'rls', c.relrowsecurity,
    'force_rls', c.relforcerowsecurity,
    'policies', coalesce((
        SELECT jsonb_agg(p.polname || ' ' || p.polcmd::text ORDER BY p.polname)
        FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid), '[]'::jsonb)
)), '{{}}'::jsonb)
FROM pg_catalog.pg_class c JOIN ({_USER_SCHEMAS}) n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND NOT {_EXTENSION_MEMBER.format(catalog="pg_catalog.pg_class", oid="c.oid")}
"""  # noqa: S608 - catalog queries put together from constants

# Everything a restore would collide with, and the statement that drops it: schemas besides
# public, relations, routines and types (what belongs to an extension stays with it).
OBJECTS = f"""
SELECT 1 AS rank, 'schema' AS kind, n.nspname AS name,
       format('DROP SCHEMA IF EXISTS %I CASCADE', n.nspname) AS statement
FROM ({_USER_SCHEMAS}) n
WHERE n.nspname <> 'public'
  AND NOT {_EXTENSION_MEMBER.format(catalog="pg_catalog.pg_namespace", oid="n.oid")}
UNION ALL
SELECT CASE WHEN c.relkind = 'S' THEN 3 ELSE 2 END,
       CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'view'
                      ELSE 'table' END,
       format('%I.%I', n.nspname, c.relname),
       format('DROP %s IF EXISTS %I.%I CASCADE',
              CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                             WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
                             ELSE 'TABLE' END,
              n.nspname, c.relname)
FROM pg_catalog.pg_class c JOIN ({_USER_SCHEMAS}) n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  AND NOT {_EXTENSION_MEMBER.format(catalog="pg_catalog.pg_class", oid="c.oid")}
UNION ALL
SELECT 4, 'function', format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
       format('DROP %s IF EXISTS %I.%I(%s) CASCADE',
              CASE p.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'ROUTINE' END,
              n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
FROM pg_catalog.pg_proc p JOIN ({_USER_SCHEMAS}) n ON n.oid = p.pronamespace
WHERE NOT {_EXTENSION_MEMBER.format(catalog="pg_catalog.pg_proc", oid="p.oid")}
UNION ALL
SELECT 5, 'type', format('%I.%I', n.nspname, t.typname),
       format('DROP TYPE IF EXISTS %I.%I CASCADE', n.nspname, t.typname)
FROM pg_catalog.pg_type t JOIN ({_USER_SCHEMAS}) n ON n.oid = t.typnamespace
WHERE (t.typtype IN ('e', 'd', 'r')
       OR (t.typtype = 'c' AND (SELECT relkind FROM pg_catalog.pg_class WHERE oid = t.typrelid) = 'c'))
  AND NOT {_EXTENSION_MEMBER.format(catalog="pg_catalog.pg_type", oid="t.oid")}
"""  # noqa: S608

# The roles the dumped objects name: their owners, and whoever is granted anything on them or
# named by a policy. A restore needs them all in its cluster (roles are not in a database dump).
ROLES = f"""
WITH named AS (
    SELECT c.relowner AS role, true AS owns FROM pg_catalog.pg_class c
        JOIN ({_USER_SCHEMAS}) n ON n.oid = c.relnamespace
    UNION SELECT p.proowner, true FROM pg_catalog.pg_proc p JOIN ({_USER_SCHEMAS}) n ON n.oid = p.pronamespace
    UNION SELECT t.typowner, true FROM pg_catalog.pg_type t JOIN ({_USER_SCHEMAS}) n ON n.oid = t.typnamespace
    UNION SELECT n.nspowner, n.nspname <> 'public' FROM ({_USER_SCHEMAS}) n
    UNION SELECT (aclexplode(c.relacl)).grantee, false FROM pg_catalog.pg_class c
        JOIN ({_USER_SCHEMAS}) n ON n.oid = c.relnamespace WHERE c.relacl IS NOT NULL
    UNION SELECT unnest(p.polroles), false FROM pg_catalog.pg_policy p
)
SELECT r.rolname, bool_or(named.owns) FROM named JOIN pg_catalog.pg_roles r ON r.oid = named.role
GROUP BY r.rolname ORDER BY r.rolname
"""  # noqa: S608

LATEST_MIGRATIONS = """
SELECT DISTINCT ON (app) app, name FROM django_migrations ORDER BY app, applied DESC, id DESC
"""


def _literal(text: str) -> str:
    """A standard SQL string literal (standard_conforming_strings is on in every session here)."""
    return "'" + text.replace("'", "''") + "'"


def check_statement(tables: dict[str, Any]) -> str:
    """A DO block that fails, so rolling back the restore, unless the database's tables are the
    manifest's: same names, rows, owners, privileges, row-level security and policies."""
    expected = json.dumps(tables, sort_keys=True)
    return f"""DO $check$
DECLARE
    expected jsonb := {_literal(expected)}::jsonb;
    found jsonb := ({TABLES_STATE});
    differing text;
BEGIN
    SELECT string_agg(format('%s (archive: %s; restored: %s)', k,
                             coalesce((expected -> k)::text, 'none'), coalesce((found -> k)::text, 'none')),
                      '; ' ORDER BY k)
    INTO differing
    FROM (SELECT jsonb_object_keys(expected) AS k UNION SELECT jsonb_object_keys(found)) keys
    WHERE expected -> k IS DISTINCT FROM found -> k;
    IF differing IS NOT NULL THEN
        RAISE EXCEPTION 'the restored tables differ from the manifest: %', left(differing, 3000);
    END IF;
END
$check$"""  # noqa: S608 - the manifest's tables as a quoted literal


DROP_EVERYTHING = f"""DO $drop$
DECLARE
    statement text;
BEGIN
    FOR statement IN SELECT o.statement FROM ({OBJECTS}) o ORDER BY o.rank, o.name LOOP
        EXECUTE statement;
    END LOOP;
END
$drop$"""  # noqa: S608


# --- Connections ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """Where and as whom pg_dump, pg_restore, psql and our own checks connect: the loader role's
    connection, pointed at a database of the same server. The password travels in PGPASSWORD,
    never on a command line."""

    dbname: str
    user: str
    host: str | None = None
    port: int | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def of(cls, connection: Any, dbname: str | None = None) -> Access:
        """The parameters of an open psycopg2 connection (the loader's), for another database."""
        info = connection.info
        return cls(
            dbname=dbname or info.dbname,
            user=info.user,
            host=info.host or None,
            port=int(info.port) if info.port else None,
            password=info.password or None,
        )

    def connect(self, purpose: str) -> Any:
        params: dict[str, Any] = {"dbname": self.dbname, "user": self.user}
        for key in ("host", "port", "password"):
            if getattr(self, key) is not None:
                params[key] = getattr(self, key)
        try:
            return psycopg2.connect(**params, application_name=f"betterwork {purpose}")
        except psycopg2.Error as error:
            raise BackupError(
                f"Cannot connect to the database {self.dbname} as {self.user}: {str(error).strip()}"
            ) from error

    def tool_args(self) -> list[str]:
        args = ["--no-password", f"--username={self.user}", f"--dbname={self.dbname}"]
        if self.host:
            args.append(f"--host={self.host}")
        if self.port:
            args.append(f"--port={self.port}")
        return args

    def tool_env(self, purpose: str) -> dict[str, str]:
        env = {**os.environ, "PGAPPNAME": f"betterwork {purpose}"}
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def tool_version(tool: str) -> str:
    try:
        done = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True)  # noqa: S603
    except (OSError, subprocess.CalledProcessError) as error:
        raise BackupError(f"{tool} cannot be run ({error}): install PostgreSQL's client programs") from error
    return done.stdout.strip()


def _major(version: str) -> int:
    found = re.search(r"(\d+)(?:\.\d+)?", version)
    return int(found.group(1)) if found else 0


def _short(version: str) -> str:
    found = re.search(r"\d+(?:\.\d+)*", version)
    return found.group(0) if found else version


def _tail(text: str, lines: int = 8) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# --- Writing ----------------------------------------------------------------------------------


@dataclass
class Written:
    path: Path
    manifest: dict[str, Any]
    seconds: float


def default_name(now: datetime | None = None) -> str:
    """The archive's name: its time of making in UTC, so that names sort in time."""
    return f"betterwork-{(now or datetime.now(UTC)):%Y%m%d-%H%M%S}.tar"


def write_backup(path: Path, *, access: Access, media_root: Path | None, say: Say) -> Written:
    """Dump the database, then pack the media files, into one archive at ``path``: written beside
    it under a temporary name and renamed when whole, so a failed backup leaves no archive.

    The media files are packed after the database's snapshot is taken, so every file a row of the
    snapshot names existed by then. One the platform removed in between (an import's spreadsheet,
    once applied) is missing; one uploaded in between is there, named by no row."""
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".betterwork-backup-", dir=path.parent))
    try:
        manifest = _dump_database(work / DATABASE, access=access, say=say)
        if media_root is not None:
            manifest["media"] = _pack_media(media_root, work / MEDIA, say=say)
        members = [DATABASE] + ([MEDIA] if media_root is not None else [])
        manifest["members"] = {
            name: {"sha256": _sha256(work / name), "bytes": (work / name).stat().st_size} for name in members
        }
        whole = work / path.name
        with tarfile.open(whole, "w", format=tarfile.PAX_FORMAT) as archive:
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = _tar_info(MANIFEST, len(data))
            archive.addfile(info, io.BytesIO(data))
            for name in members:
                with (work / name).open("rb") as source:
                    archive.addfile(_tar_info(name, (work / name).stat().st_size), source)
        # The archive holds password hashes and personal data: its owner alone may read it.
        whole.chmod(0o600)
        os.replace(whole, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Written(path, manifest, time.perf_counter() - started)


def _dump_database(into: Path, *, access: Access, say: Say) -> dict[str, Any]:
    """pg_dump in the snapshot of a transaction that counts every table's rows meanwhile."""
    pg_dump = tool_version(PG_DUMP)
    connection = access.connect("backup")
    try:
        try:
            snapshot, server, user, tables, roles, migrations, counted = _read_state(connection)
        except psycopg2.errors.InsufficientPrivilege as error:
            raise BackupError(
                f"Cannot read every row as {access.user}: {str(error).strip()} (the loader role bypasses "
                "row-level security; see --loader-url)"
            ) from error
        except psycopg2.Error as error:
            raise BackupError(f"Cannot read the database {access.dbname}: {str(error).strip()}") from error
        if _major(pg_dump) < _major(server):
            raise BackupError(f"{pg_dump} cannot dump a PostgreSQL {server} server: install its version")
        say(
            f"Dumping the database {access.dbname} as {user} (pg_dump {_short(pg_dump)}, server {_short(server)})"
        )
        dump_started = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - PostgreSQL's own program, arguments as a list
            [
                PG_DUMP,
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--lock-wait-timeout={LOCK_WAIT}",
                f"--file={into}",
                *access.tool_args(),
            ],
            env=access.tool_env("backup"),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed:\n{_tail(done.stderr)}")
    finally:
        connection.close()
    rows = sum(table["rows"] for table in tables.values())
    say(
        f"  database: {len(tables)} tables, {rows:,} rows (counted in {counted:.1f} s), "
        f"dump of {_size(into.stat().st_size)} in {time.perf_counter() - dump_started:.1f} s"
    )
    return {
        "format": FORMAT,
        "version": VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": {
            "name": access.dbname,
            "server_version": server,
            "pg_dump_version": pg_dump,
            "dumped_as": user,
            "owners": sorted(name for name, owns in roles if owns),
            "roles": sorted(name for name, _ in roles),
        },
        "migrations": migrations,
        "tables": tables,
        "media": None,
    }


def _read_state(
    connection: Any,
) -> tuple[str, str, str, dict[str, Any], list[tuple[str, bool]], dict[str, str], float]:
    """In a repeatable-read transaction left open for pg_dump: its exported snapshot, the server's
    version, the role, every table's state, the roles named and the latest migration of each app."""
    connection.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ, readonly=True)
    with connection.cursor() as cursor:
        # A role that row-level security applies to gets an error here, never fewer rows.
        cursor.execute("SET row_security = off")
        cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version'), current_user")
        snapshot, server, user = cursor.fetchone()
        started = time.perf_counter()
        cursor.execute(TABLES_STATE)
        tables: dict[str, Any] = cursor.fetchone()[0]
        counted = time.perf_counter() - started
        cursor.execute(ROLES)
        roles = [(str(name), bool(owns)) for name, owns in cursor.fetchall()]
        cursor.execute("SELECT to_regclass('django_migrations') IS NOT NULL")
        migrations: dict[str, str] = {}
        if cursor.fetchone()[0]:
            cursor.execute(LATEST_MIGRATIONS)
            migrations = {str(app): str(name) for app, name in cursor.fetchall()}
    return str(snapshot), str(server), str(user), tables, roles, migrations, counted


def _pack_media(root: Path, into: Path, *, say: Say) -> dict[str, Any]:
    """Every regular file under MEDIA_ROOT, by its path there. Links are left out: they could
    point anywhere on the machine, and the platform never makes them."""
    files = size = skipped = 0
    with tarfile.open(into, "w", format=tarfile.PAX_FORMAT) as media:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_symlink() or not path.is_file():
                    skipped += path.is_symlink()
                    continue
                stat = path.stat()
                info = _tar_info(path.relative_to(root).as_posix(), stat.st_size, mtime=stat.st_mtime)
                with path.open("rb") as source:
                    media.addfile(info, source)
                files += 1
                size += stat.st_size
    say(
        f"  media: {files:,} files, {_size(size)} from {root}"
        + (f" ({skipped} links left out)" if skipped else "")
    )
    return {"root": str(root), "files": files, "bytes": size}


def _tar_info(name: str, size: int, mtime: float | None = None) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime if mtime is not None else time.time())
    info.mode = 0o640
    return info


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _size(n: float) -> str:
    if n < 1024:
        return f"{n:,.0f} bytes"
    for unit in ("KB", "MB", "GB"):
        n /= 1024
        if n < 1024 or unit == "GB":
            break
    return f"{n:,.1f} {unit}"


# --- Reading ----------------------------------------------------------------------------------


class _Hashing:
    """A file to read from that computes the SHA-256 of what passes through it."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self._source.read(size)
        self.digest.update(chunk)
        return chunk

    def drain(self) -> None:
        while self.read(CHUNK):
            pass


def _well_formed(manifest: dict[str, Any]) -> bool:
    """Whether the manifest has every part a restore reads, of the right kind."""
    members, tables, database = manifest.get("members"), manifest.get("tables"), manifest.get("database")
    return (
        isinstance(members, dict)
        and all(isinstance(m, dict) and {"sha256", "bytes"} <= m.keys() for m in members.values())
        and isinstance(tables, dict)
        and all(
            isinstance(t, dict) and {"rows", "force_rls", "policies"} <= t.keys() for t in tables.values()
        )
        and isinstance(database, dict)
        and isinstance(manifest.get("migrations", {}), dict)
    )


class Backup:
    """An archive opened for restoring: a tar whose manifest is ours and names its members."""

    def __init__(self, path: Path, archive: tarfile.TarFile, manifest: dict[str, Any]) -> None:
        self.path = path
        self.archive = archive
        self.manifest = manifest

    @classmethod
    @contextmanager
    def open(cls, path: Path) -> Iterator[Backup]:
        not_ours = f"{path} is not a Betterwork backup (made by manage.py backup)"
        if not path.is_file():
            raise BackupError(f"No such file: {path}")
        try:
            archive = tarfile.open(path, "r:")  # noqa: SIM115 - closed in the finally below
        except (tarfile.TarError, OSError) as error:
            raise BackupError(f"{not_ours}: it is not a tar archive") from error
        try:
            try:
                members = {member.name: member for member in archive.getmembers()}
                source = archive.extractfile(members[MANIFEST]) if MANIFEST in members else None
                manifest = json.load(source) if source else None
            except (tarfile.TarError, OSError, ValueError) as error:
                raise BackupError(f"{not_ours}: {error}") from error
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise BackupError(f"{not_ours}: it holds no {MANIFEST} of ours")
            if not _well_formed(manifest):
                raise BackupError(f"The {MANIFEST} of {path} is incomplete: it is damaged or was altered")
            if manifest.get("version") != VERSION:
                raise BackupError(
                    f"{path} is a backup of version {manifest.get('version')}; this code reads version {VERSION}"
                )
            listed = manifest.get("members") or {}
            if DATABASE not in listed or set(members) != {MANIFEST, *listed}:
                raise BackupError(
                    f"{path} does not hold what its manifest lists ({sorted(listed)} against "
                    f"{sorted(set(members) - {MANIFEST})}): it is damaged or was altered"
                )
            for name, facts in listed.items():
                if not members[name].isfile() or members[name].size != facts.get("bytes"):
                    raise BackupError(
                        f"{name} in {path} is not the size its manifest gives: it is damaged or was altered"
                    )
            yield cls(path, archive, manifest)
        finally:
            archive.close()

    def _mismatch(self, name: str) -> BackupError:
        return BackupError(
            f"The checksum of {name} in {self.path} does not match its manifest: the archive is "
            "damaged or was altered. Nothing was restored."
        )

    def extract_database(self, into: Path) -> Path:
        """The dump, copied out and checked against its SHA-256 on the way."""
        source = self.archive.extractfile(DATABASE)
        if source is None:
            raise self._mismatch(DATABASE)
        reader = _Hashing(source)
        with into.open("wb") as out:
            while chunk := reader.read(CHUNK):
                out.write(chunk)
        if reader.digest.hexdigest() != self.manifest["members"][DATABASE]["sha256"]:
            raise self._mismatch(DATABASE)
        return into

    def extract_media(self, into: Path) -> int:
        """The media files into a folder, checked against the SHA-256 on the way; the number of
        files. Only plain files under the folder come out (tarfile's "data" filter)."""
        source = self.archive.extractfile(MEDIA)
        if source is None:
            raise self._mismatch(MEDIA)
        reader = _Hashing(source)
        files = 0
        try:
            # A stream ("r|"): tarfile only reads from it, which is all _Hashing offers.
            with tarfile.open(fileobj=reader, mode="r|") as media:  # type: ignore[call-overload]
                for member in media:
                    media.extract(member, into, filter="data")
                    files += member.isfile()
        except (tarfile.TarError, OSError) as error:
            reader.drain()
            if reader.digest.hexdigest() != self.manifest["members"][MEDIA]["sha256"]:
                raise self._mismatch(MEDIA) from error
            raise BackupError(
                f"The media files cannot be unpacked: {error}. Nothing was restored."
            ) from error
        reader.drain()
        if reader.digest.hexdigest() != self.manifest["members"][MEDIA]["sha256"]:
            raise self._mismatch(MEDIA)
        return files


# --- Restoring --------------------------------------------------------------------------------


@dataclass
class Restored:
    tables: int
    rows: int
    files: int
    kept_files: int
    seconds: float
    notes: list[str]


def database_objects(access: Access) -> list[tuple[str, str]]:
    """What the database holds besides PostgreSQL's own (kind, name): nothing in a new one."""
    connection = access.connect("restore (check)")
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT kind, name FROM ({OBJECTS}) o ORDER BY rank, name")  # noqa: S608 - our constant
            return [(str(kind), str(name)) for kind, name in cursor.fetchall()]
    finally:
        connection.close()


def role_problems(access: Access, manifest: dict[str, Any]) -> list[str]:
    """Roles the archive names that this cluster lacks, or owners the restoring role cannot act
    for: a restore would fail on them half way, so it refuses first."""
    database = manifest.get("database") or {}
    roles, owners = list(database.get("roles") or []), list(database.get("owners") or [])
    connection = access.connect("restore (roles)")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [roles])
            present = {name for (name,) in cursor.fetchall()}
            problems = [f"the role {name} does not exist" for name in roles if name not in present]
            for owner in owners:
                if owner in present:
                    cursor.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", [owner])
                    if not cursor.fetchone()[0]:
                        problems.append(f"{access.user} cannot create objects owned by {owner}")
            return problems
    finally:
        connection.close()


def media_files(root: Path) -> int:
    return sum(1 for path in root.rglob("*") if path.is_file()) if root.is_dir() else 0


def check_target(backup: Backup, *, access: Access, media_root: Path | None, replace: bool) -> None:
    """Refuse, before anything is changed, a target that is not empty (unless replacing) or a
    cluster without the archive's roles."""
    problems = role_problems(access, backup.manifest)
    if problems:
        raise BackupError(
            "The archive's objects cannot be restored here: "
            + "; ".join(problems)
            + ". Roles live in the cluster, not in a database's dump: create them first (scripts/setup.sh's "
            "ensure_app_role makes betterwork and betterwork_loader). Nothing was restored."
        )
    if replace:
        return
    found = database_objects(access)
    if found:
        kinds: dict[str, int] = {}
        for kind, _ in found:
            kinds[kind] = kinds.get(kind, 0) + 1
        listed = ", ".join(f"{count} {kind}{'s' if count > 1 else ''}" for kind, count in kinds.items())
        names = ", ".join(name for _, name in found[:5]) + (", ..." if len(found) > 5 else "")
        raise BackupError(
            f"The database {access.dbname} is not empty: it holds {listed} ({names}). Restore into a "
            "new database, or give --replace to drop everything in it and restore the archive in its "
            "place. Nothing was restored."
        )
    if media_root is not None and backup.manifest.get("media") is not None and media_files(media_root):
        raise BackupError(
            f"MEDIA_ROOT ({media_root}) already holds {media_files(media_root):,} files. Give --replace to "
            "restore the archive's files over them, or --without-media. Nothing was restored."
        )


def restore_backup(
    backup: Backup, *, access: Access, media_root: Path | None, replace: bool, say: Say
) -> Restored:
    """Check the target, unpack and check the archive's members, restore the database in one
    transaction and only then move the media files into place."""
    started = time.perf_counter()
    manifest = backup.manifest
    check_target(backup, access=access, media_root=media_root, replace=replace)
    tool = tool_version(PG_RESTORE)
    tool_version(PSQL)
    dumped_by = manifest["database"].get("pg_dump_version", "")
    if _major(tool) < _major(dumped_by):
        raise BackupError(
            f"The archive was made by {dumped_by}; {tool} cannot read it. Nothing was restored."
        )
    with_media = media_root is not None and manifest.get("media") is not None
    work = Path(tempfile.mkdtemp(prefix="betterwork-restore-"))
    staging: Path | None = None
    try:
        dump = backup.extract_database(work / DATABASE)
        files = 0
        if with_media:
            assert media_root is not None  # noqa: S101 - for the type checker
            media_root.mkdir(parents=True, exist_ok=True)
            # Beside MEDIA_ROOT, on its file system: the files are moved in by renaming.
            staging = Path(tempfile.mkdtemp(prefix=f".{media_root.name}-restore-", dir=media_root.parent))
            files = backup.extract_media(staging)
        say(
            f"Restoring {backup.path.name} (made {manifest.get('created_at')} from {manifest['database']['name']}) "
            f"into {access.dbname} as {access.user}" + (", replacing what it holds" if replace else "")
        )
        restoring = time.perf_counter()
        _run_restore(dump, access=access, tables=manifest["tables"], replace=replace)
        tables = manifest["tables"]
        rows = sum(table["rows"] for table in tables.values())
        forced = sum(1 for table in tables.values() if table["force_rls"])
        policies = sum(len(table["policies"]) for table in tables.values())
        say(
            f"  database: {len(tables)} tables, {rows:,} rows in {time.perf_counter() - restoring:.1f} s; every "
            f"table's rows, owner and privileges equal the manifest's, {forced} with row-level security "
            f"forced and their {policies} policies"
        )
        analyzing = time.perf_counter()
        _analyze(access)
        say(f"  planner statistics gathered (ANALYZE) in {time.perf_counter() - analyzing:.1f} s")
        kept = 0
        if with_media and staging is not None and media_root is not None:
            kept = media_files(media_root)
            moved = _move_into(staging, media_root)
            kept -= moved[1]
            say(
                f"  media: {files:,} files into {media_root}"
                + (f" ({moved[1]:,} replaced, {kept:,} not in the archive left in place)" if replace else "")
            )
        elif manifest.get("media") is None:
            say("  media: the archive holds none (made with --without-media)")
        else:
            say("  media: left out (--without-media)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    notes = migration_notes(manifest.get("migrations") or {})
    return Restored(len(tables), rows, files, kept, time.perf_counter() - started, notes)


def _run_restore(dump: Path, *, access: Access, tables: dict[str, Any], replace: bool) -> None:
    """pg_restore writes the archive's SQL; psql runs it in one transaction between our drop
    (with --replace) and our check, so that it commits whole and right, or not at all."""
    before = ["SET client_min_messages = warning", f"SET lock_timeout = {_literal(LOCK_WAIT)}"]
    if replace:
        before.append(DROP_EVERYTHING)
    psql = [
        PSQL,
        "--no-psqlrc",
        "--quiet",
        "--single-transaction",
        "--set=ON_ERROR_STOP=1",
        *access.tool_args(),
        *[arg for statement in before for arg in ("--command", statement)],
        "--file=-",
        "--command",
        check_statement(tables),
    ]
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        writer = subprocess.Popen(  # noqa: S603 - PostgreSQL's own programs, arguments as lists
            [PG_RESTORE, "--file=-", str(dump)], stdout=subprocess.PIPE, stderr=restore_errors
        )
        runner = subprocess.Popen(  # noqa: S603
            psql,
            stdin=writer.stdout,
            stdout=subprocess.DEVNULL,
            stderr=psql_errors,
            env=access.tool_env("restore"),
        )
        assert writer.stdout is not None  # noqa: S101 - for the type checker
        writer.stdout.close()  # psql alone reads it now
        runner.wait()
        writer.wait()
        restore_errors.seek(0)
        psql_errors.seek(0)
        written, ran = (
            restore_errors.read().decode(errors="replace"),
            psql_errors.read().decode(errors="replace"),
        )
    if runner.returncode != 0:
        message = re.sub(r"^psql:[^:]*:\d+: ", "", _tail(ran), flags=re.MULTILINE)
        raise BackupError(
            f"The restore was rolled back, the database {access.dbname} is as it was:\n{message}"
            + (f"\npg_restore: {_tail(written)}" if writer.returncode != 0 else "")
        )
    if writer.returncode != 0:
        raise BackupError(f"pg_restore failed after the database was restored and checked:\n{_tail(written)}")


def _analyze(access: Access) -> None:
    """Planner statistics for the restored tables (a restore brings none)."""
    connection = access.connect("restore (analyze)")
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    finally:
        connection.close()


def _move_into(staging: Path, root: Path) -> tuple[int, int]:
    """Move every file from staging into root by renaming; (moved, of which replaced)."""
    moved = replaced = 0
    for path in sorted(staging.rglob("*")):
        if path.is_dir() or path.is_symlink():
            continue
        target = root / path.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        replaced += target.exists()
        os.replace(path, target)
        moved += 1
    return moved, replaced


# --- Migrations -------------------------------------------------------------------------------


def migration_notes(recorded: dict[str, str]) -> list[str]:
    """How the restored database's migrations stand against this code's: what to run next."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    leaves = dict(graph.leaf_nodes())
    unknown = sorted(f"{app}.{name}" for app, name in recorded.items() if (app, name) not in graph.nodes)
    behind = sorted(
        app
        for app, leaf in leaves.items()
        if recorded.get(app) != leaf and f"{app}.{recorded.get(app)}" not in unknown
    )
    notes = []
    if unknown:
        notes.append(
            "The archive's database has migrations this code does not know ("
            + ", ".join(unknown)
            + "): run the platform's version that made it, or a newer one."
        )
    if behind:
        notes.append(f"This code has newer migrations for {', '.join(behind)}: run manage.py migrate.")
    return notes
