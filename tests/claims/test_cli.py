"""The claims commands as a biller runs them."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, delete, select
from typer.testing import CliRunner

from ecmbill.claims.close import PeriodNotOver, close_period
from ecmbill.claims.export import export_claims
from ecmbill.claims.invoice import COLUMNS, InvoiceRow, write_csv, write_xlsx
from ecmbill.cli import app
from ecmbill.contract import Contract
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.claims.world import OCTOBER, A, add_time, configure, load
from tests.claims.x12check import x12_errors
from tests.conftest import TODAY

runner = CliRunner()


def url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def ecmbill(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    """A separate process, as a biller's second run (or a restart) would be."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("ecmbill")), *args, "--database", url(engine)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def isa_gs_st(path: Path) -> tuple[int, int, int]:
    segments = [s.strip().split("*") for s in path.read_text().split("~") if s.strip()]
    by_id = {s[0]: s for s in segments}
    return int(by_id["ISA"][13]), int(by_id["GS"][6]), int(by_id["ST"][2])


def test_control_numbers_only_increase_across_separate_processes(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(store_engine, tmp_path, contract)
    configure(store_engine)
    close_period(store_engine, OCTOBER, contract, actor="test", today=TODAY)
    first, second = tmp_path / "first.837", tmp_path / "second.837"
    run = ecmbill(store_engine, "claims", "export", "--period", "2026-10", "--format", "837p",
                  "--out", str(first))  # fmt: skip
    assert run.returncode == 0, run.stderr
    add_time(store_engine, tmp_path, contract,
             [["A-3", "S1", A, "2026-10-28", "40", "care_coordination", "in_person"]])  # fmt: skip
    run = ecmbill(store_engine, "close", "--period", "2026-10")
    assert run.returncode == 0, run.stderr
    assert "1 replacement" in run.stdout
    run = ecmbill(store_engine, "claims", "export", "--period", "2026-10", "--format", "837p",
                  "--out", str(second))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert x12_errors(first) == [] and x12_errors(second) == []
    before, after = isa_gs_st(first), isa_gs_st(second)
    assert all(b < a for b, a in zip(before, after, strict=True)), (before, after)
    with unit_of_work(store_engine) as session:
        numbers = session.scalars(select(models.Claim.patient_control_number)).all()
    assert len(numbers) == len(set(numbers)) == 5


def test_bad_settings_name_each_field_and_nothing_is_written(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(store_engine, tmp_path, contract)
    database = url(store_engine)
    result = runner.invoke(app, ["close", "--period", "2026-10", "--database", database])
    assert result.exit_code == 2
    for field in ("billing_npi", "billing_ein", "payer_id", "submitter_id", "diagnosis_code"):
        assert f"{field}: missing" in result.output
    with unit_of_work(store_engine) as session:
        assert session.scalars(select(models.Claim)).all() == []

    result = runner.invoke(
        app, ["settings", "set", "billing_npi", "1234567890", "--database", database]
    )
    assert result.exit_code == 2 and "billing_npi: is not a valid NPI" in result.output

    # Settings that go missing after the close stop the export before a file appears.
    configure(store_engine)
    close_period(store_engine, OCTOBER, contract, actor="test", today=TODAY)
    with unit_of_work(store_engine) as session:
        session.execute(delete(models.Setting).where(models.Setting.key == "claims.billing_ein"))
    out = tmp_path / "claims.837"
    result = runner.invoke(app, ["claims", "export", "--period", "2026-10", "--format", "837p",
                                 "--out", str(out), "--database", database])  # fmt: skip
    assert result.exit_code == 2 and "billing_ein: missing" in result.output
    assert not out.exists()
    assert list(tmp_path.glob(".claims.837.*")) == []


def test_an_export_with_no_claim_is_refused_and_writes_no_file(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    configure(store_engine)
    out = tmp_path / "empty.837"
    result = runner.invoke(app, ["claims", "export", "--period", "2026-10", "--format", "837p",
                                 "--out", str(out), "--database", url(store_engine)])  # fmt: skip
    assert result.exit_code == 2
    assert "no claim of 2026-10 is waiting" in result.output
    assert not out.exists()


def test_a_period_that_has_not_ended_is_not_closed_by_either_shell(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(store_engine, tmp_path, contract)
    configure(store_engine)
    this_month = f"{date.today():%Y-%m}"
    result = runner.invoke(app, ["close", "--period", this_month, "--database", url(store_engine)])
    assert result.exit_code == 2
    assert f"{this_month} has not ended yet" in result.output
    with pytest.raises(PeriodNotOver):
        close_period(store_engine, OCTOBER, contract, actor="test", today=OCTOBER.end)
    with unit_of_work(store_engine) as session:
        assert session.scalars(select(models.PeriodClose)).all() == []


def test_claims_list_and_show_tell_the_history(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(store_engine, tmp_path, contract)
    configure(store_engine)
    first = close_period(store_engine, OCTOBER, contract, actor="test", today=TODAY)
    add_time(store_engine, tmp_path, contract,
             [["A-3", "S1", A, "2026-10-28", "40", "care_coordination", "in_person"]])  # fmt: skip
    close_period(store_engine, OCTOBER, contract, actor="test", today=TODAY)
    database = url(store_engine)
    listed = runner.invoke(app, ["claims", "list", "--period", "2026-10", "--database", database])
    assert listed.exit_code == 0 and "5 claim(s)." in listed.output
    original = next(c for c in first.created if c.member_id == A).patient_control_number
    shown = runner.invoke(app, ["claims", "show", original, "--database", database])
    assert shown.exit_code == 0
    assert "original (frequency 1), replaced" in shown.output
    assert "replacement (frequency 7), active" in shown.output
    assert f"corrects the claim referenced {original}" in shown.output


def test_invoice_csv_and_xlsx_have_a_row_per_claim_line(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(store_engine, tmp_path, contract)
    configure(store_engine)
    close_period(store_engine, OCTOBER, contract, actor="test", today=TODAY)
    export_claims(store_engine, OCTOBER, "csv", tmp_path / "i.csv", actor="test")
    export_claims(store_engine, OCTOBER, "xlsx", tmp_path / "i.xlsx", actor="test")
    with (tmp_path / "i.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6  # A, B: one service line each; C: two; D: two outreach attempts
    a_row = next(row for row in rows if row["member_id"] == A)
    assert a_row["service_from"] == "2026-10-05" and a_row["service_to"] == "2026-10-20"
    assert a_row["charge"] == "100.00" and a_row["claim_frequency"] == "1"
    assert a_row["rendering_npi"] == "1234567893" and a_row["billing_npi"] == "1245319599"
    sheet = load_workbook(tmp_path / "i.xlsx").active
    assert sheet is not None
    values = list(sheet.values)
    assert values[0] == COLUMNS and len(values) == 7


def test_formula_characters_at_the_start_of_text_cells_are_neutralised(tmp_path: Path) -> None:
    row = InvoiceRow("91234567A", "=HYPERLINK(\"x\")", date(1980, 1, 2), date(2026, 10, 1),
                     date(2026, 10, 1), "G9008", "U1", 1, Decimal("100.00"), "1245319599", "",
                     "11", "1", "+1", "@ECM1")  # fmt: skip
    write_csv([row], tmp_path / "i.csv")
    write_xlsx([row], tmp_path / "i.xlsx")
    with (tmp_path / "i.csv").open(newline="") as handle:
        written = next(iter(csv.DictReader(handle)))
    assert written["member_name"] == '\'=HYPERLINK("x")'
    assert written["original_claim_reference"] == "'+1"
    assert written["patient_control_number"] == "'@ECM1"
    sheet = load_workbook(tmp_path / "i.xlsx").active
    assert sheet is not None
    cell = sheet["B2"]
    assert cell.value == '\'=HYPERLINK("x")' and cell.data_type == "s"
    assert sheet["I2"].value == 100 and sheet["C2"].is_date
