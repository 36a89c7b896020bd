"""The result of rating a period: billable claim lines and the entries that do not bill."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ecmbill.domain.plans import DEFAULT_PLAN
from ecmbill.domain.reasons import ReasonCode
from ecmbill.domain.vocabulary import Kind, Source


@dataclass(frozen=True)
class ClaimLine:
    """One member, one period, one plan, one procedure code and modifier set, a number of
    units."""

    member_id: str
    code: str
    modifiers: tuple[str, ...]
    kind: Kind
    minutes: int
    units: int
    first_date: date
    last_date: date
    source_ids: tuple[str, ...]
    # The health plan billed: the member's plan on the dates of the line's time.
    plan: str = DEFAULT_PLAN

    def sort_key(self) -> tuple[str, str, str, str, tuple[str, ...], date, tuple[str, ...]]:
        return (
            self.member_id,
            self.plan,
            self.kind.value,
            self.code,
            self.modifiers,
            self.first_date,
            self.source_ids,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "member_id": self.member_id,
            "plan": self.plan,
            "code": self.code,
            "modifiers": list(self.modifiers),
            "kind": self.kind.value,
            "minutes": self.minutes,
            "units": self.units,
            "first_date": self.first_date.isoformat(),
            "last_date": self.last_date.isoformat(),
            "source_ids": list(self.source_ids),
        }


@dataclass(frozen=True)
class NotBilled:
    source: Source
    id: str
    member_id: str
    on: date
    reason_code: ReasonCode
    reason: str
    # The member's plan on the date; None when they had none (NO_PLAN).
    plan: str | None = DEFAULT_PLAN

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source.value,
            "id": self.id,
            "reason_code": self.reason_code.value,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PeriodRating:
    period: str
    lines: tuple[ClaimLine, ...]
    not_billed: tuple[NotBilled, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "lines": [line.as_json() for line in self.lines],
            "not_billed": [item.as_json() for item in self.not_billed],
        }

    def lines_for(self, member_id: str) -> list[ClaimLine]:
        return [line for line in self.lines if line.member_id == member_id]
