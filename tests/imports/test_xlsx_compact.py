"""A large XLSX is read in bounded memory (issue 14): its shared strings are kept in one
buffer (``CompactStrings``) instead of a list of Python strings, and each parsed row is
dropped once read. The rows must be exactly those of openpyxl's plain read-only reading:
shared strings (rich text runs, ``_x005F_`` escapes, non-ASCII), inline strings, numbers,
dates, times, booleans, empty cells, rows missing from the sheet and rows with a height."""

from __future__ import annotations

import os
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.reader.strings import read_string_table

from ecmbill.imports.reading import (
    STRINGS_IN_MEMORY,
    CompactStrings,
    RawRow,
    _compact_string_table,
    _open_workbook,
    _sheet_rows,
    _xlsx_rows,
)
from tests.imports.xlsx_shared import share_strings


def mixed_workbook(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["entry_id", "staff_id", "date", "minutes", "start", "note", "done", "extra"])
    sheet.append(["T-000001", "S1", date(2026, 10, 5), 50, time(9, 30), "Café visit", True])
    sheet.append(["T-000002", "S1", datetime(2026, 10, 6, 14, 5), 30.0, None, None, False])
    sheet.append(["T-000003", None, date(2026, 10, 7), 12.5, None, "RICH", None, "PLACE"])
    sheet.cell(row=6, column=1, value="T-000005")  # rows 5 missing from the sheet
    sheet.cell(row=6, column=3, value=datetime(2026, 10, 8))
    sheet.cell(row=6, column=6, value="tab_x005F_x0009_kept")
    sheet.append(["T-000001", "S2", date(2026, 10, 9), 45])  # a repeated shared string
    sheet.row_dimensions[3].height = 30  # a row with attributes beyond its number
    book.save(tmp := path.with_suffix(".inline.xlsx"))
    # openpyxl writes inline strings: shared here, as Excel stores text, but for one cell
    # left inline; and one shared string made rich text (runs), as other writers make them.
    assert share_strings(tmp, path, keep=frozenset({b"PLACE"})) == 17
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    strings = parts["xl/sharedStrings.xml"].decode()
    parts["xl/sharedStrings.xml"] = strings.replace(
        "<si><t>RICH</t></si>", "<si><r><t>Ri</t></r><r><rPr><b/></rPr><t>ch text</t></r></si>"
    ).encode()
    sheet_xml = parts["xl/worksheets/sheet1.xml"].decode()
    assert sheet_xml.count('t="s"') == 19 and sheet_xml.count('t="inlineStr"') == 1
    parts["xl/worksheets/sheet1.xml"] = sheet_xml.replace("PLACE", "inline ü").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    return path


def test_the_compact_reader_gives_the_rows_of_openpyxls_plain_reader(tmp_path: Path) -> None:
    path = mixed_workbook(tmp_path / "mixed.xlsx")
    compact_book, plain_book = (
        _open_workbook(path, compact=True),
        _open_workbook(path, compact=False),
    )
    try:
        typed = list(_sheet_rows(compact_book, compact=True))
        # (openpyxl gives a missing row as [], the compact reader as (): both are empty)
        assert typed == [tuple(row) for row in _sheet_rows(plain_book, compact=False)]
    finally:
        compact_book.close()
        plain_book.close()
    assert typed[3] == ("T-000003", None, datetime(2026, 10, 7), 12.5, None, "Rich text", None,
                        "inline ü")  # fmt: skip
    assert typed[4] == ()  # row 5 is not in the sheet
    rows = list(_xlsx_rows(path))
    assert rows == list(_xlsx_rows(path, compact=False))
    assert rows == [
        ("entry_id", "staff_id", "date", "minutes", "start", "note", "done", "extra"),
        RawRow(2, ("T-000001", "S1", "2026-10-05", "50", "09:30", "Café visit", "true", "")),
        RawRow(3, ("T-000002", "S1", "2026-10-06T14:05:00", "30", "", "", "false", "")),
        RawRow(4, ("T-000003", "", "2026-10-07", "12.5", "", "Rich text", "", "inline ü")),
        RawRow(6, ("T-000005", "", "2026-10-08", "", "", "tab_x0009_kept", "", "")),
        RawRow(7, ("T-000001", "S2", "2026-10-09", "45", "", "", "", "")),
    ]


@pytest.mark.parametrize("in_memory", [STRINGS_IN_MEMORY, 0], ids=["in memory", "in a file"])
def test_compact_strings_hold_what_openpyxls_string_table_holds(
    tmp_path: Path, in_memory: int
) -> None:
    path = mixed_workbook(tmp_path / "mixed.xlsx")
    with zipfile.ZipFile(path) as archive:
        with archive.open("xl/sharedStrings.xml") as source:
            plain = read_string_table(source)
        with archive.open("xl/sharedStrings.xml") as source:
            compact = _compact_string_table(source, in_memory)
    assert (compact._file is None) == (in_memory > 0)
    assert list(compact) == plain and len(compact) == len(plain) == 17
    assert compact[-1] == plain[-1] and compact[1:3] == plain[1:3]
    with pytest.raises(IndexError):
        compact[len(plain)]
    compact.close()


def test_a_million_shared_strings_keep_4_mib_in_memory() -> None:
    # Worked numbers: "T-0000000" to "T-0999999" are 9 bytes each: 9 MB of text, beyond the
    # 4 MiB kept in memory, so it goes to a temporary file; 4 MB of offsets stay. A list of
    # str objects takes about 66 MB (58 bytes each and 8 for the pointer).
    strings = CompactStrings()
    for n in range(1_000_000):
        strings.append(f"T-{n:07d}")
    strings.finish()
    assert len(strings) == 1_000_000 and strings[123_456] == "T-0123456"
    assert strings[0] == "T-0000000" and strings[-1] == "T-0999999"
    assert strings._file is not None and os.fstat(strings._file.fileno()).st_size == 9_000_000
    assert strings._data.__sizeof__() + strings._ends.__sizeof__() < 4_100_000
    strings.close()
