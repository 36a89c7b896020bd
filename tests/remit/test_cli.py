"""``ecmbill remit import`` and ``report`` as a biller runs them."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from ecmbill.claims.close import close_period
from ecmbill.cli import app
from ecmbill.contract import Contract
from tests.claims.world import OCTOBER, configure, load
from tests.conftest import TODAY

FIXTURES = Path(__file__).with_name("fixtures")
runner = CliRunner()


def test_remit_import_twice_then_report(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(store_engine, tmp_path, contract)
    configure(store_engine)
    close_period(store_engine, OCTOBER, contract, actor="test", today=TODAY)
    database = store_engine.url.render_as_string(hide_password=False)
    args = ["remit", "import", str(FIXTURES / "denial.835"), "--database", database]
    first = runner.invoke(app, args)
    assert first.exit_code == 0 and "TRN NOPAY-1003" in first.output
    again = runner.invoke(app, args)
    assert again.exit_code == 0
    assert "TRN NOPAY-1003 was imported before: nothing changed." in again.output
    report = runner.invoke(app, ["remit", "report", "--period", "2026-10", "--database", database])
    assert report.exit_code == 0
    assert "4 claim(s): 0 paid, 0 partial, 1 denied, 0 reversed, 3 no answer yet." in report.output
    assert "Patient has not met the eligibility requirements" in report.output


def test_remit_import_of_a_broken_file_exits_2_naming_the_segment(
    store_engine: Engine, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.835"
    broken.write_text((FIXTURES / "full_payment.835").read_text().replace("SVC*HC:", "SVC*XX:"))
    result = runner.invoke(
        app,
        ["remit", "import", str(broken), "--database",
         store_engine.url.render_as_string(hide_password=False)],
    )  # fmt: skip
    assert result.exit_code == 2
    # Segments are counted from the start of the file: the ISA is 1, this SVC 14.
    assert "nothing was posted" in result.output and "segment 14 (SVC)" in result.output


def test_remit_denials_lists_writes_off_and_exports_as_the_web_does(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(store_engine, tmp_path, contract)
    configure(store_engine)
    close_period(store_engine, OCTOBER, contract, actor="test", today=TODAY)
    database = store_engine.url.render_as_string(hide_password=False)
    runner.invoke(app, ["remit", "import", str(FIXTURES / "denial.835"), "--database", database])
    listed = runner.invoke(app, ["remit", "denials", "--database", database])
    assert listed.exit_code == 0, listed.output
    assert "1 denial(s), 75.00 not paid." in listed.output
    key = re.search(r"\b(L\d+)\b", listed.output)[1]  # type: ignore[index]
    refused = runner.invoke(app, ["remit", "denial", key, "--status", "written_off",
                                  "--database", database])  # fmt: skip
    assert refused.exit_code == 2 and "say why" in refused.output
    done = runner.invoke(app, ["remit", "denial", key, "--status", "written_off", "--note",
                               "not eligible", "--database", database])  # fmt: skip
    assert done.exit_code == 0 and "written off" in done.output
    out = tmp_path / "denials.csv"
    runner.invoke(app, ["remit", "denials", "--status", "all", "--out", str(out),
                        "--database", database])  # fmt: skip
    assert "written off,not eligible" in out.read_text()
