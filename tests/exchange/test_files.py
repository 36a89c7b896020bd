"""Output files are never half-written, and a text cell is never a formula."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from ecmbill.imports.reading import read_table
from ecmbill.store.files import OutputProblem, write_table

FORMATS = {"date_format": "%m/%d/%Y", "xlsx_date_format": "mm/dd/yyyy"}


def test_an_xlsx_holds_dates_as_dates_text_as_text_and_empty_cells_in_place(
    tmp_path: Path,
) -> None:
    path = write_table(
        tmp_path / "out.xlsx",
        ["name", "on", "count", "note"],
        [["=HYPERLINK(1)", date(2026, 10, 1), 3, None]],
        **FORMATS,
    )
    sheet = load_workbook(path).active
    assert sheet is not None
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == "=HYPERLINK(1)"
    assert sheet["B2"].is_date and sheet["B2"].number_format == "mm/dd/yyyy"
    assert read_table(path).rows[0].values == ("=HYPERLINK(1)", "2026-10-01", "3", "")


def test_a_failed_write_leaves_neither_a_file_nor_a_temporary_one(tmp_path: Path) -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        write_table(target, ["a"], [["ok"], [Unprintable()]], **FORMATS)  # type: ignore[list-item]
    assert list(tmp_path.iterdir()) == []


def test_an_unsupported_file_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputProblem, match=r"use \.csv or \.xlsx"):
        write_table(tmp_path / "out.pdf", ["a"], [], **FORMATS)
