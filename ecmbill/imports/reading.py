"""Reading a CSV or XLSX file into a header and text rows, with the line number of each row.

Every file is bounded before it can make memory grow: its size on disk, a CSV's line length
and number of values per row, an XLSX's uncompressed size, declared dimensions, rows and
columns. A file over a limit is refused with the limit in words; nothing is imported."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path


class FileProblem(Exception):
    """The file cannot be read at all; nothing is imported."""


# Limits far above any real file (a plan's roster of a few hundred thousand members; a
# provider's month of time) and far below what exhausts a server's memory.
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_ROWS = 2_000_000
MAX_COLUMNS = 256
MAX_LINE_CHARS = 64 * 1024
MAX_XLSX_UNCOMPRESSED = 1024 * 1024 * 1024
MAX_XLSX_RATIO = 500  # uncompressed ÷ compressed: a zip bomb's ratio is in the thousands
# X12 files (835 remittances, 834 enrollments): one plan's month is a few megabytes.
MAX_X12_BYTES = 64 * 1024 * 1024


def check_size(path: Path, limit: int, what: str) -> None:
    """Refuse a file larger than ``limit`` bytes before reading any of it."""
    try:
        size = path.stat().st_size
    except OSError as err:
        raise FileProblem(f"cannot open the file ({err.strerror})") from None
    if size > limit:
        raise FileProblem(
            f"the file is {size // (1024 * 1024)} MB: {what} larger than "
            f"{limit // (1024 * 1024)} MB are refused"
        )


@dataclass(frozen=True)
class RawRow:
    line: int
    values: tuple[str, ...]


@dataclass(frozen=True)
class RawTable:
    header: tuple[str, ...]
    rows: tuple[RawRow, ...]


def read_table(path: Path) -> RawTable:
    check_size(path, MAX_FILE_BYTES, "files")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise FileProblem(f"cannot open the file ({err.strerror})") from None
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return _read_xlsx(data)
    if path.suffix.lower() in {".csv", ".txt"}:
        return _read_csv(data)
    raise FileProblem(f"'{path.suffix}' files are not supported: use .csv or .xlsx")


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise FileProblem(
            f"the file is not UTF-8 text (first bad byte on line {line}); in Excel, save it "
            "as 'CSV UTF-8'"
        ) from None


def _read_csv(data: bytes) -> RawTable:
    if not data.strip():
        raise FileProblem("the file is empty: it needs a header row")
    text = _decode(data)
    if "\x00" in text:
        raise FileProblem("the file contains binary data: it is not a CSV file")
    longest = max((len(line.rstrip("\r\n")) for line in io.StringIO(text)), default=0)
    if longest > MAX_LINE_CHARS:
        raise FileProblem(
            f"a line is {longest:,} characters long: lines longer than {MAX_LINE_CHARS:,} "
            "are refused (is this a CSV file?)"
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
        rows: list[RawRow] = []
        for values in reader:
            _within_limits(reader.line_num, len(values), len(rows))
            if not any(v.strip() for v in values):
                continue  # blank lines are layout, not data
            rows.append(RawRow(reader.line_num, tuple(values)))
    except csv.Error as err:
        raise FileProblem(f"line {reader.line_num}: the CSV is malformed ({err})") from None
    return RawTable(tuple(header), tuple(rows))


def _within_limits(line: int, width: int, rows: int) -> None:
    if width > MAX_COLUMNS:
        raise FileProblem(f"line {line} has {width} values: more than {MAX_COLUMNS} are refused")
    if rows >= MAX_ROWS:
        raise FileProblem(f"the file has more than {MAX_ROWS:,} rows: split it")


_DIMENSION = re.compile(
    rb"<(?:\w+:)?dimension[^>]*\bref=\"([A-Z]*)([0-9]*)(?::([A-Z]+)([0-9]+))?\""
)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.decode():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _check_xlsx(data: bytes) -> None:
    """The zip's uncompressed size and ratio, and the first sheet's declared dimensions,
    checked from the zip's directory and the sheet's first bytes, before any sheet is read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise FileProblem("the spreadsheet is damaged or incomplete (BadZipFile)") from None
    with archive:
        infos = archive.infolist()
        total = sum(info.file_size for info in infos)
        if total > MAX_XLSX_UNCOMPRESSED or total > MAX_XLSX_RATIO * max(len(data), 1):
            raise FileProblem(
                f"the spreadsheet unpacks to {total // (1024 * 1024):,} MB from "
                f"{max(len(data) // 1024, 1):,} KB: refused (limit "
                f"{MAX_XLSX_UNCOMPRESSED // (1024 * 1024):,} MB, {MAX_XLSX_RATIO}× its size)"
            )
        sheets = sorted(
            info.filename
            for info in infos
            if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", info.filename)
        )
        if not sheets:
            return  # openpyxl names what is missing
        with archive.open(sheets[0]) as sheet:
            head = sheet.read(4096)
    found = _DIMENSION.search(head)
    if found is None or not found[3]:
        return
    rows, columns = int(found[4]), _column_number(found[3])
    if rows > MAX_ROWS + 1 or columns > MAX_COLUMNS:
        raise FileProblem(
            f"the sheet declares {rows:,} rows × {columns:,} columns: more than "
            f"{MAX_ROWS:,} rows or {MAX_COLUMNS} columns are refused"
        )


def _read_xlsx(data: bytes) -> RawTable:
    from openpyxl import load_workbook  # imported late: only spreadsheet imports pay for it

    _check_xlsx(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise FileProblem(
            f"the spreadsheet is damaged or incomplete ({type(err).__name__})"
        ) from None
    numbered: list[tuple[int, tuple[str, ...]]] = []
    try:
        sheet = book.worksheets[0]
        # Streamed row by row, each row only as wide as its cells: the declared dimension
        # (checked above) is not used to pad rows.
        sheet.reset_dimensions()  # type: ignore[union-attr]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            _within_limits(number, len(row), len(numbered))
            values = tuple(_cell_text(cell) for cell in row)
            if any(v.strip() for v in values):
                numbered.append((number, values))
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as err:
        raise FileProblem(
            f"the spreadsheet is damaged or incomplete ({type(err).__name__})"
        ) from None
    finally:
        book.close()
    if not numbered:
        raise FileProblem("the spreadsheet is empty: it needs a header row")
    (_, header), body = numbered[0], numbered[1:]
    width = len(header)
    while width and not header[width - 1].strip():
        width -= 1
    rows = []
    for number, values in body:
        # A spreadsheet row simply ends where its last filled cell is (files written without
        # a <dimension> come back short): empty trailing cells are padded, not an error.
        fitted = values[:width] if not any(v.strip() for v in values[width:]) else values
        rows.append(RawRow(number, tuple(fitted) + ("",) * (width - len(fitted))))
    return RawTable(tuple(header[:width]), tuple(rows))


def _cell_text(value: object) -> str:
    """Spreadsheet cells come typed; the row parsers read text, like from a CSV."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def width_problem(header: tuple[str, ...], row: RawRow) -> str | None:
    """Why a row cannot be read against the header, if its number of values differs."""
    if len(row.values) == len(header):
        return None
    return f"row has {len(row.values)} values but the header has {len(header)} columns"
