import pytest

from ecmbill.domain.units import rounding_added, units_for_minutes


@pytest.mark.parametrize(
    ("minutes", "units"), [(0, 0), (1, 1), (59, 1), (60, 1), (61, 2), (75, 2), (120, 2), (121, 3)]
)
def test_units_for_minutes_is_the_period_total_divided_by_60_rounded_up(
    minutes: int, units: int
) -> None:
    assert units_for_minutes(minutes) == units


def test_rounding_added_is_what_the_last_unit_adds_on_top_of_the_minutes_worked() -> None:
    assert rounding_added(61, units_for_minutes(61)) == 59
    assert rounding_added(60, units_for_minutes(60)) == 0
    assert rounding_added(75, units_for_minutes(75)) == 45
