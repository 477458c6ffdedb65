"""Spreadsheets in and out: read CSV/XLSX uploads into rows of text, parse them against column
specs with every problem reported by row, and write exports people can open safely in Excel.

No database here: ``betterwork.imports`` turns a parsed table into a preview and an
all-or-nothing import.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from itertools import batched, chain, islice
from pathlib import PurePath
from typing import IO, Any, Literal

from django.core.exceptions import ValidationError
from django.core.files import File
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# A 5 MB XLSX is a zip archive; this bounds what it may unpack to (a "zip bomb" stops here).
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_ERRORS = 500
DECODE_CHUNK = 1024 * 1024  # bytes of a file read at a time
EXTENSIONS = (".csv", ".xlsx")
CSV_DELIMITERS = (",", ";", "\t")

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Spreadsheet programs run a cell starting with one of these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NEUTRALISED = re.compile(r"^'[=+\-@\t\r]")

Format = Literal["csv", "xlsx"]


class SpreadsheetError(Exception):
    """The file cannot be read at all; the message is for the person who uploaded it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _unreadable(reason: str) -> SpreadsheetError:
    return SpreadsheetError(_("This file could not be read as CSV or XLSX: %(reason)s") % {"reason": reason})


def _too_many_rows(max_rows: int) -> SpreadsheetError:
    return SpreadsheetError(
        _("This file has more than %(max)s rows. Split it into smaller files.") % {"max": f"{max_rows:,}"}
    )


# --- Reading ------------------------------------------------------------------------------


Source = bytes | IO[bytes] | File  # a file's bytes, or the file open for reading (seekable)


def opened(source: Source) -> IO[bytes]:
    """The file to read, a chunk at a time, from its start."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(source)
    data = source.file if isinstance(source, File) else source
    if data is None:
        raise ValueError("The file is closed.")
    data.seek(0)
    return data


def chunks_of(data: IO[bytes]) -> Iterator[bytes]:
    """The file from its start, ``DECODE_CHUNK`` bytes at a time."""
    data.seek(0)
    while chunk := data.read(DECODE_CHUNK):
        yield chunk


def iter_table(
    source: Source, filename: str, *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS
) -> Iterator[list[str]]:
    """The first sheet of a CSV or XLSX file, row by row, as stripped text cells: a file of any
    size is read in memory the size of a row, a chunk of the file at a time.

    Empty rows come too (as empty lists) so that the row's place, counting from 1, is the row
    number the person sees in their spreadsheet program. Raises ``SpreadsheetError`` as soon as
    the file proves unreadable, too large or too long, which may be after many rows.
    """
    data = opened(source)
    size = data.seek(0, io.SEEK_END)
    data.seek(0)
    if size > max_bytes:
        raise SpreadsheetError(
            _("This file is larger than %(max)s MB. Split it into smaller files.")
            % {"max": max_bytes // (1024 * 1024)}
        )
    extension = PurePath(filename or "").suffix.lower()
    if extension == ".xls":
        raise _unreadable(_("the old .xls format is not supported; save it as .xlsx or .csv."))
    if extension not in EXTENSIONS:
        raise _unreadable(_("only .csv and .xlsx files are accepted."))
    if all(not chunk.strip() for chunk in chunks_of(data)):
        raise _unreadable(_("the file is empty."))
    return _rows_of(_csv_rows(data) if extension == ".csv" else _xlsx_rows(data), max_rows)


def _rows_of(raw_rows: Generator[Sequence[Any]], max_rows: int) -> Iterator[list[str]]:
    filled = 0
    with closing(raw_rows):  # stopping early (too many rows) closes the workbook at once
        for raw in raw_rows:
            row = [_cell_text(value) for value in raw]
            while row and row[-1] == "":
                row.pop()
            if row:
                filled += 1
                # The header row comes on top of max_rows rows of data.
                if filled > max_rows + 1:
                    raise _too_many_rows(max_rows)
            yield row
    if not filled:
        raise _unreadable(_("the file is empty."))


def read_table(
    source: Source, filename: str, *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS
) -> list[list[str]]:
    """The whole first sheet at once (``iter_table``), without the empty rows at its end."""
    rows = list(iter_table(source, filename, max_bytes=max_bytes, max_rows=max_rows))
    while rows and not rows[-1]:
        rows.pop()
    return rows


def _encoding(data: IO[bytes]) -> str:
    """How the text is encoded: UTF-16 with a byte order mark (Excel's "Unicode text"), else
    UTF-8, else the Windows code page older Excel versions save CSV in. Decoded a chunk at a time,
    to look at, not to keep."""
    data.seek(0)
    if data.read(2) in (b"\xff\xfe", b"\xfe\xff"):
        candidates = [("utf-16", _("the text is not valid UTF-16."))]
    else:
        candidates = [
            ("utf-8-sig", ""),
            ("cp1252", _("the text is neither UTF-8 nor Windows-1252; save it as CSV UTF-8.")),
        ]
    for encoding, failure in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for chunk in chunks_of(data):
                if "\x00" in decoder.decode(chunk):
                    raise _unreadable(_("this is not a text file."))
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            if failure:
                raise _unreadable(failure) from error
            continue
        data.seek(0)
        return encoding
    raise AssertionError("the last encoding tried reports its own failure")


def _sniff_delimiter(lines: Iterable[str]) -> str:
    """The separator used in the first non-empty line (Excel writes ';' where ',' is the
    decimal comma), counting only outside quoted text."""
    for line in lines:
        if line.strip():
            unquoted = re.sub(r'"[^"]*"', "", line)
            counts = {delimiter: unquoted.count(delimiter) for delimiter in CSV_DELIMITERS}
            best = max(CSV_DELIMITERS, key=lambda d: counts[d])
            return best if counts[best] else ","
    return ","


def _csv_rows(data: IO[bytes]) -> Generator[Sequence[Any]]:
    text = io.TextIOWrapper(data, encoding=_encoding(data), newline="")
    try:
        delimiter = _sniff_delimiter(line for line in text)
        text.seek(0)
        yield from csv.reader(text, delimiter=delimiter)
    except csv.Error as error:
        raise _unreadable(str(error)) from error
    finally:
        text.detach()  # the file is the caller's to close


def _xlsx_rows(data: IO[bytes]) -> Generator[Sequence[Any]]:
    # openpyxl itself parses XML with defusedxml (a dependency), which stops entity bombs.
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(data) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as error:
        raise _unreadable(_("it is not a valid XLSX file.")) from error
    if unpacked > MAX_UNPACKED_BYTES:
        raise _unreadable(_("its content is too large once unpacked."))
    try:
        data.seek(0)
        workbook = load_workbook(data, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise _unreadable(_("it is not a valid XLSX file.")) from error
    try:
        if not workbook.worksheets:
            raise _unreadable(_("it has no worksheet."))
        sheet = workbook.worksheets[0]
        # Some programs write a wrong size into the file; read what is really there.
        sheet.reset_dimensions()
        try:
            yield from sheet.iter_rows(values_only=True)
        except Exception as error:
            raise _unreadable(_("it is not a valid XLSX file.")) from error
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="minutes")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    # Undo the guard our own exports add, so that an exported file imports back unchanged.
    if _NEUTRALISED.match(text):
        text = text[1:]
    return text


# --- Columns and parsers ------------------------------------------------------------------


def parse_as_text(value: str) -> str:
    return value


@dataclass(frozen=True)
class Column:
    """One column of an import or export.

    ``parse`` turns the cell's text into a value or raises ``ValidationError``. It is also
    called with "" for an empty optional cell (or an optional column the file lacks), so each
    parser decides what "empty" means (``parse_int`` → None, ``parse_bool`` → False, ...).
    """

    key: str
    header: str | Promise
    parse: Callable[[str], Any] = parse_as_text
    required: bool = True
    aliases: tuple[str, ...] = ()


def parse_text(max_length: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > max_length:
            raise ValidationError(
                _("Use at most %(max)d characters (this has %(length)d).")
                % {"max": max_length, "length": len(value)}
            )
        return value

    return parse


_INTEGRAL = re.compile(r"^[+-]?\d+(\.0*)?$")


def parse_int(min_value: int | None = None, max_value: int | None = None) -> Callable[[str], int | None]:
    def parse(value: str) -> int | None:
        if value == "":
            return None
        compact = value.replace(" ", "").replace("\u00a0", "")
        if not _INTEGRAL.match(compact):
            raise ValidationError(_("“%(value)s” is not a whole number.") % {"value": value})
        number = int(compact.split(".")[0])
        if min_value is not None and number < min_value:
            raise ValidationError(_("Enter a number of at least %(min)d.") % {"min": min_value})
        if max_value is not None and number > max_value:
            raise ValidationError(_("Enter a number of at most %(max)d.") % {"max": max_value})
        return number

    return parse


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def parse_date(value: str) -> date | None:
    """ISO dates (also what ``read_table`` makes of XLSX date cells) or day/month/year."""
    if value == "":
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValidationError(
        _("“%(value)s” is not a date: write it as YYYY-MM-DD or DD/MM/YYYY.") % {"value": value}
    )


def _fold(value: Any) -> str:
    return " ".join(str(value).split()).casefold()


def parse_choice(choices: Iterable[tuple[Any, Any]]) -> Callable[[str], str]:
    """Accept a choice's stored value or its label (in the user's language or English)."""
    options = [(str(value), label) for value, label in choices]
    # Built per language on first use: parsers are made at import time, before any language is active.
    known: dict[str | None, dict[str, str]] = {}

    def spellings() -> dict[str, str]:
        language = translation.get_language()
        if language not in known:
            table: dict[str, str] = {}
            for stored, label in options:
                for name in (stored, label, _untranslated(label)):
                    table.setdefault(_fold(name), stored)
            known[language] = table
        return known[language]

    def parse(value: str) -> str:
        if value == "":
            return ""
        stored = spellings().get(_fold(value))
        if stored is None:
            raise ValidationError(
                _("“%(value)s” is not one of: %(allowed)s.")
                % {"value": value, "allowed": ", ".join(str(label) for _stored, label in options)}
            )
        return stored

    return parse


_TRUE = {"yes", "y", "true", "1", "x", "present"}
_FALSE = {"no", "n", "false", "0", "absent"}


def parse_bool(value: str) -> bool:
    """Yes/no in the usual spellings; an empty cell is no."""
    wanted = _fold(value)
    if wanted == "":
        return False
    if wanted in _TRUE or wanted in {_fold(_("yes")), _fold(_("present"))}:
        return True
    if wanted in _FALSE or wanted in {_fold(_("no")), _fold(_("absent"))}:
        return False
    raise ValidationError(_("“%(value)s” is not yes or no.") % {"value": value})


def _untranslated(text: Any) -> str:
    """A lazy label as written in the source (English), so that English headers and labels are
    understood whatever the user's language."""
    with translation.override(None):
        return str(text)


# --- Parsing a table ----------------------------------------------------------------------


@dataclass
class RowError:
    row: int  # as the person sees it: the header is row 1; 0 when about the whole file
    column: str  # the column's header, or "" for the whole row or file
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ParsedTable:
    rows: list[dict[str, Any]]  # rows that parsed cleanly: column keys plus "_row"
    errors: list[RowError]
    row_count: int = 0  # non-empty data rows in the file, valid or not
    header_errors: bool = False  # the header is unusable, so no row was parsed


def cap_errors(errors: list[RowError], more: int = 0) -> list[RowError]:
    """At most MAX_ERRORS errors, and a last one saying how many more there were (``more``:
    errors already left out)."""
    more += max(0, len(errors) - MAX_ERRORS)
    if not more:
        return errors
    return [
        *errors[:MAX_ERRORS],
        RowError(
            row=0,
            column="",
            message=ngettext("… and %(count)d more error", "… and %(count)d more errors", more)
            % {"count": more},
        ),
    ]


def _header_names(column: Column) -> set[str]:
    names = {_fold(column.header), _fold(_untranslated(column.header)), _fold(column.key)}
    names.update(_fold(alias) for alias in column.aliases)
    return names


def _normalise_header(cell: str) -> str:
    # A trailing "*" is how templates often mark required columns.
    return _fold(cell).rstrip("*").strip()


class ParsedStream:
    """A table parsed against ``columns`` as it is read: the header at once (``errors`` and
    ``header_errors`` say whether it is usable), then ``rows()`` yields each row that parses
    cleanly while keeping the first ``MAX_ERRORS`` problems of the others (``more_errors``
    counts the rest) and counting every non-empty row (``row_count``)."""

    def __init__(self, columns: Sequence[Column], table: Iterable[list[str]]) -> None:
        self.columns = columns
        self.errors: list[RowError] = []
        self.more_errors = 0
        self.row_count = 0
        self._table = enumerate(table, start=1)
        self._positions: dict[str, int] = {}
        self.header_errors = not self._read_header()

    def _read_header(self) -> bool:
        header_row, header = next(((n, row) for n, row in self._table if any(row)), (0, []))
        if not header_row:
            self.errors.append(RowError(0, "", _("The file is empty.")))
            return False
        names = {column.key: _header_names(column) for column in self.columns}
        for position, cell in enumerate(header):
            wanted = _normalise_header(cell)
            if not wanted:
                continue
            for column in self.columns:
                if wanted in names[column.key]:
                    if column.key in self._positions:
                        self.errors.append(
                            RowError(
                                header_row,
                                str(column.header),
                                _("The column “%(column)s” appears more than once.")
                                % {"column": column.header},
                            )
                        )
                    else:
                        self._positions[column.key] = position
                    break
        for column in self.columns:
            if column.required and column.key not in self._positions:
                self.errors.append(
                    RowError(
                        header_row,
                        "",
                        _("The column “%(column)s” is missing.") % {"column": column.header},
                    )
                )
        return not self.errors

    def _error(self, error: RowError) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)
        else:
            self.more_errors += 1

    def rows(self) -> Iterator[dict[str, Any]]:
        if self.header_errors:
            return
        positions = self._positions
        for number, cells in self._table:
            if not any(cells):
                continue
            self.row_count += 1
            parsed: dict[str, Any] = {"_row": number}
            row_ok = True
            for column in self.columns:
                at = positions.get(column.key)
                text = cells[at] if at is not None and at < len(cells) else ""
                if text == "" and column.required:
                    self._error(RowError(number, str(column.header), _("This value is required.")))
                    row_ok = False
                    parsed[column.key] = None
                    continue
                try:
                    parsed[column.key] = column.parse(text)
                except ValidationError as error:
                    self._error(
                        RowError(number, str(column.header), " ".join(str(m) for m in error.messages))
                    )
                    row_ok = False
                    parsed[column.key] = None
            if row_ok:
                yield parsed


def parse_table(columns: Sequence[Column], table: Iterable[list[str]]) -> ParsedTable:
    """Match the header to ``columns`` and parse every cell, collecting every problem."""
    stream = ParsedStream(columns, table)
    rows = list(stream.rows())
    return ParsedTable(
        rows=rows,
        errors=stream.errors if stream.header_errors else cap_errors(stream.errors, stream.more_errors),
        row_count=stream.row_count,
        header_errors=stream.header_errors,
    )


# --- Writing ------------------------------------------------------------------------------


WIDTH_SAMPLE = 200  # rows read to size an exported sheet's columns


def _headers(columns_or_headers: Sequence[Column | str | Promise]) -> list[str]:
    return [str(c.header) if isinstance(c, Column) else str(c) for c in columns_or_headers]


def _neutralise(text: str) -> str:
    """Make text that a spreadsheet program would run as a formula plain text again."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _export_value(value: Any) -> Any:
    """A cell value for either format: numbers and dates stay themselves, text is guarded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.make_naive(value)
        return value.replace(microsecond=0)
    if isinstance(value, (int, float, Decimal, date)):
        return value
    return _neutralise(str(value))


def _csv_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_table(
    columns_or_headers: Sequence[Column | str | Promise],
    rows: Iterable[Sequence[Any]],
    *,
    fmt: Format,
) -> tuple[bytes, str]:
    """The header and ``rows`` as a file: (content, content type)."""
    headers = _headers(columns_or_headers)
    if fmt == "csv":
        return _write_csv(headers, rows), CSV_CONTENT_TYPE
    if fmt == "xlsx":
        return _write_xlsx(headers, rows), XLSX_CONTENT_TYPE
    raise ValueError(f"Unknown spreadsheet format: {fmt!r}")


def _write_csv(headers: list[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_neutralise(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_text(_export_value(value)) for value in row])
    # With the byte order mark Excel reads the file as UTF-8 instead of the Windows code page.
    return buffer.getvalue().encode("utf-8-sig")


def stream_csv(
    filename_stem: str, columns: Sequence[Column | str | Promise], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """A CSV download written while it is sent, a few thousand rows at a time: for exports too
    large to build in memory first (the same cells as ``write_table``)."""

    def chunks() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([_neutralise(h) for h in _headers(columns)])
        yield buffer.getvalue().encode("utf-8-sig")
        for batch in batched(rows, 2000):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows([_csv_text(_export_value(value)) for value in row] for row in batch)
            yield buffer.getvalue().encode("utf-8")

    response = StreamingHttpResponse(chunks(), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{filename_stem}.csv"
    )
    return response


def _write_xlsx(headers: list[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A write-only workbook fed row by row: memory stays flat however many rows (only the first
    rows are held, to size the columns)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    remaining = iter(rows)
    head = [[_export_value(value) for value in row] for row in islice(remaining, WIDTH_SAMPLE)]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    # Write-only sheets take their layout before the first row.
    sheet.freeze_panes = "A2"
    for index, header in enumerate(headers):
        sample = [header, *(_csv_text(row[index]) for row in head if index < len(row))]
        width = min(max(len(text) for text in sample) + 2, 60)
        sheet.column_dimensions[get_column_letter(index + 1)].width = max(width, 10)
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=_neutralise(header))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for values in chain(head, ([_export_value(value) for value in row] for row in remaining)):
        cells = []
        for value in values:
            if isinstance(value, date):  # datetimes too: they need a number format to show as dates
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd hh:mm" if isinstance(value, datetime) else "yyyy-mm-dd"
                cells.append(cell)
            else:
                cells.append(value)  # plain values: far cheaper than a cell object each
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_response(
    filename_stem: str,
    columns: Sequence[Column | str | Promise],
    rows: Iterable[Sequence[Any]],
    fmt: Format,
) -> HttpResponse:
    """A download of ``rows`` as ``<filename_stem>.csv`` or ``.xlsx``."""
    content, content_type = write_table(columns, rows, fmt=fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{filename_stem}.{fmt}"
    )
    return response
