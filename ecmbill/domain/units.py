"""One hour of service is one unit; partial hours round up once, at the end of the period."""

from __future__ import annotations

from typing import TypeVar

MINUTES_PER_UNIT = 60

# Works on plain ints and on Ibis integer expressions alike, so the rating expression and
# every Python caller share this one definition of the rounding rule.
N = TypeVar("N")


def units_for_minutes(minutes: N) -> N:
    """Whole units for a period's summed minutes: ceil(minutes / 60), using integers only.

    59 → 1, 60 → 1, 61 → 2, 0 → 0. Called on the period total, never per entry, so a partial
    hour is rounded exactly once and never carried into the next period.
    """
    return (minutes + (MINUTES_PER_UNIT - 1)) // MINUTES_PER_UNIT  # type: ignore[operator, no-any-return, return-value]


def rounding_added(minutes: int, units: int) -> int:
    """Minutes that rounding up added on top of the minutes worked (0 to 59)."""
    return units * MINUTES_PER_UNIT - minutes


def minutes_to_next_unit(minutes: int) -> int:
    """Minutes that can still be recorded in the period before another unit starts: the rest
    of the last, partly used hour. 40 → 20, 60 → 0, 0 → 0 (the next minute starts a unit)."""
    return -minutes % MINUTES_PER_UNIT
