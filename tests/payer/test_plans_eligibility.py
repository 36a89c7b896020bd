"""270 and 271 with several plans: each plan's 270 goes to its own payer and asks only about
the members with that plan in the month; a 271 is the eligibility of the plan whose payer
sent it (or the plan the biller names), written for that plan only: plan B's "covered by
another plan" never ends a member's eligibility with the first plan.

October's world (tests/claims/world.py): members A, B, C enrolled all month, the first plan's
payer TESTPLAN. Plan B (payer PLANBPAY) has member C for the whole of October."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from ecmbill.claims.settings import set_plan_payer
from ecmbill.cli import app
from ecmbill.contract import Contract
from ecmbill.domain.plans import DEFAULT_PLAN, PlanSpan
from ecmbill.payer.eligibility import NothingToAsk, WhosePlan, import_271, request_270
from ecmbill.store import models
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import unit_of_work
from ecmbill.x12.validation import envelope_errors, segments
from tests.claims.world import OCTOBER, A, B, C, configure, load
from tests.payer.test_eligibility import FIXTURES
from tests.rating.test_plans import plan_b_toml


@pytest.fixture
def world(store_engine: Engine, contract: Contract, tmp_path: Path) -> Engine:
    load(store_engine, tmp_path, contract)
    configure(store_engine)
    with unit_of_work(store_engine) as session:
        stored_plans.add_plan(session, "b", "Plan B", plan_b_toml(), {}, actor="test")
        stored_plans.assign(session, PlanSpan(C, "b", date(2026, 10, 1), None), actor="test")
    set_plan_payer(store_engine, "b", {"payer_id": "PLANBPAY", "payer_name": "SECOND PLAN"}, "test")
    return store_engine


def eligibility(engine: Engine, plan: str) -> dict[str, bool]:
    """October's stored eligibility of one plan, by member."""
    table = models.Eligibility
    with unit_of_work(engine) as session:
        rows = session.execute(
            select(table.member_id, table.eligible).where(
                table.plan == plan, table.month == "2026-10"
            )
        ).all()
    return dict(rows)


def asked(path: Path) -> tuple[list[str], list[str]]:
    """The payers (2100A) and the members (2100C) a 270 asks."""
    text = path.read_text(encoding="ascii")
    assert envelope_errors(text) == []
    found = [seg for _, seg in segments(text) if seg.get_seg_id() == "NM1"]
    payers = [s.get_value("NM109") for s in found if s.get_value("NM101") == "PR"]
    members = [s.get_value("NM109") for s in found if s.get_value("NM101") == "IL"]
    return sorted(set(payers)), members


def answer_from(payer: str, tmp_path: Path) -> Path:
    """october.271 as another payer would send it (an id as long as TESTPLAN: the ISA is
    fixed-width): that payer answers, and its plan is the
    active coverage's (C's "another plan" stays OTHERPLAN)."""
    path = tmp_path / f"{payer}.271"
    text = (FIXTURES / "october.271").read_text(encoding="ascii")
    path.write_text(text.replace("TESTPLAN", payer), encoding="ascii")
    return path


def test_each_plans_270_asks_its_own_payer_about_its_own_members(
    world: Engine, tmp_path: Path
) -> None:
    first = request_270(world, OCTOBER, tmp_path / "a.270", actor="test")
    assert first.members == 2
    assert asked(tmp_path / "a.270") == (["TESTPLAN"], [A, B])
    second = request_270(world, OCTOBER, tmp_path / "b.270", actor="test", plan="b")
    assert second.members == 1
    assert asked(tmp_path / "b.270") == (["PLANBPAY"], [C])
    with pytest.raises(NothingToAsk, match=r"1 member id\(s\) have no day with plan b in 2026-10"):
        request_270(world, OCTOBER, tmp_path / "x.270", actor="test", members=[A], plan="b")
    with pytest.raises(LookupError, match="no plan 'zz'"):
        request_270(world, OCTOBER, tmp_path / "x.270", actor="test", plan="zz")


def test_a_271_is_the_eligibility_of_the_plan_whose_payer_sent_it(
    world: Engine, tmp_path: Path
) -> None:
    before = eligibility(world, DEFAULT_PLAN)
    outcome = import_271(world, answer_from("PLANBPAY", tmp_path), actor="test")
    assert outcome.plan == "b"
    # A: active with PLANBPAY; B: inactive; C: active only with OTHERPLAN.
    assert eligibility(world, "b") == {A: True, B: False, C: False}
    assert eligibility(world, DEFAULT_PLAN) == before  # the first plan's months are its own
    first = import_271(world, FIXTURES / "october.271", actor="test")
    assert first.plan == DEFAULT_PLAN
    assert eligibility(world, DEFAULT_PLAN)[B] is False


def test_a_271_whose_payer_is_no_plans_or_shared_is_applied_only_for_the_plan_named(
    world: Engine, tmp_path: Path
) -> None:
    unknown = answer_from("THIRDPAY", tmp_path)
    with pytest.raises(WhosePlan, match="from THIRDPAY and it is none of the plans' payers"):
        import_271(world, unknown, actor="test")
    assert eligibility(world, "b") == {}  # nothing applied
    set_plan_payer(world, "b", {"payer_id": "TESTPLAN"}, "test")  # one payer for both plans
    with pytest.raises(WhosePlan, match="plans default, b share its payer"):
        import_271(world, FIXTURES / "october.271", actor="test")
    outcome = import_271(world, FIXTURES / "october.271", actor="test", plan="b")
    assert outcome.plan == "b" and eligibility(world, "b")[A] is True


def test_the_command_line_asks_and_reads_each_plans_payer(world: Engine, tmp_path: Path) -> None:
    db = ["--database", world.url.render_as_string(hide_password=False)]

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, [*args, *db])
        assert result.exit_code == code, result.output
        return result.output

    out = run("eligibility", "request", "--period", "2026-10", "--plan", "b",
              "--out", str(tmp_path / "b.270"))  # fmt: skip
    assert "Wrote 1 member(s)" in out
    out = run("eligibility", "import", str(answer_from("THIRDPAY", tmp_path)), code=2)
    assert "THIRDPAY.271 was not imported; nothing changed" in " ".join(out.split())
    out = run("eligibility", "import", str(answer_from("PLANBPAY", tmp_path)))
    assert "271 (plan b): 1 eligible, 2 not eligible" in out
