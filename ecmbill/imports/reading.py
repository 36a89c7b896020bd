"""Reading a CSV or XLSX file into a header and text rows, with the line number of each row."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path


class FileProblem(Exception):
    """The file cannot be read at all; nothing is imported."""


@dataclass(frozen=True)
class RawRow:
    line: int
    values: tuple[str, ...]


@dataclass(frozen=True)
class RawTable:
    header: tuple[str, ...]
    rows: tuple[RawRow, ...]


def read_table(path: Path) -> RawTable:
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
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
        rows = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue  # blank lines are layout, not data
            rows.append(RawRow(reader.line_num, tuple(values)))
    except csv.Error as err:
        raise FileProblem(f"line {reader.line_num}: the CSV is malformed ({err})") from None
    return RawTable(tuple(header), tuple(rows))


def _read_xlsx(data: bytes) -> RawTable:
    from openpyxl import load_workbook  # imported late: only spreadsheet imports pay for it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise FileProblem(
            f"the spreadsheet is damaged or incomplete ({type(err).__name__})"
        ) from None
    try:
        sheet = book.worksheets[0]
        raw = [tuple(_cell_text(cell) for cell in row) for row in sheet.iter_rows(values_only=True)]
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as err:
        raise FileProblem(
            f"the spreadsheet is damaged or incomplete ({type(err).__name__})"
        ) from None
    finally:
        book.close()
    numbered = [
        (number, values)
        for number, values in enumerate(raw, start=1)
        if any(v.strip() for v in values)
    ]
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
