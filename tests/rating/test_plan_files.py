"""Rating a folder of files for an office with several plans: the plan_assignments file, the
plan column of eligibility, their row checks, and the --plans folder of contracts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecmbill.cli import app
from ecmbill.contract import Contract
from ecmbill.demo.plan_scale import PLAN_B, two_plan_contracts, write_plans
from ecmbill.domain.plans import DEFAULT_PLAN
from ecmbill.rating.file_checks import SourceProblem
from ecmbill.rating.files import plans_from_folder, rate_folder
from tests.rating.test_files import PERIOD, folder_with

ADA, BEN = "91234567A", "92345678B"
# Ada moves from the first plan to B on Oct 16; Ben's plan (the first) ends on Oct 20.
ASSIGNMENTS = f"""member_id,plan,start_date,end_date
{ADA},default,2026-01-01,2026-10-15
{ADA},b,2026-10-16,
{BEN},default,2026-01-01,2026-10-20
"""
# Both plans say Ada is eligible in October; Ben's row names no plan: the first plan's.
ELIGIBILITY = f"""member_id,month,plan,eligible
{ADA},2026-10,default,true
{ADA},2026-10,b,true
{BEN},2026-10,,true
"""
ENROLLMENTS = f"""member_id,start_date,end_date
{ADA},2026-01-01,
{BEN},2026-01-01,
"""
# Ada, clinical in person: Oct 2 + 15 with the first plan (40 + 25 = 65 min -> 2 units of
# G9008 U1), Oct 16 + 31 with B (30 + 20 = 50 min -> 1 unit of G9008 U1 HE). Ben: Oct 20
# with the first plan, Oct 21 with no plan (NO_PLAN).
TIME = f"""entry_id,staff_id,member_id,date,minutes,activity,modality
T1,S1,{ADA},2026-10-02,40,care_coordination,in_person
T2,S1,{ADA},2026-10-15,25,care_coordination,in_person
T3,S1,{ADA},2026-10-16,30,care_coordination,in_person
T4,S1,{ADA},2026-10-31,20,care_coordination,in_person
T5,S1,{BEN},2026-10-20,30,care_coordination,in_person
T6,S1,{BEN},2026-10-21,30,care_coordination,in_person
"""
OUTREACH = "attempt_id,staff_id,member_id,date,method,individualized,outcome,minutes\n"


def plan_folder(tmp_path: Path, **overrides: str) -> Path:
    files = {
        "plan_assignments": ASSIGNMENTS,
        "eligibility": ELIGIBILITY,
        "enrollments": ENROLLMENTS,
        "time": TIME,
        "outreach": OUTREACH,
    }
    return folder_with(tmp_path, **(files | overrides))


def test_a_member_who_moves_plan_on_the_16th_bills_each_plan_rounded_once_and_no_plan_is_refused(
    tmp_path: Path,
) -> None:
    rating = rate_folder(plan_folder(tmp_path), PERIOD, two_plan_contracts())
    got = sorted((x.member_id, x.plan, x.modifiers, x.minutes, x.units) for x in rating.lines)
    assert got == [
        (ADA, PLAN_B, ("U1", "HE"), 50, 1),
        (ADA, DEFAULT_PLAN, ("U1",), 65, 2),
        (BEN, DEFAULT_PLAN, ("U1",), 30, 1),
    ]
    assert [(x.id, x.reason_code.value) for x in rating.not_billed] == [("T6", "NO_PLAN")]


def test_with_one_plan_the_plan_files_are_checked_but_every_member_is_its_member(
    tmp_path: Path, contract: Contract
) -> None:
    # The same folder under the one plan "default": B's rows are refused as an unknown plan.
    with pytest.raises(SourceProblem) as refused:
        rate_folder(plan_folder(tmp_path), PERIOD, contract)
    assert "plan_assignments.csv: 1 row(s): plan is not one of the plans rated (default)" in str(
        refused.value
    )
    assert "eligibility.csv: 1 row(s): plan is not one of the plans rated (default)" in str(
        refused.value
    )


def test_plan_assignment_rows_are_checked_like_any_row(tmp_path: Path) -> None:
    assignments = f"""member_id,plan,start_date,end_date
{ADA},default,2026-01-01,2026-10-15
{ADA},c,2026-10-16,
{BEN},default,2026-13-01,
{BEN},b,2026-10-20,2026-10-01
"""
    folder = plan_folder(tmp_path, plan_assignments=assignments)
    with pytest.raises(SourceProblem) as refused:
        rate_folder(folder, PERIOD, two_plan_contracts())
    message = str(refused.value)
    assert "plan_assignments.csv: 1 row(s): plan is not one of the plans rated (default, b)" in (
        message
    )
    assert "plan_assignments.csv: 1 row(s): start_date is not a real date" in message
    assert "plan_assignments.csv: 1 row(s): end_date is before start_date" in message
    assert ADA not in message and BEN not in message  # member ids are PHI


def test_overlapping_plan_spans_of_a_member_are_refused(tmp_path: Path) -> None:
    # Ada's B span starts Oct 10, inside her first-plan span (to Oct 15): Oct 10-15 would
    # have two plans.
    assignments = f"""member_id,plan,start_date,end_date
{ADA},default,2026-01-01,2026-10-15
{ADA},b,2026-10-10,
{BEN},default,2026-01-01,
{BEN},b,2026-01-01,
"""
    folder = plan_folder(tmp_path, plan_assignments=assignments)
    with pytest.raises(SourceProblem) as refused:
        rate_folder(folder, PERIOD, two_plan_contracts())
    message = str(refused.value)
    assert "1 row(s): plan span(s) overlapping another of the same member" in message
    assert "1 row(s): plan span(s) given twice (same member and start_date)" in message


def test_several_plans_need_the_plan_assignments_file(tmp_path: Path) -> None:
    folder = folder_with(tmp_path)
    with pytest.raises(SourceProblem, match=re.escape("several plans (default, b): add a file")):
        rate_folder(folder, PERIOD, two_plan_contracts())


def test_the_plans_folder_is_read_in_name_order_unless_a_first_plan_is_named(
    tmp_path: Path,
) -> None:
    folder = write_plans(tmp_path / "plans")
    assert list(plans_from_folder(folder)) == [PLAN_B, DEFAULT_PLAN]
    plans = plans_from_folder(folder, first_plan=DEFAULT_PLAN)
    assert list(plans) == [DEFAULT_PLAN, PLAN_B]
    assert plans == two_plan_contracts()
    with pytest.raises(SourceProblem, match=re.escape("no c.toml")):
        plans_from_folder(folder, first_plan="c")


def test_rate_source_with_a_plans_folder_prints_each_plans_lines(tmp_path: Path) -> None:
    plans = write_plans(tmp_path / "plans")
    folder = plan_folder(tmp_path)
    args = ["rate", "--period", "2026-10", "--source", str(folder), "--json"]
    result = CliRunner().invoke(app, [*args, "--plans", str(plans), "--first-plan", "default"])
    assert result.exit_code == 0, result.output
    assert '"plan": "b"' in result.output
    assert "NO_PLAN" in result.output
    both = CliRunner().invoke(
        app, [*args, "--plans", str(plans), "--contract", str(plans / "b.toml")]
    )
    assert both.exit_code == 2
    assert "--plans or --contract" in both.output
