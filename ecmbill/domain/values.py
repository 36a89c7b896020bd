"""Parsers for one cell each. A parser returns the value or raises ``FieldError`` with a
reason a biller understands. Reasons never repeat the cell's value: it may be PHI."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar

from ecmbill.domain.identifiers import is_medi_cal_cin, is_npi

E = TypeVar("E", bound=StrEnum)

FORMULA_START = ("=", "+", "-", "@")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# The common ISO spelling, parsed without strptime (the import's hot path); anything else
# still goes through strptime, so exactly the same dates are accepted.
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_CONTROL = re.compile(r"[\x00-\x1f]")
_SPACE = re.compile(r"\s")
EARLIEST = date(1900, 1, 1)
_DECIMAL = re.compile(r"^[+-]?[0-9]+(\.[0-9]*)?$")
TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})


class FieldError(ValueError):
    pass


def text(value: str, *, max_length: int = 200) -> str:
    value = value.strip()
    if not value:
        raise FieldError("is empty")
    if value.startswith(FORMULA_START):
        raise FieldError("looks like a spreadsheet formula; type the plain value")
    if len(value) > max_length:
        raise FieldError(f"is longer than {max_length} characters")
    if _CONTROL.search(value):
        raise FieldError("contains control characters")
    return value


# A note is free text: it may span lines and start with "- called member" or "+1 555 ...".
# Only "=" and "@" still start a formula in every spreadsheet, and notes are never exported.
_NOTE_FORMULA_START = ("=", "@")
_NOTE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def note(value: str) -> str:
    value = value.strip()
    if not value:
        raise FieldError("is empty")
    if value.startswith(_NOTE_FORMULA_START):
        raise FieldError("looks like a spreadsheet formula; type the plain value")
    if len(value) > 4000:
        raise FieldError("is longer than 4000 characters")
    if _NOTE_CONTROL.search(value):
        raise FieldError("contains control characters")
    return value


def identifier(value: str) -> str:
    value = text(value, max_length=64)
    if _SPACE.search(value):
        raise FieldError("must not contain spaces")
    return value


def member_id(value: str) -> str:
    value = value.strip().upper()
    if not value:
        raise FieldError("is empty")
    if not is_medi_cal_cin(value):
        raise FieldError("is not a Medi-Cal CIN (8 digits then a letter, e.g. 91234567A)")
    return value


def npi(value: str) -> str:
    value = value.strip()
    if not (len(value) == 10 and value.isdigit()):
        raise FieldError("is not an NPI (10 digits)")
    if not is_npi(value):
        raise FieldError("is not a valid NPI (check digit does not match)")
    return value


def tin(value: str) -> str:
    """A taxpayer identification number (EIN or SSN), as its 9 digits."""
    digits = value.strip().replace("-", "")
    if not (len(digits) == 9 and digits.isdigit()):
        raise FieldError("is not a TIN (9 digits)")
    return digits


def day(value: str, *, today: date) -> date:
    value = value.strip()
    if not value:
        raise FieldError("is empty")
    try:
        if iso := _ISO_DATE.match(value):
            parsed = date(int(iso[1]), int(iso[2]), int(iso[3]))
        elif us := _US_DATE.match(value):
            parsed = date(int(us[3]), int(us[1]), int(us[2]))
        else:
            parsed = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise FieldError("is not a real date (use YYYY-MM-DD or MM/DD/YYYY)") from None
    if parsed < EARLIEST:
        raise FieldError("is before 1900")
    if parsed > today:
        raise FieldError("is in the future")
    return parsed


def month(value: str) -> str:
    match = _MONTH.match(value.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise FieldError("is not a month (use YYYY-MM, e.g. 2026-10)")
    return value.strip()


def clock(value: str) -> int:
    """A time of day as minutes after midnight."""
    match = _CLOCK.match(value.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise FieldError("is not a time of day (use HH:MM, 24-hour)")
    return int(match[1]) * 60 + int(match[2])


def whole_number(value: str) -> int:
    value = value.strip()
    if not value:
        raise FieldError("is empty")
    # Plain decimals only: float() would also take "1e3", "nan" or "1_000" as minutes.
    if not _DECIMAL.match(value):
        raise FieldError("is not a number")
    whole, _, fraction = value.partition(".")
    if fraction.strip("0"):
        raise FieldError("must be whole minutes")
    return int(whole)


def flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise FieldError("must be true or false")


def choice(value: str, options: type[E]) -> E:
    lowered = value.strip().lower()
    # A dictionary lookup instead of calling the enum: this runs for every imported row.
    found = options.__members__.get(lowered.upper())
    if found is not None and found.value == lowered:
        return found
    try:
        return options(lowered)
    except ValueError:
        allowed = ", ".join(o.value for o in options)
        raise FieldError(f"must be one of: {allowed}") from None
