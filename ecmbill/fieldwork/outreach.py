"""Recording an outreach attempt in the field."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from ecmbill.contract import Contract
from ecmbill.domain import values
from ecmbill.domain.lifecycle import enrolled_on
from ecmbill.domain.outreach import not_outreach_reason
from ecmbill.domain.reasons import ReasonCode, explain
from ecmbill.fieldwork.members import resolve_member
from ecmbill.fieldwork.time import refuse_closed, typed_day
from ecmbill.imports.kinds import RowReject
from ecmbill.imports.service import record_row
from ecmbill.members.corrections import Correction, delete_work
from ecmbill.store import members as stored_members
from ecmbill.store.db import Engine

OUTREACH_FIELDS = ("member_id", "date", "method", "individualized", "outcome", "minutes")


def record_outreach(
    engine: Engine,
    contract: Contract,
    form: dict[str, str],
    *,
    actor: str,
    staff_id: str,
    today: date | None = None,
    within: frozenset[str] | None = None,
) -> dict[str, Any]:
    """Record one outreach attempt (a member typed by name looked for ``within``). Beyond
    the import checks, what the rating would never bill
    as outreach is refused at once, with the rating's own words: a mass communication, and an
    attempt on a day the member is already enrolled."""
    row = {name: form.get(name, "") for name in OUTREACH_FIELDS}
    row["member_id"] = resolve_member(engine, row["member_id"], within=within)
    row["staff_id"] = staff_id
    row["attempt_id"] = f"W-{uuid.uuid4().hex[:16]}"
    typed = row["individualized"].strip()
    # A ticked checkbox posts "on" (or its value) and an unticked one nothing; any typed word
    # is read as the import reads the flag, so "Y" is yes and "maybe" is refused.
    try:
        individualized = typed.lower() == "on" or (bool(typed) and values.flag(typed))
    except values.FieldError as err:
        raise RowReject("individualized", f"individualized {err}") from None
    row["individualized"] = "true" if individualized else "false"
    on = typed_day(row["date"], today)
    spans = stored_members.spans(engine, [row["member_id"]]).get(row["member_id"], [])
    enrolled = on is not None and enrolled_on(on, spans)
    reason = not_outreach_reason(individualized=individualized, enrolled=enrolled)
    if reason is ReasonCode.ALREADY_ENROLLED:
        raise RowReject("date", explain(reason, on=on or date.today(), staff_id=staff_id))
    if reason is ReasonCode.MASS_COMMUNICATION:
        raise RowReject(
            "individualized",
            explain(
                reason, on=today or date.today(), staff_id=staff_id, method=row["method"] or None
            ),
        )
    refuse_closed(engine, on)
    return record_row(engine, "outreach", row, contract, actor=actor, today=today).values


def delete_attempt(
    engine: Engine, contract: Contract, *, attempt_id: str, actor: str, reason: str
) -> Correction:
    """A biller deletes an outreach attempt recorded in error, in any period, with a reason
    (audited); a closed month's next close sends the replacement or void."""
    return delete_work(engine, contract, "outreach", attempt_id, actor=actor, reason=reason)
