"""Health plans: which plan a member belongs to on a day.

An office may contract with several Medi-Cal managed care plans. Each plan has its own
contract (codes, modifiers, rates, activities, outreach rules) and its own payer. A member's
plan is given by date spans; an entry is rated under the contract of the member's plan on the
entry's date, and a member who changes plan mid-month bills each plan for its own days.

An installation with one plan needs no spans: every member is that plan's member.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from ecmbill.domain.lifecycle import OPEN_END

# The plan every installation starts with: its contract is the installation's contract and its
# payer the claim settings' payer, exactly as before plans existed.
DEFAULT_PLAN = "default"
# Plan keys are short, typed on the command line and written in file names.
PLAN_KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,19}$"


@dataclass(frozen=True)
class PlanSpan:
    """A member's plan from ``start`` to ``end`` (both included; ``end`` None: still running)."""

    member_id: str
    plan: str
    start: date
    end: date | None = None

    def holds(self, on: date) -> bool:
        return self.start <= on <= (self.end or OPEN_END)


def plan_on(spans: Iterable[PlanSpan], member_id: str, on: date) -> str | None:
    """The member's plan on ``on``, or None when no span holds the date (reason NO_PLAN).
    Spans of one member never overlap (the store and the import refuse overlaps)."""
    for span in spans:
        if span.member_id == member_id and span.holds(on):
            return span.plan
    return None


def overlapping(spans: Iterable[PlanSpan]) -> tuple[PlanSpan, PlanSpan] | None:
    """The first two spans of one member that share a day, or None."""
    by_member: dict[str, list[PlanSpan]] = {}
    for span in spans:
        by_member.setdefault(span.member_id, []).append(span)
    for member_spans in by_member.values():
        ordered = sorted(member_spans, key=lambda s: s.start)
        for before, after in pairwise(ordered):
            if after.start <= (before.end or OPEN_END):
                return before, after
    return None
