"""The claim rules, without a database: claims from a rating, the correction rule, timely
filing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ecmbill.domain.claims import (
    Action,
    ChargeLine,
    ClaimDraft,
    Claimed,
    Frequency,
    build_claims,
    charge_for,
    correction,
    plan_corrections,
    timely_filing,
)
from ecmbill.domain.lines import ClaimLine, PeriodRating
from ecmbill.domain.vocabulary import Kind, Source

RATES = {("G9008", ("U1",)): Decimal("100.00"), ("G9012", ("U8",)): Decimal("33.335")}


def rate_for(code: str, modifiers: tuple[str, ...]) -> Decimal:
    return RATES[(code, modifiers)]


def rated(member: str, code: str, modifiers: tuple[str, ...], units: int, *ids: str,
          kind: Kind = Kind.SERVICE, first: date = date(2026, 10, 1),
          last: date = date(2026, 10, 1)) -> ClaimLine:  # fmt: skip
    return ClaimLine(member, code, modifiers, kind, units * 50, units, first, last, ids)


def draft(member: str, *lines: ChargeLine) -> ClaimDraft:
    return ClaimDraft(member, "2026-10", lines)


def line(units: int, charge: str = "100.00") -> ChargeLine:
    return ChargeLine(Kind.SERVICE, "G9008", ("U1",), units, Decimal(charge),
                      date(2026, 10, 1), date(2026, 10, 9), units * 50, ("T1",))  # fmt: skip


def claimed(frequency: Frequency, *lines: ChargeLine) -> Claimed:
    return Claimed(frequency, draft("M", *lines).billed())


def test_one_claim_per_member_with_a_line_per_rated_line() -> None:
    rating = PeriodRating(
        "2026-10",
        (
            rated("91234567A", "G9008", ("U1",), 2, "T1", "T2"),
            rated("91234567A", "G9012", ("U8",), 1, "O1", kind=Kind.OUTREACH),
            rated("92345678B", "G9008", ("U1",), 1, "T3"),
        ),
        (),
    )
    claims = build_claims(rating, rate_for)
    assert [(c.member_id, len(c.lines)) for c in claims] == [("91234567A", 2), ("92345678B", 1)]
    assert claims[0].total_charge == Decimal("233.34")


def test_charge_is_units_times_rate_rounded_half_up_to_the_cent() -> None:
    assert charge_for(3, Decimal("33.335")) == Decimal("100.01")
    assert charge_for(1, Decimal("33.335")) == Decimal("33.34")  # 33.335 -> .34, not banker's


def test_rendering_npi_is_the_one_staff_npi_and_none_for_a_team_line() -> None:
    rating = PeriodRating(
        "2026-10",
        (
            rated("91234567A", "G9008", ("U1",), 2, "T1", "T2"),
            rated("92345678B", "G9008", ("U1",), 2, "T3", "T4"),
        ),
        (),
    )
    npi_of = {(Source.TIME, "T1"): "1234567893", (Source.TIME, "T2"): "1234567893",
              (Source.TIME, "T3"): "1234567893", (Source.TIME, "T4"): None}  # fmt: skip
    claims = build_claims(rating, rate_for, npi_of)
    assert [c.lines[0].rendering_npi for c in claims] == ["1234567893", None]


def test_a_member_never_claimed_gets_an_original() -> None:
    assert correction(draft("M", line(1)), None) is Action.ORIGINAL


def test_a_member_with_the_same_lines_gets_nothing() -> None:
    assert correction(draft("M", line(1)), claimed(Frequency.ORIGINAL, line(1))) is Action.NOTHING


def test_a_member_whose_units_changed_gets_a_replacement_of_the_whole_claim() -> None:
    assert (
        correction(draft("M", line(2)), claimed(Frequency.ORIGINAL, line(1))) is Action.REPLACEMENT
    )


def test_a_replaced_claim_that_changes_again_gets_another_replacement() -> None:
    assert (
        correction(draft("M", line(3)), claimed(Frequency.REPLACEMENT, line(2)))
        is Action.REPLACEMENT
    )


def test_a_changed_charge_alone_is_a_change() -> None:
    assert (
        correction(draft("M", line(1, "90.00")), claimed(Frequency.ORIGINAL, line(1)))
        is Action.REPLACEMENT
    )


def test_a_member_with_nothing_billable_left_gets_a_void() -> None:
    assert correction(None, claimed(Frequency.ORIGINAL, line(1))) is Action.VOID


def test_a_voided_member_with_nothing_billable_gets_nothing() -> None:
    assert correction(None, claimed(Frequency.VOID, line(1))) is Action.NOTHING


def test_a_voided_member_billable_again_gets_a_new_original() -> None:
    assert correction(draft("M", line(1)), claimed(Frequency.VOID, line(1))) is Action.ORIGINAL


def test_line_order_does_not_make_a_change() -> None:
    other = ChargeLine(Kind.OUTREACH, "G9012", ("U8",), 1, Decimal("40.00"),
                       date(2026, 10, 2), date(2026, 10, 2), 10, ("O1",))  # fmt: skip
    assert (
        correction(draft("M", other, line(1)), claimed(Frequency.ORIGINAL, line(1), other))
        is Action.NOTHING
    )


def test_corrections_are_decided_member_by_member() -> None:
    decisions = plan_corrections(
        [draft("A", line(2)), draft("B", line(1)), draft("D", line(1))],
        {
            "A": claimed(Frequency.ORIGINAL, line(1)),
            "B": claimed(Frequency.ORIGINAL, line(1)),
            "C": claimed(Frequency.ORIGINAL, line(1)),
        },
    )
    assert {d.member_id: d.action for d in decisions} == {
        "A": Action.REPLACEMENT, "B": Action.NOTHING, "C": Action.VOID, "D": Action.ORIGINAL,
    }  # fmt: skip


def test_timely_filing_warns_within_thirty_days_of_the_limit_and_past_it() -> None:
    early = ChargeLine(Kind.SERVICE, "G9008", ("U1",), 1, Decimal("100.00"),
                       date(2025, 11, 1), date(2025, 11, 20), 50, ("T1",))  # fmt: skip
    near = ChargeLine(Kind.SERVICE, "G9008", ("U1",), 1, Decimal("100.00"),
                      date(2025, 12, 20), date(2025, 12, 20), 50, ("T2",))  # fmt: skip
    fresh = ChargeLine(Kind.SERVICE, "G9008", ("U1",), 1, Decimal("100.00"),
                       date(2026, 10, 1), date(2026, 10, 1), 50, ("T3",))  # fmt: skip
    warnings = timely_filing([draft("M", early, near, fresh)], date(2026, 11, 25), 365)
    assert [(w.first_date, w.past) for w in warnings] == [
        (date(2025, 11, 1), True), (date(2025, 12, 20), False),
    ]  # fmt: skip
    assert warnings[1].deadline == date(2026, 12, 20) and warnings[1].days_left == 25
