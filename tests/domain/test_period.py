from datetime import date

import pytest

from ecmbill.domain.period import Period


def test_a_period_is_a_calendar_month_from_its_first_to_its_last_day() -> None:
    october = Period.parse("2026-10")
    assert (october.start, october.end) == (date(2026, 10, 1), date(2026, 10, 31))
    assert Period.parse("2028-02").end == date(2028, 2, 29)
    assert Period.parse("2026-02").end == date(2026, 2, 28)


def test_a_period_contains_exactly_its_own_days() -> None:
    october = Period.parse("2026-10")
    assert date(2026, 10, 1) in october
    assert date(2026, 10, 31) in october
    assert date(2026, 9, 30) not in october
    assert date(2026, 11, 1) not in october
    assert "2026-10-05" not in october


def test_the_period_after_december_is_january_of_the_next_year() -> None:
    assert Period.parse("2026-12").next() == Period(2027, 1)
    assert str(Period.parse("2026-10").next()) == "2026-11"
    assert Period.of(date(2026, 10, 17)) == Period(2026, 10)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-10", "2026/10", "October 2026", ""])
def test_a_period_that_is_not_yyyy_mm_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Period.parse(text)


def test_periods_sort_by_time() -> None:
    assert sorted([Period(2027, 1), Period(2026, 12), Period(2026, 2)]) == [
        Period(2026, 2),
        Period(2026, 12),
        Period(2027, 1),
    ]
