"""Cell parsers: what a biller may type, and the reason when it is refused."""

import re
from datetime import date

import pytest

from ecmbill.domain import values as fields
from ecmbill.domain.values import FieldError


@pytest.mark.parametrize(
    "typed",
    ["- called member, no answer", "+1 555 0100 is the new number", "visit\nfollow-up\tnext week"],
)
def test_a_note_keeps_everyday_text_that_starts_like_a_sign_or_spans_lines(typed: str) -> None:
    assert fields.note(typed) == typed


@pytest.mark.parametrize("typed", ['=HYPERLINK("http://x")', "@SUM(A1)"])
def test_a_note_that_starts_a_formula_is_refused(typed: str) -> None:
    with pytest.raises(FieldError, match="spreadsheet formula"):
        fields.note(typed)


@pytest.mark.parametrize("typed", ["-Smith", "+Smith", "=Smith"])
def test_a_name_that_starts_like_a_formula_is_refused(typed: str) -> None:
    with pytest.raises(FieldError, match="spreadsheet formula"):
        fields.text(typed)


@pytest.mark.parametrize("typed", ["1e3", "nan", "inf", "1_000", "0x1E"])
def test_minutes_are_plain_decimals_not_whatever_python_reads_as_a_number(typed: str) -> None:
    with pytest.raises(FieldError, match="is not a number"):
        fields.whole_number(typed)


@pytest.mark.parametrize(("typed", "minutes"), [("30", 30), ("30.0", 30), ("-5", -5)])
def test_minutes_may_carry_a_zero_fraction_as_spreadsheets_write_them(
    typed: str, minutes: int
) -> None:
    assert fields.whole_number(typed) == minutes


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2026-09-15", date(2026, 9, 15)),
        ("2026-9-5", date(2026, 9, 5)),
        ("09/15/2026", date(2026, 9, 15)),
    ],
)
def test_a_date_may_be_iso_short_iso_or_us(typed: str, day: date) -> None:
    assert fields.day(typed, today=date(2026, 11, 25)) == day


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("2026-02-30", fields.NOT_A_DATE),
        ("15.09.2026", fields.NOT_A_DATE),
        ("1899-12-31", fields.BEFORE_EARLIEST),
        ("2026-11-26", fields.IN_THE_FUTURE),
    ],
)
def test_a_date_that_is_not_real_or_not_yet_is_refused(typed: str, reason: str) -> None:
    with pytest.raises(FieldError, match=re.escape(reason)):
        fields.day(typed, today=date(2026, 11, 25))


@pytest.mark.parametrize(("typed", "minutes"), [("9:00", 540), ("23:59", 1439), ("08:30:00", 510)])
def test_a_clock_time_is_minutes_after_midnight(typed: str, minutes: int) -> None:
    assert fields.clock(typed) == minutes


@pytest.mark.parametrize("typed", ["24:00", "09:60", "9", "nine"])
def test_a_clock_time_past_the_day_is_refused(typed: str) -> None:
    with pytest.raises(FieldError, match=re.escape(fields.NOT_A_CLOCK)):
        fields.clock(typed)


@pytest.mark.parametrize("typed", ["S1", "W-0123abcd", "x" * 64])
def test_the_identifier_pattern_takes_what_the_identifier_parser_takes(typed: str) -> None:
    assert fields.identifier(typed) == typed
    assert re.search(fields.IDENTIFIER_PATTERN, typed)


@pytest.mark.parametrize("typed", ["S 1", "=S1", "-1", "S\x01", " S1"])
def test_the_identifier_pattern_refuses_what_the_parser_refuses_or_trims(typed: str) -> None:
    assert not re.search(fields.IDENTIFIER_PATTERN, typed)
