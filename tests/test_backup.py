"""``manage.py backup`` and ``manage.py restore_backup``: a backup of the test database restored
into a new empty database holds every row of every table and every media file, keeps row-level
security forced with its policies and the application role's ownership, so that the application
still sees only its scope; archives that are not ours or were altered, and a database that is not
empty, are refused with nothing changed."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings

from betterwork import backups, tenancy
from betterwork.models import ImportRun, Role
from tests.model_factories import FactoryFactory, ProgrammeFactory, user_with_role

# The mark makes pytest-django create the test database even when this file runs alone; the
# data is committed by a module fixture (pg_dump reads over its own connection), then flushed.
pytestmark = [pytest.mark.slow, pytest.mark.django_db]

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
SHEET = b"Factory id,Name\nKH000101,Angkor Garments\n"
PHOTO_NAME = "evidence/kh/fire exit ü.png"


def _params(dbname: str, user: str | None = None) -> dict:
    db = connection.settings_dict
    return {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "user": user or db["USER"],
        "dbname": dbname,
    }


@contextmanager
def _cursor(dbname: str, user: str = "postgres"):
    """A cursor in that database, as a superuser (past row-level security) unless told otherwise."""
    db = psycopg2.connect(**_params(dbname, user))
    db.autocommit = True
    try:
        with db.cursor() as cursor:
            yield cursor
    finally:
        db.close()


def _counts(dbname: str) -> dict[str, int]:
    with _cursor(dbname) as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        found = {}
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            found[table] = cursor.fetchone()[0]
        return found


def _security(dbname: str) -> dict[str, tuple]:
    """Each table's owner, row-level security (enabled, forced) and policies with their rules."""
    with _cursor(dbname) as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_userbyid(c.relowner), c.relrowsecurity, c.relforcerowsecurity,"
            " coalesce(array_agg(p.polname || ':' || pg_get_expr(p.polqual, p.polrelid) || ':'"
            "   || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') ORDER BY p.polname)"
            "   FILTER (WHERE p.polname IS NOT NULL), '{}')"
            " FROM pg_class c LEFT JOIN pg_policy p ON p.polrelid = c.oid"
            " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' GROUP BY 1, 2, 3, 4"
        )
        return {name: tuple(rest) for name, *rest in cursor.fetchall()}


def _rows(dbname: str) -> dict[str, list]:
    with _cursor(dbname) as cursor:
        found = {}
        for name, query in {
            "factories": "SELECT id, programme_id, public_id, name FROM factories_factory ORDER BY id",
            "users": "SELECT id, email, password FROM betterwork_user ORDER BY id",
            "grants": "SELECT user_id, role, programme_id FROM betterwork_rolegrant ORDER BY id",
            "imports": "SELECT id, programme_id, filename, file, sha256 FROM betterwork_importrun ORDER BY id",
        }.items():
            cursor.execute(query)
            found[name] = cursor.fetchall()
        return found


def _restore(*args: str) -> str:
    out = io.StringIO()
    call_command("restore_backup", *args, stdout=out)
    return out.getvalue()


def _commit_data() -> dict:
    """Two programmes with factories and staff, an import's spreadsheet and an evidence photo."""
    kh = ProgrammeFactory(code="KH", name="Better Factories Cambodia", country="Cambodia")
    vn = ProgrammeFactory(code="VN", name="Better Work Vietnam", country="Vietnam")
    for n in range(3):
        FactoryFactory(programme=kh, name=f"Angkor Garments {n}", public_id=f"KH00010{n}")
    for n in range(2):
        FactoryFactory(programme=vn, name=f"Saigon Apparel {n}", public_id=f"VN00020{n}")
    manager = user_with_role(Role.PROGRAMME_MANAGER, kh)
    user_with_role(Role.ADVISOR, vn)
    with tenancy.scope({kh.pk}), transaction.atomic():
        run = ImportRun(
            programme=kh,
            kind="factories",
            filename="factories.csv",
            sha256=hashlib.sha256(SHEET).hexdigest(),
            created_by=manager,
        )
        run.file.save("factories.csv", ContentFile(SHEET), save=False)
        run.save()
    default_storage.save(PHOTO_NAME, ContentFile(PHOTO))
    return {"files": {run.file.name: SHEET, PHOTO_NAME: PHOTO}, "kh": kh.pk, "vn": vn.pk}


@pytest.fixture(scope="module")
def backed_up(django_db_setup, django_db_blocker, tmp_path_factory):
    """The data set committed, its files in MEDIA_ROOT, backed up; what the source database held,
    recorded; then the test database emptied again."""
    media = tmp_path_factory.mktemp("media")
    folder = tmp_path_factory.mktemp("backups")
    dbname = connection.settings_dict["NAME"]
    test_name = (connection.settings_dict.get("TEST") or {}).get("NAME")
    if dbname != test_name and not (test_name is None and dbname.startswith("test_")):
        pytest.fail(f"{dbname} is not the test database: this module commits data and flushes it after")
    with django_db_blocker.unblock():
        try:
            with override_settings(MEDIA_ROOT=media):
                made = _commit_data()
                out = io.StringIO()
                call_command("backup", "--output", str(folder), stdout=out)
            yield {
                **made,
                "archive": next(folder.glob("betterwork-*.tar")),
                "output": out.getvalue(),
                "counts": _counts(dbname),
                "security": _security(dbname),
                "rows": _rows(dbname),
            }
        finally:
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def restored(backed_up, django_db_blocker, tmp_path_factory):
    """A new database owned by the application role, as ``createdb`` leaves it, with the backup
    restored into it; its own media. A superuser drops it: after a restore, autovacuum may be
    working in it, and only a superuser may end that."""
    name = f"{connection.settings_dict['NAME']}_restore"
    media = tmp_path_factory.mktemp("restored-media") / "media"
    admin = psycopg2.connect(**_params("postgres", user="postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}" OWNER "{connection.settings_dict["USER"]}"')
    try:
        with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
            output = _restore(str(backed_up["archive"]), "--database-name", name)
        yield {"name": name, "media": media, "output": output}
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _manifest(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return json.load(tar.extractfile(backups.MANIFEST))


def test_the_archive_holds_the_dump_the_media_and_a_manifest_that_checks_them(backed_up):
    assert "as betterwork_loader" in backed_up["output"] and "Wrote" in backed_up["output"]
    archive = backed_up["archive"]
    assert archive.name.startswith("betterwork-") and archive.suffix == ".tar"
    assert archive.stat().st_mode & 0o777 == 0o600  # password hashes and personal data inside
    manifest = _manifest(archive)
    with tarfile.open(archive) as tar:
        assert tar.getnames() == [backups.MANIFEST, backups.DATABASE, backups.MEDIA]
        for name, facts in manifest["members"].items():
            assert hashlib.sha256(tar.extractfile(name).read()).hexdigest() == facts["sha256"]
        with tarfile.open(fileobj=tar.extractfile(backups.MEDIA)) as media:
            assert sorted(media.getnames()) == sorted(backed_up["files"])
    assert manifest["database"]["pg_dump_version"].startswith("pg_dump (PostgreSQL) ")
    assert manifest["database"]["owners"] == [connection.settings_dict["USER"]]
    assert manifest["media"]["files"] == 2
    # The latest migration of each app, as the database recorded them.
    leaves = dict(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes())
    assert manifest["migrations"]["betterwork"] == leaves["betterwork"]
    assert {table.removeprefix("public."): facts["rows"] for table, facts in manifest["tables"].items()} == (
        backed_up["counts"]
    )


def test_a_restored_backup_holds_every_row_and_file(backed_up, restored):
    assert "row-level security forced" in restored["output"], restored["output"]
    assert "media: 2 files" in restored["output"]
    assert _counts(restored["name"]) == backed_up["counts"]
    assert {row[2] for row in backed_up["rows"]["factories"]} >= {"KH000100", "KH000102", "VN000201"}
    assert _rows(restored["name"]) == backed_up["rows"]
    for name, content in backed_up["files"].items():
        assert (restored["media"] / name).read_bytes() == content
    with _cursor(restored["name"]) as cursor:
        # New rows get ids after the restored ones.
        cursor.execute(
            "SELECT last_value >= (SELECT max(id) FROM factories_factory) FROM factories_factory_id_seq"
        )
        assert cursor.fetchone()[0]


def test_the_restored_database_keeps_row_level_security_and_the_application_sees_only_its_scope(
    backed_up, restored
):
    security = _security(restored["name"])
    assert security == backed_up["security"]
    app_role = connection.settings_dict["USER"]
    assert security["factories_factory"][:3] == (app_role, True, True)
    assert {owner for owner, *_ in security.values()} == {app_role}
    assert (
        sum(1 for _, enabled, forced, policies in security.values() if enabled and forced and policies) > 40
    )

    with _cursor(restored["name"], user=app_role) as cursor:
        cursor.execute("SELECT count(*) FROM factories_factory")
        assert cursor.fetchone()[0] == 0  # no scope, no rows
        cursor.execute("BEGIN")
        cursor.execute("SELECT set_config('app.programme_ids', %s, true)", [str(backed_up["kh"])])
        cursor.execute("SELECT DISTINCT programme_id FROM factories_factory")
        assert cursor.fetchall() == [(backed_up["kh"],)]
        with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="row-level security"):
            cursor.execute(
                "UPDATE factories_factory SET programme_id = %s WHERE programme_id = %s",
                [backed_up["vn"], backed_up["kh"]],
            )
        cursor.execute("ROLLBACK")


def test_a_database_that_is_not_empty_is_refused_and_left_as_it_was(backed_up, restored, django_db_blocker):
    before = _counts(restored["name"]), _rows(restored["name"])
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=restored["media"]),
        pytest.raises(CommandError, match="is not empty: it holds") as refused,
    ):
        _restore(str(backed_up["archive"]), "--database-name", restored["name"])
    assert "--replace" in str(refused.value) and "Nothing was restored" in str(refused.value)
    assert (_counts(restored["name"]), _rows(restored["name"])) == before


def _altered(archive: Path, member: str, into: Path) -> Path:
    """A copy of the archive with one byte in the middle of a member changed."""
    shutil.copy(archive, into)
    with tarfile.open(into) as tar:
        found = tar.getmember(member)
    with into.open("r+b") as out:
        out.seek(found.offset_data + found.size // 2)
        byte = out.read(1)
        out.seek(-1, io.SEEK_CUR)
        out.write(bytes([byte[0] ^ 0xFF]))
    return into


@pytest.mark.parametrize("member", [backups.DATABASE, backups.MEDIA])
def test_an_altered_archive_is_refused_even_with_replace(
    backed_up, restored, django_db_blocker, tmp_path, member
):
    altered = _altered(backed_up["archive"], member, tmp_path / "altered.tar")
    before = _counts(restored["name"]), _rows(restored["name"])
    files = sorted(path for path in restored["media"].rglob("*"))
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=restored["media"]),
        pytest.raises(CommandError) as refused,
    ):
        _restore(str(altered), "--database-name", restored["name"], "--replace")
    assert f"The checksum of {member} in {altered} does not match its manifest" in str(refused.value)
    assert (_counts(restored["name"]), _rows(restored["name"])) == before
    assert sorted(path for path in restored["media"].rglob("*")) == files
    assert not list(restored["media"].parent.glob(".media-restore-*"))  # no unpacked files left behind


def test_a_restore_that_differs_from_the_manifest_is_rolled_back_leaving_the_old_database(
    backed_up, restored, django_db_blocker, tmp_path
):
    """The manifest says one more factory than the dump holds: the replacing restore runs whole,
    its check fails before the commit, and the database it was to replace is still there."""
    edited = tmp_path / "edited.tar"
    with tarfile.open(backed_up["archive"]) as source, tarfile.open(edited, "w") as out:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == backups.MANIFEST:
                manifest = json.loads(data)
                manifest["tables"]["public.factories_factory"]["rows"] += 1
                data = json.dumps(manifest).encode()
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    before = _counts(restored["name"]), _rows(restored["name"]), _security(restored["name"])
    files = {path: path.read_bytes() for path in restored["media"].rglob("*") if path.is_file()}
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=restored["media"]),
        pytest.raises(CommandError) as refused,
    ):
        _restore(str(edited), "--database-name", restored["name"], "--replace")
    message = str(refused.value)
    assert f"The restore was rolled back, the database {restored['name']} is as it was" in message
    assert "differ from the manifest: public.factories_factory (archive: " in message
    factories = backed_up["counts"]["factories_factory"]
    assert f'"rows": {factories + 1},' in message and f'"rows": {factories},' in message
    assert (_counts(restored["name"]), _rows(restored["name"]), _security(restored["name"])) == before
    assert {path: path.read_bytes() for path in restored["media"].rglob("*") if path.is_file()} == files


def test_files_that_are_not_backups_are_refused(tmp_path):
    text = tmp_path / "notes.tar"
    text.write_text("not an archive")
    with pytest.raises(
        CommandError, match=r"notes.tar is not a Betterwork backup .*: it is not a tar archive"
    ):
        _restore(str(text))
    other = tmp_path / "other.tar"
    with tarfile.open(other, "w") as tar:
        tar.add(text, arcname="notes.txt")
    with pytest.raises(
        CommandError, match=r"other.tar is not a Betterwork backup .*: it holds no manifest.json"
    ):
        _restore(str(other))
    with pytest.raises(CommandError, match="No such file"):
        _restore(str(tmp_path / "missing.tar"))


def test_replace_puts_the_archive_back_over_a_changed_database(backed_up, restored, django_db_blocker):
    with _cursor(restored["name"]) as cursor:
        cursor.execute("UPDATE factories_factory SET name = 'Renamed' WHERE public_id = 'KH000100'")
        cursor.execute("DELETE FROM django_migrations WHERE app = 'sessions'")
        # A table a later migration would have made: --replace drops what the archive lacks.
        cursor.execute("CREATE TABLE stray (id int)")
    stray_file = restored["media"] / "imports" / "stray.csv"
    stray_file.parent.mkdir(parents=True, exist_ok=True)
    stray_file.write_bytes(b"kept")
    (restored["media"] / PHOTO_NAME).write_bytes(b"changed")

    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=restored["media"]):
        output = _restore(str(backed_up["archive"]), "--database-name", restored["name"], "--replace")
    assert "replacing what it holds" in output and "2 replaced, 1 not in the archive left in place" in output
    assert _counts(restored["name"]) == backed_up["counts"]
    assert _rows(restored["name"]) == backed_up["rows"]
    assert _security(restored["name"]) == backed_up["security"]
    assert (restored["media"] / PHOTO_NAME).read_bytes() == PHOTO
    assert stray_file.read_bytes() == b"kept"
