"""How a team member's share of the team's units is worked out."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from ecmbill.domain.lines import ClaimLine, PeriodRating
from ecmbill.domain.vocabulary import Kind
from ecmbill.fieldwork.team import unit_shares


def line(minutes: int, units: int, ids: tuple[str, ...], kind: Kind = Kind.SERVICE) -> ClaimLine:
    day = date(2026, 10, 5)
    return ClaimLine("10000001A", "G9008", ("U1",), kind, minutes, units, day, day, ids)


def test_a_persons_units_are_their_share_of_the_lines_minutes_30_and_60_of_2_units() -> None:
    rating = PeriodRating("2026-10", (line(90, 2, ("T1", "T2")),), ())
    shares = unit_shares(rating, {"T1": 30, "T2": 60})
    assert shares == {"T1": Fraction(2, 3), "T2": Fraction(4, 3)}
    assert sum(shares.values()) == 2  # the team's shares add up to the units billed


def test_outreach_lines_and_entries_of_other_teams_are_not_shared() -> None:
    rating = PeriodRating(
        "2026-10", (line(40, 1, ("T1", "T9")), line(5, 1, ("O1",), Kind.OUTREACH)), ()
    )
    assert unit_shares(rating, {"T1": 20, "O1": 5}) == {"T1": Fraction(1, 2)}
