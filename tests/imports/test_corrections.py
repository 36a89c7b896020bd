"""Issue 12, items 4-8: nothing is overwritten or billed twice without a word. Through the
CLI, on SQLite and PostgreSQL, with the rating before and after and the claims of the next
close; and the honesty report and not-billed list unchanged by --replace-period with an
identical file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from ecmbill.domain.claims import Action
from ecmbill.domain.honesty import honesty_report
from tests.members.desk import CLOCK_TIME, ONLY_A_ENROLLED, OUTREACH, TIME, A, B, Desk

NO_ID_TIME = "staff_id,member_id,date,minutes,activity,modality"
NO_ID_OUTREACH = "staff_id,member_id,date,method,individualized,outcome"


def test_4_correcting_a_row_without_entry_id_does_not_bill_twice(
    engine: Engine, tmp_path: Path
) -> None:
    """A visit exported without an id, corrected from in person to telephonic."""
    desk = Desk(engine, tmp_path).team()
    desk.load("time", f"{NO_ID_TIME}\nC1,{A},2026-10-07,50,assessment,in_person")
    assert desk.lines() == [(A, "G9008", "U1", 50, 1)]
    assert desk.close() == {A: Action.ORIGINAL}

    corrected = f"{NO_ID_TIME}\nC1,{A},2026-10-07,50,assessment,telephonic"
    # Imported plainly it is a second visit, but not without a word: the row says how to
    # make it replace the first.
    plain = desk.load("time", corrected)
    assert "1 added, 0 updated, 0 unchanged, 0 deleted" in plain.output
    assert "another time entry of this staff member and member on 2026-10-07 is stored" in (
        plain.output
    )
    assert "import the month with --replace-period 2026-10" in plain.output
    # The month imported as the truth: the in-person row, no longer in the file, goes.
    replaced = desk.load("time", corrected, "--replace-period", "2026-10")
    assert "0 added, 0 updated, 1 unchanged, 1 deleted" in replaced.output

    assert desk.lines() == [(A, "G9008", "U1 GQ", 50, 1)]
    assert desk.close() == {A: Action.REPLACEMENT}
    (deleted,) = [row for row in desk.audit("time") if row[0] == "delete"]
    assert deleted[2] == "not in 07-time.csv, imported with --replace-period 2026-10"


def test_4_replace_period_refuses_rows_outside_the_month_and_imports_nothing_then(
    engine: Engine, tmp_path: Path
) -> None:
    desk = Desk(engine, tmp_path).team()
    desk.load("time", f"{TIME}\nT1,C1,{A},2026-10-07,50,assessment,in_person")
    result = desk.load("time", f"""
        {TIME}
        T2,C1,{A},2026-10-08,20,assessment,in_person
        T3,C1,{A},2026-09-30,20,assessment,in_person
    """, "--replace-period", "2026-10", code=2)  # fmt: skip
    assert "date is not in 2026-10, the month --replace-period replaces" in result.output
    assert "nothing imported" in result.output
    assert desk.lines() == [(A, "G9008", "U1", 50, 1)]
    wrong_kind = desk.load("members", "member_id,first_name,last_name,birth_date",
                           "--replace-period", "2026-10", code=2)  # fmt: skip
    assert "--replace-period is for time and outreach files" in wrong_kind.output


def test_5_an_entry_id_collision_is_refused_not_overwritten(engine: Engine, tmp_path: Path) -> None:
    """Entry 1 of one system (C1, member A, 45 minutes) and entry 1 of another (N1, member B)."""
    desk = Desk(engine, tmp_path).team()
    desk.load("time", f"{TIME}\n1,C1,{A},2026-10-05,45,assessment,in_person")
    assert desk.lines() == [(A, "G9008", "U1", 45, 1)]

    other = f"{TIME}\n1,N1,{B},2026-10-06,30,care_coordination,in_person"
    refused = desk.load("time", other, code=1)
    assert (
        "entry_id 1 is already stored for another staff member and member: ids are per source "
        "system, so give this system's file a source (a source column or --source)"
    ) in refused.output
    assert desk.lines() == [(A, "G9008", "U1", 45, 1)]  # A's 45 minutes are still billed

    namespaced = desk.load("time", other, "--source", "navigator")
    assert "1 added, 0 updated, 0 unchanged, 0 deleted" in namespaced.output
    assert desk.lines() == [(A, "G9008", "U1", 45, 1), (B, "G9012", "U2", 30, 1)]
    assert desk.rating().lines[1].source_ids == ("navigator:1",)
    assert desk.close() == {A: Action.ORIGINAL, B: Action.ORIGINAL}


def test_5_an_update_that_changes_date_or_code_says_so_per_row(
    engine: Engine, tmp_path: Path
) -> None:
    desk = Desk(engine, tmp_path).team()
    desk.claimed("time", f"""
        {TIME}
        E1,C1,{A},2026-10-05,45,assessment,in_person
        E2,C1,{A},2026-10-06,30,assessment,in_person
    """)  # fmt: skip
    result = desk.load("time", f"""
        {TIME}
        E1,C1,{A},2026-10-05,45,assessment,telephonic
        E2,C1,{A},2026-10-06,30,assessment,in_person
    """)  # fmt: skip
    assert "0 added, 1 updated, 1 unchanged, 0 deleted" in result.output
    assert "updates time entry E1: modality in_person -> telephonic" in result.output
    assert desk.lines() == [(A, "G9008", "U1", 30, 1), (A, "G9008", "U1 GQ", 45, 1)]
    assert desk.close() == {A: Action.REPLACEMENT}


def test_6_overlapping_clock_times_are_refused_not_summed(engine: Engine, tmp_path: Path) -> None:
    """One staff member, one member, 09:00-09:40 and 09:10-09:50: 50 minutes of work."""
    desk = Desk(engine, tmp_path).team()
    rows = f"""
        {CLOCK_TIME},minutes
        C1,{A},2026-10-07,09:00,09:40,assessment,in_person,
        C1,{A},2026-10-07,09:10,09:50,assessment,in_person,
        C1,{A},2026-10-07,,,care_coordination,in_person,30
    """
    refused = desk.load("time", rows, code=1)
    assert (
        "09:10-09:50 overlaps line 2 (09:00-09:40) of the same staff member on 2026-10-07"
    ) in refused.output
    # Minutes-only entries carry no clock time: never compared.
    assert desk.lines() == [(A, "G9008", "U1", 70, 2)]
    # Against a stored entry too, named by its id.
    again = desk.load("time", f"""
        {CLOCK_TIME}
        C1,{A},2026-10-07,09:30,10:00,care_coordination,telephonic
    """, code=1)  # fmt: skip
    assert "09:30-10:00 overlaps stored entry T-" in again.output
    assert desk.close() == {A: Action.ORIGINAL}


def test_6_overlapping_clock_times_are_merged_when_the_contract_says_so(
    engine: Engine, tmp_path: Path
) -> None:
    desk = Desk(engine, tmp_path).team()
    contract = str(desk.merge_contract())
    rows = f"""
        {CLOCK_TIME}
        C1,{A},2026-10-07,09:00,09:40,assessment,in_person
        C1,{A},2026-10-07,09:10,09:50,assessment,in_person
        C1,{A},2026-10-07,09:20,09:30,care_coordination,in_person
    """
    result = desk.load("time", rows, "--contract", contract, code=1)
    assert "1 added, 0 updated, 0 unchanged, 0 deleted" in result.output
    assert "merged with line 3 (09:10-09:50), which overlaps it: one entry of 09:00-09:50" in (
        result.output
    )
    # Another activity in the same minutes cannot be merged: whose time was it?
    assert "09:20-09:30 overlaps line 2 (09:00-09:50)" in result.output
    assert desk.lines() == [(A, "G9008", "U1", 50, 1)]
    again = desk.load("time", rows, "--contract", contract, code=1)
    assert "0 added, 0 updated, 1 unchanged, 0 deleted" in again.output
    assert desk.close() == {A: Action.ORIGINAL}


def test_7_two_real_attempts_on_one_day_without_ids_are_both_counted(
    engine: Engine, tmp_path: Path
) -> None:
    """Two phone attempts to B on 10-08, from a system that exports no ids."""
    desk = Desk(engine, tmp_path).team(enrolled=ONLY_A_ENROLLED)
    twice = f"""
        {NO_ID_OUTREACH}
        C1,{B},2026-10-08,phone,true,not_reached
        C1,{B},2026-10-08,phone,true,not_reached
    """
    refused = desk.load("outreach", twice, code=1)
    assert (
        "duplicate of line 2 (same staff, member, date and method: add an attempt_time column "
        "(or an attempt_id) to record both; a count column if the row stands for several "
        "attempts; or import with --distinct-rows to count identical rows apart)"
    ) in refused.output
    assert desk.lines() == [(B, "G9008", "U8 GQ", 0, 1)]

    # Any of the three ways records the second attempt; none of them a third.
    timed = desk.load("outreach", f"""
        {NO_ID_OUTREACH},attempt_time
        C1,{B},2026-10-08,phone,true,not_reached,
        C1,{B},2026-10-08,phone,true,not_reached,16:30
    """)  # fmt: skip
    assert "1 added, 0 updated, 1 unchanged" in timed.output
    assert len(desk.lines()) == 2
    distinct = desk.load("outreach", twice, "--distinct-rows")
    assert "1 added, 0 updated, 1 unchanged" in distinct.output
    counted = desk.load("outreach", f"""
        {NO_ID_OUTREACH},count
        C1,{B},2026-10-08,phone,true,not_reached,2
    """)  # fmt: skip
    assert "0 added, 0 updated, 2 unchanged" in counted.output
    assert desk.lines() == [(B, "G9008", "U8 GQ", 0, 1)] * 3
    assert desk.close() == {B: Action.ORIGINAL}


def test_7_two_visits_on_one_day_without_ids_are_both_counted(
    engine: Engine, tmp_path: Path
) -> None:
    desk = Desk(engine, tmp_path).team()
    twice = f"""
        {NO_ID_TIME}
        C1,{A},2026-10-08,40,assessment,in_person
        C1,{A},2026-10-08,40,assessment,in_person
    """
    refused = desk.load("time", twice, code=1)
    assert "add start_time and end_time columns (or an entry_id) to record both" in (refused.output)
    assert desk.lines() == [(A, "G9008", "U1", 40, 1)]
    desk.load("time", twice, "--distinct-rows")
    assert desk.lines() == [(A, "G9008", "U1", 80, 2)]
    with_id = desk.load("time", f"{TIME},count\nX1,C1,{A},2026-10-09,40,assessment,in_person,2",
                        code=1)  # fmt: skip
    assert "count above 1 needs a row without entry_id" in with_id.output
    assert desk.close() == {A: Action.ORIGINAL}


def test_8_members_utr_counts_the_attempts_of_a_reached_member(
    engine: Engine, tmp_path: Path
) -> None:
    desk = Desk(engine, tmp_path).team(enrolled=ONLY_A_ENROLLED)
    desk.load("outreach", f"""
        {OUTREACH}
        O1,C1,{B},2026-10-01,phone,true,not_reached
        O2,C1,{B},2026-10-05,text,true,not_reached
        O3,C1,{B},2026-10-09,in_person,true,reached
    """)  # fmt: skip
    result = desk("members", "utr", B, code=1)
    assert "Outreach attempts that count: 3" in result.output
    assert "2026-10-09  in_person  reached" in result.output


def test_replace_period_with_an_identical_file_leaves_honesty_and_not_billed_unchanged(
    engine: Engine, tmp_path: Path
) -> None:
    desk = Desk(engine, tmp_path).team(enrolled=ONLY_A_ENROLLED)
    time_file = f"""
        {NO_ID_TIME}
        C1,{A},2026-10-02,25,assessment,in_person
        C1,{A},2026-10-03,95,care_coordination,telephonic
        N1,{A},2026-10-04,30,care_coordination,in_person
        C1,{B},2026-10-05,20,assessment,in_person
        C1,{A},2026-10-06,15,billing,in_person
    """
    outreach_file = f"""
        {NO_ID_OUTREACH}
        C1,{B},2026-10-07,phone,true,not_reached
        C1,{B},2026-10-08,mail,false,not_reached
    """
    desk.load("time", time_file)
    desk.load("outreach", outreach_file)
    rating = desk.rating()
    honesty = honesty_report(rating.period, rating.lines, rating.not_billed)
    assert honesty.service_minutes == 150 and rating.not_billed

    again = desk.load("time", time_file, "--replace-period", "2026-10")
    assert "0 added, 0 updated, 5 unchanged, 0 deleted" in again.output
    desk.load("outreach", outreach_file, "--replace-period", "2026-10")
    after = desk.rating()
    assert honesty_report(after.period, after.lines, after.not_billed) == honesty
    assert after.not_billed == rating.not_billed
    assert after.as_json() == rating.as_json()


def test_6_a_file_to_rate_refuses_overlapping_clock_times_as_the_import_does(
    tmp_path: Path,
) -> None:
    """`rate --source` reads the same rule (``Interval.meets``): overlapping entries refuse
    the folder, touching ones and minutes-only ones do not."""
    from ecmbill.contract import default_contract
    from ecmbill.domain.period import Period
    from ecmbill.rating.file_checks import SourceProblem
    from ecmbill.rating.files import rate_folder

    files = {
        "staff": "staff_id,name,role\nC1,Carla,clinical\n",
        "eligibility": f"member_id,month,eligible\n{A},2026-10,true\n",
        "enrollments": f"member_id,start_date,end_date\n{A},2026-01-01,\n",
        "outreach": "attempt_id,staff_id,member_id,date,method,individualized,outcome\n",
    }
    time = f"entry_id,{CLOCK_TIME},minutes\n"

    def rate_with(rows: str) -> object:
        folder = tmp_path / f"month{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        for kind, text in {**files, "time": time + rows}.items():
            (folder / f"{kind}.csv").write_text(text, encoding="utf-8")
        return rate_folder(folder, Period(2026, 10), default_contract())

    touching = (
        f"T1,C1,{A},2026-10-07,09:00,09:40,assessment,in_person,\n"
        f"T2,C1,{A},2026-10-07,09:40,10:00,assessment,in_person,\n"
        f"T3,C1,{A},2026-10-07,,,assessment,in_person,30\n"
    )
    rated = rate_with(touching)
    assert [(x.minutes, x.units) for x in rated.lines] == [(90, 2)]  # type: ignore[attr-defined]
    try:
        rate_with(touching + f"T4,C1,{A},2026-10-07,09:10,09:50,assessment,in_person,\n")
    except SourceProblem as refused:
        assert (
            "time.csv: 2 row(s): time entries with clock times overlapping another entry of "
            "the same staff member on the same day (e.g. T1)"
        ) in str(refused)
    else:
        raise AssertionError("overlapping clock times were rated")
