"""Checks on the identifiers that end up on a claim."""

from __future__ import annotations

import re

# Also used as a regular expression by the file checks of plan-scale rating.
CIN_PATTERN = r"^[0-9]{8}[A-Z]$"
_CIN = re.compile(CIN_PATTERN)


def is_medi_cal_cin(text: str) -> bool:
    """A Medi-Cal Client Index Number: eight digits and a capital letter (e.g. 91234567A)."""
    return bool(_CIN.match(text))


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


# The CMS NPI check-digit rule: the Luhn check runs over this prefix and the ten digits.
NPI_PREFIX = "80840"


def is_npi(text: str) -> bool:
    """A National Provider Identifier: ten digits whose Luhn check includes the 80840 prefix
    (CMS NPI check-digit rule)."""
    return len(text) == 10 and text.isdigit() and luhn_ok(NPI_PREFIX + text)
