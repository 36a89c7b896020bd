"""The rating of one time entry or one outreach attempt: the period's own expression
(``classify``) run over that one record, with the store's staff roles, eligibility and
enrollments (and anything else the rating reads), so its answer is the monthly rating's answer.

A record not saved yet (a form being filled in) is rated as a one-row table in its place; a
saved one is read from the store by its id. Either way every reason the expression knows, now
or added later, comes back in the same precedence.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from ecmbill.contract import Contract
from ecmbill.contract.plans import PlanContracts
from ecmbill.domain.lines import NotBilled
from ecmbill.domain.vocabulary import Source
from ecmbill.rating.expression import MODIFIER_SEPARATOR, RatingInputs, classify
from ecmbill.rating.service import ibis_backend, store_inputs, to_not_billed
from ecmbill.store.db import Engine

TIME_SCHEMA = ibis.schema(
    {
        "entry_id": "string",
        "staff_id": "string",
        "member_id": "string",
        "date": "date",
        "minutes": "int64",
        "activity": "string",
        "modality": "string",
    }
)
OUTREACH_SCHEMA = ibis.schema(
    {
        "attempt_id": "string",
        "staff_id": "string",
        "member_id": "string",
        "date": "date",
        "method": "string",
        "individualized": "boolean",
        "minutes": "int64",
    }
)


@dataclasses.dataclass(frozen=True)
class RatedRecord:
    """What the rating says of one record: its code and modifiers, or why it does not bill,
    and the plan it is rated under (None when the member had no plan on its date)."""

    code: str | None
    modifiers: tuple[str, ...]
    not_billed: NotBilled | None
    plan: str | None = None


def rate_record(
    engine: Engine,
    contracts: Contract | PlanContracts,
    source: Source,
    record: dict[str, Any],
    *,
    saved: bool,
) -> RatedRecord:
    """Rate one record (keys as the import files name them: ``entry_id`` or ``attempt_id``,
    ``staff_id``, ``member_id``, ``date`` a ``date``, ...). ``saved``: read it from the store
    by its id rather than from ``record``, so what the store holds (e.g. an approval) counts.
    With several plans the record is rated under the contract of the member's plan on its
    date (``NO_PLAN`` when there is none), as the monthly rating does."""
    on: date = record["date"]
    con = ibis_backend(engine)
    try:
        inputs = _one_record(store_inputs(con), source, record, saved=saved)
        rows = classify(inputs, on, on, contracts).to_pyarrow().to_pylist()
    finally:
        con.disconnect()
    if not rows:
        raise LookupError("the record was not found to rate")
    row = rows[0]
    refused = to_not_billed([row], contracts) if row["reason_code"] is not None else []
    return RatedRecord(
        code=row["code"],
        modifiers=tuple(m for m in (row["modifiers"] or "").split(MODIFIER_SEPARATOR) if m),
        not_billed=refused[0] if refused else None,
        plan=row.get("plan"),
    )


def _one_record(
    inputs: RatingInputs, source: Source, record: dict[str, Any], *, saved: bool
) -> RatingInputs:
    """The store's inputs with the events narrowed to the one record; the other tables are
    left whole (the expression joins them by member, staff and date)."""
    time, outreach = inputs.time_entries, inputs.outreach_attempts
    if source is Source.TIME:
        time = (
            time.filter(time.entry_id == record["entry_id"])
            if saved
            else _one_row(TIME_SCHEMA, record)
        )
        outreach = outreach.filter(ibis.literal(False))
    else:
        outreach = (
            outreach.filter(outreach.attempt_id == record["attempt_id"])
            if saved
            else _one_row(OUTREACH_SCHEMA, record)
        )
        time = time.filter(ibis.literal(False))
    return dataclasses.replace(inputs, time_entries=time, outreach_attempts=outreach)


def _one_row(schema: ibis.Schema, record: dict[str, Any]) -> ir.Table:
    return ibis.memtable({name: [record.get(name)] for name in schema.names}, schema=schema)
