"""Matching and balances, without a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ecmbill.remit.codes import UNKNOWN, default_codes, parse_codes
from ecmbill.remit.model import (
    Adjustment,
    Match,
    OurLine,
    Posting,
    ServicePayment,
    Status,
    ageing_bucket,
    balance,
    match_lines,
)

OCT5, OCT20 = date(2026, 10, 5), date(2026, 10, 20)


def svc(code: str, *modifiers: str, units: int | None = 1, first: date | None = OCT5,
        last: date | None = OCT5) -> ServicePayment:  # fmt: skip
    return ServicePayment(code, modifiers, Decimal("100"), Decimal("100"), units, first, last,
                          (), (), 1)  # fmt: skip


OURS = [
    OurLine(1, "G9008", ("U1",), 1, OCT5, OCT5),
    OurLine(2, "G9008", ("U1", "GQ"), 2, OCT5, OCT20),
]


def test_a_line_matches_on_code_every_modifier_and_dates() -> None:
    [(_, line, how)] = match_lines(OURS, [svc("G9008", "GQ", "U1", units=2, last=OCT20)])
    assert (line, how) == (OURS[1], Match.EXACT)


def test_a_line_without_its_modifiers_matches_on_code_dates_and_units_as_inferred() -> None:
    [(_, line, how)] = match_lines(OURS, [svc("G9008", units=2, last=OCT20)])
    assert (line, how) == (OURS[1], Match.INFERRED)


def test_exact_matches_are_taken_before_inferred_ones() -> None:
    result = match_lines(OURS, [svc("G9008"), svc("G9008", "U1")])
    assert [(line.number if line else None, how) for _, line, how in result] == [
        (None, Match.UNMATCHED), (1, Match.EXACT),
    ]  # fmt: skip


def test_a_line_with_another_code_is_unmatched() -> None:
    [(_, line, how)] = match_lines(OURS, [svc("G9012", "U1")])
    assert (line, how) == (None, Match.UNMATCHED)


def test_status_follows_what_was_paid() -> None:
    billed = Decimal("100.00")
    co45 = (Adjustment("CO", "45", Decimal("20.00")),)
    assert balance(billed, []).status is Status.NO_ANSWER
    assert balance(billed, [Posting(Decimal("100"), (), False)]).status is Status.PAID
    partial = balance(billed, [Posting(Decimal("80"), co45, False)])
    assert (partial.status, partial.adjusted, partial.balance) == (
        Status.PARTIAL, Decimal("20.00"), Decimal("0.00"),
    )  # fmt: skip
    assert balance(billed, [Posting(Decimal("0"), (), False)]).status is Status.DENIED
    reversed_ = [Posting(Decimal("100"), (), False), Posting(Decimal("-100"), (), True)]
    assert balance(billed, reversed_).status is Status.REVERSED


def test_patient_responsibility_is_kept_apart_from_other_adjustments() -> None:
    result = balance(
        Decimal("100"),
        [
            Posting(
                Decimal("70"),
                (Adjustment("PR", "3", Decimal("10")), Adjustment("CO", "45", Decimal("20"))),
                False,
            )
        ],
    )
    assert (result.patient_responsibility, result.adjusted) == (Decimal("10"), Decimal("20"))


def test_unanswered_claims_age_in_thirty_day_buckets() -> None:
    today = date(2026, 11, 25)
    days = [0, 30, 31, 60, 61, 90, 91]
    buckets = [ageing_bucket(date.fromordinal(today.toordinal() - d), today) for d in days]
    assert buckets == ["0-30", "0-30", "31-60", "31-60", "61-90", "61-90", "90+"]


def test_an_unknown_reason_code_is_shown_as_unknown_and_the_list_can_be_updated() -> None:
    assert default_codes().describe_carc("45").startswith("Charge exceeds")
    assert default_codes().describe_carc("Z99") == UNKNOWN
    updated = parse_codes('[carc]\n"Z99" = "A new code"\n')
    assert updated.describe_carc("Z99") == "A new code"
