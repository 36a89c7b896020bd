"""The 837P and invoice an export writes, and what it records, are exactly those the export
wrote before it read claims in chunks and wrote the file streamed (issue 19): files byte for
byte, and every row the close and the export write (claims, export records, audit trail, kept
files) but the clock.

The golden files under ``golden/`` were written by the export of main at commit 0cdd06b, before
the change, on SQLite and on PostgreSQL (``ECMBILL_WRITE_GOLDEN=1`` writes them again).

Two months: the small world with two plans (two payers), rendering providers on the lines,
same-day outreach, a replacement whose original the payer numbered after the close (REF*F8
refreshed at export), and a void; and a generated month of a few hundred claims, read in
chunks of three claims so that chunks end inside every kind of claim.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from ecmbill.claims import export as claim_export
from ecmbill.claims.close import close_period
from ecmbill.claims.export import export_claims, export_per_payer
from ecmbill.claims.settings import set_settings
from ecmbill.contract import Contract
from ecmbill.contract.plans import PlanContracts
from ecmbill.demo.plan_scale import generate, load_store
from ecmbill.demo.provider import DEMO_SETTINGS
from ecmbill.store import claims as stored
from ecmbill.store.db import unit_of_work
from tests.claims.test_close_batches import contents
from tests.claims.test_plans import two_plans
from tests.claims.world import OCTOBER, A, C, add_time, configure, delete_time_of, load
from tests.conftest import TODAY

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 11, 27, 14, 5, tzinfo=UTC)
BATCH = re.compile(r'"batch": "[0-9a-f]{16}"')
# What the close and the export write (the month's records are the same input to both).
WRITTEN = ("audit_log", "claim_exports", "claim_lines", "claims", "control_counters",
           "period_closes", "produced_files")  # fmt: skip


def _store(engine: Engine) -> dict[str, list[str]]:
    """Every row the close and export write, but the clock, as text; the random batch token
    of an export left out."""
    return {
        table: [BATCH.sub('"batch": "-"', repr(row)) for row in rows]
        for table, rows in contents(engine).items()
        if table in WRITTEN
    }


def _written(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="ascii") for path in sorted(folder.iterdir())}


def two_payers_corrected(engine: Engine, contract: Contract, folder: Path) -> dict[str, Any]:
    data, out = folder / "data", folder / "out"
    data.mkdir()
    out.mkdir()
    load(engine, data, contract)
    configure(engine)
    plans: PlanContracts = two_plans(engine)
    close_period(engine, OCTOBER, plans, actor="test", today=TODAY)
    export_per_payer(engine, OCTOBER, "837p", out / "october.837", actor="test", now=NOW)
    export_per_payer(engine, OCTOBER, "csv", out / "october.csv", actor="test", now=NOW)
    # The payer's number for A's original arrives after the next close made its replacement:
    # the export sends the payer's number in REF*F8 and records the change.
    add_time(engine, data, contract, [["A-9", "S1", A, "2026-10-21", "40", "care_plan",
                                       "in_person"]])  # fmt: skip
    delete_time_of(engine, C)
    close_period(engine, OCTOBER, plans, actor="test", today=TODAY)
    with unit_of_work(engine) as session:
        original = next(c for c in stored.claims_of(session, str(OCTOBER), member_id=A))
        stored.set_payer_claim_control_number(session, original.id, "PAYER0001A")
    export_per_payer(engine, OCTOBER, "837p", out / "corrected.837", actor="test", now=LATER)
    export_per_payer(engine, OCTOBER, "csv", out / "corrected.csv", actor="test", now=LATER)
    return {"files": _written(out), "store": _store(engine)}


def generated_month(engine: Engine, contract: Contract, folder: Path) -> dict[str, Any]:
    out = folder / "out"
    out.mkdir()
    load_store(engine, generate(1500, OCTOBER))
    set_settings(engine, {**DEMO_SETTINGS, "rendering_npi_on_line": "no"}, actor="test")
    close_period(engine, OCTOBER, contract, actor="test", today=TODAY)
    export_claims(engine, OCTOBER, "837p", out / "october.837", actor="test", now=NOW)
    return {"files": _written(out), "store": _store(engine)}


MONTHS = {"two_payers_corrected": two_payers_corrected, "generated_month": generated_month}


@pytest.mark.parametrize("month", sorted(MONTHS))
def test_the_export_writes_and_records_what_it_wrote_before(
    month: str,
    engine: Engine,
    contract: Contract,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Chunks of three claims (the chunk size is the export's own knob; absent before).
    monkeypatch.setattr(claim_export, "CLAIMS_PER_READ", 3, raising=False)
    made = MONTHS[month](engine, contract, tmp_path)
    golden = GOLDEN / f"{month}.{engine.dialect.name}.json"
    if os.environ.get("ECMBILL_WRITE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(json.dumps(made, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(golden.read_text(encoding="utf-8"))
    assert sorted(made["files"]) == sorted(expected["files"])
    for name, text in expected["files"].items():
        assert made["files"][name] == text, name
    assert sorted(made["store"]) == sorted(expected["store"])
    for table, rows in expected["store"].items():
        assert made["store"][table] == rows, table
