"""What every page and API route works over: the database, the contract in force and the
clock. Kept on the app by ``create_app``; routes ask ``site(request)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from fastapi import Request

from ecmbill.contract import Contract
from ecmbill.contract.plans import PlanContracts
from ecmbill.contract.stored import current_contract, current_plans
from ecmbill.domain.period import Period
from ecmbill.store.db import Engine


@dataclass(frozen=True)
class Site:
    engine: Engine
    # Overrides the stored contract, as ``--contract`` does for the CLI.
    contract_override: Contract | None
    # The clock, fixed in tests.
    today: Callable[[], date]

    def contract(self) -> Contract:
        return self.contract_override or current_contract(self.engine)

    def plans(self) -> PlanContracts:
        """The contract of every plan the office bills (the override replaces the first's)."""
        plans = current_plans(self.engine)
        if self.contract_override is None:
            return plans
        return PlanContracts({**plans.contracts, plans.first: self.contract_override})

    def period_or_current(self, text: str | None, *, previous: bool = False) -> Period:
        """The period typed, else the current one (``previous``: the one before it, the
        month a biller usually works on). A period that parses but has no month before or
        after it (1900-01, 9999-12) is refused with ``BadParameter`` (400), not a crash."""
        if text:
            try:
                month = Period.parse(text)
            except ValueError:
                month = None
            if month is not None:
                return usable(month)
        current = Period.of(self.today())
        return month_before(current) if previous else current


class BadParameter(ValueError):
    """A value in the address that cannot be served (answered 400 with the reason)."""


# The pages link to the month before and after: both must exist.
FIRST_USABLE, LAST_USABLE = Period(1900, 2), Period(9999, 11)


def usable(month: Period) -> Period:
    if not FIRST_USABLE <= month <= LAST_USABLE:
        raise BadParameter(f"{month} is outside the periods ecmbill serves")
    return month


def site(request: Request) -> Site:
    found: Site = request.app.state.site
    return found


def month_before(period: Period) -> Period:
    return Period.of(period.start - timedelta(days=1))
