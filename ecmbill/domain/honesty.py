"""The honesty report: "bill as close to one hour per unit as possible".

For a period it shows minutes worked, units billed and minutes per unit, by code and overall,
and lists the lines where rounding added most of a unit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ecmbill.domain.lines import ClaimLine, NotBilled
from ecmbill.domain.units import rounding_added
from ecmbill.domain.vocabulary import Kind

# A line whose rounding added this much or more is listed for review.
ROUNDING_REVIEW_MINUTES = 45


@dataclass(frozen=True)
class CodeTotals:
    code: str
    modifiers: tuple[str, ...]
    kind: Kind
    lines: int
    minutes: int
    units: int

    @property
    def minutes_per_unit(self) -> float | None:
        return round(self.minutes / self.units, 1) if self.units else None


@dataclass(frozen=True)
class HonestyReport:
    period: str
    by_code: tuple[CodeTotals, ...]
    service_minutes: int
    service_units: int
    outreach_attempts: int
    heavy_rounding: tuple[ClaimLine, ...]
    not_billed_by_reason: tuple[tuple[str, int], ...]

    @property
    def service_minutes_per_unit(self) -> float | None:
        if not self.service_units:
            return None
        return round(self.service_minutes / self.service_units, 1)


def honesty_report(
    period: str,
    lines: Iterable[ClaimLine],
    not_billed: Iterable[NotBilled],
    *,
    plan: str | None = None,
) -> HonestyReport:
    """The report of the lines (and not-billed items) given; with ``plan``, of that plan's
    only: its lines and the items rated under it (an item with no plan, ``NO_PLAN``, is in
    no plan's report)."""
    lines = [line for line in lines if plan is None or line.plan == plan]
    not_billed = [item for item in not_billed if plan is None or item.plan == plan]
    groups: dict[tuple[str, tuple[str, ...], Kind], list[ClaimLine]] = {}
    for line in lines:
        groups.setdefault((line.code, line.modifiers, line.kind), []).append(line)
    by_code = tuple(
        CodeTotals(
            code,
            modifiers,
            kind,
            len(group),
            sum(x.minutes for x in group),
            sum(x.units for x in group),
        )
        for (code, modifiers, kind), group in sorted(groups.items(), key=lambda kv: kv[0])
    )
    services = [line for line in lines if line.kind is Kind.SERVICE]
    heavy = tuple(
        sorted(
            (x for x in services if rounding_added(x.minutes, x.units) >= ROUNDING_REVIEW_MINUTES),
            key=lambda x: (-rounding_added(x.minutes, x.units), x.sort_key()),
        )
    )
    reasons = Counter(item.reason_code.value for item in not_billed)
    return HonestyReport(
        period=period,
        by_code=by_code,
        service_minutes=sum(x.minutes for x in services),
        service_units=sum(x.units for x in services),
        outreach_attempts=sum(1 for x in lines if x.kind is Kind.OUTREACH),
        heavy_rounding=heavy,
        not_billed_by_reason=tuple(sorted(reasons.items())),
    )
