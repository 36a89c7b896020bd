"""Reading a CSV or XLSX file into a header and text rows, with the line number of each row.

Every file is bounded before it can make memory grow: its size on disk, a CSV's line length
and number of values per row, an XLSX's uncompressed size, declared dimensions, rows and
columns. A file over a limit is refused with the limit in words; nothing is imported."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import BinaryIO, cast


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


@dataclass
class StreamedTable:
    """A file's header and its rows, read one at a time as ``rows`` is iterated: a problem
    found further down the file (a malformed line, a row over a limit) raises ``FileProblem``
    from the iteration. ``expected`` is how many rows the file seems to hold, for progress."""

    header: tuple[str, ...]
    rows: Iterator[RawRow]
    expected: int

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()


def read_table(path: Path) -> RawTable:
    """The whole file at once (small files, tests); imports stream it (``open_table``)."""
    table = open_table(path)
    try:
        return RawTable(table.header, tuple(table.rows))
    finally:
        table.close()


def open_table(path: Path) -> StreamedTable:
    """The file's header, and its rows as they are read. The whole file is checked for what
    can be checked without keeping it (encoding, binary data, line length, an XLSX's sizes and
    declared dimensions) before the header is returned."""
    check_size(path, MAX_FILE_BYTES, "files")
    suffix = path.suffix.lower()
    if suffix not in {".xlsx", ".xlsm", ".csv", ".txt"}:
        raise FileProblem(f"'{path.suffix}' files are not supported: use .csv or .xlsx")
    try:
        if suffix in {".xlsx", ".xlsm"}:
            expected = _check_xlsx(path)
            stream = _xlsx_rows(path)
        else:
            encoding, expected = _check_csv(path)
            stream = _csv_rows(path, encoding)
    except OSError as err:
        raise FileProblem(f"cannot open the file ({err.strerror})") from None
    header = next(stream)
    assert isinstance(header, tuple)
    return StreamedTable(header, cast(Iterator[RawRow], stream), expected)


_UTF16 = (b"\xff\xfe", b"\xfe\xff")
_BLANK = b" \t\n\r\x0b\x0c"
# Bytes read at a time from one line: a line is kept whole only while it is short.
_PIECE = 1024 * 1024


def _check_csv(path: Path) -> tuple[str, int]:
    """The file's encoding and number of lines, after checking every line (read one at a
    time): UTF-8 text (or UTF-16 with its byte order mark), no binary data, no line longer
    than the limit. The same checks, in the same order, as on the whole text at once."""
    with path.open("rb") as file:
        if file.read(2) in _UTF16:
            return "utf-16", _check_text(path.read_bytes().decode("utf-16"))
        file.seek(0)
        filled = binary = False
        longest = number = 0
        while piece := file.readline(_PIECE):
            number += 1
            if number == 1 and piece.startswith(b"\xef\xbb\xbf"):
                piece = piece[3:]
            if len(piece) < _PIECE or piece.endswith(b"\n"):
                filled = filled or bool(piece.strip(_BLANK))
                binary = binary or b"\x00" in piece
                try:
                    length = len(piece.decode("utf-8").rstrip("\r\n"))
                except UnicodeDecodeError:
                    raise _not_utf8(number) from None
            else:
                length, full, nul = _long_line_length(file, piece, number)
                filled, binary = filled or full, binary or nul
            longest = max(longest, length)
    if not filled:
        raise FileProblem("the file is empty: it needs a header row")
    if binary:
        raise FileProblem("the file contains binary data: it is not a CSV file")
    _check_longest(longest)
    return "utf-8-sig", max(number - 1, 0)


def _long_line_length(file: BinaryIO, piece: bytes, number: int) -> tuple[int, bool, bool]:
    """A line longer than one piece, read piece by piece: its length in characters (without
    the line break), whether it holds anything but blanks, whether it holds a NUL byte."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    length = trailing = 0
    filled = binary = False
    while True:
        ended = piece.endswith(b"\n") or not piece
        filled = filled or bool(piece.strip(_BLANK))
        binary = binary or b"\x00" in piece
        try:
            text = decoder.decode(piece, final=ended)
        except UnicodeDecodeError:
            raise _not_utf8(number) from None
        length += len(text)
        kept = text.rstrip("\r\n")
        trailing = len(text) - len(kept) if kept else trailing + len(text)
        if ended:
            return length - trailing, filled, binary
        piece = file.readline(_PIECE)


def _not_utf8(line: int) -> FileProblem:
    return FileProblem(
        f"the file is not UTF-8 text (first bad byte on line {line}); in Excel, save it "
        "as 'CSV UTF-8'"
    )


def _check_text(text: str) -> int:
    if not text.strip():
        raise FileProblem("the file is empty: it needs a header row")
    if "\x00" in text:
        raise FileProblem("the file contains binary data: it is not a CSV file")
    lines = 0
    longest = 0
    for line in io.StringIO(text):
        lines += 1
        longest = max(longest, len(line.rstrip("\r\n")))
    _check_longest(longest)
    return max(lines - 1, 0)


def _check_longest(longest: int) -> None:
    if longest > MAX_LINE_CHARS:
        raise FileProblem(
            f"a line is {longest:,} characters long: lines longer than {MAX_LINE_CHARS:,} "
            "are refused (is this a CSV file?)"
        )


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[str, ...] | RawRow]:
    """The header, then each row that is not blank, with its line number."""
    with path.open(encoding=encoding, newline="") as file:
        reader = csv.reader(file, strict=True)
        try:
            yield tuple(next(reader))
            count = 0
            for values in reader:
                _within_limits(reader.line_num, len(values), count)
                if not any(v.strip() for v in values):
                    continue  # blank lines are layout, not data
                count += 1
                yield RawRow(reader.line_num, tuple(values))
        except csv.Error as err:
            raise FileProblem(f"line {reader.line_num}: the CSV is malformed ({err})") from None


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


def _check_xlsx(path: Path) -> int:
    """The zip's uncompressed size and ratio, and the first sheet's declared dimensions,
    checked from the zip's directory and the sheet's first bytes, before any sheet is read.
    Returns the number of rows the sheet declares (0 when it does not say)."""
    size = path.stat().st_size
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise FileProblem("the spreadsheet is damaged or incomplete (BadZipFile)") from None
    with archive:
        infos = archive.infolist()
        total = sum(info.file_size for info in infos)
        if total > MAX_XLSX_UNCOMPRESSED or total > MAX_XLSX_RATIO * max(size, 1):
            raise FileProblem(
                f"the spreadsheet unpacks to {total // (1024 * 1024):,} MB from "
                f"{max(size // 1024, 1):,} KB: refused (limit "
                f"{MAX_XLSX_UNCOMPRESSED // (1024 * 1024):,} MB, {MAX_XLSX_RATIO}× its size)"
            )
        sheets = sorted(
            info.filename
            for info in infos
            if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", info.filename)
        )
        if not sheets:
            return 0  # openpyxl names what is missing
        with archive.open(sheets[0]) as sheet:
            head = sheet.read(4096)
    found = _DIMENSION.search(head)
    if found is None or not found[3]:
        return 0
    rows, columns = int(found[4]), _column_number(found[3])
    if rows > MAX_ROWS + 1 or columns > MAX_COLUMNS:
        raise FileProblem(
            f"the sheet declares {rows:,} rows × {columns:,} columns: more than "
            f"{MAX_ROWS:,} rows or {MAX_COLUMNS} columns are refused"
        )
    return max(rows - 1, 0)


_XLSX_ERRORS = (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError)


def _xlsx_rows(path: Path) -> Iterator[tuple[str, ...] | RawRow]:
    """The header, then each row that is not blank, with its row number, streamed from the
    sheet (openpyxl's read-only mode) one row at a time."""
    from openpyxl import load_workbook  # imported late: only spreadsheet imports pay for it

    try:
        book = load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise FileProblem(
            f"the spreadsheet is damaged or incomplete ({type(err).__name__})"
        ) from None
    width = -1
    try:
        sheet = book.worksheets[0]
        # Streamed row by row, each row only as wide as its cells: the declared dimension
        # (checked above) is not used to pad rows.
        sheet.reset_dimensions()  # type: ignore[union-attr]
        count = 0
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            _within_limits(number, len(row), count)
            values = tuple(_cell_text(cell) for cell in row)
            if not any(v.strip() for v in values):
                continue
            count += 1
            if width < 0:
                width = len(values)
                while width and not values[width - 1].strip():
                    width -= 1
                yield values[:width]
                continue
            # A spreadsheet row simply ends where its last filled cell is (files written
            # without a <dimension> come back short): empty trailing cells are padded.
            fitted = values[:width] if not any(v.strip() for v in values[width:]) else values
            yield RawRow(number, tuple(fitted) + ("",) * (width - len(fitted)))
    except _XLSX_ERRORS as err:
        raise FileProblem(
            f"the spreadsheet is damaged or incomplete ({type(err).__name__})"
        ) from None
    finally:
        book.close()
    if width < 0:
        raise FileProblem("the spreadsheet is empty: it needs a header row")


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
