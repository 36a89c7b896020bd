"""Several plans, data in: members' plan spans (``plan_assignments``), eligibility kept per
plan, and the plan's MIF and 834 imported for one plan (--plan)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from ecmbill.contract import Contract
from ecmbill.domain.plans import DEFAULT_PLAN, PlanSpan
from ecmbill.domain.values import EARLIEST
from ecmbill.imports.mif import import_mif
from ecmbill.imports.service import import_file
from ecmbill.imports.x834 import import_834
from ecmbill.store import models
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import unit_of_work
from tests.conftest import TODAY
from tests.exchange.builders import Member834, build_834, mif_header, mif_row, write_csv

ADA, BEN = "91234567A", "92345678B"


def members(engine: Engine, contract: Contract, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "members.csv",
        ["member_id", "first_name", "last_name", "birth_date"],
        [[ADA, "Ada", "Garcia", "1970-01-01"], [BEN, "Ben", "Lopez", "1980-02-02"]],
    )
    result = import_file(engine, "members", path, contract, actor="test", today=TODAY)
    assert result.rejected == 0


def add_plan_b(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        stored_plans.add_plan(session, "b", "Plan B", None, {}, actor="test")


def spans(engine: Engine) -> list[PlanSpan]:
    with unit_of_work(engine) as session:
        return stored_plans.spans_of(session)


def eligibility(engine: Engine) -> dict[tuple[str, str, str], bool]:
    table = models.Eligibility
    with unit_of_work(engine) as session:
        rows = session.execute(select(table.member_id, table.month, table.plan, table.eligible))
        return {(m, month, plan): e for m, month, plan, e in rows}


ASSIGNMENTS = [
    [ADA, "b", "2026-10-16", ""],  # line 2: Ada moves to plan B on Oct 16
    ["95555555E", "b", "2026-10-01", ""],  # line 3: not a member
    [BEN, "c", "2026-10-01", ""],  # line 4: not a plan of the office
    [BEN, "b", "2026-13-01", ""],  # line 5: no 13th month
    [BEN, "b", "2026-10-20", "2026-10-10"],  # line 6: ends before it starts
    [BEN, "B", "2026-09-01", "2026-10-31"],  # line 7: Ben with plan B for two months
    [BEN, "default", "2026-10-15", ""],  # line 8: overlaps line 7
]


def test_plan_assignments_give_members_their_plans_and_refuse_each_bad_row_in_words(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    members(engine, contract, tmp_path)
    add_plan_b(engine)  # both members: the first plan from the earliest date
    path = write_csv(
        tmp_path / "plans.csv", ["member_id", "plan", "start_date", "end_date"], ASSIGNMENTS
    )
    result = import_file(engine, "plan_assignments", path, contract, actor="test", today=TODAY)

    assert (result.rows_read, result.accepted, result.rejected) == (7, 2, 5)
    assert result.accepted + result.rejected == result.rows_read
    reasons = {r.line: (r.column, r.reason) for r in result.rejections}
    assert reasons[3] == ("member_id", "member_id is not a known member: import members first")
    assert reasons[4][0] == "plan"
    assert reasons[4][1].startswith("plan is not a plan of this office")
    assert reasons[5][0] == "start_date"
    assert reasons[6] == (
        "end_date",
        "end_date is before start_date: a plan span ends on or after the day it starts",
    )
    assert reasons[8][0] == "start_date"
    assert reasons[8][1].startswith("plan span overlaps line 7 for the same member")
    assert result.rejects_file is not None and result.rejects_file.exists()

    # Ada: the first plan to Oct 15, plan B from the 16th. Ben: plan B in Sep and Oct, the
    # first plan before and after (his first-plan span is cut around it).
    assert spans(engine) == [
        PlanSpan(ADA, DEFAULT_PLAN, EARLIEST, date(2026, 10, 15)),
        PlanSpan(ADA, "b", date(2026, 10, 16), None),
        PlanSpan(BEN, DEFAULT_PLAN, EARLIEST, date(2026, 8, 31)),
        PlanSpan(BEN, "b", date(2026, 9, 1), date(2026, 10, 31)),
        PlanSpan(BEN, DEFAULT_PLAN, date(2026, 11, 1), None),
    ]
    with unit_of_work(engine) as session:
        trail = session.scalars(
            select(models.AuditRecord.action).where(models.AuditRecord.entity == "plan_assignments")
        ).all()
    assert "create" in trail and "update" in trail


def test_importing_the_same_plan_assignments_again_changes_nothing(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    members(engine, contract, tmp_path)
    add_plan_b(engine)
    path = write_csv(
        tmp_path / "plans.csv", ["member_id", "plan", "start_date", "end_date"], ASSIGNMENTS
    )
    first = import_file(engine, "plan_assignments", path, contract, actor="test", today=TODAY)
    assert first.counts is not None and first.counts.added == 2
    before = spans(engine)
    again = import_file(engine, "plan_assignments", path, contract, actor="test", today=TODAY)
    assert again.counts is not None
    assert (again.counts.added, again.counts.updated, again.counts.unchanged) == (0, 0, 2)
    assert (again.accepted, again.rejected) == (2, 5)
    assert spans(engine) == before


def test_two_plans_eligibility_for_one_member_month_is_kept_apart(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    members(engine, contract, tmp_path)
    add_plan_b(engine)
    # The first plan's file has no plan column: its rows are the first plan's.
    first = write_csv(
        tmp_path / "elig-first.csv", ["member_id", "month", "eligible"], [[ADA, "2026-10", "Y"]]
    )
    plan_b = write_csv(
        tmp_path / "elig-b.csv",
        ["member_id", "month", "eligible", "plan"],
        [[ADA, "2026-10", "N", "b"], [BEN, "2026-10", "Y", ""], [BEN, "2026-11", "Y", "zz"]],
    )
    assert import_file(engine, "eligibility", first, contract, actor="t", today=TODAY).rejected == 0
    result = import_file(engine, "eligibility", plan_b, contract, actor="t", today=TODAY)
    assert [(r.line, r.column) for r in result.rejections] == [(4, "plan")]
    assert result.rejections[0].reason.startswith("plan is not a plan of this office")
    # Plan B's "not eligible" did not overwrite the first plan's "eligible".
    assert eligibility(engine) == {
        (ADA, "2026-10", DEFAULT_PLAN): True,
        (ADA, "2026-10", "b"): False,
        (BEN, "2026-10", DEFAULT_PLAN): True,
    }
    again = import_file(engine, "eligibility", first, contract, actor="t", today=TODAY)
    assert again.counts is not None and again.counts.changed == 0


def test_mif_for_plan_b_gives_its_members_plan_b_and_its_834_plan_b_eligibility(
    engine: Engine, tmp_path: Path
) -> None:
    first = write_csv(
        tmp_path / "mif.csv", mif_header(), [mif_row(ADA, "Garcia", "Ada", "1970-01-01")]
    )
    assert import_mif(engine, first, actor="test", today=TODAY).rejected == 0
    add_plan_b(engine)  # Ada: the first plan from the earliest date
    mif_b = write_csv(
        tmp_path / "mif-b.csv",
        mif_header(),
        [
            mif_row(BEN, "Lopez", "Ben", "1980-02-02", assigned="2026-09-20", plan="PLANB"),
            mif_row(ADA, "Garcia", "Ada", "1970-01-01", assigned="2026-10-16", plan="PLANB"),
        ],
    )
    result = import_mif(engine, mif_b, actor="test", today=TODAY, plan="b")
    assert result.rejected == 0
    assert spans(engine) == [
        PlanSpan(ADA, DEFAULT_PLAN, EARLIEST, date(2026, 10, 15)),
        PlanSpan(ADA, "b", date(2026, 10, 16), None),
        PlanSpan(BEN, "b", date(2026, 9, 20), None),
    ]
    # Again: nothing changes.
    assert import_mif(engine, mif_b, actor="test", today=TODAY, plan="b").changed == 0

    x834 = tmp_path / "b.834"
    x834.write_text(build_834([Member834(BEN, "LOPEZ", "BEN", "19800202", "20260901")]))
    outcome = import_834(engine, x834, actor="test", today=TODAY, plan="b")
    assert outcome.rejections == [] and outcome.accepted == 1
    # Plan B's coverage: B's eligibility for Sep to Nov (today), none of the first plan's.
    assert eligibility(engine) == {
        (BEN, "2026-09", "b"): True,
        (BEN, "2026-10", "b"): True,
        (BEN, "2026-11", "b"): True,
    }
    # Its coverage from Sep 1 is Ben's plan B span from then.
    assert [s for s in spans(engine) if s.member_id == BEN] == [
        PlanSpan(BEN, "b", date(2026, 9, 1), None)
    ]


def test_mif_and_834_refuse_a_plan_the_office_does_not_have(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "mif.csv", mif_header(), [mif_row(ADA, "Garcia", "A", "1970-01-01")]
    )
    with pytest.raises(LookupError, match="no plan 'zz'"):
        import_mif(engine, path, actor="test", today=TODAY, plan="zz")
    x834 = tmp_path / "x.834"
    x834.write_text(build_834([Member834(ADA, "GARCIA", "A", "19700101", "20260901")]))
    with pytest.raises(LookupError, match="no plan 'zz'"):
        import_834(engine, x834, actor="test", today=TODAY, plan="zz")


def test_in_an_office_of_one_plan_the_mif_stores_no_plan_spans(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "mif.csv", mif_header(), [mif_row(ADA, "Garcia", "A", "1970-01-01")]
    )
    assert import_mif(engine, path, actor="test", today=TODAY).rejected == 0
    assert spans(engine) == []
