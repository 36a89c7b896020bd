"""``ecmbill report --plan KEY``: the minutes per unit of one plan's lines only."""

from __future__ import annotations

from datetime import date

from ecmbill.domain.plans import PlanSpan
from ecmbill.store import models
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import open_store, unit_of_work
from tests.cli.conftest import Cli
from tests.cli.test_commands import TIME, load_team
from tests.rating.test_plans import plan_b_toml


def test_report_with_a_plan_shows_only_that_plans_minutes_and_units(cli: Cli) -> None:
    # Ada (10000001A) is with plan B from Oct 16. Oct 2 + Oct 14 with the first plan:
    # 25 + 25 = 50 min -> 1 unit; Oct 30 with plan B: 25 min -> 1 unit of G9008 U1 HE.
    # Every plan: 75 minutes, 2 units; plan B alone: 25 minutes, 1 unit.
    load_team(cli)
    engine = open_store(cli.database)
    with unit_of_work(engine) as session:
        stored_plans.add_plan(session, "b", "Plan B", plan_b_toml(), {}, actor="test")
        stored_plans.assign(session, PlanSpan("10000001A", "b", date(2026, 10, 16)), actor="t")
        session.add(models.Eligibility(member_id="10000001A", month="2026-10", plan="b",
                                       eligible=True))  # fmt: skip
    engine.dispose()
    times = f"""
        {TIME}
        T1,C1,10000001A,2026-10-02,25,care_coordination,in_person
        T2,C2,10000001A,2026-10-14,25,care_coordination,in_person
        T3,C3,10000001A,2026-10-30,25,care_coordination,in_person
    """
    assert cli("import", "time", str(cli.file("time.csv", times))).exit_code == 0

    every = cli("report", "--period", "2026-10")
    assert every.exit_code == 0, every.output
    assert "Service time: 75 minutes worked, 2 units billed, 37.5 minutes per unit" in every.output

    only_b = cli("report", "--period", "2026-10", "--plan", "b")
    assert only_b.exit_code == 0, only_b.output
    assert "Plan b only." in only_b.output
    assert "Service time: 25 minutes worked, 1 units billed, 25.0 minutes per unit" in only_b.output
    assert "U1 HE" in only_b.output

    first = cli("report", "--period", "2026-10", "--plan", "default")
    assert "Service time: 50 minutes worked, 1 units billed, 50.0 minutes per unit" in first.output
    assert "HE" not in first.output

    unknown = cli("report", "--period", "2026-10", "--plan", "nosuch")
    assert unknown.exit_code == 2
    assert "no plan 'nosuch'" in unknown.output
