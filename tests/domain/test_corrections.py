"""The pure rules of corrections (ecmbill.domain.corrections), with worked numbers."""

from __future__ import annotations

from datetime import date

from ecmbill.domain.corrections import Interval, first_overlap, merged, months_changed
from ecmbill.domain.lifecycle import Span, enrolled_on
from ecmbill.domain.period import Period


def clock(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def interval(ref: str, start: str, end: str) -> Interval[str]:
    return Interval(ref, clock(start), clock(end))


def test_one_persons_overlapping_clock_times_count_once() -> None:
    """09:00-09:40 and 09:10-09:50 overlap by 30 minutes: 50 minutes of work, not 80."""
    first, second = interval("a", "09:00", "09:40"), interval("b", "09:10", "09:50")
    assert first_overlap(second, [first]) == first
    assert merged([first, second]) == [(clock("09:00"), clock("09:50"), ["a", "b"])]
    (start, end, _), = merged([first, second])  # fmt: skip
    assert end - start == 50
    # Touching ends do not overlap: 09:40-10:00 follows 09:00-09:40, 60 minutes in all.
    after = interval("c", "09:40", "10:00")
    assert first_overlap(after, [first]) is None
    assert [e - s for s, e, _ in merged([first, after])] == [40, 20]


def test_a_correction_changes_the_months_where_some_day_reads_differently() -> None:
    """A span keyed from 2026-10-05 corrected to 2026-10-01 changes October only."""
    before = [Span(date(2026, 10, 5), None)]
    after = [Span(date(2026, 10, 1), None)]
    months = [Period(2026, 9), Period(2026, 10), Period(2026, 11)]
    changed = months_changed(
        lambda d: enrolled_on(d, before), lambda d: enrolled_on(d, after), months
    )
    assert changed == [Period(2026, 10)]
    assert months_changed(lambda d: 1, lambda d: 1, months) == []
