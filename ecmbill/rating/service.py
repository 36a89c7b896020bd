"""Rating a period from the store (or any Ibis backend): the rating expression's rows turned into
domain values, claim lines and not-billed items with their reasons in words, and the
minutes-per-unit report built from them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import ibis
from ibis.backends import BaseBackend

from ecmbill.contract import Contract
from ecmbill.domain.honesty import HonestyReport, honesty_report
from ecmbill.domain.lines import ClaimLine, NotBilled, PeriodRating
from ecmbill.domain.period import Period
from ecmbill.domain.reasons import ReasonCode, explain
from ecmbill.domain.vocabulary import Kind, Source
from ecmbill.rating.expression import (
    ELIGIBILITY_COLUMNS,
    ENROLLMENT_COLUMNS,
    ID_SEPARATOR,
    MODIFIER_SEPARATOR,
    OUTREACH_COLUMNS,
    STAFF_ROLE_COLUMNS,
    TIME_COLUMNS,
    RatingInputs,
    billable_lines,
    classify,
)
from ecmbill.store.db import Engine


def ibis_backend(engine: Engine) -> BaseBackend:
    """An Ibis connection to the same database the store writes to."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError("rating needs a SQLite file, not an in-memory database")
        return ibis.sqlite.connect(url.database)
    if url.get_backend_name() == "postgresql":
        return ibis.postgres.connect(
            host=url.host or "localhost",
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            database=url.database,
            **{k: v for k, v in url.query.items() if isinstance(v, str)},
        )
    raise ValueError(f"no rating backend for {url.get_backend_name()} databases")


def store_inputs(con: BaseBackend) -> RatingInputs:
    return RatingInputs(
        time_entries=con.table("time_entries").select(*TIME_COLUMNS),
        outreach_attempts=con.table("outreach_attempts").select(*OUTREACH_COLUMNS),
        staff_roles=con.table("staff_roles").select(*STAFF_ROLE_COLUMNS),
        eligibility=con.table("eligibility").select(*ELIGIBILITY_COLUMNS),
        enrollments=con.table("enrollments").select(*ENROLLMENT_COLUMNS),
    )


def rate_period(inputs: RatingInputs, period: Period, contract: Contract) -> PeriodRating:
    classified = classify(inputs, period.start, period.end, contract)
    lines = billable_lines(classified).to_pyarrow().to_pylist()
    refused = classified.filter(classified.reason_code.notnull()).to_pyarrow().to_pylist()
    return PeriodRating(
        period=str(period),
        lines=tuple(sorted((to_claim_line(row) for row in lines), key=ClaimLine.sort_key)),
        not_billed=tuple(
            sorted(
                to_not_billed(refused, contract),
                key=lambda n: (n.member_id, n.on, n.source.value, n.id),
            )
        ),
    )


def rate(engine: Engine, period: Period, contract: Contract) -> PeriodRating:
    """The rating of ``period`` from what the store holds now."""
    con = ibis_backend(engine)
    try:
        return rate_period(store_inputs(con), period, contract)
    finally:
        con.disconnect()


def honesty(engine: Engine, period: Period, contract: Contract) -> HonestyReport:
    rating = rate(engine, period, contract)
    return honesty_report(rating.period, rating.lines, rating.not_billed)


def to_claim_line(row: dict[str, Any]) -> ClaimLine:
    ids = row.get("source_ids") or ""
    return ClaimLine(
        member_id=row["member_id"],
        code=row["code"],
        modifiers=tuple(m for m in row["modifiers"].split(MODIFIER_SEPARATOR) if m),
        kind=Kind(row["kind"]),
        minutes=int(row["minutes"]),
        units=int(row["units"]),
        first_date=_day(row["first_date"]),
        last_date=_day(row["last_date"]),
        source_ids=tuple(sorted(ids.split(ID_SEPARATOR))) if ids else (),
    )


def to_not_billed(rows: Iterable[dict[str, Any]], contract: Contract) -> list[NotBilled]:
    items = []
    for row in rows:
        reason = ReasonCode(row["reason_code"])
        on = _day(row["date"])
        activity = row.get("activity")
        described = contract.activities.get(activity) if activity else None
        items.append(
            NotBilled(
                source=Source(row["source"]),
                id=row["id"],
                member_id=row["member_id"],
                on=on,
                reason_code=reason,
                reason=explain(
                    reason,
                    on=on,
                    staff_id=row["staff_id"],
                    activity=activity,
                    activity_description=described.description if described else None,
                    method=row.get("method"),
                ),
            )
        )
    return items


def _day(value: object) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
