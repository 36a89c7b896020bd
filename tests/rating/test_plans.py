"""Several health plans: each entry is rated under the contract of the member's plan on the
entry's date, rounded up once per plan, code and modifiers (ecmbill.domain.plans)."""

from __future__ import annotations

from datetime import date

from ecmbill.contract.model import default_toml
from ecmbill.contract.plans import PlanContracts
from ecmbill.contract.stored import current_plans
from ecmbill.domain.period import Period
from ecmbill.domain.plans import DEFAULT_PLAN, PlanSpan, plan_on
from ecmbill.rating.service import rate
from ecmbill.store import models
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import unit_of_work
from tests.builders import Ledger, reasons
from tests.rating.test_rules import TIME

OCTOBER = Period.parse("2026-10")
ADA, BEN = "10000001A", "10000002B"


def plan_b_toml() -> str:
    """Plan B: clinical in-person service is U1 HE at 120.00 (one modifier more than the
    first plan's U1 at 100.00)."""
    first = 'modifiers = ["U1"]\nrate = "100.00"'
    assert first in default_toml()
    return (
        default_toml()
        .replace(first, 'modifiers = ["U1", "HE"]\nrate = "120.00"')
        .replace('name = "ECM fee-for-service (plan billing guide)"', 'name = "Plan B"')
    )


def two_plans(book: Ledger, moves_on: date | None = date(2026, 10, 16)) -> PlanContracts:
    """Plan B added; Ada moves from the first plan to B on ``moves_on``; both plans say she
    and Ben are eligible all autumn."""
    toml_b = plan_b_toml()
    with unit_of_work(book.engine) as session:
        stored_plans.add_plan(session, "b", "Plan B", toml_b, {}, actor="test")
        if moves_on is not None:
            stored_plans.assign(session, PlanSpan(ADA, "b", moves_on), actor="test")
        for member in (ADA, BEN):
            for month in ("2026-09", "2026-10", "2026-11"):
                session.add(
                    models.Eligibility(member_id=member, month=month, plan="b", eligible=True)
                )
    return current_plans(book.engine)


def test_a_member_who_moves_plan_on_the_16th_bills_each_plan_for_its_days_rounded_once_per_plan(
    book: Ledger,
) -> None:
    # Oct 1-15 with the first plan: 40 + 25 = 65 min -> 2 units of G9008 U1.
    # Oct 16-31 with plan B: 30 + 20 = 50 min -> 1 unit of G9008 U1 HE (plan B's code table).
    # One plan for the month would have been 115 min -> 2 units: per plan, 3.
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,{ADA},2026-10-02,40,care_coordination,in_person
        T2,C2,{ADA},2026-10-15,25,care_coordination,in_person
        T3,C1,{ADA},2026-10-16,30,care_coordination,in_person
        T4,C2,{ADA},2026-10-31,20,care_coordination,in_person
        """,
    )
    rating = rate(book.engine, OCTOBER, two_plans(book))
    got = [(x.plan, x.code, x.modifiers, x.minutes, x.units, x.source_ids) for x in rating.lines]
    assert sorted(got) == [
        ("b", "G9008", ("U1", "HE"), 50, 1, ("T3", "T4")),
        (DEFAULT_PLAN, "G9008", ("U1",), 65, 2, ("T1", "T2")),
    ]


def test_a_member_with_no_plan_on_a_date_is_not_billed_with_reason_no_plan(book: Ledger) -> None:
    plans = two_plans(book, moves_on=None)
    with unit_of_work(book.engine) as session:
        # Ben's plan ends on Oct 20: nothing says which plan pays for the 21st.
        stored_plans.end_plan(session, BEN, date(2026, 10, 20), actor="test")
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,{BEN},2026-10-20,30,care_coordination,in_person
        T2,C1,{BEN},2026-10-21,30,care_coordination,in_person
        """,
    )
    rating = rate(book.engine, OCTOBER, plans)
    assert [(x.plan, x.minutes, x.units) for x in rating.lines] == [(DEFAULT_PLAN, 30, 1)]
    assert reasons(rating.not_billed) == {
        "T2": ("NO_PLAN", "not billable: member had no health plan on 2026-10-21")
    }


def test_two_plans_with_different_code_tables_give_different_codes_for_the_same_entry(
    book: Ledger,
) -> None:
    # The same 60 minutes, clinical, in person: U1 under the first plan, U1 HE under plan B.
    plans = two_plans(book, moves_on=date(2026, 10, 1))
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,{ADA},2026-10-05,60,care_coordination,in_person
        T2,C1,{BEN},2026-10-05,60,care_coordination,in_person
        """,
    )
    rating = rate(book.engine, OCTOBER, plans)
    assert [(x.member_id, x.plan, x.modifiers, x.units) for x in rating.lines] == [
        (ADA, "b", ("U1", "HE"), 1),
        (BEN, DEFAULT_PLAN, ("U1",), 1),
    ]


def test_not_eligible_with_the_plan_of_the_day_comes_before_no_plan(book: Ledger) -> None:
    # Ada is with plan B from Oct 16, but plan B says she is not eligible in October.
    plans = two_plans(book)
    with unit_of_work(book.engine) as session:
        row = session.get(models.Eligibility, (ADA, "2026-10", "b"))
        assert row is not None
        row.eligible = False
    book.load(
        "time",
        f"""
        {TIME}
        T1,C1,{ADA},2026-10-10,30,care_coordination,in_person
        T2,C1,{ADA},2026-10-20,30,care_coordination,in_person
        """,
    )
    rating = rate(book.engine, OCTOBER, plans)
    assert [(x.plan, x.source_ids) for x in rating.lines] == [(DEFAULT_PLAN, ("T1",))]
    assert {k: v[0] for k, v in reasons(rating.not_billed).items()} == {"T2": "NOT_ELIGIBLE"}


def test_plan_on_reads_the_span_holding_the_date() -> None:
    spans = [
        PlanSpan(ADA, "a", date(2026, 1, 1), date(2026, 10, 15)),
        PlanSpan(ADA, "b", date(2026, 10, 16)),
    ]
    assert plan_on(spans, ADA, date(2026, 10, 15)) == "a"
    assert plan_on(spans, ADA, date(2026, 10, 16)) == "b"
    assert plan_on(spans, ADA, date(2025, 12, 31)) is None
    assert plan_on(spans, BEN, date(2026, 10, 16)) is None
