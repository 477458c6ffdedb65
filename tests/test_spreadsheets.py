"""Spreadsheet import and export: files read as people make them, every problem reported by the
row number they see, exports that cannot run formulas, and imports that write all rows or none."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from betterwork import spreadsheets, tenancy
from betterwork.forms import SpreadsheetUploadForm
from betterwork.imports import BaseImporter, RowsInvalid, import_apply, import_preview, import_run_for
from betterwork.models import AuditEvent, ImportRun, Notification, Programme, User
from betterwork.permissions import Principal
from betterwork.spreadsheets import (
    Column,
    RowError,
    SpreadsheetError,
    parse_bool,
    parse_choice,
    parse_date,
    parse_int,
    parse_table,
    parse_text,
    read_table,
    write_table,
)

PEOPLE = [
    Column("name", "Name", parse_text(50)),
    Column("born", "Date of birth", parse_date),
    Column("workers", "Workers", parse_int(min_value=0), aliases=("headcount",)),
    Column(
        "sector", "Sector", parse_choice([("garment", "Garment"), ("footwear", "Footwear")]), required=False
    ),
    Column("present", "Present", parse_bool, required=False),
]


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def parse_csv(text: str, columns=PEOPLE):
    return parse_table(columns, read_table(csv_bytes(text), "people.csv"))


def errors_of(parsed) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.message) for e in parsed.errors]


# --- Reading ------------------------------------------------------------------------------


def test_csv_with_semicolons_and_a_byte_order_mark():
    content = '\ufeffName;Workers;Sector\r\nSok Dara; 12 ;Garment\r\n"Lim; Chan";3;footwear\r\n'.encode()
    assert read_table(content, "people.CSV") == [
        ["Name", "Workers", "Sector"],
        ["Sok Dara", "12", "Garment"],
        ["Lim; Chan", "3", "footwear"],
    ]


def test_tab_separated_and_utf16_text_from_excel():
    assert read_table(b"Name\tWorkers\nA\t1\n", "x.csv") == [["Name", "Workers"], ["A", "1"]]
    assert read_table("Name\tWorkers\nរ\t1\n".encode("utf-16"), "x.csv") == [["Name", "Workers"], ["រ", "1"]]


def test_windows_code_page_is_the_fallback():
    content = "Name,City\nJosé Núñez,Zürich – Nord\n".encode("cp1252")
    assert read_table(content, "people.csv")[1] == ["José Núñez", "Zürich – Nord"]


def test_xlsx_round_trip_keeps_dates_and_numbers():
    rows = [
        ["Sok Dara", dt.date(1990, 3, 2), 12, "garment", True],
        ["Lim Chan", dt.datetime(1985, 12, 31, 8, 30), 0, "", False],
    ]
    content, content_type = write_table(PEOPLE, rows, fmt="xlsx")
    assert content_type == spreadsheets.XLSX_CONTENT_TYPE

    table = read_table(content, "people.xlsx")
    assert table == [
        ["Name", "Date of birth", "Workers", "Sector", "Present"],
        ["Sok Dara", "1990-03-02", "12", "garment", "yes"],
        ["Lim Chan", "1985-12-31", "0", "", "no"],
    ]
    parsed = parse_table(PEOPLE, table)
    assert parsed.errors == []
    assert parsed.rows[0] == {
        "_row": 2,
        "name": "Sok Dara",
        "born": dt.date(1990, 3, 2),
        "workers": 12,
        "sector": "garment",
        "present": True,
    }
    assert parsed.rows[1]["born"] == dt.date(1985, 12, 31) and parsed.rows[1]["present"] is False


def test_xlsx_written_elsewhere_with_floats_gaps_and_blank_rows():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Workers", None, "Date of birth"])
    sheet.append(["  Sok Dara ", 12.0, None, dt.datetime(1990, 3, 2)])
    sheet.append([])
    sheet.append(["Lim Chan", 7, None, "02/03/1991"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), "export.xlsx")
    assert table == [
        ["Name", "Workers", "", "Date of birth"],
        ["Sok Dara", "12", "", "1990-03-02"],
        [],
        ["Lim Chan", "7", "", "02/03/1991"],
    ]
    parsed = parse_table(PEOPLE, table)
    assert [r["_row"] for r in parsed.rows] == [2, 4]
    assert parsed.rows[1]["born"] == dt.date(1991, 3, 2)


@pytest.mark.parametrize(
    ("content", "filename", "reason"),
    [
        (b"Name\nA\n", "people.txt", "only .csv and .xlsx"),
        (b"\xd0\xcf\x11\xe0old", "people.xls", ".xls"),
        (b"PK\x03\x04 this is not really a zip", "people.xlsx", "not a valid XLSX"),
        (b"Name,Workers\nA,1\n", "people.xlsx", "not a valid XLSX"),
        (b"", "people.csv", "empty"),
        (b"\n , \n", "people.csv", "empty"),
        (b"\x81\x8d\x8f\x90\x9d", "people.csv", "neither UTF-8 nor Windows-1252"),
    ],
)
def test_unreadable_files_are_a_message_not_a_crash(content, filename, reason):
    with pytest.raises(SpreadsheetError) as raised:
        read_table(content, filename)
    assert reason in raised.value.message


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello")
    with pytest.raises(SpreadsheetError, match="not a valid XLSX"):
        read_table(buffer.getvalue(), "people.xlsx")


def test_too_many_rows_and_too_many_bytes():
    header = "Name,Workers\n"
    just_enough = header + "A,1\n" * spreadsheets.MAX_ROWS
    assert len(read_table(just_enough.encode(), "people.csv")) == spreadsheets.MAX_ROWS + 1
    with pytest.raises(SpreadsheetError, match="more than 20,000 rows"):
        read_table((just_enough + "B,2\n").encode(), "people.csv")
    with pytest.raises(SpreadsheetError, match="larger than 5 MB"):
        read_table(b"x" * (spreadsheets.MAX_BYTES + 1), "people.csv")


# --- Parsing ------------------------------------------------------------------------------


def test_headers_match_whatever_the_case_spacing_alias_or_required_mark():
    parsed = parse_csv("  NAME *,date   of BIRTH,HeadCount,Unknown column\nSok,1990-03-02,5,ignored\n")
    assert parsed.errors == []
    assert parsed.rows == [
        {"_row": 2, "name": "Sok", "born": dt.date(1990, 3, 2), "workers": 5, "sector": "", "present": False}
    ]


def test_each_missing_required_column_is_named_once():
    parsed = parse_csv("Name,Sector\nSok,Garment\nLim,Garment\n")
    assert errors_of(parsed) == [
        (1, "", "The column “Date of birth” is missing."),
        (1, "", "The column “Workers” is missing."),
    ]
    assert parsed.rows == []


def test_a_column_given_twice_is_an_error():
    parsed = parse_csv("Name,Workers,Date of birth,Headcount\nSok,1,1990-01-01,2\n")
    assert errors_of(parsed) == [(1, "Workers", "The column “Workers” appears more than once.")]


def test_row_numbers_are_those_the_user_sees_and_every_problem_is_reported():
    parsed = parse_csv(
        "Name,Date of birth,Workers,Sector,Present\n"  # row 1
        "Sok,1990-03-02,12,Garment,yes\n"  # row 2: fine
        ",,,,\n"  # row 3: empty, skipped
        "Lim,31/02/1990,twelve,Toys,maybe\n"  # row 4: four problems
        ",02/03/1991,-1,,\n"  # row 5: two problems
    )
    assert errors_of(parsed) == [
        (4, "Date of birth", "“31/02/1990” is not a date: write it as YYYY-MM-DD or DD/MM/YYYY."),
        (4, "Workers", "“twelve” is not a whole number."),
        (4, "Sector", "“Toys” is not one of: Garment, Footwear."),
        (4, "Present", "“maybe” is not yes or no."),
        (5, "Name", "This value is required."),
        (5, "Workers", "Enter a number of at least 0."),
    ]
    assert [row["_row"] for row in parsed.rows] == [2]
    assert parsed.row_count == 3


def test_a_leading_blank_row_moves_the_header_and_numbers_follow():
    parsed = parse_csv("\nName,Date of birth,Workers\nSok,1990-03-02,\n")
    assert errors_of(parsed) == [(3, "Workers", "This value is required.")]


def test_parsers():
    assert parse_text(3)("abc") == "abc"
    with pytest.raises(ValidationError, match="at most 3 characters"):
        parse_text(3)("abcd")
    assert parse_int()("1 200") == 1200 and parse_int()("12.0") == 12 and parse_int()("") is None
    with pytest.raises(ValidationError, match="at most 5"):
        parse_int(max_value=5)("6")
    assert (
        parse_date("2026-03-02") == parse_date("02/03/2026") == parse_date("2.3.2026") == dt.date(2026, 3, 2)
    )
    assert parse_date("") is None
    choose = parse_choice([("initial_advisory", "Initial advisory"), ("active", "Active")])
    assert choose("INITIAL   advisory") == choose("initial_advisory") == "initial_advisory"
    assert [parse_bool(v) for v in ("Yes", "x", "1", "TRUE", "present", "")] == [
        True,
        True,
        True,
        True,
        True,
        False,
    ]
    assert [parse_bool(v) for v in ("no", "0", "false", "Absent")] == [False] * 4


def test_choices_and_headers_are_understood_in_the_users_language_and_in_english():
    from django.utils import translation
    from django.utils.translation import gettext_lazy

    from betterwork.models import Role

    roles = [Column("role", gettext_lazy("Role"), parse_choice(Role.choices))]
    with translation.override("ar"):
        arabic_header, arabic_label = str(gettext_lazy("Role")), str(Role.ADVISOR.label)
        assert arabic_label != "Enterprise advisor"
        table = [[arabic_header], [arabic_label], ["enterprise ADVISOR"], ["team_leader"]]
        assert [row["role"] for row in parse_table(roles, table).rows] == [
            "advisor",
            "advisor",
            "team_leader",
        ]
        assert parse_table(roles, [["Role"], ["advisor"]]).errors == []


def test_errors_stop_at_the_cap_with_a_count_of_the_rest():
    text = "Name,Date of birth,Workers\n" + "Sok,1990-01-01,many\n" * 600
    parsed = parse_csv(text)
    assert len(parsed.errors) == spreadsheets.MAX_ERRORS + 1
    assert parsed.errors[-1] == RowError(0, "", "… and 100 more errors")


# --- Writing ------------------------------------------------------------------------------

DANGEROUS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def test_csv_export_neutralises_formulas_but_not_numbers():
    content, content_type = write_table(
        ["Text", "Number"], [[text, -5] for text in DANGEROUS] + [["plain", 3.5]], fmt="csv"
    )
    assert content_type.startswith("text/csv")
    assert content.startswith(b"\xef\xbb\xbf")  # Excel then reads UTF-8
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["Text", "Number"]
    assert [row[0] for row in rows[1:-1]] == ["'" + text for text in DANGEROUS]
    assert {row[1] for row in rows[1:-1]} == {"-5"}
    assert rows[-1] == ["plain", "3.5"]


def test_xlsx_export_neutralises_formulas_but_not_numbers():
    content, _type = write_table(["Text", "Number"], [[text, -5] for text in DANGEROUS], fmt="xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b
    for index, text in enumerate(DANGEROUS, start=2):
        assert sheet.cell(index, 1).data_type == "s"
        # XML stores a carriage return as a line feed; either way the cell is plain text.
        assert sheet.cell(index, 1).value == "'" + text.replace("\r", "\n")
        assert sheet.cell(index, 2).value == -5 and sheet.cell(index, 2).data_type == "n"
    # Imported back, the cells read as they were written.
    assert read_table(content, "back.xlsx")[1] == ['=HYPERLINK("http://evil.example","x")', "-5"]


def test_export_response_is_a_download():
    response = spreadsheets.export_response("attendance-2026-03", PEOPLE, [], "csv")
    assert response["Content-Disposition"] == 'attachment; filename="attendance-2026-03.csv"'
    assert response.content.decode("utf-8-sig").strip() == "Name,Date of birth,Workers,Sector,Present"


# --- The upload form ----------------------------------------------------------------------


def test_upload_form_checks_extension_and_size():
    form = SpreadsheetUploadForm(files={"spreadsheet": SimpleUploadedFile("list.txt", b"Name\n")})
    assert not form.is_valid() and "Upload a .csv or .xlsx file." in form.errors["spreadsheet"]
    big = SimpleUploadedFile("list.csv", b"x" * (spreadsheets.MAX_BYTES + 1))
    form = SpreadsheetUploadForm(files={"spreadsheet": big})
    assert not form.is_valid() and "larger than 5 MB" in form.errors["spreadsheet"][0]
    form = SpreadsheetUploadForm(files={"spreadsheet": SimpleUploadedFile("List.CSV", b"Name\nA\n")})
    assert form.is_valid()
    assert form.upload() == (b"Name\nA\n", "List.CSV")
    assert 'accept=".csv,.xlsx"' in str(form["spreadsheet"])


# --- Preview, then all or nothing --------------------------------------------------------


class InboxImporter(BaseImporter):
    """Imports messages into one user's inbox: a small stand-in for an app's importer."""

    kind = "tests.inbox"
    columns = (
        Column("subject", "Subject", parse_text(200)),
        Column("body", "Message", parse_text(1000), required=False),
    )

    def __init__(self, programme: Programme, *, fail_on: str = "") -> None:
        self.programme = programme
        self.fail_on = fail_on

    def check(self, *, rows: list[dict[str, Any]], target: User) -> list[RowError]:
        errors = []
        seen: set[str] = set()
        existing = set(
            Notification.objects.filter(
                recipient=target, subject__in=[r["subject"] for r in rows]
            ).values_list("subject", flat=True)
        )
        for row in rows:
            if row["subject"] in seen:
                errors.append(RowError(row["_row"], "Subject", "This subject is already in the file."))
            elif row["subject"] in existing:
                errors.append(RowError(row["_row"], "Subject", "This message is already in the inbox."))
            seen.add(row["subject"])
        return errors

    def apply(self, *, rows: list[dict[str, Any]], target: User, actor: Principal) -> dict[str, int]:
        for row in rows:
            if row["subject"] == self.fail_on:
                raise RowsInvalid([RowError(row["_row"], "Subject", "The inbox refused this message.")])
            Notification.objects.create(
                programme=self.programme, recipient=target, subject=row["subject"], body=row["body"]
            )
        return {"created": len(rows)}


GOOD_FILE = b"Subject,Message\nWelcome,Hello\nTraining on Monday,Bring your badge\nReminder,\n"


def as_user(user: User, in_programme: Programme, fn, /, **kwargs):
    """A service call as a request makes it: in the programme's scope and a transaction."""
    with tenancy.scope({in_programme.pk}), transaction.atomic():
        return fn(actor=Principal.for_user(user), **kwargs)


def count(model, programme: Programme) -> int:
    with tenancy.scope({programme.pk}), transaction.atomic():
        return model.objects.count()


def preview(user, programme, content=GOOD_FILE, filename="inbox.csv", **importer_options):
    return as_user(
        user,
        programme,
        import_preview,
        programme=programme,
        importer=InboxImporter(programme, **importer_options),
        target=user,
        content=content,
        filename=filename,
    )


def apply(user, programme, run, **importer_options):
    return as_user(
        user,
        programme,
        import_apply,
        run=run,
        importer=InboxImporter(programme, **importer_options),
        target=user,
    )


@pytest.mark.django_db
def test_preview_stores_the_run_and_nothing_else(kh, kh_manager):
    run = preview(kh_manager, kh, filename="C:\\Users\\sok\\Desktop\\inbox.csv")
    assert run.status == ImportRun.Status.PREVIEWED
    assert (run.row_count, run.errors, run.kind, run.target_id) == (3, [], "tests.inbox", str(kh_manager.pk))
    assert run.filename == "inbox.csv" and run.created_by == kh_manager
    assert count(Notification, kh) == 0
    assert count(AuditEvent, kh) == 0
    with tenancy.scope({kh.pk}), transaction.atomic():
        stored = ImportRun.objects.get(pk=run.pk)
    with stored.file.open("rb") as kept:  # kept in storage for the confirmation
        assert kept.read() == GOOD_FILE
    assert stored.file.name.startswith(f"imports/{kh.pk}/") and stored.file.name.endswith(".csv")


@pytest.mark.django_db
def test_apply_writes_every_row_and_one_audit_event_and_only_once(
    kh, kh_manager, django_capture_on_commit_callbacks
):
    previewed = preview(kh_manager, kh)
    kept = previewed.file.name
    with django_capture_on_commit_callbacks(execute=True):
        run = apply(kh_manager, kh, previewed)
    assert run.status == ImportRun.Status.APPLIED and run.applied_at is not None
    # The rows now live in their own tables: the upload is no longer kept.
    assert not run.file and not previewed.file.storage.exists(kept)
    assert run.summary == {"created": 3}
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert sorted(Notification.objects.values_list("subject", flat=True)) == [
            "Reminder",
            "Training on Monday",
            "Welcome",
        ]
        event = AuditEvent.objects.get(action="import.apply")
        assert event.object_id == str(run.pk) and event.actor == kh_manager
        assert event.after == {
            "kind": "tests.inbox",
            "target_id": str(kh_manager.pk),
            "filename": "inbox.csv",
            "sha256": run.sha256,
            "rows": 3,
            "created": 3,
        }
    with pytest.raises(ValidationError, match="already applied"):
        apply(kh_manager, kh, run)
    assert count(Notification, kh) == 3


@pytest.mark.django_db
def test_a_file_with_problems_is_rejected_at_preview_and_cannot_be_applied(kh, kh_manager):
    content = b"Subject,Message\nWelcome,Hi\n,No subject\nWelcome,Again\n"
    run = preview(kh_manager, kh, content=content)
    assert run.status == ImportRun.Status.REJECTED
    assert run.errors == [
        {"row": 3, "column": "Subject", "message": "This value is required."},
        {"row": 4, "column": "Subject", "message": "This subject is already in the file."},
    ]
    with pytest.raises(ValidationError, match="has errors"):
        apply(kh_manager, kh, run)
    assert count(Notification, kh) == 0


@pytest.mark.django_db
def test_an_unreadable_file_is_a_file_level_problem(kh, kh_manager):
    run = preview(kh_manager, kh, content=b"\x00\x01", filename="inbox.pdf")
    assert run.status == ImportRun.Status.REJECTED
    assert run.errors[0]["row"] == 0 and "only .csv and .xlsx" in run.errors[0]["message"]
    only_header = preview(kh_manager, kh, content=b"Subject,Message\n")
    assert only_header.errors == [{"row": 0, "column": "", "message": "The file has no rows to import."}]


@pytest.mark.django_db
def test_a_problem_found_while_writing_leaves_nothing_written(kh, kh_manager):
    run = preview(kh_manager, kh)
    run = apply(kh_manager, kh, run, fail_on="Reminder")  # the third row, after two were written
    assert run.status == ImportRun.Status.REJECTED
    assert run.errors == [{"row": 4, "column": "Subject", "message": "The inbox refused this message."}]
    assert count(Notification, kh) == 0
    assert count(AuditEvent, kh) == 0
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert ImportRun.objects.get(pk=run.pk).status == ImportRun.Status.REJECTED


@pytest.mark.django_db
def test_apply_checks_again_against_what_changed_since_the_preview(kh, kh_manager):
    run = preview(kh_manager, kh)
    with tenancy.scope({kh.pk}), transaction.atomic():
        Notification.objects.create(programme=kh, recipient=kh_manager, subject="Training on Monday")
    run = apply(kh_manager, kh, run)
    assert run.status == ImportRun.Status.REJECTED
    assert run.errors == [{"row": 3, "column": "Subject", "message": "This message is already in the inbox."}]
    assert count(Notification, kh) == 1


@pytest.mark.django_db
def test_a_run_applies_only_to_its_own_kind_and_target(kh, kh_manager, kh_advisor):
    run = preview(kh_manager, kh)
    other_target = InboxImporter(kh)
    with pytest.raises(PermissionDenied):
        as_user(kh_manager, kh, import_apply, run=run, importer=other_target, target=kh_advisor)
    other_kind = InboxImporter(kh)
    other_kind.kind = "tests.other"
    with pytest.raises(PermissionDenied):
        as_user(kh_manager, kh, import_apply, run=run, importer=other_kind, target=kh_manager)
    assert count(Notification, kh) == 0


@pytest.mark.django_db
def test_another_programme_cannot_read_or_apply_a_run(kh, vn, kh_manager, vn_manager):
    run = preview(kh_manager, kh)
    with tenancy.scope({kh.pk}), transaction.atomic():
        found = import_run_for(run_id=run.pk, kind="tests.inbox", target_id=str(kh_manager.pk))
        assert found == run
        assert import_run_for(run_id=run.pk, kind="tests.other", target_id=str(kh_manager.pk)) is None
    with tenancy.scope({vn.pk}), transaction.atomic():
        assert import_run_for(run_id=run.pk, kind="tests.inbox", target_id=str(kh_manager.pk)) is None
        # The database's own wall, with the application's filter off.
        assert not ImportRun.objects.unscoped(reason="test").filter(pk=run.pk).exists()
    with pytest.raises(PermissionDenied):
        as_user(vn_manager, vn, import_apply, run=run, importer=InboxImporter(vn), target=kh_manager)
    with pytest.raises(tenancy.ScopeMissing):
        import_run_for(run_id=run.pk, kind="tests.inbox", target_id=str(kh_manager.pk))
    assert count(Notification, kh) == 0


# --- The partials -------------------------------------------------------------------------


@pytest.mark.django_db
def test_preview_partial_lists_each_problem_or_says_all_is_well(kh, kh_manager):
    rejected = preview(kh_manager, kh, content=b"Subject,Message\n,x\nHi,\nHi,\n")
    html = render_to_string(
        "includes/import_preview.html", {"run": rejected, "columns": InboxImporter.columns}
    )
    assert "2 problems: nothing was imported. Fix them in the spreadsheet and upload it again." in html
    assert "This subject is already in the file." in html and '<th scope="col"' in html

    clean = preview(kh_manager, kh)
    html = render_to_string(
        "includes/import_preview.html",
        {"run": clean, "columns": InboxImporter.columns, "confirm_action": "/go/"},
    )
    assert "No problems found: 3 rows are ready to import." in html
    assert 'action="/go/"' in html and "Import 3 rows" in html


def test_upload_partial_has_a_labelled_input_the_columns_and_the_template_link():
    html = render_to_string(
        "includes/import_upload.html",
        {
            "form": SpreadsheetUploadForm(),
            "action": "/up/",
            "template_url": "/template.xlsx",
            "columns": PEOPLE,
        },
    )
    assert '<label for="id_spreadsheet">Spreadsheet (CSV or XLSX)' in html
    assert 'aria-describedby="id_spreadsheet_helptext id_spreadsheet_columns"' in html
    assert 'id="id_spreadsheet_columns"' in html and "Date of birth" in html and "(optional)" in html
    assert 'href="/template.xlsx"' in html and "Download a template" in html
    assert 'enctype="multipart/form-data"' in html


@pytest.mark.django_db
def test_an_upload_left_unconfirmed_expires_and_leaves_the_storage(
    kh, vn, kh_manager, vn_manager, settings, django_capture_on_commit_callbacks
):
    from betterwork.tasks import expire_unconfirmed_imports

    settings.IMPORT_FILES_KEPT_DAYS = 7
    stale, fresh = preview(kh_manager, kh), preview(kh_manager, kh)
    elsewhere = preview(vn_manager, vn)
    with tenancy.scope({kh.pk, vn.pk}), transaction.atomic():
        ImportRun.objects.filter(pk__in=[stale.pk, elsewhere.pk]).update(
            created_at=timezone.now() - dt.timedelta(days=8)
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_unconfirmed_imports() == {"KH": 1, "VN": 1}
    with tenancy.scope({kh.pk}), transaction.atomic():
        expired, kept = ImportRun.objects.get(pk=stale.pk), ImportRun.objects.get(pk=fresh.pk)
    assert expired.status == ImportRun.Status.REJECTED and not expired.file
    assert expired.errors[0]["message"] == "Not confirmed within 7 days: upload the file again to import it."
    assert not stale.file.storage.exists(stale.file.name)
    assert kept.status == ImportRun.Status.PREVIEWED and fresh.file.storage.exists(fresh.file.name)
    with pytest.raises(ValidationError, match="has errors"):
        apply(kh_manager, kh, expired)
