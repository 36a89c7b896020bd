"""What the payer's answers mean: a 999 about a file, a 277CA about a claim, a 271 about a
member's month. Pure rules; the readers (``ecmbill.payer``) hand them plain values."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ecmbill.domain.period import Period


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    ACCEPTED_WITH_ERRORS = "accepted with errors"
    REJECTED = "rejected"
    OTHER = "answered"  # neither: forwarded, pending, a status we do not act on


# 999 IK501 (a transaction set) and AK901 (a functional group).
_SET_OUTCOMES = {"A": Outcome.ACCEPTED, "E": Outcome.ACCEPTED_WITH_ERRORS}


def set_outcome(code: str) -> Outcome:
    """A accepted; E accepted with errors (the claims go on); every other code (R, M, W, X,
    and P for a group) rejects what it answers for."""
    return _SET_OUTCOMES.get(code, Outcome.REJECTED)


# 277CA claim status categories (STC01-1).
ACCEPTED_CATEGORIES = frozenset({"A1", "A2", "A5"})
REJECTED_CATEGORIES = frozenset({"A3", "A4", "A6", "A7", "A8"})


def claim_outcome(categories: Iterable[str]) -> Outcome:
    """A claim is rejected when any of its status categories (claim or line) rejects it; else
    accepted when one accepts it (A1 received, A2 accepted into adjudication, A5 split)."""
    found = set(categories)
    if found & REJECTED_CATEGORIES:
        return Outcome.REJECTED
    if found & ACCEPTED_CATEGORIES:
        return Outcome.ACCEPTED
    return Outcome.OTHER


# 271 EB01: active coverage (1, and the capitated variants 2-4) or inactive (6). Others (5, 7,
# 8: pending) say nothing about the month yet.
ACTIVE = frozenset({"1", "2", "3", "4"})
INACTIVE = frozenset({"6"})


@dataclass(frozen=True)
class Benefit:
    """One EB of a 271 about coverage: its code, the plan it names (2120C NM109, else the
    271's information source), and its dates when given (else the month asked about)."""

    code: str
    plan_id: str | None
    start: date | None = None
    end: date | None = None

    def touches(self, month: Period) -> bool:
        if self.start is None:
            return True
        return self.start <= month.end and (self.end or self.start) >= month.start


@dataclass(frozen=True)
class MonthAnswer:
    eligible: bool | None  # None: the 271 says nothing about this month
    reason: str


def eligible_in(benefits: Iterable[Benefit], month: Period, plan_ids: Iterable[str]) -> MonthAnswer:
    """Active coverage with our plan in the month → eligible; inactive coverage, or active
    coverage only with another plan → not eligible; nothing about coverage → no answer."""
    ours = {plan.upper() for plan in plan_ids}
    relevant = [b for b in benefits if b.touches(month)]
    active = [b for b in relevant if b.code in ACTIVE]
    if any(b.plan_id is None or b.plan_id.upper() in ours for b in active):
        return MonthAnswer(True, f"active coverage with the plan in {month}")
    if active:
        others = sorted({b.plan_id or "" for b in active})
        return MonthAnswer(False, f"covered by another plan in {month} ({', '.join(others)})")
    if any(b.code in INACTIVE for b in relevant):
        return MonthAnswer(False, f"coverage inactive in {month}")
    return MonthAnswer(None, f"no coverage answer for {month}")
