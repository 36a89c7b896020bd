"""The close rates from the store's rows of the month closed, not from every month the store
holds (issue 19: memory and time follow the month, not the store's history). A store holding
several months, with two plans, is closed month by month and then October again after a tenth
of its entries were deleted (replacements and voids): the store ends exactly as when every
close read every row (claims, lines, statuses, control numbers, close records and the audit
trail), each close answers the same, and each month's rating gives the same not-billed items,
on SQLite and PostgreSQL. On PostgreSQL, which rates in the database, the store is read into
DuckDB for both closes here, so the period's SQL is tested on it too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from ibis.backends import BaseBackend
from sqlalchemy import Engine, delete

from ecmbill.claims.close import close_period
from ecmbill.claims.settings import set_plan_payer, set_settings
from ecmbill.contract import Contract
from ecmbill.demo.plan_scale import PLAN_B, two_plan_contracts
from ecmbill.demo.provider import DEMO_SETTINGS
from ecmbill.domain.claims import Action
from ecmbill.domain.period import Period
from ecmbill.rating import service
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.claims.test_close_batches import contents, second  # noqa: F401 (a fixture)
from tests.claims.test_close_member_batches import answer
from tests.claims.test_plans import PLAN_B_PAYER
from tests.rating.test_store_read_period import OCTOBER, OTHER_MONTHS, several_months

# After the last month the store holds: every month can be closed.
TODAY = date(2027, 1, 15)

Read = Callable[[Engine, Period | None], BaseBackend]


def closed_month_by_month(engine: Engine, contract: Contract) -> tuple[list[Any], list[Any]]:
    """Each month closed in order, then October again after a tenth of its entries went;
    the close's answers, and each month's not-billed items as the rating gives them."""
    several_months(engine, two_plans=True)
    set_settings(engine, {**DEMO_SETTINGS, "rendering_npi_on_line": "no"}, actor="test")
    set_plan_payer(engine, PLAN_B, PLAN_B_PAYER, actor="test")
    plans = two_plan_contracts(contract)
    results, refused = [], []
    for period in sorted((OCTOBER, *OTHER_MONTHS)):
        results.append(close_period(engine, period, plans, actor="test", today=TODAY))
        refused.append(service.rate(engine, period, plans).not_billed)
    with unit_of_work(engine) as session:
        session.execute(delete(models.TimeApproval))
        session.execute(delete(models.TimeEntry).where(models.TimeEntry.entry_id.like("T%3")))
        for record in (models.TimeEntry, models.OutreachAttempt):
            session.execute(delete(record).where(record.member_id.like("%7F")))
    results.append(close_period(engine, OCTOBER, plans, actor="test", today=TODAY))
    return results, refused


def test_each_month_closes_from_its_rows_as_from_every_row(
    engine: Engine,
    second: Engine,  # noqa: F811
    contract: Contract,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def reading(period_only: bool) -> Read:
        def backend(engine: Engine, period: Period | None = None) -> BaseBackend:
            return service.store_in_duckdb(engine, period if period_only else None)

        return backend

    with monkeypatch.context() as patched:
        patched.setattr(service, "rating_backend", reading(period_only=True))
        narrow = closed_month_by_month(engine, contract)
    with monkeypatch.context() as patched:
        patched.setattr(service, "rating_backend", reading(period_only=False))
        every = closed_month_by_month(second, contract)
    try:
        assert [answer(result) for result in narrow[0]] == [answer(r) for r in every[0]]
        assert narrow[1] == every[1]
        assert contents(engine) == contents(second)
    finally:
        second.dispose()
    made = [created for result in narrow[0] for created in result.created]
    assert {Action.ORIGINAL, Action.REPLACEMENT, Action.VOID} <= {c.action for c in made}
    assert {c.plan for c in made} == {"default", PLAN_B}
    # Every month the store holds made claims of its own.
    assert {result.period for result in narrow[0] if result.created} == {
        str(period) for period in (OCTOBER, *OTHER_MONTHS)
    }
