"""Reopening a closed period: an admin undoes its closes while none of its claims was sent.

A close made by mistake (an empty month, the wrong month, a month whose time was not all in)
stops the field from recording that month's time and outreach. While no claim of it was
written to a file, nothing left ecmbill: reopening deletes its claims and closes, and the
month is open again in the field. Once a claim was sent, corrections go through closing
again (replacements and voids), never through reopening. Every reopening is audited, with
each claim it deleted."""

from __future__ import annotations

from datetime import datetime

from ecmbill.domain.period import Period
from ecmbill.store import audit
from ecmbill.store import claims as stored
from ecmbill.store.claims import ClosedPeriod
from ecmbill.store.db import Engine, serialise, unit_of_work

# The formats a claims export writes (ecmbill.claims.export.FORMATS): each export holds its
# own lock, taken here too so no export sends a claim while it is being deleted.
EXPORT_FORMATS = ("837p", "csv", "xlsx")


class CannotReopen(Exception):
    """The period was never closed, or a claim of it was already sent."""


def closed_periods(engine: Engine) -> list[ClosedPeriod]:
    """Every closed period, newest first, with its claims and how many were sent."""
    with unit_of_work(engine) as session:
        return stored.closed_periods(session)


def reopen_check(engine: Engine, period: Period) -> ClosedPeriod:
    """What reopening the period would undo; refused (``CannotReopen``) when it cannot."""
    found = next((c for c in closed_periods(engine) if c.period == str(period)), None)
    return _check(period, found)


def _check(period: Period, found: ClosedPeriod | None) -> ClosedPeriod:
    if found is None:
        raise CannotReopen(f"{period} is not closed: nothing to reopen")
    if found.sent:
        raise CannotReopen(
            f"{period} cannot be reopened: {found.sent} of its claims were already sent "
            "(written to an 837P or invoice); correct it by closing again instead"
        )
    return found


def reopen_period(
    engine: Engine, period: Period, *, actor: str, reason: str, now: datetime | None = None
) -> ClosedPeriod:
    """Undo every close of the period: its claims and closes are deleted and the month is
    open to the field again. Refused once any of its claims was sent."""
    if not reason.strip():
        raise CannotReopen("say why the period is reopened")
    moment = now or audit.now()
    with unit_of_work(engine) as session:
        # No close and no export of the period runs meanwhile.
        stored.hold_for_close(session, str(period))
        for fmt in EXPORT_FORMATS:
            serialise(session, f"ecmbill-export-{period}-{fmt}")
        found = _check(
            period,
            next((c for c in stored.closed_periods(session) if c.period == str(period)), None),
        )
        claims, undone = stored.undo_closes(session, str(period))
        trail = [
            audit.audit_row(
                actor=actor, at=moment, action="delete", entity="claim",
                key=claim.patient_control_number,
                before={"period": claim.period, "frequency": claim.frequency,
                        "total_charge": claim.total_charge, "status": claim.status},
                after=None, reason=f"period {period} reopened: {reason}",
            )
            for claim in claims
        ]  # fmt: skip
        trail.append(
            audit.audit_row(
                actor=actor, at=moment, action="reopen", entity=stored.REOPEN_ENTITY,
                key=str(period), before={"closes": undone, "claims": len(claims)},
                after=None, reason=reason,
            )
        )  # fmt: skip
        audit.record(session, trail)
        return found
