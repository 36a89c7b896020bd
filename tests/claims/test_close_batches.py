"""The close writes its claims in batches (a block of control numbers, one multi-row insert of
claims, their lines by the bulk writer, audit records per batch): the store ends exactly as
the former close, one claim at a time, left it — claims, lines, statuses, control numbers and
the audit trail in its order — at a first close and at a close with replacements and voids,
on SQLite and PostgreSQL. The former writer is kept here as the reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, select

from ecmbill.claims import close as claim_close
from ecmbill.claims.close import close_period
from ecmbill.contract import Contract
from ecmbill.store import claims as stored
from ecmbill.store.db import open_store
from tests.claims.world import OCTOBER, B, add_time, configure, delete_time_of, load
from tests.conftest import TODAY
from tests.postgres import PostgresServer


def one_at_a_time(session: Any, claims: list[stored.NewClaim]) -> list[stored.StoredClaim]:
    """The former writer: ``add_claim`` per claim (ORM rows, a flush each)."""
    return [
        stored.add_claim(
            session, period=c.period, member_id=c.member_id, billing_npi=c.billing_npi,
            frequency=c.frequency, status=c.status,
            patient_control_number=c.patient_control_number,
            corrects_claim_id=c.corrects_claim_id, original_reference=c.original_reference,
            diagnosis_code=c.diagnosis_code, place_of_service=c.place_of_service,
            close_id=c.close_id, created_at=c.created_at, lines=c.lines,
        )
        for c in claims
    ]  # fmt: skip


def numbers_one_by_one(session: Any, name: str, count: int) -> int:
    """The former numbering: ``next_number`` per claim."""
    numbers = [stored.next_number(session, name) for _ in range(count)]
    assert numbers == list(range(numbers[0], numbers[0] + count))
    return numbers[0]


def contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in stored order, but the clock (when a record was made)."""
    meta = MetaData()
    meta.reflect(engine)
    clock = {"at", "imported_at", "closed_at", "created_at"}
    with engine.connect() as conn:
        found = {}
        for name, table in sorted(meta.tables.items()):
            if name == "alembic_version":
                continue
            columns = [c for c in table.columns if c.name not in clock]
            order = list(table.primary_key.columns) or columns
            found[name] = [tuple(row) for row in conn.execute(select(*columns).order_by(*order))]
    return found


def month_closed_twice(engine: Engine, contract: Contract, folder: Path) -> list[Any]:
    load(engine, folder, contract)
    configure(engine)
    outcomes = []
    first = close_period(engine, OCTOBER, contract, actor="test", today=TODAY)
    add_time(engine, folder, contract, [["A-9", "S1", "91234567A", "2026-10-21", "40",
                                         "care_plan", "in_person"]])  # fmt: skip
    delete_time_of(engine, B)
    second = close_period(engine, OCTOBER, contract, actor="test", today=TODAY)
    for result in (first, second):
        outcomes.append(
            [
                (
                    c.claim_id,
                    c.patient_control_number,
                    c.member_id,
                    c.action,
                    c.total_charge,
                    c.lines,
                )
                for c in result.created
            ]
        )
    return outcomes


@pytest.fixture
def second(engine: Engine, request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    """Another fresh database of the same kind as ``engine``."""
    if engine.dialect.name == "sqlite":
        url = f"sqlite:///{tmp_path / 'reference.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.new_database()
    return open_store(url)


def test_a_close_in_batches_stores_what_the_close_one_claim_at_a_time_stored(
    engine: Engine,
    second: Engine,
    contract: Contract,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "batches").mkdir()
    (tmp_path / "reference").mkdir()
    # Batches of two: the four members' claims span batches.
    monkeypatch.setattr(claim_close, "CLAIMS_PER_BATCH", 2)
    batched = month_closed_twice(engine, contract, tmp_path / "batches")
    with monkeypatch.context() as patched:
        patched.setattr(stored, "add_claims", one_at_a_time)
        patched.setattr(stored, "reserve_numbers", numbers_one_by_one)
        reference = month_closed_twice(second, contract, tmp_path / "reference")
    second.dispose()
    assert batched == reference
    actions = {created[3].name for close in batched for created in close}
    assert {"ORIGINAL", "REPLACEMENT", "VOID"} <= actions
    assert contents(engine) == contents(second)
