"""Cell parsers: what a biller may type, and the reason when it is refused."""

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
