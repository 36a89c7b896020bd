"""``ecmbill rate`` under a contract that requires a supervisor's approval: the entry nobody
approved shows NOT_APPROVED, from the database and from a folder of files."""

from __future__ import annotations

import json
from pathlib import Path

from ecmbill.contract.model import default_toml
from ecmbill.store import fieldwork as stored_work
from ecmbill.store.db import make_engine
from tests.cli.conftest import Cli
from tests.cli.test_commands import TIME, load_team

REASON = "not billable yet: awaiting a supervisor's approval (the contract requires it)"


def approving_contract(folder: Path) -> Path:
    path = folder / "approving.toml"
    text = default_toml().replace("require_approval = false", "require_approval = true")
    assert "require_approval = true" in text
    path.write_text(text, encoding="utf-8")
    return path


def test_rate_shows_not_approved_for_the_unapproved_entry_of_two_40_minute_entries(
    cli: Cli,
) -> None:
    load_team(cli)
    assert cli("contract", "set", str(approving_contract(cli.folder))).exit_code == 0
    time = cli.file(
        "time.csv",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-05,40,care_coordination,in_person
        T2,C2,10000001A,2026-10-06,40,care_coordination,in_person
        """,
    )
    assert cli("import", "time", str(time)).exit_code == 0
    engine = make_engine(cli.database)
    try:
        stored_work.approve(engine, "T1", actor="sam")
    finally:
        engine.dispose()
    shown = cli("rate", "--period", "2026-10")
    assert shown.exit_code == 0, shown.output
    assert "1 claim lines, 1 units; 1 entries do not bill." in shown.output
    assert "T2" in shown.output and "NOT_APPROVED" in shown.output and REASON in shown.output
    rated = json.loads(cli("rate", "--period", "2026-10", "--json").output)
    assert [(line["minutes"], line["units"]) for line in rated["lines"]] == [(40, 1)]
    assert [(item["id"], item["reason_code"]) for item in rated["not_billed"]] == [
        ("T2", "NOT_APPROVED")
    ]
