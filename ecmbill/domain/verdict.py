""" "Will this bill?": the answer a care manager sees for one time entry or outreach attempt.

The answer is the monthly rating's own (its code and modifiers, or its one reason, in its
precedence): ``ecmbill.rating.single`` runs the period's expression over the one record. One
thing only the field knows is added after it: a month already closed by the biller, where a
record bills only as a late change the biller accepts. A reason of the rating comes first,
since accepting the late change would not make such a record bill.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Not a rating reason (the rating rates a closed month like any other): the field's own.
CLOSED_MONTH = "CLOSED_MONTH"

# Modifiers in words, as the guide uses them.
MODIFIER_WORDS = {
    "U1": "clinical staff",
    "U2": "non-clinical staff",
    "U8": "outreach attempt",
    "GQ": "telephone, video, text or e-mail",
    "76": "repeated the same day",
}


@dataclass(frozen=True)
class Verdict:
    bills: bool
    code: str | None = None
    modifiers: tuple[str, ...] = ()
    in_words: str | None = None
    reason_code: str | None = None
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "bills": self.bills,
            "code": self.code,
            "modifiers": list(self.modifiers),
            "reason_code": self.reason_code,
            "reason": self.reason,
        }

    @property
    def summary(self) -> str:
        """One sentence for the form."""
        if self.bills:
            spelled = " ".join((self.code or "", *self.modifiers)).strip()
            return f"Will bill as {spelled}" + (f" ({self.in_words})" if self.in_words else "")
        return f"Will not bill: {self.reason}"


def modifiers_in_words(modifiers: tuple[str, ...]) -> str:
    """ "U1 GQ" → "clinical staff, telephone, video, text or e-mail"."""
    return ", ".join(MODIFIER_WORDS.get(m, m) for m in modifiers)


def field_verdict(
    *,
    code: str | None,
    modifiers: tuple[str, ...],
    code_description: str | None,
    reason_code: str | None,
    reason: str | None,
    closed_month: str | None,
) -> Verdict:
    """The rating's answer, then the closed month (``closed_month`` the month in words, or
    None while it is open)."""
    if reason_code is not None:
        return Verdict(bills=False, reason_code=reason_code, reason=reason)
    if closed_month is not None:
        return Verdict(
            bills=False,
            code=code,
            modifiers=modifiers,
            reason_code=CLOSED_MONTH,
            reason=(f"{closed_month} is closed: it bills only as a late change the biller accepts"),
        )
    words = code_description or modifiers_in_words(modifiers) or None
    return Verdict(bills=True, code=code, modifiers=modifiers, in_words=words)
