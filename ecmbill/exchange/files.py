"""Writing a table to CSV or XLSX, never half: a temporary file in the same folder, renamed
over the target only once complete."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

Cell = str | int | date | None


class OutputProblem(ValueError):
    """The output file cannot be written (unsupported type, folder missing)."""


def write_table(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    date_format: str,
    xlsx_date_format: str,
    sheet: str = "Sheet1",
) -> Path:
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        raise OutputProblem(f"'{path.suffix}' files are not supported: use .csv or .xlsx")
    if not path.parent.is_dir():
        raise OutputProblem(f"the folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if suffix == ".csv":
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(header)
                for row in rows:
                    writer.writerow([_text(value, date_format) for value in row])
        else:
            os.close(fd)
            _write_xlsx(Path(tmp), header, rows, xlsx_date_format, sheet)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _text(value: Cell, date_format: str) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime(date_format)
    return str(value)


def _write_xlsx(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    date_format: str,
    sheet: str,
) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.append(list(header))
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, date):
                cell.number_format = date_format
            elif isinstance(value, str):
                # A name or address starting with "=" is text, never a formula.
                cell.data_type = "s"
            cells.append(cell)
        ws.append(cells)
    book.save(path)
