"""``ecmbill demo`` bills two plans: the default plan and ``chp2``, with its own contract
(10% higher rates, HE after U1 on clinical in-person service) and payer, every third member,
and two members who move between the plans on the 16th."""

from __future__ import annotations

from collections import defaultdict
from math import ceil
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from ecmbill.cli import app
from ecmbill.contract import default_contract
from ecmbill.contract.stored import current_plans
from ecmbill.demo.month import generate
from ecmbill.demo.plans import SECOND_PLAN, DemoPlans, add_second_plan
from ecmbill.domain.lines import PeriodRating
from ecmbill.domain.period import Period
from ecmbill.domain.plans import DEFAULT_PLAN
from ecmbill.imports.service import import_file
from ecmbill.rating.service import rate
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import unit_of_work
from tests.conftest import TODAY

OCTOBER = Period.parse("2026-10")


@pytest.fixture
def demo_month(store_engine: Engine, tmp_path: Path) -> tuple[Engine, PeriodRating, DemoPlans]:
    """The demo's October of 30 members, imported, rated with one plan, then the second plan
    added. Returns the one-plan rating and what adding the plan did."""
    contract = default_contract()
    files = generate(tmp_path / "data", OCTOBER, members=30, contract=contract)
    for kind, path in files.in_import_order():
        import_file(store_engine, kind, path, contract, actor="test", today=TODAY)
    one_plan = rate(store_engine, OCTOBER, current_plans(store_engine))
    plans = add_second_plan(store_engine, files, actor="test")
    return store_engine, one_plan, plans


def test_the_demo_adds_a_second_plan_with_every_third_member_and_two_who_move_on_the_16th(
    demo_month: tuple[Engine, PeriodRating, DemoPlans],
) -> None:
    engine, _, plans = demo_month
    # 30 members: 10 are the second plan's; one moves to it and one leaves it on the 16th.
    assert list(plans.names) == [DEFAULT_PLAN, SECOND_PLAN]
    assert plans.members == {DEFAULT_PLAN: 20, SECOND_PLAN: 10}
    assert [(m.old_plan, m.new_plan, m.on.isoformat()) for m in plans.moves] == [
        (DEFAULT_PLAN, SECOND_PLAN, "2026-10-16"),
        (SECOND_PLAN, DEFAULT_PLAN, "2026-10-16"),
    ]
    with unit_of_work(engine) as session:
        second = stored_plans.plan(session, SECOND_PLAN)
        spans = stored_plans.spans_of(session, [m.member_id for m in plans.moves])
    assert second is not None and second.payer_settings["payer_id"] == "DEMOCHP2"
    assert [(s.plan, s.end and s.end.isoformat()) for s in spans] == [
        (DEFAULT_PLAN, "2026-10-15"), (SECOND_PLAN, None),  # the first mover
        (SECOND_PLAN, "2026-10-15"), (DEFAULT_PLAN, None),  # the second
    ]  # fmt: skip


def test_the_demos_movers_bill_each_plan_its_days_rounded_once_per_plan_and_nothing_is_dropped(
    demo_month: tuple[Engine, PeriodRating, DemoPlans],
) -> None:
    engine, one_plan, plans = demo_month
    two_plans = rate(engine, OCTOBER, current_plans(engine))
    # The same entries bill, and the same do not: a plan changes who pays, not what bills.
    assert sorted(x.id for x in two_plans.not_billed) == sorted(x.id for x in one_plan.not_billed)
    assert sorted(i for x in two_plans.lines for i in x.source_ids) == sorted(
        i for x in one_plan.lines for i in x.source_ids
    )
    assert sum(x.minutes for x in two_plans.lines) == sum(x.minutes for x in one_plan.lines)
    for move in plans.moves:
        lines = two_plans.lines_for(move.member_id)
        # Each mover bills both plans: the old plan's lines end by the 15th, the new plan's
        # start on the 16th, each rounded up on its own.
        assert {x.plan for x in lines} == {DEFAULT_PLAN, SECOND_PLAN}
        for line in lines:
            if line.plan == move.old_plan:
                assert line.last_date < move.on
            else:
                assert line.first_date >= move.on
            if line.kind.value == "service":
                assert line.units == ceil(line.minutes / 60)
    # Clinical in-person service: U1 under the default plan, U1 HE under chp2's contract.
    modifiers: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for line in two_plans.lines:
        if line.code == "G9008" and line.modifiers[0] == "U1" and "GQ" not in line.modifiers:
            modifiers[line.plan].add(line.modifiers)
    assert modifiers == {DEFAULT_PLAN: {("U1",)}, SECOND_PLAN: {("U1", "HE")}}
    assert current_plans(engine)[SECOND_PLAN].rate_for("G9008", ("U1", "HE")) == 110


@pytest.mark.slow
def test_the_demo_says_which_plans_it_bills_and_who_moves(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["demo", "--database", f"sqlite:///{tmp_path / 'demo.db'}", "--period", "2026-10",
         "--members", "30"],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "default (Default plan): 20 members" in result.output
    assert "chp2 (Demo Community Plan 2 (fictional)): 10 members" in result.output
    assert result.output.count("on 2026-10-16: each plan bills its own days") == 2
    assert "plan chp2: " in result.output and "plan default: " in result.output
