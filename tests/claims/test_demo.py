"""``ecmbill demo`` closes its month, writes the 837P and the invoice, and reconciles a
simulated 835."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecmbill.cli import app
from tests.claims.x12check import x12_errors


@pytest.mark.slow
def test_demo_writes_a_valid_837p_and_an_invoice_and_says_where(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["demo", "--database", f"sqlite:///{tmp_path / 'demo.db'}", "--period", "2026-10",
         "--members", "30"],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    x12, invoice = tmp_path / "demo-837p.txt", tmp_path / "demo-invoice.xlsx"
    assert x12.exists() and invoice.exists() and (tmp_path / "demo-835.txt").exists()
    assert f"837P claims file: {x12}" in result.output
    assert f"Invoice file:     {invoice}" in result.output
    assert "1 no answer yet" in result.output and "Denials by reason" in result.output
    assert x12_errors(x12) == []
