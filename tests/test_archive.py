"""A programme's archive: exported from the test database, restored into a new empty database
(migrated for the purpose) by ``manage.py restore_programme``, with every dashboard figure and
every row equal; a restore that cannot be whole leaves nothing behind."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection, transaction

from assessments.models import Assessment, Attachment
from betterwork import tenancy
from betterwork.models import Programme
from reporting.archive import (
    DERIVED,
    LEFT_OUT,
    ArchiveError,
    ArchiveReader,
    plan_parts,
    programme_models,
    write_archive,
)
from reporting.dashboard import figures

pytestmark = pytest.mark.slow
ROOT = Path(settings.BASE_DIR)
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _counts(cursor, programme_id: int) -> dict[str, int]:
    found = {}
    for model in programme_models():
        cursor.execute(
            f'SELECT count(*) FROM "{model._meta.db_table}" WHERE programme_id = %s', [programme_id]
        )
        found[model._meta.label_lower] = cursor.fetchone()[0]
    return found


@pytest.fixture(scope="module")
def archives(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo's KH and VN archives (KH with an attachment), their figures and row counts, made in
    a transaction that is rolled back: nothing stays in the test database."""
    folder = tmp_path_factory.mktemp("archives")
    made = {}
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO())
        call_command("rollups_rebuild", stdout=io.StringIO())
        for code in ("KH", "VN"):
            programme = Programme.objects.get(code=code)
            with tenancy.scope({programme.pk}):
                if code == "KH":
                    assessment = Assessment.objects.filter(programme=programme).order_by("pk").first()
                    attachment = Attachment(
                        programme=programme,
                        assessment=assessment,
                        original_name="fire exit.png",
                        content_type="image/png",
                        size=len(PHOTO),
                    )
                    attachment.file.save("x.png", ContentFile(PHOTO), save=False)
                    attachment.save()
                    made["photo"] = attachment.file.name
                path = folder / f"{code.lower()}.json.gz"
                with gzip.open(path, "wb") as out:
                    summary = write_archive(out, programme)
                with connection.cursor() as cursor:
                    counts = _counts(cursor, programme.pk)
                made[code] = {
                    "path": path,
                    "id": programme.pk,
                    "summary": summary,
                    "figures": figures(programme=programme, today=programme.today()),
                    "counts": counts,
                }
        transaction.set_rollback(True)
    return made


@pytest.fixture(scope="module")
def empty_database(tmp_path_factory):
    """A new database, migrated and holding nothing, with files of its own."""
    db = connection.settings_dict
    name = f"{db['NAME']}_restore"
    params = {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "dbname": "postgres",
    }
    admin = psycopg2.connect(**params)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    url = f"postgres://{db['USER']}@{params['host']}:{params['port']}/{name}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": url,
        "TEST_MEDIA_ROOT": str(tmp_path_factory.mktemp("restored-media")),
    }
    migrated = _manage(env, "migrate", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    yield {"env": env, "name": name, "params": {**params, "dbname": name}}
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own management commands
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


@contextmanager
def _restored(empty_database):
    """A superuser's cursor in the restored database: it sees past row-level security."""
    db = psycopg2.connect(**{**empty_database["params"], "user": "postgres"})
    try:
        with db.cursor() as cursor:
            yield cursor
    finally:
        db.close()


def _figures_there(empty_database, code: str) -> dict:
    script = (
        "import json; from betterwork import tenancy; from betterwork.models import Programme;"
        "from reporting.dashboard import figures; import datetime as dt;"
        f"p = Programme.objects.get(code='{code}'); d = dt.date.fromisoformat('{{today}}');"
        "from django.db import transaction\n"
        "with tenancy.scope({p.pk}), transaction.atomic(): print(json.dumps(figures(programme=p, today=d)))"
    )
    return script


def test_every_table_is_archived_derived_or_left_out_for_a_reason():
    shared = {"betterwork.user", "betterwork.rolegrant", "buyers.buyer", "training.coursetemplate"}
    shared |= {f"assessments.{m}" for m in ("cluster", "compliancepoint", "toolversion", "question")}
    own = {m._meta.label_lower for m in programme_models()}
    for model in apps.get_models():
        label = model._meta.label_lower
        assert label in own | shared | DERIVED | LEFT_OUT.keys() | {"betterwork.programme"}, label
    assert not own & (DERIVED | LEFT_OUT.keys())
    assert {"factories.factory", "assessments.answer", "advisory.planitem", "training.attendance"} <= own


def test_a_restored_programme_shows_every_dashboard_figure_and_row_again(archives, empty_database):
    kh = archives["KH"]
    assert kh["summary"].files == 1 and kh["summary"].figures > 1000
    restored = _manage(empty_database["env"], "restore_programme", str(kh["path"]))
    assert restored.returncode == 0, restored.stderr
    assert f"All {len(kh['figures']):,} dashboard figures equal the archive's" in restored.stdout

    # The figures, computed again by the test in the restored database, with the archive's day.
    with gzip.open(kh["path"], "rb") as source:
        header = ArchiveReader(source).header
    script = _figures_there(empty_database, "KH").replace("{today}", header.today.isoformat())
    shown = _manage(empty_database["env"], "shell", "-c", script)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout.strip().splitlines()[-1]) == json.loads(json.dumps(kh["figures"]))

    with _restored(empty_database) as cursor:
        # Every row, under its own id, and the restore on record.
        assert _counts(cursor, kh["id"]) == {
            **kh["counts"],
            "betterwork.auditevent": kh["counts"]["betterwork.auditevent"] + 1,
        }
        cursor.execute(
            "SELECT count(*) FROM factories_factory WHERE programme_id = %s AND public_id LIKE 'KH%%'",
            [kh["id"]],
        )
        assert cursor.fetchone()[0] == kh["counts"]["factories.factory"]
        cursor.execute("SELECT count(*) FROM reporting_countedassessment WHERE programme_id = %s", [kh["id"]])
        assert cursor.fetchone()[0] > 0  # the rollups were made again
        cursor.execute("SELECT password FROM betterwork_user")
        assert all(password.startswith("!") for (password,) in cursor.fetchall())  # no password travels
        cursor.execute(
            "SELECT action FROM betterwork_auditevent WHERE programme_id = %s ORDER BY id DESC LIMIT 1",
            [kh["id"]],
        )
        assert cursor.fetchone()[0] == "programme.restored"
        # New rows get ids after the restored ones.
        cursor.execute(
            "SELECT last_value >= (SELECT max(id) FROM factories_factory) FROM factories_factory_id_seq"
        )
        assert cursor.fetchone()[0]
    photo = Path(empty_database["env"]["TEST_MEDIA_ROOT"]) / archives["photo"]
    assert photo.read_bytes() == PHOTO


def _row_totals(empty_database) -> dict[str, int]:
    with _restored(empty_database) as cursor:
        found = {}
        for model in [*programme_models(), Programme, apps.get_model("betterwork", "User")]:
            cursor.execute(f'SELECT count(*) FROM "{model._meta.db_table}"')
            found[model._meta.label_lower] = cursor.fetchone()[0]
        return found


def test_a_restore_never_overwrites_a_programme(archives, empty_database):
    before = _row_totals(empty_database)
    again = _manage(empty_database["env"], "restore_programme", str(archives["KH"]["path"]))
    assert again.returncode == 1
    assert "already holds the programme KH" in again.stderr
    assert _row_totals(empty_database) == before


def _edited(path: Path, edit, into: Path) -> Path:
    with gzip.open(path, "rt") as source:
        document = json.load(source)
    edit(document)
    into.write_text(json.dumps(document))
    return into


def test_a_restore_whose_figures_differ_is_undone_whole(archives, empty_database, tmp_path):
    """VN's whole archive loads, but one figure is not what the archive says: the restore takes
    away every row and file it wrote (the next test restores VN under the same ids)."""
    before = _row_totals(empty_database)

    def edit(document):
        document["figures"]["all: factories_enrolled"] += 1

    bad = _edited(archives["VN"]["path"], edit, tmp_path / "vn.json")
    refused = _manage(empty_database["env"], "restore_programme", str(bad))
    assert refused.returncode == 1, refused.stdout
    assert "differs from the archive's in 1 figure, so the restore was undone" in refused.stderr
    assert "all: factories_enrolled" in refused.stderr
    assert _row_totals(empty_database) == before


def test_a_shared_row_that_is_another_in_the_database_stops_the_restore(archives, empty_database, tmp_path):
    before = _row_totals(empty_database)

    def edit(document):
        for table in document["tables"]:
            if table["model"] == "assessments.cluster":
                table["rows"][0][table["columns"].index("code")] = "ELSEWHERE"

    bad = _edited(archives["VN"]["path"], edit, tmp_path / "vn.json")
    refused = _manage(empty_database["env"], "restore_programme", str(bad))
    assert refused.returncode == 1
    assert "is not the archive's" in refused.stderr and "ELSEWHERE" in refused.stderr
    assert _row_totals(empty_database) == before


def test_rows_whose_ids_are_taken_stop_the_restore_with_a_reason(archives, empty_database, tmp_path):
    before = _row_totals(empty_database)

    def edit(document):
        document["programme"] = "KX"
        for table in document["tables"]:
            if table["model"] == "betterwork.programme":
                table["rows"][0][table["columns"].index("code")] = "KX"

    bad = _edited(archives["KH"]["path"], edit, tmp_path / "kx.json")
    refused = _manage(empty_database["env"], "restore_programme", str(bad))
    assert refused.returncode == 1
    assert "collide with rows already in this database" in refused.stderr
    assert _row_totals(empty_database) == before


def test_a_second_programme_keeps_the_shared_rows_already_there(archives, empty_database):
    restored = _manage(empty_database["env"], "restore_programme", str(archives["VN"]["path"]))
    assert restored.returncode == 0, restored.stderr
    assert "shared rows were already here" in restored.stdout
    assert "(0 shared rows" not in restored.stdout  # the compliance tool's clusters, at least
    with _restored(empty_database) as cursor:
        vn = archives["VN"]["counts"]
        assert _counts(cursor, archives["VN"]["id"]) == {
            **vn,
            "betterwork.auditevent": vn["betterwork.auditevent"] + 1,
        }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe not json", "not valid JSON"),
        (b'["a list"]', "does not start with a JSON object"),
        (b'{"format": "something else", "tables": []}', "not a programme archive"),
        (b'{"format": "betterwork-programme-archive", "version": 99, "tables": []}', "version 99"),
        (b'{"format": "betterwork-programme-archive", "version": 1, "programme": "KH"', "ends in the middle"),
    ],
)
def test_what_is_not_an_archive_is_refused_with_a_reason(content, message):
    with pytest.raises(ArchiveError, match=message):
        ArchiveReader(io.BytesIO(content))


@pytest.mark.django_db
def test_the_archive_follows_shared_rows_to_their_end():
    """A tool version brings every question, a question its compliance point and cluster."""
    call_command("seed_demo", stdout=io.StringIO())
    programme = Programme.objects.get(code="JO")
    with tenancy.scope({programme.pk}), transaction.atomic():
        parts = {p.label: p for p in plan_parts(programme) if p.shared}
        question = apps.get_model("assessments", "Question")
        in_versions = set(
            question.objects.filter(version_id__in=parts["assessments.toolversion"].ids).values_list(
                "id", flat=True
            )
        )
        assert in_versions and in_versions <= parts["assessments.question"].ids
        points = set(
            question.objects.filter(id__in=parts["assessments.question"].ids).values_list(
                "point_id", flat=True
            )
        )
        assert points <= parts["assessments.compliancepoint"].ids
        grants = apps.get_model("betterwork", "RoleGrant").objects.filter(
            id__in=parts["betterwork.rolegrant"].ids
        )
        assert all(g.programme_id is None and g.buyer_id in parts["buyers.buyer"].ids for g in grants)
        assert {g.user_id for g in grants} <= parts["betterwork.user"].ids
