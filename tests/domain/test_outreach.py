"""Rules 3, 4 and 8: what counts as an outreach attempt, and "unable to reach" only after the
contract's required attempts are all made."""

from datetime import date, timedelta

import pytest

from ecmbill.domain.lifecycle import Span, enrolled_on
from ecmbill.domain.outreach import (
    Attempt,
    UnableToReachRule,
    counts_as_outreach,
    not_outreach_reason,
    unable_to_reach,
)
from ecmbill.domain.reasons import ReasonCode
from ecmbill.domain.vocabulary import OutreachOutcome

NOT_REACHED = OutreachOutcome.NOT_REACHED
DAY = date(2026, 10, 1)


def attempts(
    *methods: str, every: int = 7, outcome: OutreachOutcome = NOT_REACHED
) -> list[Attempt]:
    return [Attempt(DAY + timedelta(days=every * i), m, outcome) for i, m in enumerate(methods)]


def test_three_attempts_are_required_by_default() -> None:
    rule = UnableToReachRule()
    two = unable_to_reach(attempts("phone", "phone"), rule)
    assert not two.allowed
    assert two.missing == ("1 more outreach attempt needed: the contract requires 3, 2 made",)
    three = unable_to_reach(attempts("phone", "phone", "phone"), rule)
    assert three.allowed
    assert three.missing == ()
    assert len(three.counted) == 3


def test_no_attempt_at_all_says_three_are_missing() -> None:
    decision = unable_to_reach([], UnableToReachRule())
    assert decision.missing == ("3 more outreach attempts needed: the contract requires 3, 0 made",)


def test_attempts_that_do_not_count_are_not_counted() -> None:
    mass = [Attempt(DAY, "mail", NOT_REACHED, counts=False)]
    decision = unable_to_reach(attempts("phone", "phone") + mass, UnableToReachRule())
    assert not decision.allowed
    assert len(decision.counted) == 2


def test_distinct_methods_must_all_be_used_when_the_contract_asks() -> None:
    rule = UnableToReachRule(required_attempts=3, distinct_methods=2)
    same = unable_to_reach(attempts("phone", "phone", "phone"), rule)
    assert same.missing == (
        "1 more outreach method needed: the contract requires 2 different methods, "
        "used so far: phone",
    )
    assert unable_to_reach(attempts("phone", "text", "phone"), rule).allowed


def test_attempts_must_fall_within_the_window_up_to_the_latest_one() -> None:
    rule = UnableToReachRule(required_attempts=3, window_days=30)
    spread = unable_to_reach(attempts("phone", "phone", "phone", every=20), rule)
    assert not spread.allowed
    assert spread.missing == (
        "1 more outreach attempt needed: the contract requires 3 within 30 days, 2 made",
    )
    # day 0, 14 and 29: the first and last are 30 days apart counting both ends.
    close = [Attempt(DAY + timedelta(days=d), "phone", NOT_REACHED) for d in (0, 14, 29)]
    assert unable_to_reach(close, rule).allowed
    apart = [Attempt(DAY + timedelta(days=d), "phone", NOT_REACHED) for d in (0, 14, 30)]
    assert not unable_to_reach(apart, rule).allowed


def test_a_reached_or_declined_attempt_blocks_unable_to_reach() -> None:
    for outcome in (OutreachOutcome.REACHED, OutreachOutcome.DECLINED):
        made = attempts("phone", "phone", "phone", "phone")
        made[1] = Attempt(made[1].on, "phone", outcome)
        decision = unable_to_reach(made, UnableToReachRule())
        assert not decision.allowed
        assert decision.missing == (
            f"the member was reached on 2026-10-08 ({outcome.value}): "
            "record that outcome instead of unable to reach",
        )


def test_members_utr_counts_the_attempts_of_a_reached_member() -> None:
    """`ecmbill members utr` said "Outreach attempts that count: 0" for a member reached on
    the third of three individualized attempts: reaching the member does not undo them."""
    made = attempts("phone", "text", "in_person")
    made[2] = Attempt(made[2].on, "in_person", OutreachOutcome.REACHED)
    mass = Attempt(DAY, "mail", NOT_REACHED, counts=False)
    decision = unable_to_reach([*made, mass], UnableToReachRule())
    assert not decision.allowed
    assert decision.counted == tuple(made)


SPAN = Span(date(2026, 10, 10), date(2026, 10, 20))


@pytest.mark.parametrize(
    ("on", "individualized", "spans", "reason"),
    [
        (date(2026, 10, 9), True, [SPAN], None),  # the day before enrollment
        (date(2026, 10, 10), True, [SPAN], ReasonCode.ALREADY_ENROLLED),  # its first day
        (date(2026, 10, 20), True, [SPAN], ReasonCode.ALREADY_ENROLLED),  # its last day
        (date(2026, 10, 21), True, [SPAN], None),  # after the span ended
        (date(2026, 10, 9), False, [SPAN], ReasonCode.MASS_COMMUNICATION),
        (date(2026, 10, 15), False, [SPAN], ReasonCode.ALREADY_ENROLLED),  # enrollment first
        (date(2030, 1, 1), True, [Span(date(2026, 10, 10), None)], ReasonCode.ALREADY_ENROLLED),
        (date(2026, 10, 15), True, [], None),
    ],
)
def test_an_outreach_attempt_is_individualized_and_outside_every_enrollment_span(
    on: date, individualized: bool, spans: list[Span], reason: ReasonCode | None
) -> None:
    enrolled = enrolled_on(on, spans)
    assert not_outreach_reason(individualized=individualized, enrolled=enrolled) is reason
    assert counts_as_outreach(on, individualized, spans) is (reason is None)
