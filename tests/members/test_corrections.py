"""Issue 12, items 1-3: reference data and entries recorded wrong are corrected through the
CLI (and the import), on SQLite and PostgreSQL; each test shows the rating before and after and
the claims of the next close."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from ecmbill.domain.claims import Action
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.members.desk import OUTREACH, TIME, A, B, Desk


def test_1_an_enrollment_start_date_can_be_corrected(engine: Engine, tmp_path: Path) -> None:
    """A's enrollment was keyed 2026-10-05 for 2026-10-01 (time on 10-02 did not bill); B's
    2026-10-01 for 2026-10-20 (outreach on 10-08 was refused as already enrolled)."""
    desk = Desk(engine, tmp_path).team(
        enrolled=f"""
            member_id,start_date,end_date
            {A},2026-10-05,
            {B},2026-10-01,
        """
    )
    desk.load("time", f"""
        {TIME}
        T1,C1,{A},2026-10-02,45,assessment,in_person
        T2,C1,{A},2026-10-06,45,assessment,in_person
    """)  # fmt: skip
    desk.load("outreach", f"""
        {OUTREACH}
        O1,C1,{B},2026-10-08,phone,true,not_reached
    """)  # fmt: skip
    assert desk.lines() == [(A, "G9008", "U1", 45, 1)]
    assert desk.not_billed() == {"T1": "NOT_ENROLLED", "O1": "ALREADY_ENROLLED"}
    assert desk.close() == {A: Action.ORIGINAL}

    # The CLI: the start moves back, and the closed month is re-rated.
    fixed = desk(
        "members", "correct-span", A, "2026-10-05", "--start", "2026-10-01",
        "--reason", "keyed 10-05 for 10-01",
    )  # fmt: skip
    assert "enrollment span from 2026-10-05 to open: now from 2026-10-01 to open" in fixed.output
    assert "G9008 U1 x1" in fixed.output and "G9008 U1 x2" in fixed.output
    assert "sends a replacement or void" in fixed.output
    # The import: a corrected row names the stored span it replaces by its start.
    imported = desk.load("enrollments", f"""
        member_id,start_date,end_date,replaces_start
        {B},2026-10-20,,2026-10-01
    """)  # fmt: skip
    assert "changes billing of 2026-10 (closed: close it again)" in imported.output

    assert desk.lines() == [(A, "G9008", "U1", 90, 2), (B, "G9008", "U8 GQ", 0, 1)]
    assert desk.not_billed() == {}
    assert desk.close() == {A: Action.REPLACEMENT, B: Action.ORIGINAL}
    assert desk.audit("enrollments")[-2:] == [
        ("update", f"{A}/2026-10-05", "keyed 10-05 for 10-01"),
        ("update", f"{B}/2026-10-01", "replaces_start in 07-enrollments.csv, line 2"),
    ]
    with unit_of_work(engine) as session:
        marks = session.scalars(select(models.RerateMark.member_id)).all()
    assert sorted(marks) == [A, B]


def test_1_a_span_that_would_overlap_another_is_refused_in_words(
    engine: Engine, tmp_path: Path
) -> None:
    desk = Desk(engine, tmp_path).team(
        enrolled=f"""
            member_id,start_date,end_date
            {A},2026-01-01,2026-06-30
            {A},2026-10-05,
        """
    )
    refused = desk(
        "members", "correct-span", A, "2026-10-05", "--start", "2026-06-01", "--reason", "x",
        code=1,
    )  # fmt: skip
    assert "would overlap another from 2026-01-01 to 2026-06-30" in refused.output
    no_reason = desk("members", "correct-span", A, "2026-10-05", "--remove", "--reason", " ",
                     code=1)  # fmt: skip
    assert "give a reason" in no_reason.output
    missing = desk("members", "correct-span", A, "2026-10-06", "--remove", "--reason", "x",
                   code=1)  # fmt: skip
    assert "no enrollment span from 2026-10-06 is stored" in missing.output


def test_2_a_role_start_date_can_be_corrected(engine: Engine, tmp_path: Path) -> None:
    """S1 was keyed clinical from 2026-10-10 for 2026-10-01: the entry of 10-02 had no role."""
    desk = Desk(engine, tmp_path).team()
    desk.load("staff", """
        staff_id,name,role,npi,effective_from,effective_to
        S1,Sam New,clinical,,2026-10-10,
    """)  # fmt: skip
    desk.load("time", f"""
        {TIME}
        T1,S1,{A},2026-10-02,30,care_coordination,in_person
        T2,S1,{A},2026-10-12,40,care_coordination,in_person
    """)  # fmt: skip
    assert desk.lines() == [(A, "G9008", "U1", 40, 1)]
    assert desk.not_billed() == {"T1": "NO_ROLE"}
    assert desk.close() == {A: Action.ORIGINAL}

    # Importing the fixed row is still refused: it would overlap the stored period ...
    refused = desk.load("staff", """
        staff_id,name,role,npi,effective_from,effective_to
        S1,Sam New,clinical,,2026-10-01,
    """, code=1)  # fmt: skip
    assert "role period overlaps a role already stored" in refused.output
    # ... the correction says which stored period it corrects.
    fixed = desk(
        "staff", "correct-role", "S1", "2026-10-10", "--from", "2026-10-01",
        "--reason", "started on the 1st",
    )  # fmt: skip
    assert (
        "role period of S1 from 2026-10-10 to open: now clinical from 2026-10-01 to open"
        in fixed.output
    )
    assert "G9008 U1 x2" in fixed.output
    listed = desk("staff", "roles", "S1")
    assert "2026-10-01" in listed.output and "2026-10-10" not in listed.output

    assert desk.lines() == [(A, "G9008", "U1", 70, 2)]
    assert desk.not_billed() == {}
    assert desk.close() == {A: Action.REPLACEMENT}
    assert desk.audit("staff")[-1] == ("update", "S1/2026-10-10", "started on the 1st")


def test_2_a_role_period_is_corrected_by_import_with_replaces_from(
    engine: Engine, tmp_path: Path
) -> None:
    desk = Desk(engine, tmp_path).team()
    desk.load("staff", """
        staff_id,name,role,npi,effective_from,effective_to
        S1,Sam New,clinical,,2026-10-10,
    """)  # fmt: skip
    desk.load("time", f"{TIME}\nT1,S1,{A},2026-10-02,30,care_coordination,in_person")
    assert desk.not_billed() == {"T1": "NO_ROLE"}
    desk.load("staff", """
        staff_id,name,role,npi,effective_from,effective_to,replaces_from
        S1,Sam New,non_clinical,,2026-10-01,,2026-10-10
    """)  # fmt: skip
    assert desk.lines() == [(A, "G9012", "U2", 30, 1)]


def test_3_an_entry_recorded_in_error_can_be_deleted_after_its_period_is_closed(
    engine: Engine, tmp_path: Path
) -> None:
    """A time entry and an outreach attempt recorded in error, found after the close."""
    desk = Desk(engine, tmp_path).team(
        enrolled=f"""
            member_id,start_date,end_date
            {A},2026-01-01,
            {B},2026-11-01,
        """
    )
    desk.load("time", f"""
        {TIME}
        T1,C1,{A},2026-10-05,50,assessment,in_person
        T2,C1,{A},2026-10-06,30,assessment,in_person
    """)  # fmt: skip
    desk.load("outreach", f"{OUTREACH}\nO1,C1,{B},2026-10-08,phone,true,not_reached")
    assert desk.lines() == [(A, "G9008", "U1", 80, 2), (B, "G9008", "U8 GQ", 0, 1)]
    assert desk.close() == {A: Action.ORIGINAL, B: Action.ORIGINAL}

    without = desk("time", "delete", "T2", code=2)
    assert "--reason" in without.output
    deleted = desk("time", "delete", "T2", "--reason", "visit was cancelled")
    assert "time entry T2: deleted" in deleted.output
    assert "G9008 U1 x2" in deleted.output and "G9008 U1 x1" in deleted.output
    gone = desk("outreach", "delete", "O1", "--reason", "wrong member")
    assert "nothing billed" in gone.output
    again = desk("time", "delete", "T2", "--reason", "twice", code=1)
    assert "nothing stored to correct" in again.output

    assert desk.lines() == [(A, "G9008", "U1", 50, 1)]
    assert desk.close() == {A: Action.REPLACEMENT, B: Action.VOID}
    assert desk.audit("time")[-1] == ("delete", "T2", "visit was cancelled")
    assert desk.audit("outreach")[-1] == ("delete", "O1", "wrong member")


def test_3_an_import_row_with_action_delete_deletes_the_entry(
    engine: Engine, tmp_path: Path
) -> None:
    desk = Desk(engine, tmp_path).team()
    desk.claimed("time", f"""
        {TIME}
        T1,C1,{A},2026-10-05,50,assessment,in_person
        T2,C1,{A},2026-10-06,30,assessment,in_person
    """)  # fmt: skip
    result = desk.load("time", f"""
        {TIME},action
        T2,C1,{A},2026-10-06,30,assessment,in_person,delete
        T9,C1,{A},2026-10-06,30,assessment,in_person,delete
    """, code=1)  # fmt: skip
    assert "0 added, 0 updated, 0 unchanged, 1 deleted" in result.output
    assert "no stored time entry with entry_id T9 to delete" in result.output
    assert desk.lines() == [(A, "G9008", "U1", 50, 1)]
    assert desk.close() == {A: Action.REPLACEMENT}
    assert desk.audit("time")[-1] == ("delete", "T2", "action delete in 06-time.csv, line 2")


def test_an_eligibility_month_can_be_corrected_or_removed(engine: Engine, tmp_path: Path) -> None:
    desk = Desk(engine, tmp_path).team()
    desk.load("time", f"{TIME}\nT1,C1,{A},2026-10-05,50,assessment,in_person")
    assert desk.close() == {A: Action.ORIGINAL}
    fixed = desk(
        "members", "correct-eligibility", A, "2026-10", "--eligible", "no", "--reason", "plan file"
    )
    assert "eligibility of 2026-10: now not eligible" in fixed.output
    assert desk.not_billed() == {"T1": "NOT_ELIGIBLE"}
    assert desk.close() == {A: Action.VOID}
    desk("members", "correct-eligibility", A, "2026-10", "--remove", "--reason", "keyed twice")
    assert desk.not_billed() == {"T1": "NOT_ELIGIBLE"}
    listed = desk("members", "spans", A)
    assert "2026-10" not in listed.output
