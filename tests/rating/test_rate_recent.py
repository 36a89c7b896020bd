"""The pages' kept rating (rate_recent) is the store's rating as it is now: kept while nothing
changed, computed again as soon as any input of the rating changed — time, outreach, roles,
eligibility, enrollments, approvals — because each such change is audited in its own
transaction. On SQLite and PostgreSQL."""

from __future__ import annotations

from ecmbill.domain.period import Period
from ecmbill.rating.service import rate, rate_recent
from ecmbill.store import fieldwork as stored_work
from tests.builders import MEMBER, Ledger

OCTOBER = Period(2026, 10)


def _same_as_now(book: Ledger) -> None:
    assert rate_recent(book.engine, OCTOBER, book.contract) == rate(
        book.engine, OCTOBER, book.contract
    )


def test_the_kept_rating_is_kept_while_nothing_changed(book: Ledger) -> None:
    book.load(
        "time",
        """
        entry_id,staff_id,member_id,date,minutes,activity,modality
        T1,C1,10000001A,2026-10-02,25,care_coordination,in_person
        """,
    )
    first = rate_recent(book.engine, OCTOBER, book.contract)
    assert rate_recent(book.engine, OCTOBER, book.contract) is first
    # Another contract is another rating.
    other = book.contract.model_copy(update={"require_approval": True})
    assert rate_recent(book.engine, OCTOBER, other) is not first


def test_every_change_the_rating_reads_makes_the_kept_rating_new(book: Ledger) -> None:
    """25 min → 1 unit; a second entry of 40 min → 65 min → 2 units; each input changed in
    turn is seen at once."""
    changes = [
        ("time", "entry_id,staff_id,member_id,date,minutes,activity,modality\n"
                 "T1,C1,10000001A,2026-10-02,25,care_coordination,in_person"),
        ("time", "entry_id,staff_id,member_id,date,minutes,activity,modality\n"
                 "T1,C1,10000001A,2026-10-02,25,care_coordination,in_person\n"
                 "T2,C2,10000001A,2026-10-03,40,care_coordination,in_person"),
        ("outreach", "attempt_id,staff_id,member_id,date,method,individualized,outcome,minutes\n"
                     "O1,C1,10000001A,2026-10-04,phone,true,not_reached,"),
        ("staff", "staff_id,name,role,npi,effective_from,effective_to\n"
                  "C2,Chris Clinician,non_clinical,,,"),
        ("enrollments", "member_id,start_date,end_date\n10000001A,2026-09-01,2026-10-02"),
        ("eligibility", "member_id,month,eligible\n10000001A,2026-10,false"),
    ]  # fmt: skip
    _same_as_now(book)
    for kind, text in changes:
        before = rate_recent(book.engine, OCTOBER, book.contract)
        book.load(kind, text)
        _same_as_now(book)
        assert rate_recent(book.engine, OCTOBER, book.contract) != before, kind


def test_an_approval_makes_the_kept_rating_new(book: Ledger) -> None:
    book.contract = book.contract.model_copy(update={"require_approval": True})
    book.load(
        "time",
        """
        entry_id,staff_id,member_id,date,minutes,activity,modality
        T1,C1,10000001A,2026-10-02,25,care_coordination,in_person
        """,
    )
    assert rate_recent(book.engine, OCTOBER, book.contract).lines == ()
    stored_work.approve(book.engine, "T1", actor="sam")
    lines = rate_recent(book.engine, OCTOBER, book.contract).lines
    assert [(line.member_id, line.units) for line in lines] == [(MEMBER, 1)]
