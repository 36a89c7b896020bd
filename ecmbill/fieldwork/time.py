"""Recording and correcting time in the field, until the period is closed."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from ecmbill.claims.close import first_close
from ecmbill.contract import Contract
from ecmbill.domain.period import Period
from ecmbill.domain.values import FieldError, day
from ecmbill.fieldwork.members import resolve_member
from ecmbill.imports.kinds import RowReject
from ecmbill.imports.service import record_row
from ecmbill.members.corrections import Correction, delete_work
from ecmbill.store import fieldwork as stored_work
from ecmbill.store.db import Engine

TIME_FIELDS = ("member_id", "date", "minutes", "start_time", "end_time", "activity", "modality")


def period_is_open(engine: Engine, period: Period) -> bool:
    """Time and outreach of a period may be recorded or changed in the field until the period
    is first closed (claimed). It is the single place the web app asks."""
    return first_close(engine, period) is None


CLOSED = "is closed: a biller records late changes"


def closed_message(period: Period) -> str:
    """Why a field change to a closed period is refused, and who can still make it: a biller's
    import records it, flagged as after-close, and the next close corrects the claim. The web
    form offers to send it to the biller as a late change (``ecmbill.fieldwork.late``)."""
    return f"{period.start:%B %Y} {CLOSED}"


def is_closed_refusal(errors: dict[str, str]) -> bool:
    """Whether a form was refused (only) for its closed month: it can go as a late change."""
    return errors.get("date", "").endswith(CLOSED)


def typed_day(typed: str, today: date | None) -> date | None:
    """The date as the import reads it (any spelling it accepts), or None when the import
    checks will refuse it and say why."""
    try:
        return day(typed, today=today or date.today())
    except FieldError:
        return None


def refuse_closed(engine: Engine, on: date | None) -> None:
    if on is not None and not period_is_open(engine, Period.of(on)):
        raise RowReject("date", closed_message(Period.of(on)))


def record_time(
    engine: Engine,
    contract: Contract,
    form: dict[str, str],
    *,
    actor: str,
    staff_id: str,
    entry_id: str | None = None,
    today: date | None = None,
    within: frozenset[str] | None = None,
) -> dict[str, Any]:
    """Create (``entry_id`` None) or correct one time entry of ``staff_id``. Raises
    ``RowReject`` naming the field at fault. A member typed by name is looked for only
    ``within`` the members the user may see."""
    row = {name: form.get(name, "") for name in (*TIME_FIELDS, "note")}
    row["member_id"] = resolve_member(engine, row["member_id"], within=within)
    if entry_id is not None:
        existing = stored_work.time_entry(engine, entry_id)
        if existing is None or existing.staff_id != staff_id:
            raise RowReject(None, "no such time entry of yours")
        refuse_closed(engine, existing.date)
    row["staff_id"] = staff_id
    # A new entry gets its own id: two visits to the same member on the same day are two
    # entries, not a correction of the first.
    row["entry_id"] = entry_id or f"W-{uuid.uuid4().hex[:16]}"
    refuse_closed(engine, typed_day(row["date"], today))
    return record_row(engine, "time", row, contract, actor=actor, today=today).values


def delete_time(engine: Engine, entry_id: str, *, actor: str, staff_id: str) -> bool:
    """Delete one time entry of ``staff_id`` (and its approval); False when there is none."""
    entry = stored_work.time_entry(engine, entry_id)
    if entry is None or entry.staff_id != staff_id:
        return False
    refuse_closed(engine, entry.date)
    stored_work.delete_time_entry(engine, entry_id, actor=actor)
    return True


def approve_time(engine: Engine, entry_id: str, *, actor: str) -> None:
    """Sign off a time entry as it is now (audited)."""
    if not stored_work.approve(engine, entry_id, actor=actor):
        raise RowReject(None, "no such time entry")


def delete_entry(
    engine: Engine, contract: Contract, *, entry_id: str, actor: str, reason: str
) -> Correction:
    """A biller deletes a time entry recorded in error, in any period, with a reason (audited).
    In a closed period the next close sends the replacement or void: the close compares the
    new rating with what was claimed."""
    return delete_work(engine, contract, "time", entry_id, actor=actor, reason=reason)
