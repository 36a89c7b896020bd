"""Writing output files so that a reader never sees half of one: every file is written to a
temporary file in the target's folder and renamed over the target only once complete. Tables go
to CSV or XLSX."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

Cell = str | int | date | None


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

    def write(temporary: Path) -> None:
        if suffix == ".csv":
            with temporary.open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(header)
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
    return str(value)


def _write_xlsx(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    date_format: str,
    sheet: str,
) -> None:
    from openpyxl import Workbook

    # A normal (not write-only) workbook: it records the sheet's dimension, without which
    # readers see rows ending in empty cells as shorter than the header.
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    ws.append(list(header))
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            if value is None:
                continue
            cell = ws.cell(row=number, column=column)
            cell.value = value
            if isinstance(value, str):
                # A name or address starting with "=" is text, never a formula.
                cell.data_type = "s"
            elif isinstance(value, date):
                cell.number_format = date_format
    book.save(path)
