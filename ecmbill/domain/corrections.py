"""Rules for correcting what is recorded: clock intervals of one staff member that overlap, and
which months a correction of reference data changes for billing. Pure: values in, values out.

The guide bills "as close to one hour for each unit as possible": one staff member's minutes
are counted once, so two entries whose clock times overlap on one day would bill the shared
minutes twice. Entries given in minutes only carry no clock time and are never compared.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

from ecmbill.domain.period import Period

T = TypeVar("T", bound=Hashable)

# The rows whose clock times are compared: one staff member's day. The import names the row
# each one overlaps (``ecmbill.imports.kinds``); a file to rate is refused with the count of
# such rows (``ecmbill.rating.file_checks``): both read ``Interval.meets``.
SAME_DAY = ("staff_id", "date")
OVERLAP = "clock times overlapping another entry of the same staff member on the same day"


class OverlappingTime(StrEnum):
    """What the contract says of one staff member's overlapping clock intervals on one day."""

    REFUSE = "refuse"  # the later row is refused, naming the row it overlaps
    MERGE = "merge"  # rows of the same member, activity and modality become one entry


@dataclass(frozen=True)
class Interval(Generic[T]):
    """A stretch of one day, in minutes after midnight, ``start`` < ``end``; ``ref`` says
    which row or stored entry it is."""

    ref: T
    start: int
    end: int

    def meets(self, other: Interval[T]) -> bool:
        """Whether the two share at least one minute (touching ends do not overlap)."""
        return self.start < other.end and other.start < self.end

    def clock(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def first_overlap(interval: Interval[T], earlier: Iterable[Interval[T]]) -> Interval[T] | None:
    """The first of ``earlier`` that shares a minute with ``interval``, if any."""
    return next((other for other in earlier if other.meets(interval)), None)


def merged(intervals: Iterable[Interval[T]]) -> list[tuple[int, int, list[T]]]:
    """The union of the intervals as (start, end, refs) stretches, earliest first: what one
    staff member worked when overlapping rows are merged. Touching intervals stay apart."""
    result: list[tuple[int, int, list[T]]] = []
    for interval in sorted(intervals, key=lambda i: (i.start, i.end)):
        if result and interval.start < result[-1][1]:
            start, end, refs = result[-1]
            result[-1] = (start, max(end, interval.end), [*refs, interval.ref])
        else:
            result.append((interval.start, interval.end, [interval.ref]))
    return result


def months_changed(
    before: Callable[[date], Hashable],
    after: Callable[[date], Hashable],
    months: Iterable[Period],
) -> list[Period]:
    """The months, of those given (the ones with recorded work), in which some day reads
    differently before and after a correction: enrolled or not, a staff member's role,
    eligible or not. Those months rate differently; a closed one needs a replacement or a
    void at its next close."""
    changed = []
    for month in sorted(set(months)):
        day = month.start
        while day <= month.end:
            if before(day) != after(day):
                changed.append(month)
                break
            day += timedelta(days=1)
    return changed
