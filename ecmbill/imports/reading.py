"""Reading a CSV or XLSX file into a header and text rows, with the line number of each row.

Every file is bounded before it can make memory grow: its size on disk, a CSV's line length
and number of values per row, an XLSX's uncompressed size, declared dimensions, rows and
columns. A file over a limit is refused with the limit in words; nothing is imported."""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import tempfile
import zipfile
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any, BinaryIO, cast, overload


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


# Shared strings beyond this many bytes of text wait in a temporary file, read back by offset.
STRINGS_IN_MEMORY = 4 * 1024 * 1024


class CompactStrings(Sequence[str]):
    """A workbook's shared strings as UTF-8 text one after another, with the end offset of
    each (4 bytes: the text is less than the 1 GB an XLSX may unpack to): a Python ``str``
    in a list takes 60 to 70 bytes for a short one. The text stays in memory up to
    ``STRINGS_IN_MEMORY`` bytes; beyond, it goes to an unnamed temporary file (in the system's
    temporary folder, like a large import's rows, and gone when closed) and each string is
    read back from it by offset, so a million distinct entry ids take 4 MiB of memory, not
    the 66 MiB of openpyxl's list. Read like that list: an index is a string's position,
    negative from the end."""

    def __init__(self, in_memory: int = STRINGS_IN_MEMORY) -> None:
        self._data = bytearray()
        self._ends = array("I")
        self._in_memory = in_memory
        self._file: BinaryIO | None = None
        self._size = 0

    def append(self, text: str) -> None:
        encoded = text.encode("utf-8", "surrogatepass")
        self._size += len(encoded)
        self._ends.append(self._size)
        if self._file is not None:
            self._file.write(encoded)
            return
        self._data += encoded
        if len(self._data) > self._in_memory:
            # Closed by ``close`` (when the sheet is read) or when collected.
            spill = tempfile.TemporaryFile(prefix="ecmbill-strings-")  # noqa: SIM115
            self._file = cast(BinaryIO, spill)
            self._file.write(self._data)
            self._data = bytearray()

    def finish(self) -> None:
        """Every string appended: what waits in the file's buffer is written."""
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self._ends)
        if not 0 <= index < len(self._ends):
            raise IndexError("shared string index out of range")
        start = self._ends[index - 1] if index else 0
        end = self._ends[index]
        if self._file is None:
            found = bytes(self._data[start:end])
        else:
            found = os.pread(self._file.fileno(), end - start, start)
        return found.decode("utf-8", "surrogatepass")


def _compact_string_table(source: IO[bytes], in_memory: int = STRINGS_IN_MEMORY) -> CompactStrings:
    """openpyxl's ``read_string_table`` (each ``<si>``'s text, runs joined, ``_x005F_``
    escapes undone as it does), into a ``CompactStrings``; each ``<si>`` is dropped from the
    parsed tree once read, so the tree never holds the whole table."""
    from openpyxl.cell.text import Text
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    tag = f"{{{SHEET_MAIN_NS}}}si"
    strings = CompactStrings(in_memory)
    events = iterparse(source, events=("start", "end"))
    _, root = next(events)
    for event, node in events:
        if event == "end" and node.tag == tag:
            strings.append(Text.from_tree(node).content.replace("x005F_", ""))
            root.clear()  # the <si> just read: the tree keeps nothing of it
    strings.finish()
    return strings


def _open_workbook(path: Path, *, compact: bool) -> Any:
    """openpyxl's workbook in read-only mode (what ``load_workbook(path, read_only=True)``
    does); ``compact``: its shared strings in a ``CompactStrings``, and its sheets opened
    without a pass over their rows."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet
    from openpyxl.xml.constants import SHARED_STRINGS

    class Sheet(ReadOnlyWorksheet):  # type: ignore[misc]
        def _get_size(self) -> None:
            """Not looked for: openpyxl parses the sheet up to its ``<dimension>``, and when
            there is none (openpyxl's own write-only files have none) that is every row, kept
            in a tree until the end: 84 MiB more at a million rows. The declared dimension
            was checked from the sheet's first bytes (``_check_xlsx``), and rows are read as
            wide as their cells."""

    class CompactReader(ExcelReader):  # type: ignore[misc]
        def read_strings(self) -> None:  # openpyxl's own, with the compact table
            found = self.package.find(SHARED_STRINGS)
            if found is not None:
                with self.archive.open(found.PartName[1:]) as source:
                    self.shared_strings = _compact_string_table(source)

        def read_worksheets(self) -> None:  # openpyxl's own in read-only mode, with Sheet
            for sheet, rel in self.parser.find_sheets():
                if rel.target not in self.valid_files:
                    continue
                if "chartsheet" in rel.Type:
                    self.read_chartsheet(sheet, rel)
                    continue
                found = Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
                found.sheet_state = sheet.state
                self.wb._sheets.append(found)

    reader = (CompactReader if compact else ExcelReader)(path, read_only=True, data_only=False)
    reader.read()
    return reader.wb


def _sheet_rows(book: Any, *, compact: bool) -> Iterator[tuple[object, ...]]:
    """The first sheet's rows as values, each only as wide as its last cell, a missing row
    as an empty one: what openpyxl's read-only ``iter_rows(values_only=True)`` gives once the
    declared dimension is reset. ``compact``: each parsed ``<row>`` is dropped from the tree
    once read (openpyxl clears it but keeps it in the tree: a million rows, a million empty
    elements), and so are the attributes of rows with a height or style."""
    sheet = book.worksheets[0]
    # Streamed row by row, each row only as wide as its cells: the declared dimension
    # (checked above) is not used to pad rows.
    sheet.reset_dimensions()
    if not compact:
        yield from sheet.iter_rows(values_only=True)
        return
    from openpyxl.worksheet._reader import ROW_TAG, WorkSheetParser
    from openpyxl.xml.functions import iterparse

    class RowParser(WorkSheetParser):  # type: ignore[misc]
        def parse(self) -> Iterator[tuple[int, list[dict[str, Any]]]]:
            parent = None
            for event, element in iterparse(self.source, events=("start", "end")):
                if event == "start":
                    if parent is None and element.tag == _SHEET_DATA_TAG:
                        parent = element
                elif element.tag == ROW_TAG:
                    row = self.parse_row(element)
                    self.row_dimensions.clear()
                    if parent is not None:
                        parent.clear()  # the <row> just read, its only child now
                    yield row

    with book._archive.open(sheet._worksheet_path) as source:
        parser = RowParser(
            source, sheet._shared_strings, data_only=book.data_only, epoch=book.epoch,
            date_formats=book._date_formats, timedelta_formats=book._timedelta_formats,
        )  # fmt: skip
        expected = 1
        for number, cells in parser.parse():
            for _ in range(expected, number):  # rows missing from the sheet
                yield ()
            if expected <= number:
                expected = number + 1
                yield _row_values(cells)


_SHEET_DATA_TAG = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheetData"


def _row_values(cells: list[dict[str, Any]]) -> tuple[object, ...]:
    """openpyxl's ``ReadOnlyWorksheet._get_row`` with ``values_only`` and no width given."""
    if not cells:
        return ()
    values: list[object] = [None] * cells[-1]["column"]
    for cell in cells:
        if 1 <= cell["column"] <= len(values):
            values[cell["column"] - 1] = cell["value"]
    return tuple(values)


def _xlsx_rows(path: Path, *, compact: bool = True) -> Iterator[tuple[str, ...] | RawRow]:
    """The header, then each row that is not blank, with its row number, streamed from the
    sheet (openpyxl's read-only mode) one row at a time. ``compact`` (always, but in the test
    that compares it with openpyxl's plain reading): the shared strings in one buffer and no
    parsed row kept, so memory does not grow with the file's rows or distinct strings."""
    try:
        book = _open_workbook(path, compact=compact)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise FileProblem(
            f"the spreadsheet is damaged or incomplete ({type(err).__name__})"
        ) from None
    width = -1
    try:
        count = 0
        for number, row in enumerate(_sheet_rows(book, compact=compact), start=1):
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
        for sheet in book.worksheets:
            getattr(getattr(sheet, "_shared_strings", None), "close", lambda: None)()
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
