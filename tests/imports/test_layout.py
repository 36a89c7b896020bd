"""What a good file may look like: header names in any case and order, start and end times
instead of minutes, US dates, blank lines, optional columns left out."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine, select

from ecmbill.contract import Contract
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.builders import Ledger


def test_header_names_are_case_insensitive_and_in_any_order(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    book = Ledger(store_engine, contract, tmp_path).team()
    book.load(
        "time",
        """
        Modality , ACTIVITY,Minutes,Date,Member_ID,Staff_Id,entry_id

        IN_PERSON,Care_Coordination,30,10/05/2026,10000001a,C1,T1
        """,
    )
    with unit_of_work(store_engine) as session:
        entry = session.get(models.TimeEntry, "T1")
        assert entry is not None
        assert (entry.member_id, entry.date, entry.activity, entry.modality) == (
            "10000001A",
            date(2026, 10, 5),
            "care_coordination",
            "in_person",
        )


def test_start_and_end_times_give_the_minutes(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    book = Ledger(store_engine, contract, tmp_path).team()
    book.load(
        "time",
        """
        staff_id,member_id,date,start_time,end_time,activity,modality,note
        C1,10000001A,2026-10-05,09:00,09:45,care_coordination,in_person,
        C1,10000001A,2026-10-05,13:10,14:25,care_coordination,in_person,two visits that day
        """,
    )
    with unit_of_work(store_engine) as session:
        minutes = sorted(session.scalars(select(models.TimeEntry.minutes)))
    assert minutes == [45, 75]


def test_a_spreadsheet_row_that_ends_before_its_optional_cells_is_read_padded(
    tmp_path: Path,
) -> None:
    """openpyxl's write-only workbooks record no <dimension>; read back, a row whose trailing
    cells are empty is shorter than the header. Those cells are simply empty."""
    from openpyxl import Workbook

    from ecmbill.imports.reading import read_table

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["staff_id", "name", "role", "npi", "effective_from", "effective_to"])
    sheet.append(["C1", "Test Nurse", "clinical"])
    path = tmp_path / "staff.xlsx"
    book.save(path)
    table = read_table(path)
    assert table.rows[0].values == ("C1", "Test Nurse", "clinical", "", "", "")


def test_an_xlsx_the_store_writes_keeps_rows_as_wide_as_the_header(tmp_path: Path) -> None:
    """The store writes XLSX streamed, and records the sheet's dimension itself: 3 columns by
    3 rows here, so a row whose last cells are empty reads back as wide as the header, and a
    formula-like text stays quoted text."""
    from openpyxl import load_workbook

    from ecmbill.store.files import write_table

    path = write_table(
        tmp_path / "out.xlsx", ["a", "b", "c"], [["x", None, None], ["=1+1", "y", None]]
    )
    sheet = load_workbook(path, read_only=True).active
    assert sheet is not None
    assert sheet.calculate_dimension() == "A1:C3"
    assert list(sheet.iter_rows(values_only=True)) == [
        ("a", "b", "c"),
        ("x", None, None),
        ("=1+1", "y", None),
    ]
    cell = load_workbook(path).active["A3"]  # type: ignore[index]
    assert cell.data_type == "s" and cell.quotePrefix
