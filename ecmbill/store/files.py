"""Writing output files so that a reader never sees half of one, and a spreadsheet never runs
one of our cells as a formula. Every file is written to a temporary file in the target's folder
and renamed over the target only once complete. Every table ecmbill writes (claims invoice,
exchange files, import rejects, rating results as CSV) goes through ``write_table`` or
``write_arrow_csv`` here: in a CSV, a text cell starting like a formula (= + - @, a tab or a
carriage return) is written with a leading apostrophe, so Excel and LibreOffice show it as text;
in an XLSX every text cell is a string cell (never a formula), quote-prefixed when it starts
like one."""

from __future__ import annotations

import csv
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ecmbill.domain.values import FORMULA_START

if TYPE_CHECKING:
    import pyarrow as pa

Cell = str | int | Decimal | date | None
# OWASP's list for CSV injection: the formula starts, and tab / carriage return, which some
# spreadsheets skip before reading a formula.
FORMULA_TRIGGERS = (*FORMULA_START, "\t", "\r")
_NEGATIVE_NUMBER = re.compile(r"-[0-9]+(\.[0-9]+)?")


def write_atomically(target: Path, write: Callable[[Path], object]) -> None:
    """Call ``write`` with a temporary path in the target's folder, then rename it over the
    target. On any error the temporary file is removed and the target is left as it was."""
    target = target.resolve()
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    temporary = Path(name)
    try:
        write(temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class OutputProblem(ValueError):
    """The output file cannot be written (unsupported type, folder missing)."""


def neutralise(value: Cell) -> Cell:
    """A text cell starting like a formula is prefixed with an apostrophe: a spreadsheet shows
    it as text instead of running it. Numbers and dates are left alone, and so is a negative
    number written as text ("-5" in a rejected row): a spreadsheet reads it as that number."""
    if isinstance(value, str) and formula_like(value):
        return "'" + value
    return value


def formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS) and not _NEGATIVE_NUMBER.fullmatch(text)


def write_table(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    date_format: str = "%Y-%m-%d",
    xlsx_date_format: str = "yyyy-mm-dd",
    sheet: str = "Sheet1",
    kind: Literal["csv", "xlsx"] | None = None,
) -> Path:
    """Write a table as CSV or XLSX (by ``kind``, else by the file's suffix), formula-safe
    and atomically."""
    suffix = f".{kind}" if kind else path.suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        raise OutputProblem(f"'{path.suffix}' files are not supported: use .csv or .xlsx")
    if not path.parent.is_dir():
        raise OutputProblem(f"the folder {path.parent} does not exist")

    def write(temporary: Path) -> None:
        if suffix == ".csv":
            with temporary.open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow([_text(value, date_format) for value in header])
                for row in rows:
                    writer.writerow([_text(value, date_format) for value in row])
        else:
            _write_xlsx(temporary, header, rows, xlsx_date_format, sheet)

    write_atomically(path, write)
    return path


def _text(value: Cell, date_format: str) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime(date_format)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(neutralise(value))


def _write_xlsx(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    date_format: str,
    sheet: str,
) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    # Write-only (streamed): a normal workbook builds every cell as an object first and took
    # most of the demo's plan files and invoice. Readers need the sheet's dimension, without
    # which they see rows ending in empty cells as shorter than the header; a write-only sheet
    # does not record it, so it is worked out here, as a normal sheet would: from the first
    # cell to the last row and column holding a value.
    table: list[list[Cell]] = [list(header), *(list(row) for row in rows)]
    last_row = max(
        (n for n, row in enumerate(table, 1) if any(v is not None for v in row)), default=1
    )
    last_column = max(
        (next((c for c in range(len(row), 0, -1) if row[c - 1] is not None), 1) for row in table),
        default=1,
    )
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.calculate_dimension = lambda: f"A1:{get_column_letter(last_column)}{last_row}"  # type: ignore[attr-defined]
    ws.append(table[0])
    for row in table[1:]:
        cells: list[object] = []
        for value in row:
            if value is None:
                cells.append(None)
                continue
            cell = WriteOnlyCell(ws, value)
            if isinstance(value, str):
                # Text is a string cell, never a formula, whatever it starts with; one that
                # starts like a formula is marked as quoted text, as Excel does when a user
                # types an apostrophe first, so it stays text when saved again as CSV.
                cell.data_type = "s"
                if formula_like(value):
                    cell.quotePrefix = True
            elif isinstance(value, date):
                cell.number_format = date_format
            elif isinstance(value, Decimal):
                cell.number_format = "0.00"
            cells.append(cell)
        ws.append(cells)
    book.save(path)


def write_arrow_csv(table: pa.Table, target: Path) -> None:
    """An Arrow table as CSV, atomically, its text columns formula-safe."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv

    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pc.and_not(
                pc.match_substring_regex(column, "^[=+@\t\r-]"),
                pc.match_substring_regex(column, f"^{_NEGATIVE_NUMBER.pattern}$"),
            )
            quoted = pc.binary_join_element_wise("'", column, "")
            column = pc.if_else(pc.fill_null(risky, False), quoted, column)
        columns.append(column)
    safe = pa.table(columns, names=table.column_names)
    write_atomically(target, lambda path: pa_csv.write_csv(safe, path))
