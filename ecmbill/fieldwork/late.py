"""Late changes: time for a month the biller has closed, sent by the care manager instead of
refused. It waits for a biller (listed on Billing); accepted, it is recorded then, after the
close, through the import's checks, so it is one of the month's unclaimed changes and the
next close claims it (a replacement claim, or an original for a member not claimed yet);
refused, nothing is recorded. Each step is audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from ecmbill.contract import Contract
from ecmbill.domain.period import Period
from ecmbill.fieldwork.members import resolve_member
from ecmbill.fieldwork.time import TIME_FIELDS, period_is_open, typed_day
from ecmbill.fieldwork.verdict import form_problems
from ecmbill.imports.kinds import KINDS, RowReject, context
from ecmbill.imports.service import record_row
from ecmbill.store import late as stored_late
from ecmbill.store import models
from ecmbill.store.db import Engine, unit_of_work


class LateChangeRefused(ValueError):
    """The late change cannot be sent: every problem by field."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def submit_late_change(
    engine: Engine,
    contract: Contract,
    form: dict[str, str],
    *,
    actor: str,
    staff_id: str,
    today: date | None = None,
    within: frozenset[str] | None = None,
) -> int:
    """Keep a time entry for a closed month until a biller decides; its id. The entry must
    pass every check a saved entry passes."""
    problems = form_problems(
        engine, contract, "time", form, staff_id=staff_id, today=today, within=within
    )
    on = typed_day(form.get("date", ""), today)
    if on is not None and period_is_open(engine, Period.of(on)):
        problems.setdefault("date", f"{on:%B %Y} is open: save the entry as usual")
    if problems or on is None:
        raise LateChangeRefused(problems or {"date": "date is missing"})
    row = {name: form.get(name, "") for name in (*TIME_FIELDS, "note")}
    row["member_id"] = resolve_member(engine, row["member_id"], within=within)
    with unit_of_work(engine) as session:
        ctx = context(session, contract, today)
    values = KINDS["time"].read({**row, "staff_id": staff_id}, ctx)
    return stored_late.add(
        engine, staff_id=staff_id, member_id=row["member_id"], on=on,
        minutes=int(values["minutes"] or 0), values=row, actor=actor,
    )  # fmt: skip


def waiting(engine: Engine) -> list[models.LateChange]:
    """Late changes waiting for a biller, oldest day first."""
    return stored_late.waiting(engine)


def accept(
    engine: Engine, contract: Contract, change_id: int, *, actor: str, today: date | None = None
) -> dict[str, Any]:
    """Record the late change as a time entry now (after the close: the next close claims
    it). Its entry id is fixed by the change, so accepting twice records it once."""
    change = stored_late.get(engine, change_id)
    if change is None or change.status != stored_late.WAITING:
        raise RowReject(None, "no such late change waiting")
    entry_id = f"LATE-{change_id}"
    row = {**stored_late.form_values(change), "staff_id": change.staff_id, "entry_id": entry_id}
    saved = record_row(engine, "time", row, contract, actor=actor, today=today).values
    stored_late.decide(
        engine, change_id, status=stored_late.ACCEPTED, actor=actor, entry_id=entry_id
    )
    return saved


def refuse(engine: Engine, change_id: int, *, actor: str, reason: str) -> bool:
    return stored_late.decide(
        engine, change_id, status=stored_late.REFUSED, actor=actor, reason=reason or None
    )
