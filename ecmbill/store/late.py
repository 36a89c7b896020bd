"""Late changes as stored: sent by a care manager for a closed month, decided by a biller.
Every write is audited in the same transaction."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import select

from ecmbill.store import audit, models
from ecmbill.store.db import Engine, unit_of_work

WAITING, ACCEPTED, REFUSED = "waiting", "accepted", "refused"


def add(
    engine: Engine, *, staff_id: str, member_id: str, on: date, minutes: int,
    values: dict[str, str], actor: str,
) -> int:  # fmt: skip
    now = audit.now()
    with unit_of_work(engine) as session:
        change = models.LateChange(
            staff_id=staff_id, member_id=member_id, date=on, minutes=minutes,
            values=json.dumps(values, sort_keys=True), submitted_by=actor, submitted_at=now,
            status=WAITING,
        )  # fmt: skip
        session.add(change)
        session.flush()
        audit.record(
            session,
            [
                audit.audit_row(
                    actor=actor, at=now, action="create", entity="late_change",
                    key=str(change.id), before=None,
                    after={"staff_id": staff_id, "member_id": member_id,
                           "date": on.isoformat(), "minutes": minutes},
                )
            ],
        )  # fmt: skip
        return change.id


def waiting(engine: Engine) -> list[models.LateChange]:
    change = models.LateChange
    with unit_of_work(engine) as session:
        return list(
            session.scalars(
                select(change).where(change.status == WAITING).order_by(change.date, change.id)
            )
        )


def get(engine: Engine, change_id: int) -> models.LateChange | None:
    with unit_of_work(engine) as session:
        return session.get(models.LateChange, change_id)


def form_values(change: models.LateChange) -> dict[str, Any]:
    values: dict[str, Any] = json.loads(change.values)
    return values


def decide(
    engine: Engine, change_id: int, *, status: str, actor: str, entry_id: str | None = None,
    reason: str | None = None,
) -> bool:  # fmt: skip
    """Mark a waiting change accepted or refused (audited); False when it is not waiting."""
    now = audit.now()
    with unit_of_work(engine) as session:
        change = session.get(models.LateChange, change_id, with_for_update=True)
        if change is None or change.status != WAITING:
            return False
        change.status, change.decided_by, change.decided_at = status, actor, now
        change.entry_id = entry_id
        audit.record(
            session,
            [
                audit.audit_row(
                    actor=actor, at=now, action="update", entity="late_change",
                    key=str(change_id), before={"status": WAITING},
                    after={"status": status, "entry_id": entry_id}, reason=reason,
                )
            ],
        )  # fmt: skip
        return True
