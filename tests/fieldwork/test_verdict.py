""" "Will this bill?" is the monthly rating's answer: for a record of every reason code (and
records that bill), the answer for the saved record and for the same record as typed in a
form equals what ``ecmbill rate`` says of it for the month. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecmbill.contract import Contract
from ecmbill.domain.period import Period
from ecmbill.domain.reasons import ReasonCode
from ecmbill.domain.verdict import CLOSED_MONTH, Verdict, field_verdict
from ecmbill.fieldwork import verdict
from ecmbill.rating.service import rate
from ecmbill.store import fieldwork as stored_work
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import unit_of_work
from tests.builders import Ledger
from tests.conftest import TODAY
from tests.rating.test_plans import BEN, two_plans

# C: enrolled, never eligible; D: eligible, never enrolled; X1 a staff member whose role
# ended before October.
MORE_MEMBERS = """
    member_id,first_name,last_name,birth_date
    10000003C,Cy,Testmember,1990-03-03
    10000004D,Di,Testmember,1991-04-04
"""
MORE_ELIGIBILITY = """
    member_id,month,eligible
    10000004D,2026-10,true
"""
MORE_ENROLLMENTS = """
    member_id,start_date,end_date
    10000003C,2026-09-01,
"""
MORE_STAFF = """
    staff_id,name,role,npi,effective_from,effective_to
    X1,Xan Former,clinical,,2026-01-01,2026-09-30
"""
TIME = """
    entry_id,staff_id,member_id,date,minutes,activity,modality
    T-BILLS,C1,10000001A,2026-10-02,25,care_coordination,in_person
    T-PHONE,N1,10000001A,2026-10-03,25,care_coordination,telephonic
    T-NOT-ELIGIBLE,C1,10000003C,2026-10-02,25,care_coordination,in_person
    T-NOT-ENROLLED,C1,10000004D,2026-10-02,25,care_coordination,in_person
    T-NOT-REIMBURSABLE,C1,10000001A,2026-10-04,25,administrative,in_person
    T-NO-ROLE,X1,10000001A,2026-10-05,25,care_coordination,in_person
"""
OUTREACH = """
    attempt_id,staff_id,member_id,date,method,individualized,outcome,minutes
    O-BILLS,C1,10000004D,2026-10-02,phone,true,not_reached,
    O-ALREADY-ENROLLED,C1,10000001A,2026-10-02,phone,true,not_reached,
    O-MASS,C1,10000004D,2026-10-03,text,false,not_reached,
    O-MAIL,C1,10000004D,2026-10-04,mail,true,not_reached,
    O-NOT-ELIGIBLE,C1,10000003C,2026-10-05,phone,true,not_reached,
"""
# Every record above, and the reason the rating gives it (None: it bills).
EXPECTED: dict[str, ReasonCode | None] = {
    "T-BILLS": None,
    "T-PHONE": None,
    "T-NOT-ELIGIBLE": ReasonCode.NOT_ELIGIBLE,
    "T-NOT-ENROLLED": ReasonCode.NOT_ENROLLED,
    "T-NOT-REIMBURSABLE": ReasonCode.NOT_REIMBURSABLE,
    "T-NO-ROLE": ReasonCode.NO_ROLE,
    "O-BILLS": None,
    "O-ALREADY-ENROLLED": ReasonCode.ALREADY_ENROLLED,
    "O-MASS": ReasonCode.MASS_COMMUNICATION,
    "O-MAIL": ReasonCode.NOT_REIMBURSABLE,
    # C is enrolled and not eligible: eligibility comes first in the precedence.
    "O-NOT-ELIGIBLE": ReasonCode.NOT_ELIGIBLE,
}


@pytest.fixture
def book(engine: Engine, contract: Contract, tmp_path: Path) -> Ledger:
    ledger = Ledger(engine, contract, tmp_path).team()
    ledger.load("members", MORE_MEMBERS)
    ledger.load("eligibility", MORE_ELIGIBILITY)
    ledger.load("enrollments", MORE_ENROLLMENTS)
    ledger.load("staff", MORE_STAFF)
    ledger.load("time", TIME)
    ledger.load("outreach", OUTREACH)
    return ledger


def _rated(book: Ledger, period: str) -> dict[str, tuple[str | None, str | None, tuple[str, ...]]]:
    """Per record id: (reason code, reason, modifiers of its line) from the month's rating."""
    rating = book.rate(period)
    found: dict[str, tuple[str | None, str | None, tuple[str, ...]]] = {}
    for line in rating.lines:
        for source_id in line.source_ids:
            found[source_id] = (None, None, (line.code, *line.modifiers))
    for item in rating.not_billed:
        found[item.id] = (item.reason_code.value, item.reason, ())
    return found


def _saved(book: Ledger, record_id: str) -> Verdict | None:
    if record_id.startswith("T-"):
        return verdict.entry_verdict(book.engine, book.contract, record_id)
    return verdict.attempt_verdict(book.engine, book.contract, record_id)


# Reasons a record gets only under a contract setting, with their own test below.
UNDER_A_SETTING = {ReasonCode.NOT_APPROVED}
# Reasons a record gets only in an office with several plans, with their own test below.
UNDER_SEVERAL_PLANS = {ReasonCode.NO_PLAN}


def test_will_this_bill_equals_the_monthly_rating_for_every_reason_code(book: Ledger) -> None:
    # A reason added to the rating needs a case here or below, with its setting.
    cases = set(EXPECTED.values()) - {None}
    assert cases | UNDER_A_SETTING | UNDER_SEVERAL_PLANS == set(ReasonCode), (
        "a reason code without a case"
    )
    rated = _rated(book, "2026-10")
    for record_id, reason in EXPECTED.items():
        answer = _saved(book, record_id)
        assert answer is not None, record_id
        rating_reason, rating_words, line = rated[record_id]
        assert rating_reason == (reason.value if reason else None), record_id
        assert answer.reason_code == rating_reason, record_id
        assert answer.reason == rating_words, record_id
        assert answer.bills is (reason is None), record_id
        if answer.bills:
            assert (answer.code, *answer.modifiers) == line, record_id


def test_will_this_bill_as_typed_equals_the_saved_answer(book: Ledger) -> None:
    """The form's answer before saving (the record rated as a one-row table) is the saved
    record's answer, reason and words alike."""
    typed = {
        "T-BILLS": ("time", "C1", {"member_id": "10000001A", "date": "2026-10-02",
                    "minutes": "25", "activity": "care_coordination", "modality": "in_person"}),
        "T-PHONE": ("time", "N1", {"member_id": "10000001A", "date": "10/03/2026",
                    "minutes": "25", "activity": "care_coordination", "modality": "telephonic"}),
        "T-NOT-ENROLLED": ("time", "C1", {"member_id": "10000004D", "date": "2026-10-02",
                           "activity": "care_coordination", "modality": "in_person"}),
        "T-NOT-REIMBURSABLE": ("time", "C1", {"member_id": "10000001A", "date": "2026-10-04",
                               "activity": "administrative", "modality": "in_person"}),
        "T-NO-ROLE": ("time", "X1", {"member_id": "10000001A", "date": "2026-10-05",
                      "activity": "care_coordination", "modality": "in_person"}),
        "O-BILLS": ("outreach", "C1", {"member_id": "10000004D", "date": "2026-10-02",
                    "method": "phone", "individualized": "on"}),
        "O-MASS": ("outreach", "C1", {"member_id": "10000004D", "date": "2026-10-03",
                   "method": "text"}),
    }  # fmt: skip
    for record_id, (kind, staff_id, form) in typed.items():
        before = verdict.preview(
            book.engine, book.contract, kind, form, staff_id=staff_id, today=TODAY
        )
        assert before == _saved(book, record_id), record_id


def test_the_answer_spells_the_code_and_modifiers_in_words(book: Ledger) -> None:
    answer = verdict.entry_verdict(book.engine, book.contract, "T-PHONE")
    assert answer is not None
    assert answer.as_json() == {
        "bills": True,
        "code": "G9012",
        "modifiers": ["U2", "GQ"],
        "reason_code": None,
        "reason": None,
    }
    assert answer.summary == (
        "Will bill as G9012 U2 GQ (ECM telephone/telehealth, non-clinical staff)"
    )


def test_a_closed_month_comes_after_the_ratings_reasons() -> None:
    """A record that would bill, in a closed month, bills only as an accepted late change; a
    record the rating refuses keeps the rating's reason."""
    closed = field_verdict(
        code="G9008", modifiers=("U1",), code_description=None, reason_code=None, reason=None,
        closed_month="October 2026",
    )  # fmt: skip
    assert (closed.bills, closed.reason_code) == (False, CLOSED_MONTH)
    refused = field_verdict(
        code=None, modifiers=(), code_description=None, reason_code="NOT_ENROLLED",
        reason="not billable: member not enrolled in ECM on 2026-10-02",
        closed_month="October 2026",
    )  # fmt: skip
    assert refused.reason_code == "NOT_ENROLLED"


def test_will_this_bill_says_not_approved_as_the_rating_does_when_the_contract_requires_it(
    book: Ledger,
) -> None:
    """require_approval on: T-BILLS, not yet approved, is NOT_APPROVED in the month's rating
    and in the answer, saved or as typed; once a supervisor approves it, both say it bills."""
    book.contract = book.contract.model_copy(update={"require_approval": True})
    reason, words, _ = _rated(book, "2026-10")["T-BILLS"]
    assert reason == ReasonCode.NOT_APPROVED.value
    saved = _saved(book, "T-BILLS")
    assert saved is not None
    assert (saved.bills, saved.reason_code, saved.reason) == (False, reason, words)
    typed = verdict.preview(
        book.engine, book.contract, "time",
        {"member_id": "10000001A", "date": "2026-10-02", "minutes": "25",
         "activity": "care_coordination", "modality": "in_person"},
        staff_id="C1", today=TODAY,
    )  # fmt: skip
    assert typed is not None and typed.reason_code == reason
    stored_work.approve(book.engine, "T-BILLS", actor="sam")
    assert _rated(book, "2026-10")["T-BILLS"][0] is None
    approved = _saved(book, "T-BILLS")
    assert approved is not None and approved.bills


def test_will_this_bill_rates_under_the_members_plan_no_plan_and_plan_bs_modifiers(
    book: Ledger,
) -> None:
    """Two plans: plan B bills clinical in-person time as G9008 U1 HE (the first plan: U1).
    Ada (10000001A) is with plan B from Oct 1, so T-BILLS (Oct 2) is U1 HE; Ben (10000002B)
    has no plan after Oct 20, so 25 minutes on the 21st is NO_PLAN. Saved or as typed, the
    answer is the month's rating under both plans."""
    plans = two_plans(book, moves_on=date(2026, 10, 1))
    with unit_of_work(book.engine) as session:
        stored_plans.end_plan(session, BEN, date(2026, 10, 20), actor="test")
    book.load(
        "time",
        """
        entry_id,staff_id,member_id,date,minutes,activity,modality
        T-NO-PLAN,C1,10000002B,2026-10-21,25,care_coordination,in_person
        """,
    )
    rating = rate(book.engine, Period.parse("2026-10"), plans)
    no_plan = next(item for item in rating.not_billed if item.id == "T-NO-PLAN")
    saved = verdict.entry_verdict(book.engine, plans, "T-NO-PLAN")
    assert saved is not None
    assert (saved.bills, saved.reason_code, saved.reason) == (
        False,
        "NO_PLAN",
        "not billable: member had no health plan on 2026-10-21",
    )
    assert saved.reason == no_plan.reason
    typed = verdict.preview(
        book.engine, plans, "time",
        {"member_id": "10000002B", "date": "2026-10-21", "minutes": "25",
         "activity": "care_coordination", "modality": "in_person"},
        staff_id="C1", today=TODAY,
    )  # fmt: skip
    assert typed == saved

    ada = verdict.entry_verdict(book.engine, plans, "T-BILLS")
    assert ada is not None and ada.bills
    assert (ada.code, ada.modifiers) == ("G9008", ("U1", "HE"))
    line = next(x for x in rating.lines if "T-BILLS" in x.source_ids)
    assert (line.plan, line.modifiers) == ("b", ("U1", "HE"))
    # The same record under the first plan's contract alone is U1, as before plans.
    alone = verdict.entry_verdict(book.engine, plans[plans.first], "T-BILLS")
    assert alone is not None and alone.modifiers == ("U1",)
