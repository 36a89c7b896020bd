"""One test per billing rule of docs/billing-rules.md, with its worked numbers.

Each test imports small CSV files (inline, like a ledger) through the real importer and rates
the period through the real Ibis expression, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import date

import pytest

from ecmbill.imports.batch import Rejection
from ecmbill.store import fieldwork as stored_work
from tests.builders import MEMBER, STAFF, Ledger, lines, only_line, reasons

TIME = "entry_id,staff_id,member_id,date,minutes,activity,modality"
OUTREACH = "attempt_id,staff_id,member_id,date,method,individualized,outcome,minutes"


# Rule 2: team time is summed per member, period, code and modifiers, rounded up once.


def test_team_time_three_staff_times_25_minutes_same_code_is_75_minutes_and_2_units(
    book: Ledger,
) -> None:
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-02,25,care_coordination,in_person
        T2,C2,10000001A,2026-10-14,25,case_conference,in_person
        T3,C3,10000001A,2026-10-30,25,assessment,in_person
        """,
    )
    line = only_line(book.rate())
    assert (line.code, line.modifiers, line.minutes, line.units) == ("G9008", ("U1",), 75, 2)
    assert (line.first_date, line.last_date) == (date(2026, 10, 2), date(2026, 10, 30))
    assert line.source_ids == ("T1", "T2", "T3")


@pytest.mark.parametrize(("minutes", "units"), [(59, 1), (60, 1), (61, 2), (120, 2), (121, 3)])
def test_units_are_minutes_divided_by_60_rounded_up(book: Ledger, minutes: int, units: int) -> None:
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-05,{minutes},care_coordination,in_person
        """,
    )
    assert lines(book.rate()) == [(MEMBER, "G9008", ("U1",), minutes, units)]


def test_59_minutes_in_several_entries_is_still_one_unit(book: Ledger) -> None:
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-05,20,care_coordination,in_person
        T2,C1,10000001A,2026-10-06,20,documentation,in_person
        T3,C2,10000001A,2026-10-07,19,phone_call,in_person
        """,
    )
    assert lines(book.rate()) == [(MEMBER, "G9008", ("U1",), 59, 1)]


def test_zero_minutes_makes_no_line_the_import_refuses_it_with_a_reason(book: Ledger) -> None:
    result = book.load(
        "time",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-05,0,care_coordination,in_person
        """,
        expect_exit=1,
    )
    assert result.rejections == [Rejection(2, "minutes", "minutes must be more than 0")]
    rating = book.rate()
    assert rating.lines == ()
    assert rating.not_billed == ()


def test_a_partial_hour_does_not_carry_into_the_next_month(book: Ledger) -> None:
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-31,30,care_coordination,in_person
        T2,C1,10000001A,2026-11-01,30,care_coordination,in_person
        """,
    )
    assert lines(book.rate("2026-10")) == [(MEMBER, "G9008", ("U1",), 30, 1)]
    assert lines(book.rate("2026-11")) == [(MEMBER, "G9008", ("U1",), 30, 1)]


def test_different_codes_are_separate_lines_each_rounded_up(book: Ledger) -> None:
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-05,30,care_coordination,in_person
        T2,N1,10000001A,2026-10-05,30,care_coordination,in_person
        """,
    )
    assert lines(book.rate()) == [
        (MEMBER, "G9008", ("U1",), 30, 1),
        (MEMBER, "G9012", ("U2",), 30, 1),
    ]


# Rule 1: code and modifiers from role, modality and outreach/service.


def test_telephonic_time_bills_with_the_gq_modifier_after_the_role_modifier(book: Ledger) -> None:
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-05,45,phone_call,telephonic
        T2,N1,10000001A,2026-10-06,45,care_coordination,telephonic
        T3,C1,10000001A,2026-10-07,45,assessment,in_person
        """,
    )
    assert lines(book.rate()) == [
        (MEMBER, "G9008", ("U1",), 45, 1),
        (MEMBER, "G9008", ("U1", "GQ"), 45, 1),
        (MEMBER, "G9012", ("U2", "GQ"), 45, 1),
    ]


def test_staff_whose_role_changes_mid_month_bills_under_both_codes(
    empty_book: Ledger,
) -> None:
    book = empty_book
    book.load(
        "staff",
        """
        staff_id,name,role,npi,effective_from,effective_to
        P1,Pat Promoted,non_clinical,,2026-01-01,2026-10-15
        P1,Pat Promoted,clinical,,2026-10-16,
        """,
    )
    book.load("members", "member_id,first_name,last_name,birth_date\n10000001A,A,B,1970-01-01")
    book.load("eligibility", "member_id,month,eligible\n10000001A,2026-10,true")
    book.load("enrollments", "member_id,start_date,end_date\n10000001A,2026-01-01,")
    book.load(
        "time",
        f"""
        {TIME}
        T1,P1,10000001A,2026-10-15,50,care_coordination,in_person
        T2,P1,10000001A,2026-10-16,50,care_coordination,in_person
        T3,P1,10000001A,2026-10-20,20,care_coordination,in_person
        """,
    )
    assert lines(book.rate()) == [
        (MEMBER, "G9008", ("U1",), 70, 2),
        (MEMBER, "G9012", ("U2",), 50, 1),
    ]


def test_staff_without_a_role_on_the_date_is_refused_no_role(empty_book: Ledger) -> None:
    book = empty_book
    book.load(
        "staff",
        """
        staff_id,name,role,npi,effective_from,effective_to
        L1,Lee Late,clinical,,2026-10-20,
        """,
    )
    book.load("members", "member_id,first_name,last_name,birth_date\n10000001A,A,B,1970-01-01")
    book.load("eligibility", "member_id,month,eligible\n10000001A,2026-10,true")
    book.load("enrollments", "member_id,start_date,end_date\n10000001A,2026-01-01,")
    book.load(
        "time",
        f"""
        {TIME}
        T1,L1,10000001A,2026-10-19,30,care_coordination,in_person
        T2,L1,10000001A,2026-10-20,30,care_coordination,in_person
        """,
    )
    rating = book.rate()
    assert lines(rating) == [(MEMBER, "G9008", ("U1",), 30, 1)]
    assert reasons(rating.not_billed) == {
        "T1": (
            "NO_ROLE",
            "not billable: staff L1 has no clinical or non-clinical role on 2026-10-19",
        )
    }


# Rule 3: outreach is one unit per attempt, before enrollment only.


def test_outreach_three_attempts_are_three_units_whatever_their_minutes(
    book: Ledger,
) -> None:
    book.load("enrollments", "member_id,start_date,end_date\n10000002B,2026-09-01,2026-09-30")
    book.load(
        "outreach",
        f"""
        {OUTREACH}
        O1,C1,10000002B,2026-10-02,phone,true,not_reached,2
        O2,N1,10000002B,2026-10-09,in_person,true,not_reached,95
        O3,N1,10000002B,2026-10-16,text,true,not_reached,
        """,
    )
    rating = book.rate()
    assert [
        (x.code, x.modifiers, x.kind.value, x.minutes, x.units, x.first_date, x.last_date)
        for x in rating.lines
    ] == [
        ("G9008", ("U8", "GQ"), "outreach", 2, 1, date(2026, 10, 2), date(2026, 10, 2)),
        ("G9012", ("U8",), "outreach", 95, 1, date(2026, 10, 9), date(2026, 10, 9)),
        ("G9012", ("U8", "GQ"), "outreach", 0, 1, date(2026, 10, 16), date(2026, 10, 16)),
    ]
    assert [x.source_ids for x in rating.lines] == [("O1",), ("O2",), ("O3",)]
    assert sum(x.units for x in rating.lines) == 3


def test_outreach_of_the_same_code_on_the_same_day_is_still_one_line_per_attempt(
    book: Ledger,
) -> None:
    book.load("enrollments", "member_id,start_date,end_date\n10000002B,2026-09-01,2026-09-30")
    book.load(
        "outreach",
        f"""
        {OUTREACH}
        O1,C1,10000002B,2026-10-02,phone,true,not_reached,5
        O2,C1,10000002B,2026-10-02,phone,true,not_reached,5
        """,
    )
    assert [(x.source_ids, x.units) for x in book.rate().lines] == [(("O1",), 1), (("O2",), 1)]


def test_outreach_on_or_after_enrollment_start_is_refused_already_enrolled(
    empty_book: Ledger,
) -> None:
    book = empty_book
    book.load("staff", "staff_id,name,role\nC1,Carla,clinical")
    book.load("members", "member_id,first_name,last_name,birth_date\n10000001A,A,B,1970-01-01")
    book.load("eligibility", "member_id,month,eligible\n10000001A,2026-10,true")
    book.load("enrollments", "member_id,start_date,end_date\n10000001A,2026-10-10,")
    book.load(
        "outreach",
        f"""
        {OUTREACH}
        O1,C1,10000001A,2026-10-09,phone,true,not_reached,
        O2,C1,10000001A,2026-10-10,phone,true,reached,
        O3,C1,10000001A,2026-10-11,in_person,true,reached,
        """,
    )
    rating = book.rate()
    assert [x.source_ids for x in rating.lines] == [("O1",)]
    refused = "member already enrolled: record an ECM service instead"
    assert reasons(rating.not_billed) == {
        "O2": ("ALREADY_ENROLLED", refused),
        "O3": ("ALREADY_ENROLLED", refused),
    }


def test_outreach_after_a_closed_enrollment_ended_bills_again(book: Ledger) -> None:
    book.load("enrollments", "member_id,start_date,end_date\n10000002B,2026-09-01,2026-10-10")
    book.load(
        "outreach",
        f"""
        {OUTREACH}
        O1,C1,10000002B,2026-10-10,phone,true,not_reached,
        O2,C1,10000002B,2026-10-11,phone,true,not_reached,
        """,
    )
    rating = book.rate()
    assert [x.source_ids for x in rating.lines] == [("O2",)]
    assert reasons(rating.not_billed)["O1"][0] == "ALREADY_ENROLLED"


# Rule 4: mass communications are not outreach.


def test_mass_mailing_is_refused_as_outreach(book: Ledger) -> None:
    book.load("enrollments", "member_id,start_date,end_date\n10000002B,2026-09-01,2026-09-30")
    book.load(
        "outreach",
        f"""
        {OUTREACH}
        O1,N1,10000002B,2026-10-02,mail,false,not_reached,
        O2,N1,10000002B,2026-10-03,text,false,not_reached,
        O3,N1,10000002B,2026-10-04,email,false,not_reached,
        """,
    )
    rating = book.rate()
    assert rating.lines == ()
    assert reasons(rating.not_billed) == {
        "O1": (
            "MASS_COMMUNICATION",
            "not outreach: a mass communication (mail) does not count as an outreach attempt",
        ),
        "O2": (
            "MASS_COMMUNICATION",
            "not outreach: a mass communication (text) does not count as an outreach attempt",
        ),
        "O3": (
            "MASS_COMMUNICATION",
            "not outreach: a mass communication (email) does not count as an outreach attempt",
        ),
    }


def test_an_individualized_letter_is_not_a_billable_outreach_method(book: Ledger) -> None:
    book.load("enrollments", "member_id,start_date,end_date\n10000002B,2026-09-01,2026-09-30")
    book.load(
        "outreach",
        f"""
        {OUTREACH}
        O1,N1,10000002B,2026-10-02,mail,true,not_reached,
        """,
    )
    assert reasons(book.rate().not_billed) == {
        "O1": (
            "NOT_REIMBURSABLE",
            "not reimbursable: outreach by mail is not a billable method in this contract",
        )
    }


# Rule 5: services bill only inside an ECM enrollment span.


def test_service_outside_every_enrollment_span_is_refused_not_enrolled(
    empty_book: Ledger,
) -> None:
    book = empty_book
    book.load("staff", "staff_id,name,role\nC1,Carla,clinical")
    book.load("members", "member_id,first_name,last_name,birth_date\n10000001A,A,B,1970-01-01")
    book.load("eligibility", "member_id,month,eligible\n10000001A,2026-10,true")
    book.load(
        "enrollments",
        """
        member_id,start_date,end_date
        10000001A,2026-10-10,2026-10-20
        10000001A,2026-10-25,
        """,
    )
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-09,30,care_coordination,in_person
        T2,C1,10000001A,2026-10-10,30,care_coordination,in_person
        T3,C1,10000001A,2026-10-20,30,care_coordination,in_person
        T4,C1,10000001A,2026-10-21,30,care_coordination,in_person
        T5,C1,10000001A,2026-10-26,30,care_coordination,in_person
        """,
    )
    rating = book.rate()
    assert only_line(rating).source_ids == ("T2", "T3", "T5")
    assert only_line(rating).units == 2
    assert reasons(rating.not_billed) == {
        "T1": ("NOT_ENROLLED", "not billable: member not enrolled in ECM on 2026-10-09"),
        "T4": ("NOT_ENROLLED", "not billable: member not enrolled in ECM on 2026-10-21"),
    }


# Rule 6: eligibility is per month, and arrives late.


def test_ineligible_month_is_refused_and_billed_once_eligibility_arrives(book: Ledger) -> None:
    book.load("eligibility", "member_id,month,eligible\n10000001A,2026-10,false")
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-05,40,care_coordination,in_person
        T2,C2,10000001A,2026-10-06,40,care_coordination,in_person
        """,
    )
    before = book.rate()
    assert before.lines == ()
    ineligible = ("NOT_ELIGIBLE", "not billable: member not eligible in 2026-10")
    assert reasons(before.not_billed) == {"T1": ineligible, "T2": ineligible}

    late = book.load("eligibility", "member_id,month,eligible\n10000001A,2026-10,true")
    assert late.changed == 1
    after = book.rate()
    assert after.not_billed == ()
    assert lines(after) == [(MEMBER, "G9008", ("U1",), 80, 2)]
    assert only_line(after).source_ids == ("T1", "T2")


def test_a_month_with_no_eligibility_row_is_not_eligible(empty_book: Ledger) -> None:
    book = empty_book
    book.load("staff", "staff_id,name,role\nC1,Carla,clinical")
    book.load("members", "member_id,first_name,last_name,birth_date\n10000001A,A,B,1970-01-01")
    book.load("eligibility", "member_id,month,eligible\n10000001A,2026-09,true")
    book.load("enrollments", "member_id,start_date,end_date\n10000001A,2026-01-01,")
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-05,40,care_coordination,in_person
        """,
    )
    assert reasons(book.rate().not_billed) == {
        "T1": ("NOT_ELIGIBLE", "not billable: member not eligible in 2026-10")
    }


def test_outreach_in_an_ineligible_month_is_refused_not_eligible(book: Ledger) -> None:
    book.load("enrollments", "member_id,start_date,end_date\n10000002B,2026-09-01,2026-09-30")
    book.load("eligibility", "member_id,month,eligible\n10000002B,2026-10,false")
    book.load(
        "outreach",
        f"""
        {OUTREACH}
        O1,C1,10000002B,2026-10-02,phone,true,not_reached,
        """,
    )
    assert reasons(book.rate().not_billed) == {
        "O1": ("NOT_ELIGIBLE", "not billable: member not eligible in 2026-10")
    }


# Rule 7: not reimbursable activities are kept and marked.


@pytest.mark.parametrize(
    ("activity", "why"),
    [
        ("administrative", "administrative overhead is not an ECM service"),
        ("billing", "billing and claims work is not an ECM service"),
        ("other_contract", "the service is covered under another contract"),
    ],
)
def test_non_reimbursable_activity_is_refused_not_reimbursable(
    book: Ledger, activity: str, why: str
) -> None:
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-05,30,{activity},in_person
        T2,C1,10000001A,2026-10-06,30,care_coordination,in_person
        """,
    )
    rating = book.rate()
    assert lines(rating) == [(MEMBER, "G9008", ("U1",), 30, 1)]
    assert reasons(rating.not_billed) == {"T1": ("NOT_REIMBURSABLE", f"not reimbursable: {why}")}


# Rule 9: every entry that does not bill says why; one reason, the first that applies.


@pytest.mark.parametrize(
    ("eligible", "enrolled_from", "activity", "role_from", "approved", "expected"),
    [
        ("false", "2026-10-20", "administrative", "2026-10-20", False, "NOT_ELIGIBLE"),
        ("true", "2026-10-20", "administrative", "2026-10-20", False, "NOT_ENROLLED"),
        ("true", "2026-10-01", "administrative", "2026-10-20", False, "NOT_REIMBURSABLE"),
        ("true", "2026-10-01", "care_plan", "2026-10-20", False, "NO_ROLE"),
        ("true", "2026-10-01", "care_plan", "2026-10-01", False, "NOT_APPROVED"),
        ("true", "2026-10-01", "care_plan", "2026-10-01", True, None),
    ],
)
def test_reason_precedence_for_time_reports_the_first_reason_that_applies(
    empty_book: Ledger,
    eligible: str,
    enrolled_from: str,
    activity: str,
    role_from: str,
    approved: bool,
    expected: str | None,
) -> None:
    # Under a contract that requires approval, so that every reason is seen to come before
    # NOT_APPROVED (an unapproved entry reports the others first).
    book = empty_book
    book.contract = book.contract.model_copy(update={"require_approval": True})
    book.load("staff", f"staff_id,name,role,effective_from\nC1,Carla,clinical,{role_from}")
    book.load("members", "member_id,first_name,last_name,birth_date\n10000001A,A,B,1970-01-01")
    book.load("eligibility", f"member_id,month,eligible\n10000001A,2026-10,{eligible}")
    book.load("enrollments", f"member_id,start_date,end_date\n10000001A,{enrolled_from},")
    book.load("time", f"{TIME}\nT1,C1,10000001A,2026-10-05,30,{activity},in_person")
    if approved:
        stored_work.approve(book.engine, "T1", actor="sam")
    rating = book.rate()
    assert [x.reason_code.value for x in rating.not_billed] == ([expected] if expected else [])
    assert len(rating.lines) == (0 if expected else 1)


@pytest.mark.parametrize(
    ("eligible", "enrolled_from", "method", "individualized", "role_from", "expected"),
    [
        ("false", "2026-10-01", "mail", "false", "2026-10-20", "NOT_ELIGIBLE"),
        ("true", "2026-10-01", "mail", "false", "2026-10-20", "ALREADY_ENROLLED"),
        ("true", "2026-11-01", "mail", "false", "2026-10-20", "MASS_COMMUNICATION"),
        ("true", "2026-11-01", "mail", "true", "2026-10-20", "NOT_REIMBURSABLE"),
        ("true", "2026-11-01", "phone", "true", "2026-10-20", "NO_ROLE"),
        ("true", "2026-11-01", "phone", "true", "2026-10-01", None),
    ],
)
def test_reason_precedence_for_outreach_reports_the_first_reason_that_applies(
    empty_book: Ledger,
    eligible: str,
    enrolled_from: str,
    method: str,
    individualized: str,
    role_from: str,
    expected: str | None,
) -> None:
    book = empty_book
    book.load("staff", f"staff_id,name,role,effective_from\nN1,Nico,non_clinical,{role_from}")
    book.load("members", "member_id,first_name,last_name,birth_date\n10000001A,A,B,1970-01-01")
    book.load("eligibility", f"member_id,month,eligible\n10000001A,2026-10,{eligible}")
    book.load("enrollments", f"member_id,start_date,end_date\n10000001A,{enrolled_from},")
    book.load(
        "outreach",
        f"{OUTREACH}\nO1,N1,10000001A,2026-10-05,{method},{individualized},not_reached,",
    )
    rating = book.rate()
    assert [x.reason_code.value for x in rating.not_billed] == ([expected] if expected else [])
    assert len(rating.lines) == (0 if expected else 1)


# The period, the order of lines, and the JSON others read.


def test_only_entries_dated_inside_the_period_appear(book: Ledger) -> None:
    book.load(
        "time",
        f"""
        {TIME}
        T0930,C1,10000001A,2026-09-30,30,care_coordination,in_person
        T1001,C1,10000001A,2026-10-01,30,care_coordination,in_person
        T1031,C1,10000001A,2026-10-31,30,care_coordination,in_person
        T1101,C1,10000001A,2026-11-01,30,care_coordination,in_person
        A0930,C1,10000001A,2026-09-30,30,administrative,in_person
        A1015,C1,10000001A,2026-10-15,30,administrative,in_person
        A1101,C1,10000001A,2026-11-01,30,administrative,in_person
        """,
    )
    book.load(
        "outreach",
        f"""
        {OUTREACH}
        O0930,C1,10000001A,2026-09-30,phone,true,not_reached,
        O1101,C1,10000001A,2026-11-01,phone,true,not_reached,
        """,
    )
    rating = book.rate("2026-10")
    assert only_line(rating).source_ids == ("T1001", "T1031")
    assert [x.id for x in rating.not_billed] == ["A1015"]


def test_lines_are_sorted_by_member_kind_code_modifiers_and_date(book: Ledger) -> None:
    book.load(
        "enrollments",
        """
        member_id,start_date,end_date
        10000002B,2026-09-01,2026-09-30
        10000002B,2026-10-15,
        """,
    )
    book.load(
        "time",
        f"""
        {TIME}
        T1,N1,10000002B,2026-10-20,30,care_coordination,telephonic
        T2,C1,10000002B,2026-10-21,30,care_coordination,telephonic
        T3,N1,10000002B,2026-10-22,30,care_coordination,in_person
        T4,C1,10000002B,2026-10-23,30,care_coordination,in_person
        T5,C1,10000001A,2026-10-24,30,care_coordination,telephonic
        """,
    )
    book.load(
        "outreach",
        f"""
        {OUTREACH}
        O1,N1,10000002B,2026-10-09,phone,true,not_reached,
        O2,C1,10000002B,2026-10-08,in_person,true,not_reached,
        O3,C1,10000002B,2026-10-02,phone,true,not_reached,
        O4,C1,10000002B,2026-10-01,phone,true,not_reached,
        """,
    )
    assert [
        (x.member_id, x.kind.value, x.code, x.modifiers, x.source_ids) for x in book.rate().lines
    ] == [
        ("10000001A", "service", "G9008", ("U1", "GQ"), ("T5",)),
        ("10000002B", "outreach", "G9008", ("U8",), ("O2",)),
        ("10000002B", "outreach", "G9008", ("U8", "GQ"), ("O4",)),
        ("10000002B", "outreach", "G9008", ("U8", "GQ"), ("O3",)),
        ("10000002B", "outreach", "G9012", ("U8", "GQ"), ("O1",)),
        ("10000002B", "service", "G9008", ("U1",), ("T4",)),
        ("10000002B", "service", "G9008", ("U1", "GQ"), ("T2",)),
        ("10000002B", "service", "G9012", ("U2",), ("T3",)),
        ("10000002B", "service", "G9012", ("U2", "GQ"), ("T1",)),
    ]


def test_rating_json_has_exactly_the_documented_shape(book: Ledger) -> None:
    book.load(
        "enrollments",
        """
        member_id,start_date,end_date
        10000002B,2026-09-01,2026-09-30
        10000002B,2026-10-15,
        """,
    )
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-02,50,care_coordination,telephonic
        T2,C2,10000001A,2026-10-30,25,care_coordination,telephonic
        T3,C1,10000001A,2026-10-03,15,billing,in_person
        """,
    )
    book.load(
        "outreach",
        f"""
        {OUTREACH}
        O1,N1,10000002B,2026-10-09,in_person,true,not_reached,20
        O2,N1,10000002B,2026-10-10,mail,false,not_reached,
        """,
    )
    assert book.rate().as_json() == {
        "period": "2026-10",
        "lines": [
            {
                "member_id": "10000001A",
                "plan": "default",
                "code": "G9008",
                "modifiers": ["U1", "GQ"],
                "kind": "service",
                "minutes": 75,
                "units": 2,
                "first_date": "2026-10-02",
                "last_date": "2026-10-30",
                "source_ids": ["T1", "T2"],
            },
            {
                "member_id": "10000002B",
                "plan": "default",
                "code": "G9012",
                "modifiers": ["U8"],
                "kind": "outreach",
                "minutes": 20,
                "units": 1,
                "first_date": "2026-10-09",
                "last_date": "2026-10-09",
                "source_ids": ["O1"],
            },
        ],
        "not_billed": [
            {
                "source": "time",
                "id": "T3",
                "reason_code": "NOT_REIMBURSABLE",
                "reason": "not reimbursable: billing and claims work is not an ECM service",
            },
            {
                "source": "outreach",
                "id": "O2",
                "reason_code": "MASS_COMMUNICATION",
                "reason": "not outreach: a mass communication (mail) does not count as an "
                "outreach attempt",
            },
        ],
    }


def test_nothing_is_dropped_every_entry_of_the_period_bills_or_says_why(book: Ledger) -> None:
    book.load("eligibility", "member_id,month,eligible\n10000002B,2026-10,false")
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-02,50,care_coordination,telephonic
        T2,C1,10000002B,2026-10-02,50,care_coordination,telephonic
        T3,C1,10000001A,2026-10-03,15,billing,in_person
        T4,N1,10000001A,2026-10-03,15,assessment,in_person
        """,
    )
    rating = book.rate()
    billed = [i for x in rating.lines for i in x.source_ids]
    refused = [x.id for x in rating.not_billed]
    assert sorted(billed + refused) == ["T1", "T2", "T3", "T4"]


def test_reimporting_the_staff_file_does_not_double_the_units(book: Ledger) -> None:
    """Staff rows without effective dates: a second import of the same file must not add a
    second role, or every entry would join twice and bill twice."""
    again = book.load("staff", STAFF)
    assert again.changed == 0
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-05,50,care_coordination,in_person
        """,
    )
    assert lines(book.rate()) == [(MEMBER, "G9008", ("U1",), 50, 1)]


# Rule 10: under a contract that requires approval, only time a supervisor approved bills.

APPROVAL_REASON = "not billable yet: awaiting a supervisor's approval (the contract requires it)"


def requiring_approval(book: Ledger) -> Ledger:
    book.contract = book.contract.model_copy(update={"require_approval": True})
    return book


def test_require_approval_two_entries_of_40_minutes_one_approved_is_40_minutes_and_1_unit(
    book: Ledger,
) -> None:
    requiring_approval(book).load(
        "time",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-05,40,care_coordination,in_person
        T2,C2,10000001A,2026-10-06,40,care_coordination,in_person
        """,
    )
    stored_work.approve(book.engine, "T1", actor="sam")
    rating = book.rate()
    assert lines(rating) == [(MEMBER, "G9008", ("U1",), 40, 1)]
    assert reasons(rating.not_billed) == {"T2": ("NOT_APPROVED", APPROVAL_REASON)}
    stored_work.approve(book.engine, "T2", actor="sam")
    assert lines(book.rate()) == [(MEMBER, "G9008", ("U1",), 80, 2)]


def test_without_require_approval_the_same_unapproved_entries_are_80_minutes_and_2_units(
    book: Ledger,
) -> None:
    assert book.contract.require_approval is False  # the default: nothing changes
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-05,40,care_coordination,in_person
        T2,C2,10000001A,2026-10-06,40,care_coordination,in_person
        """,
    )
    rating = book.rate()
    assert lines(rating) == [(MEMBER, "G9008", ("U1",), 80, 2)]
    assert rating.not_billed == ()


def test_require_approval_a_changed_entry_is_not_approved_until_approved_again(
    book: Ledger,
) -> None:
    requiring_approval(book).load(
        "time", f"{TIME}\nT1,C1,10000001A,2026-10-05,40,care_coordination,in_person"
    )
    stored_work.approve(book.engine, "T1", actor="sam")
    assert lines(book.rate()) == [(MEMBER, "G9008", ("U1",), 40, 1)]
    # The care manager corrects the minutes: the approval was of 40 minutes, not of 70.
    book.load("time", f"{TIME}\nT1,C1,10000001A,2026-10-05,70,care_coordination,in_person")
    assert reasons(book.rate().not_billed) == {"T1": ("NOT_APPROVED", APPROVAL_REASON)}
    stored_work.approve(book.engine, "T1", actor="sam")
    assert lines(book.rate()) == [(MEMBER, "G9008", ("U1",), 70, 2)]


def test_require_approval_does_not_hold_back_outreach_attempts(book: Ledger) -> None:
    book.load("enrollments", "member_id,start_date,end_date\n10000002B,2026-09-01,2026-09-30")
    requiring_approval(book).load(
        "outreach", f"{OUTREACH}\nO1,C1,10000002B,2026-10-05,phone,true,not_reached,10"
    )
    rating = book.rate()
    assert [(x.kind.value, x.units) for x in rating.lines] == [("outreach", 1)]
    assert rating.not_billed == ()
