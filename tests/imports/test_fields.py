"""Cell parsers: what a biller may type, and the reason when it is refused."""

import pytest

from ecmbill.imports import fields
from ecmbill.imports.fields import FieldError


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
