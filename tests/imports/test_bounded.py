"""Imports are bounded: a file over a limit is refused with the limit in words before it can
make memory grow (issue 14, item 4)."""

from __future__ import annotations

import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from ecmbill.imports import reading
from ecmbill.imports.reading import FileProblem, read_table
from ecmbill.remit.reader import RemitFileError, read_835

SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<dimension ref="A1:XFD1048576"/><sheetData>{rows}</sheetData></worksheet>'
)


ONE_CELL = '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>'


def bomb(path: Path, rows: str = ONE_CELL) -> Path:
    """The 1,655-byte kind of file of the issue: a real workbook whose sheet declares
    1,048,576 rows × 16,384 columns."""
    book = Workbook()
    book.save(path)
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["xl/worksheets/sheet1.xml"] = SHEET.format(rows=rows).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    return path


def test_an_xlsx_declaring_a_huge_sheet_is_refused_in_under_five_seconds(tmp_path: Path) -> None:
    path = bomb(tmp_path / "staff.xlsx")
    assert path.stat().st_size < 10_000
    tracemalloc.start()
    started = time.monotonic()
    with pytest.raises(FileProblem, match=r"declares 1,048,576 rows × 16,384 columns"):
        read_table(path)
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 5
    assert peak < 50 * 1024 * 1024


def test_an_xlsx_with_a_row_wider_than_the_limit_is_refused(tmp_path: Path) -> None:
    wide = '<row r="1"><c r="XFD1" t="inlineStr"><is><t>x</t></is></c></row>'
    path = bomb(tmp_path / "wide.xlsx", wide)
    # Without the declared dimension the sheet passes the first check: caught while streaming.
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        b'<dimension ref="A1:XFD1048576"/>', b""
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    with pytest.raises(FileProblem, match="more than 256 are refused"):
        read_table(path)


def test_an_xlsx_that_unpacks_far_larger_than_it_is_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "zip.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("xl/worksheets/sheet1.xml", b" " * (50 * 1024 * 1024))
    with pytest.raises(FileProblem, match="unpacks to 50 MB"):
        read_table(path)


def test_a_csv_line_longer_than_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text("staff_id,name\nS1," + "x" * 70_000 + "\n", encoding="utf-8")
    with pytest.raises(FileProblem, match="a line is 70,003 characters long"):
        read_table(path)


def test_a_csv_row_with_too_many_values_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text("staff_id,name\n" + ",".join(["1"] * 300) + "\n", encoding="utf-8")
    with pytest.raises(FileProblem, match="line 2 has 300 values"):
        read_table(path)


def test_too_many_rows_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_ROWS", 3)
    path = tmp_path / "staff.csv"
    path.write_text("staff_id\n1\n2\n3\n4\n", encoding="utf-8")
    with pytest.raises(FileProblem, match="more than 3 rows"):
        read_table(path)


def test_an_835_larger_than_any_real_one_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "MAX_X12_BYTES", 1024)
    monkeypatch.setattr("ecmbill.remit.reader.MAX_X12_BYTES", 1024)
    path = tmp_path / "big.835"
    path.write_bytes(b"ISA*" + b"x" * 4096)
    with pytest.raises(RemitFileError, match="larger than 0 MB"):
        read_835(path)
