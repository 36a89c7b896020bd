"""Formula-safe files: every CSV and XLSX ecmbill writes goes through ``ecmbill.store.files``,
which writes a text cell starting like a formula as text (issue 14, item 7)."""

from __future__ import annotations

import ast
import csv
from datetime import date
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import Engine

from ecmbill.contract import Contract
from ecmbill.domain.period import Period
from ecmbill.exchange.identity import set_provider_identity
from ecmbill.exchange.otf import write_otf
from ecmbill.imports.service import import_file
from ecmbill.store.files import neutralise, write_table
from tests.conftest import TODAY
from tests.exchange.builders import write_csv
from tests.exchange.conftest import IDENTITY, load

ROOT = Path(__file__).resolve().parents[2] / "ecmbill"
HYPERLINK = '=HYPERLINK("http://example.invalid","x")'


def rows_of(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_a_text_cell_starting_like_a_formula_is_quoted_and_a_negative_number_is_not() -> None:
    assert neutralise(HYPERLINK) == "'" + HYPERLINK
    assert neutralise("@SUM(1+1)") == "'@SUM(1+1)"
    assert neutralise("+1") == "'+1"
    assert neutralise("\t=1") == "'\t=1"
    assert neutralise("-5") == "-5" and neutralise("-2.50") == "-2.50"
    assert neutralise("-5+cmd|' /C calc'!A0") == "'-5+cmd|' /C calc'!A0"
    assert neutralise(3) == 3 and neutralise(date(2026, 1, 1)) == date(2026, 1, 1)


def test_a_csv_table_quotes_formula_cells_and_an_xlsx_keeps_them_as_quoted_text(
    tmp_path: Path,
) -> None:
    rows = [[HYPERLINK, "@SUM(1+1)", "-5", 7]]
    written = rows_of(write_table(tmp_path / "t.csv", ["a", "b", "c", "d"], rows))
    assert written[1] == ["'" + HYPERLINK, "'@SUM(1+1)", "-5", "7"]
    sheet = load_workbook(write_table(tmp_path / "t.xlsx", ["a", "b", "c", "d"], rows)).active
    assert sheet is not None
    assert sheet["A2"].data_type == "s" and sheet["A2"].quotePrefix
    assert sheet["B2"].data_type == "s" and sheet["B2"].quotePrefix
    assert not sheet["C2"].quotePrefix


def test_the_rejects_file_copies_formula_cells_as_text(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    source = write_csv(
        tmp_path / "staff.csv",
        ["staff_id", "name", "role", "npi"],
        [["S9", HYPERLINK, "clinical", ""], ["S8", "@SUM(1+1)", "clinical", ""]],
    )
    result = import_file(engine, "staff", source, contract, actor="test", today=TODAY)
    assert result.rejects_file is not None
    body = rows_of(result.rejects_file)[1:]
    names = {row[4] for row in body}
    assert names == {"'" + HYPERLINK, "'@SUM(1+1)"}


def test_the_exchange_files_as_csv_write_formula_looking_values_as_text(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    set_provider_identity(provider, {**IDENTITY, "provider_name": "=cmd|' /C calc'!A0"}, "test")
    load(provider, contract, "members", write_csv(
        tmp_path / "members.csv", ["member_id", "first_name", "last_name", "birth_date"],
        [["91234567A", "Maria", "Garcia", "1950-01-02"]],
    ))  # fmt: skip
    load(provider, contract, "outreach", write_csv(
        tmp_path / "outreach.csv",
        ["attempt_id", "staff_id", "member_id", "date", "method", "individualized", "outcome"],
        [["O1", "S2", "91234567A", "2026-10-01", "phone", "true", "not_reached"]],
    ))  # fmt: skip
    out = tmp_path / "otf.csv"
    assert write_otf(provider, Period.parse("2026-10"), out).rows == 1
    cells = [cell for row in rows_of(out) for cell in row]
    assert "'=cmd|' /C calc'!A0" in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)


# The only module that may open a CSV writer or a workbook for writing.
WRITER = ROOT / "store" / "files.py"
WRITING_CALLS = {"writer", "DictWriter", "Workbook", "write_csv"}


def test_no_module_but_the_one_writer_writes_a_csv_or_xlsx_itself() -> None:
    offenders = []
    for path in ROOT.rglob("*.py"):
        if path == WRITER:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in WRITING_CALLS
                and isinstance(node.value, ast.Name)
                and node.value.id in {"csv", "pa_csv", "openpyxl"}
            ) or (isinstance(node, ast.ImportFrom) and node.module == "openpyxl" and any(
                alias.name == "Workbook" for alias in node.names
            )):  # fmt: skip
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
