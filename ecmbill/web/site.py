"""What every page and API route works over: the database, the contract in force and the
clock. Kept on the app by ``create_app``; routes ask ``site(request)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from fastapi import Request

from ecmbill.contract import Contract
from ecmbill.contract.stored import current_contract
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

    def period_or_current(self, text: str | None, *, previous: bool = False) -> Period:
        """The period typed, else the current one (``previous``: the one before it, the
        month a biller usually works on)."""
        if text:
            try:
                return Period.parse(text)
            except ValueError:
                pass
        current = Period.of(self.today())
        return month_before(current) if previous else current


def site(request: Request) -> Site:
    found: Site = request.app.state.site
    return found


def month_before(period: Period) -> Period:
    return Period.of(period.start - timedelta(days=1))
