"""Rating a period from the store (or any Ibis backend): the rating expression's rows turned into
domain values, claim lines and not-billed items with their reasons in words, and the
minutes-per-unit report built from them."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from datetime import date
from itertools import pairwise
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend

from ecmbill.contract import Contract
from ecmbill.contract.plans import PlanContracts, as_plans
from ecmbill.domain.honesty import HonestyReport, honesty_report
from ecmbill.domain.lines import ClaimLine, NotBilled, PeriodRating
from ecmbill.domain.period import Period
from ecmbill.domain.reasons import ReasonCode, explain
from ecmbill.domain.vocabulary import Kind, Source
from ecmbill.rating.expression import (
    APPROVAL_COLUMNS,
    ENROLLMENT_COLUMNS,
    ID_SEPARATOR,
    MODIFIER_SEPARATOR,
    OUTREACH_COLUMNS,
    PLAN_ASSIGNMENT_COLUMNS,
    PLAN_ELIGIBILITY_COLUMNS,
    STAFF_ROLE_COLUMNS,
    TIME_COLUMNS,
    RatingInputs,
    billable_lines,
    classify,
)
from ecmbill.store.bulk import read_columns
from ecmbill.store.db import Engine
from ecmbill.store.lookups import audit_high_water


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
        eligibility=con.table("eligibility").select(*PLAN_ELIGIBILITY_COLUMNS),
        enrollments=con.table("enrollments").select(*ENROLLMENT_COLUMNS),
        # An approval row stands for the entry as approved: every change of the entry drops
        # it (ecmbill.store.records), so a row present is an approval of the entry as it is.
        approvals=con.table("time_approvals").select(*APPROVAL_COLUMNS),
        plan_assignments=con.table("plan_assignments").select(*PLAN_ASSIGNMENT_COLUMNS),
    )


def rate_period(
    inputs: RatingInputs, period: Period, contracts: Contract | PlanContracts
) -> PeriodRating:
    classified = classify(inputs, period.start, period.end, contracts)
    lines = billable_lines(classified).to_pyarrow().to_pylist()
    refused = classified.filter(classified.reason_code.notnull()).to_pyarrow().to_pylist()
    return PeriodRating(
        period=str(period),
        lines=tuple(claim_lines_in_order(lines)),
        not_billed=tuple(
            sorted(
                to_not_billed(refused, contracts),
                key=lambda n: (n.member_id, n.on, n.source.value, n.id),
            )
        ),
    )


STORE_COLUMNS = {
    "time_entries": TIME_COLUMNS,
    "outreach_attempts": OUTREACH_COLUMNS,
    "staff_roles": STAFF_ROLE_COLUMNS,
    "eligibility": PLAN_ELIGIBILITY_COLUMNS,
    "enrollments": ENROLLMENT_COLUMNS,
    "time_approvals": APPROVAL_COLUMNS,
    "plan_assignments": PLAN_ASSIGNMENT_COLUMNS,
}


def rating_backend(engine: Engine, period: Period) -> BaseBackend:
    """Where the store's rating runs. PostgreSQL rates in the database. A SQLite store's rows
    are read into DuckDB, in memory (``store_in_duckdb``): SQLite runs the expression's range
    joins row by row (a million-entry month took most of a close's time there), DuckDB in a
    fraction of that, with the same expression and the same answer."""
    if engine.dialect.name != "sqlite":
        return ibis_backend(engine)
    return store_in_duckdb(engine, period)


def store_in_duckdb(engine: Engine, period: Period | None = None) -> BaseBackend:
    """The store's rating tables in an in-memory DuckDB: every row, or only the rows that can
    bear on ``period`` (the store's ``rows_about``). That is all ``classify`` can look at for
    the period: it rates the time entries and outreach attempts dated in it, and joins each
    to the staff role, enrollment span and plan span holding its date, its month's
    eligibility and (time) its approval; so the read, and the rating's memory, follow the
    month closed, not the store's history."""
    con = ibis.duckdb.connect()
    about = (period.start, period.end) if period is not None else None
    for name, table in read_columns(engine, STORE_COLUMNS, about=about).items():
        # Registered as a view of the Arrow table (no copy); Ibis's create_table from Arrow
        # goes through a temporary view it fails to name in this version.
        con.con.register(name, table)
    return con


def rate(engine: Engine, period: Period, contracts: Contract | PlanContracts) -> PeriodRating:
    """The rating of ``period`` from what the store holds now."""
    con = rating_backend(engine, period)
    try:
        return rate_period(store_inputs(con), period, contracts)
    finally:
        con.disconnect()


def claim_lines_table(
    engine: Engine, period: Period, contracts: Contract | PlanContracts
) -> pa.Table:
    """The period's claim lines as ``rate`` finds them, as one Arrow table sorted by member
    (byte order of the ids, which is Python's order of them), for the close. The not-billed
    rows are not read: the close claims lines and nothing else, and a month's reasons held as
    objects were most of a large close's memory. Columnar, the lines of a million-entry month
    take tens of MiB; ``lines_by_member`` turns them into lines a batch of members at a time."""
    con = rating_backend(engine, period)
    try:
        classified = classify(store_inputs(con), period.start, period.end, contracts)
        table = billable_lines(classified).to_pyarrow()
    finally:
        con.disconnect()
    # Sorted here, not in the database: PostgreSQL would order by its collation, which need not
    # be the order in which the close numbers its claims (Python's, by member id).
    return table.sort_by("member_id")


def lines_by_member(
    table: pa.Table, members_per_batch: int, *, plan: str | None = None
) -> Iterator[list[ClaimLine]]:
    """``claim_lines_table``'s lines (of one ``plan``, or all) a batch of whole members at a
    time, in member order, each batch in ``rate``'s order: a member's lines are all in one
    batch, in the order ``rate`` gives them, so claims built batch by batch are the claims
    built from ``rate``'s whole answer."""
    if members_per_batch < 1:
        raise ValueError("members_per_batch must be at least 1")
    if plan is not None:
        table = table.filter(pc.equal(table["plan"], plan))
    if table.num_rows == 0:
        return
    members = table["member_id"].combine_chunks()
    # Where each member's lines start: the first row, and every row whose member differs
    # from the row before it.
    changed = pc.not_equal(members.slice(1), members.slice(0, table.num_rows - 1))
    starts = pc.indices_nonzero(changed).to_numpy() + 1
    cuts = [0, *starts[members_per_batch - 1 :: members_per_batch].tolist(), table.num_rows]
    for begin, end in pairwise(cuts):
        rows = table.slice(begin, end - begin).to_pylist()
        yield claim_lines_in_order(rows)


# A few recent ratings per process, for the pages that show a month again and again (Billing,
# a caseload). Keyed by the audit trail's newest id: every change the rating reads (time,
# outreach, roles, eligibility, enrollments, approvals) is audited in its own transaction.
_RECENT: dict[tuple[str, str, str, int], PeriodRating] = {}
_RECENT_LOCK = threading.Lock()
_RECENT_KEPT = 8


def rate_recent(
    engine: Engine, period: Period, contracts: Contract | PlanContracts
) -> PeriodRating:
    """``rate``'s answer, computed again only when something was changed since. The trail's
    high-water mark is read before rating, so a change saved meanwhile makes a new key."""
    key = (
        engine.url.render_as_string(hide_password=True),
        str(period),
        as_plans(contracts).fingerprint(),
        audit_high_water(engine),
    )
    with _RECENT_LOCK:
        kept = _RECENT.get(key)
    if kept is not None:
        return kept
    rating = rate(engine, period, contracts)
    with _RECENT_LOCK:
        if len(_RECENT) >= _RECENT_KEPT:
            _RECENT.pop(next(iter(_RECENT)))
        _RECENT[key] = rating
    return rating


def honesty(engine: Engine, period: Period, contracts: Contract | PlanContracts) -> HonestyReport:
    rating = rate_recent(engine, period, contracts)
    return honesty_report(rating.period, rating.lines, rating.not_billed)


def claim_lines_in_order(rows: Iterable[dict[str, Any]]) -> list[ClaimLine]:
    """The rating's billable rows as claim lines, in the one order the rating gives them
    (``ClaimLine.sort_key``): the whole month's (``rate``) and a batch of members' at a time
    (``lines_by_member``) must agree for the close's claims to be the same either way."""
    return sorted((to_claim_line(row) for row in rows), key=ClaimLine.sort_key)


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
        plan=row["plan"],
    )


def to_not_billed(
    rows: Iterable[dict[str, Any]], contracts: Contract | PlanContracts
) -> list[NotBilled]:
    plans = as_plans(contracts)
    items = []
    for row in rows:
        reason = ReasonCode(row["reason_code"])
        on = _day(row["date"])
        activity = row.get("activity")
        plan: str | None = row.get("plan")
        # Without a plan (NO_PLAN) the activity is described as the first plan describes it.
        contract = plans[plan] if plan is not None and plan in plans.contracts else None
        contract = contract or plans[plans.first]
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
                plan=plan,
            )
        )
    return items


def _day(value: object) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
