"""The close takes the month's lines a batch of members at a time (issue 19: memory bounded),
builds, compares and writes their claims, then the next batch. The batch size must not show:
a close in batches of two members (claims written one at a time) stores exactly what a close
of the whole month in one batch stores (claims, lines, statuses, control numbers, close
records, the audit trail in its order) and answers the same (claims made, unchanged, held
back, filing warnings), with two plans, replacements, voids and a member held back at a
close again, and on a generated month of a few hundred members, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete

from ecmbill.claims import close as claim_close
from ecmbill.claims.close import CloseResult, close_period
from ecmbill.claims.settings import set_plan_payer, set_settings
from ecmbill.contract import Contract
from ecmbill.contract.plans import PlanContracts
from ecmbill.demo.plan_scale import PLAN_B, generate, load_store, two_plan_contracts
from ecmbill.demo.provider import DEMO_SETTINGS
from ecmbill.domain.claims import Action
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.claims.test_close_batches import contents, second  # noqa: F401 (a fixture)
from tests.claims.test_plans import PLAN_B_PAYER, two_plans
from tests.claims.world import OCTOBER, A, B, C, add_time, configure, delete_time_of, load
from tests.conftest import TODAY

Month = Callable[[Engine, Contract, Path], list[CloseResult]]


def answer(result: CloseResult) -> tuple[Any, ...]:
    return (
        result.period,
        [(c.claim_id, c.patient_control_number, c.member_id, c.action, c.total_charge,
          c.lines, c.plan) for c in result.created],
        result.unchanged,
        result.warnings,
        result.held_back,
        result.changed_after_close,
    )  # fmt: skip


def two_plans_closed_three_times(engine: Engine, contract: Contract, folder: Path) -> list[Any]:
    load(engine, folder, contract)
    configure(engine)
    plans: PlanContracts = two_plans(engine)
    results = [close_period(engine, OCTOBER, plans, actor="test", today=TODAY)]
    add_time(engine, folder, contract, [["A-9", "S1", A, "2026-10-21", "40", "care_plan",
                                         "in_person"]])  # fmt: skip
    delete_time_of(engine, C)
    # B's claim must be replaced, but B has no address left: held back.
    add_time(engine, folder, contract, [["B-9", "S1", B, "2026-10-22", "35", "care_plan",
                                         "in_person"]])  # fmt: skip
    with unit_of_work(engine) as session:
        member = session.get(models.Member, B)
        assert member is not None
        member.address = None
    results.append(close_period(engine, OCTOBER, plans, actor="test", today=TODAY))
    # Nothing changed since: nothing is written.
    results.append(close_period(engine, OCTOBER, plans, actor="test", today=TODAY))
    return results


def generated_month(engine: Engine, contract: Contract, folder: Path) -> list[Any]:
    load_store(engine, generate(1500, OCTOBER))
    set_settings(engine, {**DEMO_SETTINGS, "rendering_npi_on_line": "no"}, actor="test")
    return [close_period(engine, OCTOBER, contract, actor="test", today=TODAY)]


def generated_two_plans(engine: Engine, contract: Contract, folder: Path) -> list[Any]:
    """Members split between two plans, some moving plan mid-month; closed, then closed
    again after a tenth of the time entries and everything of a tenth of the members were
    deleted (replacements and voids)."""
    load_store(engine, generate(1500, OCTOBER, two_plans=True))
    set_settings(engine, {**DEMO_SETTINGS, "rendering_npi_on_line": "no"}, actor="test")
    set_plan_payer(engine, PLAN_B, PLAN_B_PAYER, actor="test")
    plans = two_plan_contracts(contract)
    results = [close_period(engine, OCTOBER, plans, actor="test", today=TODAY)]
    with unit_of_work(engine) as session:
        session.execute(delete(models.TimeEntry).where(models.TimeEntry.entry_id.like("%3")))
        for record in (models.TimeEntry, models.OutreachAttempt):
            session.execute(delete(record).where(record.member_id.like("%7F")))
    results.append(close_period(engine, OCTOBER, plans, actor="test", today=TODAY))
    return results


MONTHS: dict[str, Month] = {
    "two_plans": two_plans_closed_three_times,
    "generated": generated_month,
    "generated_two_plans": generated_two_plans,
}


@pytest.mark.parametrize("month", sorted(MONTHS))
def test_a_close_in_batches_of_two_members_stores_what_one_batch_stores(
    month: str,
    engine: Engine,
    second: Engine,  # noqa: F811
    contract: Contract,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "batches").mkdir()
    (tmp_path / "whole").mkdir()
    with monkeypatch.context() as patched:
        patched.setattr(claim_close, "MEMBERS_PER_BATCH", 2)
        patched.setattr(claim_close, "CLAIMS_PER_BATCH", 1)
        batched = MONTHS[month](engine, contract, tmp_path / "batches")
    with monkeypatch.context() as patched:
        patched.setattr(claim_close, "MEMBERS_PER_BATCH", 1_000_000)
        whole = MONTHS[month](second, contract, tmp_path / "whole")
    try:
        assert [answer(result) for result in batched] == [answer(result) for result in whole]
        assert contents(engine) == contents(second)
    finally:
        second.dispose()
    made = [created for result in batched for created in result.created]
    assert len({created.member_id for created in made}) > 2  # more than one batch
    if month == "generated_two_plans":
        assert {Action.ORIGINAL, Action.REPLACEMENT, Action.VOID} <= {c.action for c in made}
        assert {c.plan for c in made} == {"default", PLAN_B}
    if month == "two_plans":
        assert {Action.ORIGINAL, Action.REPLACEMENT, Action.VOID} <= {c.action for c in made}
        assert {c.plan for c in made} == {"default", "b"}
        assert [held.member_id for held in batched[1].held_back] == [B]
        assert not batched[2].created
