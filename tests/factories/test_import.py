"""Importing a factory list: the preview says what each row will do, the person chooses where a
row could be several factories, and the registry is updated whole or not at all."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from betterwork import tenancy
from betterwork.models import AuditEvent, ImportRun, Role
from factories.models import EnrolmentChange, Factory
from factories.services import make_public_id
from tests.model_factories import FactoryFactory, user_with_role

pytestmark = pytest.mark.django_db

HEADER = ["Programme", "Factory id", "Name", "Address", "Region or zone", "Female workers", "Male workers",
          "Migrant workers", "Union present", "Enrolment status", "Status since", "Buyers supplied"]  # fmt: skip


def sheet(rows, header=HEADER, name="factories.csv"):
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    data = io.BytesIO(out.getvalue().encode())
    data.name = name
    return data


def upload(client, rows, **kwargs):
    return client.post("/p/KH/factories/import/", {"spreadsheet": sheet(rows, **kwargs)})


def confirm(client, run, **decisions):
    data = {"run": run.pk, **{f"decide-{row[1:]}": value for row, value in decisions.items()}}
    return client.post("/p/KH/factories/import/", data)


def latest_run(kh):
    with tenancy.scope({kh.pk}), transaction.atomic():
        return ImportRun.objects.filter(kind="factories.registry").latest("pk")


def registry(kh):
    with tenancy.scope({kh.pk}), transaction.atomic():
        return list(Factory.objects.filter(programme=kh).values_list("name", flat=True))


@pytest.fixture
def manager_client(client, kh):
    client.force_login(user_with_role(Role.PROGRAMME_MANAGER, kh))
    return client


@pytest.fixture
def known(kh):
    """Three factories: two share a name at different addresses."""
    return {
        "angkor": FactoryFactory(
            programme=kh, name="Angkor Garment Co., Ltd.", address="12 Street 5, Phnom Penh", workers_female=800,
            workers_male=200, workers_migrant=0, legacy_id="BFC-0012",
        ),
        "mekong_a": FactoryFactory(programme=kh, name="Mekong Apparel", address="Kandal road 1", workers_migrant=0),
        "mekong_b": FactoryFactory(programme=kh, name="Mekong Apparel", address="Takeo road 9", workers_migrant=0),
    }  # fmt: skip


def test_the_preview_says_what_each_row_will_do_and_saves_nothing(manager_client, kh, known):
    angkor = known["angkor"]
    rows = [
        # By factory id: the workforce changes, empty cells change nothing.
        ["KH", angkor.public_id, "Angkor Garment Co., Ltd.", "", "", "900", "", "", "", "", "", ""],
        # By name and address, spelt differently: nothing to change.
        ["KH", "", "MEKONG APPAREL", "Kandal Road, 1", "", "", "", "", "", "", "", ""],
        # Two factories of this name, neither at this address: the person chooses.
        ["KH", "", "Mekong Apparel Ltd", "Svay Rieng", "", "", "", "", "", "", "", ""],
        ["KH", "", "Tonle Sap Textiles", "Siem Reap", "Siem Reap", "300", "100", "20", "yes", "Active",
         "2026-01-15", "Brand A; Brand B"],
    ]  # fmt: skip
    page = upload(manager_client, rows).content.decode()
    assert "No problems found: 4 rows are ready to import." in page
    run = latest_run(kh)
    actions = [(item["row"], item["action"]) for item in run.plan]
    assert actions == [(2, "update"), (3, "unchanged"), (4, "choose"), (5, "create")]
    assert run.plan[0]["changes"] == ["Female workers: 800 → 900"]
    assert run.plan[1]["record"] == known["mekong_a"].pk
    assert {c[0] for c in run.plan[2]["candidates"]} == {known["mekong_a"].pk, known["mekong_b"].pk}
    assert 'name="decide-4"' in page and "None of these: a new one" in page
    assert len(registry(kh)) == 3


def test_rows_that_are_the_same_factory_are_refused(manager_client, kh, known):
    angkor = known["angkor"]
    rows = [
        ["KH", angkor.public_id, "Angkor Garment", "", "", "", "", "", "", "", "", ""],
        ["KH", "", "angkor garment co ltd", "12 Street 5, Phnom Penh", "", "", "", "", "", "", "", ""],
    ]
    page = upload(manager_client, rows).content.decode()
    assert "This row is the same factory as row 2." in page
    assert latest_run(kh).status == ImportRun.Status.REJECTED


def test_every_problem_is_shown_and_nothing_is_saved(manager_client, kh, known):
    unknown_id = make_public_id("KH", 99999)
    rows = [
        ["VN", "", "Saigon Apparel", "", "", "", "", "", "", "", "", ""],
        ["KH", unknown_id, "Ghost", "", "", "", "", "", "", "", "", ""],
        ["KH", "", "Small Mill", "", "", "10", "5", "40", "", "", "", ""],
        ["KH", "", "Bad Status", "", "", "", "", "", "perhaps", "Dormant", "31/02/2026", ""],
        ["KH", "", "New Mill", "A street", "", "", "", "", "", "", "", ""],
        ["KH", "", "New Mill Co., Ltd.", "a street", "", "", "", "", "", "", "", ""],
    ]
    page = upload(manager_client, rows).content.decode()
    for message in (
        "This row is for programme VN; this import is for KH.",
        f"No factory of the programme has the id {unknown_id}.",
        "Migrant workers are counted within the workforce: at most 15 here.",
        "“perhaps” is not yes or no.",
        "“Dormant” is not one of",
        "“31/02/2026” is not a date",
        "This row registers the same factory as row 6 (same name and address).",
    ):
        assert message in page, message
    assert "nothing was imported" in page
    assert latest_run(kh).status == ImportRun.Status.REJECTED and len(registry(kh)) == 3


def test_confirming_applies_every_row_with_the_persons_choices(manager_client, kh, known):
    angkor, mekong_b = known["angkor"], known["mekong_b"]
    rows = [
        ["KH", angkor.public_id, "Angkor Garment Co., Ltd.", "", "", "900", "", "", "yes", "Active", "2026-03-01", ""],
        ["KH", "", "Mekong Apparel", "Takeo road 9 (new building)", "", "", "", "", "", "", "", "Brand C"],
        ["KH", "", "Mekong Apparel", "Svay Rieng", "", "", "", "", "", "", "", ""],
        ["KH", "", "Tonle Sap Textiles", "Siem Reap", "Siem Reap", "300", "100", "20", "yes", "Active",
         "2026-01-15", "Brand A; Brand B"],
    ]  # fmt: skip
    upload(manager_client, rows)
    run = latest_run(kh)
    waiting = confirm(manager_client, run, r3=str(mekong_b.pk)).content.decode()
    assert "Choose what row 4 is before importing." in waiting and 'name="decide-4"' in waiting
    assert latest_run(kh).status == ImportRun.Status.PREVIEWED and len(registry(kh)) == 3

    done = confirm(manager_client, run, r3=str(mekong_b.pk), r4="new")
    assert done.status_code == 302
    assert latest_run(kh).summary == {"created": 2, "updated": 2, "unchanged": 0}
    factories = registry(kh)
    assert len(factories) == 5
    with tenancy.scope({kh.pk}), transaction.atomic():
        angkor = Factory.objects.get(pk=angkor.pk)
        assert (angkor.workers_female, angkor.workers_male, angkor.union_present) == (900, 200, True)
        assert angkor.enrolment_status == "active" and str(angkor.status_changed_on) == "2026-03-01"
        assert Factory.objects.get(pk=mekong_b.pk).buyers_supplied == "Brand C"
        tonle = Factory.objects.get(name="Tonle Sap Textiles")
        assert tonle.public_id.startswith("KH") and tonle.buyers_supplied == "Brand A\nBrand B"
        assert (tonle.enrolment_status, str(tonle.enrolled_on)) == ("active", "2026-01-15")
        assert EnrolmentChange.objects.filter(factory=tonle, status="active").exists()
        assert EnrolmentChange.objects.filter(factory=angkor, status="active").exists()
        svay = Factory.objects.get(address="Svay Rieng")
        assert svay.name == "Mekong Apparel" and svay.pk not in {known["mekong_a"].pk, mekong_b.pk}
        events = set(
            AuditEvent.objects.filter(action__startswith="factory.").values_list("action", "object_id")
        )
        assert ("factory.create", str(tonle.pk)) in events and ("factory.update", str(angkor.pk)) in events
        assert AuditEvent.objects.filter(action="import.apply").count() == 1
    # The same file again changes nothing, and asks nothing: every row is now a known factory.
    upload(manager_client, [rows[0], rows[1], rows[3]])
    again = latest_run(kh)
    assert [item["action"] for item in again.plan] == ["unchanged", "unchanged", "unchanged"]


def test_a_registry_changed_since_the_preview_is_shown_again_not_applied(manager_client, kh, known):
    row = ["KH", "", "Angkor Garment Co. Ltd", "12 Street 5, Phnom Penh", "", "950", "", "", "", "", "", ""]
    upload(manager_client, [row])
    run = latest_run(kh)
    assert run.plan[0]["action"] == "update"
    with tenancy.scope({kh.pk}), transaction.atomic():
        Factory.objects.filter(pk=known["angkor"].pk).update(workers_female=950)
    page = confirm(manager_client, run).content.decode()
    assert "The data changed since the file was checked" in page
    run = latest_run(kh)
    assert run.status == ImportRun.Status.PREVIEWED and run.plan[0]["action"] == "unchanged"
    assert confirm(manager_client, run).status_code == 302


def test_an_export_imports_back_unchanged(manager_client, kh, known):
    exported = manager_client.get("/p/KH/factories/export/?format=xlsx")
    assert exported.status_code == 200
    workbook = load_workbook(io.BytesIO(exported.content), read_only=True)
    header = [cell.value for cell in next(workbook.active.iter_rows())]
    assert header[:4] == ["Programme", "Factory id", "Legacy id", "Name"]
    data = io.BytesIO(exported.content)
    data.name = "factories.xlsx"
    page = manager_client.post("/p/KH/factories/import/", {"spreadsheet": data}).content.decode()
    assert "No problems found: 3 rows are ready to import." in page
    assert [item["action"] for item in latest_run(kh).plan] == ["unchanged"] * 3
    template = manager_client.get("/p/KH/factories/export/?format=csv&template=1").content.decode("utf-8-sig")
    assert (
        template.splitlines() == [template.splitlines()[0]] and "Enrolment status".lower() in template.lower()
    )


def test_cells_that_spreadsheets_would_run_stay_text(manager_client, kh):
    upload(manager_client, [["KH", "", '=HYPERLINK("http://evil")', "", "", "", "", "", "", "", "", ""]])
    confirm(manager_client, latest_run(kh))
    assert '=HYPERLINK("http://evil")' in registry(kh)
    exported = manager_client.get("/p/KH/factories/export/?format=csv").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in exported


def test_unreadable_files_get_a_clear_error(manager_client, kh):
    huge = io.BytesIO(b"Name\n" + b"x" * (6 * 1024 * 1024))
    huge.name = "big.csv"
    page = manager_client.post("/p/KH/factories/import/", {"spreadsheet": huge}).content.decode()
    assert "larger than 5 MB" in page
    latin = io.BytesIO("Name,Address\nCaf\u00e9 \u0160 \u4e2d,x\n".encode("utf-16-le"))
    latin.name = "factories.csv"
    page = manager_client.post("/p/KH/factories/import/", {"spreadsheet": latin}).content.decode()
    assert "could not be read" in page or "is missing" in page
    page = upload(manager_client, [["KH", "x"]], header=["Programme", "Factory id"]).content.decode()
    assert "The column “Name” is missing." in page
    assert len(registry(kh)) == 0


def test_only_the_programmes_manager_imports_and_only_its_own_factories(client, kh, vn, known):
    client.force_login(user_with_role(Role.ADVISOR, kh))
    assert client.get("/p/KH/factories/import/").status_code == 404
    assert client.get("/p/KH/factories/export/").status_code == 200  # staff may export
    client.force_login(user_with_role(Role.PROGRAMME_MANAGER, vn))
    assert client.get("/p/KH/factories/import/").status_code == 404
    assert client.get("/p/KH/factories/export/").status_code == 404
    # A VN manager naming a KH factory's id in VN's own import finds nothing to update.
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, ["VN", known["angkor"].public_id, "Angkor", *[""] * 9]])
    data = io.BytesIO(out.getvalue().encode())
    data.name = "f.csv"
    page = client.post("/p/VN/factories/import/", {"spreadsheet": data}).content.decode()
    assert f"No factory of the programme has the id {known['angkor'].public_id}." in page
    client.force_login(user_with_role(Role.FACTORY, kh, factory=known["angkor"]))
    assert client.get("/p/KH/factories/export/").status_code == 404


def test_statements_do_not_grow_with_the_rows(manager_client, kh):
    def run_with(count, start):
        rows = [
            ["KH", "", f"Mill {n}", f"Road {n}", "", "10", "10", "", "", "", "", ""]
            for n in range(start, start + count)
        ]
        connection.queries_log.clear()  # a full log (it keeps the last 9,000) would count nothing
        with CaptureQueriesContext(connection) as preview:
            upload(manager_client, rows)
        counted = len(preview)  # now: the next request empties the log
        run = latest_run(kh)
        with CaptureQueriesContext(connection) as applying:
            assert confirm(manager_client, run).status_code == 302
        counted_too = len(applying)
        manager_client.get("/p/KH/factories/")  # shows the import's message
        return counted, counted_too

    manager_client.get("/p/KH/factories/import/")  # the user and programme are cached from here on
    few, many = run_with(3, 0), run_with(40, 100)
    assert few == many and few[0] > 0, (few, many)
    assert len(registry(kh)) == 43


def test_the_documented_example_imports(manager_client, kh):
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "factories.csv"
    data = io.BytesIO(example.read_bytes())
    data.name = example.name
    page = manager_client.post("/p/KH/factories/import/", {"spreadsheet": data}).content.decode()
    assert "No problems found: 2 rows are ready to import." in page
    assert confirm(manager_client, latest_run(kh)).status_code == 302
    assert sorted(registry(kh)) == ["Angkor Garment Co. Ltd.", "Mekong Footwear"]


def test_the_command_takes_choices_for_rows_that_could_be_several_factories(kh, known, tmp_path):
    from django.core.management import CommandError, call_command

    manager = user_with_role(Role.PROGRAMME_MANAGER, kh)
    path = tmp_path / "factories.csv"
    path.write_bytes(sheet([["KH", "", "Mekong Apparel", "Svay Rieng", *[""] * 8]]).getvalue())
    with pytest.raises(CommandError, match="Choose what row 2 is"):
        call_command(
            "import_factories", "KH", str(path), user=manager.email, apply=True, stdout=io.StringIO()
        )
    out = io.StringIO()
    call_command(
        "import_factories", "KH", str(path), user=manager.email, apply=True,
        decide=[f"2={known['mekong_b'].public_id}"], stdout=out,
    )  # fmt: skip
    assert "updated 1" in out.getvalue()
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert Factory.objects.get(pk=known["mekong_b"].pk).address == "Svay Rieng"
