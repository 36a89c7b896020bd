"""The exchange commands, driven as a biller would type them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ecmbill.cli import app
from ecmbill.imports.reading import read_table
from tests.conftest import Databases
from tests.exchange.builders import Member834, build_834, mif_header, mif_row, write_csv

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_a_month_of_exchange_from_the_command_line(tmp_path: Path, databases: Databases) -> None:
    db = ["--database", databases.new_url()]
    staff = write_csv(
        tmp_path / "staff.csv", ["staff_id", "name", "role"], [["S1", "Ana", "clinical"]]
    )
    assert run("import", "staff", str(staff), *db)[0] == 0
    code, out = run(
        "exchange",
        "identity",
        "--provider-npi",
        "1234567893",
        "--provider-tin",
        "12-3456789",
        "--mcp-id",
        "CHPIV",
        *db,
    )
    assert code == 0 and "provider_tin: 123456789" in out and "provider_name: (not set)" in out
    assert run("exchange", "identity", "--provider-npi", "1234567890", *db)[0] == 2

    mif = write_csv(
        tmp_path / "mif.csv",
        mif_header(),
        [
            mif_row("91234567A", "Garcia", "Maria", "1970-01-01"),
            mif_row("1", "X", "Y", "1970-01-01"),
        ],
    )
    code, out = run("exchange", "import-mif", str(mif), *db)
    assert code == 1 and "1 rejected" in out and "Member CIN" in out

    truncated = tmp_path / "cut.834"
    whole = build_834([Member834("91234567A", "GARCIA", "MARIA", "19700101", "20260901")])
    truncated.write_text("".join(whole.splitlines(keepends=True)[:-3]))
    code, out = run("exchange", "import-834", str(truncated), *db)
    assert code == 2 and "nothing imported" in out and "Transaction Set Trailer" in out

    full = tmp_path / "elig.834"
    full.write_text(whole)
    code, out = run("exchange", "import-834", str(full), *db)
    assert code == 0, out

    assert run("members", "enroll", "91234567A", "--on", "2026-10-05", *db)[0] == 0
    code, out = run("members", "enroll", "91234567A", "--on", "2026-10-06", *db)
    assert code == 1 and "already enrolled" in out
    assert run("members", "assign-lcm", "91234567A", "S1", "--from", "2026-10-05", *db)[0] == 0
    code, out = run("members", "status", "91234567A", "--on", "2026-10-31", *db)
    assert code == 0 and "enrolled since 2026-10-05" in out
    code, out = run(
        "members", "discontinue", "91234567A", "--reason", "01", "--on", "2026-10-30", *db
    )
    assert code == 0 and "met all care plan goals" in out

    code, out = run(
        "exchange", "rtf", "--period", "2026-10", "--out", str(tmp_path / "r.xlsx"), *db
    )
    assert code == 0 and "1 rows written" in out and "provider_name" in out  # warned: not set
    rtf = read_table(tmp_path / "r.xlsx")
    row = dict(zip(rtf.header, rtf.rows[0].values, strict=True))
    assert (row["Member ECM Status"], row["Discontinuation Reason Code"]) == ("Discontinued", "01")
    assert row["ECM Lead Care Manager Name"] == "Ana"
    code, out = run("exchange", "otf", "--period", "2026-10", "--out", str(tmp_path / "o.pdf"), *db)
    assert code == 2 and "use .csv or .xlsx" in out


def test_the_demo_also_writes_the_months_otf_and_rtf(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    code, out = run(
        "demo", "--database", f"sqlite:///{db}", "--period", "2026-10", "--members", "20"
    )
    assert code == 0, out
    # One pair of files per plan: the first plan's under the plain names, chp2's with its key.
    otf, rtf = read_table(tmp_path / "demo-otf.xlsx"), read_table(tmp_path / "demo-rtf.xlsx")
    rtf_chp2 = read_table(tmp_path / "demo-rtf-chp2.xlsx")
    assert (tmp_path / "demo-otf-chp2.xlsx").exists()
    cin = next(i for i, name in enumerate(rtf.header) if "CIN" in name)
    first = {row.values[cin] for row in rtf.rows}
    second = {row.values[cin] for row in rtf_chp2.rows}
    # Every member is in the RTF of a plan they had in the month; the two who moved on the
    # 16th are in both.
    assert len(first | second) == 20
    assert len(first & second) == 2
    assert otf.header[0] == "Primary Payer (MCP) Identifier"
    assert {row.values[2] for row in otf.rows} == {"Demo ECM Provider (fictional)"}
