"""One parser per kind of cell. A parser returns the value or raises ``FieldError`` with a
reason a biller understands. Reasons never repeat the cell's value: it may be PHI.

Each rule (pattern, word list, bound, reason) is declared here once: the import reads cells
with these parsers, and the file checks of plan-scale rating (``ecmbill.rating.file_checks``)
build their column expressions from the same patterns, words and reasons. The patterns are
written so that Python, DuckDB (RE2) and Spark (Java) read them alike."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import TypeVar

from ecmbill.domain.identifiers import is_medi_cal_cin, is_npi

E = TypeVar("E", bound=StrEnum)

# -- the rules --------------------------------------------------------------------------------

EMPTY = "is empty"
FORMULA = "looks like a spreadsheet formula; type the plain value"
CONTROL = "contains control characters"
SPACES = "must not contain spaces"
NOT_CIN = "is not a Medi-Cal CIN (8 digits then a letter, e.g. 91234567A)"
NOT_NPI = "is not an NPI (10 digits)"
NPI_CHECK_DIGIT = "is not a valid NPI (check digit does not match)"
NOT_A_DATE = "is not a real date (use YYYY-MM-DD or MM/DD/YYYY)"
BEFORE_EARLIEST = "is before 1900"
IN_THE_FUTURE = "is in the future"
NOT_A_MONTH = "is not a month (use YYYY-MM, e.g. 2026-10)"
NOT_A_CLOCK = "is not a time of day (use HH:MM, 24-hour)"
NOT_A_NUMBER = "is not a number"
NOT_WHOLE = "must be whole minutes"
NOT_A_FLAG = "must be true or false"

FORMULA_START = ("=", "+", "-", "@")
_FORMULA_CHARS = "=+@-"
_CONTROL_CHARS = r"\x00-\x1f"
FORMULA_PATTERN = rf"^[{_FORMULA_CHARS}]"
CONTROL_PATTERN = rf"[{_CONTROL_CHARS}]"
SPACE_PATTERN = r"\s"
IDENTIFIER_LENGTH = 64
# All of an identifier's rules as one pattern, for a fast first check; and the same for one
# already in lower case (an activity, as stored).
_ID_REST = f"{{0,{IDENTIFIER_LENGTH - 1}}}"
IDENTIFIER_PATTERN = rf"^[^\s{_CONTROL_CHARS}{_FORMULA_CHARS}][^\s{_CONTROL_CHARS}]{_ID_REST}$"
LOWER_IDENTIFIER_PATTERN = (
    rf"^[^\sA-Z{_CONTROL_CHARS}{_FORMULA_CHARS}][^\sA-Z{_CONTROL_CHARS}]{_ID_REST}$"
)
TEXT_LENGTH = 200
NAME_LENGTH = 100
# A note is free text: it may span lines and start with "- called member" or "+1 555 ...".
# Only "=" and "@" still start a formula in every spreadsheet, and notes are never exported.
NOTE_FORMULA_PATTERN = r"^[=@]"
NOTE_CONTROL_PATTERN = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
NOTE_LENGTH = 4000

ISO_DATE_PATTERN = r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$"
# Also accepted at import: one-digit months and days, and the US spelling.
SHORT_DATE_PATTERN = r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$"
US_DATE_PATTERN = r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$"
EARLIEST = date(1900, 1, 1)
MONTH_PATTERN = r"^([0-9]{4})-([0-9]{2})$"
CLOCK_PATTERN = r"^([0-9]{1,2}):([0-9]{2})(:[0-9]{2})?$"
LAST_HOUR, LAST_MINUTE = 23, 59
# Plain decimals only: float() would also take "1e3", "nan" or "1_000" as minutes.
DECIMAL_PATTERN = r"^[+-]?[0-9]+(\.[0-9]*)?$"
WHOLE_PART_PATTERN = r"^[+-]?[0-9]+"
FRACTION_PATTERN = r"\.[0-9]*[1-9]"
TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})
NPI_PATTERN = r"^[0-9]{10}$"
STATE_PATTERN = r"^[A-Za-z]{2}$"
NOT_A_STATE = "is not a two-letter state code"
ZIP_PATTERN = r"^[0-9]{5}(-?[0-9]{4})?$"
NOT_A_ZIP = "is not a ZIP code (5 digits, or 5+4)"


def too_long(max_length: int) -> str:
    return f"is longer than {max_length} characters"


def not_one_of(options: type[StrEnum]) -> str:
    return f"must be one of: {', '.join(o.value for o in options)}"


_FORMULA = re.compile(FORMULA_PATTERN)
_CONTROL = re.compile(CONTROL_PATTERN)
_SPACE = re.compile(SPACE_PATTERN)
_NOTE_CONTROL = re.compile(NOTE_CONTROL_PATTERN)
_NOTE_FORMULA = re.compile(NOTE_FORMULA_PATTERN)
_ISO_DATE = re.compile(ISO_DATE_PATTERN)
_SHORT_DATE = re.compile(SHORT_DATE_PATTERN)
_US_DATE = re.compile(US_DATE_PATTERN)
_MONTH = re.compile(MONTH_PATTERN)
_CLOCK = re.compile(CLOCK_PATTERN)
_DECIMAL = re.compile(DECIMAL_PATTERN)
_STATE = re.compile(STATE_PATTERN)
_ZIP = re.compile(ZIP_PATTERN)


class FieldError(ValueError):
    pass


# -- the parsers ------------------------------------------------------------------------------


def text(value: str, *, max_length: int = TEXT_LENGTH) -> str:
    value = value.strip()
    if not value:
        raise FieldError(EMPTY)
    if _FORMULA.match(value):
        raise FieldError(FORMULA)
    if len(value) > max_length:
        raise FieldError(too_long(max_length))
    if _CONTROL.search(value):
        raise FieldError(CONTROL)
    return value


def name(value: str) -> str:
    """A person's or a place's name."""
    return text(value, max_length=NAME_LENGTH)


def note(value: str) -> str:
    value = value.strip()
    if not value:
        raise FieldError(EMPTY)
    if _NOTE_FORMULA.match(value):
        raise FieldError(FORMULA)
    if len(value) > NOTE_LENGTH:
        raise FieldError(too_long(NOTE_LENGTH))
    if _NOTE_CONTROL.search(value):
        raise FieldError(CONTROL)
    return value


def identifier(value: str) -> str:
    value = text(value, max_length=IDENTIFIER_LENGTH)
    if _SPACE.search(value):
        raise FieldError(SPACES)
    return value


def member_id(value: str) -> str:
    value = value.strip().upper()
    if not value:
        raise FieldError(EMPTY)
    if not is_medi_cal_cin(value):
        raise FieldError(NOT_CIN)
    return value


def npi(value: str) -> str:
    value = value.strip()
    if not (len(value) == 10 and value.isdigit()):
        raise FieldError(NOT_NPI)
    if not is_npi(value):
        raise FieldError(NPI_CHECK_DIGIT)
    return value


def tin(value: str) -> str:
    """A taxpayer identification number (EIN or SSN), as its 9 digits."""
    digits = value.strip().replace("-", "")
    if not (len(digits) == 9 and digits.isdigit()):
        raise FieldError("is not a TIN (9 digits)")
    return digits


def state(value: str) -> str:
    """A US state or territory as its two-letter code, in capitals."""
    value = value.strip()
    if not _STATE.match(value):
        raise FieldError(NOT_A_STATE)
    return value.upper()


def zip_code(value: str) -> str:
    value = value.strip()
    if not _ZIP.match(value):
        raise FieldError(NOT_A_ZIP)
    return value


def day(value: str, *, today: date) -> date:
    value = value.strip()
    if not value:
        raise FieldError(EMPTY)
    try:
        # The ISO spelling first: it is the import's hot path.
        if found := _ISO_DATE.match(value) or _SHORT_DATE.match(value):
            parsed = date(int(found[1]), int(found[2]), int(found[3]))
        elif us := _US_DATE.match(value):
            parsed = date(int(us[3]), int(us[1]), int(us[2]))
        else:
            raise ValueError(value)
    except ValueError:
        raise FieldError(NOT_A_DATE) from None
    if parsed < EARLIEST:
        raise FieldError(BEFORE_EARLIEST)
    if parsed > today:
        raise FieldError(IN_THE_FUTURE)
    return parsed


def any_day(value: str) -> date:
    """A date that may lie in the future, like the end of a role or an enrollment."""
    return day(value, today=date.max)


def month(value: str) -> str:
    match = _MONTH.match(value.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise FieldError(NOT_A_MONTH)
    return value.strip()


def clock(value: str) -> int:
    """A time of day as minutes after midnight."""
    match = _CLOCK.match(value.strip())
    if not match or int(match[1]) > LAST_HOUR or int(match[2]) > LAST_MINUTE:
        raise FieldError(NOT_A_CLOCK)
    return int(match[1]) * 60 + int(match[2])


def whole_number(value: str) -> int:
    value = value.strip()
    if not value:
        raise FieldError(EMPTY)
    if not _DECIMAL.match(value):
        raise FieldError(NOT_A_NUMBER)
    whole, _, fraction = value.partition(".")
    if fraction.strip("0"):
        raise FieldError(NOT_WHOLE)
    return int(whole)


def flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise FieldError(NOT_A_FLAG)


def choice(value: str, options: type[E]) -> E:
    lowered = value.strip().lower()
    # A dictionary lookup instead of calling the enum: this runs for every imported row.
    found = options.__members__.get(lowered.upper())
    if found is not None and found.value == lowered:
        return found
    try:
        return options(lowered)
    except ValueError:
        raise FieldError(not_one_of(options)) from None
