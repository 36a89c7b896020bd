"""The rating reads from the store only the rows that can bear on the period (issue 19: a
close's memory follows the month, not the store's history). A store holding several months
(time and outreach each month, eligibility month by month, enrollments and plan spans
starting, ending and spanning months, role changes, approvals of entries of every month)
rates each month from the period's rows exactly as from every row: the same lines and the
same not-billed items with their reasons, with one plan, with approval required and with two
plans, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sqlalchemy import Engine

from ecmbill.contract import Contract
from ecmbill.contract.plans import PlanContracts
from ecmbill.demo.plan_scale import generate, load_store, two_plan_contracts
from ecmbill.domain.lines import PeriodRating
from ecmbill.domain.period import Period
from ecmbill.domain.plans import DEFAULT_PLAN
from ecmbill.rating.service import STORE_COLUMNS, rate, rate_period, store_in_duckdb, store_inputs
from ecmbill.store.bulk import bulk_insert, read_columns

OCTOBER = Period(2026, 10)
# The months the store holds besides October, and the months rated (July has only August's
# eligibility and a few entries of its last days; January nothing at all).
OTHER_MONTHS = (Period(2026, 8), Period(2026, 9), Period(2026, 11), Period(2026, 12))
RATED = (Period(2026, 7), *sorted((OCTOBER, *OTHER_MONTHS)), Period(2027, 1))
ENTRIES = 600


def several_months(engine: Engine, *, two_plans: bool = False) -> None:
    """October as ``generate`` makes it (September's eligibility, entries of the last days of
    September, spans starting a year before, mid-month enrollments, leavers and gaps, role
    changes on the 15th and roles starting in November, plan moves), then the entries,
    (some by a staff member whose role ends in September or starts in November),
    outreach and eligibility of August, September, November and December, enrollment spans of
    August alone and from November into December for members October has none for, and
    approvals of seven entries in ten of every month."""
    october = generate(ENTRIES, OCTOBER, two_plans=two_plans)
    load_store(engine, october)
    seen = {_key(row) for row in october.eligibility.to_pylist()}
    extra: dict[str, list[dict[str, Any]]] = {"eligibility": [], "time": [], "outreach": []}
    for number, period in enumerate(OTHER_MONTHS):
        month = generate(ENTRIES, period, seed=7 + number, two_plans=two_plans)
        for row in month.eligibility.to_pylist():
            if _key(row) not in seen:
                seen.add(_key(row))
                extra["eligibility"].append(row)
        tag = f"{period.month:02d}-"
        extra["time"] += _renamed(month.time, "entry_id", tag)
        extra["outreach"] += _renamed(month.outreach, "attempt_id", tag)
    enrolled = set(october.enrollments["member_id"].to_pylist())
    never = sorted(set(october.members["member_id"].to_pylist()) - enrolled)
    spans = [
        {"member_id": member, "start_date": date(2026, 8, 1), "end_date": date(2026, 8, 31)}
        for member in never[::3]
    ] + [
        {"member_id": member, "start_date": date(2026, 11, 10), "end_date": date(2026, 12, 20)}
        for member in never[1::3]
    ]
    # Two more staff: one whose role ends mid-September, one whose role starts mid-November;
    # every fortieth entry of the other months is theirs.
    for index, row in enumerate(extra["time"]):
        if index % 40 == 0:
            row["staff_id"] = ("SLEFT", "SLATE")[index // 40 % 2]
    entry_ids = october.time["entry_id"].to_pylist() + [row["entry_id"] for row in extra["time"]]
    at = datetime(2026, 12, 1, tzinfo=UTC)
    approvals = [
        {"entry_id": entry, "approved_by": "lead", "approved_at": at, "fingerprint": "-"}
        for entry in entry_ids
        if entry[-1] in "0123456"
    ]
    bulk_insert(
        engine,
        {
            "staff": [{"staff_id": s, "name": s, "npi": None} for s in ("SLEFT", "SLATE")],
            "staff_roles": [
                {
                    "staff_id": "SLEFT",
                    "role": "clinical",
                    "effective_from": None,
                    "effective_to": date(2026, 9, 15),
                },
                {
                    "staff_id": "SLATE",
                    "role": "non_clinical",
                    "effective_from": date(2026, 11, 16),
                    "effective_to": None,
                },
            ],
            "eligibility": extra["eligibility"],
            "enrollments": spans,
            "time_entries": extra["time"],
            "outreach_attempts": extra["outreach"],
            "time_approvals": approvals,
        },
    )


def _key(row: dict[str, Any]) -> tuple[str, str, str]:
    return row["member_id"], row["month"], row.get("plan") or DEFAULT_PLAN


def _renamed(table: pa.Table, column: str, tag: str) -> list[dict[str, Any]]:
    ids = pc.binary_join_element_wise(pa.scalar(tag), table[column], "")
    return table.set_column(table.schema.get_field_index(column), column, ids).to_pylist()


def rated_from(engine: Engine, period: Period, contracts: Any, *, every_row: bool) -> Any:
    con = store_in_duckdb(engine, None if every_row else period)
    try:
        return rate_period(store_inputs(con), period, contracts)
    finally:
        con.disconnect()


CONTRACTS = {
    "one_plan": lambda contract: contract,
    "approval": lambda contract: contract.model_copy(update={"require_approval": True}),
    "two_plans": two_plan_contracts,
}


@pytest.mark.parametrize("contracts", sorted(CONTRACTS))
def test_each_month_rates_from_its_rows_as_from_every_row(
    contracts: str, engine: Engine, contract: Contract
) -> None:
    plans: Contract | PlanContracts = CONTRACTS[contracts](contract)
    several_months(engine, two_plans=contracts == "two_plans")
    reasons = set()
    for period in RATED:
        narrow = rated_from(engine, period, plans, every_row=False)
        assert narrow == rated_from(engine, period, plans, every_row=True), period
        # The store's own rating (in the database on PostgreSQL) agrees too.
        assert narrow == rate(engine, period, plans), period
        assert isinstance(narrow, PeriodRating)
        if period in (OCTOBER, *OTHER_MONTHS):
            assert narrow.lines and narrow.not_billed, period
        elif period == Period(2027, 1):
            assert not narrow.lines and not narrow.not_billed
        reasons |= {item.reason_code for item in narrow.not_billed}
    # The months exercise the joins the read filters: roles, eligibility, spans, approvals.
    expected = {"NOT_ELIGIBLE", "NOT_ENROLLED", "NO_ROLE", "ALREADY_ENROLLED"}
    if contracts == "approval":
        expected.add("NOT_APPROVED")
    if contracts == "two_plans":
        expected.add("NO_PLAN")
    assert expected <= {reason.value for reason in reasons}


def test_the_period_read_leaves_out_the_other_months(engine: Engine) -> None:
    several_months(engine, two_plans=True)
    every = read_columns(engine, STORE_COLUMNS)
    october = read_columns(engine, STORE_COLUMNS, about=(OCTOBER.start, OCTOBER.end))
    for name in ("time_entries", "outreach_attempts", "eligibility", "time_approvals"):
        assert october[name].num_rows < every[name].num_rows / 2, name
    dates = october["time_entries"]["date"]
    assert pc.min(dates).as_py() == OCTOBER.start
    assert pc.max(dates).as_py() == OCTOBER.end
    assert set(october["eligibility"]["month"].to_pylist()) == {"2026-10"}
    # Spans that end before October or start after it are not read.
    spans = october["enrollments"]
    assert spans.num_rows < every["enrollments"].num_rows
    assert all(
        (start is None or start <= OCTOBER.end) and (end is None or end >= OCTOBER.start)
        for start, end in zip(
            spans["start_date"].to_pylist(), spans["end_date"].to_pylist(), strict=True
        )
    )
    # The schema is the same as every row's, so the rating expression is the same.
    for name, table in october.items():
        assert table.schema == every[name].schema, name
